//! `shipcheck init --workflow`: the GitHub Actions workflow of the seed's flow, from the apps
//! init found. On a push to the production branch each production app is built and deployed
//! with `flyctl deploy --image-label <commit>` (so `version = { image_ref = true }` can check
//! the commit that is live) in a job gated by the `production` environment (the approval the
//! seed clicks), then a job checks each app's health. A push to the staging branch deploys the
//! staging apps. A pull request to production runs `shipcheck check prepare` and puts its
//! report in the job summary.
//!
//! Plain text from plain data: it writes no value the files did not give. An app without a
//! health URL gets no health step, and the file says so.

use std::fmt::Write as _;
use std::path::Path;

use crate::model::config::discover::Env;
use crate::model::config::{GitConfig, InitPlan, PlannedApp};
use crate::model::shell::quote;

/// Where the workflow is written, relative to the repository's root.
pub const WORKFLOW_FILE: &str = ".github/workflows/deploy.yml";

/// The workflow for `plan`'s written (not commented-out) apps and `git`'s branches.
pub fn deploy_workflow(plan: &InitPlan, git: &GitConfig) -> String {
    let production: Vec<&PlannedApp> = plan.written(Env::Production).collect();
    let staging: Vec<&PlannedApp> = plan.written(Env::Staging).collect();
    let (prod, stage) = (yaml_str(&git.production), yaml_str(&git.staging));
    let mut w = String::new();
    let _ = write!(
        w,
        "\
# Written by `shipcheck init --workflow`: the seed's flow for the apps init found.
#
# Before the first run:
# - add the repository secret FLY_API_TOKEN (`fly tokens create deploy`);
# - in Settings → Environments → production, add the required reviewers who approve a deploy;
# - set the repository variable SHIPCHECK_INSTALL to the command that installs shipcheck
#   on a runner (for example `cargo install --locked --git <your shipcheck repository> shipcheck`);
# - give each production app `version = {{ image_ref = true }}` in shipcheck.toml: the deploy
#   tags every image with the commit, so `verify.version-live` can check what is live.
name: deploy

on:
  push:
    branches: [{prod}, {stage}]
  pull_request:
    branches: [{prod}]

permissions:
  contents: read

concurrency:
  group: deploy-${{{{ github.ref_name }}}}
  cancel-in-progress: false

jobs:
  prepare:
    name: shipcheck check prepare
    if: github.event_name == 'pull_request'
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - name: Install shipcheck
        run: ${{{{ vars.SHIPCHECK_INSTALL }}}}
      - name: Check the release
        run: |
          set -o pipefail
          shipcheck check prepare | tee prepare.txt
      - name: Put the report in the job summary
        if: always()
        run: |
          {{
            echo '## shipcheck check prepare'
            echo '```'
            cat prepare.txt 2>/dev/null || echo 'no report: see the step above'
            echo '```'
          }} >> \"$GITHUB_STEP_SUMMARY\"
"
    );
    if !staging.is_empty() {
        deploy_job(
            &mut w,
            "deploy-staging",
            "Deploy staging",
            &git.staging,
            None,
            &staging,
        );
    }
    if production.is_empty() {
        w.push_str(
            "\n  # No production app was written to shipcheck.toml (see its TODOs): no production\n  \
             # deploy job. Run `shipcheck init --workflow --force` again once they are settled.\n",
        );
        return w;
    }
    deploy_job(
        &mut w,
        "deploy",
        "Deploy production",
        &git.production,
        Some("production"),
        &production,
    );
    let _ = write!(
        w,
        "
  health:
    name: Health after the deploy
    needs: deploy
    runs-on: ubuntu-latest
    steps:
"
    );
    let mut any = false;
    for app in &production {
        match &app.health_url {
            Some(url) => {
                any = true;
                let _ = write!(
                    w,
                    "      - name: {name} answers
        run: curl --fail --silent --show-error --retry 10 --retry-delay 6 --retry-all-errors --max-time 10 {url}
",
                    name = yaml_str(&app.fly_app),
                    url = quote(url),
                );
            }
            None => {
                let _ = writeln!(
                    w,
                    "      # {}: no health URL known (see shipcheck.toml), so no step here.",
                    app.fly_app
                );
            }
        }
    }
    if !any {
        w.push_str("      - name: No health URL known\n        run: echo 'no production app has a health URL in shipcheck.toml' && exit 1\n");
    }
    w
}

