//! The few git questions the API integrations ask of the repository, through
//! [`crate::exec::Cmd`]: the commits and the changed files of
//! `REMOTE/production..REMOTE/staging` as last fetched, and a one-line change list.
//!
//! This is a stop-gap until the change set of the Git integration is available; it reads the
//! remote-tracking branches and does not fetch.

use std::time::Duration;

use crate::checks::CheckContext;
use crate::exec::Cmd;

const GIT_TIMEOUT: Duration = Duration::from_secs(60);

async fn git(ctx: &CheckContext, args: &[String], reason: &str) -> Result<String, String> {
    let out = Cmd::new("git", args.iter().cloned())
        .dir(ctx.repo_dir())
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
pub fn release_range(ctx: &CheckContext) -> String {
    let g = &ctx.config.git;
    format!(
        "{r}/{p}..{r}/{s}",
        r = g.remote,
        p = g.production,
        s = g.staging
    )
}

/// The full SHAs of the commits in `production..staging`, newest first.
pub async fn release_commits(ctx: &CheckContext) -> Result<Vec<String>, String> {
    let range = release_range(ctx);
    let out = git(
        ctx,
        &["log".into(), "--format=%H".into(), range],
        "list the commits of the release",
    )
    .await?;
    Ok(out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

/// The files changed between production and staging (`git diff --name-only A...B`).
pub async fn release_files(ctx: &CheckContext) -> Result<Vec<String>, String> {
    let g = &ctx.config.git;
    let range = format!(
        "{r}/{p}...{r}/{s}",
        r = g.remote,
        p = g.production,
        s = g.staging
    );
    let out = git(
        ctx,
        &["diff".into(), "--name-only".into(), range],
        "list the files the release changes",
    )
    .await?;
    Ok(out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

/// `git log --oneline` of `range`, at most `max` lines.
pub async fn oneline(ctx: &CheckContext, range: &str, max: usize) -> Result<Vec<String>, String> {
    let out = git(
        ctx,
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
