//! A small typed git client. git runs as a program through [`crate::clients::exec::Cmd`] (the
//! user's credentials, hooks and config apply): arguments as a list, a timeout on every
//! call, `GIT_TERMINAL_PROMPT=0` (shipcheck never has a terminal to lend git; stdin is
//! closed), and nothing parsed from human-readable output: every read uses a machine
//! format (`-z`, `--format` with separators, exit codes of `--verify`/`--is-ancestor`).
//!
//! The commands of the seed's steps (`checkout`, `pull --ff-only`, `merge --no-ff -m`,
//! `push`, `revert -m 1`) are run exactly as a person would type them, so a `--dry-run` plan
//! ([`Git::display`]) shows what really runs.

pub mod parse;

use crate::model::changes::{AddedLine, CommitInfo, FileChange, LogCommit};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::clients::exec::{Cmd, ExecError, Output};

mod changes;

pub use changes::Repo;

/// Why a git command did not give what was asked.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// git could not be started, or ran past its timeout (the message names the command).
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// git ran and exited non-zero.
    #[error("`{command}` failed ({}){}", exit_text(*.code), excerpt_suffix(.stderr))]
    Failed {
        /// The command line, rendered.
        command: String,
        /// Its exit code (`None` when killed by a signal).
        code: Option<i32>,
        /// The first lines of its stderr (or stdout when stderr was empty).
        stderr: String,
    },
    /// git answered in a shape shipcheck cannot read.
    #[error("`{command}` printed output shipcheck cannot read: {problem}")]
    Unreadable {
        /// The command line, rendered.
        command: String,
        /// What was wrong with it.
        problem: String,
    },
    /// A branch, remote-tracking ref or commit that must exist does not.
    #[error("{reference} does not exist{}", hint_suffix(.hint))]
    MissingRef {
        /// The ref (`origin/staging`) or commit.
        reference: String,
        /// What to do about it.
        hint: String,
    },
    /// A name from config that git would read as an option or an invalid ref.
    #[error("{what} {name:?} is not a usable git name: {problem}")]
    BadName {
        /// `branch`, `remote`.
        what: &'static str,
        /// The name.
        name: String,
        /// Why.
        problem: String,
    },
}

fn exit_text(code: Option<i32>) -> String {
    match code {
        Some(c) => format!("exit code {c}"),
        None => "killed by a signal".into(),
    }
}

fn excerpt_suffix(s: &str) -> String {
    if s.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", s.trim())
    }
}

fn hint_suffix(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(": {s}")
    }
}

impl GitError {
    /// The stderr excerpt, when git ran and failed.
    pub fn stderr_excerpt(&self) -> Option<&str> {
        match self {
            GitError::Failed { stderr, .. } => Some(stderr),
            _ => None,
        }
    }
}

/// What `HEAD` is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Head {
    /// On a branch (its short name).
    Branch(String),
    /// Detached at a commit.
    Detached(String),
}

impl Head {
    /// What `git checkout` takes to come back here.
    pub fn checkout_target(&self) -> &str {
        match self {
            Head::Branch(b) | Head::Detached(b) => b,
        }
    }
}

/// The working tree's state, as far as a merge cares.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkTree {
    /// Tracked paths with staged or unstaged changes (`M src/a.ts`: the status code, then
    /// the path), in status order.
    pub changed: Vec<String>,
    /// How many untracked files there are (they do not make the tree dirty).
    pub untracked: usize,
    /// A merge, revert, cherry-pick or rebase in progress.
    pub in_progress: Option<&'static str>,
}

impl WorkTree {
    /// No tracked change and nothing in progress.
    pub fn is_clean(&self) -> bool {
        self.changed.is_empty() && self.in_progress.is_none()
    }
    /// One line: "2 changed files (M src/a.ts, ?? …)" or "merge in progress".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(op) = self.in_progress {
            parts.push(format!("a {op} is in progress"));
        }
        if !self.changed.is_empty() {
            parts.push(format!(
                "{} uncommitted change{} ({})",
                self.changed.len(),
                if self.changed.len() == 1 { "" } else { "s" },
                crate::model::changes::list_some(&self.changed, 5)
            ));
        }
        if parts.is_empty() {
            "clean".into()
        } else {
            parts.join("; ")
        }
    }
}

/// A git client for one repository.
#[derive(Clone, Debug)]
pub struct Git {
    /// The repository (any directory inside its working tree).
    pub dir: PathBuf,
    /// The git program (default `git`).
    pub program: String,
    /// Timeout of a local command (default 60 s).
    pub timeout: Duration,
    /// Timeout of a command that talks to the remote: fetch, pull, push (default 5 min).
    pub network_timeout: Duration,
}

