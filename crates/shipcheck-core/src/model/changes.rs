//! The change set: what `production..staging` brings, read from the remote-tracking refs
//! right after `git fetch` (never from a local branch that may be stale). Conditions,
//! the git checks, the release message and `shipcheck changes` all read it.

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::clients::git::{AddedLine, FileChange, Git, GitError, LogCommit, parse};
use crate::model::config::GitConfig;

/// What merging staging into production would ship.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSet {
    /// The remote (`origin`).
    pub remote: String,
    /// The base ref (`origin/production`).
    pub base: String,
    /// The head ref (`origin/staging`).
    pub head: String,
    /// The base's commit.
    pub base_sha: String,
    /// The head's commit.
    pub head_sha: String,
    /// Commits in `base..head`, newest first.
    pub commits: Vec<LogCommit>,
    /// Files changed from the merge base to the head.
    pub files: Vec<FileChange>,
    /// Lines the change adds, per file, in diff order.
    pub added: Vec<AddedLine>,
    /// Files whose added lines could not be read (a single file's diff over 4 MiB).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub added_unread: Vec<String>,
    /// The local staging and production branches against their remote-tracking refs.
    pub branches: Vec<BranchSync>,
}

/// A local branch against its remote-tracking branch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchSync {
    /// The branch (`staging`).
    pub branch: String,
    /// The local branch's commit, if there is a local branch.
    pub local: Option<String>,
    /// The remote-tracking branch's commit.
    pub remote: Option<String>,
    /// Commits the local branch has that the remote lacks (unpushed).
    pub ahead: u64,
    /// Commits the remote has that the local branch lacks.
    pub behind: u64,
}

impl BranchSync {
    /// Local and remote are the same commit, or there is no local branch.
    pub fn in_sync(&self) -> bool {
        self.local.is_none() || (self.ahead == 0 && self.behind == 0 && self.remote.is_some())
    }

    /// "staging matches origin/staging", "production is 2 ahead, 1 behind origin/production".
    pub fn describe(&self, remote: &str) -> String {
        let b = &self.branch;
        match (&self.local, &self.remote) {
            (None, _) => format!("no local {b} branch"),
            (Some(_), None) => format!("{b} has no {remote}/{b}"),
            _ if self.ahead == 0 && self.behind == 0 => format!("{b} matches {remote}/{b}"),
            _ => {
                let mut parts = Vec::new();
                if self.ahead > 0 {
                    parts.push(format!("{} ahead of", self.ahead));
                }
                if self.behind > 0 {
                    parts.push(format!("{} behind", self.behind));
                }
                format!("local {b} is {} {remote}/{b}", parts.join(" and "))
            }
        }
    }
}

/// Added lines are read in chunks of files at most this many inserted lines.
const CHUNK_LINES: u64 = 40_000;
/// …and at most this many files (command-line length).
const CHUNK_FILES: usize = 300;

impl ChangeSet {
    /// `git fetch REMOTE`, then [`ChangeSet::compute`].
    pub async fn fetch_and_compute(git: &Git, cfg: &GitConfig) -> Result<ChangeSet, GitError> {
        git.fetch(&cfg.remote).await?;
        ChangeSet::compute(git, cfg).await
    }

