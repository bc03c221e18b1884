//! What `shipcheck init` writes from what it discovered: each app group's one production and
//! one staging app as entries; what it could not decide (an app whose files do not say its
//! environment, two production candidates) as commented-out entries with a `# TODO:`; the
//! rest (development, preview, test, other) listed as left out. It never writes a production
//! app, a region, a health URL or a secret that the files (or a person, or flyctl when
//! asked) did not give.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Serialize;

use super::discover::{Discovery, Env, FlyFile};

/// The regions `flyctl status` reported per Fly app (`init --ask-fly`): where its machines
/// run, or why flyctl could not say.
pub type FlyRegions = BTreeMap<String, Result<Vec<String>, String>>;

/// One `[[environments.ENV.apps]]` entry init writes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannedApp {
    /// `production` or `staging`.
    pub env: Env,
    /// The short name (the app group).
    pub name: String,
    /// The Fly app.
    pub fly_app: String,
    /// The file it comes from.
    pub source: PathBuf,
    /// Why this environment.
    pub why: String,
    /// The health endpoint, when a check or a person gave it.
    pub health_url: Option<String>,
    /// Where the health URL came from, or why there is none.
    pub health_note: String,
    /// The region, when `primary_region` or flyctl gave it.
    pub region: Option<String>,
    /// Where the region came from, or why there is none.
    pub region_note: String,
    /// Written commented-out, with this `# TODO:`: what a person must decide.
    pub todo: Option<String>,
}

/// A file init read and did not write as a staging or production app.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LeftOut {
    /// The file.
    pub path: PathBuf,
    /// Its app.
    pub app: Option<String>,
    /// Its environment.
    pub environment: Env,
    /// Why it is left out.
    pub why: String,
}

/// What init asks on a terminal.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "ask", rename_all = "snake_case")]
pub enum Question {
    /// Which environment this file deploys.
    Environment {
        /// The file.
        file: PathBuf,
        /// Its app.
        app: String,
        /// Why the files cannot tell.
        why: String,
    },
    /// Which of these files deploys the live production app of a group.
    Production {
        /// The group's name.
        group: String,
        /// The files and their apps.
        candidates: Vec<(PathBuf, String)>,
    },
    /// The health endpoint of an app written without one.
    Health {
        /// The file.
        file: PathBuf,
        /// The Fly app.
        app: String,
        /// Why the file does not give one.
        why: String,
    },
}

/// Everything init will write, and what it could not decide.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct InitPlan {
    /// Entries, written or commented-out, in file order.
    pub apps: Vec<PlannedApp>,
    /// Files not written as staging or production apps.
    pub left_out: Vec<LeftOut>,
    /// Every `# TODO:` the file holds, in order.
    pub todos: Vec<String>,
    /// App groups with a production app and no staging app, and what might be their stage.
    pub missing_staging: Vec<String>,
    /// App groups with a staging app and no production app or candidate.
    pub missing_production: Vec<String>,
    /// What a person could answer.
    pub questions: Vec<Question>,
}

impl InitPlan {
    /// The entries written (not commented-out) for `env`.
    pub fn written(&self, env: Env) -> impl Iterator<Item = &PlannedApp> {
        self.apps
            .iter()
            .filter(move |a| a.env == env && a.todo.is_none())
    }
}

