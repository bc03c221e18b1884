use std::path::{Path, PathBuf};

use crate::checks::command::*;
use crate::model::checklist::{Checklist, Item, ItemKind, Phase};
use crate::model::config::Config;
use crate::model::duration::Span;
use crate::model::outcome::Status;

/// What a command check runs with: the config's directory, the config, the checklist, the
/// secrets.
struct Place {
    base_dir: PathBuf,
    config: Config,
    checklist: Checklist,
    secrets: Vec<String>,
}

fn ctx_in(dir: &Path) -> Place {
    Place {
        base_dir: dir.to_path_buf(),
        config: Config::default(),
        checklist: Checklist::default(),
        secrets: Vec::new(),
    }
}

async fn run(c: &CommandCheck, p: &Place) -> crate::model::outcome::Outcome {
    let repo_dir = p.base_dir.join(&p.config.git.repo);
    crate::checks::command::run(c, &p.base_dir, &repo_dir, &p.checklist, &p.secrets).await
}

fn argv(words: &[&str]) -> CommandCheck {
    CommandCheck {
        argv: words.iter().map(|w| w.to_string()).collect(),
        shell: None,
        dir: None,
        timeout: Some(Span::secs(30)),
        env: Default::default(),
    }
}

fn shell(line: &str) -> CommandCheck {
    CommandCheck {
        argv: vec![],
        shell: Some(line.into()),
        ..argv(&[])
    }
}

#[tokio::test]
async fn exit_0_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(&argv(&["echo", "all green"]), &ctx_in(tmp.path())).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert!(
        o.summary.starts_with("`echo 'all green'` exited 0 in "),
        "{}",
        o.summary
    );
    assert_eq!(o.evidence["command"], "echo 'all green'");
    assert_eq!(o.evidence["exit_code"], 0);
    assert_eq!(o.evidence["tail"], "all green");
    assert!(o.evidence["duration_ms"].is_u64());
}

#[tokio::test]
async fn exit_3_fails_with_code_and_last_line() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(
        &shell("echo building; echo '2 tests failed' >&2; exit 3"),
        &ctx_in(tmp.path()),
    )
    .await;
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.summary
            .starts_with("`echo building; echo '2 tests failed' >&2; exit 3` exited 3 after "),
        "{}",
        o.summary
    );
    assert!(o.summary.ends_with(": 2 tests failed"), "{}", o.summary);
    assert_eq!(o.evidence["exit_code"], 3);
    assert_eq!(o.evidence["tail"], "building\n2 tests failed");
}

#[tokio::test]
async fn keeps_the_last_20_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(&argv(&["seq", "1", "50"]), &ctx_in(tmp.path())).await;
    let tail = o.evidence["tail"].as_str().unwrap();
    let lines: Vec<&str> = tail.lines().collect();
    assert_eq!(lines.len(), TAIL_LINES);
    assert_eq!(lines[0], "31");
    assert_eq!(lines[19], "50");
}

#[tokio::test]
async fn timeout_is_an_error_naming_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = argv(&["sleep", "30"]);
    c.timeout = Some(Span::millis(300));
    let o = run(&c, &ctx_in(tmp.path())).await;
    assert_eq!(o.status, Status::Error);
    assert_eq!(o.summary, "`sleep 30` timed out after 300ms and was killed");
    assert_eq!(o.evidence["timed_out"], true);
    assert_eq!(o.evidence["timeout"], "300ms");
}

