//! The test environment: a temporary directory with a hermetic HOME and git config, a real
//! git repository (bare origin, staging ahead of production), loopback HTTP apps, a
//! shipcheck.toml pointing at them, and a pinned clock (Wednesday 2026-11-25 11:00 UTC,
//! inside the default window).

#![allow(dead_code)]

use std::io::Write;

use shipcheck_testkit::git::{Fixture, git};
use shipcheck_testkit::http::{Reply, Server};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const NOW: &str = "2026-11-25T11:00:00Z";

pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub home: PathBuf,
    pub repo: PathBuf,
    pub origin: PathBuf,
    pub ports: Vec<u16>,
    /// The loopback apps (they stop when the environment is dropped).
    pub servers: Vec<Server>,
}

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// The `--json` document on stdout, validated against its published schema.
    pub fn json(&self) -> serde_json::Value {
        let v = serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr)
        });
        crate::schema_check::assert_valid(&v);
        v
    }
}

pub struct Cmd {
    cmd: Command,
    stdin: Option<String>,
}

impl Cmd {
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.cmd.env(k, v);
        self
    }
    pub fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(text.to_string());
        self
    }
    pub fn output(mut self) -> Out {
        self.cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        self.cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = self.cmd.spawn().expect("spawn shipcheck");
        if let (Some(text), Some(mut stdin)) = (self.stdin, child.stdin.take()) {
            stdin.write_all(text.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().expect("wait shipcheck");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
    pub fn spawn(mut self) -> std::process::Child {
        self.cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        self.cmd.spawn().expect("spawn shipcheck")
    }
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_shipcheck")
}

impl TestEnv {
    /// An empty directory: no config, no repository.
    pub fn bare() -> TestEnv {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        TestEnv {
            repo: dir.path().to_path_buf(),
            origin: dir.path().join("origin.git"),
            home,
            dir,
            ports: Vec::new(),
            servers: Vec::new(),
        }
    }

    /// A deployable world: git repo, apps on loopback, shipcheck.toml.
    pub fn world() -> TestEnv {
        let mut env = TestEnv::bare();
        env.repo = env.dir.path().join("repo");
        make_repo(&env);
        // staging: three healthy apps; production: two healthy, public-api answering 500
        // on /broken (health_url points there for the failing case).
        let server = serve();
        let port = server.port();
        env.ports.push(port);
        env.servers.push(server);
        let base = format!("http://127.0.0.1:{port}");
        let config = format!(
            r#"[project]
name = "maishapoa"
timezone = "UTC"

[git]
repo = "repo"

[window]
days = ["tue", "wed", "thu"]
start = "10:00"
end = "14:00"

[contacts]
team_lead = "Ana"
on_call = "Ben"

[[environments.staging.apps]]
name = "internal-api"
health_url = "{base}/api/health"

[[environments.staging.apps]]
name = "agent-registration"
health_url = "{base}/"

[[environments.staging.apps]]
name = "public-api"
health_url = "{base}/"

[[environments.production.apps]]
name = "internal-api"
health_url = "{base}/api/health"

[[environments.production.apps]]
name = "agent-registration"
health_url = "{base}/"

[[environments.production.apps]]
name = "public-api"
health_url = "{base}/broken"

[checklist.override."prepare.tests"]
check = {{ type = "command", argv = ["sh", "-c", "echo 12 tests passed"] }}

# A rehearsal: the first minutes and the watch in seconds of real time.
[monitor]
interval = "1s"
duration = "2s"
sample_every = "250ms"
logs_window = "1s"
probe_budget = 100.0
baseline_probes = 3
[checklist.override."prepare.load-test"]
check = {{ type = "loadtest", env = "staging", concurrency = 2, requests = 20, max_error_rate = 0.01 }}
"#
        );
        std::fs::write(env.dir.path().join("shipcheck.toml"), config).unwrap();
        env
    }

    /// Rewrites the production public-api health URL to a healthy one.
    pub fn heal_production(&self) {
        let p = self.dir.path().join("shipcheck.toml");
        let text = std::fs::read_to_string(&p).unwrap().replace("/broken", "/");
        std::fs::write(p, text).unwrap();
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("shipcheck.toml")
    }

    pub fn cmd(&self, args: &[&str]) -> Cmd {
        let mut cmd = Command::new(bin());
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("USER", "tester")
            .env("GIT_CONFIG_GLOBAL", self.home.join("gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("SHIPCHECK_NOW", NOW)
            .env("NO_COLOR", "1");
        Cmd { cmd, stdin: None }
    }

    pub fn shipcheck(&self, args: &[&str]) -> Out {
        self.cmd(args).output()
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join(".shipcheck").join("shipcheck.db")
    }
}

/// The repository every world starts from, made with the workspace's git fixture: a bare
/// origin, production with README.md and CHANGELOG.md, staging one commit ahead ("add x"),
/// the clone `repo` on production. HOME's git config gives shipcheck's own commits (the
/// merge, a revert) their author.
fn make_repo(env: &TestEnv) {
    std::fs::write(
        env.home.join("gitconfig"),
        "[user]\n\tname = Tess Deployer\n\temail = tess@example.com\n[init]\n\tdefaultBranch = production\n",
    )
    .unwrap();
    let f = Fixture::new(
        env.dir.path(),
        "repo",
        &[("README.md", "app\n"), ("CHANGELOG.md", "# Changelog\n")],
    );
    f.commit(
        "staging",
        &[
            ("src/app.ts", "export const x = 1;\n"),
            ("CHANGELOG.md", "# Changelog\n\n- add x\n"),
        ],
        "add x",
    );
    f.push("staging");
    git(&f.work, &["checkout", "-q", "production"]);
}

/// A loopback HTTP server (kept alive for as long as it is held): 200 `{"status":"ok"}`
/// everywhere except `/broken` (500).
pub fn serve() -> Server {
    Server::start(|r| {
        let reply = if r.path == "/broken" {
            Reply::json(500, r#"{"status":"down"}"#)
        } else {
            Reply::json(200, r#"{"status":"ok"}"#)
        };
        reply.keep_alive(true)
    })
}

/// A runtime and a connection to the SQLite store at `db`, for tests that act on the store
/// behind shipcheck's back.
pub fn sqlite(db: &Path) -> (tokio::runtime::Runtime, sqlx::SqliteConnection) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conn = rt.block_on(async {
        use sqlx::ConnectOptions;
        sqlx::sqlite::SqliteConnectOptions::new()
            .filename(db)
            .connect()
            .await
            .unwrap()
    });
    (rt, conn)
}

/// Edits one stored event's payload behind shipcheck's back, as an attacker with SQL access
/// would.
pub fn tamper_with_event(db: &Path, run_id: &str, seq: i64) {
    edit_event(
        db,
        run_id,
        seq,
        "UPDATE events SET payload = replace(payload, 'pass', 'fail') || ' ' WHERE run_id = $1 AND seq = $2",
    );
}

/// Cuts one stored event's payload to its first 20 characters: no longer JSON, let alone an
/// event.
pub fn cut_event(db: &Path, run_id: &str, seq: i64) {
    edit_event(
        db,
        run_id,
        seq,
        "UPDATE events SET payload = substr(payload, 1, 20) WHERE run_id = $1 AND seq = $2",
    );
}

/// Runs `sql` (binding the run as `$1` and the event as `$2`) on the store file directly; it
/// must change exactly one event.
fn edit_event(db: &Path, run_id: &str, seq: i64, sql: &'static str) {
    let (rt, mut conn) = sqlite(db);
    rt.block_on(async {
        let done = sqlx::query(sql)
            .bind(run_id)
            .bind(seq)
            .execute(&mut conn)
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 1, "{sql}");
    });
}

/// Runs git in `dir` (hermetic config) and returns its trimmed stdout.
pub fn git_out(env: &TestEnv, dir: &Path, args: &[&str]) -> String {
    let config = env.home.join("gitconfig");
    let extra = [
        ("HOME", env.home.to_str().unwrap()),
        ("GIT_CONFIG_GLOBAL", config.to_str().unwrap()),
    ];
    shipcheck_testkit::git::git_env(dir, args, &extra)
        .trim()
        .to_string()
}

/// Adds Fly to the world: every app gets `fly_app = "maishapoa-{env}-{name}"` and region
/// `fra`, and `[fly] command` runs this binary's flyctl stand-in on a seeded state.
pub fn with_fly(env: &TestEnv) -> shipcheck_sandbox::FlyWorld {
    let world = shipcheck_sandbox::FlyWorld::new(env.dir.path().join("fly")).seed("maishapoa");
    world.save().unwrap();
    let path = env.config_path();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = String::new();
    let mut current_env = String::new();
    for line in text.lines() {
        out.push_str(line);
        out.push('\n');
        if let Some(rest) = line.strip_prefix("[[environments.") {
            current_env = rest.trim_end_matches(".apps]]").to_string();
        }
        if let Some(name) = line
            .strip_prefix("name = \"")
            .and_then(|r| r.strip_suffix('"'))
            && !current_env.is_empty()
        {
            out.push_str(&format!(
                "fly_app = \"maishapoa-{current_env}-{name}\"\nregion = \"fra\"\nrequired_secrets = [\"DATABASE_URL\"]\n"
            ));
        }
    }
    let command: Vec<String> = world.command([bin(), "sandbox", "flyctl"]);
    out.push_str(&format!(
        "\n[fly]\ncommand = {}\ntimeout = \"20s\"\nlogs_window = \"1s\"\n",
        serde_json::to_string(&command).unwrap()
    ));
    std::fs::write(path, out).unwrap();
    world
}

/// How the tests answer what a step needs, as a person would.
#[derive(Clone, Copy, Default)]
pub struct Answers<'a> {
    /// This item is waived instead of ticked.
    pub waive: &'a str,
    /// Extra arguments for `next --yes` when an action asks for confirmation.
    pub confirm_args: &'a [&'a str],
    /// Leave a failing `preflight.production-healthy` failing (by default it is waived: the
    /// test world's production public-api answers 500 from the start, on purpose).
    pub keep_failing_baseline: bool,
}

/// Answers the needs of one step's JSON: ticks (by a reviewer where someone other than the
/// deployer must), waives `answers.waive`, confirms actions with `next --yes`. Returns the
/// items that need a fix.
pub fn answer_needs(env: &TestEnv, step: &serde_json::Value, answers: Answers<'_>) -> Vec<String> {
    let mut fixes = Vec::new();
    for need in step["needs"].as_array().cloned().unwrap_or_default() {
        let item = need["item"].as_str().unwrap_or_default().to_string();
        match need["need"].as_str().unwrap_or_default() {
            "tick" if item == answers.waive => {
                let out = env.shipcheck(&["waive", &item, "--reason", "not used by this team"]);
                assert_eq!(out.code, 0, "waive {item}: {}", out.stderr);
            }
            "tick" => {
                let by = if need["detail"]
                    .as_str()
                    .unwrap_or("")
                    .contains("other than the deployer")
                {
                    "Rita Reviewer"
                } else {
                    "Tess Deployer"
                };
                let out = env.shipcheck(&["tick", &item, "--note", "checked", "--by", by]);
                assert_eq!(out.code, 0, "tick {item}: {}", out.stderr);
            }
            "confirm" => {
                let mut args = vec!["next", "--yes"];
                args.extend_from_slice(answers.confirm_args);
                let out = env.shipcheck(&args);
                assert!(out.code <= 1, "{}", out.stderr);
            }
            "fix" if item == "preflight.production-healthy" && !answers.keep_failing_baseline => {
                let out = env.shipcheck(&[
                    "waive",
                    &item,
                    "--reason",
                    "the test world's production public-api answers 500 on purpose",
                ]);
                assert_eq!(out.code, 0, "waive {item}: {}", out.stderr);
            }
            "fix" => fixes.push(item),
            _ => {}
        }
    }
    fixes
}

/// Runs `next`, answering what a person must, until the run reaches `phase` (or passes it).
pub fn walk_until(env: &TestEnv, phase: &str) {
    walk_until_with(env, phase, Answers::default());
}

/// [`walk_until`] with answers of the test's choosing.
pub fn walk_until_with(env: &TestEnv, phase: &str, answers: Answers<'_>) {
    let order = [
        "prepare",
        "preflight",
        "release",
        "approve",
        "rollout",
        "verify",
        "watch",
        "close",
    ];
    let target = order.iter().position(|p| *p == phase).unwrap();
    for _ in 0..100 {
        let status = env.shipcheck(&["status", "--json"]).json();
        let now = status["phase"].as_str().unwrap_or("done");
        if order
            .iter()
            .position(|p| *p == now)
            .is_none_or(|i| i >= target)
        {
            return;
        }
        let out = env.shipcheck(&["next", "--json"]);
        let v = out.json();
        let fixes = answer_needs(env, &v["steps"][0], answers);
        assert!(fixes.is_empty(), "items failed: {fixes:?}\n{v}");
    }
    panic!("the run never reached {phase}");
}
