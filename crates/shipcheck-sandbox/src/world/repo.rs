//! The world's git repository: a bare `origin.git` and a working clone `repo/`, with
//! `production` (what runs) and `staging` ahead of it by four commits — a new API endpoint
//! with its docs, an auth change, a migration, and the changelog entry (with a `TODO:` in a
//! script outside the critical paths) — each from a reviewed pull request.
//!
//! Every git call while building is hermetic (no system or global config, a fixed identity
//! and dates); the clone's own `.git/config` carries the deployer's identity, no signing and
//! no hooks, so shipcheck's merge never depends on the user's git setup.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use shipcheck_core::clients::exec::Cmd;

use super::WorldError;

/// One commit of the change set.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StagingCommit {
    /// Its SHA.
    pub sha: String,
    /// Its subject.
    pub subject: String,
    /// The author's GitHub login.
    pub author: String,
    /// The reviewer's GitHub login.
    pub reviewer: String,
    /// The pull request it came from.
    pub pr: u64,
    /// The pull request's title.
    pub pr_title: String,
}

/// What the repository holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RepoInfo {
    /// The bare origin.
    pub origin: PathBuf,
    /// The working clone.
    pub clone_dir: PathBuf,
    /// `production`'s head when the world was built.
    pub production_head: String,
    /// Its tree: a release built from this tree is the one running now.
    pub production_tree: String,
    /// `staging`'s commits not on `production`, oldest first.
    pub staging: Vec<StagingCommit>,
}

/// The files of `production`.
const BASE_FILES: &[(&str, &str)] = &[
    (
        "README.md",
        "# maishapoa platform\n\nThree services on Fly.io (region `fra`): internal-api, agent-registration, public-api.\n",
    ),
    (
        "CHANGELOG.md",
        "# Changelog\n\n## 2026-11-10\n\n- Agent onboarding: registration form and API.\n",
    ),
    (
        "package.json",
        "{\n  \"name\": \"maishapoa-platform\",\n  \"private\": true,\n  \"scripts\": { \"test\": \"sh scripts/test.sh\" }\n}\n",
    ),
    (
        "src/index.ts",
        "import { agents } from \"./api/agents\";\nimport { session } from \"./auth/session\";\n\nexport const routes = { \"/api/agents\": agents, \"/api/session\": session };\n",
    ),
    (
        "src/api/agents.ts",
        "export function agents(req: Request) {\n  return db.query(\"SELECT id, name FROM agents LIMIT 50\");\n}\n",
    ),
    (
        "src/auth/session.ts",
        "export function session(req: Request) {\n  return verifyPassword(req.user, req.password);\n}\n",
    ),
    (
        "migrations/20261001_init.sql",
        "CREATE TABLE agents (id bigserial PRIMARY KEY, name text NOT NULL);\n",
    ),
    (
        "docs/api/agents.md",
        "# Agents API\n\n`GET /api/agents`: the first 50 agents.\n",
    ),
    (
        "scripts/test.sh",
        "#!/bin/sh\n# The team's test suite (pnpm test), as the rehearsal runs it.\necho \"agents.test.ts ........ 14 passed\"\necho \"session.test.ts ....... 9 passed\"\necho \"quotes.test.ts ........ 11 passed\"\necho \"34 passed, 0 failed\"\n",
    ),
];

