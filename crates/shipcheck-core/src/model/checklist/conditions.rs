//! Conditional items: an item's `when` against the change set. Any true part makes the item
//! required; when none is, the item is recorded `not_required` with the reason, which names
//! what was looked at ("no file under migrations/**, **/migrations/** changed").

use crate::model::error::Invalid;
use serde::{Deserialize, Serialize};

use crate::model::changes::{ChangeSet, glob_set, list_some, plural, thousands};
use crate::model::checklist::{Checklist, Condition};

/// Whether an item is required, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionResult {
    /// Any part of the condition held (or it could not be evaluated: required is the
    /// safe side).
    pub required: bool,
    /// The parts that held when required; every part that did not, otherwise.
    pub reason: String,
}

/// How many changed files a reason names before "… and N more".
const NAMED: usize = 5;

/// Evaluates `cond` against `changes`, with `paths` for the named groups. Never fails: a
/// part that cannot be evaluated (an unknown group, an invalid glob, which config
/// validation rejects earlier) makes the item required, and the reason says so.
pub fn evaluate(cond: &Condition, changes: &ChangeSet, paths: &PathsConfig) -> ConditionResult {
    let mut held = Vec::new();
    let mut not = Vec::new();
    let mut parts = 0;

    if !cond.paths_changed.is_empty() {
        parts += 1;
        let label = cond.paths_changed.join(", ");
        match paths_part(&cond.paths_changed, changes, &label, None) {
            Ok((true, r)) => held.push(r),
            Ok((false, r)) => not.push(r),
            Err(e) => held.push(format!("{e} (treated as required)")),
        }
    }
    for name in &cond.path_groups {
        parts += 1;
        let Some(globs) = paths.group(name) else {
            held.push(format!(
                "unknown path group {name:?} (treated as required; groups: {})",
                PathsConfig::GROUPS.join(", ")
            ));
            continue;
        };
        if globs.is_empty() {
            not.push(format!("[paths] {name} is empty"));
            continue;
        }
        let label = format!("{name} globs");
        match paths_part(globs, changes, &label, Some(&globs.join(", "))) {
            Ok((true, r)) => held.push(r),
            Ok((false, r)) => not.push(r),
            Err(e) => held.push(format!("[paths] {name}: {e} (treated as required)")),
        }
    }
    if let Some(n) = cond.files_changed_over {
        parts += 1;
        let count = changes.files.len() as u64;
        let r = format!(
            "{} file{} changed",
            thousands(count),
            plural(changes.files.len())
        );
        if count > n {
            held.push(format!("{r} (over {})", thousands(n)));
        } else {
            not.push(format!("{r} (not over {})", thousands(n)));
        }
    }
    if let Some(n) = cond.lines_changed_over {
        parts += 1;
        let count = changes.lines_changed();
        let r = format!(
            "{} line{} changed",
            thousands(count),
            if count == 1 { "" } else { "s" }
        );
        if count > n {
            held.push(format!("{r} (over {})", thousands(n)));
        } else {
            not.push(format!("{r} (not over {})", thousands(n)));
        }
    }

    if parts == 0 {
        return ConditionResult {
            required: true,
            reason: "the condition is empty, so the item is always required".into(),
        };
    }
    if held.is_empty() {
        ConditionResult {
            required: false,
            reason: not.join("; "),
        }
    } else {
        ConditionResult {
            required: true,
            reason: held.join("; "),
        }
    }
}

/// (held, reason) for one list of globs; `label` names them ("migrations globs"),
/// `detail` lists them when nothing matched.
fn paths_part(
    globs: &[String],
    changes: &ChangeSet,
    label: &str,
    detail: Option<&str>,
) -> Result<(bool, String), String> {
    let set = glob_set(globs)?;
    let hits: Vec<String> = changes
        .files_matching(&set)
        .into_iter()
        .map(|f| f.path.clone())
        .collect();
    if hits.is_empty() {
        let detail = detail.map(|d| format!(" ({d})")).unwrap_or_default();
        Ok((false, format!("no file under {label}{detail} changed")))
    } else {
        Ok((
            true,
            format!(
                "{} file{} changed under {label}: {}",
                hits.len(),
                plural(hits.len()),
                list_some(&hits, NAMED)
            ),
        ))
    }
}

