//! The stand-in's world, one JSON file (`state.json`) in the state directory, and the
//! invocation log (`invocations.jsonl`) beside it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The state file's name inside the state directory.
pub const STATE_FILE: &str = "state.json";
/// The invocation log's name inside the state directory.
pub const INVOCATIONS_FILE: &str = "invocations.jsonl";

/// Which historical shape `secrets list --json` prints (`reference/external-apis.md` §1.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretsShape {
    /// ≥ v0.4.10: `{name, digest, status}`.
    #[default]
    Current,
    /// ≥ v0.4.10 with over 100 machines: `{name, digest}`.
    NoStatus,
    /// v0.3.178 – v0.4.9: `{name, digest, updated_at}`.
    MachinesApi,
    /// ≤ v0.3.177: `{Name, Digest, CreatedAt}`.
    Graphql,
}

/// Everything the stand-in knows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FlyState {
    /// Apps by Fly app name.
    pub apps: BTreeMap<String, AppState>,
    /// The shape of `secrets list --json`.
    pub secrets_shape: SecretsShape,
    /// Machines created so far (for new ids).
    pub machine_serial: u64,
    /// How long a hanging call sleeps before giving up by itself (default 300 s).
    pub hang_seconds: Option<u64>,
    /// The world's clock, when it is not the wall clock (a rehearsal's scaled time): release
    /// times are stamped with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockSpec>,
}

/// A scaled clock: `start + (wall now − since) × speed` (as `[clock]` in `shipcheck.toml`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClockSpec {
    /// The wall instant the scaled time counts from.
    pub since: jiff::Timestamp,
    /// The instant `since` stands for.
    pub start: jiff::Timestamp,
    /// How many times faster than the wall clock.
    pub speed: f64,
}

impl ClockSpec {
    /// The clock.
    pub fn clock(&self) -> shipcheck_core::model::clock::AnchoredClock {
        shipcheck_core::model::clock::AnchoredClock::new(self.since, self.start, self.speed)
    }
}

/// One Fly app.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppState {
    /// Organization slug.
    pub org: String,
    /// `primary_region` of its config.
    pub primary_region: String,
    /// Machines (destroyed ones are removed).
    pub machines: Vec<MachineState>,
    /// Releases, oldest first.
    pub releases: Vec<ReleaseState>,
    /// Secrets (names, digests, status).
    pub secrets: Vec<SecretState>,
    /// `[env]` of its config.
    pub env: BTreeMap<String, String>,
    /// The `http_service` check path of its config (`/health`).
    pub health_path: Option<String>,
    /// Log lines, oldest first.
    pub logs: Vec<LogLine>,
    /// Fault knobs.
    pub faults: Faults,
}

/// One machine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MachineState {
    /// 14 hex digits.
    pub id: String,
    /// Region code.
    pub region: String,
    /// `started`, `stopped`, `suspended`, ... (any of Fly's states, or one it never had).
    pub state: String,
    /// Process group (`app`).
    pub process_group: String,
    /// The release version it runs.
    pub release: u64,
    /// Health checks.
    pub checks: Vec<CheckState>,
    /// Whether it has the app's HTTP service (a worker group often has none).
    pub service: bool,
    /// Its service's `auto_stop_machines`: `""`/`off`, `stop` or `suspend`.
    pub autostop: String,
    /// The Machines it stands by for: a standby (`config.standbys`, `FLY_STANDBY_FOR`).
    pub standby_for: Vec<String>,
}

impl Default for MachineState {
    fn default() -> Self {
        MachineState {
            id: String::new(),
            region: String::new(),
            state: "started".into(),
            process_group: "app".into(),
            release: 0,
            checks: Vec::new(),
            service: true,
            autostop: String::new(),
            standby_for: Vec::new(),
        }
    }
}

impl MachineState {
    /// A started Machine of `group` on `release`, with the app's service and its passing
    /// check.
    pub fn started(id: String, region: &str, group: &str, release: u64) -> MachineState {
        MachineState {
            id,
            region: region.into(),
            process_group: group.into(),
            release,
            checks: vec![super::write::passing_check()],
            ..MachineState::default()
        }
    }
}

/// One machine health check.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CheckState {
    /// Name.
    pub name: String,
    /// `passing`, `warning`, `critical`.
    pub status: String,
    /// Output.
    pub output: String,
}

/// One release.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReleaseState {
    /// Version.
    pub version: u64,
    /// `complete`, `failed`, `running`, `interrupted`.
    pub status: String,
    /// Image reference.
    pub image_ref: String,
    /// RFC 3339.
    pub created_at: String,
    /// Description.
    pub description: String,
    /// Who.
    pub user_email: String,
    /// The image's labels (`image_ref.labels` of the Machines that run it).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// One secret.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecretState {
    /// Name.
    pub name: String,
    /// Digest of the value.
    pub digest: String,
    /// `Deployed`, `Staged`, `Partial`, `Unknown`.
    pub status: String,
}

