//! What `shipcheck init` can learn from a repository: its `fly.toml` files (and
//! `fly.*.toml`, e.g. `fly.production.toml`): the app, its primary region, and the health
//! URL from the HTTP service's check path (`https://<app>.fly.dev<path>`).

use std::path::{Path, PathBuf};

/// Directories never searched.
const SKIP: [&str; 6] = ["node_modules", "target", "vendor", "dist", "build", "tmp"];
/// How deep below the repository the search goes.
const MAX_DEPTH: usize = 4;

/// One Fly config file found in the repository.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiscoveredFlyApp {
    /// The file, relative to the repository.
    pub path: PathBuf,
    /// `app` (absent in some files; flyctl then needs `-a`).
    pub app: Option<String>,
    /// `primary_region`.
    pub primary_region: Option<String>,
    /// The first HTTP check path (`[[http_service.checks]]`, `[[services.http_checks]]` or
    /// an http `[checks.NAME]`).
    pub health_path: Option<String>,
    /// `https://<app>.fly.dev<path>`, when both are known.
    pub health_url: Option<String>,
    /// `staging` or `production`, guessed from the app or file name.
    pub env_guess: Option<String>,
    /// A short name shared across environments: the directory's name when the file is not at
    /// the repository root, else the app name without its environment word.
    pub name_guess: Option<String>,
    /// Why the file could not be read, if it could not.
    pub problem: Option<String>,
}

/// Finds the Fly config files under `repo_dir` (sorted by path; `.git`, hidden directories,
/// `node_modules`, `target` and the like are skipped).
pub fn discover_fly_apps(repo_dir: &Path) -> Vec<DiscoveredFlyApp> {
    let mut files = Vec::new();
    walk(repo_dir, 0, &mut files);
    files.sort();
    files.into_iter().map(|f| read_one(repo_dir, &f)).collect()
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() {
            if depth < MAX_DEPTH && !name.starts_with('.') && !SKIP.contains(&name.as_str()) {
                walk(&e.path(), depth + 1, out);
            }
        } else if kind.is_file() && is_fly_toml(&name) {
            out.push(e.path());
        }
    }
}

fn is_fly_toml(name: &str) -> bool {
    name == "fly.toml" || (name.starts_with("fly.") && name.ends_with(".toml"))
}

fn read_one(repo: &Path, file: &Path) -> DiscoveredFlyApp {
    let rel = file.strip_prefix(repo).unwrap_or(file).to_path_buf();
    let mut d = DiscoveredFlyApp {
        path: rel.clone(),
        ..DiscoveredFlyApp::default()
    };
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            d.problem = Some(e.to_string());
            return d;
        }
    };
    let doc: toml::Table = match toml::from_str(&text) {
        Ok(t) => t,
        Err(e) => {
            d.problem = Some(format!("not valid TOML: {}", e.message()));
            return d;
        }
    };
    let text_of = |v: Option<&toml::Value>| v.and_then(|v| v.as_str()).map(str::to_string);
    d.app = text_of(doc.get("app")).filter(|s| !s.is_empty());
    d.primary_region = text_of(doc.get("primary_region")).filter(|s| !s.is_empty());
    d.health_path = health_path(&doc);
    if let (Some(app), Some(path)) = (&d.app, &d.health_path) {
        let path = if path.starts_with('/') {
            path.clone()
        } else {
            format!("/{path}")
        };
        d.health_url = Some(format!("https://{app}.fly.dev{path}"));
    }
    let file_name = rel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    d.env_guess = d
        .app
        .as_deref()
        .and_then(env_word)
        .or_else(|| env_word(&file_name))
        .map(|(env, _)| env.to_string());
    let dir_name = rel
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned());
    d.name_guess = dir_name.or_else(|| {
        let app = d.app.as_deref()?;
        Some(match env_word(app) {
            Some((_, word)) => strip_word(app, word),
            None => app.to_string(),
        })
    });
    d
}

