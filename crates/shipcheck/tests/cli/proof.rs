//! A journal that proves more than its own consistency: the run's status comes from its
//! events (an edited `runs.status` is ignored by `status` and reported by `verify`), and the
//! head is anchored in a git note on the release's merge commit, pushed to origin, so a
//! rewritten event with the chain recomputed after it passes the plain chain check but not
//! the anchor.

use std::path::Path;

use crate::support::{Answers, TestEnv, answer_needs, git_out, sqlite};

fn exec(db: &Path, sql: &'static str, binds: &[&str]) {
    let (rt, mut conn) = sqlite(db);
    rt.block_on(async {
        let mut q = sqlx::query(sql);
        for b in binds {
            q = q.bind(b.to_string());
        }
        q.execute(&mut conn).await.unwrap();
    });
}

/// Rewrites event `seq`'s payload, then recomputes every hash from it to the end and the
/// runs row's head, as someone with write access to the store would to hide the change.
pub(crate) fn rewrite_and_rechain(db: &Path, run_id: &str, seq: i64) {
    let (rt, mut conn) = sqlite(db);
    rt.block_on(async {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT seq, at, payload, prev_hash FROM events WHERE run_id = $1 ORDER BY seq",
        )
        .bind(run_id)
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let mut prev = String::new();
        for (s, at, payload, prev_hash) in rows {
            if s < seq {
                prev = shipcheck_core::model::event::chain_hash(&prev_hash, run_id, s, &at, &payload);
                continue;
            }
            if s == seq {
                prev = prev_hash;
            }
            let payload = if s == seq {
                payload.replacen("\"by\":\"", "\"by\":\"Someone Else, not ", 1)
            } else {
                payload
            };
            let hash = shipcheck_core::model::event::chain_hash(&prev, run_id, s, &at, &payload);
            sqlx::query(
                "UPDATE events SET payload = $1, prev_hash = $2, hash = $3 WHERE run_id = $4 AND seq = $5",
            )
            .bind(&payload)
            .bind(&prev)
            .bind(&hash)
            .bind(run_id)
            .bind(s)
            .execute(&mut conn)
            .await
            .unwrap();
            prev = hash;
        }
        sqlx::query("UPDATE runs SET head_hash = $1 WHERE id = $2")
            .bind(&prev)
            .bind(run_id)
            .execute(&mut conn)
            .await
            .unwrap();
    });
}

fn walk_and_sign(env: &TestEnv) -> String {
    let run_id = walk_to_completed(env);
    let sign = env.shipcheck(&["sign", "--by", "Tess Deployer"]);
    assert_eq!(sign.code, 0, "{}{}", sign.stdout, sign.stderr);
    run_id
}

/// Starts a run on the healed world and walks it until every phase is complete.
pub(crate) fn walk_to_completed(env: &TestEnv) -> String {
    env.heal_production();
    let start = env.shipcheck(&["start", "--by", "Tess Deployer", "--json"]);
    assert_eq!(start.code, 0, "{}", start.stderr);
    let run_id = start.json()["run"].as_str().unwrap().to_string();
    for _ in 0..120 {
        let out = env.shipcheck(&["next", "--json"]);
        assert!(
            out.code == 0 || out.code == 1,
            "{}{}",
            out.stdout,
            out.stderr
        );
        let v = out.json();
        if v["status"] == "completed" {
            break;
        }
        answer_needs(env, &v["steps"][0], Answers::default());
    }
    run_id
}

#[test]
fn the_status_column_edited_to_signed_is_ignored_by_status_and_reported_by_verify() {
    let env = TestEnv::world();
    let start = env.shipcheck(&["start", "--by", "Tess Deployer", "--json"]);
    assert_eq!(start.code, 0, "{}", start.stderr);
    let run_id = start.json()["run"].as_str().unwrap().to_string();
    assert_eq!(env.shipcheck(&["verify"]).code, 0);
    exec(
        &env.db_path(),
        "UPDATE runs SET status = 'signed' WHERE id = $1",
        &[&run_id],
    );
    let status = env.shipcheck(&["status", "--json"]).json();
    assert_eq!(status["status"], "active", "{status}");
    let history = env.shipcheck(&["history", "--json"]).json();
    assert_eq!(history["runs"][0]["status"], "active", "{history}");
    let verify = env.shipcheck(&["verify"]);
    assert_eq!(verify.code, 1, "{}{}", verify.stdout, verify.stderr);
    assert!(
        verify
            .stdout
            .contains("status says \"signed\", the journal says \"active\""),
        "{}",
        verify.stdout
    );
    // Still open: the walk goes on.
    let next = env.shipcheck(&["next"]);
    assert!(
        next.code == 0 || next.code == 1,
        "{}{}",
        next.stdout,
        next.stderr
    );
}

