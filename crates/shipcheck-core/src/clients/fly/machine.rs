//! A Fly Machine as flyctl prints it (`machines list --json`, `status --json`'s `Machines`):
//! fly-go's `Machine` struct re-encoded by flyctl (`fixtures/api/README.md` F1–F5).
//!
//! Everything here is read as an open set: a state, an `autostop` value or a process group
//! shipcheck does not know is kept as printed and reported, never a parse error.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::types::null_default;

/// A Machine's state. Fly's docs list 17 (superfly/docs `machines/machine-states`):
/// persistent `created`, `started`, `stopped`, `suspended`, `failed`; transient `creating`,
/// `starting`, `stopping`, `restarting`, `suspending`, `destroying`, `launch_failed`,
/// `updating`, `replacing`; terminal `destroyed`, `replaced`, `migrated`. Any other value is
/// kept in [`MachineState::Other`] (an empty one when flyctl printed none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MachineState {
    /// Made, never started (a standby, or a Machine a deploy is about to start).
    Created,
    /// Running.
    Started,
    /// Stopped (by auto-stop, a person, or an exit); `fly deploy` updates it without
    /// starting it.
    Stopped,
    /// Suspended (auto-stop `suspend`): a snapshot, resumed on the next request.
    Suspended,
    /// Failed.
    Failed,
    /// Being made.
    Creating,
    /// Starting.
    Starting,
    /// Stopping.
    Stopping,
    /// Restarting.
    Restarting,
    /// Being suspended.
    Suspending,
    /// Being destroyed.
    Destroying,
    /// Its launch failed.
    LaunchFailed,
    /// Its config is being updated.
    Updating,
    /// Being replaced by an update.
    Replacing,
    /// Gone.
    Destroyed,
    /// Replaced by a newer version of itself (version-specific queries only).
    Replaced,
    /// Moved to another host.
    Migrated,
    /// A state this version of shipcheck does not know, as printed (`""`: none printed).
    Other(String),
}

/// What a state means for a deploy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateKind {
    /// `started`.
    Running,
    /// `stopped`, `suspended`, `created`: not running; fine when the Machine is meant to idle
    /// (auto-stop, standby).
    Idle,
    /// On its way somewhere (`starting`, `replacing`, …): give it time, up to
    /// [`MachineState::wedged_after`].
    Transitional,
    /// `failed`, `launch_failed`.
    Broken,
    /// `destroying`, `destroyed`, `replaced`, `migrated`: not part of the app any more.
    Gone,
    /// Not a state shipcheck knows.
    Unknown,
}

const KNOWN: [(&str, MachineState); 17] = [
    ("created", MachineState::Created),
    ("started", MachineState::Started),
    ("stopped", MachineState::Stopped),
    ("suspended", MachineState::Suspended),
    ("failed", MachineState::Failed),
    ("creating", MachineState::Creating),
    ("starting", MachineState::Starting),
    ("stopping", MachineState::Stopping),
    ("restarting", MachineState::Restarting),
    ("suspending", MachineState::Suspending),
    ("destroying", MachineState::Destroying),
    ("launch_failed", MachineState::LaunchFailed),
    ("updating", MachineState::Updating),
    ("replacing", MachineState::Replacing),
    ("destroyed", MachineState::Destroyed),
    ("replaced", MachineState::Replaced),
    ("migrated", MachineState::Migrated),
];

impl MachineState {
    /// Reads a state as flyctl prints it (case and surrounding space ignored).
    pub fn parse(s: &str) -> MachineState {
        let t = s.trim().to_ascii_lowercase();
        KNOWN
            .iter()
            .find(|(name, _)| *name == t)
            .map(|(_, st)| st.clone())
            .unwrap_or_else(|| MachineState::Other(s.to_string()))
    }

    /// As flyctl prints it.
    pub fn as_str(&self) -> &str {
        match self {
            MachineState::Other(s) => s,
            known => KNOWN
                .iter()
                .find(|(_, st)| st == known)
                .map(|(name, _)| *name)
                .unwrap_or(""),
        }
    }

