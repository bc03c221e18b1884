//! Pairing files into app groups (one logical app across environments) and deciding each
//! file's environment: from its own names first, then — for a file whose names say nothing —
//! by elimination within its group, else `unknown`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::envs::{self, Marker, Strength};
use super::{Env, FlyFile};

/// Directory names that say nothing about the app (`services/api/fly/fly.toml` is `api`).
const GENERIC_DIRS: &[&str] = &[
    "fly",
    ".fly",
    "deploy",
    "deployment",
    "deployments",
    "config",
    "infra",
    "ops",
    "apps",
];

/// What the names of one file say, before pairing.
#[derive(Clone, Debug, Default)]
pub(crate) struct Names {
    /// The directory, relative to the repository.
    pub dir: PathBuf,
    pub file_marker: Option<Marker>,
    pub dir_marker: Option<(Marker, String)>,
    pub app_marker: Option<Marker>,
    /// The file name's words without environment words: `fly.kb.production.toml` → `kb`.
    pub service: String,
    /// The app name without environment words: `gaia-gateway-prod` → `gaia-gateway`.
    pub stem: String,
}

/// Reads the names of `file` (path relative to the repository, app if known).
pub(crate) fn names(path: &Path, app: Option<&str>) -> Names {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let fw = envs::file_words(&file_name);
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let dir_marker = dir
        .components()
        .rev()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .find_map(|d| envs::marker(&envs::words(&d)).map(|m| (m, d)));
    let aw = app.map(envs::words).unwrap_or_default();
    Names {
        dir,
        file_marker: envs::marker(&fw),
        dir_marker,
        app_marker: envs::marker(&aw),
        service: envs::stem(&fw).join("-"),
        stem: envs::stem(&aw).join("-"),
    }
}

fn said(m: &Marker) -> String {
    if m.word == m.env.as_str() {
        m.word.clone()
    } else {
        format!("{} ({})", m.word, m.env.as_str())
    }
}

/// The environment a file's own names say, and why; `None` when they say nothing.
/// An environment word beats a role word; among equals the app name wins over the file
/// name, and the file name over the directory: the app is what gets deployed.
pub(crate) fn own_environment(f: &FlyFile, n: &Names) -> Option<(Env, String)> {
    let file = f.file_name();
    let app = f.app.clone().unwrap_or_default();
    for strength in [Strength::Env, Strength::Role] {
        let a = n.app_marker.as_ref().filter(|m| m.strength == strength);
        let fm = n.file_marker.as_ref().filter(|m| m.strength == strength);
        let d = n.dir_marker.as_ref().filter(|m| m.0.strength == strength);
        let mut why = match (a, fm, d) {
            (Some(a), Some(fm), _) if fm.env != a.env => format!(
                "file name {file} says {} but app name {app} says {}; the app name wins: it is what gets deployed",
                said(fm),
                said(a)
            ),
            (Some(a), _, _) => format!("app name {app} says {}", said(a)),
            (None, Some(fm), _) => format!("file name {file} says {}", said(fm)),
            (None, None, Some((dm, dir))) => format!("directory {dir} says {}", said(dm)),
            (None, None, None) => continue,
        };
        let chosen = a.or(fm).or(d.map(|d| &d.0))?;
        if !chosen.also.is_empty() {
            why.push_str(&format!(
                " (it also says {}; never production by a guess)",
                chosen.also.join(", ")
            ));
        }
        return Some((chosen.env, why));
    }
    None
}

/// Union-find over file indices.
struct Groups(Vec<usize>);

impl Groups {
    fn find(&mut self, i: usize) -> usize {
        let mut r = i;
        while self.0[r] != r {
            r = self.0[r];
        }
        self.0[i] = r;
        r
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.0[rb.max(ra)] = rb.min(ra);
        }
    }
}

