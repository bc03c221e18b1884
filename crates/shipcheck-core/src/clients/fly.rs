//! The flyctl client. flyctl is run as a program (the user's own login and version)
//! through [`crate::clients::exec::Cmd`], with a timeout on every call; `--json` output is parsed
//! into [`types`]. Facts and warnings are from `reference/external-apis.md` §1:
//!
//! - every `--json` output is pretty-printed (4-space indent), not NDJSON; `logs --json` is a
//!   stream of indented objects, read with a streaming deserializer;
//! - key casing is mixed within one document (see [`types`]);
//! - `flyctl info` is deprecated: regions come from `status --json` / `machines list --json`;
//! - there is no rollback command: a rollback is `deploy --image <older ImageRef>`;
//! - `logs --no-tail` may never return on an empty buffer: it is cut at the timeout and what
//!   it printed is kept, flagged partial;
//! - `scale count` needs `--yes` when not interactive, and scaling down destroys machines.
//!
//! The token is flyctl's business: `FLY_ACCESS_TOKEN`/`FLY_API_TOKEN` pass through the
//! environment untouched, and their values are redacted from anything quoted back.

pub mod machine;
pub mod types;

use crate::model::error::Invalid;
use std::path::PathBuf;
use std::time::Duration;

pub use machine::*;
use serde::de::DeserializeOwned;
pub use types::*;

use crate::clients::exec::{Cmd, ExecError, Output};
use crate::model::config::{FLY_TOKEN_VARS, FlyConfig};
use crate::model::redact::redact;

/// How to get flyctl, shown when it cannot be run.
pub const INSTALL_HINT: &str =
    "install flyctl: https://fly.io/docs/flyctl/install/ or set [fly] command";

/// Why a flyctl call gave no answer. Every variant is an integration failure (exit 3).
#[derive(Debug, thiserror::Error)]
pub enum FlyError {
    /// The program does not exist.
    #[error("flyctl not found: cannot run `{program}`; {INSTALL_HINT}")]
    NotFound {
        /// The program that was tried.
        program: String,
    },
    /// `[fly] command` is an empty list.
    #[error("[fly] command is empty; write command = [\"flyctl\"]")]
    NoCommand,
    /// flyctl could not be started or read for another reason.
    #[error("cannot run `{command}`: {message}")]
    Exec {
        /// The command line.
        command: String,
        /// The OS error.
        message: String,
    },
    /// It ran past its timeout and was killed.
    #[error("`{command}` did not finish within {} and was killed", crate::model::duration::format(*.timeout))]
    Timeout {
        /// The command line.
        command: String,
        /// The limit.
        timeout: Duration,
    },
    /// It exited non-zero.
    #[error("`{command}` failed ({}): {stderr}", code.map(|c| format!("exit {c}")).unwrap_or_else(|| "killed".into()))]
    Failed {
        /// The command line.
        command: String,
        /// Exit code.
        code: Option<i32>,
        /// The first lines of stderr (redacted).
        stderr: String,
    },
    /// It printed something that is not the documented JSON.
    #[error("`{command}` printed output shipcheck cannot read: {problem}")]
    Parse {
        /// The command line.
        command: String,
        /// The parse error and a snippet of the output (redacted).
        problem: String,
    },
}

impl FlyError {
    /// flyctl is not installed (the CLI prints [`INSTALL_HINT`]).
    pub fn is_not_found(&self) -> bool {
        matches!(self, FlyError::NotFound { .. } | FlyError::NoCommand)
    }
}

impl crate::model::error::HasKind for FlyError {
    /// flyctl is an integration: it could not run, or said something shipcheck cannot use.
    fn kind(&self) -> crate::model::error::ErrorKind {
        crate::model::error::ErrorKind::Integration
    }
}

/// What `flyctl logs --no-tail --json` gave.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Logs {
    /// Entries in the order printed.
    pub entries: Vec<LogEntry>,
    /// flyctl was killed at the timeout (it does not exit on an empty buffer): `entries` is
    /// what it printed until then.
    pub partial: bool,
}

/// A stream that stopped parsing.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamError {
    /// The stream ended inside an object (truncated), rather than holding garbage.
    pub eof: bool,
    /// The parse error with a snippet.
    pub message: String,
}

/// A flyctl client for one config.
#[derive(Clone, Debug)]
pub struct Fly {
    command: Vec<String>,
    timeout: Duration,
    deploy_timeout: Duration,
    secrets: Vec<String>,
}