    /// What the state means for a deploy.
    pub fn kind(&self) -> StateKind {
        use MachineState as S;
        match self {
            S::Started => StateKind::Running,
            S::Stopped | S::Suspended | S::Created => StateKind::Idle,
            S::Creating
            | S::Starting
            | S::Stopping
            | S::Restarting
            | S::Suspending
            | S::Updating
            | S::Replacing => StateKind::Transitional,
            S::Failed | S::LaunchFailed => StateKind::Broken,
            S::Destroying | S::Destroyed | S::Replaced | S::Migrated => StateKind::Gone,
            S::Other(_) => StateKind::Unknown,
        }
    }

    /// How long Fly lets the state last before it calls the Machine wedged (docs: `starting`,
    /// `stopping`, `restarting`, `destroying` over 5 minutes, `updating` over 10); the other
    /// passing states are given 5 minutes too. `None` for states that may last.
    pub fn wedged_after(&self) -> Option<Duration> {
        match (self, self.kind()) {
            (MachineState::Updating, _) => Some(Duration::from_secs(600)),
            (MachineState::Created, _) | (_, StateKind::Transitional) => {
                Some(Duration::from_secs(300))
            }
            _ => None,
        }
    }
}

impl Default for MachineState {
    fn default() -> Self {
        MachineState::Other(String::new())
    }
}

impl std::fmt::Display for MachineState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.as_str() {
            "" => f.write_str("(no state)"),
            s => f.write_str(s),
        }
    }
}

impl Serialize for MachineState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MachineState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<serde_json::Value>::deserialize(d)? {
            Some(serde_json::Value::String(s)) => MachineState::parse(&s),
            None | Some(serde_json::Value::Null) => MachineState::default(),
            Some(other) => MachineState::Other(other.to_string()),
        })
    }
}

/// A service's `autostop`: flyctl prints `false` (off), `true` (stop) or `"suspend"` (fly-go
/// `MachineAutostop`); fly.toml spells them `"off"`, `"stop"`, `"suspend"`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Autostop {
    /// Machines keep running.
    #[default]
    Off,
    /// Idle Machines are stopped.
    Stop,
    /// Idle Machines are suspended (or stopped, when they cannot be).
    Suspend,
    /// A value shipcheck does not know, as printed.
    Other(String),
}

impl Autostop {
    /// Idle Machines of the service may be stopped or suspended by Fly.
    pub fn idles(&self) -> bool {
        matches!(self, Autostop::Stop | Autostop::Suspend)
    }
    /// As fly.toml spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Autostop::Off => "off",
            Autostop::Stop => "stop",
            Autostop::Suspend => "suspend",
            Autostop::Other(s) => s,
        }
    }
}

impl Serialize for Autostop {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Autostop {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde_json::Value;
        Ok(match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) | Some(Value::Bool(false)) => Autostop::Off,
            Some(Value::Bool(true)) => Autostop::Stop,
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "off" | "false" | "" => Autostop::Off,
                "stop" | "true" => Autostop::Stop,
                "suspend" => Autostop::Suspend,
                _ => Autostop::Other(s),
            },
            Some(other) => Autostop::Other(other.to_string()),
        })
    }
}

/// Process groups flyctl makes for itself, never part of the app's fleet (fly-go constants).
pub const SPECIAL_GROUPS: [&str; 3] = [
    "fly_app_release_command",
    "fly_app_test_machine_command",
    "fly_app_console",
];

/// The environment variable flyctl sets on a standby: the Machines it stands by for.
pub const STANDBY_ENV: &str = "FLY_STANDBY_FOR";

/// One Machine (`machines list --json`, and `status --json`'s `Machines`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// Machine id.
    #[serde(alias = "ID", alias = "Id", default)]
    pub id: String,
    /// Its name.
    #[serde(alias = "Name", default)]
    pub name: String,
    /// Its state (an open set).
    #[serde(alias = "State", default)]
    pub state: MachineState,
    /// Region code (`fra`).
    #[serde(alias = "Region", default)]
    pub region: String,
    /// The image it runs.
    #[serde(alias = "ImageRef", default, deserialize_with = "null_default")]
    pub image_ref: MachineImageRef,
    /// Its config (missing when the host is unreachable).
    #[serde(alias = "Config", default)]
    pub config: Option<MachineConfig>,
    /// Health checks (`passing`, `warning`, `critical`).
    #[serde(alias = "Checks", default, deserialize_with = "null_default")]
    pub checks: Vec<MachineCheck>,
    /// `ok`, `unknown`, `unreachable`.
    #[serde(alias = "HostStatus", default)]
    pub host_status: String,
    /// Last change (RFC 3339).
    #[serde(alias = "UpdatedAt", default, deserialize_with = "null_default")]
    pub updated_at: String,
    /// What happened to it, newest first (`timestamp` in ms).
    #[serde(alias = "Events", default, deserialize_with = "null_default")]
    pub events: Vec<MachineEvent>,
}

