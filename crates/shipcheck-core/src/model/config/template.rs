//! The commented `shipcheck.toml` that `shipcheck init` writes: the seed's setup (project
//! `maishapoa`, three apps on Fly.io in `fra`, staging and production, the Tue–Thu 10:00–14:00
//! window) with the time zone written out explicitly.

use std::fmt::Write as _;

/// The apps of the seed: short name and health path.
const APPS: [(&str, &str); 3] = [
    ("internal-api", "/api/health"),
    ("agent-registration", "/"),
    ("public-api", "/"),
];

/// The system's IANA time zone (`Europe/Berlin`), or `UTC` when it cannot be told or is not
/// one shipcheck can look up again.
pub fn system_timezone() -> String {
    let tz = jiff::tz::TimeZone::system();
    match tz.iana_name() {
        Some(name) if jiff::tz::TimeZone::get(name).is_ok() => name.to_string(),
        _ => "UTC".into(),
    }
}

/// One app the template lists.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateApp {
    /// `staging` or `production`.
    pub env: String,
    /// Short name.
    pub name: String,
    /// The Fly app.
    pub fly_app: String,
    /// The health endpoint.
    pub health_url: String,
    /// Fly region.
    pub region: String,
}

/// The seed's apps: three apps in staging and production, `maishapoa-{env}-{name}`, in `fra`.
pub fn seed_apps() -> Vec<TemplateApp> {
    let mut out = Vec::new();
    for env in ["staging", "production"] {
        for (name, health) in APPS {
            let fly = format!("maishapoa-{env}-{name}");
            out.push(TemplateApp {
                env: env.into(),
                name: name.into(),
                health_url: format!("https://{fly}.fly.dev{health}"),
                fly_app: fly,
                region: "fra".into(),
            });
        }
    }
    out
}

/// The commented config for the seed's setup, with `timezone` as the project's and the
/// window's time zone.
pub fn init_template(timezone: &str) -> String {
    init_template_with(timezone, "maishapoa", &seed_apps())
}

/// The seed's config, for a repository where init found no Fly config file: it says so at
/// the top, so nobody mistakes the seed's apps for their own.
pub fn init_template_no_fly(timezone: &str) -> String {
    seed_with_note(
        timezone,
        "maishapoa",
        &seed_apps(),
        "#\n# TODO: no Fly config file (fly.toml, fly.*.toml) was found, so the apps below are the\n\
         # seed team's example (maishapoa, three apps in fra), not yours: replace them with your\n\
         # Fly apps, or run `shipcheck init --force` where your fly.toml files are.\n",
    )
}

/// The commented config for `project` with these apps (the seed's, or apps a test gives).
pub fn init_template_with(timezone: &str, project: &str, apps: &[TemplateApp]) -> String {
    seed_with_note(timezone, project, apps, "")
}

fn seed_with_note(timezone: &str, project: &str, apps: &[TemplateApp], note: &str) -> String {
    let mut out = head(timezone, project, note);
    for env in ["staging", "production"] {
        let _ = write!(out, "\n{}", section_rule(env));
        for app in apps.iter().filter(|a| a.env == env) {
            let q = |v: &str| toml::Value::String(v.to_string()).to_string();
            let _ = write!(
                out,
                r#"
[[environments.{env}.apps]]
name = {}
fly_app = {}
health_url = {}
expect_status = 200
region = {}
required_secrets = ["DATABASE_URL", "SENTRY_DSN"]
"#,
                q(&app.name),
                q(&app.fly_app),
                q(&app.health_url),
                q(&app.region),
            );
        }
    }
    out.push_str(FOOTER);
    out
}

/// `# ── production ───…`
pub(crate) fn section_rule(env: &str) -> String {
    format!("# ── {env} ──────────────────────────────────────────────────────────────\n")
}

