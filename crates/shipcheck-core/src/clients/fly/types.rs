//! What flyctl prints, as types. Field names follow `reference/external-apis.md` §1: the
//! GraphQL-derived types are PascalCase (`Version`, `ImageRef`), the Machines-API types
//! snake_case (`region`, `image_ref`), and one document can hold both. Every key also
//! accepts the other casing, missing keys take defaults, and Go's `null` for an empty
//! list reads as empty: a newer or older flyctl must not turn into a parse error over a
//! field shipcheck does not need.

use crate::model::error::Invalid;
use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use super::machine::Machine;

/// Go encodes a nil slice or map as `null`.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `flyctl status --json -a APP` (a Go map: keys sorted, PascalCase; `Machines` snake_case).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AppStatus {
    /// The app name.
    #[serde(rename = "Name", alias = "name", default)]
    pub name: String,
    /// `deployed`, `pending`, `suspended`, ...
    #[serde(rename = "Status", alias = "status", default)]
    pub status: String,
    /// Whether the app is deployed.
    #[serde(rename = "Deployed", alias = "deployed", default)]
    pub deployed: bool,
    /// The current release version (0 if none).
    #[serde(rename = "Version", alias = "version", default)]
    pub version: u64,
    /// `my-app.fly.dev`.
    #[serde(rename = "Hostname", alias = "hostname", default)]
    pub hostname: String,
    /// Active machines (not destroyed), sorted by id descending.
    #[serde(
        rename = "Machines",
        alias = "machines",
        default,
        deserialize_with = "null_default"
    )]
    pub machines: Vec<Machine>,
}

/// One release (`flyctl releases --json`, PascalCase, no json tags in Go).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Release {
    /// Release id.
    #[serde(rename = "ID", alias = "id", default)]
    pub id: String,
    /// Version number.
    #[serde(rename = "Version", alias = "version", default)]
    pub version: u64,
    /// Stable flag.
    #[serde(rename = "Stable", alias = "stable", default)]
    pub stable: bool,
    /// `running`, `complete`, `failed`, `interrupted`, ...
    #[serde(rename = "Status", alias = "status", default)]
    pub status: String,
    /// Description.
    #[serde(rename = "Description", alias = "description", default)]
    pub description: String,
    /// Reason.
    #[serde(rename = "Reason", alias = "reason", default)]
    pub reason: String,
    /// RFC 3339.
    #[serde(
        rename = "CreatedAt",
        alias = "created_at",
        alias = "createdAt",
        default
    )]
    pub created_at: String,
    /// `registry.fly.io/my-app:deployment-…`
    #[serde(rename = "ImageRef", alias = "image_ref", alias = "imageRef", default)]
    pub image_ref: String,
    /// Who made it.
    #[serde(rename = "User", alias = "user", default)]
    pub user: Option<ReleaseUser>,
}

/// `User` of a release.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReleaseUser {
    /// Email.
    #[serde(rename = "Email", alias = "email", default)]
    pub email: String,
    /// Name.
    #[serde(rename = "Name", alias = "name", default)]
    pub name: String,
}

impl Release {
    /// Status `complete`: the only status that counts as deployed, and the only one a
    /// rollback may go back to.
    pub fn is_complete(&self) -> bool {
        self.status.trim().eq_ignore_ascii_case("complete")
    }
    /// Still under way: `running` (flyctl's deploy) or `pending` (apps v2 in 2023, F8).
    pub fn is_in_flight(&self) -> bool {
        ["running", "pending"]
            .iter()
            .any(|s| self.status.trim().eq_ignore_ascii_case(s))
    }
    /// One of the statuses flyctl is known to write (`running`, `complete`, `failed`,
    /// `interrupted`) or `pending`; anything else is reported as it is.
    pub fn is_known_status(&self) -> bool {
        ["running", "pending", "complete", "failed", "interrupted"]
            .iter()
            .any(|s| self.status.trim().eq_ignore_ascii_case(s))
    }
    /// When it was made, if the timestamp parses.
    pub fn created(&self) -> Option<jiff::Timestamp> {
        self.created_at.parse().ok()
    }
}

/// A secret's deployment status (flyctl ≥ v0.4.10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub enum SecretStatus {
    /// On every machine.
    Deployed,
    /// Set, not deployed yet (the next deploy applies it).
    Staged,
    /// On some machines only.
    Partial,
    /// Fly does not know.
    Unknown,
    /// A value this version of shipcheck does not know.
    Other(String),
}

impl From<SecretStatus> for String {
    fn from(s: SecretStatus) -> String {
        s.as_str().to_string()
    }
}

