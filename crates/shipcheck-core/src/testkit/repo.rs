//! Real git repositories for tests: a bare `origin`, a working clone, and `production` and
//! `staging` branches. Every git call (here and in [`crate::clients::git`] under
//! test) is hermetic: no user or system config, a fixed identity, fixed dates.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::actions::ActionContext;
use crate::checks::CheckContext;
use crate::clients::exec::Cmd;
use crate::model::checklist::Checklist;
use crate::model::config::Config;

/// The environment of every git call in tests.
pub(crate) const GIT_ENV: [(&str, &str); 8] = [
    ("GIT_CONFIG_GLOBAL", "/dev/null"),
    ("GIT_CONFIG_NOSYSTEM", "1"),
    ("GIT_AUTHOR_NAME", "Dee Ployer"),
    ("GIT_AUTHOR_EMAIL", "dee@example.test"),
    ("GIT_COMMITTER_NAME", "Dee Ployer"),
    ("GIT_COMMITTER_EMAIL", "dee@example.test"),
    ("GIT_AUTHOR_DATE", "2025-01-07T12:00:00+00:00"),
    ("GIT_COMMITTER_DATE", "2025-01-07T12:00:00+00:00"),
];

/// Inherited variables that would point git somewhere else.
const GIT_ENV_REMOVE: [&str; 6] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_CONFIG_COUNT",
    "GIT_CONFIG_PARAMETERS",
    "GIT_OBJECT_DIRECTORY",
];

/// Makes a [`Cmd`] hermetic.
pub(crate) fn hermetic(mut c: Cmd) -> Cmd {
    for k in GIT_ENV_REMOVE {
        c = c.env_remove(k);
    }
    for (k, v) in GIT_ENV {
        c = c.env(k, v);
    }
    c
}

/// A bare origin and a working clone in a temporary directory.
pub(crate) struct TestRepo {
    _tmp: tempfile::TempDir,
    /// The temporary directory (the config's base dir).
    pub root: PathBuf,
    /// The bare `origin`.
    pub origin: PathBuf,
    /// The working clone (`[git] repo = "work"`).
    pub work: PathBuf,
    /// Commits staging has that production lacks after [`TestRepo::new`].
    pub staging_commits: usize,
    clock: AtomicU32,
}

impl TestRepo {
    /// production with README.md, CHANGELOG.md and `src/legacy.ts` (which holds a
    /// pre-existing `TODO:`); staging two commits ahead ("add rate limit" adds
    /// `src/limit.ts`, "update changelog"); the clone on staging; all pushed.
    pub fn new() -> TestRepo {
        let mut t = TestRepo::empty();
        t.commit(
            "staging",
            &[("src/limit.ts", "export const limit = 10;\n")],
            "add rate limit",
        );
        t.commit(
            "staging",
            &[("CHANGELOG.md", "# Changelog\n\n- rate limit\n")],
            "update changelog",
        );
        t.push("staging");
        t.staging_commits = 2;
        t
    }

    /// production and staging at the same commit.
    pub fn empty() -> TestRepo {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().to_path_buf();
        let origin = root.join("origin.git");
        let work = root.join("work");
        let t = TestRepo {
            _tmp: tmp,
            origin: origin.clone(),
            work: work.clone(),
            root: root.clone(),
            staging_commits: 0,
            clock: AtomicU32::new(0),
        };
        git(
            &root,
            &[
                "init",
                "--quiet",
                "--bare",
                "-b",
                "production",
                "origin.git",
            ],
        );
        let hook = origin.join("hooks/post-receive");
        std::fs::write(&hook, "#!/bin/sh\ncat >> pushes.log\n").expect("hook");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        git(&root, &["init", "--quiet", "-b", "production", "work"]);
        git(
            &work,
            &[
                "remote",
                "add",
                "origin",
                origin.to_str().expect("utf-8 path"),
            ],
        );
        t.write(&work, "README.md", "hello\n");
        t.write(&work, "CHANGELOG.md", "# Changelog\n");
        t.write(
            &work,
            "src/legacy.ts",
            "export const x = 1; // TODO: pre-existing\n",
        );
        git(&work, &["add", "-A"]);
        t.commit_here(&work, "initial");
        git(&work, &["push", "--quiet", "-u", "origin", "production"]);
        git(&work, &["checkout", "--quiet", "-b", "staging"]);
        git(&work, &["push", "--quiet", "-u", "origin", "staging"]);
        t
    }

