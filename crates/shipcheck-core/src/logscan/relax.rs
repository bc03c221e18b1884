//! Patterns are written for the message; candidate lines are found in the raw bytes, where
//! the message may be a JSON string (`\"level\":\"error\"`, `\u003c`, `\n`). The *relaxed*
//! form of a pattern matches, in the raw line, wherever the pattern matches the decoded
//! message: anchors and word boundaries are dropped (the message starts mid-line), and each
//! character that a JSON encoder may escape also matches its escapes. It matches more than
//! the pattern (a superset); every candidate line is then matched exactly on its message.
//!
//! The relaxed form is also *trimmed*: an unanchored search for `A·B·C` finds a line only if
//! a search for `B` does, so the parts of each alternative that may match nothing at its
//! ends (`^\s*(?:timestamp|[tag]){0,6}` before a level word, `(?:\w+\.)?`) are dropped. The
//! candidate automaton stays small and fast; the exact patterns still decide.
//!
//! Escapes covered: the ones JSON encoders write (`\"`, `\\`, `\/`, `\n`, `\r`, `\t`, `\b`,
//! `\f`, `\uXXXX` for control characters, `<`, `>`, `&` (Go) and non-ASCII (Python's
//! `ensure_ascii`)). An encoder escaping plain ASCII letters as `\u0041` is not covered.

use regex_syntax::hir::{Class, Hir, HirKind, Repetition};

/// Any JSON escape sequence (a surrogate pair counts as one).
const ANY_ESCAPE: &str = r#"\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}(?:\\u[0-9a-fA-F]{4})?)"#;

fn parse(re: &str) -> Option<Hir> {
    regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(re)
        .ok()
}

/// The relaxed form of `pattern` as a regular expression (`None`: it does not parse).
pub(super) fn relaxed(pattern: &str) -> Option<String> {
    let hir = parse(pattern)?;
    let any = parse(ANY_ESCAPE)?;
    Some(trim(&relax(&hir, &any, 0), 0).to_string())
}

/// `hir` without the parts at the ends of each alternative that may match the empty string
/// (a superset for an unanchored search). An alternative that may match nothing at all stays
/// as it is.
fn trim(hir: &Hir, depth: usize) -> Hir {
    if depth > 32 {
        return hir.clone();
    }
    let may_be_empty = |h: &Hir| h.properties().minimum_len() == Some(0);
    match hir.kind() {
        HirKind::Alternation(subs) => {
            Hir::alternation(subs.iter().map(|s| trim(s, depth + 1)).collect())
        }
        HirKind::Capture(c) => trim(&c.sub, depth + 1),
        HirKind::Repetition(r) if r.min >= 1 && !may_be_empty(&r.sub) => trim(&r.sub, depth + 1),
        HirKind::Concat(subs) => {
            let first = subs.iter().position(|s| !may_be_empty(s));
            let last = subs.iter().rposition(|s| !may_be_empty(s));
            match (first, last) {
                (Some(a), Some(b)) if a == b => trim(&subs[a], depth + 1),
                (Some(a), Some(b)) => Hir::concat(subs[a..=b].to_vec()),
                _ => hir.clone(),
            }
        }
        _ => hir.clone(),
    }
}

fn relax(hir: &Hir, any: &Hir, depth: usize) -> Hir {
    if depth > 200 {
        // Deeper than any pattern we build: match anything here (a superset still).
        return Hir::repetition(Repetition {
            min: 0,
            max: None,
            greedy: true,
            sub: Box::new(Hir::class(regex_syntax::hir::Class::Bytes(
                regex_syntax::hir::ClassBytes::new([regex_syntax::hir::ClassBytesRange::new(
                    0, 255,
                )]),
            ))),
        });
    }
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Hir::empty(),
        HirKind::Literal(lit) => literal(&lit.0),
        HirKind::Class(c) => {
            if class_has_special(c) {
                Hir::alternation(vec![hir.clone(), any.clone()])
            } else {
                hir.clone()
            }
        }
        HirKind::Repetition(r) => Hir::repetition(Repetition {
            min: r.min,
            max: r.max,
            greedy: r.greedy,
            sub: Box::new(relax(&r.sub, any, depth + 1)),
        }),
        HirKind::Capture(c) => relax(&c.sub, any, depth + 1),
        HirKind::Concat(subs) => {
            Hir::concat(subs.iter().map(|s| relax(s, any, depth + 1)).collect())
        }
        HirKind::Alternation(subs) => {
            Hir::alternation(subs.iter().map(|s| relax(s, any, depth + 1)).collect())
        }
    }
}

