//! The rollback target and "deployed" against the real shapes (`fixtures/api/fly/`).

use super::*;
use crate::clients::fly::parse_json;
use crate::model::outcome::Status;

const RELEASES: &str = include_str!("../../../../../fixtures/api/fly/releases-derived.json");
const PENDING: &str =
    include_str!("../../../../../fixtures/api/fly/releases-apps-v2-pending-2023-derived.json");
const GROUPS: &str =
    include_str!("../../../../../fixtures/api/fly/machines-list-flyctl-groups-derived.json");

fn releases() -> Vec<Release> {
    parse_json("releases", RELEASES).unwrap()
}

#[test]
fn the_target_is_the_newest_complete_release_never_a_failed_one() {
    // v57 running: a deploy in flight, no target yet.
    let (r, t) = pick_target("api", "testrun", &releases());
    assert_eq!(r.status, Status::Fail);
    assert!(r.line.contains("v57 running"), "{}", r.line);
    assert!(t.is_none());
    // Without it: v56 interrupted → v55, the newest complete.
    let list: Vec<Release> = releases().into_iter().skip(1).collect();
    let (r, t) = pick_target("api", "testrun", &list);
    assert_eq!(r.status, Status::Pass, "{}", r.line);
    assert_eq!(r.line, "api v55 (v56 interrupted)");
    let t = t.unwrap();
    assert_eq!((t.version, t.status.as_str()), (55, "complete"));
    // v54 failed is skipped for v53.
    let list: Vec<Release> = releases().into_iter().skip(3).collect();
    let (_, t) = pick_target("api", "testrun", &list);
    assert_eq!(t.unwrap().version, 53);
    // Pending releases (apps v2, 2023) are in flight.
    let (r, t) = pick_target(
        "api",
        "testrun",
        &parse_json::<Vec<Release>>("releases", PENDING).unwrap(),
    );
    assert_eq!(r.status, Status::Fail);
    assert!(t.is_none());
    // Only failed ones: nothing to roll back to.
    let failed: Vec<Release> = releases()
        .into_iter()
        .filter(|r| r.status == "failed")
        .collect();
    let (r, t) = pick_target("api", "testrun", &failed);
    assert_eq!(r.status, Status::Error);
    assert!(r.line.contains("no complete release"), "{}", r.line);
    assert!(t.is_none());
}

fn target(version: u64) -> RollbackTarget {
    RollbackTarget {
        app: "api".into(),
        fly_app: "testrun".into(),
        version,
        image_ref: "registry.fly.io/testrun:deployment-01GQ0HKV6TDT7DX0G50MT50FZD".into(),
        status: "complete".into(),
        created_at: String::new(),
    }
}

/// The groups fixture's Machines (on release "7"), and releases renumbered so that v7 is
/// complete and newest.
fn deployed_world(newest_status: &str) -> (Vec<Release>, Vec<Machine>) {
    let mut list: Vec<Release> = releases().into_iter().skip(2).collect(); // v55, v54, v53
    list[0].version = 7;
    list[0].status = newest_status.into();
    list[1].version = 6;
    list[2].version = 5;
    (list, parse_json("machines", GROUPS).unwrap())
}

fn now() -> jiff::Timestamp {
    "2023-05-01T12:00:00Z".parse().unwrap()
}

#[test]
fn deployed_needs_a_newer_complete_release_with_its_machines_on_it() {
    let (list, machines) = deployed_world("complete");
    let r = judge_deployed("api", "testrun", &target(5), &list, &machines, now());
    assert_eq!(r.status, Status::Pass, "{}", r.line);
    assert_eq!(
        r.line,
        "api v5→v7 (2 started, 1 stopped by auto-stop, 1 stopped standby, 1 suspended by auto-stop)"
    );

    let r = judge_deployed("api", "testrun", &target(7), &list, &machines, now());
    assert_eq!(r.status, Status::Fail);
    assert!(
        r.line.starts_with("testrun: no release since v7 (newest v7); 5 Machines on v7 (image tag deployment-01GQR4GN7EA8G12VE1DBRQG4KQ)"),
        "{}",
        r.line
    );

    for status in ["failed", "interrupted", "running", "pending"] {
        let (list, _) = deployed_world(status);
        let r = judge_deployed("api", "testrun", &target(5), &list, &machines, now());
        assert_eq!(r.status, Status::Fail, "{status}");
        assert!(
            r.line.contains(&format!("v7 is {status}, not complete")),
            "{}",
            r.line
        );
        assert!(r.line.contains("5 Machines on v7"), "{}", r.line);
    }
}

#[test]
fn deployed_names_machines_left_behind() {
    let (list, mut machines) = deployed_world("complete");
    let c = machines[2].config.as_mut().unwrap();
    c.metadata
        .insert("fly_release_version".into(), serde_json::json!("6"));
    let r = judge_deployed("api", "testrun", &target(5), &list, &machines, now());
    assert_eq!(r.status, Status::Fail);
    assert_eq!(
        r.line,
        "testrun v7: machine d5683d34a2258e [worker] started: on v6 (image tag deployment-01GQR4GN7EA8G12VE1DBRQG4KQ), not v7"
    );
}
