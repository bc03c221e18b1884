//! What init writes, on every corpus layout: it loads, it lists no non-production app as
//! production, and it holds no region, health URL or secret the files did not give.

use std::path::Path;

use super::*;
use crate::model::config::discover::corpus_tests::{expected, folders};
use crate::model::config::discover::{Answers, discover, discover_with};
use crate::model::config::{init_template_from, load_str};

/// The uncommented values of `key` in `[[environments.ENV.apps]]` entries, per environment.
fn values(text: &str, key: &str) -> Vec<(String, String)> {
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

fn render(folder: &Path, answers: &Answers, regions: &FlyRegions) -> (InitPlan, String) {
    let d = discover_with(folder, answers);
    let p = plan(&d, regions);
    let text = init_template_from("UTC", "corpus", &d, &p);
    (p, text)
}

#[test]
fn init_on_every_corpus_layout_writes_no_guess() {
    let (mut prod_apps, mut commented) = (0, 0);
    for folder in folders() {
        let name = folder.file_name().unwrap().to_string_lossy().into_owned();
        let want = expected(&folder);
        let (p, text) = render(&folder, &Answers::default(), &FlyRegions::new());
        let loaded = load_str(Path::new("shipcheck.toml"), &text)
            .unwrap_or_else(|e| panic!("{name}: {}\n{text}", e.render()));
        let regions: Vec<&str> = want
            .file
            .iter()
            .filter_map(|f| f.region.as_deref())
            .collect();
        let urls: Vec<&str> = want
            .file
            .iter()
            .filter_map(|f| f.health_url.as_deref())
            .collect();
        for (env, app) in values(&text, "fly_app") {
            let w = want.file.iter().find(|f| f.fly_app == app).unwrap();
            assert!(
                env == "staging" || env == "production",
                "{name}: {app} under {env}"
            );
            assert_eq!(w.environment, env, "{name}: {app} written as {env}\n{text}");
            if env == "production" {
                prod_apps += 1;
            }
        }
        for (_, r) in values(&text, "region") {
            assert!(regions.contains(&r.as_str()), "{name}: region {r} invented");
        }
        for (_, u) in values(&text, "health_url") {
            assert!(
                urls.contains(&u.as_str()),
                "{name}: health_url {u} invented"
            );
        }
        assert!(
            values(&text, "required_secrets").is_empty(),
            "{name}: secrets"
        );
        for e in loaded.config.environments.values() {
            for a in &e.apps {
                assert!(a.required_secrets.is_empty());
            }
        }
        commented += p.apps.iter().filter(|a| a.todo.is_some()).count();
        assert!(!text.contains("fra\"") || name.contains("midday"), "{name}");
    }
    // 16 production files in the corpus; gaia's gateway and Carbonable's indexer have two
    // candidates each (written commented-out), so 12 are written.
    assert_eq!(prod_apps, 12);
    assert!(commented >= 4 + 7, "{commented}");
}

fn folder(name: &str) -> std::path::PathBuf {
    folders().into_iter().find(|f| f.ends_with(name)).unwrap()
}

#[test]
fn two_production_candidates_are_both_commented_and_asked() {
    let (p, text) = render(
        &folder("Aeonia-ai__gaia"),
        &Answers::default(),
        &FlyRegions::new(),
    );
    let gateway: Vec<&PlannedApp> = p
        .apps
        .iter()
        .filter(|a| a.name == "gateway" && a.env == Env::Production)
        .collect();
    assert_eq!(gateway.len(), 2);
    assert!(gateway.iter().all(|a| a.todo.is_some()));
    assert!(p.questions.iter().any(|q| matches!(q, Question::Production { group, candidates } if group == "gateway" && candidates.len() == 2)));
    assert!(text.contains("# fly_app = \"gaia-gateway-prod\""), "{text}");
    assert!(
        text.contains("# fly_app = \"gaia-gateway-production\""),
        "{text}"
    );
    // kb is the one production app written.
    let written: Vec<&str> = p
        .written(Env::Production)
        .map(|a| a.fly_app.as_str())
        .collect();
    assert_eq!(written, ["gaia-kb-production"]);
    // The person picks one: it is written, the other is left out.
    let mut answers = Answers::default();
    answers
        .environments
        .insert("fly.prod.toml".into(), Env::Production);
    answers
        .environments
        .insert("fly.production.toml".into(), Env::Other);
    let (p, _) = render(&folder("Aeonia-ai__gaia"), &answers, &FlyRegions::new());
    let written: Vec<&str> = p
        .written(Env::Production)
        .map(|a| a.fly_app.as_str())
        .collect();
    assert_eq!(written, ["gaia-gateway-prod", "gaia-kb-production"]);
}

#[test]
fn a_lone_unmarked_app_is_a_commented_todo_and_the_file_still_loads() {
    let (p, text) = render(
        &folder("fly-apps__live_beats"),
        &Answers::default(),
        &FlyRegions::new(),
    );
    assert_eq!(p.written(Env::Production).count(), 0);
    assert!(
        text.contains("# TODO: no production app could be determined"),
        "{text}"
    );
    assert!(text.contains("# fly_app = \"livebeats\""), "{text}");
    assert!(matches!(&p.questions[..], [Question::Environment { app, .. }] if app == "livebeats"));
    load_str(Path::new("shipcheck.toml"), &text).unwrap_or_else(|e| panic!("{}", e.render()));
    // Answered: production, written with its region, a TODO for the health URL and secrets.
    let mut answers = Answers::default();
    answers
        .environments
        .insert("fly.toml".into(), Env::Production);
    let (p, text) = render(
        &folder("fly-apps__live_beats"),
        &answers,
        &FlyRegions::new(),
    );
    let a = p.written(Env::Production).next().unwrap();
    assert_eq!(a.region.as_deref(), Some("iad"));
    assert_eq!(a.health_url, None);
    assert!(
        text.contains("# TODO: health_url: fly.toml declares no HTTP check"),
        "{text}"
    );
    assert!(text.contains("-a livebeats` shows"), "{text}");
    assert!(matches!(&p.questions[..], [Question::Health { app, .. }] if app == "livebeats"));
}

#[test]
fn regions_come_from_primary_region_or_flyctl_never_a_default() {
    let d = discover(&folder("maciejgryka__regex_help"));
    let p = plan(&d, &FlyRegions::new());
    let prod = p.written(Env::Production).next().unwrap();
    assert_eq!(prod.fly_app, "falling-rain-8941");
    assert_eq!(prod.region, None);
    assert!(
        prod.region_note.contains("--ask-fly"),
        "{}",
        prod.region_note
    );
    let mut regions = FlyRegions::new();
    regions.insert(
        "falling-rain-8941".into(),
        Ok(vec!["ams".into(), "ams".into()]),
    );
    regions.insert(
        "regex-help-stg".into(),
        Ok(vec!["ams".into(), "lhr".into()]),
    );
    let p = plan(&d, &regions);
    let prod = p.written(Env::Production).next().unwrap();
    assert_eq!(prod.region.as_deref(), Some("ams"));
    let stg = p.written(Env::Staging).next().unwrap();
    assert_eq!(stg.region, None);
    assert!(stg.region_note.contains("ams, lhr"), "{}", stg.region_note);
}

#[test]
fn bencher_has_no_staging_and_says_which_apps_might_be() {
    let (p, text) = render(
        &folder("bencherdev__bencher"),
        &Answers::default(),
        &FlyRegions::new(),
    );
    assert_eq!(p.missing_staging.len(), 1);
    assert!(
        p.missing_staging[0].contains("bencher-api-test (test"),
        "{:?}",
        p.missing_staging
    );
    assert!(text.contains("health_url = \"https://bencher-api.fly.dev/v0/projects?per_page=0\""));
    // The otel collector says nothing: asked, not written.
    assert!(
        text.contains("# fly_app = \"bencher-otel-collector\""),
        "{text}"
    );
}