/// Checks a condition against the config before any run: every `path_groups` name is a
/// `[paths]` group, and every glob (in `paths_changed` and in the named groups) compiles.
pub fn validate_groups(cond: &Condition, paths: &PathsConfig) -> Result<(), Invalid> {
    let mut problems = Vec::new();
    for name in &cond.path_groups {
        match paths.group(name) {
            None => problems.push(
                match crate::model::checklist::suggest(name, PathsConfig::GROUPS.into_iter()) {
                    Some(s) => format!("unknown path group {name:?}; did you mean {s:?}?"),
                    None => format!(
                        "unknown path group {name:?}; the [paths] groups are {}",
                        PathsConfig::GROUPS.join(", ")
                    ),
                },
            ),
            Some(globs) => {
                if let Err(e) = glob_set(globs) {
                    problems.push(format!("[paths] {name}: {e}"));
                }
            }
        }
    }
    if let Err(e) = glob_set(&cond.paths_changed) {
        problems.push(format!("paths_changed: {e}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Invalid(problems.join("; ")))
    }
}

/// Checks the `[paths]` table itself: every group's globs and the changelog glob compile,
/// and the TODO patterns are not empty strings. Returns (key, message) pairs.
pub fn validate_paths(paths: &PathsConfig) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for name in PathsConfig::GROUPS {
        if let Some(globs) = paths.group(name)
            && let Err(e) = glob_set(globs)
        {
            out.push((format!("paths.{name}"), e.0));
        }
    }
    if let Err(e) = crate::model::changes::glob(&paths.changelog) {
        out.push(("paths.changelog".into(), e.to_string()));
    }
    if paths.todo_patterns.iter().any(|p| p.is_empty()) {
        out.push((
            "paths.todo_patterns".into(),
            "an empty pattern matches every line; remove it".into(),
        ));
    }
    out
}

/// Every conditional item of `checklist` with its result: what `shipcheck changes` shows
/// and what a run records as `not_required`.
pub fn evaluate_checklist(
    checklist: &Checklist,
    changes: &ChangeSet,
    paths: &PathsConfig,
) -> Vec<(String, ConditionResult)> {
    checklist
        .items
        .iter()
        .filter_map(|i| {
            i.when
                .as_ref()
                .map(|c| (i.id.clone(), evaluate(c, changes, paths)))
        })
        .collect()
}

/// `[paths]`: groups of repository path globs (relative to the repository root, `/` as the
/// separator; `*` stays within one directory, `**` crosses directories). Conditions name a
/// group in `when = { path_groups = ["auth"] }`; the git checks read them directly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PathsConfig {
    /// Critical code: `TODO:`/`FIXME:` added here fail `prepare.no-todo`, and a change here
    /// makes `prepare.load-test` required. Default: the usual source roots.
    #[serde(default = "default_critical")]
    pub critical: Vec<String>,
    /// Authentication and permission code (`prepare.security-review`).
    #[serde(default = "default_auth")]
    pub auth: Vec<String>,
    /// API source (`prepare.api-docs`).
    #[serde(default = "default_api")]
    pub api: Vec<String>,
    /// API documentation; must change when `api` does.
    #[serde(default = "default_api_docs")]
    pub api_docs: Vec<String>,
    /// Schema migrations (`prepare.migrations-tested`, `prepare.db-rollback-plan`).
    #[serde(default = "default_migrations")]
    pub migrations: Vec<String>,
    /// Data migration scripts (`prepare.data-migrations-reviewed`).
    #[serde(default = "default_data_migrations")]
    pub data_migrations: Vec<String>,
    /// The changelog file (a path or a glob); must change in every release.
    #[serde(default = "default_changelog")]
    pub changelog: String,
    /// Text that must not appear in lines added under `critical` (plain substrings).
    #[serde(default = "default_todo_patterns")]
    pub todo_patterns: Vec<String>,
}