impl Fly {
    /// A client for `[fly]`; `secrets` are redacted from anything quoted back (the Fly token
    /// values are added).
    pub fn new(cfg: &FlyConfig, secrets: &[String]) -> Fly {
        let mut secrets = secrets.to_vec();
        for var in FLY_TOKEN_VARS {
            if let Ok(v) = std::env::var(var)
                && v.len() >= 4
                && !secrets.contains(&v)
            {
                secrets.push(v);
            }
        }
        Fly {
            command: cfg.command.clone(),
            timeout: cfg.timeout.get(),
            deploy_timeout: cfg.deploy_timeout.get(),
            secrets,
        }
    }

    /// The command that runs `flyctl ARGS…` (nothing is run).
    pub fn cmd(&self, args: &[String]) -> Cmd {
        let (program, prefix) = match self.command.split_first() {
            Some((p, rest)) => (p.clone(), rest.to_vec()),
            None => (String::new(), Vec::new()),
        };
        let mut all = prefix;
        all.extend(args.iter().cloned());
        Cmd::new(program, all).timeout(self.timeout)
    }

    /// `flyctl ARGS…` as a user would type it.
    pub fn display(&self, args: &[String]) -> String {
        self.cmd(args).display()
    }

    /// The arguments of the image rollback: `deploy --image REF -a APP --yes --strategy
    /// immediate`. `--yes` answers flyctl's prompts (a non-interactive run fails without it);
    /// `immediate` is what Fly's rollback guide recommends for the fastest cutover.
    pub fn deploy_args(app: &str, image: &str) -> Vec<String> {
        [
            "deploy",
            "--image",
            image,
            "-a",
            app,
            "--yes",
            "--strategy",
            "immediate",
        ]
        .map(String::from)
        .to_vec()
    }

    /// The arguments of `scale count`: one group → `scale count N`, several →
    /// `scale count app=N worker=M`; `--yes` always (flyctl refuses without it when not
    /// interactive); `--region R` when given.
    pub fn scale_args(app: &str, groups: &[(String, u32)], region: Option<&str>) -> Vec<String> {
        let mut args = vec!["scale".to_string(), "count".to_string()];
        match groups {
            [(g, n)] if g == "app" => args.push(n.to_string()),
            _ => args.extend(groups.iter().map(|(g, n)| format!("{g}={n}"))),
        }
        args.extend(["-a".to_string(), app.to_string(), "--yes".to_string()]);
        if let Some(r) = region {
            args.extend(["--region".to_string(), r.to_string()]);
        }
        args
    }

    /// Runs flyctl; non-zero exit → [`FlyError::Failed`].
    async fn call(
        &self,
        args: &[String],
        reason: &str,
        timeout: Duration,
    ) -> Result<Output, FlyError> {
        let cmd = self.checked_cmd(args)?.timeout(timeout).reason(reason);
        let out = cmd.run().await.map_err(|e| self.exec_error(&cmd, e))?;
        if !out.success() {
            return Err(FlyError::Failed {
                command: cmd.display(),
                code: out.code,
                stderr: self.quote(&out.head_of_stderr(5)),
            });
        }
        Ok(out)
    }

    fn checked_cmd(&self, args: &[String]) -> Result<Cmd, FlyError> {
        if self.command.first().is_none_or(|p| p.trim().is_empty()) {
            return Err(FlyError::NoCommand);
        }
        Ok(self.cmd(args))
    }

    fn exec_error(&self, cmd: &Cmd, e: ExecError) -> FlyError {
        if e.is_not_found() {
            return FlyError::NotFound {
                program: cmd.program.clone(),
            };
        }
        match e {
            ExecError::Timeout { timeout, .. } => FlyError::Timeout {
                command: cmd.display(),
                timeout,
            },
            other => FlyError::Exec {
                command: cmd.display(),
                message: self.quote(&other.to_string()),
            },
        }
    }

    fn quote(&self, text: &str) -> String {
        redact(text, &self.secrets)
    }

    async fn json<T: DeserializeOwned + Default>(
        &self,
        args: &[String],
        reason: &str,
    ) -> Result<T, FlyError> {
        let out = self.call(args, reason, self.timeout).await?;
        if out.stdout_cut() {
            return Err(FlyError::Parse {
                command: self.display(args),
                problem: out.cut(&self.display(args)).unwrap_or_default(),
            });
        }
        parse_json::<Option<T>>(&args_label(args), &out.stdout)
            .map(Option::unwrap_or_default)
            .map_err(|problem| FlyError::Parse {
                command: self.display(args),
                problem: self.quote(&problem.0),
            })
    }