/// Everything before the apps: project, git, window, contacts and the commented defaults.
/// `found` is a comment block (each line starting with `#`) placed after the first lines.
pub(crate) fn head(timezone: &str, project: &str, found: &str) -> String {
    let tz = toml::Value::String(timezone.to_string()).to_string();
    let project = toml::Value::String(project.to_string()).to_string();
    let directive = crate::model::config::schema::SCHEMA_DIRECTIVE;
    format!(
        r#"{directive}
# shipcheck.toml — how this team deploys to production.
#
# `shipcheck config check` validates this file, `shipcheck plan` shows the checklist it
# resolves to. Every key is described in docs/config.md. Replace the placeholders
# (contacts, URLs) with your own. The first line points TOML editors (Taplo, Even Better
# TOML) at shipcheck.schema.json, beside this file, for completion and validation
# (`shipcheck config schema -o shipcheck.schema.json` refreshes it after an upgrade).
{found}
[project]
name = {project}
# IANA time zone for the times shipcheck shows, and the window's zone unless it sets one.
timezone = {tz}

[git]
repo = "."                 # the repository, relative to this file
staging = "staging"        # tested here...
production = "production"  # ...and merged here with --no-ff to deploy
remote = "origin"

# When deploys may start: Tuesday to Thursday, 10:00 to 14:00, in this time zone.
# Outside it a run needs `--override-window --reason TEXT`, which is recorded.
[window]
days = ["tue", "wed", "thu"]
start = "10:00"
end = "14:00"
timezone = {tz}

# Printed in every incident. Any role name works.
[contacts]
team_lead = "Team Lead <team-lead@example.com>"
devops = "DevOps <devops@example.com>"
on_call = "On-call <on-call@example.com>"

# How checks run (these are the defaults).
# [engine]
# concurrency = 16
# check_timeout = "5m"

# The watch after the deploy (these are the defaults; docs/watch.md explains the rules).
# [monitor]
# interval = "15m"          # a tick every 15 minutes...
# duration = "2h"           # ...for 2 hours
# sample_every = "5s"       # the fast signals sampled this often (the slow at their own pace)
# logs_window = "5m"        # verify waits this long after the rollout
# consecutive_failures = 3  # failing samples in a row before a signal counts

# What an incident does (the seed's policy). Critical rolls back; high asks after the timer.
# [incident]
# auto_rollback = false
# rollback_strategy = "platform"   # or "git-revert"
# high_decision_timer = "30m"
# review_time = "10:00"            # the post-deployment review, next working day
"#
    )
}

/// Everything after the apps: how to change the built-in checklist.
pub(crate) const FOOTER: &str = r#"
# ── Changing the built-in checklist ───────────────────────────────────────────
# The built-in checklist is the seed checklist, a version check, a baseline check and two
# markers: 62 items
# (`shipcheck plan` lists their ids). Uncomment to remove, retune or add items.
#
# [checklist]
# disable = ["prepare.feature-flags"]
#
# [checklist.override."prepare.tests"]
# check = { type = "command", argv = ["pnpm", "test", "--run"], timeout = "20m" }
#
# [[checklist.items]]
# id = "verify.login-flow"
# phase = "verify"
# title = "Login flow answers"
# kind = "check"
# check = { type = "http", url = "https://maishapoa-production-public-api.fly.dev/", expect_status = 200 }
"#;

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::model::config::load_str;

    #[test]
    fn template_loads_without_problems() {
        let text = init_template("Europe/Berlin");
        let loaded = load_str(Path::new("shipcheck.toml"), &text)
            .unwrap_or_else(|e| panic!("{}", e.render()));
        let c = &loaded.config;
        assert_eq!(c.project.name, "maishapoa");
        assert_eq!(c.window.timezone.as_deref(), Some("Europe/Berlin"));
        for env in ["staging", "production"] {
            let apps = &c.environments[env].apps;
            let names: Vec<&str> = apps.iter().map(|a| a.name.as_str()).collect();
            assert_eq!(names, ["internal-api", "agent-registration", "public-api"]);
            assert!(apps.iter().all(|a| a.region.as_deref() == Some("fra")));
        }
        assert_eq!(
            c.environments["production"].apps[0].health_url.as_deref(),
            Some("https://maishapoa-production-internal-api.fly.dev/api/health")
        );
        assert_eq!(loaded.checklist.items.len(), 62);
    }

    #[test]
    fn template_writes_the_time_zone_out() {
        let text = init_template("Africa/Nairobi");
        assert!(text.contains("timezone = \"Africa/Nairobi\""), "{text}");
        assert_eq!(text.matches("Africa/Nairobi").count(), 2);
        // The system zone is always one the loader accepts.
        let sys = system_timezone();
        load_str(Path::new("shipcheck.toml"), &init_template(&sys))
            .unwrap_or_else(|e| panic!("{sys}: {}", e.render()));
    }

    #[test]
    fn template_checklist_example_loads_when_uncommented() {
        let text = init_template("UTC");
        let uncommented: String = text
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest)
                    if rest.starts_with('[')
                        || rest.split_once(" = ").is_some_and(|(k, _)| {
                            k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                        }) =>
                {
                    rest
                }
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let loaded = load_str(Path::new("shipcheck.toml"), &uncommented)
            .unwrap_or_else(|e| panic!("{}", e.render()));
        assert_eq!(loaded.config.engine.concurrency, 16);
        assert_eq!(loaded.checklist.items.len(), 62);
        assert!(loaded.checklist.get("verify.login-flow").is_some());
        assert!(loaded.checklist.get("prepare.feature-flags").is_none());
    }
}
