//! `shipcheck init`: write a commented shipcheck.toml — from the repository's `fly.toml` files
//! when there are any, else for the seed's setup.

use shipcheck_core::model::config::{self, TemplateApp, discover::discover_fly_apps, template};

use crate::cli::Global;
use crate::errors::CliError;

pub fn run(g: &Global, force: bool) -> Result<u8, CliError> {
    let path = g
        .config
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from(config::CONFIG_FILE));
    if path.exists() && !force {
        return Err(CliError::Usage(format!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        )));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| std::env::current_dir().unwrap_or_default());
    let tz = template::system_timezone();
    let found = discover_fly_apps(&dir);
    let apps: Vec<TemplateApp> = found
        .iter()
        .filter_map(|d| {
            let fly_app = d.app.clone()?;
            Some(TemplateApp {
                env: d.env_guess.clone().unwrap_or_else(|| "production".into()),
                name: d.name_guess.clone().unwrap_or_else(|| fly_app.clone()),
                health_url: d
                    .health_url
                    .clone()
                    .unwrap_or_else(|| format!("https://{fly_app}.fly.dev/")),
                region: d.primary_region.clone().unwrap_or_else(|| "fra".into()),
                fly_app,
            })
        })
        .collect();
    let text = if apps.is_empty() {
        template::init_template(&tz)
    } else {
        let project = dir
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "app".into());
        template::init_template_with(&tz, &project, &apps)
    };
    std::fs::write(&path, text).map_err(|source| CliError::Io {
        what: format!("writing {}", path.display()),
        source,
    })?;
    if g.json {
        super::print_json(&serde_json::json!({
            "schema": shipcheck_core::JSON_SCHEMA,
            "kind": "init",
            "path": path,
            "timezone": tz,
            "discovered": found.iter().map(|d| serde_json::json!({
                "path": d.path, "app": d.app, "env": d.env_guess, "health_url": d.health_url, "problem": d.problem,
            })).collect::<Vec<_>>(),
        }));
    } else {
        say!("wrote {} (time zone {tz})", path.display());
        for d in &found {
            match (&d.app, &d.problem) {
                (Some(app), _) => say!(
                    "  from {}: {app} ({}, health {})",
                    d.path.display(),
                    d.env_guess.as_deref().unwrap_or("production"),
                    d.health_url.as_deref().unwrap_or("-")
                ),
                (None, Some(p)) => say!("  skipped {}: {p}", d.path.display()),
                (None, None) => {}
            }
        }
        if found.is_empty() {
            say!("  no fly.toml found; wrote the seed's three apps as a starting point");
        }
        say!("next: edit it, then `shipcheck config check`, `shipcheck plan`, `shipcheck check`");
    }
    Ok(0)
}
