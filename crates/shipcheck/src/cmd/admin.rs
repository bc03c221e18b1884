//! `unlock` and `config check`.

use crate::cli::{Global, Who};
use crate::context;
use crate::errors::CliError;
use crate::json::{self, docs};

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
        json::print(
            "unlock",
            &docs::Unlock {
                env: env.to_string(),
                broken: broken.as_ref().map(|l| docs::BrokenLock {
                    run: l.run_id.clone(),
                    holder: l.holder.clone(),
                    since: l.since,
                }),
            },
        );
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
        json::print(
            "config_check",
            &docs::ConfigCheck {
                path: loaded.path.clone(),
                valid: true,
                project: c.project.name.clone(),
                environments: c.environments.keys().cloned().collect(),
                apps,
                items: loaded.checklist.items.len(),
            },
        );
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