/// Extra options for the commands whose output shipcheck reads, so a user's config cannot
/// change its shape (signatures in `log`, colour, external diff drivers).
const READ_OPTS: [&str; 6] = [
    "-c",
    "log.showSignature=false",
    "-c",
    "color.ui=never",
    "-c",
    "core.quotePath=false",
];

impl Git {
    /// A client for the repository at `dir`.
    pub fn new(dir: impl AsRef<Path>) -> Git {
        Git {
            dir: dir.as_ref().to_path_buf(),
            program: "git".into(),
            timeout: Duration::from_secs(60),
            network_timeout: Duration::from_secs(300),
        }
    }

    /// The command `git args…` in this repository, with its timeout and environment.
    pub fn cmd(&self, args: &[&str], reason: &str) -> Cmd {
        let network = matches!(args.first(), Some(&("fetch" | "pull" | "push")));
        let c = Cmd::new(&self.program, args.iter().copied())
            .dir(&self.dir)
            .reason(reason.to_string())
            .timeout(if network {
                self.network_timeout
            } else {
                self.timeout
            })
            .env("GIT_TERMINAL_PROMPT", "0")
            // A merge with -m and a revert with --no-edit never open an editor.
            .env("GIT_MERGE_AUTOEDIT", "no");
        // Tests run git hermetically: no user or system config, fixed identity and dates.
        #[cfg(test)]
        let c = crate::testkit::repo::hermetic(c);
        c
    }

    /// `git args…` as a person would type it (for plans and messages).
    pub fn display(&self, args: &[&str]) -> String {
        Cmd::new(&self.program, args.iter().copied()).display()
    }

    /// Runs `git args…`; any exit code is returned (errors only when git could not run).
    pub async fn output(&self, args: &[&str], reason: &str) -> Result<Output, GitError> {
        Ok(self.cmd(args, reason).run().await?)
    }

    /// Runs `git args…` and returns stdout; a non-zero exit is [`GitError::Failed`].
    pub async fn run(&self, args: &[&str], reason: &str) -> Result<String, GitError> {
        let out = self.output(args, reason).await?;
        if out.stdout_cut() {
            return Err(GitError::Unreadable {
                command: self.display(args),
                problem: out.cut(&self.display(args)).unwrap_or_default(),
            });
        }
        if out.success() {
            Ok(out.stdout)
        } else {
            Err(self.failed(args, &out))
        }
    }

    /// A read whose output shape must not depend on the user's config.
    async fn read(&self, args: &[&str], reason: &str) -> Result<String, GitError> {
        let mut all: Vec<&str> = READ_OPTS.to_vec();
        all.extend_from_slice(args);
        self.run(&all, reason).await
    }

    /// The [`GitError::Failed`] for a finished command.
    pub fn failed(&self, args: &[&str], out: &Output) -> GitError {
        GitError::Failed {
            command: self.display(args),
            code: out.code,
            stderr: out.head_of_stderr(6),
        }
    }

    /// `git fetch REMOTE`.
    pub async fn fetch(&self, remote: &str) -> Result<(), GitError> {
        check_name("remote", remote)?;
        self.run(&["fetch", remote], "fetch the remote").await?;
        Ok(())
    }

    /// The commit `rev` names, or `None` when it names nothing.
    pub async fn resolve(&self, rev: &str) -> Result<Option<String>, GitError> {
        let spec = format!("{rev}^{{commit}}");
        let args = [
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &spec,
        ];
        let out = self.output(&args, "resolve a revision").await?;
        match out.code {
            Some(0) => {
                parse::sha_line(out.stdout.trim())
                    .map(Some)
                    .ok_or_else(|| GitError::Unreadable {
                        command: self.display(&args),
                        problem: format!("expected a commit id, got {:?}", out.stdout.trim()),
                    })
            }
            Some(1) => Ok(None),
            _ => Err(self.failed(&args, &out)),
        }
    }

    /// The commit `rev` names; [`GitError::MissingRef`] when it names nothing.
    pub async fn rev_parse(&self, rev: &str, hint: &str) -> Result<String, GitError> {
        self.resolve(rev)
            .await?
            .ok_or_else(|| GitError::MissingRef {
                reference: rev.to_string(),
                hint: hint.to_string(),
            })
    }

    /// The local branch `name`'s commit, if the branch exists.
    pub async fn local_branch(&self, name: &str) -> Result<Option<String>, GitError> {
        check_name("branch", name)?;
        self.resolve(&format!("refs/heads/{name}")).await
    }

    /// The remote-tracking branch `remote/name`'s commit, if it exists.
    pub async fn remote_branch(
        &self,
        remote: &str,
        name: &str,
    ) -> Result<Option<String>, GitError> {
        check_name("remote", remote)?;
        check_name("branch", name)?;
        self.resolve(&format!("refs/remotes/{remote}/{name}")).await
    }

