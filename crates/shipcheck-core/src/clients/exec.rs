//! The one subprocess wrapper. git, flyctl and a team's commands all run through here:
//! arguments as a list (never a shell string unless the user wrote one), a timeout on every
//! call, output captured, secrets redacted, and `--dry-run` rendering of the exact command.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

/// Quotes one word for display in a POSIX shell (the model's, re-exported for callers here).
pub use crate::model::shell::quote;

/// A command to run.
#[derive(Clone, Debug)]
pub struct Cmd {
    /// The program.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Working directory.
    pub dir: Option<PathBuf>,
    /// Extra environment.
    pub env: BTreeMap<String, String>,
    /// Environment variables removed.
    pub env_remove: Vec<String>,
    /// Kill after this long.
    pub timeout: Duration,
    /// Why it runs, for error messages ("fetch the remote").
    pub reason: String,
    /// Bytes written to stdin, if any.
    pub stdin: Option<Vec<u8>>,
}

/// What a finished command left.
#[derive(Clone, Debug)]
pub struct Output {
    /// Exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Captured stdout (lossy UTF-8).
    pub stdout: String,
    /// Captured stderr (lossy UTF-8).
    pub stderr: String,
    /// Wall time.
    pub duration: Duration,
    /// Bytes printed on stdout, including any dropped beyond [`OUTPUT_CAP`].
    pub stdout_bytes: u64,
    /// Bytes printed on stderr, including any dropped beyond [`OUTPUT_CAP`].
    pub stderr_bytes: u64,
}

impl Output {
    /// Whether stdout was longer than [`OUTPUT_CAP`] (only its last part is kept).
    pub fn stdout_cut(&self) -> bool {
        self.stdout_bytes > OUTPUT_CAP as u64
    }

    /// What was dropped, in a sentence naming the limit: "`cmd` printed 12 MiB on stdout;
    /// shipcheck keeps the last 4 MiB of each stream". `None` when nothing was dropped.
    pub fn cut(&self, command: &str) -> Option<String> {
        let over: Vec<String> = [("stdout", self.stdout_bytes), ("stderr", self.stderr_bytes)]
            .iter()
            .filter(|(_, n)| *n > OUTPUT_CAP as u64)
            .map(|(name, n)| format!("{} on {name}", mib(*n)))
            .collect();
        (!over.is_empty()).then(|| {
            format!(
                "`{command}` printed {}; shipcheck keeps the last {} MiB of each stream",
                over.join(" and "),
                OUTPUT_CAP >> 20
            )
        })
    }

    /// Exit code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
    /// The last `n` lines of stdout and stderr together.
    pub fn tail(&self, n: usize) -> String {
        let mut lines: Vec<&str> = self.stdout.lines().collect();
        lines.extend(self.stderr.lines());
        let start = lines.len().saturating_sub(n);
        lines[start..].join("\n")
    }
    /// The first `n` lines of stderr (or stdout when stderr is empty).
    pub fn head_of_stderr(&self, n: usize) -> String {
        let src = if self.stderr.trim().is_empty() {
            &self.stdout
        } else {
            &self.stderr
        };
        src.lines().take(n).collect::<Vec<_>>().join("\n")
    }
}

