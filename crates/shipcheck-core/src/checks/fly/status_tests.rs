//! `fly.status`'s judgment of one app against the real shapes (`fixtures/api/fly/`).

use super::*;
use crate::clients::fly::parse_json;

const GROUPS: &str =
    include_str!("../../../../../fixtures/api/fly/machines-list-flyctl-groups-derived.json");
const RELEASES: &str = include_str!("../../../../../fixtures/api/fly/releases-derived.json");

fn machines() -> Vec<Machine> {
    parse_json("machines", GROUPS).unwrap()
}

/// The fixture's releases, with the Machines' release (7) as v55, the newest complete one.
fn releases(newest: &[(u64, &str)]) -> Vec<Release> {
    let mut all: Vec<Release> = parse_json("releases", RELEASES).unwrap();
    all.retain(|r| r.version <= 55);
    for r in &mut all {
        r.version -= 48; // 55 → 7, 54 → 6, 53 → 5
    }
    for (v, status) in newest.iter().rev() {
        let mut r = all[0].clone();
        r.version = *v;
        r.status = status.to_string();
        r.image_ref = format!("registry.fly.io/testrun:deployment-v{v}");
        all.insert(0, r);
    }
    all
}

fn now() -> jiff::Timestamp {
    "2023-05-01T12:00:00Z".parse().unwrap()
}

#[test]
fn settled_on_the_newest_complete_release_passes() {
    let r = judge_app(
        "testrun",
        "testrun",
        Some(5),
        &machines(),
        &releases(&[]),
        now(),
    );
    assert_eq!(r.status, Status::Pass, "{}", r.line);
    assert_eq!(
        r.line,
        "testrun v7: 2 started, 1 stopped by auto-stop, 1 stopped standby, 1 suspended by auto-stop"
    );
}

#[test]
fn a_deploy_not_there_yet_or_in_flight_is_landing() {
    let r = judge_app("t", "testrun", Some(7), &machines(), &releases(&[]), now());
    assert!(r.landing, "{}", r.line);
    assert!(
        r.line
            .starts_with("testrun: no release since v7 yet; 5 Machines on v7"),
        "{}",
        r.line
    );
    for status in ["running", "pending"] {
        let r = judge_app(
            "t",
            "testrun",
            Some(7),
            &machines(),
            &releases(&[(8, status)]),
            now(),
        );
        assert!(r.landing, "{}", r.line);
        assert!(r.line.contains(&format!("v8 is {status}")), "{}", r.line);
    }
    // Complete, but the Machines are still on v7: landing until the wait is over.
    let r = judge_app(
        "t",
        "testrun",
        Some(7),
        &machines(),
        &releases(&[(8, "complete")]),
        now(),
    );
    assert!(r.landing, "{}", r.line);
    assert!(r.line.contains("[worker] started: on v7"), "{}", r.line);
}

#[test]
fn a_failed_new_release_leaves_the_machines_on_the_previous_one() {
    for status in ["failed", "interrupted", "rolled_back"] {
        let r = judge_app(
            "t",
            "testrun",
            Some(7),
            &machines(),
            &releases(&[(8, status)]),
            now(),
        );
        assert_eq!(r.status, Status::Pass, "{}", r.line);
        assert!(!r.landing);
        assert!(r.line.contains(&format!("(v8 {status}")), "{}", r.line);
        assert!(r.line.contains("no Machine should run it"), "{}", r.line);
    }
}

#[test]
fn broken_machines_fail_and_unknown_ones_are_errors() {
    let mut ms = machines();
    ms[0].state = crate::clients::fly::MachineState::parse("failed");
    let r = judge_app("t", "testrun", None, &ms, &releases(&[]), now());
    assert_eq!(r.status, Status::Fail);
    assert!(!r.landing);
    assert!(
        r.line.contains("machine e286065f969386 [app] failed"),
        "{}",
        r.line
    );

    let mut ms = machines();
    ms[0].state = crate::clients::fly::MachineState::parse("paused");
    let r = judge_app("t", "testrun", None, &ms, &releases(&[]), now());
    assert_eq!(r.status, Status::Error, "{}", r.line);

    let r = judge_app("t", "testrun", None, &[], &releases(&[]), now());
    assert_eq!(r.status, Status::Error, "{}", r.line);
    let r = judge_app("t", "testrun", None, &ms, &[], now());
    assert_eq!(r.status, Status::Error, "{}", r.line);
    // Only failed releases: nothing complete to judge against.
    let only_failed: Vec<Release> = releases(&[(8, "failed")])
        .into_iter()
        .filter(|r| !r.is_complete())
        .collect();
    let r = judge_app("t", "testrun", None, &machines(), &only_failed, now());
    assert_eq!(r.status, Status::Fail, "{}", r.line);
    assert!(r.line.contains("no complete release"), "{}", r.line);
}
