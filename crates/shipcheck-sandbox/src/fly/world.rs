//! [`FlyWorld`]: builds a stand-in state directory for tests and the demo, and reads back
//! what the stand-in did.

use std::path::{Path, PathBuf};

use super::state::{
    AppState, FlyState, LogLine, MachineState, ReleaseState, SecretState, SecretsShape,
    read_invocations,
};
use super::write::new_machine_id;

/// The time builder-made releases get unless told otherwise (a Tuesday, inside the seed's
/// deploy window).
pub const DEFAULT_NOW: &str = "2026-11-24T09:00:00Z";

/// A Fly world in a state directory. Builder methods change the in-memory state; `save`
/// writes it; `reload` reads what the stand-in changed.
///
/// ```no_run
/// # use shipcheck_sandbox::FlyWorld;
/// let world = FlyWorld::new("/tmp/fly")
///     .app("acme-production-api", "fra", 2)
///     .secret("acme-production-api", "DATABASE_URL")
///     .staged_secret("acme-production-api", "SENTRY_DSN");
/// world.save().unwrap();
/// let flyctl = world.command(["/path/to/flyctl-standin"]); // → [fly] command
/// ```
#[derive(Clone, Debug)]
pub struct FlyWorld {
    dir: PathBuf,
    /// The world, as last built or reloaded.
    pub state: FlyState,
    now: String,
}

impl FlyWorld {
    /// An empty world whose state lives in `dir` (nothing is written until [`FlyWorld::save`]).
    pub fn new(dir: impl Into<PathBuf>) -> FlyWorld {
        FlyWorld {
            dir: dir.into(),
            state: FlyState::default(),
            now: DEFAULT_NOW.into(),
        }
    }

    /// The world saved in `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> std::io::Result<FlyWorld> {
        let mut w = FlyWorld::new(dir);
        w.reload()?;
        Ok(w)
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The `[fly] command` that runs the stand-in on this world: `program` (the stand-in
    /// binary, or `["/path/shipcheck", "sandbox", "flyctl"]`) followed by `--state DIR`.
    pub fn command<I, S>(&self, program: I) -> Vec<String>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut c: Vec<String> = program.into_iter().map(Into::into).collect();
        c.push("--state".into());
        c.push(self.dir.display().to_string());
        c
    }

    /// Writes the state file.
    pub fn save(&self) -> std::io::Result<()> {
        self.state.save(&self.dir)
    }

    /// Reads the state file again (after the stand-in changed it).
    pub fn reload(&mut self) -> std::io::Result<()> {
        self.state = FlyState::load(&self.dir).map_err(|e| std::io::Error::other(e.0))?;
        Ok(())
    }

    /// Every flyctl invocation so far (arguments after `--state DIR`), oldest first.
    pub fn invocations(&self) -> Vec<Vec<String>> {
        read_invocations(&self.dir)
    }

    /// The image reference builder-made release `version` of `app` gets.
    pub fn image_of(app: &str, version: u64) -> String {
        format!("registry.fly.io/{app}:deployment-01JV{version:08}")
    }

    /// The time builder-made releases get from now on (RFC 3339).
    pub fn at(mut self, now: &str) -> Self {
        self.now = now.into();
        self
    }

    fn app_mut(&mut self, app: &str) -> &mut AppState {
        self.state.apps.entry(app.to_string()).or_default()
    }

    /// An app in `region` with `machines` started machines (group `app`, checks passing) on
    /// release v1 (complete, [`FlyWorld::image_of`]), created at the world's time.
    pub fn app(mut self, app: &str, region: &str, machines: usize) -> Self {
        let now = self.now.clone();
        let mut ids = Vec::new();
        for _ in 0..machines {
            ids.push(new_machine_id(&mut self.state, app));
        }
        let a = self.app_mut(app);
        a.org = "acme".into();
        a.primary_region = region.into();
        a.health_path = Some("/health".into());
        a.releases = vec![ReleaseState {
            version: 1,
            status: "complete".into(),
            image_ref: FlyWorld::image_of(app, 1),
            created_at: now,
            description: "Deploy image".into(),
            user_email: "dev@example.com".into(),
            labels: Default::default(),
        }];
        a.machines = ids
            .into_iter()
            .map(|id| MachineState::started(id, region, "app", 1))
            .collect();
        self
    }

