//! `shipcheck init --workflow`: writes `.github/workflows/deploy.yml` for the seed's flow from
//! the apps init finds in the repository's Fly config files (and the branches of
//! shipcheck.toml, when there is one).

use std::path::{Path, PathBuf};

use shipcheck_core::model::config::discover::{Answers, Env, discover_with};
use shipcheck_core::model::config::workflow::{WORKFLOW_FILE, deploy_workflow};
use shipcheck_core::model::config::{self, FlyRegions, GitConfig, plan};

use crate::cli::Global;
use crate::errors::CliError;
use crate::json::{self, docs};

pub fn run(g: &Global, force: bool) -> Result<u8, CliError> {
    let config_path = g
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from(config::CONFIG_FILE));
    let dir = config_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    // The branches come from shipcheck.toml when it exists (and must then be valid).
    let git = if config_path.exists() {
        config::load_file(&config_path)?.config.git
    } else {
        GitConfig::default()
    };
    let path = dir.join(WORKFLOW_FILE);
    if path.exists() && !force {
        return Err(CliError::Usage(format!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        )));
    }
    let d = discover_with(&dir, &Answers::default());
    let p = plan(&d, &FlyRegions::new());
    let text = deploy_workflow(&p, &git);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| CliError::Io {
            what: format!("creating {}", parent.display()),
            source,
        })?;
    }
    std::fs::write(&path, &text).map_err(|source| CliError::Io {
        what: format!("writing {}", path.display()),
        source,
    })?;
    let names = |env: Env| {
        p.written(env)
            .map(|a| a.fly_app.clone())
            .collect::<Vec<_>>()
    };
    let (production, staging) = (names(Env::Production), names(Env::Staging));
    let unchecked: Vec<String> = p
        .written(Env::Production)
        .filter(|a| a.health_url.is_none())
        .map(|a| a.fly_app.clone())
        .collect();
    if g.json {
        json::print(
            "init_workflow",
            &docs::InitWorkflow {
                path: path.clone(),
                production_branch: git.production.clone(),
                staging_branch: git.staging.clone(),
                production,
                staging,
                no_health_check: unchecked,
                commented: p
                    .apps
                    .iter()
                    .filter(|a| a.todo.is_some())
                    .map(|a| a.fly_app.clone())
                    .collect(),
            },
        );
        return Ok(0);
    }
    say!("wrote {}", path.display());
    if production.is_empty() {
        say!(
            "  no production app: init found none it could write (run `shipcheck init` to see why); the workflow only checks pull requests{}",
            if staging.is_empty() {
                ""
            } else {
                " and deploys staging"
            }
        );
    } else {
        say!(
            "  on a push to {}: deploys {} behind the `production` environment's approval, then checks their health",
            git.production,
            production.join(", ")
        );
    }
    if !staging.is_empty() {
        say!(
            "  on a push to {}: deploys {}",
            git.staging,
            staging.join(", ")
        );
    }
    say!(
        "  on a pull request to {}: runs `shipcheck check prepare` and puts its report in the job summary",
        git.production
    );
    for app in &unchecked {
        say!("  {app}: no health URL known, so no health step for it");
    }
    say!(
        "  next: add the secret FLY_API_TOKEN, the production environment's reviewers and the variable SHIPCHECK_INSTALL (see the file's header)"
    );
    Ok(0)
}
