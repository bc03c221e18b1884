//! `shipcheck sandbox operate`: the demo operator. It walks a rehearsal world's run with
//! `deploy`'s own walk ([`super::walk::walk`]) and stands in for the people: it ticks each
//! manual item as "demo operator" with a note, waives the database items when the world has
//! no PostgreSQL (with the world's reason), settles an interrupted Slack message by looking
//! in the world's channel (tick if it is there, else post it by hand and tick: never twice),
//! adds notes for the record, and signs when every phase is complete.
//!
//! It is resumable like `deploy`: killed at any moment, run again, it carries on from the
//! store. It never starts a second run once the world has had one.

use std::path::{Path, PathBuf};

use shipcheck_core::actions::messages::seed_text;
use shipcheck_core::engine::StepReport;
use shipcheck_core::journal::state::{RunState, RunStatus};
use shipcheck_core::model::checklist::{ActionSpec, Item, Phase};
use shipcheck_core::model::event::NoteKind;
use shipcheck_core::runs::Session;
use shipcheck_sandbox::world::Manifest;
use shipcheck_sandbox::world::postgres::PgStatus;

use super::walk::{People, open_or_start, step_options, walk};
use crate::cli::{Global, StartArgs, StepArgs};
use crate::context;
use crate::errors::CliError;

/// Who ticks in a rehearsal.
pub const OPERATOR: &str = "demo operator";
/// Who deploys in a rehearsal (the world clone's git identity).
pub const DEPLOYER: &str = shipcheck_sandbox::world::repo::DEPLOYER_NAME;

/// `KIND[@TEXT][:N]`: the operator stops dead right after it stores its Nth event of this
/// kind (whose JSON contains TEXT, when given): `rollback_started`, `watch_tick:3`,
/// `incident_decision@"rollback":1`; or `seq=N`: right after it stores event N (or the
/// first after it). Several, separated by `|`: whichever comes first. A crash at an exact point of the journal, for tests and
/// `bench/crash.sh`.
pub const CRASH_AFTER_ENV: &str = "SHIPCHECK_SANDBOX_CRASH_AFTER";

/// The exit code of a deliberate crash (as a SIGKILL'd process reports to a shell).
pub const CRASH_EXIT: i32 = 137;

fn crash_hook() -> Result<Option<shipcheck_core::runs::AppendHook>, CliError> {
    let Ok(specs) = std::env::var(CRASH_AFTER_ENV) else {
        return Ok(None);
    };
    // Several points separated by `|`: whichever comes first.
    let hooks = specs
        .split('|')
        .map(one_crash_point)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(std::sync::Arc::new(
        move |e: &shipcheck_core::model::event::StoredEvent| {
            for h in &hooks {
                h(e);
            }
        },
    )))
}

fn one_crash_point(spec: &str) -> Result<shipcheck_core::runs::AppendHook, CliError> {
    // `seq=N`: right after the first event stored at position N or later.
    if let Some(n) = spec.strip_prefix("seq=") {
        let n: i64 = n
            .parse()
            .map_err(|_| CliError::Usage(format!("{CRASH_AFTER_ENV}={spec}: expected seq=N")))?;
        return Ok(std::sync::Arc::new(
            move |e: &shipcheck_core::model::event::StoredEvent| {
                if e.seq >= n {
                    eprintln!(
                        "demo operator: crashing on purpose after event {} ({})",
                        e.seq,
                        e.event.type_name()
                    );
                    std::process::exit(CRASH_EXIT);
                }
            },
        ));
    }
    // A trailing `:N` counts; a colon inside TEXT does not.
    let (kind, n) = match spec.rsplit_once(':') {
        Some((k, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            let n = n.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                CliError::Usage(format!(
                    "{CRASH_AFTER_ENV}={spec}: expected KIND[@TEXT][:N] (N a number from 1)"
                ))
            })?;
            (k.to_string(), n)
        }
        _ => (spec.to_string(), 1),
    };
    let (kind, text) = match kind.split_once('@') {
        Some((k, t)) => (k.to_string(), Some(t.to_string())),
        None => (kind, None),
    };
    let seen = std::sync::atomic::AtomicU32::new(0);
    Ok(std::sync::Arc::new(
        move |e: &shipcheck_core::model::event::StoredEvent| {
            if e.event.type_name() == kind
                && text.as_ref().is_none_or(|t| {
                    serde_json::to_string(&e.event).is_ok_and(|j| j.contains(t.as_str()))
                })
                && seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 >= n
            {
                eprintln!(
                    "demo operator: crashing on purpose after {kind} #{n} (seq {}; {CRASH_AFTER_ENV})",
                    e.seq
                );
                std::process::exit(CRASH_EXIT);
            }
        },
    ))
}