    /// A new release of `app` with `status`; a `complete` one moves every machine to it.
    pub fn release(mut self, app: &str, status: &str) -> Self {
        let now = self.now.clone();
        let a = self.app_mut(app);
        let version = a.newest().map(|r| r.version).unwrap_or(0) + 1;
        a.releases.push(ReleaseState {
            version,
            status: status.into(),
            image_ref: FlyWorld::image_of(app, version),
            created_at: now,
            description: "Deploy image".into(),
            user_email: "dev@example.com".into(),
            labels: Default::default(),
        });
        if status == "complete" {
            for m in &mut a.machines {
                m.release = version;
            }
        }
        self
    }

    /// A deployed secret.
    pub fn secret(self, app: &str, name: &str) -> Self {
        self.secret_with_status(app, name, "Deployed")
    }

    /// Fault: a secret set but not deployed (`Staged`).
    pub fn staged_secret(self, app: &str, name: &str) -> Self {
        self.secret_with_status(app, name, "Staged")
    }

    /// A secret with any status (`Deployed`, `Staged`, `Partial`, `Unknown`).
    pub fn secret_with_status(mut self, app: &str, name: &str, status: &str) -> Self {
        let a = self.app_mut(app);
        a.secrets.retain(|s| s.name != name);
        a.secrets.push(SecretState {
            name: name.into(),
            digest: format!("{:016x}", name.len() * 7919),
            status: status.into(),
        });
        self
    }

    /// Which historical shape `secrets list --json` prints.
    pub fn secrets_shape(mut self, shape: SecretsShape) -> Self {
        self.state.secrets_shape = shape;
        self
    }

    /// An `[env]` entry of the app's config.
    pub fn env(mut self, app: &str, key: &str, value: &str) -> Self {
        self.app_mut(app).env.insert(key.into(), value.into());
        self
    }

    /// A log line (`status_code` 0 for none), on the app's first machine.
    pub fn log(
        mut self,
        app: &str,
        timestamp: &str,
        level: &str,
        message: &str,
        status_code: u16,
    ) -> Self {
        self.app_mut(app).logs.push(LogLine {
            timestamp: timestamp.into(),
            level: level.into(),
            message: message.into(),
            instance: String::new(),
            status_code,
        });
        self
    }

    /// Fault: one more machine, in `region` (the wrong one), on the current release.
    pub fn machine_in_region(mut self, app: &str, region: &str) -> Self {
        let id = new_machine_id(&mut self.state, app);
        let a = self.app_mut(app);
        let release = a.newest_complete().map(|r| r.version).unwrap_or(1);
        a.machines
            .push(MachineState::started(id, region, "app", release));
        self
    }

    /// Fault: the first machine's state (`stopped`, `created`, ...).
    pub fn machine_state(self, app: &str, state: &str) -> Self {
        self.nth_machine_state(app, 0, state)
    }

    /// Machine `n`'s state (`stopped`, `suspended`, `failed`, or one Fly never had). A
    /// Machine that is not started fails its service check, as on Fly.
    pub fn nth_machine_state(mut self, app: &str, n: usize, state: &str) -> Self {
        if let Some(m) = self.app_mut(app).machines.get_mut(n) {
            m.state = state.into();
            if state != "started" && m.service {
                m.checks = vec![super::write::refused_check()];
            }
        }
        self
    }

    /// `auto_stop_machines = "stop"` or `"suspend"` (or `"off"`) on the app's service: idle
    /// Machines may be stopped or suspended.
    pub fn autostop(mut self, app: &str, mode: &str) -> Self {
        for m in self.app_mut(app).machines.iter_mut().filter(|m| m.service) {
            m.autostop = mode.into();
        }
        self
    }

    /// `count` Machines of process group `group` without a service (a worker), started,
    /// on the app's current release, in its primary region.
    pub fn worker(mut self, app: &str, group: &str, count: usize) -> Self {
        for _ in 0..count {
            let id = new_machine_id(&mut self.state, app);
            let a = self.app_mut(app);
            let release = a.newest_complete().map(|r| r.version).unwrap_or(1);
            let mut m = MachineState::started(id, &a.primary_region.clone(), group, release);
            m.service = false;
            m.checks.clear();
            a.machines.push(m);
        }
        self
    }

