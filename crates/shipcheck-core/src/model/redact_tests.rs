use super::*;

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn redacts_strings_and_json() {
    let secrets = s(&["hunter22"]);
    assert_eq!(redact("token=hunter22 ok", &secrets), "token=[REDACTED] ok");
    let mut v = serde_json::json!({"a": ["x hunter22"], "b": 1});
    redact_json(&mut v, &secrets);
    assert_eq!(v, serde_json::json!({"a": ["x [REDACTED]"], "b": 1}));
}

/// The finding: a 48-character token cut by a 300-character excerpt leaked its
/// first 31 characters, which whole-value matching did not see.
#[test]
fn a_token_cut_by_an_excerpt_is_still_removed() {
    let token = "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefgh";
    assert_eq!(token.len(), 48);
    let excerpt = format!("Bad credentials for {}…", &token[..31]);
    let out = redact(&excerpt, &s(&[token]));
    assert_eq!(out, "Bad credentials for [REDACTED]…");
    // Its tail, too, and a fragment in the middle of other text.
    let out = redact(&format!("x{}y", &token[20..40]), &s(&[token]));
    assert_eq!(out, "x[REDACTED]y");
}

/// The finding: an error page quoting the request path wrote the Slack webhook's
/// secret path into the journal, the reports and the terminal.
#[test]
fn a_webhook_path_without_its_host_is_removed_and_the_host_kept() {
    let hook = "https://hooks.slack.com/services/T0ABCDEFG/B0HIJKLMN/abcdEFGHijklMNOPqrstUVWX";
    let page = "<title>No such path /services/T0ABCDEFG/B0HIJKLMN/abcdEFGHijklMNOPqrstUVWX</title>";
    let out = redact(page, &s(&[hook]));
    assert!(!out.contains("T0ABCDEFG"), "{out}");
    assert!(!out.contains("abcdEFGH"), "{out}");
    assert!(
        out.contains("/services/"),
        "a plain word is not a secret: {out}"
    );
    // The host is not the secret: a message naming it stays readable.
    let out = redact("posting to hooks.slack.com failed", &s(&[hook]));
    assert_eq!(out, "posting to hooks.slack.com failed");
}

#[test]
fn a_password_in_a_url_is_removed_wherever_it_appears() {
    let db = "postgres://deploy:Xy7pQ2rT9wLm@db.internal:5432/shipcheck";
    let out = redact(
        "auth failed for password Xy7pQ2rT9wLm at db.internal",
        &s(&[db]),
    );
    assert_eq!(out, "auth failed for password [REDACTED] at db.internal");
    // The database name and host stay readable.
    assert_eq!(
        redact("database shipcheck", &s(&[db])),
        "database shipcheck"
    );
}

#[test]
fn words_in_secrets_are_not_secret_elsewhere() {
    let secrets = s(&[
        "postgres://app:s3cretPassw0rd@127.0.0.1:5432/maishapoa_production_20261208",
        "my-production-secret-2024",
    ]);
    assert_eq!(
        redact("env production, database maishapoa_production", &secrets),
        "env production, database maishapoa_production"
    );
    assert_eq!(
        redact("password s3cretPassw0rd", &secrets),
        "password [REDACTED]"
    );
    // A Fly token has a space in it: its pieces are still found.
    let fly = "FlyV1 fm2_lJPECAAAAAAAAM8gxBBQ7Kx9ZqPn3Wm2";
    assert_eq!(
        redact("token fm2_lJPECAAAAAAAAM8gx", &s(&[fly])),
        "token [REDACTED]"
    );
}

#[test]
fn paths_and_phrases_are_matched_whole_only() {
    let secrets = s(&["/home/ci/.password-store", "correct horse battery staple"]);
    assert_eq!(
        redact("repo at /home/ci/src", &secrets),
        "repo at /home/ci/src"
    );
    assert_eq!(
        redact("store /home/ci/.password-store", &secrets),
        "store [REDACTED]"
    );
    assert_eq!(redact("a horse battery", &secrets), "a horse battery");
}

#[test]
fn short_fragments_and_unicode_are_safe() {
    let token = "tok-ÄÖÜ-Ab12Cd34Ef56";
    // Seven characters of the token are not enough to identify it.
    assert_eq!(redact("id Ab12Cd3", &s(&[token])), "id Ab12Cd3");
    let out = redact(&format!("é{token}é"), &s(&[token]));
    assert_eq!(out, "é[REDACTED]é");
    let out = redact("x ÄÖÜ-Ab12Cd34 y", &s(&[token]));
    assert_eq!(out, "x ÄÖÜ[REDACTED] y");
    assert_eq!(redact("nothing here", &s(&[])), "nothing here");
    assert_eq!(
        redact("abc", &s(&["abc"])),
        "abc",
        "3 characters are never a secret"
    );
}

