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
