//! The shapes of Fly log lines, and where their message is. No JSON parser: a few memchr
//! and memmem searches per line (SIMD), so the scan can skip each entry's envelope.
//!
//! - **One-line JSON entries** (fly-log-shipper NDJSON: `{"event":…,"fly":{"app":{…,"name":…}},
//!   "log":{"level":"info"},"message":"…",…}`; flyctl's entry written on one line): an object
//!   with a `"message"` string and one of Fly's envelope keys (`fly`, `log`, `event`, `meta`,
//!   `instance`, `region`). The message is the first `"message"` member's string, decoded
//!   (Fly's entries have one, at the top level).
//! - **`flyctl logs --json`**: indented objects one after another. The `"message": "…"` member
//!   line holds the message; every other line of the object (`{`, `"level": "info"`,
//!   `"Error": {`, `"status_code": 0`, `}`) is envelope and matches nothing.
//! - **`flyctl logs` text**: `TIMESTAMP provider[instance] region [level]message`; the message
//!   is what follows `[level]`.
//! - Anything else is a plain line, matched whole (an app's own JSON object without Fly's
//!   envelope keys is plain too).

use memchr::memmem::Finder;
use memchr::{memchr, memchr2};

/// Where a line's message is.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Shape {
    /// Not a Fly entry: the whole line is the message.
    Plain,
    /// Envelope only (a line of an indented entry other than its message).
    Envelope,
    /// The message starts at `start`: a JSON string's content (up to its closing quote,
    /// see [`json_string_end`]) when `json`, else the rest of the line.
    Message { start: usize, json: bool },
}

/// Fly's envelope keys: an object with one of them and a `message` is a Fly entry.
const ENVELOPE_KEYS: [&[u8]; 6] = [
    b"\"fly\"",
    b"\"log\"",
    b"\"event\"",
    b"\"meta\"",
    b"\"instance\"",
    b"\"region\"",
];

/// The searchers, built once per scanner.
#[derive(Clone, Debug)]
pub(super) struct Shapes {
    message: Finder<'static>,
    keys: Vec<Finder<'static>>,
}

impl Shapes {
    pub fn new() -> Shapes {
        Shapes {
            message: Finder::new(b"\"message\"").into_owned(),
            keys: ENVELOPE_KEYS
                .iter()
                .map(|k| Finder::new(k).into_owned())
                .collect(),
        }
    }

    /// The shape of `line` (no newline).
    pub fn shape(&self, line: &[u8]) -> Shape {
        let body = skip_ws(line);
        let indent = line.len() - body.len();
        match body.first() {
            Some(b'{') => {
                if skip_ws(&body[1..]).is_empty() {
                    return Shape::Envelope;
                }
                self.one_line_entry(line).unwrap_or(Shape::Plain)
            }
            Some(b'}') | Some(b']') if body.iter().all(|b| b",}] \t\r".contains(b)) => {
                Shape::Envelope
            }
            Some(b'"') if indent > 0 => member_line(line, indent).unwrap_or(Shape::Plain),
            Some(b) if b.is_ascii_digit() => text_line(line).unwrap_or(Shape::Plain),
            _ => Shape::Plain,
        }
    }

    /// A one-line object: the first `"message"` key with a string value, if the object has
    /// one of Fly's envelope keys.
    fn one_line_entry(&self, line: &[u8]) -> Option<Shape> {
        let start = self.message.find_iter(line).find_map(|at| {
            let after = skip_ws(&line[at + 9..]).strip_prefix(b":")?;
            let value = skip_ws(after).strip_prefix(b"\"")?;
            Some(line.len() - value.len())
        })?;
        let is_key = |k: &Finder, hay: &[u8]| {
            k.find_iter(hay).any(|at| {
                skip_ws(&hay[at + k.needle().len()..])
                    .first()
                    .is_some_and(|b| *b == b':')
            })
        };
        let fly = line.starts_with(b"{\"event\":") || self.keys.iter().any(|k| is_key(k, line));
        fly.then_some(Shape::Message { start, json: true })
    }
}

fn skip_ws(b: &[u8]) -> &[u8] {
    let n = b
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\r'))
        .unwrap_or(b.len());
    &b[n..]
}

/// The end of the JSON string whose content starts at `at` (the index of its closing quote)
/// and whether it holds escapes, or `None` when the line ends first.
fn string_end(line: &[u8], mut at: usize) -> Option<(usize, bool)> {
    let mut escaped = false;
    loop {
        let i = at + memchr2(b'"', b'\\', line.get(at..)?)?;
        if line[i] == b'"' {
            return Some((i, escaped));
        }
        escaped = true;
        at = i + 2;
    }
}

