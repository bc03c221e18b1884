//! `fly.status` (`rollout.fly-status`): follows each app until its deploy settles (a release
//! newer than the one recorded before the deploy, no longer running or pending), then checks
//! that every Machine that should run the app's newest **complete** release is on it, started
//! (checks passing) or idle by design (auto-stop, standby). A failed or interrupted new release
//! leaves the Machines on the previous complete one: this check says so and judges them;
//! `verify.apps-deployed` and `verify.version-live` fail the release itself.

use serde_json::json;

use crate::checks::fly::FlyApps;
use crate::checks::fly::machines::{Wanted, judge_fleet, running_versions};
use crate::checks::fly::releases::{release_json, targets_of};
use crate::checks::fly::{AppResult, combine, fly_apps, with};
use crate::checks::join_all;
use crate::clients::fly::{Fly, Machine, Release};
use crate::model::checklist::FlyStatusCheck;
use crate::model::outcome::{Outcome, Status};

/// How often `fly.status` reads again while a deploy lands.
const STATUS_POLL: std::time::Duration = std::time::Duration::from_secs(10);

/// `fly.status`.
pub async fn status(
    spec: &FlyStatusCheck,
    flyapps: &FlyApps<'_>,
    run: Option<&crate::journal::state::RunState>,
) -> Outcome {
    let apps = match fly_apps(flyapps, &spec.env) {
        Ok(a) => a,
        Err(o) => return o,
    };
    let targets = targets_of(run).unwrap_or_default();
    let fly = &flyapps.fly;
    let wait = spec
        .wait
        .map(|w| w.get())
        .unwrap_or(FlyStatusCheck::DEFAULT_WAIT);
    let started = flyapps.clock.now();
    // Bounded in time (`wait`) and in count (one read every 10 s).
    let max_reads = (wait.as_secs() / STATUS_POLL.as_secs())
        .saturating_add(1)
        .min(1000);
    let mut reads = 0;
    let results = loop {
        let futs = apps.iter().map(|(app, fly_app)| {
            let before = targets
                .iter()
                .find(|t| t.fly_app == *fly_app)
                .map(|t| t.version);
            status_app(flyapps, fly, &app.name, fly_app, before)
        });
        let results = join_all(futs.collect()).await;
        reads += 1;
        // Only a deploy that is still landing is waited for; an error (flyctl could not
        // answer, a state nobody knows) is reported at once.
        let landing =
            results.iter().any(|r| r.landing) && results.iter().all(|r| r.status != Status::Error);
        let waited = flyapps.clock.now().duration_since(started).unsigned_abs();
        if !landing || reads >= max_reads || waited + STATUS_POLL > wait {
            break results;
        }
        flyapps.clock.sleep(STATUS_POLL).await;
    };
    combine(
        flyapps,
        results,
        |r| {
            let parts: Vec<String> = r.iter().map(|r| r.line.clone()).collect();
            format!("Machines on the release: {}", parts.join("; "))
        },
        serde_json::Map::new(),
    )
}

async fn status_app(
    flyapps: &FlyApps<'_>,
    fly: &Fly,
    name: &str,
    fly_app: &str,
    before: Option<u64>,
) -> AppResult {
    let base = json!({ "app": name, "fly_app": fly_app, "version_before": before });
    let (s, list) = tokio::join!(fly.status(fly_app), fly.releases(fly_app));
    match (s, list) {
        (Ok(s), Ok(list)) => judge_app(
            name,
            fly_app,
            before,
            &s.machines,
            &list,
            flyapps.clock.now(),
        ),
        (Err(e), _) | (_, Err(e)) => AppResult::new(
            Status::Error,
            e.to_string(),
            with(base, "error", json!(e.to_string())),
        ),
    }
}

/// One app's Machines against its newest complete release, once the deploy after `before`
/// (the version recorded before it) has settled.
pub(crate) fn judge_app(
    name: &str,
    fly_app: &str,
    before: Option<u64>,
    machines: &[Machine],
    list: &[Release],
    now: jiff::Timestamp,
) -> AppResult {
    let base = json!({ "app": name, "fly_app": fly_app, "version_before": before });
    let Some(newest) = list.first() else {
        return AppResult::new(Status::Error, format!("{fly_app} lists no releases"), base);
    };
    let mut evidence = with(base, "newest", release_json(newest));
    if let Some(b) = before
        && newest.version <= b
    {
        return AppResult::landing(
            format!(
                "{fly_app}: no release since v{b} yet; {}",
                running_versions(machines)
            ),
            evidence,
        );
    }
    if newest.is_in_flight() {
        return AppResult::landing(
            format!(
                "{fly_app}: v{} is {}; {}",
                newest.version,
                newest.status,
                running_versions(machines)
            ),
            evidence,
        );
    }
    let Some(current) = list.iter().find(|r| r.is_complete()) else {
        return AppResult::new(
            Status::Fail,
            format!(
                "{fly_app}: no complete release among the last {} (newest v{} is {}); {}",
                list.len(),
                newest.version,
                newest.status,
                running_versions(machines)
            ),
            evidence,
        );
    };
    let note = (current.version != newest.version).then(|| {
        format!(
            "v{} {}{}: no Machine should run it",
            newest.version,
            newest.status,
            if newest.is_known_status() {
                ""
            } else {
                " (a status shipcheck does not know)"
            }
        )
    });
    let wanted = Wanted {
        version: current.version,
        image: &current.image_ref,
    };
    let fleet = judge_fleet(machines, wanted, now);
    evidence = with(evidence, "current", release_json(current));
    let mut ok = format!("{name} v{}: {}", current.version, fleet.fine);
    if let Some(n) = note {
        ok = format!("{ok} ({n})");
        evidence = with(evidence, "note", json!(n));
    }
    fleet.result(ok, fly_app, evidence, true)
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