/// A job deploying `apps` on a push to `branch`, gated by `environment` when given.
fn deploy_job(
    w: &mut String,
    id: &str,
    name: &str,
    branch: &str,
    environment: Option<&str>,
    apps: &[&PlannedApp],
) {
    let _ = write!(
        w,
        "
  {id}:
    name: {name}
    if: github.event_name == 'push' && github.ref == {reference}
    runs-on: ubuntu-latest
",
        reference = expression_str(&format!("refs/heads/{branch}")),
    );
    if let Some(env) = environment {
        let _ = writeln!(w, "    environment: {env}");
    }
    w.push_str(
        "    steps:
      - uses: actions/checkout@v4
      - uses: superfly/flyctl-actions/setup-flyctl@master
",
    );
    for app in apps {
        let (dir, file) = split(&app.source);
        let _ = write!(
            w,
            "      - name: Deploy {app_name}
        working-directory: {dir}
        run: flyctl deploy --remote-only --config {file} --app {app} --image-label ${{{{ github.sha }}}}
        env:
          FLY_API_TOKEN: ${{{{ secrets.FLY_API_TOKEN }}}}
",
            app_name = yaml_str(&app.fly_app),
            dir = yaml_str(&dir),
            file = quote(&file),
            app = quote(&app.fly_app),
        );
    }
}

/// A config file's folder (`.` for the root) and its name.
fn split(source: &Path) -> (String, String) {
    let file = source
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| "fly.toml".into());
    let dir = source
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| ".".into());
    (dir, file)
}

/// A YAML scalar: plain when it is safe, else single-quoted.
fn yaml_str(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && !s.starts_with('-');
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

/// A string literal in a GitHub Actions expression (`${{ }}`, `if:`).
fn expression_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn app(env: Env, fly_app: &str, source: &str, health: Option<&str>) -> PlannedApp {
        PlannedApp {
            env,
            name: "api".into(),
            fly_app: fly_app.into(),
            source: PathBuf::from(source),
            why: String::new(),
            health_url: health.map(str::to_string),
            health_note: String::new(),
            region: None,
            region_note: String::new(),
            todo: None,
        }
    }

    #[test]
    fn each_production_app_is_deployed_with_the_commit_as_its_label_behind_the_environment() {
        let plan = InitPlan {
            apps: vec![
                app(
                    Env::Production,
                    "acme-api",
                    "apps/api/fly.production.toml",
                    Some("https://acme-api.fly.dev/health"),
                ),
                app(Env::Production, "acme-web", "fly.toml", None),
                app(
                    Env::Staging,
                    "acme-api-staging",
                    "apps/api/fly.staging.toml",
                    None,
                ),
            ],
            ..InitPlan::default()
        };
        let w = deploy_workflow(&plan, &GitConfig::default());
        assert!(w.contains("    environment: production\n"), "{w}");
        assert!(w.contains("working-directory: apps/api\n        run: flyctl deploy --remote-only --config fly.production.toml --app acme-api --image-label ${{ github.sha }}"), "{w}");
        assert!(w.contains("working-directory: .\n        run: flyctl deploy --remote-only --config fly.toml --app acme-web"), "{w}");
        assert!(w.contains("curl --fail --silent --show-error --retry 10 --retry-delay 6 --retry-all-errors --max-time 10 https://acme-api.fly.dev/health"), "{w}");
        assert!(w.contains("# acme-web: no health URL known"), "{w}");
        assert!(w.contains("  deploy-staging:"), "{w}");
        assert!(w.contains("--app acme-api-staging"), "{w}");
        assert!(w.contains("github.ref == 'refs/heads/production'"), "{w}");
    }

    #[test]
    fn commented_out_apps_are_not_deployed_and_odd_names_are_quoted() {
        let mut todo = app(Env::Production, "maybe-prod", "fly.toml", None);
        todo.todo = Some("which environment?".into());
        let plan = InitPlan {
            apps: vec![todo],
            ..InitPlan::default()
        };
        let git = GitConfig {
            production: "release: main".into(),
            ..GitConfig::default()
        };
        let w = deploy_workflow(&plan, &git);
        assert!(!w.contains("maybe-prod"), "{w}");
        assert!(w.contains("No production app was written"), "{w}");
        assert!(w.contains("branches: ['release: main', staging]"), "{w}");
        assert_eq!(quote("a b'c"), "'a b'\\''c'");
    }
}