/// Why a command could not give an [`Output`].
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The program does not exist or cannot be run.
    #[error("cannot run `{program}` (to {reason}): {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why it was run.
        reason: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// It ran past its timeout and was killed.
    #[error("`{command}` (to {reason}) did not finish within {timeout:?} and was killed")]
    Timeout {
        /// The command line, rendered.
        command: String,
        /// Why it was run.
        reason: String,
        /// The limit.
        timeout: Duration,
    },
    /// Reading its output failed.
    #[error("reading the output of `{command}` failed: {source}")]
    Io {
        /// The command line, rendered.
        command: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl ExecError {
    /// Whether the program was not found (for install hints).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ExecError::Spawn { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

impl Cmd {
    /// `program args…`, 60 s timeout.
    pub fn new<I, S>(program: impl Into<String>, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Cmd {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            dir: None,
            env: BTreeMap::new(),
            env_remove: Vec::new(),
            timeout: Duration::from_secs(60),
            reason: "run a command".into(),
            stdin: None,
        }
    }
    /// Working directory.
    pub fn dir(mut self, dir: impl AsRef<Path>) -> Cmd {
        self.dir = Some(dir.as_ref().to_path_buf());
        self
    }
    /// Timeout.
    pub fn timeout(mut self, t: Duration) -> Cmd {
        self.timeout = t;
        self
    }
    /// Why it runs.
    pub fn reason(mut self, r: impl Into<String>) -> Cmd {
        self.reason = r.into();
        self
    }
    /// One environment variable.
    pub fn env(mut self, k: impl Into<String>, v: impl Into<String>) -> Cmd {
        self.env.insert(k.into(), v.into());
        self
    }
    /// Remove an inherited environment variable.
    pub fn env_remove(mut self, k: impl Into<String>) -> Cmd {
        self.env_remove.push(k.into());
        self
    }
    /// Feed stdin.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = Some(bytes.into());
        self
    }

    /// The command as a user would type it (arguments quoted where needed), for `--dry-run`
    /// and messages. Environment values are not shown.
    pub fn display(&self) -> String {
        let mut parts = vec![quote(&self.program)];
        parts.extend(self.args.iter().map(|a| quote(a)));
        parts.join(" ")
    }

    /// Runs the command to completion (or its timeout), capturing output. Output beyond
    /// [`OUTPUT_CAP`] per stream is dropped (the tail is kept; [`Output::cut`] says so).
    pub async fn run(&self) -> Result<Output, ExecError> {
        self.run_inner(false).await.map(|(out, _)| out)
    }

    /// Like [`Cmd::run`], but a command killed at its timeout still gives what it printed
    /// until then; the flag says it was killed (`code` is then `None`). For programs that may
    /// never exit on their own (`flyctl logs --no-tail` with an empty buffer).
    pub async fn run_keep_partial(&self) -> Result<(Output, bool), ExecError> {
        self.run_inner(true).await
    }

    /// Runs the command with this process's stdout and stderr (what it prints shows as it
    /// prints), in this process's group (so Ctrl-C reaches it too), until it exits or its
    /// timeout kills it. Returns the exit code (`None` when killed by a signal).
    pub async fn run_inherit(&self) -> Result<Option<i32>, ExecError> {
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if let Some(d) = &self.dir {
            cmd.current_dir(d);
        }
        for k in &self.env_remove {
            cmd.env_remove(k);
        }
        cmd.envs(&self.env);
        let mut child = cmd.spawn().map_err(|source| ExecError::Spawn {
            program: self.program.clone(),
            reason: self.reason.clone(),
            source,
        })?;
        match tokio::time::timeout(self.timeout, child.wait()).await {
            Ok(status) => status.map(|s| s.code()).map_err(|source| ExecError::Io {
                command: self.display(),
                source,
            }),
            Err(_) => {
                let _ = child.kill().await;
                Err(ExecError::Timeout {
                    command: self.display(),
                    reason: self.reason.clone(),
                    timeout: self.timeout,
                })
            }
        }
    }

    async fn run_inner(&self, keep_partial: bool) -> Result<(Output, bool), ExecError> {
        let start = Instant::now();
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args(&self.args)
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(d) = &self.dir {
            cmd.current_dir(d);
        }
        for k in &self.env_remove {
            cmd.env_remove(k);
        }
        cmd.envs(&self.env);
        // Own process group, so a timeout kills the whole tree (sh -c …, pnpm → node).
        #[cfg(unix)]
        cmd.process_group(0);
        let mut child = cmd.spawn().map_err(|source| ExecError::Spawn {
            program: self.program.clone(),
            reason: self.reason.clone(),
            source,
        })?;
        let pid = child.id();
        if let (Some(bytes), Some(mut stdin)) = (self.stdin.clone(), child.stdin.take()) {
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                let _ = stdin.write_all(&bytes).await;
            });
        }
        let mut out = child.stdout.take();
        let mut err = child.stderr.take();
        let read_out = async {
            match out.as_mut() {
                Some(o) => read_capped(o).await,
                None => Ok((Vec::new(), 0)),
            }
        };
        let read_err = async {
            match err.as_mut() {
                Some(e) => read_capped(e).await,
                None => Ok((Vec::new(), 0)),
            }
        };
        let work = async {
            let (o, e) = tokio::join!(read_out, read_err);
            let status = child.wait().await;
            (o, e, status)
        };
        tokio::pin!(work);
        let io = |source| ExecError::Io {
            command: self.display(),
            source,
        };
        match tokio::time::timeout(self.timeout, &mut work).await {
            Ok((o, e, status)) => {
                let status = status.map_err(io)?;
                let (o, on) = o.map_err(io)?;
                let (e, en) = e.map_err(io)?;
                Ok((
                    Output {
                        code: status.code(),
                        stdout: String::from_utf8_lossy(&o).into_owned(),
                        stderr: String::from_utf8_lossy(&e).into_owned(),
                        duration: start.elapsed(),
                        stdout_bytes: on,
                        stderr_bytes: en,
                    },
                    false,
                ))
            }
            Err(_) => {
                kill_group(pid);
                if keep_partial {
                    // The group is dead, so its pipes close: collect what it printed.
                    if let Ok((o, e, _)) =
                        tokio::time::timeout(Duration::from_secs(2), &mut work).await
                    {
                        let (o, on) = o.unwrap_or_default();
                        let (e, en) = e.unwrap_or_default();
                        return Ok((
                            Output {
                                code: None,
                                stdout: String::from_utf8_lossy(&o).into_owned(),
                                stderr: String::from_utf8_lossy(&e).into_owned(),
                                duration: start.elapsed(),
                                stdout_bytes: on,
                                stderr_bytes: en,
                            },
                            true,
                        ));
                    }
                }
                Err(ExecError::Timeout {
                    command: self.display(),
                    reason: self.reason.clone(),
                    timeout: self.timeout,
                })
            }
        }
    }
}