impl SecretStatus {
    /// As flyctl prints it.
    pub fn as_str(&self) -> &str {
        match self {
            SecretStatus::Deployed => "Deployed",
            SecretStatus::Staged => "Staged",
            SecretStatus::Partial => "Partial",
            SecretStatus::Unknown => "Unknown",
            SecretStatus::Other(s) => s,
        }
    }
    /// Set but not (everywhere) deployed.
    pub fn is_pending(&self) -> bool {
        matches!(self, SecretStatus::Staged | SecretStatus::Partial)
    }
}

impl<'de> Deserialize<'de> for SecretStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.to_ascii_lowercase().as_str() {
            "deployed" => SecretStatus::Deployed,
            "staged" => SecretStatus::Staged,
            "partial" => SecretStatus::Partial,
            "unknown" | "" => SecretStatus::Unknown,
            _ => SecretStatus::Other(s),
        })
    }
}

/// One secret (`flyctl secrets list --json`), in any of its three historical shapes:
/// `{Name, Digest, CreatedAt}` (≤ v0.3.177), `{name, digest, updated_at?, created_at?}`
/// (v0.3.178–v0.4.9), `{name, digest, status?}` (≥ v0.4.10; no status over 100 machines).
/// Values are never listed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Secret {
    /// The name.
    #[serde(alias = "Name")]
    pub name: String,
    /// The value's digest.
    #[serde(alias = "Digest", default)]
    pub digest: String,
    /// Deployment status, when flyctl reports one.
    #[serde(alias = "Status", default)]
    pub status: Option<SecretStatus>,
    /// Created (older shapes).
    #[serde(alias = "CreatedAt", default)]
    pub created_at: Option<String>,
    /// Updated (v0.3.178–v0.4.9).
    #[serde(alias = "UpdatedAt", default)]
    pub updated_at: Option<String>,
}

/// One log entry (`flyctl logs --json`): top-level keys lowercase, `meta` PascalCase except
/// `HTTP.Response.status_code`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// RFC 3339 with nanoseconds.
    #[serde(alias = "Timestamp", default)]
    pub timestamp: String,
    /// `info`, `error`, ...
    #[serde(alias = "Level", default)]
    pub level: String,
    /// The line.
    #[serde(alias = "Message", default)]
    pub message: String,
    /// Machine id.
    #[serde(alias = "Instance", default)]
    pub instance: String,
    /// Region.
    #[serde(alias = "Region", default)]
    pub region: String,
    /// Everything else, as sent.
    #[serde(alias = "Meta", default)]
    pub meta: serde_json::Value,
}

impl LogEntry {
    /// `meta.HTTP.Response.status_code` (or a `status_code` directly under `meta`), when
    /// non-zero.
    pub fn status_code(&self) -> Option<u16> {
        let m = &self.meta;
        let v = m
            .pointer("/HTTP/Response/status_code")
            .or_else(|| m.pointer("/http/response/status_code"))
            .or_else(|| m.get("status_code"))?;
        let n = v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))?;
        u16::try_from(n).ok().filter(|n| *n != 0)
    }

    /// When it was logged, if the timestamp parses.
    pub fn at(&self) -> Option<jiff::Timestamp> {
        self.timestamp.parse().ok()
    }
}

/// The parts of `flyctl config show` (the app's remote config, fly.toml as JSON) that
/// shipcheck reads; `raw` keeps all of it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AppConfig {
    /// `app`
    pub app: Option<String>,
    /// `primary_region`
    pub primary_region: Option<String>,
    /// `[env]`, values as text.
    pub env: BTreeMap<String, String>,
    /// The whole document.
    pub raw: serde_json::Value,
}

impl AppConfig {
    /// Reads the document; keys in either casing (`primary_region` / `PrimaryRegion`).
    pub fn from_json(raw: serde_json::Value) -> Result<AppConfig, Invalid> {
        let obj = raw
            .as_object()
            .ok_or_else(|| "expected a JSON object".to_string())?;
        let get = |names: &[&str]| names.iter().find_map(|n| obj.get(*n));
        let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_string);
        let mut env = BTreeMap::new();
        if let Some(serde_json::Value::Object(e)) = get(&["env", "Env"]) {
            for (k, v) in e {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                env.insert(k.clone(), v);
            }
        }
        Ok(AppConfig {
            app: text(get(&["app", "App", "app_name", "AppName"])),
            primary_region: text(get(&["primary_region", "PrimaryRegion"])),
            env,
            raw,
        })
    }
}

#[cfg(test)]
#[path = "types_tests.rs"]
mod tests;