    /// The change set on the remote-tracking refs as they are now (no fetch; for
    /// `--dry-run`, which changes nothing).
    pub async fn compute(git: &Git, cfg: &GitConfig) -> Result<ChangeSet, GitError> {
        let remote = &cfg.remote;
        let base = format!("{remote}/{}", cfg.production);
        let head = format!("{remote}/{}", cfg.staging);
        let base_sha = tracking(git, remote, &cfg.production, "production").await?;
        let head_sha = tracking(git, remote, &cfg.staging, "staging").await?;
        let commits = git.log(&format!("{base_sha}..{head_sha}")).await?;
        let files = git.numstat(&base_sha, &head_sha).await?;
        let (added, added_unread) = read_added(git, &base_sha, &head_sha, &files).await?;
        let mut branches = Vec::new();
        for branch in [&cfg.staging, &cfg.production] {
            let local = git.local_branch(branch).await?;
            let remote_sha = git.remote_branch(remote, branch).await?;
            let (ahead, behind) = match (&local, &remote_sha) {
                (Some(l), Some(r)) if l != r => git.ahead_behind(l, r).await?,
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

    /// `origin/production..origin/staging`.
    pub fn range(&self) -> String {
        format!("{}..{}", self.base, self.head)
    }

    /// Nothing to ship: production already contains staging.
    pub fn is_empty(&self) -> bool {
        self.commits.is_empty()
    }

    /// Lines added over all files.
    pub fn insertions(&self) -> u64 {
        self.files.iter().map(|f| f.insertions).sum()
    }

    /// Lines removed over all files.
    pub fn deletions(&self) -> u64 {
        self.files.iter().map(|f| f.deletions).sum()
    }

    /// Insertions plus deletions.
    pub fn lines_changed(&self) -> u64 {
        self.insertions() + self.deletions()
    }

    /// Files whose path (or former path) matches `set`.
    pub fn files_matching<'a>(&'a self, set: &GlobSet) -> Vec<&'a FileChange> {
        self.files
            .iter()
            .filter(|f| {
                set.is_match(&f.path) || f.old_path.as_ref().is_some_and(|p| set.is_match(p))
            })
            .collect()
    }

    /// The commits as `git log --oneline` prints them: the record's Key Changes.
    pub fn oneline(&self) -> Vec<String> {
        self.commits
            .iter()
            .map(|c| format!("{} {}", c.short, c.subject))
            .collect()
    }

    /// "3 commits, 12 files, +340 −20".
    pub fn summary(&self) -> String {
        format!(
            "{} commit{}, {} file{}, +{} −{}",
            self.commits.len(),
            plural(self.commits.len()),
            self.files.len(),
            plural(self.files.len()),
            thousands(self.insertions()),
            thousands(self.deletions())
        )
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

/// One glob as shipcheck reads path globs: `*` stays within a directory, `**` crosses.
pub fn glob(pattern: &str) -> Result<Glob, String> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("invalid glob {pattern:?}: {e}"))
}

/// A set of path globs.
pub fn glob_set(patterns: &[String]) -> Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(glob(p)?);
    }
    b.build().map_err(|e| format!("invalid globs: {e}"))
}

/// "a, b, c, … and 4 more".
pub fn list_some(items: &[String], n: usize) -> String {
    let mut s = items.iter().take(n).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > n {
        s += &format!(", … and {} more", items.len() - n);
    }
    s
}

/// 1240 → "1,240".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "" or "s".
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Whether `s` looks like a full commit id.
pub fn is_sha(s: &str) -> bool {
    parse::sha_line(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testrepo::TestRepo;

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
        crate::testrepo::git(&other, &["push", "--quiet", "origin", "production"]);

        let git = Git::new(&t.work);
        let cs = ChangeSet::fetch_and_compute(&git, &GitConfig::default())
            .await
            .unwrap();
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
        let cs = ChangeSet::fetch_and_compute(&git, &GitConfig::default())
            .await
            .unwrap();
        assert!(cs.is_empty() && cs.files.is_empty());
        let cfg = GitConfig {
            staging: "develop".into(),
            ..GitConfig::default()
        };
        let err = ChangeSet::fetch_and_compute(&git, &cfg).await.unwrap_err();
        assert!(
            err.to_string().starts_with("origin/develop does not exist"),
            "{err}"
        );
    }

    #[test]
    fn helpers() {
        assert_eq!(thousands(1240), "1,240");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
        let v: Vec<String> = (1..=7).map(|i| format!("f{i}")).collect();
        assert_eq!(list_some(&v, 3), "f1, f2, f3, … and 4 more");
        let set = glob_set(&["**/migrations/**".into(), "src/*.ts".into()]).unwrap();
        assert!(set.is_match("migrations/001.sql"));
        assert!(set.is_match("db/migrations/001.sql"));
        assert!(set.is_match("src/a.ts") && !set.is_match("src/x/a.ts"));
        assert!(glob_set(&["a/[".into()]).is_err());
    }
}
