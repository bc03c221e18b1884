//! Real git repositories for tests. Every call is hermetic: no user or system config, a fixed
//! identity, fixed dates, and none of the inherited variables that would point git elsewhere.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The environment of every git call in tests.
pub const HERMETIC_ENV: [(&str, &str); 8] = [
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
pub const REMOVE_ENV: [&str; 6] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_CONFIG_COUNT",
    "GIT_CONFIG_PARAMETERS",
    "GIT_OBJECT_DIRECTORY",
];

/// Runs git hermetically in `dir`; its stdout. Panics (it is a test) when git fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    git_env(dir, args, &[])
}

/// [`git`] with `extra` variables on top of the hermetic ones.
pub fn git_env(dir: &Path, args: &[&str], extra: &[(&str, &str)]) -> String {
    let mut c = Command::new("git");
    c.args(args).current_dir(dir);
    for k in REMOVE_ENV {
        c.env_remove(k);
    }
    c.envs(HERMETIC_ENV).envs(extra.iter().copied());
    let out = c.output().expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} in {dir:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A bare `origin.git` (default branch `production`, a hook that logs every push to
/// `pushes.log`) and a working clone, in a directory the caller owns.
pub struct Fixture {
    /// The directory holding both.
    pub root: PathBuf,
    /// The bare origin.
    pub origin: PathBuf,
    /// The working clone.
    pub work: PathBuf,
    clock: AtomicU32,
}

impl Fixture {
    /// In `root`: origin with one commit on `production` holding `files` (path, content), the
    /// clone `work_name` on a `staging` branch at the same commit, both pushed.
    pub fn new(root: &Path, work_name: &str, files: &[(&str, &str)]) -> Fixture {
        let origin = root.join("origin.git");
        let work = root.join(work_name);
        git(
            root,
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
        git(root, &["init", "--quiet", "-b", "production", work_name]);
        let origin_path = origin.to_str().expect("utf-8 path");
        git(&work, &["remote", "add", "origin", origin_path]);
        let f = Fixture {
            root: root.to_path_buf(),
            origin,
            work,
            clock: AtomicU32::new(0),
        };
        f.commit("production", files, "initial");
        git(&f.work, &["push", "--quiet", "-u", "origin", "production"]);
        git(&f.work, &["checkout", "--quiet", "-b", "staging"]);
        git(&f.work, &["push", "--quiet", "-u", "origin", "staging"]);
        f
    }

    /// Commits `files` on `branch` in the working clone (not pushed); the clone stays on it.
    /// Commit dates advance a minute per commit, so hashes are the same on every run.
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
        let on = git(dir, &["symbolic-ref", "--short", "HEAD"]);
        if on.trim() != branch {
            git(dir, &["checkout", "--quiet", branch]);
        }
        for (p, c) in files {
            write(dir, p, c);
        }
        git(dir, &["add", "-A"]);
        let n = self.clock.fetch_add(1, Ordering::SeqCst);
        let date = format!("2025-01-06T{:02}:{:02}:00+00:00", 8 + n / 60, n % 60);
        git_env(
            dir,
            &["commit", "--quiet", "--allow-empty", "-m", subject],
            &[("GIT_AUTHOR_DATE", &date), ("GIT_COMMITTER_DATE", &date)],
        );
        git(dir, &["rev-parse", "HEAD"]).trim().to_string()
    }

    /// Pushes `branch` from the working clone.
    pub fn push(&self, branch: &str) {
        git(&self.work, &["push", "--quiet", "origin", branch]);
    }

    /// Another clone of origin, named `name`.
    pub fn clone_to(&self, name: &str) -> PathBuf {
        let origin = self.origin.to_str().expect("utf-8");
        git(&self.root, &["clone", "--quiet", origin, name]);
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
}

/// Writes `content` to `dir/path`, creating folders.
pub fn write(dir: &Path, path: &str, content: &str) {
    let p = dir.join(path);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(p, content).expect("write");
}
