//! The checklist a config asks for: the built-in items with `[checklist]`'s changes (disabled,
//! overridden, added), and items whose integration is not configured falling back to a
//! person's tick.

use std::collections::BTreeSet;

use crate::model::checklist::*;
use crate::model::config::Config;

impl Checklist {
    /// The built-in checklist with the config's `[checklist]` changes applied: disabled items
    /// removed, overrides applied, added items placed at the end of their phase.
    pub fn from_config(config: &Config) -> Result<Checklist, Vec<ChecklistProblem>> {
        let mut list = Checklist::builtin();
        let mut problems = Vec::new();
        let c = &config.checklist;

        let known: BTreeSet<String> = list.items.iter().map(|i| i.id.clone()).collect();
        for (n, id) in c.disable.iter().enumerate() {
            if !known.contains(id) {
                problems.push(ChecklistProblem {
                    path: format!("checklist.disable[{n}]"),
                    message: unknown_item_message(id, &known),
                });
            }
        }
        list.items.retain(|i| !c.disable.contains(&i.id));

        for (id, o) in &c.overrides {
            let Some(item) = list.items.iter_mut().find(|i| &i.id == id) else {
                problems.push(ChecklistProblem {
                    path: format!("checklist.override.\"{id}\""),
                    message: if known.contains(id) {
                        format!("item {id} is both disabled and overridden; remove one of the two")
                    } else {
                        unknown_item_message(id, &known)
                    },
                });
                continue;
            };
            if let Some(t) = &o.title {
                item.title = t.clone();
            }
            if let Some(r) = o.required {
                item.required = r;
            }
            if let Some(w) = &o.when {
                item.when = Some(w.clone());
            }
            if let Some(check) = &o.check {
                item.check = Some(check.clone());
                item.kind = ItemKind::Check;
                item.manual_because = None;
            }
            if let Some(t) = o.timeout {
                item.timeout = Some(t);
            }
            if let Some(n) = o.note_required {
                item.note_required = n;
            }
        }

        let mut seen: BTreeSet<String> = list.items.iter().map(|i| i.id.clone()).collect();
        for (n, item) in c.items.iter().enumerate() {
            let path = format!("checklist.items[{n}]");
            if !seen.insert(item.id.clone()) {
                problems.push(ChecklistProblem {
                    path: format!("{path}.id"),
                    message: format!(
                        "duplicate item id {:?}; ids must be unique (use [checklist.override.\"{}\"] to change a built-in item)",
                        item.id, item.id
                    ),
                });
                continue;
            }
            let prefix = format!("{}.", item.phase.as_str());
            if !item.id.starts_with(&prefix) || item.id.len() == prefix.len() {
                problems.push(ChecklistProblem {
                    path: format!("{path}.id"),
                    message: format!(
                        "item id {:?} must start with its phase, like \"{}{}\"",
                        item.id,
                        prefix,
                        item.id.rsplit('.').next().unwrap_or("name")
                    ),
                });
            }
            match item.kind {
                ItemKind::Check if item.check.is_none() && item.manual_because.is_none() => {
                    problems.push(ChecklistProblem {
                        path: path.clone(),
                        message: "an item of kind \"check\" needs `check = { type = ... }` (http, health, command, window, rerun)".into(),
                    })
                }
                ItemKind::Action if item.action.is_none() && item.manual_because.is_none() => {
                    problems.push(ChecklistProblem {
                        path: path.clone(),
                        message: "an item of kind \"action\" needs `action = { type = ... }` (command)".into(),
                    })
                }

                _ => {}
            }
            let pos = list
                .items
                .iter()
                .rposition(|i| i.phase <= item.phase)
                .map(|p| p + 1)
                .unwrap_or(0);
            list.items.insert(pos, item.clone());
        }

        for (n, item) in list.items.iter().enumerate() {
            if let Some(CheckSpec::Rerun(r)) = &item.check {
                for id in &r.items {
                    let ok = list.items.iter().any(|i| {
                        &i.id == id
                            && i.check.is_some()
                            && !matches!(i.check, Some(CheckSpec::Rerun(_)))
                    });
                    if !ok {
                        problems.push(ChecklistProblem {
                            path: item_path(config, &item.id, n),
                            message: format!(
                                "rerun names {id:?}, which is not an item with an automatic check"
                            ),
                        });
                    }
                }
            }
            if let Some(CheckSpec::Health(h)) = &item.check
                && !item_disabled(config, &item.id)
                && written_by_config(config, &item.id)
                && !config.environments.contains_key(&h.env)
                && !config.environments.is_empty()
            {
                problems.push(ChecklistProblem {
                    path: item_path(config, &item.id, n),
                    message: format!(
                        "health check names environment {:?}, which is not under [environments] (have: {})",
                        h.env,
                        config.environments.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }

        problems.extend(condition_problems(config, &list));
        fall_back_where_unconfigured(config, &mut list);
        apply_integration_fallbacks(&mut list, config);

        if problems.is_empty() {
            Ok(list)
        } else {
            Err(problems)
        }
    }
}

/// An item whose automation needs an integration the config does not set up becomes a
/// person's item with the reason, so a config without Fly apps still runs every step.
fn fall_back_where_unconfigured(config: &Config, list: &mut Checklist) {
    let has_fly = |env: &str| {
        config
            .environments
            .get(env)
            .is_some_and(|e| e.apps.iter().any(|a| a.fly_app.is_some()))
    };
    for item in &mut list.items {
        if item.manual_because.is_some() {
            continue;
        }
        let env = match &item.check {
            Some(CheckSpec::FlyRegion(c)) => Some(c.env.as_str()),
            Some(CheckSpec::FlySecrets(c)) => Some(c.env.as_str()),
            Some(CheckSpec::FlyEnv(c)) => Some(c.env.as_str()),
            Some(CheckSpec::FlyReleases(c)) => Some(c.env.as_str()),
            Some(CheckSpec::FlyStatus(c)) => Some(c.env.as_str()),
            Some(CheckSpec::FlyLogs(c)) => Some(c.env.as_str()),
            _ => None,
        };
        if let Some(env) = env
            && !has_fly(env)
        {
            item.manual_because = Some(format!(
                "no app in [environments.{env}] has a fly_app, so shipcheck cannot ask Fly; check it yourself and tick"
            ));
        }
        if let Some(CheckSpec::FlyVersion(c)) = &item.check {
            let env = c.env.as_str();
            let says = config
                .environments
                .get(env)
                .is_some_and(|e| e.apps.iter().any(|a| a.version.is_some()));
            if !says {
                item.manual_because = Some(format!(
                    "no app in [environments.{env}] says where it shows the commit it runs, so shipcheck cannot tell whether the promoted commit is live \
                     (a 200 from the health URL may be the old release); add `version = {{ json_pointer = \"/version\" }}` (the health answer's JSON), \
                     `{{ header = \"x-release\" }}`, `{{ image_label = \"GH_SHA\" }}` or `{{ image_ref = true }}` to each app (docs/config.md), \
                     or check it yourself and tick"
                ));
            }
        }
    }
}

fn item_disabled(config: &Config, id: &str) -> bool {
    config.checklist.disable.iter().any(|d| d == id)
}

/// Whether the item's check was written in the config (an added item or an override with a
/// check), as opposed to a built-in one. A built-in health check of an environment the config
/// does not describe is not the config's mistake: the check reports it when it runs.
fn written_by_config(config: &Config, id: &str) -> bool {
    config.checklist.items.iter().any(|i| i.id == id)
        || config
            .checklist
            .overrides
            .get(id)
            .is_some_and(|o| o.check.is_some())
}

fn item_path(config: &Config, id: &str, _n: usize) -> String {
    if let Some(k) = config.checklist.items.iter().position(|i| i.id == id) {
        format!("checklist.items[{k}]")
    } else if config.checklist.overrides.contains_key(id) {
        format!("checklist.override.\"{id}\"")
    } else {
        format!("checklist (built-in item {id})")
    }
}

fn unknown_item_message(id: &str, known: &BTreeSet<String>) -> String {
    match suggest(id, known.iter().map(|s| s.as_str())) {
        Some(s) => format!("unknown item id {id:?}; did you mean {s:?}?"),
        None => format!("unknown item id {id:?}; `shipcheck plan` lists the item ids"),
    }
}

/// The config table an item's automation needs, if it is one of these integrations.
fn needs(item: &Item) -> Option<&'static str> {
    let from_check = item.check.as_ref().and_then(|c| match c {
        CheckSpec::GithubReviews(_)
        | CheckSpec::GithubChecks(_)
        | CheckSpec::GithubWorkflow(_)
        | CheckSpec::GithubPending(_)
        | CheckSpec::GithubJobs(_) => Some("github"),
        CheckSpec::SentryRate(_) | CheckSpec::SentryNewIssues(_) => Some("sentry"),
        CheckSpec::Prometheus(_) => Some("prometheus"),
        CheckSpec::PostgresHealth(_) | CheckSpec::PostgresMigrations(_) => Some("database"),
        _ => None,
    });
    let from_action = item.action.as_ref().and_then(|a| match a {
        ActionSpec::GithubApprove(_) => Some("github"),
        ActionSpec::SlackNotify(_) => Some("slack"),
        ActionSpec::SentryRelease(_) => Some("sentry"),
        ActionSpec::GithubDeploymentStatus(_) => Some("github"),
        _ => None,
    });
    match item.kind {
        crate::model::checklist::ItemKind::Action => from_action,
        _ => from_check,
    }
}

/// Items backed by an integration whose table is absent run as manual items, with the
/// reason; so does `github.jobs` with `health = true` when `[github] health_jobs` is empty.
/// A config without these tables keeps working exactly as before they existed.
pub fn apply_integration_fallbacks(list: &mut Checklist, config: &Config) {
    for item in &mut list.items {
        if item.manual_because.is_some() {
            continue;
        }
        let Some(table) = needs(item) else { continue };
        let configured = match table {
            "github" => config.github.is_some(),
            "sentry" => config.sentry.is_some(),
            "slack" => config.slack.is_some(),
            "prometheus" => config.prometheus.is_some(),
            _ => config.database.is_some(),
        };
        if !configured {
            // A marker in another service (GitHub's deployment record, Sentry's deploys) is
            // not one of the seed's lines: without the service it is optional, not a chore.
            if matches!(
                item.action,
                Some(ActionSpec::GithubDeploymentStatus(_) | ActionSpec::SentryRelease(_))
            ) {
                item.required = false;
            }
            item.manual_because = Some(match table {
                "slack" => {
                    "no [slack] webhook configured; post the message yourself and tick".into()
                }
                "github" => "no [github] configured (add `[github] repo = \"owner/name\"` to automate it); do this step in GitHub and tick".into(),
                "sentry" => "no [sentry] configured (add `[sentry] org` and `projects` to automate it); look at Sentry and tick".into(),
                "prometheus" => "no [prometheus] configured (add `[prometheus] url` to automate it); look at the metrics dashboard and tick".into(),
                _ => "no [database] configured (add `[database]` with `url_env` to automate it); check the database by hand and tick".into(),
            });
            continue;
        }
        if let Some(CheckSpec::GithubJobs(j)) = &item.check
            && j.health
            && config
                .github
                .as_ref()
                .is_some_and(|g| g.health_jobs.is_empty())
        {
            item.manual_because = Some(
                "no [github] health_jobs configured (name the workflow's health-check jobs to automate it); confirm they passed in GitHub Actions and tick".into(),
            );
        }
    }
}

/// The config problems of conditions and `[paths]`, for [`Checklist::from_config`]: the
/// `[paths]` globs, and the `when` of every item the config adds or overrides (unknown
/// group names, invalid globs).
fn condition_problems(config: &Config, checklist: &Checklist) -> Vec<ChecklistProblem> {
    let mut out: Vec<ChecklistProblem> =
        crate::model::checklist::conditions::validate_paths(&config.paths)
            .into_iter()
            .map(|(path, message)| ChecklistProblem { path, message })
            .collect();
    for item in &checklist.items {
        let Some(when) = &item.when else { continue };
        let path = if let Some(k) = config.checklist.items.iter().position(|i| i.id == item.id) {
            format!("checklist.items[{k}].when")
        } else if config
            .checklist
            .overrides
            .get(&item.id)
            .is_some_and(|o| o.when.is_some())
        {
            format!("checklist.override.\"{}\".when", item.id)
        } else {
            continue;
        };
        if let Err(message) =
            crate::model::checklist::conditions::validate_groups(when, &config.paths)
        {
            out.push(ChecklistProblem {
                path,
                message: message.to_string(),
            });
        }
    }
    out
}
