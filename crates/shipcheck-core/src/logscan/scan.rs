//! The scan itself: the fixed buffer, candidate lines, their messages, counting.

use std::collections::HashMap;
use std::io::{ErrorKind, Read};

use memchr::{memchr, memrchr};

use crate::logscan::shape::{Shape, app_of, json_string_end, unescape};
use crate::logscan::{
    AppCount, LONG_LINE_OVERLAP, LineMatch, LogscanError, PatternCount, ScanReport, Scanner,
    UNKNOWN_APP, prefilter,
};

/// How candidate lines are found.
enum Finder<'a> {
    /// Literals over the buffer.
    Literals(prefilter::Literals),
    /// One automaton over the buffer (whole-line scans).
    Regex(&'a regex::bytes::Regex),
    /// One automaton line by line, from where the line's message may start (the envelope
    /// before it is skipped).
    Lines,
}

/// A line longer than the buffer, being matched window by window.
struct LongLine {
    matched: Vec<bool>,
    app: Option<Vec<u8>>,
    head: Vec<u8>,
}

struct State<'a> {
    s: &'a Scanner,
    finder: Option<Finder<'a>>,
    prefilter: String,
    lines: u64,
    bytes: u64,
    matched_lines: u64,
    counts: Vec<u64>,
    apps: HashMap<Vec<u8>, (u64, Vec<u64>)>,
    first: Vec<LineMatch>,
    long: Option<LongLine>,
    long_lines: u64,
    hits: Vec<usize>,
    cache: regex_automata::meta::Cache,
    single: Vec<regex_automata::meta::Cache>,
    patset: regex_automata::PatternSet,
    /// A decoded message (reused; at most one line long).
    decoded: Vec<u8>,
    cache_line: regex_automata::meta::Cache,
}

