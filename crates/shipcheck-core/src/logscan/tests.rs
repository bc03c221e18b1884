//! The scanner on crafted logs: every default pattern, reads of 1–7 bytes, invalid UTF-8,
//! a 10 MB line, per-app counts, the first N matches, and the two ways of finding candidate
//! lines agreeing.

use std::io::Read;

use crate::logscan::*;

/// A fly-log-shipper line; `message` is written into the JSON string as given (escape it).
pub(super) fn shipper(app: &str, level: &str, message: &str) -> String {
    format!(
        r#"{{"event":{{"provider":"app"}},"fly":{{"app":{{"instance":"148ed193b95389","name":"{app}"}},"region":"fra"}},"host":"a1b2","log":{{"level":"{level}"}},"message":"{message}","timestamp":"2026-11-25T10:00:00.123456789Z"}}"#
    )
}

/// 12 lines: 2 error, 1 fatal, 2 panic (one also error), one 5xx, and clean lines whose
/// envelopes say `error` or `502` (an indented entry's 4 lines, a shipper line).
fn crafted() -> String {
    let lines = [
        shipper("api", "info", "GET /health 200 1ms"),
        shipper("api", "info", r#"{\"level\":\"error\",\"msg\":\"db timeout\"}"#),
        shipper("web", "info", "2026-11-25T10:00:00Z ERROR thread 'main' panicked at src/main.rs"),
        shipper("web", "info", "GET /x 503 12ms"),
        shipper("api", "info", "level=fatal msg=\\\"out of memory\\\""),
        shipper("api", "info", "panic: runtime error"),
        shipper("web", "info", "GET /y 200 500ms"),
        "{\n  \"level\": \"error\",\n  \"meta\": { \"HTTP\": { \"Response\": { \"status_code\": 502 } } }\n}"
            .to_string(),
        shipper("api", "error", "errors: 0"),
    ];
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

fn scanner() -> Scanner {
    Scanner::new(default_patterns()).unwrap()
}

fn counts(r: &ScanReport) -> Vec<(String, u64)> {
    r.patterns
        .iter()
        .map(|p| (p.name.clone(), p.lines))
        .collect()
}

#[test]
fn every_default_pattern_counts_its_lines() {
    let r = scanner().scan_bytes(crafted().as_bytes());
    assert_eq!(r.lines, 12);
    assert_eq!(
        counts(&r),
        [
            ("level:error".to_string(), 2),
            ("level:fatal".to_string(), 1),
            ("level:critical".to_string(), 0),
            ("panic".to_string(), 2),
            ("exception".to_string(), 0),
            ("fly:proxy".to_string(), 0),
            ("status:5xx".to_string(), 1),
        ]
    );
    assert_eq!(r.matched_lines, 5, "{r:#?}");
    assert_eq!(r.first[0].line, 2);
    assert_eq!(
        r.first[0].message.as_deref(),
        Some(r#"{"level":"error","msg":"db timeout"}"#)
    );
    assert_eq!(r.first[1].patterns, ["level:error", "panic"]);
    // The envelopes (`"level": "error"`, `status_code: 502`) match nothing.
    assert!(r.first.iter().all(|m| m.line < 8), "{r:#?}");
    // Matched whole, the envelope is what matches.
    let whole = Scanner::with_options(
        [Pattern::new("envelope", r#""level"\s*:\s*"error""#)],
        ScanOptions {
            whole_line: true,
            ..Default::default()
        },
    )
    .unwrap()
    .scan_bytes(crafted().as_bytes());
    let lines: Vec<u64> = whole.first.iter().map(|m| m.line).collect();
    assert_eq!(lines, [9, 12]);
}

/// Mostly clean lines, as real logs are.
fn mostly_clean(times: usize) -> String {
    let clean: String = (0..40)
        .map(|i| shipper("api", "info", &format!("GET /items/{i} 200 {i}ms")) + "\n")
        .collect();
    (crafted() + &clean).repeat(times)
}

#[test]
fn counts_per_app() {
    let r = scanner().scan_bytes(crafted().as_bytes());
    let api = &r.apps["api"];
    assert_eq!(api.lines, 3);
    assert_eq!(api.patterns["level:error"], 1);
    assert_eq!(api.patterns["level:fatal"], 1);
    assert_eq!(api.patterns["panic"], 1);
    let web = &r.apps["web"];
    assert_eq!((web.lines, web.patterns["status:5xx"]), (2, 1));
    assert!(!r.apps.contains_key(UNKNOWN_APP));
    // A scan of one app's output names lines without an app after it.
    let one = Scanner::with_options(
        default_patterns(),
        ScanOptions {
            app: Some("internal-api".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let r = one.scan_bytes(b"{\"level\":\"error\",\"message\":\"x\"}\n");
    assert_eq!(r.apps["internal-api"].lines, 1);
    // The app's own JSON line (no Fly envelope) is matched whole.
    assert_eq!(r.count("level:error"), Some(1));
    assert_eq!(app_name(r#"{"app":"plain","x":1}"#), Some("plain"));
    assert_eq!(app_name(r#"{"app": {"name" : "spaced"}}"#), Some("spaced"));
    assert_eq!(app_name(r#"{"message":"the \"app\" field"}"#), None);
}

fn app_name(line: &str) -> Option<&str> {
    shape::app_of(line.as_bytes()).map(|b| std::str::from_utf8(b).unwrap())
}

/// Returns 1–7 bytes per read, in a fixed pattern.
struct Trickle<'a> {
    data: &'a [u8],
    n: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.n += 1;
        let want = (self.n * 5 % 7) + 1;
        let k = want.min(buf.len()).min(self.data.len());
        buf[..k].copy_from_slice(&self.data[..k]);
        self.data = &self.data[k..];
        Ok(k)
    }
}

#[test]
fn lines_split_across_reads_count_the_same() {
    let text = crafted().repeat(50);
    let s = scanner();
    let whole = s.scan_bytes(text.as_bytes());
    let trickled = s
        .scan_reader(Trickle {
            data: text.as_bytes(),
            n: 0,
        })
        .unwrap();
    assert_eq!(whole.lines, 600);
    assert_eq!(counts(&whole), counts(&trickled));
    assert_eq!(whole.apps, trickled.apps);
    assert_eq!(whole.first, trickled.first);
    assert_eq!(trickled.bytes, text.len() as u64);
    // The last line without a newline still counts.
    let r = s.scan_bytes(b"a\nb\npanic: at the end");
    assert_eq!((r.lines, r.matched_lines, r.first[0].line), (3, 1, 3));
}

#[test]
fn invalid_utf8_is_matched_and_shown_lossily() {
    let mut data = b"ok line\n\xff\xfe thread 'm' panicked at \xc3\x28 here\nfine\n".to_vec();
    data.extend_from_slice(b"\xe2\x82 \"level\":\"error\"\n");
    let r = scanner().scan_bytes(&data);
    assert_eq!(r.lines, 4);
    assert_eq!(r.count("panic"), Some(1));
    assert_eq!(r.count("level:error"), Some(1));
    assert!(
        r.first[0].text.contains('\u{fffd}'),
        "{:?}",
        r.first[0].text
    );
    assert_eq!(r.first[0].line, 2);
}

#[test]
fn a_ten_megabyte_line_is_matched_in_constant_memory() {
    let mut data = Vec::new();
    data.extend_from_slice(b"{\"app\":\"big\",\"message\":\"");
    data.extend(std::iter::repeat_n(b'x', 10 << 20));
    data.extend_from_slice(b" then thread 'main' panicked at the very end\"}\n");
    data.extend_from_slice(shipper("api", "info", "ERROR after").as_bytes());
    data.push(b'\n');
    let s = scanner();
    let r = s.scan_bytes(&data);
    assert_eq!(r.lines, 2);
    assert_eq!(r.long_lines, 1);
    assert_eq!(r.count("panic"), Some(1));
    assert_eq!(r.count("level:error"), Some(1));
    assert_eq!(r.apps["big"].lines, 1);
    let big = &r.first[0];
    assert_eq!((big.line, big.truncated), (1, true));
    assert!(big.text.len() <= s.options().max_kept_line);
    assert_eq!(r.first[1].line, 2);
    // A match straddling a window edge (inside the overlap) is found, in small windows too.
    let small = Scanner::with_options(
        ["needle"],
        ScanOptions {
            buffer_size: 64 << 10,
            ..Default::default()
        },
    )
    .unwrap();
    for at in [(64 << 10) - 3, (64 << 10) * 3 - 1, 5 << 20] {
        let mut line = vec![b'y'; 6 << 20];
        line[at..at + 6].copy_from_slice(b"needle");
        line.push(b'\n');
        let r = small.scan_bytes(&line);
        assert_eq!(
            (r.lines, r.matched_lines, r.long_lines),
            (1, 1, 1),
            "at {at}"
        );
    }
}

#[test]
fn keeps_the_first_n_matches() {
    let s = Scanner::with_options(
        ["hit"],
        ScanOptions {
            keep_first: 3,
            max_kept_line: 8,
            ..Default::default()
        },
    )
    .unwrap();
    let text: String = (1..=10).map(|i| format!("line {i} hit\nmiss\n")).collect();
    let r = s.scan_bytes(text.as_bytes());
    assert_eq!(r.matched_lines, 10);
    let lines: Vec<u64> = r.first.iter().map(|m| m.line).collect();
    assert_eq!(lines, [1, 3, 5]);
    assert_eq!(r.first[0].text, "line 1 h");
    assert!(r.first[0].truncated);
}

#[test]
fn literal_and_regex_candidates_agree() {
    let text = mostly_clean(20)
        + "x=1 and {\"level\": \"error\"}\r\nGET /z 504 \ntook 512ms then GET /q 503 done\n";
    let kv = Pattern::new("kv", r"^\w+\W\d\s");
    let defaults = scanner().scan_bytes(text.as_bytes());
    let mut patterns = default_patterns();
    patterns.push(kv.clone());
    let regex = Scanner::new(patterns).unwrap().scan_bytes(text.as_bytes());
    assert!(
        regex.prefilter.starts_with("automaton"),
        "{}",
        regex.prefilter
    );
    assert_eq!(regex.count("kv"), Some(1));
    assert_eq!(counts(&defaults), counts(&regex)[..7]);
    assert_eq!(defaults.count("status:5xx"), Some(22));
    assert_eq!(defaults.count("level:error"), Some(41));
    let lines = scanner().scan_lines(text.lines());
    assert_eq!(counts(&lines), counts(&defaults));
    // Rare literals: the literal prefilter, with the same counts.
    let crashes = Scanner::new(crash_patterns()).unwrap();
    let literal = crashes.scan_bytes(text.as_bytes());
    assert!(
        literal.prefilter.starts_with("literals"),
        "{}",
        literal.prefilter
    );
    let mut patterns = crash_patterns();
    patterns.push(kv);
    let regex = Scanner::new(patterns).unwrap().scan_bytes(text.as_bytes());
    assert_eq!(counts(&literal), counts(&regex)[..3]);
    assert_eq!(literal.count("panic"), Some(40));
}

#[test]
fn bad_patterns_are_named() {
    let e = Scanner::new(["ok", "(unclosed"]).unwrap_err();
    assert!(e.to_string().contains("\"(unclosed\""), "{e}");
    assert!(Scanner::new(Vec::<Pattern>::new()).is_err());
}

#[test]
fn merging_reports() {
    let s = scanner();
    let mut a = s.scan_bytes(crafted().as_bytes());
    let b = s.scan_bytes(crafted().as_bytes());
    a.merge(b, 100);
    assert_eq!(a.lines, 24);
    assert_eq!(a.count("level:error"), Some(4));
    assert_eq!(a.apps["api"].lines, 6);
    assert_eq!(a.first.len(), 10);
}
