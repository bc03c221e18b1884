//! The `shipcheck.toml` text for an [`InitPlan`]: what init found (as a comment at the top),
//! the staging and production entries, the commented-out entries with their `# TODO:`, and
//! the files left out. It always loads: every undecided value is a comment.

use std::fmt::Write as _;

use super::discover::{Discovery, Env};
use super::init_plan::{InitPlan, PlannedApp};
use super::template;

const WIDTH: usize = 96;

/// Appends `text` as comment lines (`first` before the first line, `rest` before the others),
/// wrapped at spaces.
fn comment(out: &mut String, text: &str, first: &str, rest: &str) {
    let mut line = String::from(first);
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(line.trim_end());
            out.push('\n');
            line = String::from(rest);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

fn q(v: &str) -> String {
    toml::Value::String(v.to_string()).to_string()
}

/// The config file for `project` from this discovery and plan.
pub fn init_template_from(timezone: &str, project: &str, d: &Discovery, plan: &InitPlan) -> String {
    let mut found = String::from("#\n");
    let readable = d.files.iter().filter(|f| f.problem.is_none()).count();
    comment(
        &mut found,
        &format!(
            "What `shipcheck init` found: {} Fly config file(s) in this directory and below \
             (`shipcheck init --json` gives every conclusion and its reason).",
            readable
        ),
        "# ",
        "# ",
    );
    for f in &d.files {
        let text = match &f.problem {
            Some(p) => format!("{}: not read: {p}", f.path.display()),
            None => format!(
                "{}: {} → {}. {}",
                f.path.display(),
                f.app.as_deref().unwrap_or("(no app key)"),
                f.environment.as_str(),
                f.why
            ),
        };
        comment(&mut found, &text, "#   ", "#     ");
    }
    for n in &d.not_searched {
        comment(
            &mut found,
            &format!(
                "{}/: not searched ({} Fly config file(s) inside; {} hold sample configs, not this \
                 repository's deployments).",
                n.dir.display(),
                n.fly_files,
                crate::model::config::discover::SAMPLE_DIRS.join(", ")
            ),
            "#   ",
            "#     ",
        );
    }
    for i in &d.ignored {
        comment(
            &mut found,
            &format!("{}: not read: {}", i.path.display(), i.why),
            "#   ",
            "#     ",
        );
    }
    found.push_str("#\n");
    comment(
        &mut found,
        "init does not guess: an app is production only when its file, directory or app name \
         says so (or a sibling file for the same app says staging, preview, …); a region only \
         from primary_region; a health URL only from an HTTP check on the public service; no \
         secrets. What it could not tell is a `# TODO:` below.",
        "# ",
        "# ",
    );
    let mut out = template::head(timezone, project, &found);
    for env in [Env::Staging, Env::Production] {
        let _ = write!(out, "\n{}", template::section_rule(env.as_str()));
        if env == Env::Staging {
            for t in &plan.missing_staging {
                out.push('\n');
                comment(&mut out, t, "# TODO: ", "#   ");
            }
        }
        if env == Env::Production {
            for t in &plan.missing_production {
                out.push('\n');
                comment(&mut out, t, "# TODO: ", "#   ");
            }
        }
        if env == Env::Production && plan.written(Env::Production).next().is_none() {
            out.push('\n');
            comment(
                &mut out,
                "no production app could be determined from the Fly config files. Uncomment the \
                 entry of your production app below, or write one: [[environments.production.apps]] \
                 with name, fly_app, health_url and region (docs/config.md).",
                "# TODO: ",
                "#   ",
            );
        }
        for a in plan.apps.iter().filter(|a| a.env == env) {
            out.push('\n');
            match &a.todo {
                None => written(&mut out, a),
                Some(t) => commented(&mut out, a, t),
            }
        }
    }
    if !plan.left_out.is_empty() {
        let _ = write!(out, "\n{}", template::section_rule("not written"));
        comment(
            &mut out,
            "These deploy something other than staging or production (or have no app key):",
            "# ",
            "# ",
        );
        for l in &plan.left_out {
            comment(
                &mut out,
                &format!(
                    "{}: {} ({}). {}",
                    l.path.display(),
                    l.app.as_deref().unwrap_or("(no app key)"),
                    l.environment.as_str(),
                    l.why
                ),
                "#   ",
                "#     ",
            );
        }
    }
    out.push_str(template::FOOTER);
    out
}

fn secrets_todo(out: &mut String, app: &str, prefix: &str) {
    comment(
        out,
        &format!(
            "required_secrets: which secrets must {app} have? No fly.toml lists them; `flyctl \
             secrets list -a {app}` shows the names that are set."
        ),
        &format!("{prefix}TODO: "),
        &format!("{prefix}  "),
    );
    out.push_str(&format!("{prefix}required_secrets = []\n"));
}

fn written(out: &mut String, a: &PlannedApp) {
    comment(
        out,
        &format!("{} ({}): {}", a.source.display(), a.env.as_str(), a.why),
        "# from ",
        "#   ",
    );
    let _ = writeln!(out, "[[environments.{}.apps]]", a.env.as_str());
    let _ = writeln!(out, "name = {}", q(&a.name));
    let _ = writeln!(out, "fly_app = {}", q(&a.fly_app));
    match &a.health_url {
        Some(url) => {
            comment(out, &a.health_note, "# health: ", "#   ");
            let _ = writeln!(out, "health_url = {}", q(url));
            out.push_str("expect_status = 200\n");
        }
        None => {
            comment(out, &a.health_note, "# TODO: health_url: ", "#   ");
            let _ = writeln!(out, "# health_url = \"https://{}.fly.dev/…\"", a.fly_app);
        }
    }
    match &a.region {
        Some(r) => {
            let _ = writeln!(out, "region = {}  # {}", q(r), a.region_note);
        }
        None => {
            comment(out, &a.region_note, "# TODO: region: ", "#   ");
            out.push_str("# region = \"…\"\n");
        }
    }
    secrets_todo(out, &a.fly_app, "# ");
}

fn commented(out: &mut String, a: &PlannedApp, todo: &str) {
    comment(out, todo, "# TODO: ", "#   ");
    let _ = writeln!(out, "# [[environments.{}.apps]]", a.env.as_str());
    let _ = writeln!(out, "# name = {}", q(&a.name));
    let _ = writeln!(out, "# fly_app = {}", q(&a.fly_app));
    match &a.health_url {
        Some(url) => {
            let _ = writeln!(out, "# health_url = {}", q(url));
        }
        None => comment(out, &a.health_note, "#   no health_url: ", "#   "),
    }
    match &a.region {
        Some(r) => {
            let _ = writeln!(out, "# region = {}  # {}", q(r), a.region_note);
        }
        None => comment(out, &a.region_note, "#   no region: ", "#   "),
    }
}