pub async fn run(g: &Global) -> Result<u8, CliError> {
    let mut session = context::session(g).await?;
    if let Some(hook) = crash_hook()? {
        session = session.with_append_hook(hook);
    }
    let dir = session.loaded.base_dir();
    let manifest = read_manifest(&dir)?;
    let env = "production";
    let _guard = session.store.walk_guard(session.project(), env).await?;
    // One run per world: a finished one is not started again.
    if let Some(latest) = session
        .store
        .latest_run(session.project(), Some(env))
        .await?
    {
        let run = session.load(&latest.id).await?;
        match run.status {
            RunStatus::Signed => {
                // A crash right after signing may have left GitHub's last status unposted.
                shipcheck_core::actions::deployment_record::sync(&session, &run.id).await?;
                // … and CDEvents not delivered yet.
                shipcheck_core::actions::cdevents::sync(&session, &run.id).await?;
                return Ok(0);
            }
            RunStatus::Aborted => return Ok(1),
            RunStatus::Completed => return sign(&session, &run).await,
            RunStatus::Active => {}
        }
    }
    let start = StartArgs {
        env: env.into(),
        at: None,
        by: Some(DEPLOYER.into()),
        override_window: false,
        reason: None,
        trust_config: false,
    };
    let step = StepArgs {
        yes: true,
        dry_run: false,
        message: None,
        run: None,
    };
    let run = open_or_start(g, &session, &start, &step).await?;
    let opts = step_options(&step, DEPLOYER.into());
    let people = Operator {
        dir,
        manifest,
        retried: Default::default(),
    };
    let code = walk(g, &session, &run.id, &opts, Some(&people)).await?;
    let run = session.load(&run.id).await?;
    match run.status {
        RunStatus::Completed => sign(&session, &run).await,
        RunStatus::Signed => Ok(0),
        _ => Ok(code.max(1)),
    }
}

async fn sign(session: &Session, run: &RunState) -> Result<u8, CliError> {
    let run = shipcheck_core::engine::sign(session, run, OPERATOR).await?;
    say!(
        "signed run {} by {OPERATOR} ({})",
        run.id,
        run.status.as_str()
    );
    Ok(0)
}

fn read_manifest(dir: &Path) -> Result<Manifest, CliError> {
    let path = dir.join("world.json");
    let text = std::fs::read_to_string(&path).map_err(|source| CliError::Io {
        what: format!(
            "read {} (the operator works only in a rehearsal world)",
            path.display()
        ),
        source,
    })?;
    serde_json::from_str(&text)
        .map_err(|e| CliError::Usage(format!("{} is not a world manifest: {e}", path.display())))
}

struct Operator {
    dir: PathBuf,
    manifest: Manifest,
    /// Checks the operator asked to run again, and how often.
    retried: std::sync::Mutex<std::collections::BTreeMap<String, u32>>,
}

/// How often the operator runs a failed check again (what a person does: look, wait a
/// moment, `shipcheck next`) before leaving it for someone to decide.
const RETRIES: u32 = 3;

/// What the operator writes when it ticks an item.
fn note_for(item: &Item) -> String {
    let text = match item.id.as_str() {
        "prepare.manual-testing" => {
            "walked agent registration, agent search by region and a quote on staging"
        }
        "prepare.security-review" => {
            "reviewed #42 (second factor for admin sessions): TOTP checked after the password, admins only"
        }
        "prepare.backup" => "nightly snapshot at 02:00 EAT; a restore was rehearsed last week",
        "prepare.db-rollback-plan" => {
            "DROP INDEX agents_region; ALTER TABLE agents DROP COLUMN region; (the column is nullable and unused by the previous release)"
        }
        "prepare.data-migrations-reviewed" => "no data migration in this release",
        "prepare.env-reviewed" => "staging and production differ only in APP_ENV",
        "prepare.on-call" => "Wanjiku Kamau is on call until 18:00",
        "prepare.third-party" => "Sentry, Slack and the quote service are configured",
        "prepare.stakeholders" => "support and the agent network leads know the release time",
        "preflight.review-changes" => "read the four commits of production..staging",
        "preflight.channel-open" => "#deploys is open",
        "verify.critical-flows" => {
            "registered an agent and searched agents by region in production"
        }
        "verify.e2e-transaction" => "one quote requested and answered end to end",
        "watch.user-reports" => "no user reports in #support",
        "watch.standby" => "Baraka Otieno on standby",
        "watch.issues-documented" => "issues are in the record's notes",
        "close.learnings" => "learnings are in the record's notes",
        _ => "done in the rehearsal world",
    };
    format!("{text} (ticked by the demo operator of `shipcheck demo`)")
}

fn is_database_item(item: &Item) -> bool {
    matches!(
        item.id.as_str(),
        "prepare.migrations-tested" | "verify.db-connections"
    ) || item
        .manual_because
        .as_deref()
        .is_some_and(|m| m.contains("[database]") || m.contains("PostgreSQL"))
}

