//! Loading tests for what validation catches after deserializing: time zones, the window,
//! apps, the engine, and the checklist. Each with its message fragment and `file:line:column`.

use crate::model::config::tests::{APP, assert_problem, err};

// ───────────────────────────── time zones and the window ─────────────────────────────

#[test]
fn bad_time_zone_names_the_key_and_suggests() {
    let text = assert_problem(
        "[project]\nname = \"x\"\ntimezone = \"Europe/Berln\"\n",
        "3:12",
        "project.timezone",
        "unknown time zone \"Europe/Berln\"",
    );
    if !jiff::tz::db().is_definitively_empty() {
        assert!(text.contains("did you mean \"Europe/Berlin\"?"), "{text}");
    }
    assert_problem(
        "[window]\ntimezone = \"Mars/Olympus\"\n",
        "2:12",
        "window.timezone",
        "unknown time zone \"Mars/Olympus\"",
    );
}

#[test]
fn window_times_must_be_hhmm_and_start_before_end() {
    assert_problem(
        "[window]\nstart = \"10am\"\n",
        "2:9",
        "window.start",
        "\"10am\" is not a time written HH:MM",
    );
    assert_problem(
        "[window]\nend = \"24:30\"\n",
        "2:7",
        "window.end",
        "is not a time of day",
    );
    assert_problem(
        "[window]\nstart = \"14:00\"\nend = \"10:00\"\n",
        "3:7",
        "window.end",
        "the window ends at 10:00 but starts at 14:00",
    );
    assert_problem(
        "[window]\nstart = \"10:00\"\nend = \"10:00\"\n",
        "3:7",
        "window.end",
        "end must be after start",
    );
}

#[test]
fn window_days_must_be_known_unique_and_not_empty() {
    assert_problem(
        "[window]\ndays = []\n",
        "2:8",
        "window.days",
        "no days given",
    );
    assert_problem(
        "[window]\ndays = [\"tue\", \"wed\", \"tue\"]\n",
        "2:23",
        "window.days[2]",
        "\"tue\" is listed twice",
    );
    assert_problem(
        "[window]\ndays = [\"tue\", \"thr\"]\n",
        "2:16",
        "window.days[1]",
        "unknown day `thr`",
    );
}

// ───────────────────────────── apps ─────────────────────────────

#[test]
fn health_url_must_be_http() {
    let key = "environments.production.apps[0].health_url";
    assert_problem(
        &format!("{APP}health_url = \"maishapoa.fly.dev/health\"\n"),
        "3:14",
        key,
        "is not a URL",
    );
    assert_problem(
        &format!("{APP}health_url = \"ftp://maishapoa.fly.dev/\"\n"),
        "3:14",
        key,
        "is not an http or https URL",
    );
}

#[test]
fn expect_status_must_be_100_to_599() {
    assert_problem(
        &format!("{APP}expect_status = 700\n"),
        "3:17",
        "environments.production.apps[0].expect_status",
        "700 is not an HTTP status code",
    );
}

#[test]
fn version_source_is_checked() {
    let key = "environments.production.apps[0].version";
    let web = "health_url = \"https://a.fly.dev/health\"\nfly_app = \"a\"\n";
    assert_problem(
        &format!("{APP}version = {{ json_pointer = \"version\" }}\n{web}"),
        "3:11",
        key,
        "json_pointer \"version\" is not a JSON pointer",
    );
    assert_problem(
        &format!("{APP}version = {{ header = \"x release\" }}\n{web}"),
        "3:11",
        key,
        "is not an HTTP header name",
    );
    assert_problem(
        &format!("{APP}version = {{ image_ref = false }}\n{web}"),
        "3:11",
        key,
        "write image_ref = true",
    );
    assert_problem(
        &format!("{APP}version = {{ image_label = \"\" }}\n{web}"),
        "3:11",
        key,
        "image_label is empty",
    );
    assert_problem(
        &format!("{APP}version = {{ json_pointer = \"/version\" }}\n"),
        "3:11",
        key,
        "needs the app's health_url",
    );
    assert_problem(
        &format!("{APP}version = {{ image_ref = true }}\n"),
        "3:11",
        key,
        "needs the app's fly_app",
    );
    let e = err(&format!("{APP}version = {{ commit = \"/v\" }}\n"));
    assert!(e.render().contains("json_pointer"), "{}", e.render());
    let e = err(&format!(
        "{APP}version = {{ header = \"a\", image_ref = true }}\n{web}"
    ));
    assert!(!e.problems().is_empty());
    // Every form loads.
    for v in [
        "{ json_pointer = \"/version\" }",
        "{ json_pointer = \"/build/sha\" }",
        "{ header = \"x-release\" }",
        "{ image_label = \"GH_SHA\" }",
        "{ image_ref = true }",
    ] {
        crate::model::config::tests::load(&format!("{APP}version = {v}\n{web}"));
    }
}