#[test]
fn adjacent_and_repeated_secrets_become_one_mark_each_run() {
    let secrets = s(&["AAAA1111BBBB", "CCCC2222DDDD"]);
    assert_eq!(
        redact("AAAA1111BBBB CCCC2222DDDD AAAA1111BBBB", &secrets),
        "[REDACTED] [REDACTED] [REDACTED]"
    );
}

#[test]
fn url_passwords_are_masked_for_printing() {
    assert_eq!(
        mask_url_password("http://user:PASS@host:8080/x?y=1"),
        "http://user:***@host:8080/x?y=1"
    );
    assert_eq!(mask_url_password("http://host/x@y"), "http://host/x@y");
    assert_eq!(mask_url_password("http://user@host/"), "http://user@host/");
    assert_eq!(mask_url_password("not a url"), "not a url");
}

#[test]
fn secret_names_are_recognised() {
    for n in [
        "GITHUB_TOKEN",
        "SENTRY_AUTH_TOKEN",
        "SLACK_WEBHOOK_URL",
        "SHIPCHECK_DATABASE_URL",
        "FLY_API_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "MY_KEY",
    ] {
        assert!(looks_secret(n, &[]), "{n}");
    }
    assert!(!looks_secret("HOME", &[]));
    assert!(looks_secret("PROM_BEARER", &["PROM_BEARER".into()]));
}

#[test]
fn url_passwords_in_text_are_masked() {
    assert_eq!(
        mask_url_passwords("\"http://user:PASS@127.0.0.1:9/x\" is not a URL: http://a@b/ ok"),
        "\"http://user:***@127.0.0.1:9/x\" is not a URL: http://a@b/ ok"
    );
    assert_eq!(
        mask_url_passwords("two: https://u:p1@h1 and postgres://v:p2@h2:5432/db"),
        "two: https://u:***@h1 and postgres://v:***@h2:5432/db"
    );
    assert_eq!(mask_url_passwords("no urls"), "no urls");
    assert_eq!(mask_url_passwords("odd ://"), "odd ://");
}

#[test]
fn a_plain_word_password_is_not_removed_from_other_words() {
    let db = "postgres://postgres:postgres@127.0.0.1:5432/shipcheck_demo_1";
    assert_eq!(
        redact("check postgres.migrations on 127.0.0.1", &s(&[db])),
        "check postgres.migrations on 127.0.0.1"
    );
    assert_eq!(
        redact(&format!("url {db} x"), &s(&[db])),
        "url [REDACTED] x"
    );
}

#[test]
fn a_word_inside_a_secret_is_not_removed_from_other_text_but_a_cut_token_is() {
    let secrets = vec![
        "postgres://app:Xq7pL2mZ9vR4@127.0.0.1:5432/shipcheck_demo_7f3a91_production".to_string(),
        "sntrys_demo7f3a91c0d2e4b6a8".to_string(),
    ];
    // The run's environment, written anywhere, stays readable.
    assert_eq!(
        redact("run for maishapoa/production", &secrets),
        "run for maishapoa/production"
    );
    // The database's identifying part is still removed where it appears…
    assert!(!redact("db shipcheck_demo_7f3a91_production down", &secrets).contains("7f3a91"));
    // …and so is a token cut by an excerpt.
    assert_eq!(
        redact("bearer sntrys_demo7f3a91c0…", &secrets),
        "bearer sntr[REDACTED]…"
    );
}

/// Two people's tokens share the `shipcheck_` prefix and, one time in sixteen, their first
/// random digit: a lead's held token must not redact the start of the token `team add` prints
/// for a new person (a CI run saw `team add`'s token come out cut, 1 in about 25).
#[test]
fn a_held_persons_token_does_not_redact_another_persons_token() {
    let held = format!("shipcheck_3{}", "a1b2c3d4".repeat(7) + "e5f6a7b");
    let other = format!("shipcheck_3{}", "9f8e7d6c".repeat(7) + "5b4a392");
    assert_eq!(held.len(), 74);
    assert_eq!(other.len(), 74);
    let secrets = vec![held.clone()];
    let printed = format!("{{\"token\":\"{other}\"}}");
    assert_eq!(super::redact(&printed, &secrets), printed);
    // The held one itself, whole or a piece of its random part, is still removed.
    assert!(!super::redact(&held, &secrets).contains("a1b2c3d4"));
    assert!(!super::redact(&held[20..40], &secrets).contains("c3d4a1b2"));
}