impl Operator {
    /// An interrupted Slack message: is it in the channel? If not, post it by hand.
    async fn settle_slack(&self, run: &RunState, item: &Item) -> Result<String, CliError> {
        let Some(ActionSpec::SlackNotify(spec)) = &item.action else {
            return Ok("checked by hand".into());
        };
        // What shipcheck would have said: after a rollback, never "stable".
        let rolled_back = run.rollbacks.iter().any(|r| r.succeeded == Some(true));
        let text = match spec.message {
            shipcheck_core::model::checklist::SlackMessage::Stable if rolled_back => {
                "Deployment rolled back: production is stable on the previous release"
            }
            m => seed_text(m),
        };
        let seen = shipcheck_sandbox::world::record::read_slack(&self.dir)
            .iter()
            .any(|m| m.text.contains(text));
        if seen {
            return Ok(format!(
                "\"{text}\" is in #deploys: it was posted before the interruption"
            ));
        }
        let url = self
            .manifest
            .env
            .get(shipcheck_sandbox::world::ENV_SLACK)
            .cloned()
            .unwrap_or_default();
        let http = shipcheck_core::clients::http::client(std::time::Duration::from_secs(10));
        let posted = http
            .post(url)
            .json(&serde_json::json!({ "text": text }))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if posted {
            Ok(format!("\"{text}\" was not in #deploys: posted it by hand"))
        } else {
            Err(CliError::Integration(format!(
                "the demo operator could not post \"{text}\" to the world's Slack"
            )))
        }
    }
}

impl People for Operator {
    async fn settle(
        &self,
        session: &Session,
        run: &RunState,
        report: &StepReport,
    ) -> Result<bool, CliError> {
        let mut run = run.clone();
        let mut changed = false;
        for need in &report.needs {
            let Some(rec) = run.record(&need.item).cloned() else {
                continue;
            };
            if rec.state.is_settled() {
                continue;
            }
            let item = &rec.item;
            let no_database = match &self.manifest.postgres {
                PgStatus::Unavailable { reason } => Some(reason.clone()),
                PgStatus::Ready { .. } => None,
            };
            let result = if let (Some(reason), true) = (&no_database, is_database_item(item)) {
                say!("  demo operator: waives {} ({reason})", item.id);
                session
                    .waive(
                        &run,
                        &item.id,
                        OPERATOR,
                        &format!("no PostgreSQL in this rehearsal: {reason}"),
                    )
                    .await
            } else if item.is_performed() && (rec.action_in_flight || rec.unsure) {
                let note = self.settle_slack(&run, item).await?;
                say!("  demo operator: {} — {note}", item.id);
                session.tick(&run, &item.id, OPERATOR, Some(note)).await
            } else if need.need == "tick" {
                say!("  demo operator: ticks {} — {}", item.id, item.title);
                if item.id == "watch.issues-documented" || item.id == "close.learnings" {
                    run = self.notes(session, &run, &item.id).await?;
                }
                session
                    .tick(&run, &item.id, OPERATOR, Some(note_for(item)))
                    .await
            } else if need.need == "fix"
                && item.is_automatic()
                && matches!(item.phase, Phase::Watch | Phase::Close)
                && run.rollbacks.iter().any(|r| r.succeeded == Some(true))
            {
                // The release was rolled back: the watch of it cannot pass, and no retry
                // changes that. A person records why and closes the run.
                let reason = format!(
                    "the release was rolled back: {}",
                    shipcheck_core::journal::watch::verdict(&run).reason
                );
                say!(
                    "  demo operator: waives {} (the release was rolled back)",
                    item.id
                );
                session.waive(&run, &item.id, OPERATOR, &reason).await
            } else if need.need == "fix" && item.is_automatic() {
                // A check that failed may pass a moment later (the workflow was still
                // deploying): look again, a bounded number of times.
                let n = {
                    let mut r = self.retried.lock().unwrap_or_else(|e| e.into_inner());
                    let n = r.entry(item.id.clone()).or_default();
                    *n += 1;
                    *n
                };
                if n > RETRIES {
                    continue;
                }
                say!(
                    "  demo operator: {} failed; looks again in a moment ({n}/{RETRIES})",
                    item.id
                );
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                changed = true;
                continue;
            } else {
                continue;
            };
            match result {
                Ok(r) => {
                    run = r;
                    changed = true;
                }
                Err(e) => say!("  demo operator: could not settle {}: {e}", item.id),
            }
        }
        Ok(changed)
    }
}

impl Operator {
    /// Issues Observed and Lessons Learned, once each.
    async fn notes(
        &self,
        session: &Session,
        run: &RunState,
        item: &str,
    ) -> Result<RunState, CliError> {
        let (kind, text) = if item == "watch.issues-documented" {
            if run.rollbacks.is_empty() {
                (
                    NoteKind::Issue,
                    "none observed during the watch".to_string(),
                )
            } else {
                (
                    NoteKind::Issue,
                    "the release answered about 30 % of requests with 5xx; the watch raised a critical incident and rolled every app back to its previous image".to_string(),
                )
            }
        } else if run.rollbacks.is_empty() {
            (
                NoteKind::Lesson,
                "the rehearsal ran the whole checklist; nothing to change".to_string(),
            )
        } else {
            (
                NoteKind::Lesson,
                "a 30 % error rate was caught by the watch within a minute of the deploy; keep auto_rollback on for critical incidents".to_string(),
            )
        };
        if run.notes.iter().any(|n| n.kind == kind && n.by == OPERATOR) {
            return Ok(run.clone());
        }
        Ok(session.note(run, kind, &text, OPERATOR).await?)
    }
}