/// The change set: (subject, PR number, PR title, author, reviewer, files).
type Change = (
    &'static str,
    u64,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const CHANGES: &[Change] = &[
    (
        "Add agent search by region to the agents API",
        41,
        "Agent search by region",
        "amina-w",
        "baraka-o",
        &[
            (
                "src/api/agents.ts",
                "export function agents(req: Request) {\n  const region = req.query.region;\n  return db.query(\"SELECT id, name, region FROM agents WHERE $1::text IS NULL OR region = $1 LIMIT 50\", [region]);\n}\n",
            ),
            (
                "docs/api/agents.md",
                "# Agents API\n\n`GET /api/agents[?region=R]`: the first 50 agents, optionally of one region.\n",
            ),
        ],
    ),
    (
        "Require a second factor for admin sessions",
        42,
        "MFA for admin logins",
        "baraka-o",
        "amina-w",
        &[(
            "src/auth/session.ts",
            "export function session(req: Request) {\n  const ok = verifyPassword(req.user, req.password);\n  return ok && (!req.user.admin || verifyTotp(req.user, req.otp));\n}\n",
        )],
    ),
    (
        "Add agents.region column",
        43,
        "Migration: agents.region",
        "amina-w",
        "wanjiku-k",
        &[(
            "migrations/20261120_add_agent_region.sql",
            "ALTER TABLE agents ADD COLUMN region text;\nCREATE INDEX agents_region ON agents (region);\n",
        )],
    ),
    (
        "Changelog and seed script for the region release",
        44,
        "Changelog: agent regions",
        "wanjiku-k",
        "baraka-o",
        &[
            (
                "CHANGELOG.md",
                "# Changelog\n\n## Unreleased\n\n- Agents API: search by region (`GET /api/agents?region=`).\n- Admin sessions need a second factor.\n- Database: `agents.region` column (migration 20261120).\n\n## 2026-11-10\n\n- Agent onboarding: registration form and API.\n",
            ),
            (
                "scripts/seed-regions.sh",
                "#!/bin/sh\n# TODO: read the region list from the config service instead of hard-coding it.\nfor r in nairobi mombasa kisumu; do echo \"$r\"; done\n",
            ),
        ],
    ),
];

/// The deployer's identity in the clone's config.
pub const DEPLOYER_NAME: &str = "Demo Deployer";
/// Its email.
pub const DEPLOYER_EMAIL: &str = "deployer@maishapoa.example";

fn hermetic(cmd: Cmd, who: &str, at: Timestamp) -> Cmd {
    let date = format!("@{} +0000", at.as_second());
    let email = format!("{who}@maishapoa.example");
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", who)
        .env("GIT_AUTHOR_EMAIL", &email)
        .env("GIT_COMMITTER_NAME", who)
        .env("GIT_COMMITTER_EMAIL", &email)
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .timeout(Duration::from_secs(30))
        .reason("build the rehearsal's git repository")
}

async fn git(dir: &Path, args: &[&str], who: &str, at: Timestamp) -> Result<String, WorldError> {
    let cmd = hermetic(Cmd::new("git", args.iter().copied()).dir(dir), who, at);
    let out = cmd
        .run()
        .await
        .map_err(|e| WorldError::Git(e.to_string()))?;
    if !out.success() {
        return Err(WorldError::Git(format!(
            "`{}` failed: {}",
            cmd.display(),
            out.head_of_stderr(5)
        )));
    }
    Ok(out.stdout.trim().to_string())
}

fn write(root: &Path, files: &[(&str, &str)]) -> Result<(), WorldError> {
    for (path, text) in files {
        let p = root.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(super::io(format!("create {path}")))?;
        }
        std::fs::write(&p, text).map_err(super::io(format!("write {path}")))?;
    }
    Ok(())
}