impl Default for PathsConfig {
    fn default() -> Self {
        PathsConfig {
            critical: default_critical(),
            auth: default_auth(),
            api: default_api(),
            api_docs: default_api_docs(),
            migrations: default_migrations(),
            data_migrations: default_data_migrations(),
            changelog: default_changelog(),
            todo_patterns: default_todo_patterns(),
        }
    }
}

impl PathsConfig {
    /// The group names a condition's `path_groups` may use.
    pub const GROUPS: [&'static str; 6] = [
        "critical",
        "auth",
        "api",
        "api_docs",
        "migrations",
        "data_migrations",
    ];

    /// The globs of a named group; `None` for an unknown name.
    pub fn group(&self, name: &str) -> Option<&[String]> {
        Some(match name {
            "critical" => &self.critical,
            "auth" => &self.auth,
            "api" => &self.api,
            "api_docs" => &self.api_docs,
            "migrations" => &self.migrations,
            "data_migrations" => &self.data_migrations,
            _ => return None,
        })
    }
}

fn default_critical() -> Vec<String> {
    globs(&["src/**", "apps/**", "packages/**", "lib/**", "server/**"])
}

fn default_auth() -> Vec<String> {
    globs(&["**/auth/**", "**/permissions/**"])
}

fn default_api() -> Vec<String> {
    globs(&["**/api/**", "**/routes/**"])
}

fn default_api_docs() -> Vec<String> {
    globs(&[
        "docs/api/**",
        "**/openapi.{yaml,yml,json}",
        "**/swagger.{yaml,yml,json}",
    ])
}

fn default_migrations() -> Vec<String> {
    globs(&["migrations/**", "**/migrations/**"])
}

fn default_data_migrations() -> Vec<String> {
    globs(&["**/data-migrations/**", "**/data_migrations/**"])
}

fn default_changelog() -> String {
    "CHANGELOG.md".into()
}

fn default_todo_patterns() -> Vec<String> {
    globs(&["TODO:", "FIXME:"])
}

