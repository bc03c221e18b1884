//! The few git questions the API integrations ask of the repository: the commits and the
//! changed files of `REMOTE/production..REMOTE/staging` (from the run's change set, see
//! [`crate::model::changes`]), and a one-line change list of any range through [`crate::clients::exec::Cmd`].

use crate::model::error::Invalid;
use std::time::Duration;

use crate::clients::exec::Cmd;
use crate::clients::git::Repo;

const GIT_TIMEOUT: Duration = Duration::from_secs(60);

async fn git(repo: &Repo, args: &[String], reason: &str) -> Result<String, String> {
    let out = Cmd::new("git", args.iter().cloned())
        .dir(&repo.git.dir)
        .timeout(GIT_TIMEOUT)
        .reason(reason)
        .run()
        .await
        .map_err(|e| e.to_string())?;
    if !out.success() {
        return Err(format!(
            "`git {}` (to {reason}) failed: {}",
            args.join(" "),
            out.head_of_stderr(3)
        ));
    }
    Ok(out.stdout)
}

/// `REMOTE/production..REMOTE/staging`.
pub fn release_range(repo: &Repo) -> String {
    repo.release_range()
}

/// The full SHAs of the commits in `production..staging`, newest first, from the run's
/// change set (fetched once per [`Repo`]).
pub async fn release_commits(repo: &Repo) -> Result<Vec<String>, Invalid> {
    let changes = repo.change_set().await.map_err(|e| e.to_string())?;
    Ok(changes.commits.iter().map(|c| c.sha.clone()).collect())
}

/// The files the release changes, from the change set.
pub async fn release_files(repo: &Repo) -> Result<Vec<String>, Invalid> {
    let changes = repo.change_set().await.map_err(|e| e.to_string())?;
    Ok(changes.files.iter().map(|f| f.path.clone()).collect())
}

/// `git log --oneline` of `range`, at most `max` lines.
pub async fn oneline(repo: &Repo, range: &str, max: usize) -> Result<Vec<String>, Invalid> {
    let out = git(
        repo,
        &[
            "log".into(),
            "--oneline".into(),
            "--no-decorate".into(),
            format!("--max-count={max}"),
            range.to_string(),
        ],
        "list the changes",
    )
    .await?;
    Ok(out.lines().map(str::to_string).collect())
}
