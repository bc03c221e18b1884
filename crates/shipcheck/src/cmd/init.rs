//! `shipcheck init`: write a commented shipcheck.toml from the repository's Fly config files
//! (or, when there are none, the seed's setup marked as an example). On a terminal it shows
//! what it found and asks what the files cannot tell; otherwise (or with `--yes`, `--json`)
//! those become `# TODO:` comments in the file.

use std::path::{Path, PathBuf};

use shipcheck_core::model::config::discover::{Answers, Discovery, Env, discover_with};
use shipcheck_core::model::config::{
    self, FlyConfig, FlyRegions, InitPlan, Question, init_template_from, plan, template,
};

use crate::cli::Global;
use crate::errors::CliError;
use crate::json::{self, docs};
use crate::output;

pub async fn run(g: &Global, force: bool, yes: bool, ask_fly: bool) -> Result<u8, CliError> {
    let path = g
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from(config::CONFIG_FILE));
    if path.exists() && !force {
        return Err(CliError::Usage(format!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        )));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| std::env::current_dir().unwrap_or_default());
    let tz = template::system_timezone();
    let interactive = !g.json && !yes && output::stdin_is_tty() && output::stdout_is_tty();
    let mut answers = Answers::default();
    let mut d = discover_with(&dir, &answers);
    if d.files.is_empty() {
        write(&path, &template::init_template_no_fly(&tz))?;
        let schema = write_schema(&dir)?;
        report(
            g,
            &path,
            &schema,
            &tz,
            &d,
            &InitPlan::default(),
            interactive,
            true,
        );
        return Ok(0);
    }
    let regions = if ask_fly {
        let mut apps: Vec<String> = d
            .files
            .iter()
            .filter(|f| f.region.is_none() && f.problem.is_none())
            .filter_map(|f| f.app.clone())
            .collect();
        apps.sort();
        apps.dedup();
        shipcheck_core::checks::fly::machine_regions(&FlyConfig::default(), &apps)
            .await
            .into_iter()
            .map(|(app, r)| (app, r.map_err(|e| e.to_string())))
            .collect()
    } else {
        FlyRegions::new()
    };
    let mut p = plan(&d, &regions);
    if interactive && !p.questions.is_empty() {
        show_found(&d);
        if ask_environments(&p, &mut answers)? {
            d = discover_with(&dir, &answers);
            p = plan(&d, &regions);
        }
        if ask_health(&p, &mut answers)? {
            d = discover_with(&dir, &answers);
            p = plan(&d, &regions);
        }
    }
    let project = dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "app".into());
    write(&path, &init_template_from(&tz, &project, &d, &p))?;
    let schema = write_schema(&dir)?;
    report(g, &path, &schema, &tz, &d, &p, interactive, false);
    Ok(0)
}

/// The config's JSON Schema beside it, which the file's `#:schema` line names. It is
/// generated, so it is replaced whenever init writes the config.
fn write_schema(dir: &Path) -> Result<PathBuf, CliError> {
    let path = dir.join(config::schema::SCHEMA_FILE);
    write(&path, &config::schema::json_schema_text())?;
    Ok(path)
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text).map_err(|source| CliError::Io {
        what: format!("writing {}", path.display()),
        source,
    })
}

/// What was found, before the questions.
fn show_found(d: &Discovery) {
    say!("found {} Fly config file(s):", d.files.len());
    for f in &d.files {
        match &f.problem {
            Some(p) => say!("  {}: not read: {p}", f.path.display()),
            None => say!(
                "  {}: {} → {} ({})",
                f.path.display(),
                f.app.as_deref().unwrap_or("(no app key)"),
                f.environment.as_str(),
                f.why
            ),
        }
    }
    say!();
}

/// Asks the environment and production questions; true if anything was answered.
fn ask_environments(p: &InitPlan, answers: &mut Answers) -> Result<bool, CliError> {
    let mut any = false;
    for q in &p.questions {
        match q {
            Question::Production { group, candidates } => {
                say!(
                    "{} files deploy a production app for {group}; only one can be live:",
                    candidates.len()
                );
                for (n, (file, app)) in candidates.iter().enumerate() {
                    say!("  {}) {app} ({})", n + 1, file.display());
                }
                let pick = loop {
                    let a = output::ask(&format!(
                        "which is live? [1-{}], Enter to leave a TODO: ",
                        candidates.len()
                    ))?;
                    if a.is_empty() {
                        break None;
                    }
                    match a.parse::<usize>() {
                        Ok(n) if (1..=candidates.len()).contains(&n) => break Some(n - 1),
                        _ => say!("  answer a number from 1 to {}", candidates.len()),
                    }
                };
                if let Some(pick) = pick {
                    for (n, (file, _)) in candidates.iter().enumerate() {
                        let env = if n == pick {
                            Env::Production
                        } else {
                            Env::Other
                        };
                        answers.environments.insert(file.clone(), env);
                    }
                    any = true;
                }
            }
            Question::Environment { file, app, why } => {
                say!("{}: {app}: {why}", file.display());
                let env = loop {
                    let a = output::ask(
                        "  which environment? [p]roduction, [s]taging, [o]ther (not written), Enter to leave a TODO: ",
                    )?;
                    match a.to_ascii_lowercase().as_str() {
                        "" => break None,
                        "p" | "production" | "prod" => break Some(Env::Production),
                        "s" | "staging" => break Some(Env::Staging),
                        "o" | "other" | "none" => break Some(Env::Other),
                        _ => say!("  answer p, s, o or Enter"),
                    }
                };
                if let Some(env) = env {
                    answers.environments.insert(file.clone(), env);
                    any = true;
                }
            }
            Question::Health { .. } => {}
        }
    }
    Ok(any)
}