    /// Where `HEAD` is.
    pub async fn head(&self) -> Result<Head, GitError> {
        let args = ["symbolic-ref", "--quiet", "--short", "HEAD"];
        let out = self.output(&args, "read the current branch").await?;
        match out.code {
            Some(0) if !out.stdout.trim().is_empty() => Ok(Head::Branch(out.stdout.trim().into())),
            Some(1) => Ok(Head::Detached(
                self.rev_parse("HEAD", "the repository has no commit")
                    .await?,
            )),
            _ => Err(self.failed(&args, &out)),
        }
    }

    /// Whether `a` is an ancestor of (or equal to) `b`.
    pub async fn is_ancestor(&self, a: &str, b: &str) -> Result<bool, GitError> {
        let args = ["merge-base", "--is-ancestor", a, b];
        let out = self.output(&args, "compare two commits").await?;
        match out.code {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(self.failed(&args, &out)),
        }
    }

    /// How many commits `a` has that `b` lacks, and the other way round.
    pub async fn ahead_behind(&self, a: &str, b: &str) -> Result<(u64, u64), GitError> {
        let range = format!("{a}...{b}");
        let args = ["rev-list", "--left-right", "--count", &range, "--"];
        let out = self.run(&args, "count commits ahead and behind").await?;
        parse::two_counts(&out).ok_or_else(|| GitError::Unreadable {
            command: self.display(&args),
            problem: format!("expected two counts, got {:?}", out.trim()),
        })
    }

    /// The commits of `range` (`a..b`), newest first.
    pub async fn log(&self, range: &str) -> Result<Vec<LogCommit>, GitError> {
        let args = ["log", parse::LOG_FORMAT, range, "--"];
        let out = self.read(&args, "list the commits").await?;
        parse::log(&out).map_err(|problem| GitError::Unreadable {
            command: self.display(&args),
            problem: problem.to_string(),
        })
    }

    /// Commits with their parents and full message: `args` are extra `git log` arguments
    /// (`--first-parent`, `-n`, a range).
    pub async fn commits(&self, extra: &[&str]) -> Result<Vec<CommitInfo>, GitError> {
        let mut args = vec!["log", parse::INFO_FORMAT];
        args.extend_from_slice(extra);
        args.push("--");
        let out = self.read(&args, "read commits").await?;
        parse::infos(&out).map_err(|problem| GitError::Unreadable {
            command: self.display(&args),
            problem: problem.to_string(),
        })
    }

    /// One commit with its parents and full message.
    pub async fn commit(&self, rev: &str) -> Result<CommitInfo, GitError> {
        let sha = self.rev_parse(rev, "").await?;
        let mut list = self.commits(&["-n", "1", &sha]).await?;
        list.pop().ok_or_else(|| GitError::MissingRef {
            reference: rev.to_string(),
            hint: String::new(),
        })
    }

    /// Files changed from the merge base of `base` and `head` to `head` (what merging
    /// `head` into `base` brings), with line counts; binary files count 0/0.
    pub async fn numstat(&self, base: &str, head: &str) -> Result<Vec<FileChange>, GitError> {
        let range = format!("{base}...{head}");
        let args = [
            "diff",
            "--numstat",
            "-z",
            "-M",
            "--no-ext-diff",
            "--no-textconv",
            "--no-relative",
            &range,
            "--",
        ];
        let out = self.read(&args, "count the changed lines").await?;
        parse::numstat(&out).map_err(|problem| GitError::Unreadable {
            command: self.display(&args),
            problem: problem.to_string(),
        })
    }

    /// The lines added from the merge base of `base` and `head` to `head`, limited to
    /// `paths` (literal) when given. The flag says the output hit the capture limit and
    /// only its tail was read.
    pub async fn added_lines(
        &self,
        base: &str,
        head: &str,
        paths: &[&str],
    ) -> Result<(Vec<AddedLine>, bool), GitError> {
        let range = format!("{base}...{head}");
        let mut args = vec![
            "diff",
            "-U0",
            "-M",
            "--no-ext-diff",
            "--no-textconv",
            "--no-relative",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            &range,
            "--",
        ];
        let specs: Vec<String> = paths.iter().map(|p| format!(":(literal){p}")).collect();
        args.extend(specs.iter().map(String::as_str));
        let out = self.read(&args, "read the added lines").await?;
        let truncated = out.len() >= parse::CAPTURE_LIMIT;
        Ok((parse::added_lines(&out), truncated))
    }

