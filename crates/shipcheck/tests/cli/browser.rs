//! The team's page in a real browser (headless Chromium through chromedriver, see
//! [`crate::webdriver`]): two people logged in, a deploy run from a terminal reaching the
//! other's open page live, the security review ticked in the browser by the reviewer and
//! refused to the deployer, a rollback confirmed by typing, an SSH signature from the
//! terminal that `verify` names, and the attacks (markup in text, inline script, mutations
//! without a session or CSRF token, a cross-site form) failing with nothing journaled.
//!
//! Skipped with a message when chromedriver is absent, unless `SHIPCHECK_REQUIRE_BROWSER=1`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use shipcheck_testkit::git::git;
use shipcheck_testkit::http::{Reply, Server as Http};

use crate::support::{Out, TestEnv};
use crate::webdriver::{Browser, Driver};

/// `shipcheck serve`, killed when the test ends.
struct Serve {
    child: std::process::Child,
    addr: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    fn start(env: &TestEnv) -> Serve {
        let mut child = env.cmd(&["serve", "--listen", "127.0.0.1:0"]).spawn();
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr);
        let mut first = String::new();
        lines.read_line(&mut first).unwrap();
        std::thread::spawn(move || for _ in lines.lines() {});
        let addr = first
            .split("http://")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .to_string();
        Serve { child, addr }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// A team of three: Ana (lead), Tess (deployer), Rita (reviewer); their tokens.
pub(crate) struct Team {
    pub ana: String,
    pub tess: String,
    pub rita: String,
}

fn add(env: &TestEnv, by: Option<&str>, name: &str, email: &str, role: &str) -> String {
    let mut cmd = env.cmd(&[
        "team", "add", name, "--email", email, "--role", role, "--json",
    ]);
    if let Some(t) = by {
        cmd = cmd.env("SHIPCHECK_TOKEN", t);
    }
    let out = cmd.output();
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    out.json()["token"].as_str().unwrap().to_string()
}

pub(crate) fn team(env: &TestEnv) -> Team {
    let ana = add(env, None, "Ana Lima", "ana@example.com", "lead");
    let tess = add(
        env,
        Some(&ana),
        "Tess Deployer",
        "tess@example.com",
        "deployer",
    );
    let rita = add(
        env,
        Some(&ana),
        "Rita Reviewer",
        "rita@example.com",
        "reviewer",
    );
    Team { ana, tess, rita }
}

pub(crate) fn as_person(env: &TestEnv, token: &str, args: &[&str]) -> Out {
    env.cmd(args).env("SHIPCHECK_TOKEN", token).output()
}

pub(crate) fn event_count(env: &TestEnv) -> usize {
    env.shipcheck(&["events", "--json"]).json()["events"]
        .as_array()
        .unwrap()
        .len()
}

/// The world with the change set under the auth paths (the security review is someone
/// else's), healthy production, and `[team]` signatures from `.github/allowed_signers`.
pub(crate) fn auth_world() -> TestEnv {
    let env = TestEnv::world();
    env.heal_production();
    let mut config = std::fs::read_to_string(env.config_path()).unwrap();
    config.push_str(
        "\n[paths]\nauth = [\"src/**\"]\n\n[team]\nallowed_signers = \".github/allowed_signers\"\n",
    );
    std::fs::write(env.config_path(), config).unwrap();
    env
}

/// Logs `token`'s person in through the login form.
pub(crate) fn log_in(b: &Browser<'_>, base: &str, token: &str) {
    b.goto(&format!("{base}/login"));
    let field = b.find("input[name=token]");
    b.type_into(&field, token);
    b.click(&b.find("form[action='/login'] button"));
    assert!(
        b.wait_for(50, |b| b.text("header .who").contains('@')),
        "not logged in: {}",
        b.text("body")
    );
}

/// Walks the open run as the terminal would (`next`), ticking as `deployer` and, where
/// someone other than the deployer must, as `reviewer` — except the items `browser`
/// handles (it returns whether it did). Stops when `stop(status JSON)` holds.
pub(crate) fn walk(
    env: &TestEnv,
    deployer: &str,
    reviewer: &str,
    stop: impl Fn(&Value) -> bool,
    mut browser: impl FnMut(&str) -> bool,
) {
    for _ in 0..150 {
        let status = env.shipcheck(&["status", "--json"]).json();
        if stop(&status) {
            return;
        }
        let out = as_person(env, deployer, &["next", "--json"]);
        assert!(out.code <= 1, "{}{}", out.stdout, out.stderr);
        let v = out.json();
        if v["status"] == "completed" {
            assert!(
                stop(&env.shipcheck(&["status", "--json"]).json()),
                "completed before the stop condition"
            );
            return;
        }
        for need in v["steps"][0]["needs"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let item = need["item"].as_str().unwrap_or_default().to_string();
            match need["need"].as_str().unwrap_or_default() {
                "tick" if browser(&item) => {}
                "tick" => {
                    let other = need["detail"]
                        .as_str()
                        .unwrap_or("")
                        .contains("other than the deployer");
                    let who = if other { reviewer } else { deployer };
                    let out = as_person(env, who, &["tick", &item, "--note", "checked"]);
                    assert_eq!(out.code, 0, "tick {item}: {}", out.stderr);
                }
                "confirm" => {
                    let out = as_person(env, deployer, &["next", "--yes"]);
                    assert!(out.code <= 1, "{}", out.stderr);
                }
                "fix" => panic!("{item} failed: {need}"),
                _ => {}
            }
        }
    }
    panic!("the walk never reached its stop");
}

/// A new ed25519 key in `dir`: (private key, public key line).
fn keypair(dir: &Path, name: &str) -> (PathBuf, String) {
    let key = dir.join(name);
    let out = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = std::fs::read_to_string(dir.join(format!("{name}.pub"))).unwrap();
    (key, public.trim().to_string())
}

/// Marks the document so a reload (a new document) would lose the mark.
fn mark(b: &Browser<'_>) {
    b.exec("window.__sameDocument = 'yes';", json!([]));
}

fn same_document(b: &Browser<'_>) -> bool {
    b.exec("return window.__sameDocument === 'yes';", json!([])) == json!(true)
}

fn item_row(item: &str) -> String {
    format!("tr[id='item-{item}']")
}

#[test]
fn two_people_one_deploys_from_a_terminal_the_other_watches_live_reviews_and_the_record_is_ssh_signed()
 {
    let Some(driver) = Driver::start("browser: deploy watched live") else {
        return;
    };
    let env = auth_world();
    let t = team(&env);
    let start = as_person(&env, &t.tess, &["start", "--json"]);
    assert_eq!(start.code, 0, "{}", start.stderr);
    let run = start.json()["run"].as_str().unwrap().to_string();
    let server = Serve::start(&env);

    let rita = driver.browser(1200, 900);
    log_in(&rita, &server.url(""), &t.rita);
    let tess = driver.browser(1200, 900);
    log_in(&tess, &server.url(""), &t.tess);
    assert!(tess.text("header .who").contains("Tess Deployer"));

    // Rita opens the run; Tess deploys from her terminal; Rita's page follows without a reload.
    rita.goto(&server.url(&format!("/runs/{run}")));
    let tests_row = item_row("prepare.tests");
    let tests_state = format!("{tests_row} td.state");
    assert_eq!(rita.text(&tests_state), "pending");
    mark(&rita);
    let deploy = env.cmd(&["deploy"]).env("SHIPCHECK_TOKEN", &t.tess).spawn();
    let deployed = std::thread::spawn(move || deploy.wait_with_output().unwrap());
    assert!(
        rita.wait_for(300, |b| b.text(&tests_state) == "pass"),
        "Rita's page never showed the tests passing: {}",
        rita.text("[data-live]")
    );
    assert!(
        rita.text(&tests_row).contains("12 tests passed"),
        "{}",
        rita.text(&tests_row)
    );
    assert!(
        same_document(&rita),
        "the page was reloaded, not updated live"
    );
    assert!(
        rita.text(".live").contains("live · updated"),
        "{}",
        rita.text(".live")
    );
    let out = deployed.join().unwrap();
    assert!(
        out.status.code().unwrap_or(-1) <= 1,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The security review: refused to the deployer in her browser, ticked by the reviewer.
    let review = "prepare.security-review";
    let mut reviewed = false;
    walk(
        &env,
        &t.tess,
        &t.rita,
        |s| s["status"] == "completed",
        |item| {
            if item != review {
                return false;
            }
            let before = event_count(&env);
            tess.goto(&server.url(&format!("/runs/{run}")));
            let row = item_row(review);
            tess.type_into(
                &tess.find(&format!("{row} form[action$='/tick'] input[name=note]")),
                "I reviewed my own change",
            );
            tess.click(&tess.find(&format!("{row} form[action$='/tick'] button")));
            assert!(
                tess.wait_for(50, |b| b.text("body").contains("other than the deployer")),
                "the deployer's tick was not refused: {}",
                tess.text("body")
            );
            assert_eq!(
                event_count(&env),
                before,
                "a refused tick journaled something"
            );

            rita.goto(&server.url(&format!("/runs/{run}")));
            mark(&rita);
            rita.type_into(
                &rita.find(&format!("{row} form[action$='/tick'] input[name=note]")),
                "auth middleware change read line by line",
            );
            rita.click(&rita.find(&format!("{row} form[action$='/tick'] button")));
            assert!(
                rita.wait_for(50, |b| b.text(&format!("{row} td.state")) == "done"),
                "{}",
                rita.text("body")
            );
            assert!(
                rita.text(&row).contains("Rita Reviewer"),
                "{}",
                rita.text(&row)
            );
            reviewed = true;
            true
        },
    );
    assert!(reviewed, "the walk never asked for the security review");
    let events = env.shipcheck(&["events", "--json"]).json();
    let tick = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"]["type"] == "item_ticked" && e["event"]["item"] == review)
        .cloned()
        .unwrap_or_else(|| panic!("no tick of the review in {events}"));
    assert_eq!(
        tick["event"]["by"], "Rita Reviewer <rita@example.com>",
        "{tick}"
    );

    // Tess signs with her SSH key from the terminal; verify names her; the page shows it.
    let keys = env.dir.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let (key, public) = keypair(&keys, "tess");
    let allowed = env.repo.join(".github").join("allowed_signers");
    std::fs::create_dir_all(allowed.parent().unwrap()).unwrap();
    std::fs::write(
        &allowed,
        format!("tess@example.com namespaces=\"shipcheck\" {public}\n"),
    )
    .unwrap();
    let sign = as_person(&env, &t.tess, &["sign", "--key", key.to_str().unwrap()]);
    assert_eq!(sign.code, 0, "{}{}", sign.stdout, sign.stderr);
    let verify = env.shipcheck(&["verify", "--json"]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    let v = verify.json();
    assert_eq!(v["signatures"][0]["result"], "good", "{v}");
    assert_eq!(v["signatures"][0]["signer"], "tess@example.com", "{v}");
    rita.goto(&server.url(&format!("/runs/{run}")));
    assert!(
        rita.wait_for(30, |b| b.text("[data-live]").contains("SSH signature")),
        "{}",
        rita.text("[data-live]")
    );
    assert!(rita.text("[data-live]").contains("Signed by Tess Deployer"));
    drop(server);
}

#[test]
fn a_rollback_is_confirmed_by_typing_and_the_attacks_fail_with_nothing_journaled() {
    let Some(driver) = Driver::start("browser: rollback and attacks") else {
        return;
    };
    let env = auth_world();
    let mut config = std::fs::read_to_string(env.config_path()).unwrap();
    config.push_str("\n[incident]\nrollback_strategy = \"git-revert\"\n");
    std::fs::write(env.config_path(), config).unwrap();
    // A commit message carrying markup joins the change set.
    let hostile = "<script>window.__pwned=1</script>\"><img src=x onerror=\"window.__pwned=2\">";
    git(&env.repo, &["checkout", "-q", "staging"]);
    std::fs::write(env.repo.join("src/evil.ts"), "export const y = 2;\n").unwrap();
    git(&env.repo, &["add", "."]);
    git(&env.repo, &["commit", "-q", "-m", hostile]);
    git(&env.repo, &["push", "-q", "origin", "staging"]);
    git(&env.repo, &["checkout", "-q", "production"]);
    let t = team(&env);
    let start = as_person(&env, &t.tess, &["start", "--json"]);
    assert_eq!(start.code, 0, "{}", start.stderr);
    let run = start.json()["run"].as_str().unwrap().to_string();
    let note = as_person(&env, &t.ana, &["note", hostile]);
    assert_eq!(note.code, 0, "{}", note.stderr);
    walk(
        &env,
        &t.tess,
        &t.rita,
        |s| s["phase"] == "close" || s["status"] == "completed",
        |_| false,
    );
    assert_eq!(
        env.shipcheck(&["status", "--json"]).json()["phase"],
        "close",
        "the run should be open after its watch"
    );
    let server = Serve::start(&env);

    let ana = driver.browser(1200, 900);
    log_in(&ana, &server.url(""), &t.ana);
    ana.goto(&server.url(&format!("/runs/{run}")));

    // Markup in text shows as text and never runs.
    let live = ana.text("[data-live]");
    assert!(live.contains("<script>window.__pwned=1</script>"), "{live}");
    assert_eq!(
        ana.exec("return window.__pwned === undefined;", json!([])),
        json!(true)
    );
    assert!(ana.find_all("img[src=x]").is_empty());

    // The Content-Security-Policy blocks inline script, whoever puts it in the page.
    let blocked = ana.exec_async(
        "var done = arguments[arguments.length - 1];\
         var seen = [];\
         document.addEventListener('securitypolicyviolation', function (e) { seen.push(e.violatedDirective); });\
         var s = document.createElement('script'); s.textContent = 'window.__inline = 1;';\
         document.body.appendChild(s);\
         var d = document.createElement('div'); d.innerHTML = '<img src=\"/nope\" onerror=\"window.__inline = 2\">';\
         document.body.appendChild(d);\
         setTimeout(function () { done({ran: window.__inline === undefined ? null : window.__inline, seen: seen}); }, 500);",
        json!([]),
    );
    assert_eq!(blocked["ran"], Value::Null, "inline script ran: {blocked}");
    assert!(
        blocked["seen"].as_array().is_some_and(|s| s
            .iter()
            .any(|d| d.as_str().unwrap_or("").starts_with("script-src"))),
        "no CSP violation reported: {blocked}"
    );

    // Mutations without a session, with a wrong CSRF token, or from another site: refused.
    let before = event_count(&env);
    let post = "var done = arguments[arguments.length - 1];\
        fetch(arguments[0], {method: 'POST', credentials: 'same-origin',\
          headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: arguments[1]})\
        .then(function (r) { done(r.status); }, function (e) { done(String(e)); });";
    let note_url = format!("/runs/{run}/note");
    let wrong = ana.exec_async(post, json!([note_url, "csrf=0000&text=forged"]));
    assert_eq!(wrong, json!(403), "a wrong CSRF token was accepted");
    let stranger = driver.browser(1200, 900);
    stranger.goto(&server.url(&format!("/runs/{run}")));
    assert!(
        stranger.find_all("form[action$='/tick']").is_empty(),
        "forms without a session"
    );
    for path in [
        "note", "tick", "waive", "incident", "sign", "rollback", "decide",
    ] {
        let status = stranger.exec_async(
            post,
            json!([format!("/runs/{run}/{path}"), "csrf=&text=x&item=prepare.tests&note=x&severity=high&summary=x&reason=x&confirm=roll+back&incident=1&decision=resolve"]),
        );
        assert!(
            status == json!(401) || status == json!(403),
            "POST /runs/ID/{path} without a session answered {status}"
        );
    }
    // Another site's page posting a form into the logged-in browser.
    let target = server.url(&format!("/runs/{run}/note"));
    let action = target.clone();
    let attacker = Http::start(move |_| {
        let target = &action;
        Reply::new(
            200,
            &format!(
                "<!doctype html><form id=f method=post action=\"{target}\"><input name=csrf value=x><input name=text value=forged-cross-site></form><script>document.getElementById('f').submit()</script>"
            ),
        )
        .header("content-type", "text/html")
    });
    ana.goto(&format!("http://localhost:{}/", attacker.port()));
    assert!(
        ana.wait_for(50, |b| b.url().starts_with(&target)),
        "the attacker's form was not submitted: {}",
        ana.url()
    );
    let answer = ana.text("body");
    assert!(
        answer.contains("log in first") || answer.contains("cross-site"),
        "{answer}"
    );
    assert_eq!(
        event_count(&env),
        before,
        "a refused mutation journaled something"
    );

    // A high incident from the browser: its decision timer counts down on the page, and a
    // person answers it there (resolved, as `incident --resolve` records it).
    ana.goto(&server.url(&format!("/runs/{run}")));
    let form = "form[action$='/incident']";
    ana.exec(
        "document.querySelector(arguments[0] + ' select').value = 'high';",
        json!([form]),
    );
    ana.type_into(
        &ana.find(&format!("{form} input[name=summary]")),
        "p95 doubled on public-api",
    );
    ana.click(&ana.find(&format!("{form} button")));
    assert!(
        ana.wait_for(100, |b| b.text("h1").contains("Incident raised")),
        "{}",
        ana.text("body")
    );
    ana.goto(&server.url(&format!("/runs/{run}")));
    let first = ana.text("#incident-1 .countdown");
    assert!(
        first.ends_with(" left"),
        "no countdown: {}",
        ana.text("#incident-1")
    );
    assert!(
        ana.wait_for(40, |b| {
            let now = b.text("#incident-1 .countdown");
            now.ends_with(" left") && now != first
        }),
        "the countdown does not count: {first}"
    );
    ana.type_into(
        &ana.find("#incident-1 form[action$='/decide'] input[name=summary]"),
        "fixed forward: cache warmed",
    );
    ana.click(&ana.find("#incident-1 form[action$='/decide'] button"));
    assert!(
        ana.wait_for(50, |b| b.text("#incident-1").contains("resolved")),
        "{}",
        ana.text("body")
    );
    assert!(ana.try_find("#incident-1 .countdown").is_none());
    let events = env.shipcheck(&["events", "--json"]).json();
    let decided = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["event"]["type"] == "incident_decision")
        .cloned()
        .unwrap();
    assert_eq!(decided["event"]["decision"], "resolved", "{decided}");
    assert_eq!(
        decided["event"]["by"], "Ana Lima <ana@example.com>",
        "{decided}"
    );
    assert_eq!(
        decided["event"]["reason"], "fixed forward: cache warmed",
        "{decided}"
    );
    let before = event_count(&env);

    // The rollback: the exact commands first, then only with the typed words.
    ana.goto(&server.url(&format!("/runs/{run}")));
    ana.click(&ana.find("a[href$='/rollback']"));
    let plan = ana.text("pre");
    assert!(plan.contains("git"), "no commands shown: {plan}");
    ana.type_into(
        &ana.find("input[name=reason]"),
        "error rate after the release",
    );
    ana.type_into(&ana.find("input[name=confirm]"), "yes");
    ana.click(&ana.find("form[action$='/rollback'] button"));
    assert!(
        ana.wait_for(50, |b| b.text("body").contains("not rolled back")),
        "{}",
        ana.text("body")
    );
    assert_eq!(
        event_count(&env),
        before,
        "an unconfirmed rollback journaled something"
    );
    ana.goto(&server.url(&format!("/runs/{run}/rollback")));
    ana.type_into(
        &ana.find("input[name=reason]"),
        "error rate after the release",
    );
    ana.type_into(&ana.find("input[name=confirm]"), "roll back");
    ana.click(&ana.find("form[action$='/rollback'] button"));
    assert!(
        ana.wait_for(600, |b| b.text("h1").contains("Rolled back")),
        "{}",
        ana.text("body")
    );
    let events = env.shipcheck(&["events", "--json"]).json();
    let list = events["events"].as_array().unwrap();
    let started = list
        .iter()
        .find(|e| e["event"]["type"] == "rollback_started")
        .unwrap_or_else(|| panic!("no rollback journaled: {events}"));
    assert_eq!(
        started["event"]["by"], "Ana Lima <ana@example.com>",
        "{started}"
    );
    let status = env.shipcheck(&["status", "--json"]).json();
    assert!(status.to_string().contains("rolled"), "{status}");

    // The watch as pictures: one chart per signal, the incident, the rollback and its
    // verification marked, the verdict beside them; server-rendered (in the HTML as served),
    // and within a phone's width.
    ana.goto(&server.url(&format!("/runs/{run}")));
    let charts = ana.find_all("#watch figure.chart svg");
    assert!(!charts.is_empty(), "no charts: {}", ana.text("[data-live]"));
    for marker in [
        "line.m-incident",
        "line.m-rollback",
        "line.m-live",
        "circle.tick",
        "line.baseline",
    ] {
        assert!(
            !ana.find_all(&format!("#watch svg {marker}")).is_empty(),
            "no {marker} in the charts"
        );
    }
    let summary = ana.text("#watch .watch-summary");
    assert!(summary.contains("rolled_back"), "{summary}");
    assert!(summary.contains("incident #1 (high)"), "{summary}");
    let served = ana.exec_async(
        "var done = arguments[arguments.length - 1];\
         fetch(location.pathname).then(function (r) { return r.text(); }).then(done);",
        json!([]),
    );
    assert!(
        served
            .as_str()
            .unwrap()
            .contains("<figure class=\"chart\"><svg"),
        "not in the served HTML"
    );
    ana.set_size(390, 844);
    ana.goto(&server.url(&format!("/runs/{run}")));
    let fits = ana.exec(
        "return [document.documentElement.scrollWidth, window.innerWidth];",
        json!([]),
    );
    let wide = ana.exec(
        "var out = []; document.querySelectorAll('main *').forEach(function (e) {\
           var r = e.getBoundingClientRect(); if (r.right > window.innerWidth + 1 && out.length < 8)\
           out.push(e.tagName + '.' + e.className + ' ' + Math.round(r.right) + ': ' + (e.textContent || '').slice(0, 60)); });\
         return out;",
        json!([]),
    );
    assert!(
        fits[0].as_u64() <= fits[1].as_u64(),
        "wider than a phone: {fits} {wide}"
    );
    drop(server);
}

/// The screenshots in docs/ (`scripts/screenshots.sh` runs this): the rehearsal with a bad
/// release (`shipcheck demo --serve --scenario bad-release`: detection, incident, rollback,
/// verification), then the run page, its watch charts (wide and phone) and the team page as
/// PNGs into `SHIPCHECK_SCREENSHOTS` (a directory). Ignored in the suite: it takes the demo's
/// minute and writes into the repository.
#[test]
#[ignore = "writes docs/screenshots; run by scripts/screenshots.sh"]
fn screenshots_of_the_rehearsal() {
    let Some(out) = std::env::var_os("SHIPCHECK_SCREENSHOTS") else {
        panic!("set SHIPCHECK_SCREENSHOTS=DIR (scripts/screenshots.sh does)");
    };
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out).unwrap();
    let Some(driver) = Driver::start("browser: screenshots") else {
        return;
    };
    let env = TestEnv::bare();
    let dir = env.dir.path().join("world");
    let mut child = env
        .cmd(&[
            "demo",
            "--serve",
            "--scenario",
            "bad-release",
            // Slower than the default ×180, so a busy machine still reaches the watch before
            // the bad release starts failing (12 world minutes after it went live).
            "--speed",
            "60",
            "--no-postgres",
            "--listen",
            "127.0.0.1:0",
            "--dir",
            dir.to_str().unwrap(),
        ])
        .spawn();
    let stdout = child.stdout.take().unwrap();
    let _demo = Serve {
        child,
        addr: String::new(),
    };
    let mut lines = BufReader::new(stdout);
    let mut addr = None;
    let mut seen = String::new();
    for _ in 0..20_000 {
        let mut line = String::new();
        if lines.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        seen.push_str(&line);
        if let Some(rest) = line.split("the page   http://").nth(1) {
            addr = rest.split('/').next().map(String::from);
        }
        if line.contains("the demo took") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines.lines() {});
    let addr = addr.unwrap_or_else(|| panic!("no page address in:\n{seen}"));
    assert!(
        seen.contains("the demo took"),
        "the demo did not finish:\n{seen}"
    );
    let base = format!("http://{addr}");

    let b = driver.browser(1200, 1000);
    b.goto(&format!("{base}/"));
    let link = b.find("a[href^='/runs/']");
    let run = b.attr(&link, "href").unwrap();
    b.goto(&format!("{base}{run}"));
    assert!(
        !b.find_all("#watch svg").is_empty(),
        "no charts on {run}: {}\n{seen}",
        b.text("main")
    );
    b.set_size(1200, 1400);
    std::fs::write(out.join("run-page.png"), b.screenshot()).unwrap();
    let watch = b.find("#watch");
    std::fs::write(out.join("watch-charts.png"), b.element_screenshot(&watch)).unwrap();
    b.goto(&format!("{base}/team"));
    std::fs::write(out.join("team-dora.png"), b.full_screenshot(1200)).unwrap();
    let phone = driver.browser(390, 844);
    phone.goto(&format!("{base}{run}"));
    let watch = phone.find("#watch figure.chart");
    std::fs::write(
        out.join("watch-phone.png"),
        phone.element_screenshot(&watch),
    )
    .unwrap();
    for f in [
        "run-page.png",
        "watch-charts.png",
        "team-dora.png",
        "watch-phone.png",
    ] {
        let png = std::fs::read(out.join(f)).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{f} is not a PNG");
    }
}
