//! Text from outside reaches the terminal harmless: escape sequences in command output,
//! notes, waiver reasons and names are shown escaped, and a URL's password is masked.

use crate::support::{TestEnv, serve};

const ESC: char = '\u{1b}';

fn no_raw_escapes(what: &str, text: &str) {
    assert!(
        !text.contains(ESC) && !text.contains('\u{7}') && !text.contains('\u{202e}'),
        "{what} printed a raw control character:\n{text:?}"
    );
}

/// The issue's finding: terminal escape sequences in command output, notes, waiver reasons
/// and names were printed raw.
#[test]
fn escape_sequences_from_outside_are_printed_escaped() {
    let env = TestEnv::world();
    let p = env.config_path();
    let text = std::fs::read_to_string(&p).unwrap().replace(
        r#"argv = ["sh", "-c", "echo 12 tests passed"]"#,
        r#"argv = ["sh", "-c", "printf '\\033]0;pwned\\007\\033[2J3 tests failed\\n'; exit 1"]"#,
    );
    assert!(text.contains("pwned"), "the override was not replaced");
    std::fs::write(&p, text).unwrap();

    let start = env.shipcheck(&["start", "--by", "Ann\u{1b}[8m"]);
    assert_eq!(start.code, 0, "{}", start.stderr);
    let mut printed = vec![("start", start.stdout + &start.stderr)];
    let note = env.shipcheck(&["note", "\u{1b}[31mred\u{1b}[0m and \u{202e}txt.exe"]);
    assert_eq!(note.code, 0, "{}", note.stderr);
    printed.push(("note", note.stdout + &note.stderr));
    let waive = env.shipcheck(&["waive", "prepare.backup", "--reason", "\u{1b}[2Jgone"]);
    printed.push(("waive", waive.stdout + &waive.stderr));
    for args in [
        vec!["check", "prepare.tests"],
        vec!["next"],
        vec!["status"],
        vec!["events"],
        vec!["report"],
    ] {
        let out = env.shipcheck(&args);
        printed.push((args[0], out.stdout + &out.stderr));
    }
    for (what, text) in &printed {
        no_raw_escapes(what, text);
    }
    let all: String = printed.iter().map(|(_, t)| t.as_str()).collect();
    assert!(
        all.contains(r"\u{1b}[31mred"),
        "the note is not shown: {all}"
    );
    assert!(
        all.contains(r"\u{1b}[2Jgone"),
        "the waiver is not shown: {all}"
    );
    assert!(
        all.contains(r"\u{1b}]0;pwned\u{7}\u{1b}[2J3 tests failed"),
        "the command output: {all}"
    );
}

/// The issue's finding: `loadtest http://user:PASS@…` printed the password in text mode.
#[test]
fn a_load_test_target_s_password_is_never_printed() {
    let env = TestEnv::bare();
    let server = serve();
    let port = server.port();
    let url = format!("http://tester:Pa55wordXYZ@127.0.0.1:{port}/");
    for json in [false, true] {
        let mut args = vec!["loadtest", url.as_str(), "-n", "10", "-c", "2"];
        if json {
            args.push("--json");
        }
        let out = env.shipcheck(&args);
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        let all = out.stdout + &out.stderr;
        assert!(!all.contains("Pa55wordXYZ"), "{all}");
        assert!(all.contains("tester:***@127.0.0.1"), "{all}");
    }
    // An error quoting the URL too.
    let out = env.shipcheck(&["loadtest", "http://u:Pa55wordXYZ@127.0.0.1:notaport/"]);
    assert_ne!(out.code, 0);
    assert!(!(out.stdout + &out.stderr).contains("Pa55wordXYZ"));
}
