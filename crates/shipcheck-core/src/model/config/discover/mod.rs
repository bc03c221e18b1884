//! What `shipcheck init` can learn from a repository's Fly config files, and what it cannot.
//!
//! Files: `fly.toml`, `fly.NAME.toml`, `fly-NAME.toml`, and the same names ending in `.yml`
//! when they hold TOML (flyctl reads every config file as TOML unless its name ends in
//! `.json` or `.yaml`). For each file: the app, its environment (from the file name, the
//! directory and the app name — never from `[env]` values), its app group (the logical app
//! across environments), the public HTTP service and its internal port, a health path only
//! from an HTTP check that reaches that port, the region only from `primary_region`, process
//! groups and the release command — each conclusion with the reason for it.
//!
//! [`read`] reads one file, [`envs`] reads names, [`pair`] pairs files and decides
//! environments.

mod envs;
mod pair;
mod read;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Directories never searched: dependencies and build output.
const SKIP: [&str; 6] = ["node_modules", "target", "vendor", "dist", "build", "tmp"];
/// Directories not searched because they hold sample configs, not the repository's own
/// deployments; init says how many Fly files it passed over in them.
pub const SAMPLE_DIRS: [&str; 3] = ["fixtures", "testdata", "examples"];
/// How deep below the repository the search goes.
const MAX_DEPTH: usize = 4;
/// How deep below a sample directory init counts the Fly files it passes over.
const SAMPLE_DEPTH: usize = 8;

/// An environment as init tells it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Env {
    /// Live.
    Production,
    /// The stage before production.
    Staging,
    /// A developer's deployment.
    Development,
    /// A preview (per pull request).
    Preview,
    /// A test or QA deployment.
    Test,
    /// A real deployment that is not a stage before production (sandbox, test network,
    /// example, log shipper).
    Other,
    /// Nothing says.
    #[default]
    Unknown,
}

impl Env {
    /// `production`, `staging`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Env::Production => "production",
            Env::Staging => "staging",
            Env::Development => "development",
            Env::Preview => "preview",
            Env::Test => "test",
            Env::Other => "other",
            Env::Unknown => "unknown",
        }
    }

    /// The environment named `s` (as [`Env::as_str`] writes it).
    pub fn parse(s: &str) -> Option<Env> {
        [
            Env::Production,
            Env::Staging,
            Env::Development,
            Env::Preview,
            Env::Test,
            Env::Other,
            Env::Unknown,
        ]
        .into_iter()
        .find(|e| e.as_str() == s)
    }
}

/// One Fly config file and what init concluded from it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FlyFile {
    /// The file, relative to the repository.
    pub path: PathBuf,
    /// `app` (absent in some files; flyctl then needs `-a`).
    pub app: Option<String>,
    /// The environment.
    pub environment: Env,
    /// Why that environment.
    pub why: String,
    /// The logical app across environments (`api` for `midday-api` and `midday-api-staging`).
    pub app_group: String,
    /// Which files it was paired with, and how.
    pub group_why: String,
    /// Declares `[http_service]`, or `[[services]]` on port 80/443 with an http/tls handler.
    pub public_http: bool,
    /// The public service's internal port (or the only service's, when none is public).
    pub internal_port: Option<u16>,
    /// The path of an HTTP check on the public service's internal port.
    pub health_path: Option<String>,
    /// `https://<app>.fly.dev<path>` when the service is public and the path is known (or
    /// the URL a person gave).
    pub health_url: Option<String>,
    /// Where the health path came from, or why there is none.
    pub health_why: String,
    /// `primary_region`.
    pub region: Option<String>,
    /// `auto_stop_machines` of the public (or only) service: `stop`, `suspend` or `off`.
    pub auto_stop: Option<String>,
    /// `min_machines_running` of the public (or only) service.
    pub min_machines_running: Option<i64>,
    /// `[processes]` keys, in file order.
    pub process_groups: Vec<String>,
    /// `[deploy] release_command` is set.
    pub release_command: bool,
    /// Why the file could not be read, if it could not.
    pub problem: Option<String>,
    /// What was noticed and not used (checks flyctl does not read, an ambiguous port).
    pub notes: Vec<String>,
}

impl FlyFile {
    /// The file's name (`fly.staging.toml`).
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// A file that looked like Fly config and was not read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ignored {
    /// The file, relative to the repository.
    pub path: PathBuf,
    /// Why.
    pub why: String,
}

