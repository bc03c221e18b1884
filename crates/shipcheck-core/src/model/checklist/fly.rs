//! Check specifications of the Fly checks (`type = "fly.region"`, ...). The checks
//! themselves are in [`crate::checks::fly`].

use serde::{Deserialize, Serialize};

fn production() -> String {
    "production".into()
}
fn staging() -> String {
    "staging".into()
}

/// `fly.region`: every machine of every app of `env` is in the app's `region` (or in one of
/// `regions`, when given).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlyRegionCheck {
    /// The environment (default `production`).
    #[serde(default = "production")]
    pub env: String,
    /// Allowed regions for every app; empty → each app's own `region`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
}

/// `fly.secrets`: each app of `env` has its `required_secrets` and every secret name its
/// counterpart in `compare_with` has; `Staged`/`Partial` secrets are reported.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlySecretsCheck {
    /// The environment checked (default `production`).
    #[serde(default = "production")]
    pub env: String,
    /// The environment whose names it must have (default `staging`; `""` for none).
    #[serde(default = "staging")]
    pub compare_with: String,
    /// A `Staged` or `Partial` secret fails the check (default: reported only, since the
    /// next deploy applies staged secrets).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fail_on_pending: bool,
}

/// `fly.env`: the differences between the apps' configs (`[env]`, primary region) in
/// `compare_with` and in `env`. Evidence for a person; passes whenever it could read both.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlyEnvCheck {
    /// The environment (default `production`).
    #[serde(default = "production")]
    pub env: String,
    /// The one it is compared with (default `staging`).
    #[serde(default = "staging")]
    pub compare_with: String,
}

/// What `fly.releases` does.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ReleasesMode {
    /// Record each app's current release as the run's rollback target
    /// (`preflight.rollback-ready`).
    #[default]
    Record,
    /// Each app has a release newer than the recorded target, status `complete`
    /// (`verify.apps-deployed`).
    Deployed,
}

/// `fly.releases`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlyReleasesCheck {
    /// The environment (default `production`).
    #[serde(default = "production")]
    pub env: String,
    /// `record` (default) or `deployed`.
    #[serde(default)]
    pub mode: ReleasesMode,
}

/// `fly.status`: each app's machines started, on the current release (newer than the
/// recorded rollback target when the run has one), checks passing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlyStatusCheck {
    /// The environment (default `production`).
    #[serde(default = "production")]
    pub env: String,
    /// How long to keep watching while a deploy is still landing (machines not started yet,
    /// or still on the release from before the deploy): re-read every 10 s, then fail with
    /// what was seen (default 15m; "0s" reads once). Keep it under the item's timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<crate::model::duration::Span>,
}

impl FlyStatusCheck {
    /// The default for `wait`.
    pub const DEFAULT_WAIT: std::time::Duration = std::time::Duration::from_secs(15 * 60);
}

/// `fly.logs`: each app's logs over `[fly] logs_window` after its newest release, scanned
/// for `[fly.error_patterns]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlyLogsCheck {
    /// The environment (default `production`).
    #[serde(default = "production")]
    pub env: String,
    /// Lines quoted per app in the evidence (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_lines: Option<usize>,
}

/// `fly.version`: every app of `env` serves the promoted commit, read where each app's
/// `version` says (the health answer, sampled `samples` times, or each Machine's image).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlyVersionCheck {
    /// The environment (default `production`).
    #[serde(default = "production")]
    pub env: String,
    /// Health answers read per app (default 6, at most 50), so a half-rolled deploy shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<u32>,
}

impl FlyVersionCheck {
    /// The default for `samples`.
    pub const DEFAULT_SAMPLES: u32 = 6;
    /// The most `samples` may be.
    pub const MAX_SAMPLES: u32 = 50;
}

#[cfg(test)]
mod tests {
    use super::super::{CheckSpec, Checklist};
    use super::*;

    #[test]
    fn builtin_fly_items_are_wired() {
        let c = Checklist::builtin();
        for id in [
            "prepare.secrets",
            "prepare.region",
            "prepare.region-verified",
            "preflight.rollback-ready",
            "rollout.fly-status",
            "verify.apps-deployed",
            "verify.version-live",
            "verify.logs-clean",
        ] {
            let item = c.get(id).unwrap();
            assert!(item.is_automatic(), "{id}");
            assert!(
                item.check.as_ref().unwrap().type_name().starts_with("fly."),
                "{id}"
            );
        }
        let env = c.get("prepare.env-reviewed").unwrap();
        assert!(
            env.is_ticked_by_person(),
            "env review stays a person's tick"
        );
        assert!(matches!(env.check, Some(CheckSpec::FlyEnv(_))));
        assert!(matches!(
            c.get("verify.apps-deployed").unwrap().check,
            Some(CheckSpec::FlyReleases(FlyReleasesCheck {
                mode: ReleasesMode::Deployed,
                ..
            }))
        ));
    }

    #[test]
    fn specs_parse_with_dotted_type_names() {
        let s: CheckSpec =
            toml::from_str("type = \"fly.secrets\"\nfail_on_pending = true").unwrap();
        assert_eq!(s.type_name(), "fly.secrets");
        assert!(toml::from_str::<CheckSpec>("type = \"fly.region\"\nregion = \"fra\"").is_err());
    }
}