    /// The working tree's state.
    pub async fn worktree(&self) -> Result<WorkTree, GitError> {
        let args = ["status", "--porcelain=v1", "-z", "--untracked-files=normal"];
        let out = self.read(&args, "read the working tree's state").await?;
        let (changed, untracked) = parse::status(&out);
        let mut in_progress = None;
        for (head, op) in [
            ("MERGE_HEAD", "merge"),
            ("REVERT_HEAD", "revert"),
            ("CHERRY_PICK_HEAD", "cherry-pick"),
        ] {
            if self.resolve(head).await?.is_some() {
                in_progress = Some(op);
                break;
            }
        }
        if in_progress.is_none() {
            for dir in ["rebase-merge", "rebase-apply"] {
                let p = self
                    .run(&["rev-parse", "--git-path", dir], "find the rebase state")
                    .await?;
                let p = Path::new(p.trim());
                let p = if p.is_absolute() {
                    p.to_path_buf()
                } else {
                    self.dir.join(p)
                };
                if p.exists() {
                    in_progress = Some("rebase");
                }
            }
        }
        Ok(WorkTree {
            changed,
            untracked,
            in_progress,
        })
    }

    /// Paths with unresolved conflicts.
    pub async fn conflicted(&self) -> Result<Vec<String>, GitError> {
        let args = ["diff", "--name-only", "-z", "--diff-filter=U"];
        let out = self.read(&args, "list conflicted files").await?;
        Ok(out
            .split('\0')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect())
    }
}

/// Refuses names git would read as options or that cannot be refs.
pub fn check_name(what: &'static str, name: &str) -> Result<(), GitError> {
    let problem = if name.is_empty() {
        "it is empty"
    } else if name.starts_with('-') {
        "it starts with '-'"
    } else if name.contains("..") || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "it contains '..', a space or a control character"
    } else if name.chars().any(|c| "~^:?*[\\".contains(c)) {
        "it contains one of ~ ^ : ? * [ \\"
    } else {
        return Ok(());
    };
    Err(GitError::BadName {
        what,
        name: name.to_string(),
        problem: problem.into(),
    })
}

/// Who is running shipcheck: `git config user.name`, else `$USER`, else "unknown".
pub async fn default_actor() -> String {
    if let Ok(out) = crate::clients::exec::Cmd::new("git", ["config", "user.name"])
        .timeout(std::time::Duration::from_secs(5))
        .reason("find who is deploying")
        .run()
        .await
        && out.success()
        && !out.stdout.trim().is_empty()
    {
        return out.stdout.trim().to_string();
    }
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

impl crate::model::error::HasKind for GitError {
    fn kind(&self) -> crate::model::error::ErrorKind {
        use crate::model::error::ErrorKind;
        match self {
            GitError::Exec(e) => e.kind(),
            GitError::MissingRef { .. } | GitError::BadName { .. } => ErrorKind::Usage,
            _ => ErrorKind::Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::repo::TestRepo;

    #[tokio::test]
    async fn reads_refs_commits_and_state() {
        let t = TestRepo::new();
        let git = Git::new(&t.work);
        git.fetch("origin").await.unwrap();
        let staging = git
            .remote_branch("origin", "staging")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(staging.len(), 40);
        assert_eq!(git.remote_branch("origin", "nope").await.unwrap(), None);
        assert!(
            git.is_ancestor("origin/production", "origin/staging")
                .await
                .unwrap()
        );
        let log = git.log("origin/production..origin/staging").await.unwrap();
        assert_eq!(log.len(), t.staging_commits);
        let (ahead, behind) = git
            .ahead_behind("origin/production", "origin/staging")
            .await
            .unwrap();
        assert_eq!((ahead, behind), (0, t.staging_commits as u64));
        assert!(git.worktree().await.unwrap().is_clean());
        std::fs::write(t.work.join("README.md"), "changed\n").unwrap();
        std::fs::write(t.work.join("new.txt"), "new\n").unwrap();
        let wt = git.worktree().await.unwrap();
        assert_eq!(wt.changed, vec!["M README.md".to_string()]);
        assert_eq!(wt.untracked, 1);
        assert!(!wt.is_clean());
        assert!(matches!(git.head().await.unwrap(), Head::Branch(b) if b == "staging"));
    }

    #[tokio::test]
    async fn failures_carry_command_code_and_stderr() {
        let t = TestRepo::new();
        let git = Git::new(&t.work);
        let err = git
            .run(&["checkout", "no-such-branch"], "test")
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("`git checkout no-such-branch` failed (exit code 1)"),
            "{msg}"
        );
        assert!(
            err.stderr_excerpt()
                .is_some_and(|s| s.contains("no-such-branch"))
        );
        let missing = git
            .rev_parse("origin/nope", "push it first")
            .await
            .unwrap_err();
        assert_eq!(
            missing.to_string(),
            "origin/nope does not exist: push it first"
        );
        assert!(check_name("branch", "--upload-pack=x").is_err());
        assert!(check_name("branch", "release/2025-01").is_ok());
    }
}