    /// `flyctl status --json -a APP`.
    pub async fn status(&self, app: &str) -> Result<AppStatus, FlyError> {
        self.json(
            &args(["status", "--json", "-a", app]),
            "read the app's status",
        )
        .await
    }

    /// `flyctl releases -a APP --json --image`, newest first (the 25 most recent).
    pub async fn releases(&self, app: &str) -> Result<Vec<Release>, FlyError> {
        let mut r: Vec<Release> = self
            .json(
                &args(["releases", "-a", app, "--json", "--image"]),
                "list the app's releases",
            )
            .await?;
        r.sort_by_key(|r| std::cmp::Reverse(r.version));
        Ok(r)
    }

    /// `flyctl secrets list -a APP --json` (names and digests; never values).
    pub async fn secrets_list(&self, app: &str) -> Result<Vec<Secret>, FlyError> {
        self.json(
            &args(["secrets", "list", "-a", app, "--json"]),
            "list the app's secret names",
        )
        .await
    }

    /// `flyctl machines list -a APP --json` (includes stopped machines).
    pub async fn machines_list(&self, app: &str) -> Result<Vec<Machine>, FlyError> {
        self.json(
            &args(["machines", "list", "-a", app, "--json"]),
            "list the app's machines",
        )
        .await
    }

    /// `flyctl config show -a APP` (the app's remote config, JSON by default).
    pub async fn config_show(&self, app: &str) -> Result<AppConfig, FlyError> {
        let a = args(["config", "show", "-a", app]);
        let raw: serde_json::Value = self.json(&a, "read the app's config").await?;
        AppConfig::from_json(raw).map_err(|problem| FlyError::Parse {
            command: self.display(&a),
            problem: problem.to_string(),
        })
    }

    /// `flyctl logs -a APP --no-tail --json`, bounded by the timeout: flyctl does not exit
    /// while the log buffer is empty, so a call cut at the timeout returns what it printed,
    /// flagged [`Logs::partial`]. A finished call that printed garbage or a truncated object
    /// is a [`FlyError::Parse`].
    pub async fn logs(&self, app: &str) -> Result<Logs, FlyError> {
        let a = args(["logs", "-a", app, "--no-tail", "--json"]);
        let cmd = self
            .checked_cmd(&a)?
            .timeout(self.timeout)
            .reason("read the app's recent logs");
        let (out, killed) = cmd
            .run_keep_partial()
            .await
            .map_err(|e| self.exec_error(&cmd, e))?;
        if !killed && !out.success() {
            return Err(FlyError::Failed {
                command: cmd.display(),
                code: out.code,
                stderr: self.quote(&out.head_of_stderr(5)),
            });
        }
        if out.stdout_cut() {
            return Err(FlyError::Parse {
                command: cmd.display(),
                problem: out.cut(&cmd.display()).unwrap_or_default(),
            });
        }
        let (entries, err) = parse_log_stream(&out.stdout);
        match err {
            Some(e) if !(killed && e.eof) => Err(FlyError::Parse {
                command: cmd.display(),
                problem: self.quote(&e.message),
            }),
            _ => Ok(Logs {
                entries,
                partial: killed,
            }),
        }
    }

    /// `flyctl deploy --image REF -a APP --yes --strategy immediate`, run in an empty
    /// directory so no local `fly.toml` (perhaps another app's) is picked up: flyctl then
    /// uses the app's current remote config. Bounded by `[fly] deploy_timeout`.
    pub async fn deploy_image(&self, app: &str, image: &str) -> Result<Output, FlyError> {
        self.call_neutral(&Fly::deploy_args(app, image), "deploy the image")
            .await
    }

    /// `flyctl scale count … -a APP --yes`. Scaling down **destroys** machines.
    pub async fn scale_count(
        &self,
        app: &str,
        groups: &[(String, u32)],
        region: Option<&str>,
    ) -> Result<Output, FlyError> {
        self.call_neutral(&Fly::scale_args(app, groups, region), "scale the app")
            .await
    }

    async fn call_neutral(&self, a: &[String], reason: &str) -> Result<Output, FlyError> {
        let dir = neutral_dir();
        let cmd = self
            .checked_cmd(a)?
            .timeout(self.deploy_timeout)
            .reason(reason);
        let cmd = match &dir {
            Some(d) => cmd.dir(d),
            None => cmd,
        };
        let out = cmd.run().await.map_err(|e| self.exec_error(&cmd, e))?;
        if !out.success() {
            return Err(FlyError::Failed {
                command: cmd.display(),
                code: out.code,
                stderr: self.quote(&out.head_of_stderr(8)),
            });
        }
        Ok(out)
    }
}

