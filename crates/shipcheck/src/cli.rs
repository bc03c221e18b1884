//! The command line: every subcommand, its flags and its help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// shipcheck runs your production deployment checklist: it checks what a machine can check,
/// performs the steps, asks a person for the rest, and keeps a signed record of the run.
///
/// Start with `shipcheck init` (writes shipcheck.toml), `shipcheck plan` (the checklist),
/// `shipcheck check` (the automatic checks, now), then `shipcheck deploy` (a run, walked).
///
/// Exit codes: 0 success · 1 a check or gate failed · 2 usage or config error ·
/// 3 an integration could not be reached or answered nonsense · 4 the deploy lock is held
/// (or another process is walking the environment).
#[derive(Debug, Parser)]
#[command(name = "shipcheck", version, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// The config file [default: shipcheck.toml in this directory or a parent].
    #[arg(long, global = true, value_name = "PATH", env = "SHIPCHECK_CONFIG")]
    pub config: Option<PathBuf>,
    /// Store runs in this PostgreSQL database (postgres://…) instead of the SQLite file
    /// `.shipcheck/shipcheck.db` next to the config.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "SHIPCHECK_DATABASE_URL",
        hide_env_values = true
    )]
    pub database: Option<String>,
    /// Print machine-readable JSON (schema `shipcheck/v1`) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// With --json: filter the document with a jq expression, as `gh --jq` does (jq's
    /// language, built in). A string result prints without quotes, others as JSON, one per
    /// line: `shipcheck status --json --jq '.items[] | select(.state == "fail") | .id'`.
    #[arg(long, global = true, value_name = "EXPR")]
    pub jq: Option<String>,
    /// CI integration [default: github when GITHUB_ACTIONS=true, else none]. `github`: also
    /// write the result to $GITHUB_STEP_SUMMARY, annotate the worst failures and set step
    /// outputs in $GITHUB_OUTPUT; never prompt.
    #[arg(long, global = true, value_enum, value_name = "CI")]
    pub ci: Option<CiMode>,
}