/// Asks the health endpoint of each written app without one; true if anything was answered.
fn ask_health(p: &InitPlan, answers: &mut Answers) -> Result<bool, CliError> {
    let mut any = false;
    for q in &p.questions {
        let Question::Health { file, app, why } = q else {
            continue;
        };
        say!("{app} ({}): no health URL: {why}", file.display());
        loop {
            let a = output::ask(&format!(
                "  its health endpoint? a path on https://{app}.fly.dev such as /health, or a full URL; Enter to leave a TODO: "
            ))?;
            if a.is_empty() {
                break;
            }
            let ok = a.starts_with('/') || a.starts_with("https://") || a.starts_with("http://");
            if ok && !a.contains(char::is_whitespace) {
                answers.health.insert(file.clone(), a);
                any = true;
                break;
            }
            say!("  write a path starting with / or a URL starting with https://");
        }
    }
    Ok(any)
}

#[allow(clippy::too_many_arguments)]
fn report(
    g: &Global,
    path: &Path,
    schema: &Path,
    tz: &str,
    d: &Discovery,
    p: &InitPlan,
    interactive: bool,
    seed: bool,
) {
    let entry = |a: &config::PlannedApp| docs::InitApp {
        env: a.env,
        name: a.name.clone(),
        fly_app: a.fly_app.clone(),
        source: a.source.clone(),
        health_url: a.health_url.clone(),
        region: a.region.clone(),
        todo: a.todo.clone(),
    };
    if g.json {
        json::print(
            "init",
            &docs::Init {
                path: path.to_path_buf(),
                schema_file: schema.to_path_buf(),
                timezone: tz.to_string(),
                seed_example: seed,
                files: d.files.clone(),
                ignored: d.ignored.clone(),
                not_searched: d.not_searched.clone(),
                written: docs::InitWritten {
                    production: p.written(Env::Production).map(entry).collect(),
                    staging: p.written(Env::Staging).map(entry).collect(),
                },
                commented: p
                    .apps
                    .iter()
                    .filter(|a| a.todo.is_some())
                    .map(entry)
                    .collect(),
                left_out: p.left_out.clone(),
                todos: p.todos.clone(),
                questions: p.questions.clone(),
            },
        );
        return;
    }
    say!("wrote {} (time zone {tz})", path.display());
    say!(
        "wrote {} (its JSON Schema: editors with Taplo / Even Better TOML complete and check the file)",
        schema.display()
    );
    if seed {
        say!(
            "  no Fly config file (fly.toml, fly.*.toml) found here: it holds the seed team's three apps in fra as an example, marked TODO; replace them"
        );
    }
    for n in &d.not_searched {
        say!(
            "  not searched: {}/ ({} Fly config file(s); sample configs)",
            n.dir.display(),
            n.fly_files
        );
    }
    for i in &d.ignored {
        say!("  not read: {}: {}", i.path.display(), i.why);
    }
    for f in d.files.iter().filter(|f| f.problem.is_some()) {
        say!(
            "  could not read {}: {}",
            f.path.display(),
            f.problem.as_deref().unwrap_or_default()
        );
    }
    for env in [Env::Production, Env::Staging] {
        for a in p.written(env) {
            say!(
                "  {} {}: {} from {} (health {}, region {})",
                env.as_str(),
                a.name,
                a.fly_app,
                a.source.display(),
                a.health_url.as_deref().unwrap_or("TODO"),
                a.region.as_deref().unwrap_or("TODO")
            );
        }
    }
    for l in &p.left_out {
        say!(
            "  left out {}: {} ({})",
            l.path.display(),
            l.app.as_deref().unwrap_or("(no app key)"),
            l.environment.as_str()
        );
    }
    if !seed && p.written(Env::Production).next().is_none() {
        say!(
            "  no production app could be determined from the Fly config files: the file says what to fill in"
        );
    }
    let written: Vec<&config::PlannedApp> = p.apps.iter().filter(|a| a.todo.is_none()).collect();
    if !written.is_empty() {
        let no_health = written.iter().filter(|a| a.health_url.is_none()).count();
        let no_region = written.iter().filter(|a| a.region.is_none()).count();
        say!(
            "  to fill in (marked TODO): {no_health} health URL(s), {no_region} region(s), and every app's required_secrets (`flyctl secrets list -a APP`)"
        );
    }
    if !p.todos.is_empty() {
        say!("{} TODO(s) in the file, to decide:", p.todos.len());
        for t in &p.todos {
            say!("  - {t}");
        }
        if !interactive {
            say!(
                "  (not asked: not a terminal, or --yes; `shipcheck init --force` on a terminal asks)"
            );
        }
    }
    say!("next: edit it, then `shipcheck config check`, `shipcheck plan`, `shipcheck check`");
}
