//! The git checks: `git.pending`, `git.changelog`, `git.todo`, `git.docs`, `git.clean`.
//! They read the [`Repo`]'s change set (one `git fetch`, shared by the clones of one
//! [`crate::clients::Clients`]), so running them together costs one computation. A git failure is an `error` with git's own words.

use serde_json::{Value, json};

use crate::clients::git::{GitError, Repo};
use crate::model::changes::{ChangeSet, glob, glob_set, list_some, plural, thousands};
use crate::model::checklist::conditions::PathsConfig;
use crate::model::outcome::Outcome;

/// How much of an added line the evidence keeps.
const LINE_CHARS: usize = 200;

fn finish(secrets: &[String], mut o: Outcome) -> Outcome {
    crate::model::redact::redact_json(&mut o.evidence, secrets);
    o.summary = crate::model::redact::redact(&o.summary, secrets);
    o
}

/// The `error` outcome of a git failure, with the command, exit code and stderr excerpt.
pub fn git_error(e: &GitError) -> Outcome {
    let evidence = match e {
        GitError::Failed {
            command,
            code,
            stderr,
        } => json!({ "command": command, "exit_code": code, "stderr": stderr }),
        other => json!({ "error": other.to_string() }),
    };
    Outcome::error(e.to_string(), evidence)
}

async fn changes(repo: &Repo, secrets: &[String]) -> Result<std::sync::Arc<ChangeSet>, Outcome> {
    repo.change_set()
        .await
        .map_err(|e| finish(secrets, git_error(&e)))
}

/// `git.pending`: there is something to ship; the commit list is the evidence (the
/// record's Key Changes).
pub async fn pending(repo: &Repo, secrets: &[String]) -> Outcome {
    let cs = match changes(repo, secrets).await {
        Ok(cs) => cs,
        Err(o) => return o,
    };
    let evidence = json!({
        "range": cs.range(),
        "base": cs.base_sha,
        "head": cs.head_sha,
        "key_changes": cs.oneline(),
        "commits": cs.commits,
        "files": cs.files.len(),
        "insertions": cs.insertions(),
        "deletions": cs.deletions(),
    });
    let o = if cs.is_empty() {
        Outcome::fail(
            format!(
                "nothing to ship: production already contains staging ({} is empty)",
                cs.range()
            ),
            evidence,
        )
    } else {
        Outcome::pass(
            format!("{} to ship ({})", cs.summary(), cs.range()),
            evidence,
        )
    };
    finish(secrets, o)
}