/// A directory init did not search although it holds Fly config files.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NotSearched {
    /// The directory, relative to the repository.
    pub dir: PathBuf,
    /// How many Fly config files are in it.
    pub fly_files: usize,
}

/// Everything init learnt from a repository.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Discovery {
    /// The Fly config files, sorted by path.
    pub files: Vec<FlyFile>,
    /// Files named like Fly config that were not read.
    pub ignored: Vec<Ignored>,
    /// Sample directories ([`SAMPLE_DIRS`]) that hold Fly config files and were skipped.
    pub not_searched: Vec<NotSearched>,
}

/// What a person told init (on the terminal) that the files could not.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Answers {
    /// The environment of a file (path relative to the repository).
    pub environments: BTreeMap<PathBuf, Env>,
    /// The health endpoint of a file's app: a path (`/health`) or a full URL.
    pub health: BTreeMap<PathBuf, String>,
}

/// Finds and reads the Fly config files under `repo_dir`.
pub fn discover(repo_dir: &Path) -> Discovery {
    discover_with(repo_dir, &Answers::default())
}

/// [`discover`], with what a person answered taking precedence.
pub fn discover_with(repo_dir: &Path, answers: &Answers) -> Discovery {
    let mut found = Found::default();
    walk(repo_dir, repo_dir, 0, MAX_DEPTH, &mut found);
    found.files.sort();
    found.not_searched.sort_by(|a, b| a.dir.cmp(&b.dir));
    let read = found.files.iter().map(|path| {
        let rel = path.strip_prefix(repo_dir).unwrap_or(path).to_path_buf();
        (rel, std::fs::read_to_string(path))
    });
    conclude(read, found.ignored, found.not_searched, answers)
}

/// [`discover_with`] over files already read: each file's path relative to the repository
/// and its text (what a directory walk would have found).
pub fn discover_texts(files: &[(PathBuf, String)], answers: &Answers) -> Discovery {
    let mut files: Vec<&(PathBuf, String)> = files.iter().collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let read = files.into_iter().map(|(p, t)| (p.clone(), Ok(t.clone())));
    conclude(read, Vec::new(), Vec::new(), answers)
}

/// Reads the files found, pairs them and applies what a person answered.
fn conclude(
    read: impl Iterator<Item = (PathBuf, std::io::Result<String>)>,
    mut ignored: Vec<Ignored>,
    not_searched: Vec<NotSearched>,
    answers: &Answers,
) -> Discovery {
    let mut files = Vec::new();
    let mut names = Vec::new();
    for (rel, text) in read {
        match read_one(rel, text) {
            Ok(f) => {
                names.push(pair::names(&f.path, f.app.as_deref()));
                files.push(f);
            }
            Err(i) => ignored.push(i),
        }
    }
    ignored.sort_by(|a, b| a.path.cmp(&b.path));
    pair::conclude(&mut files, &names, &answers.environments);
    for f in &mut files {
        if let Some(h) = answers.health.get(&f.path) {
            apply_health(f, h);
        }
    }
    Discovery {
        files,
        ignored,
        not_searched,
    }
}

fn apply_health(f: &mut FlyFile, answer: &str) {
    let answer = answer.trim();
    if answer.starts_with("https://") || answer.starts_with("http://") {
        f.health_url = Some(answer.to_string());
    } else if let Some(app) = &f.app {
        let path = if answer.starts_with('/') {
            answer.to_string()
        } else {
            format!("/{answer}")
        };
        f.health_url = Some(format!("https://{app}.fly.dev{path}"));
        f.health_path = Some(path);
    } else {
        return;
    }
    f.health_why = "you gave it".into();
}

#[derive(Default)]
struct Found {
    files: Vec<PathBuf>,
    ignored: Vec<Ignored>,
    not_searched: Vec<NotSearched>,
}