fn args<const N: usize>(a: [&str; N]) -> Vec<String> {
    a.map(String::from).to_vec()
}

fn args_label(a: &[String]) -> String {
    a.iter()
        .take_while(|s| !s.starts_with('-'))
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}

/// An empty directory of our own, so flyctl finds no `fly.toml` there.
fn neutral_dir() -> Option<PathBuf> {
    let d = std::env::temp_dir().join(format!("shipcheck-flyctl-{}", std::process::id()));
    std::fs::create_dir_all(&d).ok()?;
    (!d.join("fly.toml").exists()).then_some(d)
}

/// Parses one JSON document; the error names `what`, the parse error and a snippet.
pub fn parse_json<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, Invalid> {
    if text.trim().is_empty() {
        return Err(format!("{what}: printed nothing where JSON was expected").into());
    }
    serde_json::from_str(text)
        .map_err(|e| format!("{what}: {e}; output began: {}", snippet(text)))
        .map_err(Invalid)
}

/// Parses a stream of concatenated (indented) JSON log entries. Entries read before a
/// problem are kept; the problem says whether the text ended mid-object (`eof`).
pub fn parse_log_stream(text: &str) -> (Vec<LogEntry>, Option<StreamError>) {
    let mut entries = Vec::new();
    for item in serde_json::Deserializer::from_str(text).into_iter::<LogEntry>() {
        match item {
            Ok(e) => entries.push(e),
            Err(e) => {
                let at = text.lines().nth(e.line().saturating_sub(1)).unwrap_or("");
                return (
                    entries,
                    Some(StreamError {
                        eof: e.is_eof(),
                        message: format!("logs: {e}; at: {}", snippet(at)),
                    }),
                );
            }
        }
    }
    (entries, None)
}

/// The first lines of `text`, at most 200 characters.
pub fn snippet(text: &str) -> String {
    let head: String = text.lines().take(4).collect::<Vec<_>>().join(" ⏎ ");
    let mut s: String = head.chars().take(200).collect();
    if head.chars().count() > 200 {
        s.push('…');
    }
    format!("{s:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_command(c: &[&str]) -> FlyConfig {
        FlyConfig {
            command: c.iter().map(|s| s.to_string()).collect(),
            ..FlyConfig::default()
        }
    }

    #[test]
    fn command_lines() {
        assert_eq!(
            Fly::deploy_args("a", "registry.fly.io/a:deployment-1").join(" "),
            "deploy --image registry.fly.io/a:deployment-1 -a a --yes --strategy immediate"
        );
        assert_eq!(
            Fly::scale_args("a", &[("app".into(), 0)], None).join(" "),
            "scale count 0 -a a --yes"
        );
        assert_eq!(
            Fly::scale_args("a", &[("app".into(), 2), ("worker".into(), 1)], Some("fra")).join(" "),
            "scale count app=2 worker=1 -a a --yes --region fra"
        );
        let cfg = with_command(&["/bin/standin", "--state", "/tmp/s"]);
        let fly = Fly::new(&cfg, &[]);
        assert_eq!(
            fly.display(&args(["status", "--json", "-a", "x"])),
            "/bin/standin --state /tmp/s status --json -a x"
        );
    }

    #[tokio::test]
    async fn missing_program_is_not_found_with_hint() {
        let mut cfg = with_command(&["definitely-not-flyctl-xyz"]);
        let err = Fly::new(&cfg, &[]).status("a").await.unwrap_err();
        assert!(err.is_not_found(), "{err}");
        assert!(err.to_string().contains(INSTALL_HINT));
        cfg.command = vec![];
        assert!(matches!(
            Fly::new(&cfg, &[]).status("a").await.unwrap_err(),
            FlyError::NoCommand
        ));
    }

    #[tokio::test]
    async fn failure_quotes_stderr_redacted() {
        let cfg = with_command(&[
            "sh",
            "-c",
            "echo 'Error: token s3cr3tvalue rejected' >&2; exit 1",
            "sh",
        ]);
        let err = Fly::new(&cfg, &["s3cr3tvalue".into()])
            .status("a")
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("Error: token [REDACTED] rejected"), "{text}");
        assert!(text.contains("exit 1"), "{text}");
    }
}