/// `git.changelog`: the `[paths] changelog` file changed in the change set.
pub async fn changelog(repo: &Repo, paths: &PathsConfig, secrets: &[String]) -> Outcome {
    let cs = match changes(repo, secrets).await {
        Ok(cs) => cs,
        Err(o) => return o,
    };
    let pattern = &paths.changelog;
    let set = match glob(pattern).and_then(|g| {
        globset::GlobSetBuilder::new()
            .add(g)
            .build()
            .map_err(|e| crate::model::error::Invalid(e.to_string()))
    }) {
        Ok(s) => s,
        Err(e) => return Outcome::error(format!("[paths] changelog: {e}"), Value::Null),
    };
    let hits = cs.files_matching(&set);
    let evidence = json!({ "changelog": pattern, "range": cs.range(), "changed": hits });
    let o = match hits.as_slice() {
        [] if cs.is_empty() => Outcome::fail(
            format!(
                "{pattern} did not change: nothing to ship in {}",
                cs.range()
            ),
            evidence,
        ),
        [] => Outcome::fail(
            format!("{pattern} did not change in {}", cs.range()),
            evidence,
        ),
        files => Outcome::pass(
            format!(
                "{} changed (+{} −{})",
                files
                    .iter()
                    .map(|f| f.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                files.iter().map(|f| f.insertions).sum::<u64>(),
                files.iter().map(|f| f.deletions).sum::<u64>()
            ),
            evidence,
        ),
    };
    finish(secrets, o)
}

/// `git.todo`: no `[paths] todo_patterns` in lines the change adds under `critical`.
/// Lines already there (untouched by the change) do not count.
pub async fn todo(repo: &Repo, paths: &PathsConfig, secrets: &[String]) -> Outcome {
    if paths.critical.is_empty() || paths.todo_patterns.is_empty() {
        return Outcome::error(
            "[paths] critical or todo_patterns is empty: there is nothing to scan for; set them, or disable the item",
            Value::Null,
        );
    }
    let set = match glob_set(&paths.critical) {
        Ok(s) => s,
        Err(e) => return Outcome::error(format!("[paths] critical: {e}"), Value::Null),
    };
    let cs = match changes(repo, secrets).await {
        Ok(cs) => cs,
        Err(o) => return o,
    };
    let mut scanned = 0usize;
    let mut files = std::collections::BTreeSet::new();
    let mut findings = Vec::new();
    for l in cs.added.iter().filter(|l| set.is_match(&l.file)) {
        scanned += 1;
        files.insert(l.file.as_str());
        if let Some(p) = paths
            .todo_patterns
            .iter()
            .find(|p| l.text.contains(p.as_str()))
        {
            let text: String = l.text.trim().chars().take(LINE_CHARS).collect();
            findings.push(json!({
                "file": l.file, "line": l.line, "text": text, "pattern": p,
                "at": format!("{}:{}: {}", l.file, l.line, text),
            }));
        }
    }
    let unread: Vec<String> = cs
        .added_unread
        .iter()
        .filter(|f| set.is_match(f.as_str()))
        .cloned()
        .collect();
    let patterns = paths.todo_patterns.join(" or ");
    let evidence = json!({
        "findings": findings,
        "patterns": paths.todo_patterns,
        "critical": paths.critical,
        "scanned_lines": scanned,
        "scanned_files": files.len(),
        "unread": unread,
        "range": cs.range(),
    });
    let o = if !findings.is_empty() {
        let at: Vec<String> = findings
            .iter()
            .map(|f| format!("{}:{}", f["file"].as_str().unwrap_or("?"), f["line"]))
            .collect();
        Outcome::fail(
            format!(
                "{} line{} with {patterns} added under critical paths: {}",
                findings.len(),
                plural(findings.len()),
                list_some(&at, 5)
            ),
            evidence,
        )
    } else if !unread.is_empty() {
        Outcome::error(
            format!(
                "the added lines of {} could not be read (diff over 4 MiB); check them by hand",
                list_some(&unread, 3)
            ),
            evidence,
        )
    } else {
        Outcome::pass(
            format!(
                "no {patterns} in {} line{} added under critical paths ({} file{})",
                thousands(scanned as u64),
                plural(scanned),
                files.len(),
                plural(files.len())
            ),
            evidence,
        )
    };
    finish(secrets, o)
}

/// `git.docs`: when files under `api` changed, files under `api_docs` changed too. (A doc
/// file that also matches an `api` glob counts as documentation.)
pub async fn docs(repo: &Repo, paths: &PathsConfig, secrets: &[String]) -> Outcome {
    let (api, api_docs) = match (glob_set(&paths.api), glob_set(&paths.api_docs)) {
        (Ok(a), Ok(d)) => (a, d),
        (Err(e), _) => return Outcome::error(format!("[paths] api: {e}"), Value::Null),
        (_, Err(e)) => return Outcome::error(format!("[paths] api_docs: {e}"), Value::Null),
    };
    let cs = match changes(repo, secrets).await {
        Ok(cs) => cs,
        Err(o) => return o,
    };
    let doc_files: Vec<String> = cs
        .files_matching(&api_docs)
        .iter()
        .map(|f| f.path.clone())
        .collect();
    let api_files: Vec<String> = cs
        .files_matching(&api)
        .iter()
        .map(|f| f.path.clone())
        .filter(|p| !doc_files.contains(p))
        .collect();
    let evidence =
        json!({ "api_changed": api_files, "docs_changed": doc_files, "range": cs.range() });
    let o = if api_files.is_empty() {
        Outcome::pass("no API file changed", evidence)
    } else if doc_files.is_empty() {
        Outcome::fail(
            format!(
                "{} API file{} changed ({}) but nothing under the api_docs globs ({})",
                api_files.len(),
                plural(api_files.len()),
                list_some(&api_files, 3),
                paths.api_docs.join(", ")
            ),
            evidence,
        )
    } else {
        Outcome::pass(
            format!(
                "{} API file{} and {} doc file{} changed ({})",
                api_files.len(),
                plural(api_files.len()),
                doc_files.len(),
                plural(doc_files.len()),
                list_some(&doc_files, 3)
            ),
            evidence,
        )
    };
    finish(secrets, o)
}

/// `git.clean`: no uncommitted change to tracked files and nothing in progress; the local
/// staging and production branches match the remote (or do not exist locally).
pub async fn clean(repo: &Repo, secrets: &[String]) -> Outcome {
    let git = &repo.git;
    let wt = match git.worktree().await {
        Ok(w) => w,
        Err(e) => return finish(secrets, git_error(&e)),
    };
    let cs = match changes(repo, secrets).await {
        Ok(cs) => cs,
        Err(o) => return o,
    };
    let mut problems = Vec::new();
    if !wt.is_clean() {
        problems.push(format!("working tree: {}", wt.describe()));
    }
    let mut notes = Vec::new();
    for b in &cs.branches {
        if b.in_sync() {
            notes.push(b.describe(&cs.remote));
        } else {
            problems.push(b.describe(&cs.remote));
        }
    }
    let evidence = json!({
        "changed": wt.changed,
        "untracked": wt.untracked,
        "in_progress": wt.in_progress,
        "branches": cs.branches,
    });
    let o = if problems.is_empty() {
        Outcome::pass(
            format!("working tree clean; {}", notes.join("; ")),
            evidence,
        )
    } else {
        Outcome::fail(problems.join("; "), evidence)
    };
    finish(secrets, o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::config::{Config, PathsConfig};
    use crate::model::outcome::Status;
    use crate::testkit::repo::{TestRepo, git};

    #[tokio::test]
    async fn pending_lists_commits_and_fails_when_nothing_to_ship() {
        let t = TestRepo::new();
        let o = pending(&t.repo(), &[]).await;
        assert_eq!(o.status, Status::Pass, "{}", o.summary);
        assert!(
            o.summary.starts_with("2 commits, 2 files, +3 −0 to ship"),
            "{}",
            o.summary
        );
        let key = o.evidence["key_changes"].as_array().unwrap();
        assert!(key[0].as_str().unwrap().ends_with(" update changelog"));
        assert!(key[1].as_str().unwrap().ends_with(" add rate limit"));

        let empty = TestRepo::empty();
        let o = pending(&empty.repo(), &[]).await;
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.summary
                .starts_with("nothing to ship: production already contains staging")
        );
    }

    #[tokio::test]
    async fn changelog_changed_and_not_changed() {
        let t = TestRepo::new();
        let o = changelog(&t.repo(), &Default::default(), &[]).await;
        assert_eq!(o.status, Status::Pass, "{}", o.summary);
        assert_eq!(o.summary, "CHANGELOG.md changed (+2 −0)");

        let t = TestRepo::empty();
        t.commit("staging", &[("src/x.ts", "x\n")], "x");
        t.push("staging");
        let o = changelog(&t.repo(), &Default::default(), &[]).await;
        assert_eq!(o.status, Status::Fail);
        assert_eq!(
            o.summary,
            "CHANGELOG.md did not change in origin/production..origin/staging"
        );
    }

    #[tokio::test]
    async fn todo_only_counts_added_lines_under_critical_paths() {
        // Pre-existing TODO in src/legacy.ts (untouched) and a TODO outside critical paths.
        let t = TestRepo::new();
        t.commit(
            "staging",
            &[
                ("scripts/dev.sh", "# TODO: later\n"),
                (
                    "src/legacy.ts",
                    "export const x = 1; // TODO: pre-existing\nexport const y = 2;\n",
                ),
            ],
            "tidy",
        );
        t.push("staging");
        let o = todo(&t.repo(), &Default::default(), &[]).await;
        assert_eq!(o.status, Status::Pass, "{}", o.summary);
        assert_eq!(
            o.summary,
            "no TODO: or FIXME: in 2 lines added under critical paths (2 files)"
        );

        t.commit(
            "staging",
            &[(
                "src/auth/login.ts",
                "let a = 1;\n// FIXME: check the rate\n",
            )],
            "login",
        );
        t.push("staging");
        let o = todo(&t.repo(), &Default::default(), &[]).await;
        assert_eq!(o.status, Status::Fail, "{}", o.summary);
        assert_eq!(
            o.summary,
            "1 line with TODO: or FIXME: added under critical paths: src/auth/login.ts:2"
        );
        assert_eq!(
            o.evidence["findings"][0]["at"],
            "src/auth/login.ts:2: // FIXME: check the rate"
        );

        // Patterns and critical globs come from [paths].
        let cfg = Config {
            paths: PathsConfig {
                critical: vec!["scripts/**".into()],
                ..PathsConfig::default()
            },
            ..Config::default()
        };
        let paths = cfg.paths.clone();
        let o = todo(&t.clients_with(cfg).repo(), &paths, &[]).await;
        assert_eq!(o.status, Status::Fail);
        assert_eq!(
            o.evidence["findings"][0]["at"],
            "scripts/dev.sh:1: # TODO: later"
        );
    }

    #[tokio::test]
    async fn docs_follow_api_changes() {
        let t = TestRepo::new();
        assert_eq!(
            docs(&t.repo(), &Default::default(), &[]).await.summary,
            "no API file changed"
        );
        t.commit("staging", &[("src/api/users.ts", "get\n")], "users api");
        t.push("staging");
        let o = docs(&t.repo(), &Default::default(), &[]).await;
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.summary
                .starts_with("1 API file changed (src/api/users.ts) but nothing")
        );
        t.commit("staging", &[("docs/api/users.md", "# users\n")], "docs");
        t.push("staging");
        let o = docs(&t.repo(), &Default::default(), &[]).await;
        assert_eq!(o.status, Status::Pass, "{}", o.summary);
    }

    #[tokio::test]
    async fn clean_sees_dirty_tree_and_unpushed_commits() {
        let t = TestRepo::new();
        let o = clean(&t.repo(), &[]).await;
        assert_eq!(o.status, Status::Pass, "{}", o.summary);
        t.commit("staging", &[("src/wip.ts", "wip\n")], "wip");
        std::fs::write(t.work.join("README.md"), "dirty\n").unwrap();
        let o = clean(&t.repo(), &[]).await;
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.summary.contains("1 uncommitted change (M README.md)"),
            "{}",
            o.summary
        );
        assert!(
            o.summary
                .contains("local staging is 1 ahead of origin/staging"),
            "{}",
            o.summary
        );
    }

    #[tokio::test]
    async fn a_git_failure_is_an_error_with_stderr() {
        let t = TestRepo::new();
        git(
            &t.work,
            &["remote", "set-url", "origin", "/nonexistent/origin.git"],
        );
        let o = pending(&t.repo(), &[]).await;
        assert_eq!(o.status, Status::Error);
        assert!(
            o.summary.starts_with("`git fetch origin` failed"),
            "{}",
            o.summary
        );
        assert!(
            o.evidence["stderr"]
                .as_str()
                .unwrap()
                .contains("nonexistent")
        );
    }
}
