//! `shipcheck plan`: the checklist, phase by phase.

use shipcheck_core::model::checklist::Phase;

use crate::cli::Global;
use crate::context;
use crate::errors::CliError;
use crate::json::{self, docs};

pub fn run(g: &Global) -> Result<u8, CliError> {
    let loaded = context::load_config_or_default(g)?;
    let list = &loaded.checklist;
    if g.json {
        let phases: Vec<_> = Phase::ALL
            .iter()
            .map(|p| {
                let items: Vec<_> = list
                    .phase(*p)
                    .map(|i| docs::PlanItem {
                        id: i.id.clone(),
                        title: i.title.clone(),
                        section: i.section.clone(),
                        kind: i.kind,
                        required: i.required,
                        conditional: i.when.is_some(),
                        when: i.when.clone(),
                        automatic: i.is_automatic(),
                        performed: i.is_performed(),
                        check: i.check.as_ref().map(|c| c.type_name()),
                        action: i.action.as_ref().map(|a| a.type_name()),
                        manual_because: i.manual_because.clone(),
                    })
                    .collect();
                docs::PlanPhase {
                    phase: *p,
                    heading: p.heading(),
                    items,
                }
            })
            .collect();
        json::print(
            "plan",
            &docs::Plan {
                config: loaded.path.clone(),
                items: list.items.len(),
                phases,
            },
        );
        return Ok(0);
    }
    let auto = list.items.iter().filter(|i| i.is_automatic()).count();
    let performed = list.items.iter().filter(|i| i.is_performed()).count();
    say!(
        "{} items in {} phases: {auto} automatic checks, {performed} action(s) shipcheck performs, {} for a person",
        list.items.len(),
        Phase::ALL
            .iter()
            .filter(|p| list.phase(**p).next().is_some())
            .count(),
        list.items.len() - auto - performed
    );
    for p in Phase::ALL {
        let items: Vec<_> = list.phase(p).collect();
        if items.is_empty() {
            continue;
        }
        say!("\n{} — {}", p, p.heading());
        for i in items {
            let how = if i.is_automatic() {
                format!(
                    "auto:{}",
                    i.check.as_ref().map(|c| c.type_name()).unwrap_or("")
                )
            } else if i.is_performed() {
                format!(
                    "action:{}",
                    i.action.as_ref().map(|a| a.type_name()).unwrap_or("")
                )
            } else {
                "manual".to_string()
            };
            let mut flags = Vec::new();
            if !i.required {
                flags.push("optional".to_string());
            }
            if i.when.is_some() {
                flags.push("conditional".to_string());
            }
            let flags = if flags.is_empty() {
                String::new()
            } else {
                format!(" ({})", flags.join(", "))
            };
            say!("  {:<34} {:<22} {}{flags}", i.id, how, i.title);
            if let Some(why) = &i.manual_because {
                say!("  {:<34} {:<22} ↳ manual for now: {why}", "", "");
            }
        }
    }
    Ok(0)
}