    fn write(&self, dir: &Path, path: &str, content: &str) {
        let p = dir.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, content).expect("write");
    }

    fn commit_here(&self, dir: &Path, subject: &str) -> String {
        let n = self.clock.fetch_add(1, Ordering::SeqCst);
        let date = format!("2025-01-06T{:02}:{:02}:00+00:00", 8 + n / 60, n % 60);
        git_env(
            dir,
            &["commit", "--quiet", "-m", subject],
            &[("GIT_AUTHOR_DATE", &date), ("GIT_COMMITTER_DATE", &date)],
        );
        git(dir, &["rev-parse", "HEAD"]).trim().to_string()
    }

    /// Commits `files` on `branch` in the working clone (not pushed); the clone stays on it.
    pub fn commit(&self, branch: &str, files: &[(&str, &str)], subject: &str) -> String {
        self.commit_in(&self.work, branch, files, subject)
    }

    /// Commits `files` on `branch` in clone `dir` (not pushed).
    pub fn commit_in(
        &self,
        dir: &Path,
        branch: &str,
        files: &[(&str, &str)],
        subject: &str,
    ) -> String {
        git(dir, &["checkout", "--quiet", branch]);
        for (p, c) in files {
            self.write(dir, p, c);
        }
        git(dir, &["add", "-A"]);
        self.commit_here(dir, subject)
    }

    /// Pushes `branch` from the working clone.
    pub fn push(&self, branch: &str) {
        git(&self.work, &["push", "--quiet", "origin", branch]);
    }

    /// Another clone of origin, named `name`.
    pub fn clone_to(&self, name: &str) -> PathBuf {
        git(
            &self.root,
            &[
                "clone",
                "--quiet",
                self.origin.to_str().expect("utf-8"),
                name,
            ],
        );
        self.root.join(name)
    }

    /// origin's `branch` commit.
    pub fn origin_ref(&self, branch: &str) -> String {
        git(&self.origin, &["rev-parse", branch]).trim().to_string()
    }

    /// How many pushes updated origin's `branch`.
    pub fn pushes(&self, branch: &str) -> usize {
        let log = std::fs::read_to_string(self.origin.join("pushes.log")).unwrap_or_default();
        let suffix = format!(" refs/heads/{branch}");
        log.lines().filter(|l| l.ends_with(&suffix)).count()
    }

    /// Every ref of the clone and of origin, plus the clone's HEAD and status (to show
    /// that something changed nothing).
    pub fn snapshot(&self) -> String {
        let mut s = git(
            &self.work,
            &["for-each-ref", "--format=%(refname) %(objectname)"],
        );
        s += &git(
            &self.origin,
            &["for-each-ref", "--format=%(refname) %(objectname)"],
        );
        s += &git(&self.work, &["rev-parse", "HEAD"]);
        s += &git(&self.work, &["status", "--porcelain"]);
        s
    }

    /// A check context for the clone (`[git] repo = "work"`, default `[paths]`).
    pub fn ctx(&self) -> CheckContext {
        self.ctx_with(Config::default())
    }

    /// A check context with `config` (its `[git] repo` pointed at the clone).
    pub fn ctx_with(&self, mut config: Config) -> CheckContext {
        config.git.repo = "work".into();
        CheckContext::new(
            Arc::new(config),
            self.root.clone(),
            Arc::new(Checklist::builtin()),
            Arc::new(crate::model::clock::SystemClock),
        )
    }

    /// An action context (by `dee`).
    pub fn action_ctx(&self, message: Option<&str>, dry_run: bool) -> ActionContext {
        ActionContext {
            check: self.ctx(),
            by: "dee".into(),
            message: message.map(str::to_string),
            dry_run,
        }
    }
}

/// Runs git hermetically in `dir`; panics (it is a test) when git fails.
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    git_env(dir, args, &[])
}

fn git_env(dir: &Path, args: &[&str], extra: &[(&str, &str)]) -> String {
    let mut c = Command::new("git");
    c.args(args).current_dir(dir);
    for k in GIT_ENV_REMOVE {
        c.env_remove(k);
    }
    c.envs(GIT_ENV).envs(extra.iter().copied());
    let out = c.output().expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} in {dir:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A run (id `id`) on the built-in checklist, with `events` after its start.
pub(crate) fn run_state(
    id: &str,
    events: Vec<crate::model::event::Event>,
) -> crate::journal::state::RunState {
    use crate::model::event::{Event, GENESIS_HASH, StoredEvent};
    let start = Event::RunStarted {
        project: "app".into(),
        env: "production".into(),
        by: "dee".into(),
        scheduled_at: None,
        config_digest: "test".into(),
        config: None,
        items: Checklist::builtin().items,
    };
    let stored: Vec<StoredEvent> = std::iter::once(start)
        .chain(events)
        .enumerate()
        .map(|(i, event)| StoredEvent {
            run_id: id.into(),
            seq: i as i64 + 1,
            at: jiff::Timestamp::UNIX_EPOCH,
            event,
            prev_hash: GENESIS_HASH.into(),
            hash: GENESIS_HASH.into(),
        })
        .collect();
    crate::journal::state::RunState::fold(&stored).expect("a valid run")
}

impl TestRepo {
    /// An action context inside run `id`.
    pub fn run_ctx(&self, id: &str, message: Option<&str>) -> ActionContext {
        let mut a = self.action_ctx(message, false);
        a.check.run = Some(Arc::new(run_state(id, Vec::new())));
        a
    }

    /// The merge commits on origin's `branch`.
    pub fn origin_merges(&self, branch: &str) -> Vec<String> {
        git(&self.origin, &["log", "--merges", "--format=%H", branch])
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// `git log -1 --format=… rev` in origin.
    pub fn origin_show(&self, format: &str, rev: &str) -> String {
        git(
            &self.origin,
            &["log", "-1", &format!("--format={format}"), rev],
        )
        .trim_end()
        .to_string()
    }
}
