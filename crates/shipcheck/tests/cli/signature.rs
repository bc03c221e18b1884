//! The record's SSH signature: `sign --key` signs the journal's head with `ssh-keygen -Y sign
//! -n shipcheck`, `verify` checks it against the repository's allowed-signers file and names
//! the signer; a key not in the file, a missing signature the team requires, and a journal
//! rewritten after signing all fail `verify`. Keys are throwaway ed25519 keys made here.

use std::path::{Path, PathBuf};

use crate::proof::{rewrite_and_rechain, walk_to_completed};
use crate::support::TestEnv;

/// A new ed25519 key without a passphrase in `dir`: (private key path, public key line).
fn keypair(dir: &Path, name: &str) -> (PathBuf, String) {
    let key = dir.join(name);
    let out = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = std::fs::read_to_string(dir.join(format!("{name}.pub"))).unwrap();
    (key, public.trim().to_string())
}

#[test]
fn a_record_signed_with_an_ssh_key_verifies_and_names_the_signer() {
    let env = TestEnv::world();
    let config = env.config_path();
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        "\n[team]\nallowed_signers = \".github/allowed_signers\"\nrequire_ssh_signature = true\n",
    );
    std::fs::write(&config, text).unwrap();
    let run_id = walk_to_completed(&env);

    // Signed without a key: the person is recorded, the SSH signature is still owed.
    let sign = env.shipcheck(&["sign", "--by", "Tess Deployer"]);
    assert_eq!(sign.code, 0, "{}{}", sign.stdout, sign.stderr);
    assert!(
        sign.stdout.contains("still needs its SSH signature"),
        "{}",
        sign.stdout
    );
    let verify = env.shipcheck(&["verify"]);
    assert_eq!(verify.code, 1, "{}{}", verify.stdout, verify.stderr);
    assert!(
        verify.stdout.contains("SSH signature: missing"),
        "{}",
        verify.stdout
    );

    let keys = env.dir.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let (ana, ana_pub) = keypair(&keys, "ana");
    let (_, bob_pub) = keypair(&keys, "bob");
    let allowed = env.repo.join(".github").join("allowed_signers");
    std::fs::create_dir_all(allowed.parent().unwrap()).unwrap();
    std::fs::write(
        &allowed,
        format!("ana@example.com namespaces=\"shipcheck\" {ana_pub}\n"),
    )
    .unwrap();

    // A key that is not there: refused, nothing journaled.
    let before = env.shipcheck(&["events", "--json"]).json()["events"]
        .as_array()
        .unwrap()
        .len();
    let missing = keys.join("nope");
    let out = env.shipcheck(&["sign", "--key", missing.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("no key at"), "{}", out.stderr);
    let after = env.shipcheck(&["events", "--json"]).json()["events"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);

    // Ana signs the head.
    let out = env.shipcheck(&["sign", "--key", ana.to_str().unwrap(), "--by", "Ana"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("SSH signature by Ana (ED25519 key SHA256:"),
        "{}",
        out.stdout
    );
    let verify = env.shipcheck(&["verify", "--json"]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    let v = verify.json();
    assert_eq!(v["signatures"][0]["result"], "good", "{v}");
    assert_eq!(v["signatures"][0]["signer"], "ana@example.com", "{v}");
    let human = env.shipcheck(&["verify"]);
    assert!(
        human.stdout.contains("good signature by ana@example.com"),
        "{}",
        human.stdout
    );
    // The record carries it.
    let report = env.shipcheck(&["report", &run_id]);
    assert!(
        report.stdout.contains("-----BEGIN SSH SIGNATURE-----"),
        "{}",
        report.stdout
    );
    // Signing the same head again is refused.
    let again = env.shipcheck(&["sign", "--key", ana.to_str().unwrap()]);
    assert_eq!(again.code, 2, "{}{}", again.stdout, again.stderr);
    assert!(again.stderr.contains("already carries"), "{}", again.stderr);

    // The file no longer lists Ana's key: the signature is valid, the signer unknown.
    std::fs::write(
        &allowed,
        format!("bob@example.com namespaces=\"shipcheck\" {bob_pub}\n"),
    )
    .unwrap();
    let verify = env.shipcheck(&["verify", "--json"]);
    assert_eq!(verify.code, 1, "{}{}", verify.stdout, verify.stderr);
    assert_eq!(verify.json()["signatures"][0]["result"], "unknown_signer");
    std::fs::write(
        &allowed,
        format!("ana@example.com namespaces=\"shipcheck\" {ana_pub}\n"),
    )
    .unwrap();

    // Someone with the store rewrites an event and recomputes the chain: the signature no
    // longer covers the store's head.
    rewrite_and_rechain(&env.db_path(), &run_id, 1);
    let verify = env.shipcheck(&["verify", "--json"]);
    assert_eq!(verify.code, 1, "{}{}", verify.stdout, verify.stderr);
    let v = verify.json();
    assert_eq!(v["signatures"][0]["result"], "mismatch", "{v}");
}

/// `verify` trusts the allowed-signers file as the production branch has it, not as the
/// working tree has it: someone who can edit the checkout (or the store) cannot add their own
/// key to make their signature good. (It read the working tree's copy.)
#[test]
fn verify_trusts_the_production_branchs_allowed_signers_not_the_working_trees() {
    use crate::support::git_out;
    let env = TestEnv::world();
    let config = env.config_path();
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[team]\nallowed_signers = \".github/allowed_signers\"\n");
    std::fs::write(&config, text).unwrap();
    walk_to_completed(&env);
    assert_eq!(env.shipcheck(&["sign", "--by", "Tess Deployer"]).code, 0);

    let keys = env.dir.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let (_, ana_pub) = keypair(&keys, "ana");
    let (mallory, mallory_pub) = keypair(&keys, "mallory");
    // The team's file, reviewed and merged: Ana only.
    let line = |who: &str, key: &str| format!("{who} namespaces=\"shipcheck\" {key}\n");
    let github = env.repo.join(".github");
    std::fs::create_dir_all(&github).unwrap();
    std::fs::write(
        github.join("allowed_signers"),
        line("ana@example.com", &ana_pub),
    )
    .unwrap();
    git_out(&env, &env.repo, &["checkout", "-q", "production"]);
    git_out(
        &env,
        &env.repo,
        &["pull", "-q", "--ff-only", "origin", "production"],
    );
    git_out(&env, &env.repo, &["add", ".github/allowed_signers"]);
    git_out(&env, &env.repo, &["commit", "-q", "-m", "allowed signers"]);
    git_out(&env, &env.repo, &["push", "-q", "origin", "production"]);

    // Mallory adds herself to the working tree's copy and signs.
    std::fs::write(
        github.join("allowed_signers"),
        format!(
            "{}{}",
            line("ana@example.com", &ana_pub),
            line("mallory@example.com", &mallory_pub)
        ),
    )
    .unwrap();
    let out = env.shipcheck(&[
        "sign",
        "--key",
        mallory.to_str().unwrap(),
        "--by",
        "Mallory",
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let verify = env.shipcheck(&["verify", "--json"]);
    assert_eq!(verify.code, 1, "{}{}", verify.stdout, verify.stderr);
    let v = verify.json();
    let s = &v["signatures"][0];
    assert_eq!(s["result"], "unknown_signer", "{v}");
    let detail = s["detail"].as_str().unwrap();
    assert!(
        detail.contains("origin/production:.github/allowed_signers")
            && detail.contains("the working tree's copy differs and is not used"),
        "{detail}"
    );
}