    /// A standby for the app's first Machine: same group, stopped by design.
    pub fn standby(mut self, app: &str) -> Self {
        let id = new_machine_id(&mut self.state, app);
        let a = self.app_mut(app);
        let Some(first) = a.machines.first().cloned() else {
            return self;
        };
        a.machines.push(MachineState {
            id,
            state: "stopped".into(),
            standby_for: vec![first.id.clone()],
            checks: if first.service {
                vec![super::write::refused_check()]
            } else {
                Vec::new()
            },
            ..first
        });
        self
    }

    /// The image of release `version` of `app` (and its labels).
    pub fn release_image(
        mut self,
        app: &str,
        version: u64,
        image: &str,
        labels: &[(&str, &str)],
    ) -> Self {
        if let Some(r) = self
            .app_mut(app)
            .releases
            .iter_mut()
            .find(|r| r.version == version)
        {
            r.image_ref = image.into();
            r.labels = labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        }
        self
    }

    /// Fault: the first machine's health check is `critical`.
    pub fn failing_check(mut self, app: &str) -> Self {
        if let Some(m) = self.app_mut(app).machines.first_mut() {
            m.checks = vec![super::state::CheckState {
                name: "servicecheck-00-http-8080".into(),
                status: "critical".into(),
                output: "connect: connection refused".into(),
            }];
        }
        self
    }

    /// Fault: `deploy` records a failed release and leaves the Machines on the old one (the
    /// image did not start); it exits 1, or 0 with `--detach`.
    pub fn failing_deploy(mut self, app: &str) -> Self {
        self.app_mut(app).faults.deploy_fails = true;
        self
    }

    /// Fault: `deploy` completes but the machines' checks are critical.
    pub fn unhealthy_deploy(mut self, app: &str) -> Self {
        self.app_mut(app).faults.deploy_unhealthy = true;
        self
    }

    /// Fault: `image` is gone from the registry; deploying it fails.
    pub fn pruned_image(mut self, app: &str, image: &str) -> Self {
        self.app_mut(app).faults.pruned_images.push(image.into());
        self
    }

    /// Fault: `logs` prints its lines, then never returns.
    pub fn hanging_logs(mut self, app: &str) -> Self {
        self.app_mut(app).faults.logs_hang = true;
        self
    }

    /// Fault: `command` (`status`, `releases`, `secrets`, `machines`, `logs`, `config`)
    /// prints garbage instead of JSON.
    pub fn garbage(mut self, app: &str, command: &str) -> Self {
        self.app_mut(app).faults.garbage.push(command.into());
        self
    }

    /// Fault: `command`'s JSON is cut off in the middle.
    pub fn truncated(mut self, app: &str, command: &str) -> Self {
        self.app_mut(app).faults.truncate.push(command.into());
        self
    }

    /// Fault: `command` fails with `stderr` (exit 1).
    pub fn failing(mut self, app: &str, command: &str, stderr: &str) -> Self {
        self.app_mut(app)
            .faults
            .fail
            .insert(command.into(), stderr.into());
        self
    }

    /// The seed's world: `internal-api`, `agent-registration` and `public-api`, each as
    /// `{project}-staging-{name}` and `{project}-production-{name}` in `fra` with two
    /// machines, the same deployed secrets (`DATABASE_URL`, `SENTRY_DSN`) and `[env]`
    /// (`LOG_LEVEL`, `APP_ENV` = the environment).
    pub fn seed(mut self, project: &str) -> Self {
        for name in SEED_APPS {
            for env in ["staging", "production"] {
                let app = format!("{project}-{env}-{name}");
                self = self
                    .app(&app, "fra", 2)
                    .secret(&app, "DATABASE_URL")
                    .secret(&app, "SENTRY_DSN")
                    .env(&app, "LOG_LEVEL", "info")
                    .env(&app, "APP_ENV", env);
            }
        }
        self
    }

    /// Machines of `app` now (after [`FlyWorld::reload`]).
    pub fn machine_count(&self, app: &str) -> usize {
        self.state.apps.get(app).map_or(0, |a| a.machines.len())
    }

    /// The newest release of `app` now: (version, status, image).
    pub fn newest_release(&self, app: &str) -> Option<(u64, String, String)> {
        let r = self.state.apps.get(app)?.newest()?;
        Some((r.version, r.status.clone(), r.image_ref.clone()))
    }
}

/// The seed's apps.
pub const SEED_APPS: [&str; 3] = ["internal-api", "agent-registration", "public-api"];
