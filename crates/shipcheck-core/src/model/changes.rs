//! The change set: what `production..staging` brings, read from the remote-tracking refs
//! right after `git fetch` (never from a local branch that may be stale). Conditions,
//! the git checks, the release message and `shipcheck changes` all read it.

use crate::model::error::Invalid;
use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

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

/// One commit of a change set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogCommit {
    /// Full id.
    pub sha: String,
    /// The first 7 characters (`git log --oneline`).
    pub short: String,
    /// Author name.
    pub author: String,
    /// Author email.
    pub email: String,
    /// Author date, ISO 8601 (`2025-01-07T10:00:00+01:00`).
    pub date: String,
    /// The subject line.
    pub subject: String,
}

/// A commit with its parents and whole message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitInfo {
    /// Full id.
    pub sha: String,
    /// Parent ids, first parent first.
    pub parents: Vec<String>,
    /// The whole message.
    pub message: String,
}

impl CommitInfo {
    /// The message's first line.
    pub fn subject(&self) -> &str {
        self.message.lines().next().unwrap_or("")
    }
}

/// One changed file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    /// Path after the change.
    pub path: String,
    /// Path before, when the file was renamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    /// Lines added (0 for binary files).
    pub insertions: u64,
    /// Lines removed (0 for binary files).
    pub deletions: u64,
    /// git saw a binary file; its lines are not counted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub binary: bool,
}

/// A line the change adds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedLine {
    /// The file.
    pub file: String,
    /// 1-based line number in the new file.
    pub line: u64,
    /// The line's text, without the newline.
    pub text: String,
}

impl ChangeSet {
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

/// One glob as shipcheck reads path globs: `*` stays within a directory, `**` crosses.
pub fn glob(pattern: &str) -> Result<Glob, Invalid> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("invalid glob {pattern:?}: {e}"))
        .map_err(Invalid)
}

/// A set of path globs.
pub fn glob_set(patterns: &[String]) -> Result<GlobSet, Invalid> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(glob(p)?);
    }
    b.build()
        .map_err(|e| format!("invalid globs: {e}"))
        .map_err(Invalid)
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
    matches!(s.len(), 40 | 64) && s.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

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