/// One log line.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogLine {
    /// RFC 3339.
    pub timestamp: String,
    /// `info`, `error`, ...
    pub level: String,
    /// The text.
    pub message: String,
    /// Machine id (empty: the app's first machine).
    pub instance: String,
    /// HTTP status (0: none).
    pub status_code: u16,
}

/// Fault knobs of one app. Command names: `status`, `releases`, `secrets`, `machines`,
/// `logs`, `config`, `deploy`, `scale`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Commands that print garbage instead of JSON (exit 0).
    pub garbage: Vec<String>,
    /// Commands whose JSON is cut off in the middle (exit 0).
    pub truncate: Vec<String>,
    /// Commands that fail: command → the error printed on stderr (exit 1).
    pub fail: BTreeMap<String, String>,
    /// `deploy` records a failed release and leaves the Machines as they are (the image did
    /// not start); it exits 1, or 0 with `--detach` (flyctl does not wait to see).
    pub deploy_fails: bool,
    /// `deploy` completes but the machines' checks are critical.
    pub deploy_unhealthy: bool,
    /// Images no longer in the registry: deploying one fails.
    pub pruned_images: Vec<String>,
    /// `logs` prints its lines and then never returns.
    pub logs_hang: bool,
}

/// Why the state could not be used.
#[derive(Debug)]
pub struct StateError(pub String);

/// The directory (inside the state directory) the running world appends request logs to:
/// one `APP.jsonl` per Fly app, one [`LogLine`] per line.
pub const LOGS_DIR: &str = "logs";
/// The lock file serializing commands that change the state.
pub const LOCK_FILE: &str = "state.lock";

impl FlyState {
    /// "Now" in this world.
    pub fn now(&self) -> jiff::Timestamp {
        match &self.clock {
            Some(c) => c.clock().at(jiff::Timestamp::now()),
            None => jiff::Timestamp::now(),
        }
    }

    /// Reads `DIR/state.json` (a missing file is an empty world).
    pub fn load(dir: &Path) -> Result<FlyState, StateError> {
        let path = dir.join(STATE_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| StateError(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FlyState::default()),
            Err(e) => Err(StateError(format!("{}: {e}", path.display()))),
        }
    }

    /// Writes `DIR/state.json` atomically (write then rename).
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        let tmp = dir.join(format!("{STATE_FILE}.{}.tmp", std::process::id()));
        std::fs::write(&tmp, text)?;
        std::fs::rename(tmp, dir.join(STATE_FILE))
    }
}

impl AppState {
    /// The newest release.
    pub fn newest(&self) -> Option<&ReleaseState> {
        self.releases.iter().max_by_key(|r| r.version)
    }
    /// The newest complete release.
    pub fn newest_complete(&self) -> Option<&ReleaseState> {
        self.releases
            .iter()
            .filter(|r| r.status == "complete")
            .max_by_key(|r| r.version)
    }
    /// The image of release `version`.
    pub fn image_of(&self, version: u64) -> String {
        self.release(version)
            .map(|r| r.image_ref.clone())
            .unwrap_or_default()
    }
    /// Release `version`.
    pub fn release(&self, version: u64) -> Option<&ReleaseState> {
        self.releases.iter().find(|r| r.version == version)
    }
}

/// Holds the state directory's write lock (an OS file lock, released when the process
/// ends however it ends) while a command reads, changes and saves the state.
pub struct StateLock {
    _file: std::fs::File,
}

impl StateLock {
    /// Waits (bounded: 30 s) for the lock of `dir`.
    pub fn acquire(dir: &Path) -> std::io::Result<StateLock> {
        std::fs::create_dir_all(dir)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(LOCK_FILE))?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(StateLock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(std::io::Error::other(
                        "another flyctl stand-in has held the state lock for 30 s",
                    ));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(e),
            }
        }
    }
}

/// The request log lines the running world appended for `app` (unreadable lines skipped).
pub fn world_logs(dir: &Path, app: &str) -> Vec<LogLine> {
    let Ok(text) = std::fs::read_to_string(dir.join(LOGS_DIR).join(format!("{app}.jsonl"))) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| serde_json::from_str::<LogLine>(l).ok())
        .collect()
}

/// Appends one invocation (`{"argv": [...], "at": "..."}`) to `DIR/invocations.jsonl`.
pub fn log_invocation(dir: &Path, argv: &[String]) -> std::io::Result<()> {
    let line = serde_json::json!({ "argv": argv, "at": jiff::Timestamp::now().to_string() });
    let mut text = line.to_string();
    text.push('\n');
    std::fs::create_dir_all(dir)?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(INVOCATIONS_FILE))?;
    f.write_all(text.as_bytes())
}

/// Every invocation logged in `DIR`, oldest first (unreadable lines skipped).
pub fn read_invocations(dir: &Path) -> Vec<Vec<String>> {
    let Ok(text) = std::fs::read_to_string(dir.join(INVOCATIONS_FILE)) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| serde_json::from_value(v.get("argv")?.clone()).ok())
        .collect()
}