/// Lays out the repository in `dir` (`origin.git`, `repo/`); commit dates lie before
/// `start`, the world's "now".
pub async fn build(dir: &Path, start: Timestamp) -> Result<RepoInfo, WorldError> {
    let origin = dir.join("origin.git");
    let clone_dir = dir.join("repo");
    let hooks = dir.join("world").join("no-hooks");
    std::fs::create_dir_all(&hooks).map_err(super::io("create world/no-hooks"))?;
    std::fs::create_dir_all(&clone_dir).map_err(super::io("create repo/"))?;
    let day = |d: i64| start - SignedDuration::from_hours(24 * d);
    let t0 = day(16);
    git(dir, &["init", "-q", "--bare", "origin.git"], "amina-w", t0).await?;
    git(
        &origin,
        &["symbolic-ref", "HEAD", "refs/heads/production"],
        "amina-w",
        t0,
    )
    .await?;
    git(&clone_dir, &["init", "-q"], "amina-w", t0).await?;
    git(
        &clone_dir,
        &["symbolic-ref", "HEAD", "refs/heads/production"],
        "amina-w",
        t0,
    )
    .await?;
    for (k, v) in [
        ("user.name", DEPLOYER_NAME.to_string()),
        ("user.email", DEPLOYER_EMAIL.to_string()),
        ("commit.gpgsign", "false".to_string()),
        ("tag.gpgsign", "false".to_string()),
        ("core.hooksPath", hooks.display().to_string()),
        ("core.autocrlf", "false".to_string()),
    ] {
        git(&clone_dir, &["config", k, &v], "amina-w", t0).await?;
    }
    write(&clone_dir, BASE_FILES)?;
    git(&clone_dir, &["add", "-A"], "amina-w", t0).await?;
    git(
        &clone_dir,
        &[
            "commit",
            "-q",
            "-m",
            "Agent onboarding: registration form and API",
        ],
        "amina-w",
        t0,
    )
    .await?;
    git(
        &clone_dir,
        &["remote", "add", "origin", &origin.display().to_string()],
        "amina-w",
        t0,
    )
    .await?;
    git(
        &clone_dir,
        &["checkout", "-q", "-b", "staging"],
        "amina-w",
        t0,
    )
    .await?;
    let mut staging = Vec::new();
    for (n, (subject, pr, pr_title, author, reviewer, files)) in CHANGES.iter().enumerate() {
        let at = day(4 - n as i64);
        write(&clone_dir, files)?;
        git(&clone_dir, &["add", "-A"], author, at).await?;
        let message = format!("{subject} (#{pr})");
        git(&clone_dir, &["commit", "-q", "-m", &message], author, at).await?;
        let sha = git(&clone_dir, &["rev-parse", "HEAD"], author, at).await?;
        staging.push(StagingCommit {
            sha,
            subject: message,
            author: author.to_string(),
            reviewer: reviewer.to_string(),
            pr: *pr,
            pr_title: pr_title.to_string(),
        });
    }
    let at = day(1);
    git(
        &clone_dir,
        &["push", "-q", "origin", "production", "staging"],
        "amina-w",
        at,
    )
    .await?;
    git(
        &clone_dir,
        &[
            "branch",
            "-q",
            "--set-upstream-to=origin/staging",
            "staging",
        ],
        "amina-w",
        at,
    )
    .await?;
    git(
        &clone_dir,
        &[
            "branch",
            "-q",
            "--set-upstream-to=origin/production",
            "production",
        ],
        "amina-w",
        at,
    )
    .await?;
    let production_head = git(&origin, &["rev-parse", "production"], "amina-w", at).await?;
    let production_tree = tree_of(&origin, &production_head).await?;
    Ok(RepoInfo {
        origin,
        clone_dir,
        production_head,
        production_tree,
        staging,
    })
}

/// The tree of commit `sha` in the repository at `git_dir`.
pub async fn tree_of(git_dir: &Path, sha: &str) -> Result<String, WorldError> {
    let spec = format!("{sha}^{{tree}}");
    let cmd = Cmd::new("git", ["rev-parse", "--verify", "-q", spec.as_str()])
        .dir(git_dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .timeout(Duration::from_secs(10))
        .reason("read a commit's tree");
    let out = cmd
        .run()
        .await
        .map_err(|e| WorldError::Git(e.to_string()))?;
    if !out.success() {
        return Err(WorldError::Git(format!("no commit {sha} in the origin")));
    }
    Ok(out.stdout.trim().to_string())
}

/// Where `branch` points in the bare origin now, if it exists.
pub async fn branch_head(origin: &Path, branch: &str) -> Option<String> {
    let r = format!("refs/heads/{branch}");
    let out = Cmd::new("git", ["rev-parse", "--verify", "-q", r.as_str()])
        .dir(origin)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .timeout(Duration::from_secs(10))
        .reason("read the origin's production branch")
        .run()
        .await
        .ok()?;
    out.success().then(|| out.stdout.trim().to_string())
}

/// The commits of `production` in the origin, newest first, with their parents and
/// subjects: `(sha, parents, subject)`.
pub async fn production_log(origin: &Path, limit: usize) -> Vec<(String, Vec<String>, String)> {
    let n = format!("-{limit}");
    let Ok(out) = Cmd::new(
        "git",
        ["log", n.as_str(), "--format=%H%x09%P%x09%s", "production"],
    )
    .dir(origin)
    .env("GIT_CONFIG_NOSYSTEM", "1")
    .env("GIT_CONFIG_GLOBAL", "/dev/null")
    .timeout(Duration::from_secs(10))
    .reason("read the origin's production history")
    .run()
    .await
    else {
        return Vec::new();
    };
    out.stdout
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, '\t');
            let sha = parts.next()?.to_string();
            let parents = parts
                .next()?
                .split_whitespace()
                .map(str::to_string)
                .collect();
            Some((sha, parents, parts.next().unwrap_or_default().to_string()))
        })
        .collect()
}