/// The end of a message that starts at `start` (a string cut short runs to the end of the
/// line) and whether it holds escapes.
pub(super) fn json_string_end(line: &[u8], start: usize) -> (usize, bool) {
    string_end(line, start).unwrap_or((line.len(), true))
}

/// An indented member line of `flyctl logs --json`: `"key": value,`.
fn member_line(line: &[u8], at: usize) -> Option<Shape> {
    let (kend, _) = string_end(line, at + 1)?;
    let after = skip_ws(line.get(kend + 1..)?).strip_prefix(b":")?;
    if &line[at + 1..kend] != b"message" {
        return Some(Shape::Envelope);
    }
    let vstart = line.len() - skip_ws(after).len();
    if line.get(vstart) != Some(&b'"') {
        return Some(Shape::Envelope);
    }
    Some(Shape::Message {
        start: vstart + 1,
        json: true,
    })
}

/// `flyctl logs` text: `TIMESTAMP provider[instance] region [level]message`.
fn text_line(line: &[u8]) -> Option<Shape> {
    let mut at = 0;
    let mut word = |need: fn(&[u8]) -> bool| -> Option<()> {
        let end = at + memchr(b' ', line.get(at..)?)?;
        need(&line[at..end]).then_some(())?;
        at = end + 1;
        Some(())
    };
    word(|w| w.len() >= 10 && w[4] == b'-' && w.contains(&b'T'))?;
    word(|w| w.ends_with(b"]") && memchr(b'[', w).is_some_and(|i| i > 0))?;
    word(|w| !w.is_empty() && w.iter().all(|b| b.is_ascii_alphanumeric()))?;
    let rest = line.get(at..)?.strip_prefix(b"[")?;
    let close = memchr(b']', rest).filter(|&i| i > 0 && i <= 16)?;
    rest[..close]
        .iter()
        .all(u8::is_ascii_alphabetic)
        .then_some(Shape::Message {
            start: at + 1 + close + 1,
            json: false,
        })
}

/// Appends the decoded JSON string content `s` to `out` (invalid escapes kept as they are,
/// unpaired surrogates as U+FFFD).
pub(super) fn unescape(s: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < s.len() {
        let Some(j) = memchr(b'\\', &s[i..]) else {
            out.extend_from_slice(&s[i..]);
            return;
        };
        out.extend_from_slice(&s[i..i + j]);
        i += j;
        let Some(&e) = s.get(i + 1) else {
            out.push(b'\\');
            return;
        };
        let simple = match e {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'b' => Some(8),
            b'f' => Some(12),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            i += 2;
            continue;
        }
        let Some(u) = (e == b'u').then(|| hex4(s.get(i + 2..i + 6)?)).flatten() else {
            out.push(b'\\');
            i += 1;
            continue;
        };
        i += 6;
        let c = if (0xD800..0xDC00).contains(&u) {
            let low = s
                .get(i..i + 2)
                .filter(|p| *p == b"\\u")
                .and_then(|_| hex4(s.get(i + 2..i + 6)?))
                .filter(|l| (0xDC00..0xE000).contains(l));
            match low {
                Some(l) => {
                    i += 6;
                    char::from_u32(0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00))
                }
                None => None,
            }
        } else {
            char::from_u32(u)
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.unwrap_or('\u{fffd}').encode_utf8(&mut buf).as_bytes());
    }
}

fn hex4(b: &[u8]) -> Option<u32> {
    let s = std::str::from_utf8(b).ok()?;
    (s.len() == 4)
        .then(|| u32::from_str_radix(s, 16).ok())
        .flatten()
}

/// The app a log line names: `"app":"NAME"`, or `"app":{… "name":"NAME" …}` (fly-log-shipper).
pub(super) fn app_of(line: &[u8]) -> Option<&[u8]> {
    let finder = memchr::memmem::Finder::new(b"\"app\"");
    for at in finder.find_iter(line) {
        let mut rest = skip_ws(&line[at + 5..]);
        let Some(r) = rest.strip_prefix(b":") else {
            continue;
        };
        rest = skip_ws(r);
        if let Some(r) = rest.strip_prefix(b"\"") {
            return plain_string(r);
        }
        if let Some(obj) = rest.strip_prefix(b"{") {
            let end = memchr(b'}', obj).unwrap_or(obj.len()).min(1024);
            let obj = &obj[..end];
            let name = memchr::memmem::find(obj, b"\"name\"")?;
            let r = skip_ws(&obj[name + 6..]);
            let r = skip_ws(r.strip_prefix(b":")?);
            return plain_string(r.strip_prefix(b"\"")?);
        }
    }
    None
}

/// The JSON string starting at `b` (after its opening quote), without escapes.
fn plain_string(b: &[u8]) -> Option<&[u8]> {
    let end = memchr2(b'"', b'\\', b)?;
    (b[end] == b'"' && end > 0 && end <= 256).then(|| &b[..end])
}
