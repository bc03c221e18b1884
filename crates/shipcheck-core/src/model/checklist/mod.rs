//! The checklist: the built-in default (the seed, item for item) and a team's changes to it.

pub mod apis;
pub mod conditions;
pub mod fly;
pub mod model;

use std::collections::BTreeSet;

use serde::Deserialize;

pub use apis::*;
pub use fly::*;
pub use model::*;

use crate::model::config::Config;

/// The built-in checklist's TOML, embedded in the binary.
pub const DEFAULT_CHECKLIST_TOML: &str = include_str!("default-checklist.toml");

/// An ordered list of items, by phase then by position.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, Deserialize)]
pub struct Checklist {
    /// The items, in phase order and, within a phase, in the order written.
    pub items: Vec<Item>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DefaultFile {
    items: Vec<Item>,
}

/// A problem in the `[checklist]` table, with the key path it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChecklistProblem {
    /// The key path in `shipcheck.toml` (`checklist.items[2].id`).
    pub path: String,
    /// What is wrong and what to write instead.
    pub message: String,
}

impl Checklist {
    /// The built-in checklist (the seed's 58 items).
    pub fn builtin() -> Checklist {
        let file: DefaultFile = toml::from_str(DEFAULT_CHECKLIST_TOML)
            .unwrap_or_else(|e| panic!("the embedded default checklist is invalid: {e}"));
        Checklist { items: file.items }
    }

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

        problems.extend(crate::model::checklist::conditions::problems(config, &list));
        fall_back_where_unconfigured(config, &mut list);
        apply_integration_fallbacks(&mut list, config);

        if problems.is_empty() {
            Ok(list)
        } else {
            Err(problems)
        }
    }

    /// The item with this id.
    pub fn get(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    /// The items of one phase, in order.
    pub fn phase(&self, phase: Phase) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(move |i| i.phase == phase)
    }

    /// Every item id.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(|i| i.id.as_str())
    }

    /// A "did you mean" for an unknown id.
    pub fn suggest(&self, id: &str) -> Option<String> {
        suggest(id, self.ids())
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

/// The closest candidate to `word` by edit distance, if it is close enough to be a typo.
pub fn suggest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(word, c);
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let (d, c) = best?;
    let limit = (word.chars().count().max(c.chars().count()) / 3).max(1);
    (d <= limit).then(|| c.to_string())
}

/// Levenshtein distance.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_has_the_seeds_58_items_in_8_phases() {
        let c = Checklist::builtin();
        assert_eq!(c.items.len(), 58);
        let counts: Vec<usize> = Phase::ALL.iter().map(|p| c.phase(*p).count()).collect();
        assert_eq!(counts, vec![23, 5, 2, 4, 4, 10, 5, 5]);
        for item in &c.items {
            assert!(
                item.id.starts_with(&format!("{}.", item.phase)),
                "{}",
                item.id
            );
        }
        let ids: BTreeSet<_> = c.ids().collect();
        assert_eq!(ids.len(), 58, "ids are unique");
        // Phases are in order.
        assert!(c.items.windows(2).all(|w| w[0].phase <= w[1].phase));
    }

    #[test]
    fn suggestions_find_typos() {
        assert_eq!(
            suggest("prepare.backpu", Checklist::builtin().ids()).as_deref(),
            Some("prepare.backup")
        );
        assert_eq!(suggest("zzz", ["name", "fly_app"].into_iter()), None);
    }
}
