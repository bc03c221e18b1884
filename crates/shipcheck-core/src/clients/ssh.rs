//! `ssh-keygen` as a program: SSH signatures over a message (`ssh-keygen -Y sign`, the
//! mechanism of git's SSH commit signing) and their verification against an allowed-signers
//! file in git's format (`ssh-keygen -Y verify`). Through the one subprocess wrapper.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::clients::exec::{Cmd, ExecError, Output};

/// The namespace every shipcheck signature is made in (`-n`): a signature made for git
/// commits or files cannot be passed off as a shipcheck record's, and the reverse.
pub const NAMESPACE: &str = "shipcheck";

/// How long one `ssh-keygen` call may take (an agent may ask for a touch of a hardware key).
const TIMEOUT: Duration = Duration::from_secs(60);

/// Why `ssh-keygen` could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    /// The program could not run.
    #[error("{source}{hint}")]
    Exec {
        /// What the wrapper said.
        #[source]
        source: ExecError,
        /// How to install it, when it was not found.
        hint: String,
    },
    /// It ran and refused.
    #[error("`{command}` failed: {detail}")]
    Failed {
        /// The command line.
        command: String,
        /// What it printed.
        detail: String,
    },
    /// A temporary file for the signature could not be written.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// What `ssh-keygen -Y verify` said of a signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Good, by this principal (as the allowed-signers file names it), with this key.
    Good {
        /// The principal (`ana@example.com`).
        principal: String,
        /// The key, as ssh-keygen prints it (`ED25519 key SHA256:…`).
        key: String,
    },
    /// The signature is valid over the message, but its key is not in the allowed signers
    /// (for the `shipcheck` namespace).
    UnknownSigner {
        /// The key, as ssh-keygen prints it.
        key: String,
    },
    /// The signature does not verify over the message (edited, or made over another head).
    Bad {
        /// What ssh-keygen said.
        detail: String,
    },
}

/// `ssh-keygen`, from the config's `[team] ssh_keygen` (default `ssh-keygen` on the `PATH`).
#[derive(Clone, Debug)]
pub struct SshKeygen {
    program: String,
}

impl SshKeygen {
    /// The program to run.
    pub fn new(program: impl Into<String>) -> SshKeygen {
        SshKeygen {
            program: program.into(),
        }
    }

    fn cmd(&self, args: &[&str], reason: &str) -> Cmd {
        Cmd::new(self.program.clone(), args.iter().copied())
            .timeout(TIMEOUT)
            .reason(reason)
            // Never a prompt nobody can answer: an encrypted key is used through ssh-agent.
            .env("SSH_ASKPASS_REQUIRE", "never")
    }

    async fn output(&self, cmd: Cmd) -> Result<Output, SshError> {
        cmd.run().await.map_err(|source| SshError::Exec {
            hint: if source.is_not_found() {
                " (install OpenSSH's ssh-keygen, e.g. `apt-get install openssh-client`, or set [team] ssh_keygen to its path)".into()
            } else {
                String::new()
            },
            source,
        })
    }

    /// Signs `message` with the key at `key` (a private key, or a public key whose private
    /// half is in ssh-agent). Returns the armored signature (`-----BEGIN SSH SIGNATURE-----`).
    pub async fn sign(&self, key: &Path, message: &str) -> Result<String, SshError> {
        let key_s = key.to_string_lossy().into_owned();
        let cmd = self
            .cmd(
                &["-Y", "sign", "-f", &key_s, "-n", NAMESPACE],
                "sign the run's journal head with an SSH key",
            )
            .stdin(message.as_bytes().to_vec());
        let shown = cmd.display();
        let out = self.output(cmd).await?;
        let sig = out.stdout.trim();
        if !out.success() || !sig.starts_with("-----BEGIN SSH SIGNATURE-----") {
            return Err(SshError::Failed {
                command: shown,
                detail: first_lines(&out),
            });
        }
        Ok(format!("{sig}\n"))
    }

    /// The key that made `signature` over `message` (`ED25519 key SHA256:…`), `None` when the
    /// signature does not check out.
    pub async fn key_of_signature(
        &self,
        signature: &str,
        message: &str,
    ) -> Result<Option<String>, SshError> {
        let dir = TempDir::new()?;
        let sig_path = dir.write("record.sig", signature)?;
        let sig_s = sig_path.to_string_lossy().into_owned();
        let check = self
            .output(
                self.cmd(
                    &["-Y", "check-novalidate", "-n", NAMESPACE, "-s", &sig_s],
                    "read the key of an SSH signature",
                )
                .stdin(message.as_bytes().to_vec()),
            )
            .await?;
        Ok(if check.success() {
            key_of(&check.stdout)
        } else {
            None
        })
    }

