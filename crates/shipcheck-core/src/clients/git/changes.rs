//! The change set of a release: what `production..staging` brings, read from the
//! remote-tracking refs right after `git fetch` (never from a local branch that may be stale).

use crate::clients::git::{Git, GitError};
use crate::model::changes::{AddedLine, BranchSync, ChangeSet, FileChange};
use crate::model::config::GitConfig;

use std::sync::Arc;

/// The repository of `[git]`: its client, its branches and remote, and the release's change
/// set, fetched once and shared by the clones of the [`Repo`] (a failure is not kept: the
/// next call tries again).
#[derive(Clone, Debug)]
pub struct Repo {
    /// The git client of the repository.
    pub git: Git,
    /// `[git]`: the remote and the staging and production branches.
    pub cfg: GitConfig,
    changes: Arc<tokio::sync::OnceCell<Arc<ChangeSet>>>,
}

impl Repo {
    /// The repository `git` with `[git]` `cfg`, sharing the change set `changes`.
    pub fn new(
        git: Git,
        cfg: GitConfig,
        changes: Arc<tokio::sync::OnceCell<Arc<ChangeSet>>>,
    ) -> Repo {
        Repo { git, cfg, changes }
    }

    /// The change set after `git fetch` of the remote: computed on first use, then shared.
    pub async fn change_set(&self) -> Result<Arc<ChangeSet>, GitError> {
        self.changes
            .get_or_try_init(|| async { self.git.fetch_change_set(&self.cfg).await.map(Arc::new) })
            .await
            .cloned()
    }

    /// `REMOTE/production..REMOTE/staging`.
    pub fn release_range(&self) -> String {
        let g = &self.cfg;
        format!(
            "{r}/{p}..{r}/{s}",
            r = g.remote,
            p = g.production,
            s = g.staging
        )
    }
}

impl Git {
    /// `git fetch REMOTE`, then [`Git::change_set`].
    pub async fn fetch_change_set(&self, cfg: &GitConfig) -> Result<ChangeSet, GitError> {
        self.fetch(&cfg.remote).await?;
        self.change_set(cfg).await
    }

    /// The change set on the remote-tracking refs as they are now (no fetch; for
    /// `--dry-run`, which changes nothing).
    pub async fn change_set(&self, cfg: &GitConfig) -> Result<ChangeSet, GitError> {
        let remote = &cfg.remote;
        let base = format!("{remote}/{}", cfg.production);
        let head = format!("{remote}/{}", cfg.staging);
        let base_sha = tracking(self, remote, &cfg.production, "production").await?;
        let head_sha = tracking(self, remote, &cfg.staging, "staging").await?;
        let commits = self.log(&format!("{base_sha}..{head_sha}")).await?;
        let files = self.numstat(&base_sha, &head_sha).await?;
        let (added, added_unread) = read_added(self, &base_sha, &head_sha, &files).await?;
        let mut branches = Vec::new();
        for branch in [&cfg.staging, &cfg.production] {
            let local = self.local_branch(branch).await?;
            let remote_sha = self.remote_branch(remote, branch).await?;
            let (ahead, behind) = match (&local, &remote_sha) {
                (Some(l), Some(r)) if l != r => self.ahead_behind(l, r).await?,
                _ => (0, 0),
            };
            branches.push(BranchSync {
                branch: branch.clone(),
                local,
                remote: remote_sha,
                ahead,
                behind,
            });
        }
        Ok(ChangeSet {
            remote: remote.clone(),
            base,
            head,
            base_sha,
            head_sha,
            commits,
            files,
            added,
            added_unread,
            branches,
        })
    }
}

async fn tracking(git: &Git, remote: &str, branch: &str, role: &str) -> Result<String, GitError> {
    git.remote_branch(remote, branch)
        .await?
        .ok_or_else(|| GitError::MissingRef {
            reference: format!("{remote}/{branch}"),
            hint: format!(
                "after `git fetch {remote}` there is no {role} branch {branch:?} on {remote}; push it, or set [git] {role} to the branch's name"
            ),
        })
}