/// The first HTTP check path in the file.
fn health_path(doc: &toml::Table) -> Option<String> {
    let path_of = |c: &toml::Value| {
        let t = c.as_table()?;
        let is_http = t
            .get("type")
            .and_then(|v| v.as_str())
            .is_none_or(|ty| ty == "http");
        t.get("path")
            .and_then(|p| p.as_str())
            .filter(|_| is_http)
            .map(str::to_string)
    };
    let list = |v: Option<&toml::Value>| -> Option<String> {
        match v? {
            toml::Value::Array(a) => a.iter().find_map(path_of),
            t @ toml::Value::Table(_) => path_of(t),
            _ => None,
        }
    };
    if let Some(p) = list(doc.get("http_service").and_then(|h| h.get("checks"))) {
        return Some(p);
    }
    if let Some(toml::Value::Array(services)) = doc.get("services")
        && let Some(p) = services.iter().find_map(|s| list(s.get("http_checks")))
    {
        return Some(p);
    }
    doc.get("checks")
        .and_then(|c| c.as_table())
        .and_then(|t| t.values().find_map(path_of))
}

/// The environment a name mentions, and the word that says it.
fn env_word(name: &str) -> Option<(&'static str, &'static str)> {
    let words: Vec<&str> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .map(|w| w.trim())
        .collect();
    for (env, spellings) in [
        ("production", ["production", "prod", "prd"]),
        ("staging", ["staging", "stage", "stg"]),
    ] {
        for s in spellings {
            if words.iter().any(|w| w.eq_ignore_ascii_case(s)) {
                return Some((env, s));
            }
        }
    }
    None
}

fn strip_word(app: &str, word: &str) -> String {
    app.split('-')
        .filter(|w| !w.eq_ignore_ascii_case(word))
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn finds_apps_regions_and_health_urls() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        write(
            d,
            "apps/internal-api/fly.production.toml",
            "app = \"acme-production-internal-api\"\nprimary_region = \"fra\"\n\n[http_service]\ninternal_port = 8080\n\n[[http_service.checks]]\ninterval = \"15s\"\nmethod = \"GET\"\npath = \"/api/health\"\n",
        );
        write(
            d,
            "apps/internal-api/fly.staging.toml",
            "app = \"acme-staging-internal-api\"\nprimary_region = \"fra\"\n",
        );
        write(
            d,
            "fly.toml",
            "app = 'acme-prod-public'\nprimary_region = 'ams'\n[[services]]\ninternal_port = 3000\n[[services.http_checks]]\npath = 'healthz'\n",
        );
        write(d, "node_modules/x/fly.toml", "app = \"ignored\"\n");
        write(d, "broken/fly.toml", "app = \n");
        let found = discover_fly_apps(d);
        let paths: Vec<String> = found.iter().map(|f| f.path.display().to_string()).collect();
        assert_eq!(
            paths,
            vec![
                "apps/internal-api/fly.production.toml",
                "apps/internal-api/fly.staging.toml",
                "broken/fly.toml",
                "fly.toml"
            ]
        );
        let prod = &found[0];
        assert_eq!(prod.app.as_deref(), Some("acme-production-internal-api"));
        assert_eq!(prod.primary_region.as_deref(), Some("fra"));
        assert_eq!(
            prod.health_url.as_deref(),
            Some("https://acme-production-internal-api.fly.dev/api/health")
        );
        assert_eq!(prod.env_guess.as_deref(), Some("production"));
        assert_eq!(prod.name_guess.as_deref(), Some("internal-api"));
        assert_eq!(found[1].env_guess.as_deref(), Some("staging"));
        assert_eq!(found[1].health_url, None);
        assert!(found[2].problem.as_deref().unwrap().contains("TOML"));
        let root = &found[3];
        assert_eq!(
            root.health_url.as_deref(),
            Some("https://acme-prod-public.fly.dev/healthz")
        );
        assert_eq!(root.name_guess.as_deref(), Some("acme-public"));
        assert_eq!(root.env_guess.as_deref(), Some("production"));
    }

    #[test]
    fn machine_checks_table() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "fly.toml",
            "app = \"a\"\n[checks.tcp]\ntype = \"tcp\"\nport = 8080\n[checks.health]\ntype = \"http\"\nport = 8080\npath = \"/up\"\n",
        );
        let found = discover_fly_apps(tmp.path());
        assert_eq!(found[0].health_path.as_deref(), Some("/up"));
        assert_eq!(found[0].env_guess, None);
    }
}