/// Decides what init writes from a discovery (and, with `--ask-fly`, flyctl's regions).
pub fn plan(d: &Discovery, regions: &FlyRegions) -> InitPlan {
    let mut p = InitPlan::default();
    let mut order: Vec<&str> = Vec::new();
    let mut groups: BTreeMap<&str, Vec<&FlyFile>> = BTreeMap::new();
    for f in d.files.iter().filter(|f| f.problem.is_none()) {
        if !groups.contains_key(f.app_group.as_str()) {
            order.push(&f.app_group);
        }
        groups.entry(&f.app_group).or_default().push(f);
    }
    let mut used: BTreeSet<String> = BTreeSet::new();
    for group in order {
        let members = &groups[group];
        let mut name = group.to_string();
        let mut n = 2;
        while used.contains(&name) {
            name = format!("{group}-{n}");
            n += 1;
        }
        used.insert(name.clone());
        let mut has = BTreeSet::new();
        for env in [Env::Production, Env::Staging] {
            let cands: Vec<&FlyFile> = members
                .iter()
                .copied()
                .filter(|f| f.environment == env && f.app.is_some())
                .collect();
            let mut apps: Vec<&str> = Vec::new();
            for f in &cands {
                let a = f.app.as_deref().unwrap_or_default();
                if !apps.contains(&a) {
                    apps.push(a);
                }
            }
            if apps.is_empty() {
                continue;
            }
            has.insert(env);
            let todo = (apps.len() > 1).then(|| {
                let list: Vec<String> = apps
                    .iter()
                    .map(|a| format!("{a} ({})", files_of(&cands, a)))
                    .collect();
                format!(
                    "{} {} apps for {name}: {}. Only one is the live {}: uncomment it (a person must \
                     decide; the files cannot tell).",
                    apps.len(),
                    env.as_str(),
                    list.join(" and "),
                    env.as_str()
                )
            });
            if let Some(t) = &todo {
                p.todos.push(t.clone());
                if env == Env::Production {
                    p.questions.push(Question::Production {
                        group: name.clone(),
                        candidates: apps
                            .iter()
                            .filter_map(|a| {
                                let f = cands.iter().find(|f| f.app.as_deref() == Some(a))?;
                                Some((f.path.clone(), a.to_string()))
                            })
                            .collect(),
                    });
                }
            }
            for a in apps {
                let same: Vec<&FlyFile> = cands
                    .iter()
                    .copied()
                    .filter(|f| f.app.as_deref() == Some(a))
                    .collect();
                let entry = entry(env, &name, &same, regions, todo.clone());
                if entry.todo.is_none()
                    && entry.health_url.is_none()
                    && same.iter().any(|f| f.public_http)
                {
                    p.questions.push(Question::Health {
                        file: entry.source.clone(),
                        app: entry.fly_app.clone(),
                        why: entry.health_note.clone(),
                    });
                }
                p.apps.push(entry);
            }
        }
        for f in members.iter().copied() {
            match (f.environment, &f.app) {
                (Env::Unknown, Some(app)) => {
                    let todo = format!(
                        "{}: which environment does {app} deploy? {}. If it is your production \
                         app, uncomment this entry; if it is staging, uncomment it with \
                         `staging` for `production`; otherwise delete it.",
                        f.path.display(),
                        f.why
                    );
                    p.todos.push(todo.clone());
                    p.questions.push(Question::Environment {
                        file: f.path.clone(),
                        app: app.clone(),
                        why: f.why.clone(),
                    });
                    p.apps
                        .push(entry(Env::Production, &name, &[f], regions, Some(todo)));
                }
                (Env::Production | Env::Staging | Env::Unknown, None) => p.left_out.push(LeftOut {
                    path: f.path.clone(),
                    app: None,
                    environment: f.environment,
                    why: format!(
                        "{}; the file has no `app` key, so there is no Fly app to write (add it by hand)",
                        f.why
                    ),
                }),
                (Env::Production | Env::Staging, Some(_)) => {}
                (env, _) => p.left_out.push(LeftOut {
                    path: f.path.clone(),
                    app: f.app.clone(),
                    environment: env,
                    why: format!("{}: shipcheck deploys staging → production only", f.why),
                }),
            }
        }
        let undecided = members
            .iter()
            .any(|f| f.environment == Env::Unknown && f.app.is_some());
        if has.contains(&Env::Staging) && !has.contains(&Env::Production) && !undecided {
            let t = format!(
                "{name} has a staging app and no production file here. If {name} has a \
                 production app, add it under [[environments.production.apps]] with name = \
                 \"{name}\"; if it never goes to production, delete its staging entry."
            );
            p.todos.push(t.clone());
            p.missing_production.push(t);
        }
        if has.contains(&Env::Production) && !has.contains(&Env::Staging) {
            let stages: Vec<String> = members
                .iter()
                .filter(|f| {
                    matches!(f.environment, Env::Test | Env::Development | Env::Preview)
                        && f.app.is_some()
                })
                .map(|f| {
                    format!(
                        "{} ({}, {})",
                        f.app.as_deref().unwrap_or_default(),
                        f.environment.as_str(),
                        f.path.display()
                    )
                })
                .collect();
            let mut t = format!("{name} has a production app and no staging app.");
            if !stages.is_empty() {
                t.push_str(&format!(
                    " {} might be the stage before production: if one is, add it under \
                     [[environments.staging.apps]] with name = \"{name}\".",
                    stages.join(", ")
                ));
            }
            p.todos.push(t.clone());
            p.missing_staging.push(t);
        }
    }
    p
}

