//! Which programs and URLs a run may use with the deployer's tokens. The settings of the
//! config that name a program or a URL — `[fly] command`, the integrations' API URLs and the
//! variables whose tokens they receive, the CDEvents sink, the command checks' and actions' argv — are compared, when a run starts, with the production branch's
//! committed `shipcheck.toml` (`git show REMOTE/PRODUCTION:PATH`): a release branch's config
//! cannot run its own `[fly] command` with `FLY_ACCESS_TOKEN` in its environment unless a
//! person saw the difference and confirmed it (`start --trust-config`, journaled). Accepting
//! a changed config mid-run (`shipcheck config accept`) shows the same comparison.

use std::collections::BTreeMap;
use std::path::Path;

use crate::clients::git::Git;
use crate::model::checklist::{ActionSpec, CheckSpec, CommandCheck};
use crate::model::config::LoadedConfig;
use crate::runs::Session;

/// How the config's programs and URLs compare with the production branch's.
#[derive(Clone, Debug, PartialEq)]
pub enum Trust {
    /// The same as the production branch's committed config.
    Same,
    /// Different: one line per setting (`fly.command: "flyctl" → "./evil.sh"`).
    Differs(Vec<String>),
    /// Not compared, and why (no committed config on the production branch, the config is
    /// outside the repository, git failed).
    NotCompared(String),
}

/// The settings of a config that name a program or a URL, by name.
pub fn integration_settings(loaded: &LoadedConfig) -> BTreeMap<String, String> {
    let c = &loaded.config;
    let mut out = BTreeMap::new();
    out.insert("fly.command".into(), c.fly.command.join(" "));
    // Each URL that receives a token, with the variable whose token it receives: a branch
    // that points `[events] token_env` at `GITHUB_TOKEN` sends that token to the sink.
    if let Some(g) = &c.github {
        out.insert("github.api_url".into(), g.api_url.clone());
        out.insert("github.token_env".into(), g.token_env.clone());
    }
    if let Some(s) = &c.sentry {
        out.insert("sentry.url".into(), s.url.clone());
        out.insert("sentry.token_env".into(), s.token_env.clone());
    }
    if let Some(p) = &c.prometheus {
        out.insert("prometheus.url".into(), p.url.clone());
        if let Some(t) = &p.token_env {
            out.insert("prometheus.token_env".into(), t.clone());
        }
    }
    if let Some(e) = &c.events {
        out.insert("events.sink".into(), e.sink.clone());
        if let Some(t) = &e.token_env {
            out.insert("events.token_env".into(), t.clone());
        }
    }
    if let Some(k) = &c.team.ssh_keygen {
        out.insert("team.ssh_keygen".into(), k.clone());
    }
    for item in &loaded.checklist.items {
        if let Some(CheckSpec::Command(cmd)) = &item.check {
            out.insert(format!("{} (command check)", item.id), program(cmd));
        }
        if let Some(ActionSpec::Command(cmd)) = &item.action {
            out.insert(format!("{} (command action)", item.id), program(cmd));
        }
    }
    out
}

/// What a command check or action runs, as shown in the comparison.
fn program(cmd: &CommandCheck) -> String {
    match &cmd.shell {
        Some(line) => format!("sh -c {line}"),
        None => cmd.argv.join(" "),
    }
}

/// A file of the repository as the production branch has it committed (`git show
/// REMOTE/PRODUCTION:PATH`, the remote-tracking branch as last fetched): what was read (the
/// spec) and its text, `None` when the branch has no such file. `why` names the read in git's
/// errors.
pub async fn on_production(
    loaded: &LoadedConfig,
    rel: &str,
    why: &str,
) -> Result<(String, Option<String>), crate::clients::git::GitError> {
    let git_cfg = &loaded.config.git;
    let repo = loaded.base_dir().join(&git_cfg.repo);
    let spec = format!("{}/{}:{rel}", git_cfg.remote, git_cfg.production);
    let out = Git::new(&repo).output(&["show", &spec], why).await?;
    let text = out.success().then_some(out.stdout);
    Ok((spec, text))
}

/// Compares the config on disk with the production branch's committed one.
pub async fn compare_with_production(session: &Session) -> Trust {
    let loaded = &session.loaded;
    let git_cfg = &loaded.config.git;
    let repo = loaded.base_dir().join(&git_cfg.repo);
    let Some(rel) = relative(&loaded.path, &repo) else {
        return Trust::NotCompared(format!(
            "{} is not inside the repository {}",
            loaded.path.display(),
            repo.display()
        ));
    };
    let (spec, out) = match on_production(
        loaded,
        &rel,
        "read the production branch's committed config",
    )
    .await
    {
        Ok((spec, Some(text))) => (spec, text),
        Ok((spec, None)) => {
            return Trust::NotCompared(format!(
                "the production branch has no committed {rel} ({spec})"
            ));
        }
        Err(e) => return Trust::NotCompared(format!("git failed: {e}")),
    };
    let committed = match crate::model::config::load_str(&loaded.path, &out) {
        Ok(c) => c,
        Err(e) => {
            return Trust::Differs(vec![format!(
                "the production branch's {rel} does not load ({e}); every program and URL here is new"
            )]);
        }
    };
    let (a, b) = (
        integration_settings(&committed),
        integration_settings(loaded),
    );
    let mut lines = Vec::new();
    for (k, v) in &b {
        match a.get(k) {
            Some(old) if old == v => {}
            Some(old) => lines.push(format!("{k}: {old:?} on {spec} → {v:?} here")),
            None => lines.push(format!("{k}: {v:?} here, absent on {spec}")),
        }
    }
    for (k, v) in &a {
        if !b.contains_key(k) {
            lines.push(format!("{k}: {v:?} on {spec}, absent here"));
        }
    }
    if lines.is_empty() {
        Trust::Same
    } else {
        Trust::Differs(lines)
    }
}

/// `path` relative to `repo` (both made absolute), `/`-separated.
fn relative(path: &Path, repo: &Path) -> Option<String> {
    let path = std::fs::canonicalize(path).ok()?;
    let repo = std::fs::canonicalize(repo).ok()?;
    let rel = path.strip_prefix(&repo).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}