/// `image_ref` of a Machine.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MachineImageRef {
    /// `registry.fly.io`
    #[serde(alias = "Registry", default)]
    pub registry: String,
    /// `my-app`
    #[serde(alias = "Repository", default)]
    pub repository: String,
    /// `deployment-01J…`, or what `fly deploy --image-label` named it.
    #[serde(alias = "Tag", default)]
    pub tag: String,
    /// `sha256:…`
    #[serde(alias = "Digest", default)]
    pub digest: String,
    /// The image's labels (omitted by flyctl when empty): `fly deploy --label K=V`, and the
    /// `GH_SHA`, `GH_REPO`, … flyctl adds when it builds on GitHub Actions.
    #[serde(alias = "Labels", default, deserialize_with = "null_default")]
    pub labels: BTreeMap<String, String>,
}

/// The parts of a Machine's `config` shipcheck reads.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MachineConfig {
    /// `registry.fly.io/my-app:deployment-…`
    #[serde(alias = "Image", default)]
    pub image: String,
    /// `fly_process_group`, `fly_release_version` (a string number), ...
    #[serde(alias = "Metadata", default, deserialize_with = "null_default")]
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// Its environment (`FLY_STANDBY_FOR` on a standby).
    #[serde(alias = "Env", default, deserialize_with = "null_default")]
    pub env: BTreeMap<String, serde_json::Value>,
    /// Services (a worker group has none).
    #[serde(alias = "Services", default, deserialize_with = "null_default")]
    pub services: Vec<MachineService>,
    /// The Machines it stands by for: a standby is stopped by design.
    #[serde(alias = "Standbys", default, deserialize_with = "null_default")]
    pub standbys: Vec<String>,
}

/// One service of a Machine's config.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MachineService {
    /// `tcp`, `udp`.
    #[serde(default, deserialize_with = "null_default")]
    pub protocol: String,
    /// The port inside the Machine.
    #[serde(default)]
    pub internal_port: Option<u64>,
    /// Whether Fly stops or suspends idle Machines.
    #[serde(default)]
    pub autostop: Autostop,
    /// Whether Fly starts them on demand.
    #[serde(default)]
    pub autostart: Option<bool>,
    /// Machines kept running in the primary region.
    #[serde(default)]
    pub min_machines_running: Option<u64>,
}

/// One health check of a Machine.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MachineCheck {
    /// Check name.
    #[serde(alias = "Name", default)]
    pub name: String,
    /// `passing`, `warning` or `critical`.
    #[serde(alias = "Status", default)]
    pub status: String,
    /// The check's output.
    #[serde(alias = "Output", default)]
    pub output: String,
}

/// One event of a Machine.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MachineEvent {
    /// `launch`, `start`, `update`, `exit`, …
    #[serde(
        rename = "type",
        alias = "Type",
        default,
        deserialize_with = "null_default"
    )]
    pub kind: String,
    /// The state it led to.
    #[serde(alias = "Status", default, deserialize_with = "null_default")]
    pub status: String,
    /// When, in ms since the epoch (an RFC 3339 string is read too).
    #[serde(alias = "Timestamp", default)]
    pub timestamp: serde_json::Value,
}