/// Where shipcheck reports besides the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CiMode {
    /// GitHub Actions.
    Github,
    /// Nowhere else, even under GitHub Actions.
    None,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented shipcheck.toml from this repository's Fly config files.
    ///
    /// Reads fly.toml, fly.NAME.toml, fly-NAME.toml (and .yml files holding TOML), pairs
    /// them into apps across environments, and writes each app's staging and production
    /// entry. It does not guess: an app whose files do not say it is production, two
    /// production candidates, a missing region, health URL or secrets become `# TODO:`
    /// comments. On a terminal it shows what it found and asks about those; `--json` lists
    /// every file with its conclusions and the reasons. With no Fly config it writes the seed
    /// setup (three apps in fra) as an example, marked as such.
    Init {
        /// Overwrite an existing shipcheck.toml.
        #[arg(long)]
        force: bool,
        /// Ask nothing, even on a terminal: what init cannot tell is left as TODOs.
        #[arg(long, short = 'y')]
        yes: bool,
        /// For apps without primary_region, ask flyctl where their machines run
        /// (`flyctl status --json -a APP`; needs flyctl and a Fly token). Off by default:
        /// init works offline.
        #[arg(long)]
        ask_fly: bool,
        /// Write .github/workflows/deploy.yml instead: on a push to the production branch,
        /// deploy each production app init finds with `flyctl deploy --image-label <commit>`
        /// behind the `production` environment's approval, then check their health; deploy
        /// the staging apps on a push to staging; run `shipcheck check prepare` on pull
        /// requests to production. Leaves shipcheck.toml alone (its branches are used).
        #[arg(long)]
        workflow: bool,
    },
    /// Show the checklist: phases and items, what is automatic and what needs a person.
    Plan,
    /// Run automatic checks now, without a run and without side effects.
    ///
    /// With no arguments every automatic check runs; name phases (`prepare`) or item ids
    /// (`prepare.window`) to run some. Exit 1 if any check fails or errors.
    Check {
        /// Phases or item ids.
        #[arg(value_name = "PHASE|ITEM")]
        targets: Vec<String>,
        /// Probe this environment's apps in health checks instead of the item's own.
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
    },
    /// Start a run: takes the deploy lock for the environment and prints the run id.
    Start(StartArgs),
    /// Take the next step of the open run: run the current phase's automatic checks and
    /// actions, advance when the gate passes, otherwise print exactly what is needed.
    Next {
        #[command(flatten)]
        step: StepArgs,
        /// Environment [default: production].
        #[arg(long, default_value = "production")]
        env: String,
        /// Your name for the record [default: `git config user.name`]; refused once the store has
        /// a team (the token says who you are).
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Start or resume a run and walk it: phase after phase while the gates pass. On a
    /// terminal it asks for each manual item; otherwise it stops where a person is needed.
    Deploy {
        #[command(flatten)]
        start: StartArgs,
        #[command(flatten)]
        step: StepArgs,
    },
    /// Confirm a manual item of the open run (recorded with your name and the time).
    Tick {
        /// The item id (`prepare.backup`).
        item: String,
        /// A note for the record (some items require one).
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        who: Who,
    },
    /// Do an item again now: perform a failed or interrupted action (asks first when it changes
    /// the world; `--yes` confirms), or run an automatic check again.
    Retry {
        /// The item id.
        item: String,
        /// Perform a destructive action without asking.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Show the exact commands; perform nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        who: Who,
    },
    /// Waive a required item of the open run, with a reason (recorded).
    Waive {
        /// The item id.
        item: String,
        /// Why it is waived.
        #[arg(long, required = true)]
        reason: String,
        #[command(flatten)]
        who: Who,
    },
    /// Add a note to the open run's record.
    Note {
        /// `issue` (Issues Observed), `lesson` (Lessons Learned) or `general`.
        #[arg(long, value_enum, default_value = "general")]
        kind: NoteKindArg,
        /// The text.
        text: String,
        #[command(flatten)]
        who: Who,
    },
    /// Sign the record of a completed run; this ends the run and releases the lock. With
    /// `--key`, also signs the journal's head with that SSH key (`ssh-keygen -Y sign -n
    /// shipcheck`); on a run already signed, `--key` adds the SSH signature.
    Sign {
        /// An SSH private key (or the public key of one in ssh-agent) to sign the record with.
        #[arg(long, value_name = "PATH")]
        key: Option<std::path::PathBuf>,
        #[command(flatten)]
        who: Who,
    },
    /// Abandon the open run, with a reason; releases the deploy lock.
    Abort {
        /// Why.
        #[arg(long, required = true)]
        reason: String,
        #[command(flatten)]
        who: Who,
    },
    /// Show a run: its phase, its items and what it waits for.
    Status {
        /// Run id or unique prefix [default: the open run, else the newest].
        run: Option<String>,
        /// Environment [default: production].
        #[arg(long, default_value = "production")]
        env: String,
    },
    /// Every change to a run, in order: its journal, one line per event (the same lines the
    /// terminal shows as they happen), or the stored events with `--json`.
    Events {
        /// Run id or unique prefix [default: the open run, else the newest].
        run: Option<String>,
        /// Environment [default: production].
        #[arg(long, default_value = "production")]
        env: String,
        /// Send the run's CDEvents that `[events] sink` has not accepted yet — those given up
        /// after three failures too — now, each answer journaled, then list the journal. For a
        /// run signed or aborted while the sink was down (nothing walks it again). Exit code 3
        /// when some are still not delivered.
        #[arg(long)]
        send: bool,
        /// With --send: show the POSTs it would make (sink, event ids and types); send nothing.
        #[arg(long, requires = "send")]
        dry_run: bool,
    },
    /// Re-judge a run's recorded watches with another policy: what it would have done
    /// (incidents and when, rollback or not, the rollback's verification, the verdict) next to
    /// what happened. Uses the health samples the watch kept.
    Replay {
        /// Run id or unique prefix [default: the open run, else the newest].
        run: Option<String>,
        /// A shipcheck.toml whose `[monitor]` and `[incident]` to replay with [default: the
        /// project's].
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// Environment [default: production].
        #[arg(long, default_value = "production")]
        env: String,
    },
    /// List runs, newest first.
    History {
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Print a run's record: Markdown in the seed's layout, JSON, or JUnit XML.
    Report {
        /// Run id or unique prefix [default: the open run, else the newest].
        run: Option<String>,
        /// md, json or junit.
        #[arg(long, value_enum, default_value = "md")]
        format: FormatArg,
        /// Write to this file instead of stdout.
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Environment [default: production].
        #[arg(long, default_value = "production")]
        env: String,
    },
    /// Recompute a run's hash chain; exit 1 naming the first event that does not match.
    Verify {
        /// Run id or unique prefix [default: the open run, else the newest].
        run: Option<String>,
        /// Environment [default: production].
        #[arg(long, default_value = "production")]
        env: String,
    },
    /// Break the deploy lock of an environment (recorded with who and why).
    Unlock {
        /// Why.
        #[arg(long, required = true)]
        reason: String,
        #[command(flatten)]
        who: Who,
    },
    /// Print the JSON Schema of a `--json` document; without NAME, list the documents.
    ///
    /// Every `--json` output is one document: an object whose `schema` is `shipcheck/v1` and
    /// whose `kind` names it (`run`, `step`, `check`, …). docs/json.md describes them and the
    /// version rule; the schemas are committed under docs/schemas/.
    Schema {
        /// The document, as in its `kind` field (`shipcheck schema` lists them).
        name: Option<String>,
        /// Write every document's schema to DIR/NAME.json instead.
        #[arg(long, value_name = "DIR", conflicts_with = "name")]
        all: Option<PathBuf>,
    },
    /// Show what would ship: the commits and files of production..staging on the remote
    /// (after `git fetch`), and which conditional items the change set makes required.
    Changes,
    /// Roll the run's release back, journaled on the run.
    ///
    /// `git-revert` reverts the release's merge commit on the production branch with
    /// `git revert -m 1` (the seed's `git revert HEAD` fails on a merge commit) and pushes;
    /// `platform` redeploys each app with the image recorded before the deploy. Asks for
    /// confirmation on a terminal; `--yes` confirms; `--dry-run` prints the exact commands.
    Rollback {
        /// git-revert or platform.
        #[arg(long, value_enum)]
        strategy: StrategyArg,
        /// Only these apps (platform); repeatable.
        #[arg(long = "app", value_name = "APP")]
        apps: Vec<String>,
        /// Why (recorded) [default: "rollback requested by NAME"].
        #[arg(long)]
        reason: Option<String>,
        /// Perform without asking.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Print the exact commands; change nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        who: Who,
    },
    /// Emergency stop: scale an app to zero machines (the seed's `flyctl scale count 0`).
    ///
    /// Records the machine count first, journaled on the run; asks you to type the app name
    /// (or `--yes`). `--undo` scales back to the recorded count.
    Stop {
        /// The app: its name in shipcheck.toml or its Fly app name.
        #[arg(long)]
        app: String,
        /// Scale back to the count recorded by the last stop.
        #[arg(long)]
        undo: bool,
        /// Perform without asking.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Print the exact command; change nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        who: Who,
    },
    /// Rehearse a whole deployment on loopback: a git origin, the seed's apps, stand-ins for
    /// flyctl, GitHub, Sentry, Prometheus and Slack (and PostgreSQL when one runs on
    /// 127.0.0.1:5432), and the full checklist from `prepare` to `close`, with the 2-hour
    /// watch on a fast clock. Manual items are ticked by a labelled "demo operator".
    Demo(DemoArgs),
    /// Work with shipcheck.toml.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Watch the released run: sample every signal continuously, record a tick every
    /// interval for the duration, raise incidents and apply the severity policy.
    ///
    /// Resumable: run it again after an interruption and it continues the schedule from the
    /// record (missed ticks run once). Defaults come from `[monitor]`; short values rehearse
    /// (`--interval 10s --duration 1m --sample-every 1s`). Exit 0 when the watch passed,
    /// 1 when it failed or the release was rolled back.
    Monitor(MonitorArgs),
    /// Raise an incident on the open run (the severity policy acts on it), or resolve one.
    ///
    /// critical → roll back now (without a prompt when `[incident] auto_rollback`); high →
    /// quick fix or rollback, with a decision timer that escalates to a rollback prompt;
    /// medium → fix forward; low → note for the next deploy. Every incident prints the
    /// incident message and the emergency contacts.
    Incident(IncidentArgs),
    /// Stand-ins for rehearsals and tests (not for production use).
    #[command(subcommand, hide = true)]
    Sandbox(SandboxCommand),
    /// The team's people: once one is added, every person-action is recorded with the person
    /// whose token the terminal holds, and `--by` is refused.
    #[command(subcommand)]
    Team(TeamCommand),
    /// Keep your personal token (read from stdin) in your config directory (0600), after
    /// checking it against the store; SHIPCHECK_TOKEN, when set, wins.
    Login,
    /// Remove the token `login` saved.
    Logout,
    /// Who this terminal acts as.
    Whoami,
    /// The team's page: runs, each run live (Server-Sent Events), its record, `/metrics`
    /// and `/healthz`; people log in with their token to tick, waive and add notes.
    Serve {
        /// Address to listen on; beyond loopback only with --behind-tls-proxy.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Served behind a proxy that terminates TLS (Fly, nginx, Caddy): cookies are Secure,
        /// and a non-loopback --listen is allowed.
        #[arg(long)]
        behind_tls_proxy: bool,
        /// The header the proxy sets to the client's address (Fly: `Fly-Client-IP`; nginx:
        /// `X-Forwarded-For`, whose last entry is taken), so wrong tokens are limited per
        /// client; without it every login counts as the proxy's. Needs --behind-tls-proxy.
        #[arg(long, value_name = "HEADER", requires = "behind_tls_proxy")]
        client_ip_header: Option<String>,
    },
    /// Load-test one URL: HTTP/1.1 keep-alive, a fixed number of connections or a constant
    /// arrival rate, latency percentiles, throughput and errors by kind.
    ///
    /// Only loopback (127.0.0.1, ::1, localhost) and the staging apps' hosts from
    /// shipcheck.toml are accepted. Exit 0 when every threshold holds, 1 when one does not,
    /// 2 for a refused target or bad options, 3 when nothing answered at all.
    Loadtest(LoadtestArgs),
    /// Work with logs.
    #[command(subcommand)]
    Logs(LogsCommand),
    /// Print a completion script for your shell.
    ///
    /// bash: `source <(shipcheck completions bash)` (or write it to
    /// ~/.local/share/bash-completion/completions/shipcheck); zsh: write it to a file named
    /// `_shipcheck` on your `$fpath`; fish: `shipcheck completions fish >
    /// ~/.config/fish/completions/shipcheck.fish`; PowerShell: `shipcheck completions
    /// powershell | Out-String | Invoke-Expression`.
    Completions {
        /// The shell.
        shell: Shell,
    },
    /// Print shipcheck's manual page (roff), or write one page per command into a folder.
    ///
    /// `shipcheck man | man -l -` reads it now; `shipcheck man --out docs/man` writes
    /// shipcheck.1 and shipcheck-COMMAND.1 for every command (what `docs/man/` holds).
    Man {
        /// Write the pages into this folder instead of printing the main page.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

/// A shell `shipcheck completions` writes for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}

/// Options of `demo`.
#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// `good` (the release is fine), `bad-release` (it answers 30 % 5xx: the watch
    /// raises a critical incident and rolls back) or `stale-release` (it never starts while
    /// the old release keeps answering 200: `verify` catches it and the run stops there).
    #[arg(long, default_value = "good", value_parser = ["good", "bad-release", "stale-release"])]
    pub scenario: String,
    /// How many times faster than the wall clock time runs (the 2-hour watch takes
    /// 7200 / N seconds).
    #[arg(long, default_value_t = 180.0, value_parser = parse_speed)]
    pub speed: f64,
    /// Leave the world running afterwards (until Ctrl-C) and print how to drive it with the
    /// normal commands.
    #[arg(long)]
    pub keep: bool,
    /// Build the world in this (new or empty) directory instead of a temporary one; it stays
    /// on disk afterwards.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Build the world and leave the checklist to you (implies --keep).
    #[arg(long)]
    pub no_run: bool,
    /// Do not use PostgreSQL even when one answers on 127.0.0.1:5432.
    #[arg(long)]
    pub no_postgres: bool,
    /// Also serve the team's page (`shipcheck serve`) over the rehearsal's store, live while
    /// the checklist runs (implies --keep).
    #[arg(long)]
    pub serve: bool,
    /// Where `--serve` listens (loopback).
    #[arg(long, default_value = "127.0.0.1:8080", requires = "serve")]
    pub listen: std::net::SocketAddr,
}

fn parse_speed(s: &str) -> Result<f64, String> {
    let x: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if x.is_finite() && (1.0..=shipcheck_core::model::config::clock::MAX_SPEED).contains(&x) {
        Ok(x)
    } else {
        Err(format!(
            "speed {x} is out of range: write 1 (real time) to {}",
            shipcheck_core::model::config::clock::MAX_SPEED
        ))
    }
}

#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Add a person; prints their personal token once (only its hash is stored). The first
    /// person may be added by anyone who can write the store; after that, only a lead.
    Add {
        /// Their name (unique).
        name: String,
        /// Their email (unique; the principal of their SSH key in the allowed signers).
        #[arg(long)]
        email: String,
        /// What they do.
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// The people of the team.
    List,
}

/// A person's role.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RoleArg {
    /// Runs deployments.
    Deployer,
    /// Reviews (security reviews, approvals).
    Reviewer,
    /// On call.
    OnCall,
    /// Leads the team; adds people.
    Lead,
}

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// The demo operator: walks the open run (or starts one) of a rehearsal world to its end
    /// through `deploy`'s walk, ticking what a person must tick as "demo operator", and signs.
    Operate,
    /// A flyctl stand-in answering from a state directory (`--state DIR` or
    /// SHIPCHECK_SANDBOX_FLY_STATE), with Fly's documented JSON shapes.
    Flyctl {
        /// flyctl's arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// Options of `monitor`.
#[derive(Debug, Args, Clone)]
pub struct MonitorArgs {
    /// Run id or unique prefix [default: the open run of --env].
    pub run: Option<String>,
    /// Time between ticks [default: `[monitor] interval`, 15m].
    #[arg(long, value_name = "DURATION", value_parser = span)]
    pub interval: Option<std::time::Duration>,
    /// How long the watch lasts [default: `[monitor] duration`, 2h].
    #[arg(long, value_name = "DURATION", value_parser = span)]
    pub duration: Option<std::time::Duration>,
    /// Time between samples [default: `[monitor] sample_every`, 30s].
    #[arg(long, value_name = "DURATION", value_parser = span)]
    pub sample_every: Option<std::time::Duration>,
    /// Confirm a rollback the severity policy calls for without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Your name for the record [default: `git config user.name`].
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    /// Environment [default: production].
    #[arg(long, default_value = "production")]
    pub env: String,
}

/// Options of `incident`.
#[derive(Debug, Args, Clone)]
pub struct IncidentArgs {
    /// How bad it is.
    #[arg(long, value_enum, required_unless_present = "resolve")]
    pub severity: Option<SeverityArg>,
    /// What is wrong (or, with --resolve, how it was resolved).
    #[arg(long, required = true)]
    pub summary: String,
    /// Resolve incident ID instead of raising one.
    #[arg(long, value_name = "ID", conflicts_with = "severity")]
    pub resolve: Option<u32>,
    /// Confirm the rollback the policy calls for without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten)]
    pub who: Who,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SeverityArg {
    Critical,
    High,
    Medium,
    Low,
}

/// Parses `30s`, `15m`, `2h`.
fn span(text: &str) -> Result<std::time::Duration, String> {
    shipcheck_core::model::duration::parse(text).map_err(String::from)
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StrategyArg {
    GitRevert,
    Platform,
}

/// Options of `loadtest`.
#[derive(Debug, Args, Clone)]
pub struct LoadtestArgs {
    /// The URL to load-test (GET).
    pub url: String,
    /// Connections.
    #[arg(short = 'c', long, default_value_t = 10)]
    pub concurrency: usize,
    /// Requests per second: the open model, where latency counts from each request's due
    /// time, so a stalling server shows in the percentiles [default: as fast as answers
    /// come back].
    #[arg(short = 'r', long, value_name = "PER_SECOND")]
    pub rate: Option<f64>,
    /// How long (`10s`, `1m`) [default: 10s unless --requests is given].
    #[arg(short = 'd', long, value_name = "DURATION", value_parser = parse_span)]
    pub duration: Option<std::time::Duration>,
    /// How many requests.
    #[arg(short = 'n', long, value_name = "N")]
    pub requests: Option<u64>,
    /// Timeout of one request.
    #[arg(long, value_name = "DURATION", value_parser = parse_span, default_value = "10s")]
    pub timeout: std::time::Duration,
    /// Fail (exit 1) when the 95th percentile is above this (`500ms`).
    #[arg(long, value_name = "DURATION", value_parser = parse_span)]
    pub max_p95: Option<std::time::Duration>,
    /// Fail when the 99th percentile is above this.
    #[arg(long, value_name = "DURATION", value_parser = parse_span)]
    pub max_p99: Option<std::time::Duration>,
    /// Fail when more requests than this fail or answer 4xx/5xx (`1%` or `0.01`).
    #[arg(long, value_name = "SHARE", value_parser = parse_share)]
    pub max_error_rate: Option<f64>,
    /// Fail when fewer answers per second than this.
    #[arg(long, value_name = "PER_SECOND")]
    pub min_rps: Option<f64>,
}

#[derive(Debug, Subcommand)]
pub enum LogsCommand {
    /// Scan a log file (or standard input) for error patterns: counts per pattern and per
    /// app, and the first matching lines. Streams in constant memory.
    ///
    /// Patterns are matched against each Fly entry's message (fly-log-shipper NDJSON,
    /// `flyctl logs --json`, `flyctl logs` text), never its envelope; other lines are matched
    /// whole. Without --pattern the default error patterns are used: the app's own levels
    /// error, fatal and critical, panics, uncaught exceptions, Fly proxy errors and HTTP 5xx
    /// in access lines. Exit 0 when no line matches, 1 when some do.
    Scan {
        /// The log file; `-` or nothing reads standard input.
        #[arg(value_name = "FILE|-")]
        file: Option<PathBuf>,
        /// A regular expression (Rust regex syntax), matched against each message (`^` is its
        /// start); repeat for several. Replaces the default patterns.
        #[arg(short = 'e', long = "pattern", value_name = "RE")]
        patterns: Vec<String>,
        /// How many matching lines to show.
        #[arg(long, default_value_t = 10, value_name = "N")]
        first: usize,
        /// Match the patterns against whole lines as written, envelope included (to match an
        /// envelope field such as `"level":"error"`), instead of the message.
        #[arg(long)]
        whole_line: bool,
    },
}

fn parse_span(s: &str) -> Result<std::time::Duration, String> {
    shipcheck_core::model::duration::parse(s).map_err(String::from)
}

fn parse_share(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| format!("{s:?} is not a share: write 1% or 0.01"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{s:?} is not between 0% and 100%"))
    }
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate shipcheck.toml and print a summary; exit 2 with the location of any mistake.
    Check,
    /// Print the JSON Schema (draft 7) of shipcheck.toml, generated from the config types.
    ///
    /// TOML editors (Taplo, Even Better TOML) validate and complete the file with it: `init`
    /// writes shipcheck.schema.json beside the config and points its first line at it
    /// (`#:schema ./shipcheck.schema.json`). Refresh it after an upgrade with
    /// `shipcheck config schema -o shipcheck.schema.json`. The schema checks the shape
    /// (keys, types, values); `config check` also checks time zones, times and item ids.
    Schema {
        /// Write it to this file instead of printing it.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Make an open run use the config on disk (a run keeps the config it started with, and
    /// refuses a different one until a person accepts it); journaled with the reason.
    Accept {
        /// Why the change is meant (for the record).
        #[arg(long, value_name = "TEXT")]
        reason: String,
        #[command(flatten)]
        who: Who,
    },
}

/// Who is acting.
#[derive(Debug, Args, Clone)]
pub struct Who {
    /// Your name for the record [default: `git config user.name`].
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    /// Run id or unique prefix [default: the open run of --env].
    #[arg(long, value_name = "RUN")]
    pub run: Option<String>,
    /// Environment [default: production].
    #[arg(long, default_value = "production")]
    pub env: String,
}

/// Options of `start` (and `deploy`).
#[derive(Debug, Args, Clone)]
pub struct StartArgs {
    /// Environment to deploy [default: production].
    #[arg(long, default_value = "production")]
    pub env: String,
    /// When the deploy is scheduled (RFC 3339, or `YYYY-MM-DD HH:MM` in the project time
    /// zone); the window check uses it.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Your name for the record [default: `git config user.name`].
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    /// Deploy outside the deploy window (needs --reason; recorded).
    #[arg(long, requires = "reason")]
    pub override_window: bool,
    /// Why the window is overridden.
    #[arg(long)]
    pub reason: Option<String>,
    /// Start even though the config's programs and URLs (`[fly] command`, API URLs, command
    /// checks) differ from the production branch's committed shipcheck.toml: you have read
    /// the differences shown (recorded in the run).
    #[arg(long)]
    pub trust_config: bool,
}

/// Options of `next` (and `deploy`).
#[derive(Debug, Args, Clone)]
pub struct StepArgs {
    /// Perform actions (merge, approve, …) without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Show the exact commands actions would run; perform nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// A message for actions that take one (the release description).
    #[arg(long, short = 'm')]
    pub message: Option<String>,
    /// Run id or unique prefix [default: the open run of the environment].
    #[arg(long, value_name = "RUN")]
    pub run: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum NoteKindArg {
    Issue,
    Lesson,
    General,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Md,
    Json,
    Junit,
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
