//! `shipcheck demo --scenario stale-release`: caught in `verify`, the demo exits 1.

use super::*;

#[test]
fn demo_stale_release_is_caught_in_verify_naming_the_version_it_saw() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("world");
    let (code, out) = demo(&dir, "stale-release", "300");
    assert_eq!(code, 1, "{out}");
    let m = manifest(&dir);
    let merge = git(&m.origin, &["rev-parse", "production"]);
    let before = git(&m.origin, &["rev-parse", "production^1"]);
    let (merge, before) = (merge.trim(), before.trim());
    let (rc, json, err) = run(&dir, &m.env, &["report", "--format", "json"]);
    assert_eq!(rc, 0, "{err}");
    let report: Value = serde_json::from_str(&json).unwrap();
    let s = states(&report);
    let state = |id: &str| s.get(id).map(String::as_str);
    // The workflow went green and the old code answers 200: only the release and the
    // version say what happened.
    for id in [
        "rollout.actions-logs",
        "rollout.fly-status",
        "verify.actions-health",
        "verify.health-200",
    ] {
        assert_eq!(state(id), Some("pass"), "{id}: {s:?}");
    }
    for id in ["verify.apps-deployed", "verify.version-live"] {
        assert_eq!(state(id), Some("fail"), "{id}: {s:?}");
    }
    assert_eq!(state("watch.error-rates"), Some("pending"), "{s:?}");
    let summary = |id: &str| -> String {
        items(&report)
            .into_iter()
            .find(|i| i["id"] == id)
            .and_then(|i| i["summary"].as_str().map(str::to_string))
            .unwrap_or_default()
    };
    let version = summary("verify.version-live");
    assert!(
        version.contains(&format!(
            "internal-api: 6 of 6 answers name \"{before}\", not {} (the promoted commit)",
            &merge[..7]
        )),
        "{version}"
    );
    assert!(
        version.contains(&format!("\"deployment-{}\"", &before[..12])),
        "public-api's Machines' image tag: {version}"
    );
    let deployed = summary("verify.apps-deployed");
    assert!(
        deployed.contains("v2 is failed, not complete")
            && deployed.contains(&format!("on v1 (image tag deployment-{})", &before[..12])),
        "{deployed}"
    );
    assert!(out.contains("v2 is failed, not complete"), "{out}");
    // Nothing was rolled back (nothing to roll back), the run is not signed.
    assert_ne!(report["status"], "signed");
    let slack: Vec<String> = record::read_slack(&dir)
        .into_iter()
        .map(|s| s.text)
        .collect();
    assert!(
        position(&slack, "Deployment stable").is_none(),
        "{slack:#?}"
    );
    let state = FlyState::load(&m.fly_state).unwrap();
    for (app, image) in &m.previous_images {
        let a = &state.apps[app];
        assert!(
            a.machines.iter().all(|x| a.image_of(x.release) == *image),
            "{app}"
        );
    }
}
