//! The Fly state a world starts with: the seed's apps, each for staging and production in
//! `fra`, on release v1 (a day before the world's start), built from `production`'s head
//! (tagged `deployment-<its first 12 hex digits>`), with the shapes a real fleet has:
//! `agent-registration` runs with auto-stop and its second Machine stopped (idle),
//! `internal-api` has a `worker` process group without a public service.

use std::path::Path;

use jiff::Timestamp;

use super::apps::{Apps, Behaviour};
use super::{Scenario, WorldError};
use crate::fly::{ClockSpec, FlyWorld, state::LOGS_DIR};

/// Writes the stand-in's state and registers v1's images (good, built from
/// `production_head`). In `stale-release` every production app's next deploy fails to start.
pub(crate) fn write(
    apps: &Apps,
    fly_dir: &Path,
    clock: ClockSpec,
    start: Timestamp,
    production_head: &str,
    scenario: Scenario,
) -> Result<(), WorldError> {
    let project = apps
        .specs
        .first()
        .map(|s| {
            s.fly_app
                .trim_end_matches(&format!("-{}-{}", s.env, s.name))
        })
        .unwrap_or("maishapoa")
        .to_string();
    let yesterday = start - jiff::SignedDuration::from_hours(24);
    let mut world = FlyWorld::new(fly_dir)
        .at(&yesterday.to_string())
        .seed(&project);
    world.state.clock = Some(clock);
    let tag: String = production_head.chars().take(12).collect();
    for s in &apps.specs {
        if let Some(a) = world.state.apps.get_mut(&s.fly_app) {
            a.health_path = Some(s.health_path.to_string());
        }
        let image = format!("registry.fly.io/{}:deployment-{tag}", s.fly_app);
        world = world.release_image(&s.fly_app, 1, &image, &[]);
        apps.register(&image, Behaviour::good(), production_head);
        world = match s.name {
            "agent-registration" => world
                .autostop(&s.fly_app, "stop")
                .nth_machine_state(&s.fly_app, 1, "stopped"),
            "internal-api" => world.worker(&s.fly_app, "worker", 1),
            _ => world,
        };
        if scenario == Scenario::StaleRelease && s.env == "production" {
            world = world.failing_deploy(&s.fly_app);
        }
    }
    world
        .save()
        .map_err(super::io("write the Fly stand-in's state"))?;
    std::fs::create_dir_all(fly_dir.join(LOGS_DIR)).map_err(super::io("create fly/logs"))?;
    apps.refresh(fly_dir);
    Ok(())
}
