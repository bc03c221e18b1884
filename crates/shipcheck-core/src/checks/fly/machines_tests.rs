//! The fleet judgment against the real shapes (`fixtures/api/fly/`).

use super::*;
use crate::clients::fly::{AppStatus, parse_json};

const GROUPS: &str =
    include_str!("../../../../../fixtures/api/fly/machines-list-flyctl-groups-derived.json");
const STATUS: &str = include_str!("../../../../../fixtures/api/fly/status-derived.json");
const UNREACHABLE: &str =
    include_str!("../../../../../fixtures/api/fly/machine-host-unreachable-derived.json");
const STARTING: &str =
    include_str!("../../../../../fixtures/api/fly/machine-launch-starting-docs-example.json");
const IMAGE: &str = "registry.fly.io/testrun:deployment-01GQR4GN7EA8G12VE1DBRQG4KQ";

fn groups() -> Vec<Machine> {
    parse_json("machines", GROUPS).unwrap()
}

fn v(version: u64) -> Wanted<'static> {
    Wanted {
        version,
        image: IMAGE,
    }
}

fn now() -> Timestamp {
    "2023-05-01T12:00:00Z".parse().unwrap()
}

#[test]
fn the_groups_fixture_is_a_healthy_deploy_of_v7() {
    // Started app and worker Machines, an app Machine stopped by auto-stop (its check
    // critical: it is stopped), a stopped worker standby, a suspended app Machine.
    let f = judge_fleet(&groups(), v(7), now());
    assert_eq!(f.status, FleetStatus::Pass, "{:?}", f.problems);
    assert_eq!(f.counted, 5);
    assert_eq!(
        f.fine,
        "2 started, 1 stopped by auto-stop, 1 stopped standby, 1 suspended by auto-stop"
    );
    let standby = f
        .machines
        .iter()
        .find(|m| m["id"] == "3287355c024585")
        .unwrap();
    assert_eq!(standby["group"], "worker");
    assert!(
        standby["why"]
            .as_str()
            .unwrap()
            .contains("standby for d5683d34a2258e")
    );
}

#[test]
fn machines_on_an_older_release_are_behind_and_named() {
    let f = judge_fleet(&groups(), v(8), now());
    assert_eq!(f.status, FleetStatus::Landing);
    assert_eq!(f.problems.len(), 5);
    assert!(
        f.problems.contains(
            &"machine d5683d34a2258e [worker] started: on v7 (image tag deployment-01GQR4GN7EA8G12VE1DBRQG4KQ), not v8"
                .to_string()
        ),
        "{:?}",
        f.problems
    );
    assert_eq!(
        running_versions(&groups()),
        "5 Machines on v7 (image tag deployment-01GQR4GN7EA8G12VE1DBRQG4KQ)"
    );
}

#[test]
fn a_stopped_machine_nothing_explains_fails() {
    let mut ms = groups();
    // The auto-stopped app Machine without auto-stop: stopped for no reason.
    let c = ms[1].config.as_mut().unwrap();
    for s in &mut c.services {
        s.autostop = crate::clients::fly::Autostop::Off;
    }
    let f = judge_fleet(&ms, v(7), now());
    assert_eq!(f.status, FleetStatus::Fail);
    assert_eq!(
        f.problems,
        vec![
            "machine d5683210c7968e [app] stopped: neither auto-stop nor a standby explains it"
                .to_string()
        ]
    );
}

#[test]
fn failed_wedged_and_unknown_states() {
    let mut ms = groups();
    ms[0].state = MachineState::parse("failed");
    let f = judge_fleet(&ms, v(7), now());
    assert_eq!(f.status, FleetStatus::Fail);
    assert!(
        f.problems[0].contains("[app] failed: the Machine failed"),
        "{:?}",
        f.problems
    );

    // Replacing since its last event (2023-01-26): long past Fly's five minutes.
    let mut ms = groups();
    ms[0].state = MachineState::parse("replacing");
    let f = judge_fleet(&ms, v(7), now());
    assert_eq!(f.status, FleetStatus::Fail);
    assert!(
        f.problems[0].contains("replacing for") && f.problems[0].contains("wedged after 5m"),
        "{:?}",
        f.problems
    );
    // Two minutes in: passing through, a deploy still landing.
    let just = "2023-01-26T22:52:36Z".parse::<Timestamp>().unwrap();
    let f = judge_fleet(&ms, v(7), just + jiff::SignedDuration::from_secs(120));
    assert_eq!(f.status, FleetStatus::Landing, "{:?}", f.problems);

    let mut ms = groups();
    ms[2].state = MachineState::parse("hibernating");
    let f = judge_fleet(&ms, v(7), now());
    assert_eq!(f.status, FleetStatus::Error);
    assert!(
        f.problems[0].contains("a state shipcheck does not know (\"hibernating\")"),
        "{:?}",
        f.problems
    );
}

#[test]
fn a_failing_check_on_a_started_machine_fails() {
    let mut ms = groups();
    ms[0].checks[0].status = "critical".into();
    ms[0].checks[0].output = "connect: connection refused".into();
    let f = judge_fleet(&ms, v(7), now());
    assert_eq!(f.status, FleetStatus::Fail);
    assert!(
        f.problems[0]
            .contains("check servicecheck-00-tcp-4999 critical (connect: connection refused)"),
        "{:?}",
        f.problems
    );
}

#[test]
fn unreachable_hosts_are_unknown_and_detached_machines_do_not_count() {
    let m: Machine = parse_json("machine", UNREACHABLE).unwrap();
    let j = judge(&m, v(7), now());
    assert_eq!(j.verdict, Verdict::Unknown);
    assert!(j.line.contains("host unreachable"), "{}", j.line);

    // A Machine launched through the API with no release metadata: not fly deploy's.
    let m: Machine = parse_json("machine", STARTING).unwrap();
    assert_eq!(judge(&m, v(7), now()).verdict, Verdict::Ignored);
    let f = judge_fleet(&[m], v(7), now());
    assert_eq!(f.status, FleetStatus::Error, "nothing to judge is no pass");
}

#[test]
fn status_fixture_machines() {
    let s: AppStatus = parse_json("status", STATUS).unwrap();
    assert_eq!(s.version, 7);
    let f = judge_fleet(&s.machines, v(7), now());
    assert_eq!(f.status, FleetStatus::Pass, "{:?}", f.problems);
    assert_eq!(f.fine, "1 started, 1 stopped by auto-stop");
}