/// The most kept of each stream a command prints (the last part is kept: a failing command's
/// last lines say why). Reading goes on to the end, so the program is not blocked on a full
/// pipe, but memory stays bounded.
pub const OUTPUT_CAP: usize = 4 << 20;

fn mib(n: u64) -> String {
    if n >= 1 << 30 {
        format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64)
    } else {
        format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64)
    }
}

/// Reads a stream to its end, keeping its last [`OUTPUT_CAP`] bytes; also the total.
async fn read_capped<R: tokio::io::AsyncRead + Unpin>(
    r: &mut R,
) -> std::io::Result<(Vec<u8>, u64)> {
    let mut buf = Vec::new();
    let mut total = 0u64;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = r.read(&mut chunk).await?;
        if n == 0 {
            return Ok((keep_tail(buf), total));
        }
        total += n as u64;
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > 2 * OUTPUT_CAP {
            let cut = buf.len() - OUTPUT_CAP;
            buf.drain(..cut);
        }
    }
}

/// Keeps the last [`OUTPUT_CAP`] bytes.
fn keep_tail(mut buf: Vec<u8>) -> Vec<u8> {
    if buf.len() > OUTPUT_CAP {
        let cut = buf.len() - OUTPUT_CAP;
        buf.drain(..cut);
    }
    buf
}

fn kill_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid {
        // SIGKILL the process group; `kill` is POSIX and always present. The `--` matters:
        // procps-ng's kill reads `-KILL -PID` without it as signalling nothing.
        let _ = std::process::Command::new("kill")
            .args(kill_group_args(pid))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// `kill` arguments that signal the process group `pgid`. The `--` matters: procps-ng 4.0's
/// `kill -KILL -12345` reads `-12345` as an option and signals `-1` (every process the user
/// may signal) instead of the group.
fn kill_group_args(pgid: u32) -> [String; 4] {
    ["-s".into(), "KILL".into(), "--".into(), format!("-{pgid}")]
}

impl crate::model::error::HasKind for ExecError {
    /// A program that cannot run or does not finish is an integration that could not be asked.
    fn kind(&self) -> crate::model::error::ErrorKind {
        crate::model::error::ErrorKind::Integration
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn captures_exit_code_and_output() {
        let out = Cmd::new("sh", ["-c", "echo out; echo err >&2; exit 3"])
            .run()
            .await
            .unwrap();
        assert_eq!(out.code, Some(3));
        assert_eq!(out.stdout.trim(), "out");
        assert_eq!(out.stderr.trim(), "err");
        assert_eq!(out.tail(5), "out\nerr");
    }

    #[tokio::test]
    async fn kills_at_timeout_including_children() {
        let start = Instant::now();
        let err = Cmd::new("sh", ["-c", "sleep 30 & sleep 30"])
            .timeout(Duration::from_millis(300))
            .reason("test the timeout")
            .run()
            .await
            .unwrap_err();
        assert!(matches!(err, ExecError::Timeout { .. }), "{err}");
        assert!(err.to_string().contains("did not finish within"));
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[tokio::test]
    async fn keeps_partial_output_at_timeout() {
        let (out, killed) = Cmd::new("sh", ["-c", "echo first; sleep 30"])
            .timeout(Duration::from_millis(500))
            .run_keep_partial()
            .await
            .unwrap();
        assert!(killed);
        assert_eq!(out.code, None);
        assert_eq!(out.stdout.trim(), "first");
    }

    #[tokio::test]
    async fn missing_program_is_not_found() {
        let err = Cmd::new("definitely-not-a-program-xyz", Vec::<String>::new())
            .reason("probe")
            .run()
            .await
            .unwrap_err();
        assert!(err.is_not_found());
        assert!(err.to_string().contains("definitely-not-a-program-xyz"));
    }

    #[tokio::test]
    async fn output_past_the_cap_keeps_the_tail_and_says_so() {
        // 6 MiB of 'x' then a last line: the tail (with the last line) is kept, memory bounded.
        let out = Cmd::new(
            "sh",
            [
                "-c",
                "head -c 6291456 /dev/zero | tr '\\0' x; echo; echo the-last-line",
            ],
        )
        .run()
        .await
        .unwrap();
        assert!(out.stdout.len() <= OUTPUT_CAP, "{}", out.stdout.len());
        assert!(out.stdout.ends_with("the-last-line\n"));
        assert!(out.stdout_cut());
        assert_eq!(
            out.cut("big").as_deref(),
            Some("`big` printed 6.0 MiB on stdout; shipcheck keeps the last 4 MiB of each stream")
        );
        let small = Cmd::new("echo", ["hi"]).run().await.unwrap();
        assert_eq!(small.cut("echo hi"), None);
    }

    #[test]
    fn kill_group_ends_options_before_the_negative_pid() {
        assert_eq!(kill_group_args(19123), ["-s", "KILL", "--", "-19123"]);
    }

    #[test]
    fn display_quotes() {
        let c = Cmd::new(
            "git",
            ["merge", "staging", "--no-ff", "-m", "Release: it's big"],
        );
        assert_eq!(
            c.display(),
            r"git merge staging --no-ff -m 'Release: it'\''s big'"
        );
    }
}