    /// Checks `signature` over `message` against the allowed-signers file: who signed, or
    /// why not.
    pub async fn verify(
        &self,
        allowed_signers: &Path,
        signature: &str,
        message: &str,
    ) -> Result<Verdict, SshError> {
        let dir = TempDir::new()?;
        let sig_path = dir.write("record.sig", signature)?;
        let sig_s = sig_path.to_string_lossy().into_owned();
        let allowed_s = allowed_signers.to_string_lossy().into_owned();
        // Is the signature good at all, and with which key?
        let check = self
            .output(
                self.cmd(
                    &["-Y", "check-novalidate", "-n", NAMESPACE, "-s", &sig_s],
                    "check the record's SSH signature",
                )
                .stdin(message.as_bytes().to_vec()),
            )
            .await?;
        if !check.success() {
            return Ok(Verdict::Bad {
                detail: first_lines(&check),
            });
        }
        let key = key_of(&check.stdout).unwrap_or_else(|| "an unnamed key".into());
        // Who the allowed-signers file says holds that key.
        let found = self
            .output(self.cmd(
                &["-Y", "find-principals", "-s", &sig_s, "-f", &allowed_s],
                "find the signer in the allowed-signers file",
            ))
            .await?;
        let principals: Vec<String> = found
            .stdout
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        if !found.success() || principals.is_empty() {
            return Ok(Verdict::UnknownSigner { key });
        }
        for principal in principals {
            let out = self
                .output(
                    self.cmd(
                        &[
                            "-Y", "verify", "-f", &allowed_s, "-I", &principal, "-n", NAMESPACE,
                            "-s", &sig_s,
                        ],
                        "verify the record's SSH signature",
                    )
                    .stdin(message.as_bytes().to_vec()),
                )
                .await?;
            if out.success() {
                return Ok(Verdict::Good { principal, key });
            }
        }
        // The key is listed, but not for this namespace (or not valid now).
        Ok(Verdict::UnknownSigner { key })
    }
}

/// `ED25519 key SHA256:…` from `Good "shipcheck" signature … with ED25519 key SHA256:…`.
fn key_of(stdout: &str) -> Option<String> {
    let line = stdout.lines().find(|l| l.contains(" key "))?;
    let at = line.find(" with ")?;
    Some(line[at + 6..].trim().to_string())
}

fn first_lines(out: &Output) -> String {
    let text = out.head_of_stderr(3);
    if text.trim().is_empty() {
        format!("exit {:?} without a message", out.code)
    } else {
        text
    }
}

/// A private temporary directory, removed when dropped.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new() -> Result<TempDir, SshError> {
        let path = std::env::temp_dir().join(format!("shipcheck-ssh-{}", uuid::Uuid::now_v7()));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(&path).map_err(|source| SshError::Io {
            what: format!("creating {}", path.display()),
            source,
        })?;
        Ok(TempDir { path })
    }
}

impl TempDir {
    fn write(&self, name: &str, text: &str) -> Result<PathBuf, SshError> {
        let path = self.path.join(name);
        std::fs::write(&path, text).map_err(|source| SshError::Io {
            what: format!("writing {}", path.display()),
            source,
        })?;
        Ok(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A throwaway ed25519 key in `dir` (no passphrase), and its public line.
    async fn keypair(dir: &Path, name: &str) -> (PathBuf, String) {
        let key = dir.join(name);
        let out = Cmd::new(
            "ssh-keygen",
            [
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                name,
                "-f",
                &key.to_string_lossy(),
            ],
        )
        .run()
        .await
        .unwrap();
        assert!(out.success(), "{}", out.stderr);
        let public = std::fs::read_to_string(dir.join(format!("{name}.pub"))).unwrap();
        (key, public.trim().to_string())
    }

    #[tokio::test]
    async fn signs_and_verifies_names_the_signer_and_catches_an_edit() {
        let dir = tempfile::tempdir().unwrap();
        let (ana_key, ana_pub) = keypair(dir.path(), "ana").await;
        let (eve_key, _) = keypair(dir.path(), "eve").await;
        let allowed = dir.path().join("allowed_signers");
        std::fs::write(
            &allowed,
            format!("ana@example.com namespaces=\"shipcheck\" {ana_pub}\n"),
        )
        .unwrap();
        let ssh = SshKeygen::new("ssh-keygen");
        let msg = "shipcheck run r1 event 7 head abc\n";
        let sig = ssh.sign(&ana_key, msg).await.unwrap();
        assert!(sig.starts_with("-----BEGIN SSH SIGNATURE-----"));
        match ssh.verify(&allowed, &sig, msg).await.unwrap() {
            Verdict::Good { principal, key } => {
                assert_eq!(principal, "ana@example.com");
                assert!(key.contains("SHA256:"), "{key}");
            }
            other => panic!("{other:?}"),
        }
        // Another message: the signature is bad.
        let edited = "shipcheck run r1 event 7 head abd\n";
        assert!(matches!(
            ssh.verify(&allowed, &sig, edited).await.unwrap(),
            Verdict::Bad { .. }
        ));
        // A valid signature by a key not in the file.
        let eve_sig = ssh.sign(&eve_key, msg).await.unwrap();
        assert!(matches!(
            ssh.verify(&allowed, &eve_sig, msg).await.unwrap(),
            Verdict::UnknownSigner { .. }
        ));
        // A key allowed only for git's namespace is not allowed for shipcheck's.
        std::fs::write(
            &allowed,
            format!("ana@example.com namespaces=\"git\" {ana_pub}\n"),
        )
        .unwrap();
        assert!(matches!(
            ssh.verify(&allowed, &sig, msg).await.unwrap(),
            Verdict::UnknownSigner { .. }
        ));
    }

    #[tokio::test]
    async fn a_missing_key_or_program_is_an_error_that_says_so() {
        let ssh = SshKeygen::new("ssh-keygen");
        let err = ssh
            .sign(Path::new("/nonexistent/id_ed25519"), "m")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("ssh-keygen -Y sign"), "{err}");
        let err = SshKeygen::new("/nonexistent/ssh-keygen")
            .sign(Path::new("k"), "m")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("install OpenSSH"), "{err}");
    }
}
