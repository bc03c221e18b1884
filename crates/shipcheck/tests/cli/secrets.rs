//! Planted secrets: every variable the demo's config names (and the ones whose names say they
//! hold secrets) set to distinctive values, a release walked to its rollback, each
//! integration's error path, every output — and then nothing of any planted value (whole, or
//! any 8 characters of it) anywhere: not on stdout or stderr, not in the store file or
//! anything else under `.shipcheck/`, not in a written report, not in what was sent to Slack,
//! GitHub or Sentry.
//!
//! The team's test script here is careless, the way real ones are (`set -x`, a debug echo):
//! it prints every token, and cuts of them, so the secrets do reach shipcheck.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use shipcheck_sandbox::world::{
    ENV_GITHUB, ENV_PROMETHEUS, ENV_SENTRY, ENV_SLACK, PostgresChoice, Scenario, Secrets, World,
    WorldOptions, record,
};

use crate::support::bin;

const GITHUB: &str = "ghp_PLANTEDgh7Q2mXw9LkP4vR8sT1uY6zA3bC5dE";
const SENTRY: &str = "sntrys_PLANTEDsn4Jd8Kq2Wm6Zx9Pv3Rt7Ny1Lb5Hc";
const PROMETHEUS: &str = "fm2_PLANTEDpr8Hn3Vb6Mc1Xz5Lk9Jg2Df4Sa7Qw";
const SLACK: &str = "PLANTEDsl5Tg9Yh3Uj7Ik1Ol6Pz2Xc8Vb4Nm";
const EVENTS: &str = "cde_PLANTEDev3Wq7Er1Ty5Ui9Op2As6Df";
const FLY: &str = "FlyV1 fm2_PLANTEDfly3Kd7Lf1Mg5Nh9Pj2Qk6Rl";
const DATABASE: &str = "postgres://deploy:PLANTEDpgW0rd8Xq2Zr5@db.internal:5432/maishapoa";
/// Wrong values for the error paths: each integration refuses them.
const WRONG_GITHUB: &str = "ghp_PLANTEDwrongGh2Kx8Mz4Qv6Tb1Yn3Rc9Wd5";
const WRONG_SENTRY: &str = "sntrys_PLANTEDwrongSn7Hf3Jk9Lp1Xv5Bn2Mq8";
const WRONG_PROMETHEUS: &str = "fm2_PLANTEDwrongPr4Gd8Hs2Kw6Zc9Vb1Nx3";
const WRONG_SLACK: &str = "PLANTEDwrongSl6Rf2Tg8Yh4Uj9Ik3Ol1Pz";

/// Every planted value and the distinctive part of each (what must never show).
fn planted() -> Vec<&'static str> {
    vec![
        GITHUB,
        SENTRY,
        PROMETHEUS,
        SLACK,
        EVENTS,
        "PLANTEDfly3Kd7Lf1Mg5Nh9Pj2Qk6Rl",
        "PLANTEDpgW0rd8Xq2Zr5",
        WRONG_GITHUB,
        WRONG_SENTRY,
        WRONG_PROMETHEUS,
        WRONG_SLACK,
    ]
}

/// The first 8-character piece of any planted value found in `text`.
fn leak(text: &str) -> Option<String> {
    for p in planted() {
        for w in p.as_bytes().windows(8) {
            let w = std::str::from_utf8(w).unwrap_or_default();
            // Pieces every value shares by construction are not one value's identity.
            if w.starts_with("PLANTED") || w.contains("_PLANTE") || w == "fm2_PLAN" {
                continue;
            }
            if text.contains(w) {
                return Some(w.to_string());
            }
        }
    }
    None
}

struct Shell {
    dir: PathBuf,
    env: BTreeMap<String, String>,
    /// Every output so far, labelled.
    seen: Vec<(String, String)>,
}

impl Shell {
    fn cmd(&self, env: &BTreeMap<String, String>, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &self.dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .envs(env)
            .stdin(Stdio::null());
        c
    }

    fn run_with(&mut self, env: &BTreeMap<String, String>, args: &[&str]) -> i32 {
        let out = self.cmd(env, args).output().expect("run shipcheck");
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        self.seen.push((args.join(" "), text));
        out.status.code().unwrap_or(-1)
    }

