//! What the git actions (the release merge and the revert) share: refusing a dirty tree,
//! running the seed's commands one by one and remembering them, putting the user back on
//! the branch they were on, and pushing so that a rejected push leaves nothing behind.

use crate::actions::ActionError;
use crate::clients::git::{Git, GitError, Head, Repo, check_name};
use crate::model::changes::CommitInfo;
use crate::model::config::GitConfig;

/// `abcdef1` of a commit id.
pub(crate) fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// A [`GitError`] as an [`ActionError`]: git that could not run or timed out is an
/// integration failure; git that ran and refused is the action's.
pub(crate) fn from_git(e: GitError, doing: &str) -> ActionError {
    let msg = format!("{doing}: {e}");
    match e {
        GitError::Exec(_) => ActionError::integration(msg),
        _ => ActionError::new(msg),
    }
}

/// One action's git session.
pub(crate) struct Flow {
    /// The client.
    pub git: Git,
    /// `[git]`.
    pub cfg: GitConfig,
    /// Where `HEAD` was when the action started.
    pub original: Head,
    /// The commands run so far, as typed.
    pub ran: Vec<String>,
}

impl Flow {
    /// Opens `repo` (names from `[git]` checked, `HEAD` read). Reads only.
    pub async fn open(repo: &Repo) -> Result<Flow, ActionError> {
        let cfg = repo.cfg.clone();
        for (what, name) in [
            ("remote", &cfg.remote),
            ("branch", &cfg.staging),
            ("branch", &cfg.production),
        ] {
            check_name(what, name).map_err(|e| ActionError::new(format!("[git] {e}")))?;
        }
        let git = Git::new(&repo.git.dir);
        let original = git
            .head()
            .await
            .map_err(|e| from_git(e, "read the current branch"))?;
        Ok(Flow {
            git,
            cfg,
            original,
            ran: Vec::new(),
        })
    }

    /// Refuses a working tree with uncommitted changes or an operation in progress; reads
    /// only, so nothing has been touched when it refuses.
    pub async fn require_clean(&self, verb: &str) -> Result<(), ActionError> {
        let wt = self
            .git
            .worktree()
            .await
            .map_err(|e| from_git(e, "read the working tree"))?;
        if wt.is_clean() {
            return Ok(());
        }
        Err(ActionError::new(format!(
            "refusing to {verb}: the working tree at {} has {}; commit or stash it and run again. Nothing was changed.",
            self.git.dir.display(),
            wt.describe()
        )))
    }

    /// `remote/branch`.
    pub fn tracking(&self, branch: &str) -> String {
        format!("{}/{branch}", self.cfg.remote)
    }

    /// The remote-tracking commit of `branch`; a clear error when the branch is missing.
    pub async fn remote_sha(&self, branch: &str) -> Result<String, ActionError> {
        self.git
            .remote_branch(&self.cfg.remote, branch)
            .await
            .map_err(|e| from_git(e, "read the remote branches"))?
            .ok_or_else(|| {
                ActionError::new(format!(
                    "{} does not exist: there is no branch {branch:?} on {}; push it or fix [git]. Nothing was changed.",
                    self.tracking(branch),
                    self.cfg.remote
                ))
            })
    }

    /// The arguments that check `branch` out: `checkout BRANCH`, or, when there is no
    /// local branch yet, `checkout -b BRANCH --track REMOTE/BRANCH`.
    pub async fn checkout_args(&self, branch: &str) -> Result<Vec<String>, ActionError> {
        let local = self
            .git
            .local_branch(branch)
            .await
            .map_err(|e| from_git(e, "read the local branches"))?;
        Ok(match local {
            Some(_) => strings(&["checkout", branch]),
            None => strings(&["checkout", "-b", branch, "--track", &self.tracking(branch)]),
        })
    }

    /// The arguments that return to where the user was, if that is not `production`.
    pub fn restore_args(&self) -> Option<Vec<String>> {
        match &self.original {
            Head::Branch(b) if *b == self.cfg.production => None,
            h => Some(strings(&["checkout", h.checkout_target()])),
        }
    }

    /// `git fetch REMOTE`, remembered; a failure is an integration error (the remote could
    /// not be reached or refused), and nothing else has been touched.
    pub async fn fetch(&mut self) -> Result<(), ActionError> {
        let remote = self.cfg.remote.clone();
        self.ran.push(self.git.display(&["fetch", &remote]));
        self.git.fetch(&remote).await.map_err(|e| {
            ActionError::integration(format!(
                "fetching {remote} failed: {e}; nothing was changed"
            ))
        })
    }

    /// Runs `git args`, remembering it; an error only when git could not run at all.
    pub async fn step(
        &mut self,
        args: &[String],
    ) -> Result<crate::clients::exec::Output, ActionError> {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.ran.push(self.git.display(&refs));
        let reason = format!("run {}", self.git.display(&refs));
        self.git
            .output(&refs, &reason)
            .await
            .map_err(|e| from_git(e, "run git"))
    }