#[test]
fn duplicate_app_names_and_empty_strings() {
    let src = format!("{APP}\n{APP}");
    assert_problem(
        &src,
        "5:8",
        "environments.production.apps[1].name",
        "duplicate app name \"internal-api\" in environment production (also apps[0])",
    );
    assert_problem(
        "[[environments.staging.apps]]\nname = \"\"\nfly_app = \"\"\n",
        "2:8",
        "environments.staging.apps[0].name",
        "the app name is empty",
    );
    assert_problem(
        "[[environments.staging.apps]]\nname = \"a\"\nfly_app = \"  \"\n",
        "3:11",
        "environments.staging.apps[0].fly_app",
        "fly_app is empty",
    );
}

#[test]
fn concurrency_must_be_1_to_256() {
    for (n, col) in [("0", "2:15"), ("257", "2:15")] {
        assert_problem(
            &format!("[engine]\nconcurrency = {n}\n"),
            col,
            "engine.concurrency",
            "write a number from 1 to 256",
        );
    }
}

// ───────────────────────────── checklist ─────────────────────────────

fn item(check: &str) -> String {
    format!(
        "[[checklist.items]]\nid = \"verify.a\"\nphase = \"verify\"\ntitle = \"A\"\nkind = \"check\"\ncheck = {check}\n"
    )
}

#[test]
fn http_checks_need_a_url_and_a_method() {
    assert_problem(
        &item("{ type = \"http\", url = \"not a url\" }"),
        "6:32",
        "checklist.items[0].check.url",
        "\"not a url\" is not a URL",
    );
    assert_problem(
        &item("{ type = \"http\", url = \"https://x.example/\", method = \"FETCH\" }"),
        "6:63",
        "checklist.items[0].check.method",
        "unknown HTTP method \"FETCH\"",
    );
    assert_problem(
        &item("{ type = \"http\", url = \"https://x.example/\", method = \"get\" }"),
        "6:63",
        "checklist.items[0].check.method",
        "write it in capitals: method = \"GET\"",
    );
    assert_problem(
        "[checklist.override.\"verify.health-200\"]\ncheck = { type = \"http\", url = \"https//x\" }\n",
        "2:32",
        "checklist.override.\"verify.health-200\".check.url",
        "is not a URL",
    );
}

#[test]
fn command_checks_need_argv_or_shell_not_both() {
    assert_problem(
        &item("{ type = \"command\" }"),
        "6:9",
        "checklist.items[0].check",
        "a command needs `argv` or `shell`; it has neither",
    );
    assert_problem(
        &item("{ type = \"command\", argv = [\"make\"], shell = \"make\" }"),
        "6:54",
        "checklist.items[0].check.shell",
        "a command takes `argv` or `shell`, not both",
    );
}

#[test]
fn unknown_check_type_lists_the_types() {
    assert_problem(
        &item("{ type = \"htpp\", url = \"https://x.example/\" }"),
        "6:18",
        "checklist.items[0].check.type",
        "did you mean `http`? write one of `http`, `health`, `command`, `window`, `rerun`",
    );
}

#[test]
fn unknown_phase_lists_the_8_phases() {
    let src = "[[checklist.items]]\nid = \"verify.a\"\nphase = \"verfy\"\ntitle = \"A\"\nkind = \"manual\"\n";
    assert_problem(
        src,
        "3:9",
        "checklist.items[0].phase",
        "unknown phase `verfy`",
    );
    let text = err(src).render();
    assert!(
        text.contains("did you mean `verify`? write one of `prepare`, `preflight`, `release`, `approve`, `rollout`, `verify`, `watch`, `close`"),
        "{text}"
    );
}

#[test]
fn duplicate_item_id_is_refused() {
    let src = "[[checklist.items]]\nid = \"prepare.backup\"\nphase = \"prepare\"\ntitle = \"Again\"\nkind = \"manual\"\n";
    let text = assert_problem(
        src,
        "2:6",
        "checklist.items[0].id",
        "duplicate item id \"prepare.backup\"",
    );
    assert!(text.contains("help: ids must be unique"), "{text}");
}

#[test]
fn unknown_disabled_id_suggests_the_closest() {
    let text = assert_problem(
        "[checklist]\ndisable = [\"prepare.tests\", \"prepare.backpu\"]\n",
        "2:29",
        "checklist.disable[1]",
        "unknown item id \"prepare.backpu\"",
    );
    assert!(text.contains("did you mean \"prepare.backup\"?"), "{text}");
}

#[test]
fn disabling_a_rerun_target_names_the_built_in_item() {
    let e = err("[checklist]\ndisable = [\"prepare.tests\"]\n");
    let p = &e.problems()[0];
    assert_eq!(p.key, "checklist (built-in item preflight.staging-final)");
    assert!(
        p.message.contains("rerun names \"prepare.tests\""),
        "{p:#?}"
    );
    assert!(
        p.help
            .as_deref()
            .is_some_and(|h| h.contains("disable it too"))
    );
    assert_eq!((p.line, p.column), (1, 1));
}

#[test]
fn unknown_override_id_points_at_its_table() {
    assert_problem(
        "[checklist.override.\"prepare.test\"]\ntitle = \"x\"\n",
        "1:1",
        "checklist.override.\"prepare.test\"",
        "did you mean \"prepare.tests\"?",
    );
}