    fn run(&mut self, args: &[&str]) -> i32 {
        let env = self.env.clone();
        self.run_with(&env, args)
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_secrets_appear_nowhere() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::build_with(
        &tmp.path().join("w"),
        WorldOptions {
            scenario: Scenario::Good,
            speed: 1500.0,
            flyctl: vec![bin().to_string(), "sandbox".into(), "flyctl".into()],
            postgres: PostgresChoice::Off,
            secrets: Some(Secrets {
                github: GITHUB.into(),
                sentry: SENTRY.into(),
                prometheus: PROMETHEUS.into(),
                slack: SLACK.into(),
                events: EVENTS.into(),
            }),
            ..WorldOptions::default()
        },
    )
    .await
    .unwrap();
    let mut env = world.env().clone();
    env.insert("FLY_API_TOKEN".into(), FLY.into());
    env.insert("DATABASE_URL".into(), DATABASE.into());
    assert!(env[ENV_SLACK].ends_with(SLACK), "{env:?}");

    // The careless test script: prints every token, and a cut of each.
    let config = world.config_path().to_path_buf();
    let text = std::fs::read_to_string(&config).unwrap();
    let careless = format!(
        "argv = [\"sh\", \"-c\", \"sh scripts/test.sh && echo debug: gh=${ENV_GITHUB} sentry=${ENV_SENTRY} prom=${ENV_PROMETHEUS} hook=${ENV_SLACK} fly=$FLY_API_TOKEN db=$DATABASE_URL && printf 'cut: %.20s\\\\n' ${ENV_GITHUB}\"]"
    );
    let text = text.replace("argv = [\"sh\", \"scripts/test.sh\"]", &careless);
    assert!(
        text.contains("debug: gh="),
        "the test script was not replaced:\n{text}"
    );
    std::fs::write(&config, text).unwrap();

    let dir = world.dir.clone();
    let reports = tmp.path().join("reports");
    std::fs::create_dir_all(&reports).unwrap();
    let shell = tokio::task::spawn_blocking(move || {
        let mut sh = Shell {
            dir,
            env: env.clone(),
            seen: Vec::new(),
        };
        // The careless script, run standalone, and each integration with tokens it refuses.
        let mut wrong = env.clone();
        wrong.insert(ENV_GITHUB.into(), WRONG_GITHUB.into());
        wrong.insert(ENV_SENTRY.into(), WRONG_SENTRY.into());
        wrong.insert(ENV_PROMETHEUS.into(), WRONG_PROMETHEUS.into());
        wrong.insert(ENV_SLACK.into(), env[ENV_SLACK].replace(SLACK, WRONG_SLACK));
        // GitHub, Sentry and Prometheus refuse the wrong tokens (and the script runs).
        let items = [
            "prepare.tests",
            "prepare.prs-approved",
            "rollout.sentry-new-errors",
            "verify.cpu-memory",
        ];
        let mut check = vec!["check"];
        check.extend(items);
        sh.run_with(&wrong, &check);
        let mut check = vec!["--json", "check"];
        check.extend(items);
        sh.run_with(&wrong, &check);
        let refused = sh.seen.iter().filter(|(_, t)| t.contains("(401)")).count();
        assert!(
            refused >= 2,
            "the wrong tokens were not refused: {:#?}",
            sh.seen
        );
        // A run: a note quoting part of a token; Slack refuses the wrong webhook.
        assert_eq!(
            sh.run(&["start", "--by", "Tess Deployer"]),
            0,
            "{:#?}",
            sh.seen
        );
        sh.run(&[
            "note",
            "--kind",
            "issue",
            &format!(
                "curl -H 'Authorization: Bearer {}' answered 401",
                &GITHUB[..26]
            ),
        ]);
        let mut slack_wrong = env.clone();
        slack_wrong.insert(ENV_SLACK.into(), wrong[ENV_SLACK].clone());
        sh.run_with(&slack_wrong, &["sandbox", "operate"]);
        assert!(
            sh.seen.iter().any(|(_, t)| t.contains("no_service")),
            "Slack did not refuse the wrong webhook: {:#?}",
            sh.seen.last()
        );
        // The rest of the walk, to the signed record.
        let mut code = -1;
        for _ in 0..3 {
            code = sh.run(&["sandbox", "operate"]);
            if code == 0 {
                break;
            }
        }
        assert_eq!(
            code,
            0,
            "the operator did not finish: {:#?}",
            sh.seen.last()
        );
        for args in [
            &["status"][..],
            &["--json", "status"],
            &["report"],
            &["--json", "report", "--format", "json"],
            &["events"],
            &["--json", "events"],
            &["history"],
            &["verify"],
            &["plan"],
        ] {
            sh.run(args);
        }
        for (format, name) in [("md", "r.md"), ("json", "r.json"), ("junit", "r.xml")] {
            let out = reports.join(name).display().to_string();
            sh.run(&["report", "--format", format, "--output", &out]);
        }
        sh
    })
    .await
    .unwrap();

    let mut leaks = Vec::new();
    for (what, text) in &shell.seen {
        if let Some(w) = leak(text) {
            leaks.push(format!("`shipcheck {what}` printed {w:?}"));
        }
    }
    let mut files = Vec::new();
    files_under(&world.dir.join(".shipcheck"), &mut files);
    files_under(&tmp.path().join("reports"), &mut files);
    assert!(
        files.iter().any(|f| f.ends_with("shipcheck.db")),
        "{files:?}"
    );
    assert!(files.len() >= 4, "the reports were not written: {files:?}");
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        if let Some(w) = leak(&String::from_utf8_lossy(&bytes)) {
            leaks.push(format!("{} holds {w:?}", f.display()));
        }
    }
    for m in world.slack_messages() {
        if let Some(w) = leak(&format!("{} {}", m.text, m.blocks)) {
            leaks.push(format!("a Slack message carries {w:?}"));
        }
    }
    for r in record::read_requests(&world.dir) {
        if let Some(w) = leak(&r.body.to_string()) {
            leaks.push(format!("a request body to {} carries {w:?}", r.service));
        }
    }
    // The secrets did reach shipcheck: the script printed them, the note quoted one.
    let walked = shell.seen.iter().any(|(_, t)| t.contains("[REDACTED]"))
        || files.iter().any(|f| {
            String::from_utf8_lossy(&std::fs::read(f).unwrap_or_default()).contains("[REDACTED]")
        });
    assert!(walked, "nothing was redacted: the test planted nothing");
    world.shutdown().await;
    assert!(
        leaks.is_empty(),
        "planted secrets leaked:\n{}",
        leaks.join("\n")
    );
}
