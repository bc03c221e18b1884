//! `shipcheck replay`: a recorded watch re-judged with another policy.

use std::path::Path;

use shipcheck_core::watch::replay::{Side, replay};

use crate::cli::Global;
use crate::context;
use crate::errors::CliError;
use crate::json;

pub async fn run(
    g: &Global,
    run: Option<&str>,
    policy: Option<&Path>,
    env: &str,
) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    let state = session.resolve(run, env).await?;
    let events = session.store.events(&state.id).await?;
    let other;
    let config = match policy {
        Some(path) => {
            other = shipcheck_core::model::config::load_file(path)
                .map_err(|e| CliError::Usage(e.render()))?;
            &other.config
        }
        None => &session.loaded.config,
    };
    let r = replay(&state, &events, config);
    if g.json {
        json::print("replay", &r);
        return Ok(0);
    }
    if r.legs.is_empty() {
        say_err!("run {} has no watch to replay", r.run);
        return Ok(1);
    }
    let with = policy
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "the project's policy".into());
    say!("replay of run {} with {with}", r.run);
    for leg in &r.legs {
        say!(
            "\nwatch {} ({}): {} health sample(s), {} probe(s) kept",
            leg.leg,
            match leg.purpose {
                shipcheck_core::model::watch::Purpose::Release => "the release's",
                shipcheck_core::model::watch::Purpose::AfterRollback => "after the rollback",
            },
            leg.samples,
            leg.probes
        );
        side("happened", &leg.recorded);
        side("replayed", &leg.replayed);
    }
    Ok(0)
}

fn side(label: &str, s: &Side) {
    say!("  {label}: {}", s.verdict);
    for i in &s.incidents {
        say!(
            "    +{}s {} ({}): {}",
            i.after_s,
            i.severity.as_str(),
            i.response,
            i.summary
        );
    }
    if let Some(t) = s.rollback_at {
        say!("    rollback at {t}");
    }
    if let Some(t) = s.verified_at {
        say!("    verified at {t}");
    }
}
