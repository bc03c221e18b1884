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
    let by = context::actor(&session, &who.by).await?;
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

/// `shipcheck config accept`: the open run uses the config on disk from now on.
pub async fn config_accept(
    g: &Global,
    reason: &str,
    who: &crate::cli::Who,
) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    let run = session.resolve(who.run.as_deref(), &who.env).await?;
    let by = context::actor(&session, &who.by).await?;
    let (run, diff) = shipcheck_core::runs::pin::accept(&session, &run, &by, reason).await?;
    // The programs and URLs the run now uses, against the production branch's.
    let trust = match shipcheck_core::runs::trust::compare_with_production(&session).await {
        shipcheck_core::runs::trust::Trust::Differs(lines) => lines,
        _ => Vec::new(),
    };
    if !trust.is_empty() && !g.json {
        say!(
            "the run now uses programs and URLs that differ from the production branch's config (accepted with this reason):"
        );
        for l in &trust {
            say!("  {l}");
        }
    }
    if g.json {
        json::print(
            "config_accept",
            &docs::ConfigAccept {
                run: run.id.clone(),
                digest: run.config_digest.clone(),
                by: by.clone(),
                diff: diff.clone(),
                differs_from_production: trust,
            },
        );
    } else {
        say!(
            "run {} now uses {} (accepted by {by}: {}):\n{diff}",
            run.id,
            session.loaded.path.display(),
            reason.trim()
        );
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
