//! People and identity: `team add` prints a token once and stores its hash; once a team
//! exists, `--by` is refused and every person-action is recorded with the person the token
//! proves; "someone other than the deployer" compares people; `login` keeps the token 0600.

use crate::support::{TestEnv, sqlite};

fn add(
    env: &TestEnv,
    token: Option<&str>,
    name: &str,
    email: &str,
    role: &str,
) -> crate::support::Out {
    let mut cmd = env.cmd(&[
        "team", "add", name, "--email", email, "--role", role, "--json",
    ]);
    if let Some(t) = token {
        cmd = cmd.env("SHIPCHECK_TOKEN", t);
    }
    cmd.output()
}

fn as_person(env: &TestEnv, token: &str, args: &[&str]) -> crate::support::Out {
    env.cmd(args).env("SHIPCHECK_TOKEN", token).output()
}

#[test]
fn a_team_records_people_by_their_token_and_refuses_typed_names() {
    let env = TestEnv::world();
    // The change set touches the auth paths: the security review is someone else's.
    let mut config = std::fs::read_to_string(env.config_path()).unwrap();
    config.push_str("\n[paths]\nauth = [\"src/**\"]\n");
    std::fs::write(env.config_path(), config).unwrap();
    let list = env.shipcheck(&["team", "list"]);
    assert!(list.stdout.contains("no team"), "{}", list.stdout);

    // The first person: anyone who can write the store.
    let out = add(&env, None, "Ana Lima", "ana@example.com", "lead");
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let ana = out.json()["token"].as_str().unwrap().to_string();
    assert!(ana.starts_with("shipcheck_") && ana.len() == 74, "{ana}");

    // After that, only a lead, with their token.
    let out = add(&env, None, "Ben Okoro", "ben@example.com", "reviewer");
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("token"), "{}", out.stderr);
    let out = add(&env, Some(&ana), "Ben Okoro", "ben@example.com", "reviewer");
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let ben = out.json()["token"].as_str().unwrap().to_string();
    let out = add(&env, Some(&ben), "Cy", "cy@example.com", "deployer");
    assert_eq!(out.code, 2, "a reviewer adds nobody: {}", out.stderr);
    assert!(out.stderr.contains("only a lead"), "{}", out.stderr);
    let out = add(
        &env,
        Some(&ana),
        "Ana Lima",
        "other@example.com",
        "deployer",
    );
    assert_eq!(out.code, 2, "{}", out.stderr);

    // The store holds hashes, never a token.
    let (rt, mut conn) = sqlite(&env.db_path());
    let rows: Vec<(String, String)> = rt.block_on(async {
        sqlx::query_as("SELECT name, token_hash FROM people")
            .fetch_all(&mut conn)
            .await
            .unwrap()
    });
    assert_eq!(rows.len(), 2);
    for (_, hash) in &rows {
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&ana[10..]) && !hash.contains(&ben[10..]));
    }
    drop(conn);
    let list = env.shipcheck(&["team", "list", "--json"]);
    assert!(!list.stdout.contains(&ana) && !list.stdout.contains(&ben));

    // A typed name is refused; no token is refused; a wrong token is refused.
    let out = as_person(&env, &ana, &["start", "--by", "Tess Deployer"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("drop --by"), "{}", out.stderr);
    let out = env.shipcheck(&["start"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("SHIPCHECK_TOKEN"), "{}", out.stderr);
    let wrong = format!("shipcheck_{}", "0".repeat(64));
    let out = as_person(&env, &wrong, &["start"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("not a team member's"), "{}", out.stderr);
    assert!(!out.stderr.contains(&wrong), "a token is never printed");
    assert!(
        env.shipcheck(&["history", "--json"]).json()["runs"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Ana starts the run: recorded as the person.
    let out = as_person(&env, &ana, &["start", "--json"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let status = env.shipcheck(&["status", "--json"]).json();
    assert_eq!(
        status["started_by"], "Ana Lima <ana@example.com>",
        "{status}"
    );

    // A note is recorded with the person.
    let out = as_person(&env, &ben, &["note", "looked at the dashboards"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let events = env.shipcheck(&["events", "--json"]).json();
    let note = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"]["type"] == "note_added")
        .cloned()
        .unwrap();
    assert_eq!(note["event"]["by"], "Ben Okoro <ben@example.com>");
    // The deployer cannot tick the security review; the reviewer can, as themself.
    let next = as_person(&env, &ana, &["next", "--json"]);
    assert!(next.code <= 1, "{}{}", next.stdout, next.stderr);
    let out = as_person(
        &env,
        &ana,
        &["tick", "prepare.security-review", "--note", "fine"],
    );
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("other than the deployer (Ana Lima <ana@example.com>)"),
        "{}",
        out.stderr
    );
    let out = as_person(
        &env,
        &ben,
        &["tick", "prepare.security-review", "--note", "reviewed src/"],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let status = env.shipcheck(&["status", "--json"]).json();
    let item = status["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "prepare.security-review")
        .cloned()
        .unwrap();
    assert_eq!(item["by"], "Ben Okoro <ben@example.com>", "{item}");
}

#[test]
fn login_keeps_the_token_readable_only_by_its_owner_and_whoami_says_who() {
    let env = TestEnv::world();
    let out = add(&env, None, "Ana Lima", "ana@example.com", "lead");
    let ana = out.json()["token"].as_str().unwrap().to_string();
    let out = env.cmd(&["login"]).stdin("not-a-token\n").output();
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    let file = env.home.join(".config").join("shipcheck").join("token");
    assert!(!file.exists());
    let out = env.cmd(&["login"]).stdin(&format!("{ana}\n")).output();
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains(&ana));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let who = env.shipcheck(&["whoami"]);
    assert_eq!(who.code, 0, "{}", who.stderr);
    assert!(
        who.stdout.contains("Ana Lima <ana@example.com> (lead)"),
        "{}",
        who.stdout
    );
    let out = env.shipcheck(&["logout"]);
    assert_eq!(out.code, 0);
    assert!(!file.exists());
    let who = env.shipcheck(&["whoami"]);
    assert_eq!(who.code, 2, "{}{}", who.stdout, who.stderr);
}