/// Whether a character may be escaped by a JSON encoder.
fn special(c: char) -> bool {
    matches!(c, '"' | '\\' | '/' | '<' | '>' | '&') || (c as u32) < 0x20 || !c.is_ascii()
}

fn class_has_special(c: &Class) -> bool {
    match c {
        Class::Unicode(u) => u.ranges().iter().any(|r| {
            let (a, b) = (r.start() as u32, r.end() as u32);
            a < 0x20
                || b >= 0x80
                || ['"', '\\', '/', '<', '>', '&']
                    .iter()
                    .any(|&s| (a..=b).contains(&(s as u32)))
        }),
        Class::Bytes(bytes) => bytes.ranges().iter().any(|r| {
            let (a, b) = (r.start(), r.end());
            a < 0x20 || b >= 0x80 || b"\"\\/<>&".iter().any(|s| (a..=b).contains(s))
        }),
    }
}

/// The escapes of `c` a JSON encoder may write, as literals (hex in both cases).
fn escapes(c: char) -> Vec<Vec<u8>> {
    let short = match c {
        '"' => Some(r#"\""#),
        '\\' => Some(r"\\"),
        '/' => Some(r"\/"),
        '\n' => Some(r"\n"),
        '\r' => Some(r"\r"),
        '\t' => Some(r"\t"),
        '\u{8}' => Some(r"\b"),
        '\u{c}' => Some(r"\f"),
        _ => None,
    };
    let mut out: Vec<Vec<u8>> = short.map(|s| s.as_bytes().to_vec()).into_iter().collect();
    if c == '"' || c == '\\' || c == '/' {
        return out;
    }
    let mut units = [0u16; 2];
    let units = c.encode_utf16(&mut units);
    let lower: String = units.iter().map(|u| format!("\\u{u:04x}")).collect();
    let upper: String = units.iter().map(|u| format!("\\u{u:04X}")).collect();
    out.push(lower.into_bytes());
    if upper.as_bytes() != out[out.len() - 1] {
        out.push(upper.into_bytes());
    }
    out
}

/// A literal, each special character also matching its escapes. Bytes that are not UTF-8
/// stay as they are.
fn literal(bytes: &[u8]) -> Hir {
    let mut parts: Vec<Hir> = Vec::new();
    let mut run: Vec<u8> = Vec::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            let mut buf = [0u8; 4];
            let enc = c.encode_utf8(&mut buf).as_bytes();
            if special(c) {
                if !run.is_empty() {
                    parts.push(Hir::literal(std::mem::take(&mut run)));
                }
                let mut alts = vec![Hir::literal(enc.to_vec())];
                alts.extend(escapes(c).into_iter().map(Hir::literal));
                parts.push(Hir::alternation(alts));
            } else {
                run.extend_from_slice(enc);
            }
        }
        run.extend_from_slice(chunk.invalid());
    }
    if !run.is_empty() {
        parts.push(Hir::literal(run));
    }
    Hir::concat(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, hay: &str) -> bool {
        let r = relaxed(pattern).unwrap();
        regex::bytes::Regex::new(&r)
            .unwrap()
            .is_match(hay.as_bytes())
    }

    #[test]
    fn relaxed_patterns_match_escaped_messages() {
        // Anchors and word boundaries are gone: the message starts mid-line.
        assert!(m(r"^ERROR\b", r#"{"message":"ERROR db"}"#));
        // Quotes, backslashes, slashes, control characters, Go's <>&, non-ASCII.
        assert!(m(
            r#""level":"error""#,
            r#""message":"{\"level\":\"error\"}""#
        ));
        assert!(m(r"C:\\temp", r#""C:\\temp""#));
        assert!(m(r"a/b", r#""a\/b""#));
        assert!(m("a\tb", r#""a\tb""#));
        assert!(m(r"a<b>&", r#""a\u003cb\u003E\u0026""#));
        assert!(m(r"é", r#""\u00e9""#));
        assert!(m(r"😀", r#""\ud83d\ude00""#));
        assert!(m(r#"[^"]+x"#, r#""\"\"x""#));
        // Still a literal search where nothing is special.
        assert!(!m(r"panicked at", "no panic here"));
        // Trimmed: what may match nothing at an alternative's ends is gone.
        assert_eq!(
            relaxed(r"^\s*(?:\d{2}:\d{2}\s*){0,4}(?:\w+\.)?ERROR\b|x+y?").unwrap(),
            "(?:(?:ERROR)|x)"
        );
        assert_eq!(relaxed("(unclosed"), None);
    }
}