/// Pairs the readable files into groups and decides every environment. `fixed` holds the
/// environments a person gave (path → env), which win over everything.
pub(crate) fn conclude(files: &mut [FlyFile], names: &[Names], fixed: &BTreeMap<PathBuf, Env>) {
    let n = files.len();
    let mut g = Groups((0..n).collect());
    let mut links: Vec<Vec<String>> = vec![Vec::new(); n];
    let readable: Vec<bool> = files.iter().map(|f| f.problem.is_none()).collect();
    let ok = |i: usize| readable[i];
    for i in 0..n {
        for j in (i + 1)..n {
            if !ok(i) || !ok(j) {
                continue;
            }
            let (a, b) = (&names[i], &names[j]);
            let reason = if a.dir == b.dir && a.service == b.service {
                Some("same directory, same name apart from the environment")
            } else if files[i].app.is_some() && files[i].app == files[j].app {
                Some("same app")
            } else if !a.stem.is_empty() && a.stem == b.stem {
                Some("app names share a stem")
            } else {
                None
            };
            if let Some(r) = reason {
                g.union(i, j);
                links[i].push(format!("{} ({r})", files[j].path.display()));
                links[j].push(format!("{} ({r})", files[i].path.display()));
            }
        }
    }
    // Each file's own answer first.
    let mut own: Vec<Option<(Env, String)>> = Vec::with_capacity(n);
    for i in 0..n {
        let fixed_env = fixed.get(&files[i].path).copied();
        own.push(match fixed_env {
            Some(e) => Some((e, "you said so when init asked".to_string())),
            None => own_environment(&files[i], &names[i]),
        });
    }
    let mut by_group: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in (0..n).filter(|&i| ok(i)) {
        by_group.entry(g.find(i)).or_default().push(i);
    }
    for members in by_group.values() {
        let group = group_name(files, names, members);
        let unmarked: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| own[i].is_none())
            .collect();
        let explicit_prod: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| own[i].as_ref().is_some_and(|o| o.0 == Env::Production))
            .collect();
        let marked_other: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| own[i].as_ref().is_some_and(|o| o.0 != Env::Production))
            .collect();
        let mut unmarked_apps: Vec<Option<String>> =
            unmarked.iter().map(|&i| files[i].app.clone()).collect();
        unmarked_apps.sort();
        unmarked_apps.dedup();
        let prod_path = explicit_prod
            .first()
            .map(|&p| files[p].path.display().to_string());
        for &i in members {
            let f = &mut files[i];
            f.app_group = group.clone();
            f.group_why = if links[i].is_empty() {
                "no other file for this app".into()
            } else {
                format!("with {}", links[i].join(", "))
            };
            if let Some((env, why)) = &own[i] {
                f.environment = *env;
                f.why = why.clone();
                continue;
            }
            let none = format!(
                "no environment word in file name {}, its directory or app name {}",
                f.file_name(),
                f.app.as_deref().unwrap_or("(none)")
            );
            let sibling = marked_other.first().map(|&j| {
                let env = own[j].as_ref().map(|o| o.0.as_str()).unwrap_or("");
                let other_app = files[j].app.clone().unwrap_or_default();
                let other_path = files[j].path.display().to_string();
                (other_path, other_app, env)
            });
            let f = &mut files[i];
            match (&prod_path, sibling) {
                (Some(p), _) => {
                    f.environment = Env::Unknown;
                    f.why = format!(
                        "{none}, and {p} is this group's production file: which environment this is cannot be told"
                    );
                }
                (None, Some((path, app, env))) if f.app.is_some() && unmarked_apps.len() == 1 => {
                    f.environment = Env::Production;
                    f.why = format!(
                        "{none}; sibling {path} ({app}) is {env}, so this is production by elimination"
                    );
                }
                (None, Some(_)) if f.app.is_none() => {
                    f.environment = Env::Unknown;
                    f.why = format!("{none}; with no app key it is not production by elimination");
                }
                (None, Some(_)) => {
                    f.environment = Env::Unknown;
                    f.why = format!(
                        "{none}; several files of this group deploy different apps and say nothing, so none is production by elimination"
                    );
                }
                (None, None) => {
                    f.environment = Env::Unknown;
                    f.why = format!("{none}, and no sibling file for the same app");
                }
            }
        }
    }
    // Files that could not be read: only their names speak.
    for i in (0..n).filter(|&i| !ok(i)) {
        let (env, why) = own[i]
            .clone()
            .unwrap_or((Env::Unknown, "the file could not be read".to_string()));
        files[i].environment = env;
        files[i].why = why;
        files[i].group_why = "not paired: the file could not be read".into();
    }
}

/// The name of a group: the file names' service word (`fly.kb.staging.toml` → `kb`), else
/// the nearest directory that is not generic (`apps/api/fly.toml` → `api`), else the app
/// name's stem.
fn group_name(files: &[FlyFile], names: &[Names], members: &[usize]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for &i in members {
        if !names[i].service.is_empty() {
            *counts.entry(names[i].service.as_str()).or_default() += 1;
        }
    }
    if let Some((s, _)) = counts
        .iter()
        .max_by_key(|(s, c)| (**c, std::cmp::Reverse(**s)))
    {
        return s.to_string();
    }
    for &i in members {
        let dir = names[i]
            .dir
            .components()
            .rev()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .find(|d| !GENERIC_DIRS.contains(&d.as_str()));
        if let Some(d) = dir {
            let stem = envs::stem(&envs::words(&d)).join("-");
            if !stem.is_empty() {
                return stem;
            }
        }
    }
    // The stem most files share (the first file's on a tie).
    let mut stems: Vec<(usize, &str)> = Vec::new();
    for &i in members {
        let s = names[i].stem.as_str();
        if s.is_empty() {
            continue;
        }
        match stems.iter_mut().find(|(_, x)| *x == s) {
            Some(e) => e.0 += 1,
            None => stems.push((1, s)),
        }
    }
    let best = stems.iter().map(|e| e.0).max().unwrap_or(0);
    stems
        .iter()
        .find(|e| e.0 == best)
        .map(|e| e.1.to_string())
        .or_else(|| members.iter().find_map(|&i| files[i].app.clone()))
        .unwrap_or_else(|| "app".into())
}