#[test]
fn a_rewritten_event_with_the_chain_recomputed_fails_against_the_git_note() {
    let env = TestEnv::world();
    let run_id = walk_and_sign(&env);
    // The anchor: a note on the merge commit, on origin.
    let origin = env.dir.path().join("origin.git");
    let notes = git_out(&env, &origin, &["notes", "--ref=shipcheck", "list"]);
    assert!(!notes.is_empty(), "no shipcheck note on origin");
    let events = env.shipcheck(&["events", "--json"]).json();
    let anchored = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"]["type"] == "journal_anchored")
        .cloned()
        .expect("the anchoring is journaled");
    assert_eq!(
        anchored["event"]["anchor"]["places"][0]["ok"], true,
        "{anchored}"
    );
    let verify = env.shipcheck(&["verify"]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    assert!(
        verify.stdout.contains("anchor git-note") && verify.stdout.contains(": match"),
        "{}",
        verify.stdout
    );
    // Signing again is refused; the note holds one line for the run.
    let merge = git_out(&env, &origin, &["rev-parse", "production"]);
    let note = git_out(&env, &origin, &["notes", "--ref=shipcheck", "show", &merge]);
    assert_eq!(
        note.lines().filter(|l| l.contains(&run_id)).count(),
        1,
        "{note}"
    );

    // Someone with the store rewrites who started the run and recomputes the chain.
    rewrite_and_rechain(&env.db_path(), &run_id, 1);
    let verify = env.shipcheck(&["verify"]);
    assert!(
        verify.stdout.contains("hash chain intact"),
        "the plain chain check passes: {}",
        verify.stdout
    );
    assert_eq!(verify.code, 1, "{}{}", verify.stdout, verify.stderr);
    assert!(
        verify.stdout.contains("mismatch") && verify.stdout.contains("rewritten"),
        "{}",
        verify.stdout
    );
}

#[test]
fn a_changed_config_is_refused_with_a_diff_until_a_person_accepts_it() {
    let env = TestEnv::world();
    let start = env.shipcheck(&["start", "--by", "Tess Deployer", "--json"]);
    assert_eq!(start.code, 0, "{}", start.stderr);
    // A checkout of another branch (or the release merge) brings a different config.
    let path = env.config_path();
    let before = std::fs::read_to_string(&path).unwrap();
    let after = before.replacen("[git]", "[git]\n# changed on the release branch", 1);
    assert_ne!(before, after);
    std::fs::write(&path, &after).unwrap();
    let next = env.shipcheck(&["next"]);
    assert_eq!(next.code, 2, "{}{}", next.stdout, next.stderr);
    assert!(
        next.stderr.contains("+") && next.stderr.contains("# changed on the release branch"),
        "the diff: {}",
        next.stderr
    );
    assert!(
        next.stderr.contains("shipcheck config accept"),
        "{}",
        next.stderr
    );
    // Reading the run still works.
    assert_eq!(env.shipcheck(&["status"]).code, 0);
    let no_reason = env.shipcheck(&["config", "accept", "--reason", " "]);
    assert_eq!(no_reason.code, 2, "{}", no_reason.stderr);
    let accept = env.shipcheck(&[
        "config",
        "accept",
        "--reason",
        "the comment is harmless",
        "--by",
        "Tess Deployer",
    ]);
    assert_eq!(accept.code, 0, "{}{}", accept.stdout, accept.stderr);
    let next = env.shipcheck(&["next"]);
    assert!(
        next.code == 0 || next.code == 1,
        "{}{}",
        next.stdout,
        next.stderr
    );
    let events = env.shipcheck(&["events", "--json"]).json();
    let accepted: Vec<_> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"]["type"] == "config_accepted")
        .collect();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0]["event"]["reason"], "the comment is harmless");
    // Back to the old text: a change again, refused again.
    std::fs::write(&path, &before).unwrap();
    assert_eq!(env.shipcheck(&["next"]).code, 2);
}

/// `text` as the production branch's committed `shipcheck.toml` (the repository is on
/// production), pushed to origin.
fn commit_to_production(env: &TestEnv, repo: &Path, text: &str) {
    std::fs::write(repo.join("shipcheck.toml"), text).unwrap();
    git_out(env, repo, &["add", "shipcheck.toml"]);
    git_out(env, repo, &["commit", "-q", "-m", "shipcheck.toml"]);
    git_out(env, repo, &["push", "-q", "origin", "production"]);
}

/// A release branch's config that names its own `[fly] command` is refused at `start` until
/// a person has read the difference from the production branch's committed config.
#[test]
fn programs_and_urls_unlike_the_production_branchs_need_trust_config() {
    let env = TestEnv::world();
    let repo = env.repo.clone();
    let text = std::fs::read_to_string(env.config_path())
        .unwrap()
        .replace("repo = \"repo\"", "repo = \".\"");
    // The production branch's committed config (the repository is on production).
    commit_to_production(&env, &repo, &text);
    let config = repo.join("shipcheck.toml");
    let config = config.to_str().unwrap();
    // Same programs and URLs: starts.
    let ok = env.shipcheck(&["--config", config, "start", "--by", "Tess"]);
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    assert_eq!(
        env.shipcheck(&["--config", config, "abort", "--reason", "again"])
            .code,
        0
    );
    // A branch's config runs its own flyctl.
    let evil = text.replacen(
        "[git]",
        "[fly]\ncommand = [\"./not-flyctl.sh\"]\n\n[git]",
        1,
    );
    std::fs::write(repo.join("shipcheck.toml"), &evil).unwrap();
    let refused = env.shipcheck(&["--config", config, "start", "--by", "Tess"]);
    assert_eq!(refused.code, 2, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains("fly.command: \"flyctl\"")
            && refused.stderr.contains("./not-flyctl.sh")
            && refused.stderr.contains("--trust-config"),
        "{}",
        refused.stderr
    );
    let trusted = env.shipcheck(&[
        "--config",
        config,
        "start",
        "--by",
        "Tess",
        "--trust-config",
    ]);
    assert_eq!(trusted.code, 0, "{}{}", trusted.stdout, trusted.stderr);
    let events = env
        .shipcheck(&["--config", config, "events", "--json"])
        .json();
    let t = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"]["type"] == "config_trusted")
        .cloned()
        .expect("the trust is journaled");
    assert!(
        t["event"]["differences"][0]
            .as_str()
            .unwrap()
            .contains("./not-flyctl.sh")
    );
}

