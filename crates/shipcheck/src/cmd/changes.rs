//! `shipcheck changes`: the change set and the conditional items it triggers.

use std::sync::Arc;

use shipcheck_core::clients::Clients;
use shipcheck_core::model::checklist::conditions;

use crate::cli::Global;
use crate::context;
use crate::errors::CliError;
use crate::json::{self, docs};

pub async fn run(g: &Global) -> Result<u8, CliError> {
    let loaded = context::load_config(g)?;
    let clock = shipcheck_core::model::clock::for_config(&loaded.config.clock)
        .map_err(|e| CliError::Usage(e.0))?;
    let clients = Clients::new(Arc::new(loaded.config.clone()), loaded.base_dir(), clock);
    let changes = clients
        .repo()
        .change_set()
        .await
        .map_err(|e| CliError::Integration(format!("cannot compute the change set: {e}")))?;
    let triggered =
        conditions::evaluate_checklist(&loaded.checklist, &changes, &loaded.config.paths);
    if g.json {
        let conditional_items = triggered
            .iter()
            .map(|(id, r)| docs::ConditionalItem {
                id: id.clone(),
                required: r.required,
                reason: r.reason.clone(),
            })
            .collect();
        json::print(
            "changes",
            &docs::Changes {
                changes: (*changes).clone(),
                conditional_items,
            },
        );
        return Ok(0);
    }
    say!("{}", changes.summary());
    say!("\ncommits ({}):", changes.commits.len());
    for line in changes.oneline() {
        say!("  {line}");
    }
    say!(
        "\nfiles ({}, {} lines changed):",
        changes.files.len(),
        changes.lines_changed()
    );
    for f in &changes.files {
        if f.binary {
            say!("  {} (binary)", f.path);
        } else {
            say!("  {}  +{} -{}", f.path, f.insertions, f.deletions);
        }
    }
    for b in changes
        .branches
        .iter()
        .filter(|b| b.ahead > 0 || b.behind > 0)
    {
        say!(
            "\nnote: local {} is {} ahead and {} behind {}",
            b.branch,
            b.ahead,
            b.behind,
            b.remote.as_deref().unwrap_or("its remote")
        );
    }
    say!("\nconditional items:");
    for (id, r) in &triggered {
        say!(
            "  {:<34} {}  {}",
            id,
            if r.required {
                "required    "
            } else {
                "not required"
            },
            r.reason
        );
    }
    Ok(0)
}