fn walk(root: &Path, dir: &Path, depth: usize, max: usize, out: &mut Found) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(kind) = e.file_type() else { continue };
        let rel = || {
            e.path()
                .strip_prefix(root)
                .unwrap_or(&e.path())
                .to_path_buf()
        };
        if kind.is_dir() {
            if depth >= max || name.starts_with('.') || SKIP.contains(&name.as_str()) {
                continue;
            }
            if SAMPLE_DIRS.contains(&name.as_str()) {
                let mut inner = Found::default();
                walk(root, &e.path(), 0, SAMPLE_DEPTH, &mut inner);
                let count = inner.files.len()
                    + inner.ignored.len()
                    + inner
                        .not_searched
                        .iter()
                        .map(|n| n.fly_files)
                        .sum::<usize>();
                if count > 0 {
                    out.not_searched.push(NotSearched {
                        dir: rel(),
                        fly_files: count,
                    });
                }
                continue;
            }
            walk(root, &e.path(), depth + 1, max, out);
        } else if kind.is_file() {
            match fly_name(&name) {
                Some(NameKind::Toml) => out.files.push(e.path()),
                Some(NameKind::Other(why)) => out.ignored.push(Ignored {
                    path: rel(),
                    why: why.into(),
                }),
                None => {}
            }
        }
    }
}

enum NameKind {
    /// Read as TOML (`.toml`, and `.yml`, which flyctl also reads as TOML).
    Toml,
    /// A Fly config in a format init does not read.
    Other(&'static str),
}

/// `fly.toml`, `fly.NAME.toml`, `fly-NAME.toml` (and `.yml`, `.yaml`, `.json`).
fn fly_name(name: &str) -> Option<NameKind> {
    let (base, kind) = if let Some(b) = name.strip_suffix(".toml") {
        (b, NameKind::Toml)
    } else if let Some(b) = name.strip_suffix(".yml") {
        (b, NameKind::Toml)
    } else if let Some(b) = name.strip_suffix(".yaml") {
        (
            b,
            NameKind::Other(
                "flyctl reads a .yaml config as YAML, which init does not read: add this app by hand",
            ),
        )
    } else if let Some(b) = name.strip_suffix(".json") {
        (
            b,
            NameKind::Other(
                "flyctl reads a .json config as JSON, which init does not read: add this app by hand",
            ),
        )
    } else {
        return None;
    };
    let named =
        base == "fly" || (base.len() > 4 && (base.starts_with("fly.") || base.starts_with("fly-")));
    named.then_some(kind)
}

/// Reads one file. A `.yml` file that is not TOML is not a Fly config (flyctl would not
/// read it either) and is ignored; any other unreadable file is a `problem` on that file.
fn read_one(rel: PathBuf, text: std::io::Result<String>) -> Result<FlyFile, Ignored> {
    let yml = rel.extension().is_some_and(|e| e == "yml");
    let mut d = FlyFile {
        path: rel.clone(),
        ..FlyFile::default()
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => {
            d.problem = Some(format!("cannot read it: {e}"));
            return Ok(d);
        }
    };
    let doc: toml::Table = match toml::from_str(&text) {
        Ok(t) => t,
        Err(_) if yml => {
            return Err(Ignored {
                path: rel,
                why: "a .yml file that is not TOML: not a Fly config (flyctl reads .yml configs as TOML)".into(),
            });
        }
        Err(e) => {
            let line = e
                .span()
                .map(|s| text.get(..s.start).unwrap_or(&text).matches('\n').count() + 1);
            d.problem = Some(match line {
                Some(l) => format!("not valid TOML (line {l}): {}", e.message().trim()),
                None => format!("not valid TOML: {}", e.message().trim()),
            });
            return Ok(d);
        }
    };
    let name = rel.display().to_string();
    let facts = read::facts(&doc, &text, &name);
    d.app = facts.app;
    d.region = facts.region;
    d.public_http = facts.public_http;
    d.internal_port = facts.internal_port;
    d.health_path = facts.health_path;
    d.health_why = facts.health_why;
    d.auto_stop = facts.auto_stop;
    d.min_machines_running = facts.min_machines_running;
    d.process_groups = facts.process_groups;
    d.release_command = facts.release_command;
    d.notes = facts.notes;
    if yml {
        d.notes
            .push("a .yml file holding TOML: flyctl reads it as TOML, and so does init".into());
    }
    if let (true, Some(app), Some(path)) = (d.public_http, &d.app, &d.health_path) {
        d.health_url = Some(format!("https://{app}.fly.dev{path}"));
    }
    Ok(d)
}

#[cfg(test)]
pub(crate) mod corpus_tests;
#[cfg(test)]
mod tests;
