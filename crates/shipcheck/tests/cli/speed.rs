//! `shipcheck loadtest` and `shipcheck logs scan`, and `prepare.load-test` in a run compared
//! with the previous run's result. Counts and exit codes only: speed lives in bench/.

use crate::support::{TestEnv, serve};

#[test]
fn loadtest_exits_0_within_thresholds_and_1_beyond_them() {
    let env = TestEnv::bare();
    let server = serve();
    let port = server.port();
    let ok = env.shipcheck(&[
        "loadtest",
        &format!("http://127.0.0.1:{port}/"),
        "-n",
        "60",
        "-c",
        "3",
        "--max-error-rate",
        "1%",
        "--max-p99",
        "30s",
        "--json",
    ]);
    assert_eq!(ok.code, 0, "{}\n{}", ok.stdout, ok.stderr);
    let v = ok.json();
    assert_eq!(v["kind"], "loadtest");
    assert_eq!(v["report"]["requests"], 60);
    assert_eq!(v["report"]["status"]["2xx"], 60);
    assert_eq!(v["passed"], true);

    let bad = env.shipcheck(&[
        "loadtest",
        &format!("http://localhost:{port}/broken"),
        "-n",
        "20",
        "--max-error-rate",
        "0.01",
    ]);
    assert_eq!(bad.code, 1, "{}\n{}", bad.stdout, bad.stderr);
    assert!(bad.stdout.contains("5xx 20"), "{}", bad.stdout);
    assert!(
        bad.stdout.contains("✗ errors 100.00% > 1.00%"),
        "{}",
        bad.stdout
    );

    // The open model, by rate and count.
    let open = env.shipcheck(&[
        "loadtest",
        &format!("http://127.0.0.1:{port}/"),
        "--rate",
        "200",
        "-n",
        "40",
        "--json",
    ]);
    assert_eq!(open.code, 0, "{}", open.stderr);
    assert_eq!(open.json()["report"]["model"], "open");
    assert_eq!(open.json()["report"]["responses"], 40);
}

