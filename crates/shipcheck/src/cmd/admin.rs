//! `unlock` and `config check`.

use serde_json::json;

use crate::cli::{Global, Who};
use crate::context;
use crate::errors::CliError;

pub async fn unlock(g: &Global, reason: &str, who: &Who) -> Result<u8, CliError> {
    let env = who.env.as_str();
    if reason.trim().is_empty() {
        return Err(CliError::Usage(
            "unlock needs a reason: `shipcheck unlock --reason TEXT`".into(),
        ));
    }
    let session = context::session(g).await?;
    let by = context::actor(&who.by).await;
    let now = session.clock.now();
    let broken = session
        .store
        .break_lock(session.project(), env, &by, reason.trim(), now)
        .await?;
    if g.json {
        super::print_json(&json!({
            "schema": shipcheck_core::JSON_SCHEMA,
            "kind": "unlock",
            "env": env,
            "broken": broken.as_ref().map(|l| json!({"run": l.run_id, "holder": l.holder, "since": l.since})),
        }));
    } else {
        match broken {
            Some(l) => say!(
                "broke the {env} lock held by run {} ({} since {}); recorded with your reason",
                l.run_id,
                l.holder,
                l.since
            ),
            None => say!("the {env} deploy of {} was not locked", session.project()),
        }
    }
    Ok(0)
}

pub fn config_check(g: &Global) -> Result<u8, CliError> {
    let loaded = context::load_config(g)?;
    let c = &loaded.config;
    let apps: usize = c.environments.values().map(|e| e.apps.len()).sum();
    if g.json {
        super::print_json(&json!({
            "schema": shipcheck_core::JSON_SCHEMA,
            "kind": "config_check",
            "path": loaded.path,
            "valid": true,
            "project": c.project.name,
            "environments": c.environments.keys().collect::<Vec<_>>(),
            "apps": apps,
            "items": loaded.checklist.items.len(),
        }));
    } else {
        say!(
            "{} is valid: project {}, {} environment(s), {apps} app(s), {} checklist items",
            loaded.path.display(),
            c.project.name,
            c.environments.len(),
            loaded.checklist.items.len()
        );
    }
    Ok(0)
}
