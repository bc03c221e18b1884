//! The scanner on crafted logs: every default pattern, reads of 1–7 bytes, invalid UTF-8,
//! a 10 MB line, per-app counts, the first N matches, and the two ways of finding candidate
//! lines agreeing.

use std::io::Read;

use crate::logscan::*;

fn shipper(app: &str, level: &str, message: &str) -> String {
    format!(
        r#"{{"event":{{"provider":"app"}},"fly":{{"app":{{"instance":"148ed193b95389","name":"{app}"}},"region":"fra"}},"host":"a1b2","log":{{"level":"{level}"}},"message":"{message}","timestamp":"2026-11-25T10:00:00.123456789Z"}}"#
    )
}

/// 12 lines: 2 error, 1 fatal, 2 panic (one also error), 2 5xx, 6 clean.
fn crafted() -> String {
    let lines = [
        shipper("api", "info", "GET /health 200 1ms"),
        shipper("api", "error", "db timeout"),
        shipper("web", "ERROR", "thread main PANICKED at src/main.rs"),
        shipper("web", "info", "GET /x 503 12ms"),
        shipper("api", "fatal", "out of memory"),
        shipper("api", "info", "panic: runtime error"),
        shipper("web", "info", "GET /y 200 500ms"),
        "{\n  \"level\": \"info\",\n  \"meta\": { \"HTTP\": { \"Response\": { \"status_code\": 502 } } }\n}"
            .to_string(),
        shipper("api", "info", "errors: 0"),
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
            ("message:panic".to_string(), 2),
            ("status:5xx".to_string(), 2),
        ]
    );
    assert_eq!(r.matched_lines, 6, "{r:#?}");
    assert_eq!(r.first[0].line, 2);
    assert_eq!(r.first[1].patterns, ["level:error", "message:panic"]);
    // The indented flyctl entry: the status_code line is line 10.
    let status = r
        .first
        .iter()
        .find(|m| m.text.contains("status_code"))
        .unwrap();
    assert_eq!(status.line, 10);
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
    assert_eq!(api.patterns["message:panic"], 1);
    let web = &r.apps["web"];
    assert_eq!((web.lines, web.patterns["status:5xx"]), (2, 1));
    assert_eq!(r.apps[UNKNOWN_APP].lines, 1);
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
    assert_eq!(app_name(r#"{"app":"plain","x":1}"#), Some("plain"));
    assert_eq!(app_name(r#"{"app": {"name" : "spaced"}}"#), Some("spaced"));
    assert_eq!(app_name(r#"{"message":"the \"app\" field"}"#), None);
}

fn app_name(line: &str) -> Option<&str> {
    scan::app_of(line.as_bytes()).map(|b| std::str::from_utf8(b).unwrap())
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
    let r = s.scan_bytes(b"a\nb\npanic at the end");
    assert_eq!((r.lines, r.matched_lines, r.first[0].line), (3, 1, 3));
}

#[test]
fn invalid_utf8_is_matched_and_shown_lossily() {
    let mut data = b"ok line\n\xff\xfe panic \xc3\x28 here\nfine\n".to_vec();
    data.extend_from_slice(b"\xe2\x82 \"level\":\"error\"\n");
    let r = scanner().scan_bytes(&data);
    assert_eq!(r.lines, 4);
    assert_eq!(r.count("message:panic"), Some(1));
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
    data.extend_from_slice(b" then a panic at the very end\"}\n");
    data.extend_from_slice(shipper("api", "error", "after").as_bytes());
    data.push(b'\n');
    let s = scanner();
    let r = s.scan_bytes(&data);
    assert_eq!(r.lines, 2);
    assert_eq!(r.long_lines, 1);
    assert_eq!(r.count("message:panic"), Some(1));
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
    let text =
        mostly_clean(20) + "x=1 and \"level\": \"error\"\r\nplain 504 \ntook 512ms then 503 done\n";
    let literal = scanner().scan_bytes(text.as_bytes());
    let mut patterns = default_patterns();
    patterns.push(Pattern::new("kv", r"^\w+\W\d\s"));
    let regex = Scanner::new(patterns).unwrap().scan_bytes(text.as_bytes());
    assert!(
        literal.prefilter.starts_with("literals"),
        "{}",
        literal.prefilter
    );
    assert_eq!(regex.prefilter, "regex");
    assert_eq!(regex.count("kv"), Some(1));
    assert_eq!(counts(&literal), counts(&regex)[..4]);
    // A literal hit that is no match (" 51" of "512ms") and a match later on the same line.
    assert_eq!(literal.count("status:5xx"), Some(42));
    let lines = scanner().scan_lines(text.lines());
    assert_eq!(counts(&lines), counts(&literal));
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
    assert_eq!(a.first.len(), 12);
}