#[tokio::test]
async fn missing_program_is_an_error_with_a_hint_naming_the_item() {
    let tmp = tempfile::tempdir().unwrap();
    let c = argv(&["shipcheck-no-such-program-xyz", "test"]);
    let o = run(&c, &ctx_in(tmp.path())).await;
    assert_eq!(o.status, Status::Error);
    assert!(
        o.summary.contains("the program `shipcheck-no-such-program-xyz` was not found; install shipcheck-no-such-program-xyz or change"),
        "{}",
        o.summary
    );

    let mut ctx = ctx_in(tmp.path());
    ctx.checklist = Checklist {
        items: vec![Item {
            id: "prepare.tests".into(),
            phase: Phase::Prepare,
            section: None,
            title: "All tests pass on staging".into(),
            kind: ItemKind::Check,
            required: true,
            when: None,
            check: Some(CheckSpec::Command(c.clone())),
            action: None,
            timeout: None,
            manual_because: None,
            note_required: false,
            other_than_deployer: false,
            help: None,
        }],
    };
    let o = run(&c, &ctx).await;
    assert!(
        o.summary.ends_with(
            "install shipcheck-no-such-program-xyz or retune prepare.tests in shipcheck.toml \
             ([checklist.override.\"prepare.tests\"])"
        ),
        "{}",
        o.summary
    );
}

#[tokio::test]
async fn shell_line_runs_with_sh() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(&shell("printf 'a\\nb\\nc\\n' | wc -l"), &ctx_in(tmp.path())).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert_eq!(o.evidence["tail"].as_str().unwrap().trim(), "3");
    assert_eq!(o.evidence["command"], "printf 'a\\nb\\nc\\n' | wc -l");
}

#[tokio::test]
async fn dir_is_relative_to_base_dir_and_defaults_to_the_repo() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("web")).unwrap();
    std::fs::write(tmp.path().join("web/marker.txt"), "here").unwrap();
    let mut c = argv(&["cat", "marker.txt"]);
    c.dir = Some("web".into());
    let o = run(&c, &ctx_in(tmp.path())).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert_eq!(o.evidence["tail"], "here");

    // Default: the git repository, `[git] repo` relative to the config's directory.
    let mut config = Config::default();
    config.git.repo = "web".into();
    let mut ctx = ctx_in(tmp.path());
    ctx.config = config;
    let o = run(&argv(&["cat", "marker.txt"]), &ctx).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);

    c.dir = Some("nowhere".into());
    let o = run(&c, &ctx_in(tmp.path())).await;
    assert_eq!(o.status, Status::Error);
    assert!(o.summary.contains("does not exist"), "{}", o.summary);
    assert!(
        o.summary.contains("dir = \"nowhere\" is relative to"),
        "{}",
        o.summary
    );
}

#[tokio::test]
async fn env_is_passed_and_only_names_are_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = shell("echo \"stage=$DEPLOY_STAGE\"");
    c.env.insert("DEPLOY_STAGE".into(), "staging-42".into());
    let o = run(&c, &ctx_in(tmp.path())).await;
    assert_eq!(o.evidence["tail"], "stage=staging-42");
    assert_eq!(o.evidence["env"], serde_json::json!(["DEPLOY_STAGE"]));
}

#[tokio::test]
async fn secrets_are_redacted_from_the_tail_and_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let mut ctx = ctx_in(tmp.path());
    ctx.secrets = vec!["hunter2-token-value".into()];
    let o = run(
        &shell("echo connecting with hunter2-token-value; exit 1"),
        &ctx,
    )
    .await;
    assert_eq!(o.status, Status::Fail);
    assert_eq!(o.evidence["tail"], "connecting with [REDACTED]");
    let all = format!("{} {}", o.summary, o.evidence);
    assert!(!all.contains("hunter2-token-value"), "{all}");
}

#[tokio::test]
async fn nothing_or_both_to_run_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(&argv(&[]), &ctx_in(tmp.path())).await;
    assert_eq!(o.status, Status::Error);
    assert!(o.summary.contains("nothing to run"));
    let o = run(&shell("   "), &ctx_in(tmp.path())).await;
    assert_eq!(o.status, Status::Error);
    let mut both = argv(&["true"]);
    both.shell = Some("true".into());
    let o = run(&both, &ctx_in(tmp.path())).await;
    assert_eq!(o.status, Status::Error);
    assert!(o.summary.contains("both argv and shell"));
}
