//! The deploy lock: one open run per project and environment.

use crate::support::TestEnv;

#[test]
fn two_starts_at_once_exactly_one_wins() {
    let env = TestEnv::world();
    // Create the store first so both processes race on the lock, not on creating the file.
    assert_eq!(env.shipcheck(&["history"]).code, 0);
    for round in 0..3 {
        let a = env.cmd(&["start", "--by", "alice"]).spawn();
        let b = env.cmd(&["start", "--by", "bob"]).spawn();
        let a = a.wait_with_output().unwrap();
        let b = b.wait_with_output().unwrap();
        let mut codes = [a.status.code().unwrap(), b.status.code().unwrap()];
        codes.sort();
        assert_eq!(
            codes,
            [0, 4],
            "round {round}: {}\n{}",
            String::from_utf8_lossy(&a.stderr),
            String::from_utf8_lossy(&b.stderr)
        );
        let loser = if a.status.code() == Some(4) { &a } else { &b };
        let msg = String::from_utf8_lossy(&loser.stderr);
        assert!(msg.contains("locked") || msg.contains("lock"), "{msg}");
        assert!(msg.contains("alice") || msg.contains("bob"), "{msg}");
        let out = env.shipcheck(&["abort", "--reason", "test round over"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
}

#[test]
fn unlock_breaks_a_held_lock_with_a_recorded_reason() {
    let env = TestEnv::world();
    assert_eq!(env.shipcheck(&["start", "--by", "alice"]).code, 0);
    let blocked = env.shipcheck(&["start", "--by", "bob"]);
    assert_eq!(blocked.code, 4);
    assert!(blocked.stderr.contains("alice"), "{}", blocked.stderr);
    let missing_reason = env.shipcheck(&["unlock"]);
    assert_eq!(missing_reason.code, 2);
    let out = env.shipcheck(&["unlock", "--reason", "alice is on holiday", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.json()["broken"]["holder"] == "alice");
    assert_eq!(env.shipcheck(&["start", "--by", "bob"]).code, 0);
}