fn files_of(files: &[&FlyFile], app: &str) -> String {
    files
        .iter()
        .filter(|f| f.app.as_deref() == Some(app))
        .map(|f| f.path.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The entry for one app from the files that deploy it.
fn entry(
    env: Env,
    name: &str,
    files: &[&FlyFile],
    regions: &FlyRegions,
    todo: Option<String>,
) -> PlannedApp {
    let first = files[0];
    let fly_app = first.app.clone().unwrap_or_default();
    let (health_url, health_note) = match files.iter().find(|f| f.health_url.is_some()) {
        Some(f) => (f.health_url.clone(), f.health_why.clone()),
        None => (
            None,
            format!(
                "{}. Write the URL of the health endpoint of {fly_app} (no health check runs without one).",
                first.health_why
            ),
        ),
    };
    let mut declared: Vec<(String, String)> = files
        .iter()
        .filter_map(|f| Some((f.region.clone()?, f.path.display().to_string())))
        .collect();
    declared.dedup_by(|a, b| a.0 == b.0);
    let (region, region_note) = match declared.as_slice() {
        [(r, file)] => (Some(r.clone()), format!("primary_region in {file}")),
        [] => from_fly(&fly_app, &first.path.display().to_string(), regions),
        many => (
            None,
            format!(
                "the files for {fly_app} disagree on primary_region: {}. Write the region every \
                 machine must be in.",
                many.iter()
                    .map(|(r, f)| format!("{r} in {f}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    };
    PlannedApp {
        env,
        name: name.to_string(),
        fly_app,
        source: first.path.clone(),
        why: first.why.clone(),
        health_url,
        health_note,
        region,
        region_note,
        todo,
    }
}

fn from_fly(app: &str, file: &str, regions: &FlyRegions) -> (Option<String>, String) {
    let ask = format!(
        "`flyctl status --json -a {app}` shows where its machines run (`shipcheck init \
         --ask-fly` asks it)"
    );
    match regions.get(app) {
        None => (None, format!("{file} has no primary_region; {ask}.")),
        Some(Err(e)) => (
            None,
            format!("{file} has no primary_region, and flyctl could not say: {e}"),
        ),
        Some(Ok(list)) => {
            let mut list = list.clone();
            list.sort();
            list.dedup();
            match list.as_slice() {
                [one] => (
                    Some(one.clone()),
                    format!(
                        "every machine of {app} runs in {one} (`flyctl status`; {file} has no primary_region)"
                    ),
                ),
                [] => (
                    None,
                    format!(
                        "{file} has no primary_region and {app} has no machines (`flyctl status`)"
                    ),
                ),
                many => (
                    None,
                    format!(
                        "{file} has no primary_region and {app}'s machines run in {} (`flyctl \
                         status`). Write the region every machine must be in.",
                        many.join(", ")
                    ),
                ),
            }
        }
    }
}

#[cfg(test)]
#[path = "init_plan_tests.rs"]
mod tests;
