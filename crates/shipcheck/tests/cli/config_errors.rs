//! Config mistakes: exit 2, naming the file, line, key and what to write instead.

use crate::support::TestEnv;

fn with_config(text: &str) -> TestEnv {
    let env = TestEnv::bare();
    std::fs::write(env.dir.path().join("shipcheck.toml"), text).unwrap();
    env
}

#[test]
fn unknown_key_names_line_and_suggests() {
    let env = with_config(
        "[project]\nname = \"x\"\n\n[[environments.production.apps]]\nnmae = \"api\"\n",
    );
    let out = env.shipcheck(&["config", "check"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("shipcheck.toml:5:"), "{}", out.stderr);
    assert!(out.stderr.contains("name"), "{}", out.stderr);
    // Every command that reads the config refuses the same way.
    assert_eq!(env.shipcheck(&["plan"]).code, 2);
    assert_eq!(env.shipcheck(&["start"]).code, 2);
}

#[test]
fn bad_time_zone_is_named() {
    let env = with_config("[project]\nname = \"x\"\ntimezone = \"Europe/Berln\"\n");
    let out = env.shipcheck(&["config", "check"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("Europe/Berln"), "{}", out.stderr);
    assert!(out.stderr.contains("shipcheck.toml:3:"), "{}", out.stderr);
}

#[test]
fn duplicate_and_misplaced_items_are_refused() {
    let env = with_config(
        "[[checklist.items]]\nid = \"prepare.backup\"\nphase = \"prepare\"\ntitle = \"x\"\nkind = \"manual\"\n",
    );
    let out = env.shipcheck(&["config", "check"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("duplicate item id"), "{}", out.stderr);

    let env = with_config(
        "[[checklist.items]]\nid = \"deploy.x\"\nphase = \"deploy\"\ntitle = \"x\"\nkind = \"manual\"\n",
    );
    let out = env.shipcheck(&["config", "check"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("deploy"), "{}", out.stderr);
}

#[test]
fn missing_config_says_how_to_make_one() {
    let env = TestEnv::bare();
    let out = env.shipcheck(&["start"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("shipcheck init"), "{}", out.stderr);
}

#[test]
fn corrupt_database_is_a_clear_error_and_left_alone() {
    let env = TestEnv::world();
    std::fs::create_dir_all(env.db_path().parent().unwrap()).unwrap();
    std::fs::write(
        env.db_path(),
        b"this is not a database, just some text that is long enough",
    )
    .unwrap();
    let out = env.shipcheck(&["history"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("shipcheck.db"), "{}", out.stderr);
    assert_eq!(
        std::fs::read(env.db_path()).unwrap(),
        b"this is not a database, just some text that is long enough"
    );
}
