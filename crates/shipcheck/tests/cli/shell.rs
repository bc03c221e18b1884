//! Where the team already works: shell completions that load and complete, and manual pages
//! that match the command line (the committed `docs/man/` included).

use std::path::Path;
use std::process::Command;

use crate::support::{TestEnv, bin};

/// What bash completes for the words `line` (the last one being completed).
fn bash_completes(line: &[&str]) -> String {
    let words = line
        .iter()
        .map(|w| format!("'{w}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let script = format!(
        "source <('{bin}' completions bash) || exit 9\n\
         COMP_WORDS=({words}); COMP_CWORD={cword}\n\
         _shipcheck shipcheck \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         echo \"${{COMPREPLY[@]}}\"",
        bin = bin(),
        cword = line.len() - 1,
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn bash_completions_load_and_complete_commands_and_values() {
    assert_eq!(bash_completes(&["shipcheck", "dep"]), "deploy");
    let shells = bash_completes(&["shipcheck", "completions", ""]);
    for s in ["bash", "zsh", "fish", "powershell"] {
        assert!(shells.split(' ').any(|w| w == s), "{shells}");
    }
    assert_eq!(
        bash_completes(&["shipcheck", "logs", ""])
            .split(' ')
            .find(|w| *w == "scan"),
        Some("scan")
    );
}

#[test]
fn every_shell_gets_a_script_and_a_bad_one_is_a_usage_error() {
    let env = TestEnv::bare();
    for (shell, marker) in [
        ("zsh", "#compdef shipcheck"),
        ("fish", "complete -c shipcheck"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = env.shipcheck(&["completions", shell]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(out.stdout.contains(marker), "{shell}: {}", out.stdout);
    }
    let bad = env.shipcheck(&["completions", "tcsh"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("possible values"), "{}", bad.stderr);
}

#[test]
fn man_pages_cover_every_command_and_docs_man_is_current() {
    let env = TestEnv::bare();
    let page = env.shipcheck(&["man"]);
    assert_eq!(page.code, 0, "{}", page.stderr);
    assert!(page.stdout.starts_with(".ie"), "{}", page.stdout);
    assert!(page.stdout.contains(".SH SUBCOMMANDS"), "{}", page.stdout);

    let dir = env.dir.path().join("man");
    let out = env.shipcheck(&["man", "--out", dir.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let written = names(&dir);
    for cmd in ["shipcheck.1", "shipcheck-deploy.1", "shipcheck-logs-scan.1"] {
        assert!(written.contains(&cmd.to_string()), "{written:?}");
    }
    assert!(
        !written.iter().any(|n| n.contains("sandbox")),
        "{written:?}"
    );
    let deploy = std::fs::read_to_string(dir.join("shipcheck-deploy.1")).unwrap();
    assert!(deploy.contains("shipcheck\\-deploy"), "{deploy}");

    // The committed pages are what this binary writes.
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/man");
    assert_eq!(
        names(&committed),
        written,
        "docs/man is stale: run `cargo run -- man --out docs/man`"
    );
    for n in &written {
        assert_eq!(
            std::fs::read_to_string(committed.join(n)).unwrap(),
            std::fs::read_to_string(dir.join(n)).unwrap(),
            "docs/man/{n} is stale: run `cargo run -- man --out docs/man`"
        );
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".1"))
        .collect();
    v.sort();
    v
}