#[test]
fn loadtest_refuses_targets_that_are_not_loopback() {
    let env = TestEnv::bare();
    for url in ["http://192.0.2.10/health", "https://example.com/"] {
        let out = env.shipcheck(&["loadtest", url, "-n", "1"]);
        assert_eq!(out.code, 2, "{url}: {}", out.stderr);
        assert!(
            out.stderr.contains("refusing to load-test"),
            "{}",
            out.stderr
        );
        assert!(out.stdout.is_empty());
    }
    let bad = env.shipcheck(&["loadtest", "http://127.0.0.1:1/", "-c", "0"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    let share = env.shipcheck(&[
        "loadtest",
        "http://127.0.0.1:1/",
        "--max-error-rate",
        "150%",
    ]);
    assert_eq!(share.code, 2, "{}", share.stderr);
    // Nobody listening: nothing answered is exit 3.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = env.shipcheck(&["loadtest", &format!("http://127.0.0.1:{port}/"), "-n", "3"]);
    assert_eq!(down.code, 3, "{}", down.stdout);
    assert!(down.stdout.contains("connect 3"), "{}", down.stdout);
}

const LOG: &str = r#"{"fly":{"app":{"instance":"1","name":"api"},"region":"fra"},"log":{"level":"info"},"message":"GET / 200 1ms"}
{"fly":{"app":{"instance":"1","name":"api"},"region":"fra"},"log":{"level":"info"},"message":"ERROR db down"}
{"fly":{"app":{"instance":"2","name":"web"},"region":"fra"},"log":{"level":"info"},"message":"GET /x 502 3ms"}
{"fly":{"app":{"instance":"2","name":"web"},"region":"fra"},"log":{"level":"info"},"message":"thread 'main' panicked at src/main.rs:1:1:"}
{"fly":{"app":{"instance":"2","name":"web"},"region":"fra"},"log":{"level":"error"},"message":"GET / 200 1ms"}
"#;

#[test]
fn logs_scan_reads_a_file_or_stdin() {
    let env = TestEnv::bare();
    let file = env.dir.path().join("app.log");
    std::fs::write(&file, LOG).unwrap();
    let out = env.shipcheck(&["logs", "scan", file.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["kind"], "logs_scan");
    let r = &v["report"];
    assert_eq!(r["lines"], 5);
    // Matched on the message: the last line's envelope `error` is not the app's.
    assert_eq!(r["matched_lines"], 3);
    let counts: Vec<(String, u64)> = r["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().into(),
                p["lines"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("level:error".into(), 1),
            ("level:fatal".into(), 0),
            ("level:critical".into(), 0),
            ("panic".into(), 1),
            ("exception".into(), 0),
            ("fly:proxy".into(), 0),
            ("status:5xx".into(), 1)
        ]
    );
    assert_eq!(r["apps"]["api"]["lines"], 1);
    assert_eq!(r["apps"]["web"]["lines"], 2);
    assert_eq!(r["first"][0]["line"], 2);

    // Standard input, `-` or nothing, with patterns of one's own; no match is exit 0.
    let stdin = env
        .cmd(&[
            "logs",
            "scan",
            "-",
            "--pattern",
            "db (up|down)",
            "-e",
            "GET /x",
        ])
        .stdin(LOG)
        .output();
    assert_eq!(stdin.code, 1, "{}", stdin.stderr);
    assert!(stdin.stdout.contains("5 line(s)"), "{}", stdin.stdout);
    assert!(
        stdin.stdout.contains("2: [db (up|down)]"),
        "{}",
        stdin.stdout
    );
    let none = env
        .cmd(&["logs", "scan", "--pattern", "nothing-like-this"])
        .stdin(LOG)
        .output();
    assert_eq!(none.code, 0, "{}", none.stdout);

    let bad = env.cmd(&["logs", "scan", "-e", "(oops"]).stdin("").output();
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("not a valid regular expression"),
        "{}",
        bad.stderr
    );
    let missing = env.shipcheck(&["logs", "scan", "no-such.log"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("no-such.log"), "{}", missing.stderr);
}

/// `prepare.load-test` runs in a run (the world's override: 20 requests per staging app) and
/// the next run's result is compared with it through the store.
#[test]
fn the_load_test_item_compares_with_the_previous_run() {
    let env = TestEnv::world();
    let item = |run: &serde_json::Value| -> serde_json::Value {
        run["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == "prepare.load-test")
            .cloned()
            .unwrap()
    };
    assert_eq!(env.shipcheck(&["start", "--by", "ada"]).code, 0);
    let next = env.shipcheck(&["next"]);
    assert!(next.code <= 1, "{}\n{}", next.stdout, next.stderr);
    let first = env.shipcheck(&["status", "--json"]).json();
    let first_id = first["id"].as_str().unwrap().to_string();
    let lt = item(&first);
    assert_eq!(lt["state"], "pass", "{lt}");
    let targets = lt["evidence"]["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 3, "{lt}");
    assert_eq!(targets[0]["report"]["requests"], 20);
    assert!(lt["evidence"]["previous"]["run"].is_null());
    let abort = env.shipcheck(&["abort", "--reason", "again", "--by", "ada"]);
    assert_eq!(abort.code, 0, "{}", abort.stderr);

    assert_eq!(env.shipcheck(&["start", "--by", "ada"]).code, 0);
    env.shipcheck(&["next"]);
    let second = item(&env.shipcheck(&["status", "--json"]).json());
    assert_eq!(
        second["evidence"]["previous"]["run"],
        first_id.as_str(),
        "{second}"
    );
    assert!(
        second["evidence"]["targets"][0]["comparison"]["text"]
            .as_str()
            .unwrap()
            .starts_with("p95 "),
        "{second}"
    );

    // `shipcheck check` outside a run compares with the newest run's result too.
    let check = env.shipcheck(&["check", "prepare.load-test", "--json"]);
    assert_eq!(check.code, 0, "{}\n{}", check.stdout, check.stderr);
    let evidence = &check.json()["checks"][0]["evidence"];
    assert!(evidence["previous"]["run"].is_string(), "{evidence}");
}