    /// Runs `git args`; on a non-zero exit returns the user to where they were and fails
    /// with `doing` and git's own words.
    pub async fn must(&mut self, args: &[String], doing: &str) -> Result<(), ActionError> {
        let out = self.step(args).await?;
        if out.success() {
            return Ok(());
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let e = self.git.failed(&refs, &out);
        Err(self.fail(format!("{doing}: {e}")).await)
    }

    /// Returns to the original branch; says what happened, for the message.
    pub async fn restore(&mut self) -> String {
        let Some(args) = self.restore_args() else {
            return String::new();
        };
        let current = self.git.head().await.ok();
        if current.as_ref() == Some(&self.original) {
            return String::new();
        }
        match self.step(&args).await {
            Ok(o) if o.success() => format!(" Back on {}.", self.original.checkout_target()),
            _ => format!(
                " Could not return to {}; run `git checkout {}`.",
                self.original.checkout_target(),
                self.original.checkout_target()
            ),
        }
    }

    /// Restores the user's branch and builds the error.
    pub async fn fail(&mut self, message: String) -> ActionError {
        let note = self.restore().await;
        ActionError::new(format!("{message}{note}"))
    }

    /// `HEAD`'s commit.
    pub async fn head_sha(&self) -> Result<String, ActionError> {
        self.git
            .rev_parse("HEAD", "")
            .await
            .map_err(|e| from_git(e, "read HEAD"))
    }

    /// The production branch's local commit, when it differs from the remote's and the
    /// difference is exactly one commit `ours` recognises, sitting on `remote_sha`.
    pub async fn unpushed(
        &self,
        remote_sha: &str,
        ours: impl Fn(&CommitInfo) -> bool,
    ) -> Result<Unpushed, ActionError> {
        let rd = |e| from_git(e, "read the local production branch");
        let Some(local) = self
            .git
            .local_branch(&self.cfg.production)
            .await
            .map_err(rd)?
        else {
            return Ok(Unpushed::No);
        };
        if local == remote_sha {
            return Ok(Unpushed::No);
        }
        let c = self.git.commit(&local).await.map_err(rd)?;
        if !ours(&c) {
            return Ok(Unpushed::No);
        }
        if c.parents.first().map(String::as_str) == Some(remote_sha) {
            Ok(Unpushed::OnRemote(c))
        } else {
            Ok(Unpushed::Stale(c))
        }
    }

    /// Moves local production back to `to` (our own unpushed commit is dropped; nothing of
    /// the user's: the tree is clean and the commit can be made again).
    pub async fn reset_production(&mut self, to: &str) -> Result<(), ActionError> {
        let on_production =
            matches!(self.git.head().await, Ok(Head::Branch(b)) if b == self.cfg.production);
        let args = if on_production {
            strings(&["reset", "--keep", to])
        } else {
            let p = self.cfg.production.clone();
            strings(&["branch", "--force", &p, to])
        };
        let out = self.step(&args).await?;
        if out.success() {
            Ok(())
        } else {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            Err(ActionError::new(format!(
                "could not move local {} back to {}: {}",
                self.cfg.production,
                short(to),
                self.git.failed(&refs, &out)
            )))
        }
    }

    /// Pushes production (`new` on top of `before`). If the push fails, checks whether it
    /// landed anyway; if not, moves local production back to `before`, returns to the
    /// user's branch and fails: nothing pushed, nothing lost, run again to retry.
    /// The shared end of a merge or a revert: push `new` (made on top of `before`), read the
    /// commit back, and return to the branch the user was on. A failed return is appended to
    /// `note`, not an error: the push already happened.
    pub async fn push_and_finish(
        &mut self,
        new: &str,
        before: &str,
        what: &str,
        note: &mut String,
    ) -> Result<CommitInfo, ActionError> {
        self.push(new, before, what).await?;
        let info = self
            .git
            .commit(new)
            .await
            .map_err(|e| from_git(e, &format!("read the {what}")))?;
        if let Some(r) = self.restore_args()
            && self.step(&r).await.map(|o| !o.success()).unwrap_or(true)
        {
            *note = format!(
                "{note}; could not return to {}",
                self.original.checkout_target()
            );
        }
        Ok(info)
    }

    pub async fn push(&mut self, new: &str, before: &str, what: &str) -> Result<(), ActionError> {
        let remote = self.cfg.remote.clone();
        let prod = self.cfg.production.clone();
        let out = self.step(&strings(&["push", &remote, &prod])).await?;
        if out.success() {
            return Ok(());
        }
        let pushed_err = self.git.failed(&["push", &remote, &prod], &out);
        // Did it land anyway (the answer was lost)? Ask the remote again.
        let _ = self.git.fetch(&remote).await;
        let now = self.git.remote_branch(&remote, &prod).await.ok().flatten();
        if now.as_deref() == Some(new) {
            return Ok(());
        }
        let reset = match self.reset_production(before).await {
            Ok(()) => format!(
                "local {prod} was reset to {}, where it was before the {what}",
                short(before)
            ),
            Err(e) => e.message,
        };
        let cause = match now {
            Some(n) if n != before => format!(
                "the push was rejected: {} moved to {} meanwhile (someone pushed)",
                self.tracking(&prod),
                short(&n)
            ),
            _ => format!("the push failed: {pushed_err}"),
        };
        Err(self
            .fail(format!(
                "{cause}; {reset}; nothing was pushed. Run it again to {what} on top of {}.",
                self.tracking(&prod)
            ))
            .await)
    }
}

/// Local production against the remote.
pub(crate) enum Unpushed {
    /// Nothing of ours waiting.
    No,
    /// Our commit, directly on the remote's tip: pushing it finishes the action.
    OnRemote(CommitInfo),
    /// Our commit, but the remote moved since: it must be made again.
    Stale(CommitInfo),
}

/// `&[&str]` → `Vec<String>`.
pub(crate) fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}