/// Reads the added lines in chunks small enough for the capture limit; a file whose diff
/// alone is over it is listed as unread instead of being read wrong.
async fn read_added(
    git: &Git,
    base: &str,
    head: &str,
    files: &[FileChange],
) -> Result<(Vec<AddedLine>, Vec<String>), GitError> {
    let text: Vec<&FileChange> = files
        .iter()
        .filter(|f| !f.binary && f.insertions > 0)
        .collect();
    let total: u64 = text.iter().map(|f| f.insertions).sum();
    if total <= CHUNK_LINES {
        let (lines, truncated) = git.added_lines(base, head, &[]).await?;
        if !truncated {
            return Ok((lines, Vec::new()));
        }
    }
    let mut chunks: Vec<Vec<&FileChange>> = Vec::new();
    let mut size = 0;
    for f in text {
        let full = chunks.last().is_none_or(|c| {
            c.len() >= CHUNK_FILES || (size + f.insertions > CHUNK_LINES && !c.is_empty())
        });
        if full {
            chunks.push(Vec::new());
            size = 0;
        }
        size += f.insertions;
        if let Some(c) = chunks.last_mut() {
            c.push(f);
        }
    }
    let mut added = Vec::new();
    let mut unread = Vec::new();
    for chunk in chunks {
        let (lines, truncated) = git.added_lines(base, head, &pathspecs(&chunk)).await?;
        if !truncated {
            added.extend(lines);
            continue;
        }
        for f in chunk {
            let (lines, truncated) = git.added_lines(base, head, &pathspecs(&[f])).await?;
            if truncated {
                unread.push(f.path.clone());
            } else {
                added.extend(lines);
            }
        }
    }
    Ok((added, unread))
}

fn pathspecs<'a>(files: &[&'a FileChange]) -> Vec<&'a str> {
    let mut out = Vec::new();
    for f in files {
        out.push(f.path.as_str());
        if let Some(old) = &f.old_path {
            out.push(old.as_str());
        }
    }
    out
}

/// Added lines are read in chunks of files at most this many inserted lines.
const CHUNK_LINES: u64 = 40_000;

/// …and at most this many files (command-line length).
const CHUNK_FILES: usize = 300;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::repo::TestRepo;

    #[tokio::test]
    async fn change_set_lists_commits_files_lines_and_branches() {
        let t = TestRepo::new();
        t.commit(
            "staging",
            &[("logo.png", "\u{0}\u{1}binary\u{0}")],
            "add logo",
        );
        t.push("staging");
        // Local production falls behind origin: another clone pushes to it.
        let other = t.clone_to("other");
        t.commit_in(&other, "production", &[("HOTFIX.md", "fix\n")], "hotfix");
        crate::testkit::repo::git(&other, &["push", "--quiet", "origin", "production"]);

        let git = Git::new(&t.work);
        let cs = git.fetch_change_set(&GitConfig::default()).await.unwrap();
        assert_eq!(cs.range(), "origin/production..origin/staging");
        let subjects: Vec<&str> = cs.commits.iter().map(|c| c.subject.as_str()).collect();
        assert_eq!(subjects, ["add logo", "update changelog", "add rate limit"]);
        assert_eq!(cs.commits[0].author, "Dee Ployer");
        assert!(cs.commits[0].date.starts_with("2025-01-06T"));
        let paths: Vec<&str> = cs.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            ["CHANGELOG.md", "logo.png", "src/limit.ts"],
            "the hotfix is not in the change"
        );
        assert!(cs.files[1].binary && cs.files[1].insertions == 0);
        assert_eq!(cs.insertions(), 3);
        assert!(cs.added.iter().any(|l| l.file == "src/limit.ts"
            && l.line == 1
            && l.text == "export const limit = 10;"));
        let prod = cs
            .branches
            .iter()
            .find(|b| b.branch == "production")
            .unwrap();
        assert_eq!((prod.ahead, prod.behind), (0, 1));
        assert!(!prod.in_sync());
        assert_eq!(
            prod.describe("origin"),
            "local production is 1 behind origin/production"
        );
        assert!(
            cs.branches
                .iter()
                .find(|b| b.branch == "staging")
                .unwrap()
                .in_sync()
        );
        assert_eq!(cs.oneline()[0], format!("{} add logo", cs.commits[0].short));
    }

    #[tokio::test]
    async fn nothing_to_ship_and_missing_branch() {
        let t = TestRepo::empty();
        let git = Git::new(&t.work);
        let cs = git.fetch_change_set(&GitConfig::default()).await.unwrap();
        assert!(cs.is_empty() && cs.files.is_empty());
        let cfg = GitConfig {
            staging: "develop".into(),
            ..GitConfig::default()
        };
        let err = git.fetch_change_set(&cfg).await.unwrap_err();
        assert!(
            err.to_string().starts_with("origin/develop does not exist"),
            "{err}"
        );
    }
}