/// A branch's config that keeps every URL but points the CDEvents sink's `token_env` at
/// GitHub's token (or moves the sink) would send that token to whoever answers there: the
/// variable a URL receives is part of what is compared with the production branch; so is a
/// command action the branch adds.
#[test]
fn a_branch_that_points_a_sink_at_another_token_needs_trust_config() {
    let env = TestEnv::world();
    let repo = env.repo.clone();
    let base = std::fs::read_to_string(env.config_path())
        .unwrap()
        .replace("repo = \"repo\"", "repo = \".\"");
    let sink = "\n[events]\nsink = \"http://127.0.0.1:9/cdevents\"\n";
    let text = format!("{base}{sink}token_env = \"CDEVENTS_TOKEN\"\n");
    commit_to_production(&env, &repo, &text);
    let config = repo.join("shipcheck.toml");
    let config = config.to_str().unwrap();
    // Every URL as committed; the sink now receives GitHub's token.
    let stolen = format!("{base}{sink}token_env = \"GITHUB_TOKEN\"\n");
    std::fs::write(repo.join("shipcheck.toml"), &stolen).unwrap();
    let refused = env.shipcheck(&["--config", config, "start", "--by", "Tess"]);
    assert_eq!(refused.code, 2, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains("events.token_env")
            && refused.stderr.contains("CDEVENTS_TOKEN")
            && refused.stderr.contains("--trust-config"),
        "{}",
        refused.stderr
    );
    // Moving the sink to another host is refused the same way.
    let moved = text.replace("http://127.0.0.1:9/", "http://[::1]:9/");
    std::fs::write(repo.join("shipcheck.toml"), &moved).unwrap();
    let refused = env.shipcheck(&["--config", config, "start", "--by", "Tess"]);
    assert_eq!(refused.code, 2, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains("events.sink") && refused.stderr.contains("[::1]"),
        "{}",
        refused.stderr
    );
    // A command *action* the branch adds runs a program with the deployer's environment too.
    let action = format!(
        "{text}\n[[checklist.items]]\nid = \"release.tag\"\nphase = \"release\"\ntitle = \"Tag\"\nkind = \"action\"\naction = {{ type = \"command\", argv = [\"./tag.sh\"] }}\n"
    );
    std::fs::write(repo.join("shipcheck.toml"), &action).unwrap();
    let refused = env.shipcheck(&["--config", config, "start", "--by", "Tess"]);
    assert_eq!(refused.code, 2, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains("release.tag (command action)")
            && refused.stderr.contains("./tag.sh"),
        "{}",
        refused.stderr
    );
}

/// When the production branch has no committed config to compare with, `start` does not skip
/// the comparison silently: it says so, names the programs and URLs the run will use, and the
/// run records it (the event and the record's header).
#[test]
fn a_config_the_production_branch_lacks_is_started_with_a_note_not_silently() {
    let env = TestEnv::world();
    let repo = env.repo.clone();
    let text = std::fs::read_to_string(env.config_path())
        .unwrap()
        .replace("repo = \"repo\"", "repo = \".\"");
    // In the repository, never committed: nothing on origin/production to compare with.
    std::fs::write(repo.join("shipcheck.toml"), &text).unwrap();
    let config = repo.join("shipcheck.toml");
    let config = config.to_str().unwrap();
    let started = env.shipcheck(&["--config", config, "start", "--by", "Tess"]);
    assert_eq!(started.code, 0, "{}{}", started.stdout, started.stderr);
    assert!(
        started.stderr.contains("not compared")
            && started.stderr.contains("has no committed shipcheck.toml")
            && started.stderr.contains("fly.command: "),
        "{}",
        started.stderr
    );
    let events = env
        .shipcheck(&["--config", config, "events", "--json"])
        .json();
    let e = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"]["type"] == "config_not_compared")
        .cloned()
        .expect("the missing comparison is journaled");
    assert!(
        e["event"]["settings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s.as_str().unwrap().starts_with("fly.command: ")),
        "{e}"
    );
    let record = env.shipcheck(&["--config", config, "report"]);
    assert!(
        record
            .stdout
            .contains("Config: the config's programs and URLs were not compared"),
        "{}",
        record.stdout
    );
}