/// Newlines in `b`, counted in byte-wide lanes (the compiler vectorizes the inner loop).
fn count_newlines(b: &[u8]) -> u64 {
    let mut n = 0u64;
    for chunk in b.chunks(255) {
        let mut c = 0u8;
        for &x in chunk {
            c += (x == b'\n') as u8;
        }
        n += u64::from(c);
    }
    n
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

impl<'a> State<'a> {
    fn new(s: &'a Scanner) -> State<'a> {
        State {
            s,
            finder: None,
            prefilter: String::new(),
            lines: 0,
            bytes: 0,
            matched_lines: 0,
            counts: vec![0; s.patterns.len()],
            apps: HashMap::new(),
            first: Vec::new(),
            long: None,
            long_lines: 0,
            hits: Vec::with_capacity(s.patterns.len()),
            cache: s.set.create_cache(),
            single: s.single.iter().map(|r| r.create_cache()).collect(),
            patset: regex_automata::PatternSet::new(s.patterns.len()),
            decoded: Vec::new(),
            cache_line: s.any_line.create_cache(),
        }
    }

    /// Picks the finder on the first data seen.
    fn ensure_finder(&mut self, sample: &[u8]) {
        if self.finder.is_some() {
            return;
        }
        let chosen = prefilter::choose(&self.s.literals, sample);
        self.prefilter = match (&chosen.literals, self.s.opts.whole_line) {
            (None, false) => "automaton, line by line from each message".into(),
            _ => chosen.describe,
        };
        self.finder = Some(match chosen.literals {
            Some(l) => Finder::Literals(l),
            None if self.s.opts.whole_line => Finder::Regex(&self.s.any),
            None => Finder::Lines,
        });
    }

    /// Sets `self.hits` to the patterns `hay` matches.
    fn which(&mut self, hay: &[u8]) {
        self.patset.clear();
        let input = regex_automata::Input::new(hay);
        self.s
            .set
            .which_overlapping_matches_with(&mut self.cache, &input, &mut self.patset);
        self.hits.clear();
        self.hits.extend(self.patset.iter().map(|p| p.as_usize()));
    }

    /// Records one matching line; `self.hits` holds the patterns it matched.
    fn record(&mut self, line_no: u64, line: &[u8], message: Option<&[u8]>, app: Option<&[u8]>) {
        self.matched_lines += 1;
        let app: &[u8] = match app {
            Some(a) => a,
            None => self.s.opts.app.as_deref().unwrap_or(UNKNOWN_APP).as_bytes(),
        };
        let n = self.counts.len();
        let entry = match self.apps.get_mut(app) {
            Some(e) => e,
            None => self.apps.entry(app.to_vec()).or_insert((0, vec![0; n])),
        };
        entry.0 += 1;
        for &i in &self.hits {
            self.counts[i] += 1;
            entry.1[i] += 1;
        }
        if self.first.len() < self.s.opts.keep_first {
            let cap = self.s.opts.max_kept_line;
            let shown = |b: &[u8]| String::from_utf8_lossy(&b[..b.len().min(cap)]).into_owned();
            self.first.push(LineMatch {
                line: line_no,
                app: Some(String::from_utf8_lossy(app).into_owned()),
                patterns: self
                    .hits
                    .iter()
                    .map(|&i| self.s.patterns[i].name.clone())
                    .collect(),
                text: shown(line),
                truncated: line.len() > cap,
                message: message.map(|m| {
                    let mut s = shown(m);
                    if m.len() > cap {
                        s.push('…');
                    }
                    s
                }),
            });
        }
    }

    /// Matches `hay` against the set; `self.hits` holds what matched.
    fn matches(&mut self, hay: &[u8]) -> bool {
        // Most candidates match nothing: ask that first, it stops early.
        let input = regex_automata::Input::new(hay);
        if !self.s.set.is_match_with(&mut self.cache, &input) {
            return false;
        }
        self.which(hay);
        !self.hits.is_empty()
    }

    /// One whole line (no newline): its message (or the line) against the set; recorded when
    /// it matches.
    fn line(&mut self, line_no: u64, line: &[u8]) {
        let line = trim_cr(line);
        if self.s.opts.whole_line {
            if self.matches(line) {
                self.record(line_no, line, None, app_of(line));
            }
            return;
        }
        match self.s.shapes.shape(line) {
            Shape::Envelope => {}
            Shape::Plain => {
                if self.matches(line) {
                    self.record(line_no, line, None, app_of(line));
                }
            }
            Shape::Message { start, json } => {
                let (end, escaped) = if json {
                    json_string_end(line, start)
                } else {
                    (line.len(), false)
                };
                let raw = &line[start..end];
                let mut decoded = std::mem::take(&mut self.decoded);
                let message = if escaped {
                    decoded.clear();
                    unescape(raw, &mut decoded);
                    &decoded[..]
                } else {
                    raw
                };
                if self.matches(message) {
                    self.record(line_no, line, Some(message), app_of(line));
                }
                self.decoded = decoded;
            }
        }
    }

    /// Complete lines (`block` ends with a newline, or is the input's last line).
    fn block(&mut self, block: &[u8]) {
        self.ensure_finder(block);
        if matches!(self.finder, Some(Finder::Lines)) {
            return self.block_by_lines(block);
        }
        let base = self.lines;
        let mut pos = 0;
        let mut counted = 0;
        let mut seen = 0u64;
        while pos < block.len() {
            let hit = match &self.finder {
                Some(Finder::Literals(l)) => l.find(block, pos),
                Some(Finder::Regex(re)) => re.find_at(block, pos).map(|m| (m.start(), None)),
                Some(Finder::Lines) | None => Some((pos, None)),
            };
            let Some((p, anchored)) = hit else { break };
            let end = memchr(b'\n', &block[p..]).map_or(block.len(), |i| p + i);
            if let Some(owners) = anchored {
                // Every owner of this literal starts with it: no match starts here unless
                // one of them matches anchored at the hit; then look further on.
                let input = regex_automata::Input::new(&block[..end])
                    .range(p..end)
                    .anchored(regex_automata::Anchored::Yes);
                let s = self.s;
                let single = &mut self.single;
                let here = owners
                    .iter()
                    .any(|&i| match (s.single.get(i), single.get_mut(i)) {
                        (Some(re), Some(cache)) => re.is_match_with(cache, &input),
                        _ => true,
                    });
                if !here {
                    pos = p + 1;
                    continue;
                }
            }
            let start = memrchr(b'\n', &block[pos..p]).map_or(pos, |i| pos + i + 1);
            seen += count_newlines(&block[counted..start]);
            counted = start;
            self.line(base + seen + 1, &block[start..end]);
            pos = end + 1;
        }
        self.lines += seen + count_newlines(&block[counted..]);
        if !block.ends_with(b"\n") && !block.is_empty() {
            self.lines += 1;
        }
    }

    /// Complete lines, each searched with the relaxed automaton from where its message may
    /// start: an entry's envelope before its message is never read, an indented entry's
    /// envelope lines not at all.
    fn block_by_lines(&mut self, block: &[u8]) {
        let s = self.s;
        let mut pos = 0;
        while pos < block.len() {
            let end = memchr(b'\n', &block[pos..]).map_or(block.len(), |i| pos + i);
            let line = &block[pos..end];
            self.lines += 1;
            let from = match s.shapes.shape(line) {
                Shape::Envelope => None,
                Shape::Plain => Some(0),
                Shape::Message { start, .. } => Some(start),
            };
            if let Some(from) = from {
                let input = regex_automata::Input::new(line)
                    .range(from..)
                    .earliest(true);
                if s.any_line.is_match_with(&mut self.cache_line, &input) {
                    let n = self.lines;
                    self.line(n, line);
                }
            }
            pos = end + 1;
        }
    }

    /// A window of a line longer than the buffer.
    fn long_window(&mut self, window: &[u8], first: bool) {
        let n = self.counts.len();
        let keep = self.s.opts.max_kept_line + 1;
        let long = self.long.get_or_insert_with(|| LongLine {
            matched: vec![false; n],
            app: None,
            head: Vec::new(),
        });
        if first {
            long.head = window[..window.len().min(keep)].to_vec();
            long.app = app_of(window).map(<[u8]>::to_vec);
        }
        self.patset.clear();
        let input = regex_automata::Input::new(window);
        self.s
            .set
            .which_overlapping_matches_with(&mut self.cache, &input, &mut self.patset);
        for p in self.patset.iter() {
            if let Some(m) = long.matched.get_mut(p.as_usize()) {
                *m = true;
            }
        }
    }

    /// The end of a long line: `tail` is its last window.
    fn finish_long(&mut self, tail: &[u8]) {
        self.long_window(trim_cr(tail), false);
        let Some(long) = self.long.take() else { return };
        self.long_lines += 1;
        self.lines += 1;
        self.hits.clear();
        self.hits.extend(
            long.matched
                .iter()
                .enumerate()
                .filter(|(_, m)| **m)
                .map(|(i, _)| i),
        );
        if !self.hits.is_empty() {
            let line_no = self.lines;
            self.record(line_no, &long.head, None, long.app.as_deref());
        }
    }

    fn report(self) -> ScanReport {
        let s = self.s;
        let names = |v: &[u64]| {
            v.iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(i, n)| (s.patterns[i].name.clone(), *n))
                .collect()
        };
        ScanReport {
            lines: self.lines,
            bytes: self.bytes,
            matched_lines: self.matched_lines,
            patterns: s
                .patterns
                .iter()
                .zip(&self.counts)
                .map(|(p, n)| PatternCount {
                    name: p.name.clone(),
                    regex: p.regex.clone(),
                    lines: *n,
                })
                .collect(),
            apps: self
                .apps
                .iter()
                .map(|(app, (lines, per))| {
                    (
                        String::from_utf8_lossy(app).into_owned(),
                        AppCount {
                            lines: *lines,
                            patterns: names(per),
                        },
                    )
                })
                .collect(),
            first: self.first,
            long_lines: self.long_lines,
            prefilter: self.prefilter,
        }
    }
}

impl Scanner {
    /// Scans `reader` to its end in one fixed buffer.
    pub fn scan_reader<R: Read>(&self, mut reader: R) -> Result<ScanReport, LogscanError> {
        let mut st = State::new(self);
        let cap = self.opts.buffer_size;
        let mut buf = vec![0u8; cap];
        let mut filled = 0usize;
        let mut long_first = true;
        loop {
            let n = match reader.read(&mut buf[filled..]) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            if n == 0 {
                if st.long.is_some() {
                    st.finish_long(&buf[..filled]);
                } else if filled > 0 {
                    st.block(&buf[..filled]);
                }
                break;
            }
            st.bytes += n as u64;
            filled += n;
            let mut from = 0;
            if st.long.is_some()
                && let Some(nl) = memchr(b'\n', &buf[..filled])
            {
                st.finish_long(&buf[..nl]);
                long_first = true;
                from = nl + 1;
            }
            if st.long.is_none()
                && let Some(last) = memrchr(b'\n', &buf[from..filled])
            {
                let end = from + last + 1;
                st.block(&buf[from..end]);
                from = end;
            }
            if from > 0 {
                buf.copy_within(from..filled, 0);
                filled -= from;
            } else if filled == cap {
                // No newline in a full buffer: a window of a long line.
                st.ensure_finder(&buf[..filled]);
                st.long_window(&buf[..filled], long_first);
                long_first = false;
                let keep = LONG_LINE_OVERLAP.min(cap / 2);
                buf.copy_within(filled - keep..filled, 0);
                filled = keep;
            }
        }
        Ok(st.report())
    }

    /// Scans lines already in memory (each without or with its trailing newline), each
    /// taken apart as [`Scanner::scan_reader`] would.
    pub fn scan_lines<I, L>(&self, lines: I) -> ScanReport
    where
        I: IntoIterator<Item = L>,
        L: AsRef<[u8]>,
    {
        let mut st = State::new(self);
        st.prefilter = "none (lines given one by one)".into();
        for line in lines {
            let line = line.as_ref();
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            st.lines += 1;
            st.bytes += line.len() as u64;
            let n = st.lines;
            st.line(n, line);
        }
        st.report()
    }

    /// Scans messages already taken out of their entries (`flyctl logs --json` read by the
    /// Fly client): each is matched whole, as one message, and counted as one line.
    pub fn scan_messages<I, L>(&self, messages: I) -> ScanReport
    where
        I: IntoIterator<Item = L>,
        L: AsRef<[u8]>,
    {
        let mut st = State::new(self);
        st.prefilter = "none (messages given one by one)".into();
        for m in messages {
            let m = m.as_ref();
            st.lines += 1;
            st.bytes += m.len() as u64;
            let n = st.lines;
            if st.matches(m) {
                st.record(n, m, None, None);
            }
        }
        st.report()
    }

    /// Scans a byte slice (as [`Scanner::scan_reader`] would).
    pub fn scan_bytes(&self, bytes: &[u8]) -> ScanReport {
        self.scan_reader(bytes).unwrap_or_default()
    }
}