fn globs(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::changes::FileChange;
    use crate::model::config::Config;

    fn changes(files: &[(&str, u64, u64)]) -> ChangeSet {
        ChangeSet {
            remote: "origin".into(),
            base: "origin/production".into(),
            head: "origin/staging".into(),
            base_sha: "a".repeat(40),
            head_sha: "b".repeat(40),
            commits: Vec::new(),
            files: files
                .iter()
                .map(|(p, i, d)| FileChange {
                    path: p.to_string(),
                    old_path: None,
                    insertions: *i,
                    deletions: *d,
                    binary: false,
                })
                .collect(),
            added: Vec::new(),
            added_unread: Vec::new(),
            branches: Vec::new(),
        }
    }

    fn groups(g: &[&str]) -> Condition {
        Condition {
            path_groups: g.iter().map(|s| s.to_string()).collect(),
            ..Condition::default()
        }
    }

    #[test]
    fn migrations_true_and_false_with_reasons() {
        let paths = PathsConfig::default();
        let r = evaluate(
            &groups(&["migrations"]),
            &changes(&[("src/a.ts", 1, 0)]),
            &paths,
        );
        assert!(!r.required);
        assert_eq!(
            r.reason,
            "no file under migrations globs (migrations/**, **/migrations/**) changed"
        );
        let r = evaluate(
            &groups(&["migrations"]),
            &changes(&[("db/migrations/002_users.sql", 10, 0)]),
            &paths,
        );
        assert!(r.required);
        assert_eq!(
            r.reason,
            "1 file changed under migrations globs: db/migrations/002_users.sql"
        );
    }

    #[test]
    fn auth_lists_files_and_size_counts_lines() {
        let paths = PathsConfig::default();
        let cs = changes(&[
            ("src/auth/login.ts", 600, 40),
            ("src/auth/session.ts", 300, 0),
            ("apps/api/auth/roles.ts", 300, 0),
            ("README.md", 0, 0),
        ]);
        let r = evaluate(&groups(&["auth"]), &cs, &paths);
        assert!(r.required);
        assert!(
            r.reason.starts_with("3 files changed under auth globs"),
            "{}",
            r.reason
        );
        assert!(
            r.reason
                .contains("src/auth/login.ts, src/auth/session.ts, apps/api/auth/roles.ts")
        );

        let size = Condition {
            lines_changed_over: Some(1000),
            files_changed_over: Some(50),
            ..Condition::default()
        };
        let r = evaluate(&size, &cs, &paths);
        assert!(r.required);
        assert_eq!(r.reason, "1,240 lines changed (over 1,000)");
        let r = evaluate(&size, &changes(&[("a", 10, 2)]), &paths);
        assert!(!r.required);
        assert_eq!(
            r.reason,
            "1 file changed (not over 50); 12 lines changed (not over 1,000)"
        );
    }

    #[test]
    fn paths_changed_and_odd_conditions() {
        let paths = PathsConfig::default();
        let c = Condition {
            paths_changed: vec!["infra/**".into()],
            ..Condition::default()
        };
        let r = evaluate(&c, &changes(&[("infra/fly.toml", 1, 1)]), &paths);
        assert!(r.required);
        assert_eq!(r.reason, "1 file changed under infra/**: infra/fly.toml");
        assert!(!evaluate(&c, &changes(&[]), &paths).required);
        assert_eq!(
            evaluate(&c, &changes(&[]), &paths).reason,
            "no file under infra/** changed"
        );
        // Unknown groups and empty conditions are required (the safe side), never a panic.
        assert!(evaluate(&groups(&["nope"]), &changes(&[]), &paths).required);
        assert!(evaluate(&Condition::default(), &changes(&[]), &paths).required);
    }

    #[test]
    fn validation_rejects_unknown_groups_and_bad_globs() {
        let paths = PathsConfig::default();
        assert!(validate_groups(&groups(&["auth", "migrations"]), &paths).is_ok());
        let e = validate_groups(&groups(&["migration"]), &paths).unwrap_err();
        assert_eq!(
            e,
            "unknown path group \"migration\"; did you mean \"migrations\"?"
        );
        let bad = Condition {
            paths_changed: vec!["src/[".into()],
            ..Condition::default()
        };
        assert!(
            validate_groups(&bad, &paths)
                .unwrap_err()
                .starts_with("paths_changed: invalid glob")
        );
        // Every condition in the built-in checklist names a real group.
        for item in Checklist::builtin().items {
            if let Some(w) = &item.when {
                validate_groups(w, &paths).unwrap_or_else(|e| panic!("{}: {e}", item.id));
            }
        }
        assert!(validate_paths(&paths).is_empty());
        let broken = PathsConfig {
            auth: vec!["[".into()],
            todo_patterns: vec![String::new()],
            ..PathsConfig::default()
        };
        let keys: Vec<String> = validate_paths(&broken)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["paths.auth", "paths.todo_patterns"]);
    }

    #[test]
    fn config_loading_rejects_unknown_groups() {
        let toml = r#"
            [paths]
            api = ["server/api/**"]

            [checklist.override."prepare.load-test"]
            when = { path_groups = ["critcal"] }

            [[checklist.items]]
            id = "prepare.infra-review"
            phase = "prepare"
            title = "Infra reviewed"
            kind = "manual"
            when = { path_groups = ["infra"] }
        "#;
        let config: Config = toml::from_str(toml).unwrap();
        assert_eq!(config.paths.api, ["server/api/**"]);
        assert_eq!(
            config.paths.changelog, "CHANGELOG.md",
            "defaults fill the rest"
        );
        let problems = Checklist::from_config(&config).unwrap_err();
        let got: Vec<(&str, &str)> = problems
            .iter()
            .map(|p| (p.path.as_str(), p.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "checklist.override.\"prepare.load-test\".when",
                    "unknown path group \"critcal\"; did you mean \"critical\"?"
                ),
                (
                    "checklist.items[0].when",
                    "unknown path group \"infra\"; the [paths] groups are critical, auth, api, api_docs, migrations, data_migrations"
                ),
            ]
        );
        assert!(
            toml::from_str::<Config>("[paths]\nsecrets = []\n").is_err(),
            "unknown keys are refused"
        );
    }
}