impl MachineEvent {
    /// When it happened, if the timestamp reads.
    pub fn at(&self) -> Option<jiff::Timestamp> {
        match &self.timestamp {
            serde_json::Value::Number(n) => jiff::Timestamp::from_millisecond(n.as_i64()?).ok(),
            serde_json::Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }
}

impl Machine {
    /// The release version the Machine was deployed with (`config.metadata.fly_release_version`).
    pub fn release_version(&self) -> Option<u64> {
        let v = self.config.as_ref()?.metadata.get("fly_release_version")?;
        match v {
            serde_json::Value::String(s) => s.trim().parse().ok(),
            serde_json::Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// The process group: `config.metadata.fly_process_group`, else the older
    /// `process_group`, else `app`.
    pub fn process_group(&self) -> String {
        let meta = self.config.as_ref().map(|c| &c.metadata);
        ["fly_process_group", "process_group"]
            .iter()
            .find_map(|k| meta?.get(*k)?.as_str().filter(|s| !s.is_empty()))
            .unwrap_or("app")
            .to_string()
    }

    /// One of flyctl's own groups (release command, test, console): not part of the fleet.
    pub fn is_special_group(&self) -> bool {
        SPECIAL_GROUPS.contains(&self.process_group().as_str())
    }

    /// Not made by `fly deploy`: it has a config whose metadata names no platform version,
    /// release id or version (flyctl's `status` skips such "detached" Machines).
    pub fn is_detached(&self) -> bool {
        self.config.as_ref().is_some_and(|c| {
            ![
                "fly_platform_version",
                "fly_release_id",
                "fly_release_version",
            ]
            .iter()
            .any(|k| c.metadata.contains_key(*k))
        })
    }

    /// The Machines it stands by for (`config.standbys`, else `FLY_STANDBY_FOR`); empty when
    /// it is not a standby.
    pub fn standby_for(&self) -> Vec<String> {
        let Some(c) = &self.config else {
            return Vec::new();
        };
        if !c.standbys.is_empty() {
            return c.standbys.clone();
        }
        c.env
            .get(STANDBY_ENV)
            .and_then(|v| v.as_str())
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The strongest `autostop` of its services (`suspend` over `stop` over `off`).
    pub fn autostop(&self) -> Autostop {
        let services = self.config.as_ref().map(|c| c.services.as_slice());
        let all = services.unwrap_or_default();
        if all.iter().any(|s| s.autostop == Autostop::Suspend) {
            Autostop::Suspend
        } else if all.iter().any(|s| s.autostop == Autostop::Stop) {
            Autostop::Stop
        } else {
            all.iter()
                .map(|s| s.autostop.clone())
                .find(|a| matches!(a, Autostop::Other(_)))
                .unwrap_or(Autostop::Off)
        }
    }

    /// Whether it has any service (a worker group often has none).
    pub fn has_services(&self) -> bool {
        self.config.as_ref().is_some_and(|c| !c.services.is_empty())
    }

    /// The image as one reference: `config.image`, else `registry/repository:tag`.
    pub fn image(&self) -> String {
        if let Some(c) = &self.config
            && !c.image.is_empty()
        {
            return c.image.clone();
        }
        let r = &self.image_ref;
        if r.repository.is_empty() {
            return String::new();
        }
        let mut s = if r.registry.is_empty() {
            r.repository.clone()
        } else {
            format!("{}/{}", r.registry, r.repository)
        };
        if !r.tag.is_empty() {
            s.push(':');
            s.push_str(&r.tag);
        }
        s
    }

    /// The image's tag: `image_ref.tag`, else the tag of `config.image`.
    pub fn image_tag(&self) -> String {
        if !self.image_ref.tag.is_empty() {
            return self.image_ref.tag.clone();
        }
        image_tag(&self.image())
    }

    /// Whether it still belongs to the app (not destroyed, replaced or migrated).
    pub fn is_active(&self) -> bool {
        self.state.kind() != StateKind::Gone
    }

    /// The checks that are not `passing`.
    pub fn failing_checks(&self) -> Vec<&MachineCheck> {
        self.checks
            .iter()
            .filter(|c| !c.status.eq_ignore_ascii_case("passing"))
            .collect()
    }

    /// Since when it has been as it is: its newest event, else `updated_at`.
    pub fn since(&self) -> Option<jiff::Timestamp> {
        let event = self.events.iter().filter_map(MachineEvent::at).max();
        let updated = self.updated_at.parse::<jiff::Timestamp>().ok();
        event.max(updated)
    }
}

/// The tag of an image reference (`registry.fly.io/app:TAG`, `app@sha256:…` has none).
pub fn image_tag(image: &str) -> String {
    let name = image.split('@').next().unwrap_or("");
    let last = name.rsplit('/').next().unwrap_or("");
    last.split_once(':')
        .map(|(_, t)| t.to_string())
        .unwrap_or_default()
}
