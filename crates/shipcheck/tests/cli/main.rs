//! The CLI end to end, as a user runs it: the real binary in a temporary directory with a
//! real git repository, real HTTP servers on loopback, and the real store (SQLite; the
//! store's own suite covers PostgreSQL). Nothing outside this machine is contacted.
//!
//! One integration-test binary for the crate; modules below group the scenarios.

// Tests say a failure by panicking: unwrap, expect and panic are how they assert.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod schema_check;
mod schemas;
mod support;

mod actions;
mod browser;
mod cdevents;
mod ci;
mod config_errors;
mod config_schema;
mod crash;
mod demo;
mod fly;
mod git;
mod init;
mod jq;
mod lock;
mod logs;
mod markers;
mod proof;
mod resume;
mod secrets;
mod serve;
mod shell;
mod signature;
mod speed;
mod team;
mod untrusted;
mod walk;
mod watch;
mod webdriver;
mod writers;

mod basics {
    use crate::support::TestEnv;

    #[test]
    fn plan_lists_the_seed_checklist_on_built_in_defaults() {
        let env = TestEnv::bare();
        let out = env.shipcheck(&["plan", "--json"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let v = out.json();
        assert_eq!(v["schema"], "shipcheck/v1");
        assert_eq!(v["items"], 62);
        let phases = v["phases"].as_array().unwrap();
        let names: Vec<_> = phases
            .iter()
            .map(|p| p["phase"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "prepare",
                "preflight",
                "release",
                "approve",
                "rollout",
                "verify",
                "watch",
                "close"
            ]
        );
        assert!(
            out.stderr.contains("no shipcheck.toml found"),
            "{}",
            out.stderr
        );
        // Text form names phases and ids.
        let text = env.shipcheck(&["plan"]);
        assert!(text.stdout.contains("prepare.backup"));
        assert!(text.stdout.contains("Pre-Deployment (1-2 days before)"));
    }

    #[test]
    fn init_writes_a_config_that_validates_and_refuses_to_overwrite() {
        let env = TestEnv::bare();
        let out = env.shipcheck(&["init"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(env.dir.path().join("shipcheck.toml").is_file());
        let check = env.shipcheck(&["config", "check"]);
        assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
        assert!(check.stdout.contains("is valid"), "{}", check.stdout);
        let again = env.shipcheck(&["init"]);
        assert_eq!(again.code, 2);
        assert!(again.stderr.contains("--force"), "{}", again.stderr);
        assert_eq!(env.shipcheck(&["init", "--force"]).code, 0);
        // The seed's apps are in it.
        let text = std::fs::read_to_string(env.dir.path().join("shipcheck.toml")).unwrap();
        assert!(text.contains("maishapoa-production-internal-api"));
        assert!(text.contains("fra"));
    }

    #[test]
    fn check_runs_automatic_checks_and_exits_1_on_failure() {
        let env = TestEnv::world();
        let ok = env.shipcheck(&[
            "check",
            "prepare.staging-health",
            "prepare.window",
            "--json",
        ]);
        assert_eq!(ok.code, 0, "{}\n{}", ok.stdout, ok.stderr);
        let v = ok.json();
        assert_eq!(v["passed"], 2);
        // Production health includes an app answering 500.
        let bad = env.shipcheck(&["check", "verify.health-200", "--json"]);
        assert_eq!(bad.code, 1, "{}", bad.stdout);
        let v = bad.json();
        assert_eq!(v["checks"][0]["status"], "fail");
        // --env points health checks at another environment.
        let staging = env.shipcheck(&["check", "verify.health-200", "--env", "staging"]);
        assert_eq!(staging.code, 0, "{}", staging.stdout);
        // An unknown target gets a hint.
        let typo = env.shipcheck(&["check", "prepar"]);
        assert_eq!(typo.code, 2);
        assert!(
            typo.stderr.contains("did you mean \"prepare\""),
            "{}",
            typo.stderr
        );
    }

    #[test]
    fn check_exits_3_when_an_integration_could_not_be_asked_and_nothing_failed() {
        let env = TestEnv::world();
        // GitHub "answers" with the health server: a JSON object where a list of pull
        // requests belongs — nonsense, so an `error`, not a pass and not a fail.
        let port = env.ports[0];
        let mut config = std::fs::read_to_string(env.config_path()).unwrap();
        config.push_str(&format!(
            "\n[github]\nrepo = \"acme/app\"\napi_url = \"http://127.0.0.1:{port}\"\ntoken_env = \"SHIPCHECK_TEST_GH\"\n"
        ));
        std::fs::write(env.config_path(), config).unwrap();
        let out = env
            .cmd(&[
                "check",
                "prepare.prs-approved",
                "prepare.staging-health",
                "--json",
            ])
            .env("SHIPCHECK_TEST_GH", "ghp_cli_test")
            .output();
        assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
        let v = out.json();
        assert_eq!(
            (
                v["passed"].as_u64(),
                v["failed"].as_u64(),
                v["errors"].as_u64()
            ),
            (Some(1), Some(1), Some(1))
        );
        let prs = &v["checks"][0];
        assert_eq!(prs["status"], "error");
        assert!(
            prs["summary"]
                .as_str()
                .unwrap()
                .contains("expected an array"),
            "{prs}"
        );
        assert!(!out.stdout.contains("ghp_cli_test"));
        // A failure beside the error: 1 (something failed).
        let out = env
            .cmd(&["check", "prepare.prs-approved", "verify.health-200"])
            .env("SHIPCHECK_TEST_GH", "ghp_cli_test")
            .output();
        assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
        assert!(
            out.stdout
                .contains("0 passed, 1 failed, 1 could not be decided (error)"),
            "{}",
            out.stdout
        );
    }

    #[test]
    fn window_check_follows_the_pinned_clock() {
        let env = TestEnv::world();
        // Friday 2026-11-27 15:00 UTC is outside Tue–Thu 10:00–14:00.
        let out = env
            .cmd(&["check", "prepare.window", "--json"])
            .env("SHIPCHECK_NOW", "2026-11-27T15:00:00Z")
            .output();
        assert_eq!(out.code, 1, "{}", out.stdout);
        assert_eq!(out.json()["checks"][0]["status"], "fail");
    }

    #[test]
    fn init_prefills_apps_from_fly_toml_files() {
        let env = TestEnv::bare();
        let root = env.dir.path();
        for (dir, app) in [
            ("apps/api", "acme-production-api"),
            ("apps/api-staging", "acme-staging-api"),
        ] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
            std::fs::write(
                root.join(dir).join("fly.toml"),
                format!(
                    "app = \"{app}\"\nprimary_region = \"ams\"\n\n[http_service]\ninternal_port = 8080\n\n  [[http_service.checks]]\n  path = \"/healthz\"\n"
                ),
            )
            .unwrap();
        }
        let out = env.shipcheck(&["init"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let text = std::fs::read_to_string(root.join("shipcheck.toml")).unwrap();
        assert!(text.contains("fly_app = \"acme-production-api\""), "{text}");
        assert!(
            text.contains("health_url = \"https://acme-production-api.fly.dev/healthz\""),
            "{text}"
        );
        assert!(text.contains("region = \"ams\""), "{text}");
        assert!(!text.contains("fly_app = \"maishapoa"), "{text}");
        assert_eq!(env.shipcheck(&["config", "check"]).code, 0);
    }
}
