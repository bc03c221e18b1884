//! Discovery on small layouts written here; `corpus_tests` runs it on real repositories.

use super::*;

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn by_path<'a>(d: &'a Discovery, path: &str) -> &'a FlyFile {
    d.files
        .iter()
        .find(|f| f.path == Path::new(path))
        .unwrap_or_else(|| panic!("{path} not found in {:#?}", d.files))
}

#[test]
fn finds_apps_regions_and_health_urls() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(
        d,
        "apps/internal-api/fly.production.toml",
        "app = \"acme-production-internal-api\"\nprimary_region = \"fra\"\n\n[http_service]\ninternal_port = 8080\n\n[[http_service.checks]]\ninterval = \"15s\"\nmethod = \"GET\"\npath = \"/api/health\"\n",
    );
    write(
        d,
        "apps/internal-api/fly.staging.toml",
        "app = \"acme-staging-internal-api\"\nprimary_region = \"fra\"\n",
    );
    write(
        d,
        "fly.toml",
        "app = 'acme-prod-public'\nprimary_region = 'ams'\n[[services]]\ninternal_port = 3000\n[[services.ports]]\nport = 443\nhandlers = ['tls', 'http']\n[[services.http_checks]]\npath = 'healthz'\n",
    );
    write(d, "node_modules/x/fly.toml", "app = \"ignored\"\n");
    write(d, "broken/fly.toml", "app = \n");
    let found = discover(d);
    let paths: Vec<String> = found
        .files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    assert_eq!(
        paths,
        vec![
            "apps/internal-api/fly.production.toml",
            "apps/internal-api/fly.staging.toml",
            "broken/fly.toml",
            "fly.toml"
        ]
    );
    let prod = &found.files[0];
    assert_eq!(prod.app.as_deref(), Some("acme-production-internal-api"));
    assert_eq!(prod.region.as_deref(), Some("fra"));
    assert_eq!(
        prod.health_url.as_deref(),
        Some("https://acme-production-internal-api.fly.dev/api/health")
    );
    assert_eq!(prod.environment, Env::Production);
    assert_eq!(prod.app_group, "internal-api");
    assert_eq!(found.files[1].environment, Env::Staging);
    assert_eq!(found.files[1].health_url, None);
    assert!(
        found.files[2]
            .problem
            .as_deref()
            .unwrap()
            .contains("line 1"),
        "{:?}",
        found.files[2].problem
    );
    let root = &found.files[3];
    assert_eq!(
        root.health_url.as_deref(),
        Some("https://acme-prod-public.fly.dev/healthz")
    );
    assert_eq!(root.app_group, "acme-public");
    assert_eq!(root.environment, Env::Production);
}

#[test]
fn a_lone_unmarked_file_is_unknown_and_a_sibling_makes_it_production() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "fly.toml", "app = 'acme'\n");
    let d = discover(tmp.path());
    assert_eq!(d.files[0].environment, Env::Unknown);
    assert!(d.files[0].why.contains("no sibling"), "{}", d.files[0].why);
    write(tmp.path(), "fly.staging.toml", "app = 'acme-staging'\n");
    let d = discover(tmp.path());
    let f = by_path(&d, "fly.toml");
    assert_eq!(f.environment, Env::Production);
    assert!(f.why.contains("by elimination"), "{}", f.why);
    // What a person says wins.
    let mut answers = Answers::default();
    answers
        .environments
        .insert(PathBuf::from("fly.toml"), Env::Other);
    answers
        .health
        .insert(PathBuf::from("fly.staging.toml"), "up".into());
    let d = discover_with(tmp.path(), &answers);
    assert_eq!(by_path(&d, "fly.toml").environment, Env::Other);
    assert_eq!(
        by_path(&d, "fly.staging.toml").health_url.as_deref(),
        Some("https://acme-staging.fly.dev/up")
    );
}

#[test]
fn env_values_do_not_decide() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "fly.toml",
        "app = 'acme'\n[env]\nNODE_ENV = 'production'\nENVIRONMENT = 'production'\n",
    );
    assert_eq!(discover(tmp.path()).files[0].environment, Env::Unknown);
}

#[test]
fn sample_directories_are_counted_not_searched_and_yml_is_read_only_when_toml() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "fixtures/a/fly.toml", "app = 'x'\n");
    write(d, "fixtures/b/fly.prod.toml", "app = 'y'\n");
    write(d, "examples/fly.toml", "app = 'z'\n");
    write(d, "testdata/README", "nothing\n");
    write(d, "api/fly-preview.yml", "app = 'api-staging'\n");
    write(d, "ci/fly-deploy.yml", "name: deploy\non: [push]\n");
    write(d, "web/fly.yaml", "app: web\n");
    write(d, "flyway.toml", "x = 1\n");
    let found = discover(d);
    let paths: Vec<String> = found
        .files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    assert_eq!(paths, ["api/fly-preview.yml"]);
    assert_eq!(found.files[0].environment, Env::Staging);
    assert_eq!(
        found.not_searched,
        vec![
            NotSearched {
                dir: "examples".into(),
                fly_files: 1
            },
            NotSearched {
                dir: "fixtures".into(),
                fly_files: 2
            }
        ]
    );
    let ignored: Vec<String> = found
        .ignored
        .iter()
        .map(|i| i.path.display().to_string())
        .collect();
    assert_eq!(ignored, ["ci/fly-deploy.yml", "web/fly.yaml"]);
}

#[test]
fn garbage_is_a_problem_never_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = [
        "",
        "\u{0}\u{feff}[\u{1F680}]\n= =\n",
        "app = 5\nprimary_region = []\n",
        "services = 'x'\nhttp_service = 3\nchecks = 1\nprocesses = 'p'\n",
        "[[services]]\ninternal_port = -1\nports = 'x'\n[[services.http_checks]]\npath = 3\n",
        "[http_service]\ninternal_port = 99999999999\nchecks = [1, 'a', {path = ''}]\nauto_stop_machines = 'sometimes'\n",
        "[checks]\na = 1\nb = { type = 'http', port = 'x', path = '/p' }\n[deploy]\nrelease_command = 7\n",
        "app = 'a'\n[processes]\n",
    ];
    for (n, text) in inputs.iter().enumerate() {
        write(tmp.path(), &format!("d{n}/fly.toml"), text);
    }
    let d = discover(tmp.path());
    assert_eq!(d.files.len(), inputs.len());
    assert!(d.files[1].problem.is_some());
    let odd = by_path(&d, "d5/fly.toml");
    assert_eq!(odd.auto_stop, None);
    assert!(
        odd.notes.iter().any(|n| n.contains("sometimes")),
        "{:?}",
        odd.notes
    );
    for f in &d.files {
        assert_ne!(f.environment, Env::Production, "{f:#?}");
    }
}

#[test]
fn two_production_files_for_one_group_stay_two() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "fly.prod.toml", "app = 'gw-prod'\n");
    write(tmp.path(), "fly.production.toml", "app = 'gw-production'\n");
    write(tmp.path(), "fly.staging.toml", "app = 'gw-staging'\n");
    let d = discover(tmp.path());
    let groups: Vec<&str> = d.files.iter().map(|f| f.app_group.as_str()).collect();
    assert_eq!(groups, ["gw", "gw", "gw"]);
    assert_eq!(
        d.files
            .iter()
            .filter(|f| f.environment == Env::Production)
            .count(),
        2
    );
}
