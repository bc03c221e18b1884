use std::sync::Mutex;

use crate::engine::runner::*;
use crate::model::checklist::{
    Checklist, CommandCheck, HttpCheck, ItemKind, Phase, RerunCheck, StatusSpec, WindowCheck,
};
use crate::model::clock::ManualClock;
use crate::model::config::Config;
use crate::model::duration::Span;
use crate::model::outcome::Status;
use crate::runs::stream::NoObserver;

fn ctx(concurrency: usize) -> Deps {
    let mut config = Config::default();
    config.engine.concurrency = concurrency;
    let clients = crate::clients::Clients::new(
        Arc::new(config),
        std::env::temp_dir(),
        Arc::new(ManualClock::new("2026-11-24T10:00:00Z".parse().unwrap())),
    );
    Deps::new(clients, Arc::new(Checklist::default()))
}

fn item(id: &str, check: Option<CheckSpec>) -> Item {
    Item {
        id: id.into(),
        phase: Phase::Prepare,
        section: None,
        title: id.into(),
        kind: ItemKind::Check,
        required: true,
        when: None,
        check,
        action: None,
        timeout: None,
        manual_because: None,
        note_required: false,
        other_than_deployer: false,
        help: None,
    }
}

fn command(argv: &[&str]) -> CheckSpec {
    CheckSpec::Command(CommandCheck {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        shell: None,
        dir: None,
        timeout: Some(Span::secs(60)),
        env: Default::default(),
    })
}

fn sleeper(id: &str, secs: &str) -> Item {
    item(id, Some(command(&["sleep", secs])))
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Started,
    Progress(Duration),
    Finished(Status),
}

/// Records every event with the instant it arrived, and how many checks ran at once.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<(String, Kind, std::time::Instant)>>,
    running: Mutex<(usize, usize)>,
}

impl Observer for Recorder {
    fn on_event(&self, event: EngineEvent<'_>) {
        let (id, kind) = match event {
            EngineEvent::Started { item } => {
                let mut r = self.running.lock().unwrap();
                r.0 += 1;
                r.1 = r.1.max(r.0);
                (item.id.clone(), Kind::Started)
            }
            EngineEvent::Progress { item, elapsed } => (item.id.clone(), Kind::Progress(elapsed)),
            EngineEvent::Finished { item, outcome } => {
                self.running.lock().unwrap().0 -= 1;
                (item.id.clone(), Kind::Finished(outcome.status))
            }
        };
        self.events
            .lock()
            .unwrap()
            .push((id, kind, std::time::Instant::now()));
    }
}

impl Recorder {
    fn max_running(&self) -> usize {
        self.running.lock().unwrap().1
    }
    fn when(&self, id: &str, kind: &Kind) -> std::time::Instant {
        let events = self.events.lock().unwrap();
        events
            .iter()
            .find(|(i, k, _)| i == id && k == kind)
            .map(|(_, _, t)| *t)
            .unwrap_or_else(|| panic!("no {kind:?} for {id}"))
    }
    fn kinds(&self, id: &str) -> Vec<Kind> {
        let events = self.events.lock().unwrap();
        events
            .iter()
            .filter(|(i, _, _)| i == id)
            .map(|(_, k, _)| k.clone())
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_checks_run_at_the_same_time() {
    let items: Vec<Item> = (0..10)
        .map(|n| sleeper(&format!("prepare.s{n}"), "0.3"))
        .collect();
    let rec = Recorder::default();
    let results = run_checks(&items, &ctx(16), &rec).await;
    assert_eq!(results.len(), 10);
    for (n, (id, o)) in results.iter().enumerate() {
        assert_eq!(id, &format!("prepare.s{n}"));
        assert_eq!(o.status, Status::Pass, "{id}: {}", o.summary);
    }
    // Overlap: every check started before any of them finished.
    let last_start = (0..10)
        .map(|n| rec.when(&format!("prepare.s{n}"), &Kind::Started))
        .max()
        .unwrap();
    let first_end = (0..10)
        .map(|n| rec.when(&format!("prepare.s{n}"), &Kind::Finished(Status::Pass)))
        .min()
        .unwrap();
    assert!(last_start < first_end, "the checks ran one after another");
    assert_eq!(rec.max_running(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_2_never_runs_more_than_2() {
    let items: Vec<Item> = (0..6)
        .map(|n| sleeper(&format!("prepare.s{n}"), "0.1"))
        .collect();
    let rec = Recorder::default();
    let results = run_checks(&items, &ctx(2), &rec).await;
    assert_eq!(results.len(), 6);
    assert!(results.iter().all(|(_, o)| o.status == Status::Pass));
    assert_eq!(rec.max_running(), 2);
}

#[tokio::test]
async fn check_past_its_timeout_is_an_error() {
    let mut slow = sleeper("prepare.slow", "30");
    slow.timeout = Some(Span::millis(300));
    let items = vec![slow, sleeper("prepare.quick", "0")];
    let results = run_checks(&items, &ctx(16), &NoObserver).await;
    assert_eq!(results[0].0, "prepare.slow");
    let o = &results[0].1;
    assert_eq!(o.status, Status::Error);
    assert_eq!(o.summary, "timed out after 300ms");
    assert_eq!(o.evidence["timeout"], "300ms");
    assert!(o.duration_ms >= 300);
    assert_eq!(results[1].1.status, Status::Pass);
}

#[tokio::test]
async fn skips_items_that_are_not_automatic() {
    let mut manual = item("prepare.backup", None);
    manual.kind = ItemKind::Manual;
    let mut fallback = item("prepare.secrets", Some(command(&["true"])));
    fallback.manual_because = Some("automatic check arrives with the Fly integration".into());
    let no_spec = item("prepare.nothing", None);
    let items = vec![
        manual,
        sleeper("prepare.a", "0"),
        fallback,
        no_spec,
        sleeper("prepare.b", "0"),
    ];
    let rec = Recorder::default();
    let results = run_checks(&items, &ctx(16), &rec).await;
    let ids: Vec<&str> = results.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["prepare.a", "prepare.b"]);
    assert!(rec.kinds("prepare.backup").is_empty());
    assert!(rec.kinds("prepare.secrets").is_empty());
}

#[tokio::test]
async fn nothing_to_run_returns_nothing() {
    assert!(run_checks(&[], &ctx(16), &NoObserver).await.is_empty());
}

/// A stand-in runner: `sleep:MS` sleeps, `panic` panics, anything else passes with its id.
fn fake() -> Runner {
    Arc::new(|item: Item, _ctx: Deps| {
        Box::pin(async move {
            let name = item.id.rsplit('.').next().unwrap_or("").to_string();
            if let Some(ms) = name.strip_prefix("sleep") {
                tokio::time::sleep(Duration::from_millis(ms.parse().unwrap())).await;
            }
            if name == "panic" {
                panic!("index out of bounds in a check");
            }
            if name == "secret" {
                return Outcome::fail(
                    "token tok-0123456789 rejected",
                    json!({"header": "Bearer tok-0123456789"}),
                );
            }
            Outcome::pass(format!("{name} ok"), serde_json::Value::Null)
        })
    })
}

fn fake_item(id: &str) -> Item {
    item(id, Some(CheckSpec::Window(WindowCheck {})))
}

#[tokio::test]
async fn a_panicking_check_becomes_an_error() {
    let items = vec![fake_item("prepare.panic"), fake_item("prepare.fine")];
    let rec = Recorder::default();
    let results = run_with(&items, &ctx(16), &rec, HEARTBEAT, fake()).await;
    let o = &results[0].1;
    assert_eq!(o.status, Status::Error);
    assert!(
        o.summary
            .contains("panicked: index out of bounds in a check"),
        "{}",
        o.summary
    );
    assert_eq!(results[1].1.status, Status::Pass);
    assert_eq!(
        rec.kinds("prepare.panic"),
        [Kind::Started, Kind::Finished(Status::Error)]
    );
}

#[tokio::test]
async fn results_keep_the_items_order() {
    let items = vec![
        fake_item("prepare.sleep200"),
        fake_item("prepare.sleep0"),
        fake_item("prepare.sleep100"),
    ];
    let results = run_with(&items, &ctx(16), &NoObserver, HEARTBEAT, fake()).await;
    let ids: Vec<&str> = results.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        ["prepare.sleep200", "prepare.sleep0", "prepare.sleep100"]
    );
}

#[tokio::test]
async fn heartbeat_reports_progress_while_running() {
    let items = vec![fake_item("prepare.sleep300"), fake_item("prepare.sleep0")];
    let rec = Recorder::default();
    run_with(&items, &ctx(16), &rec, Duration::from_millis(50), fake()).await;
    let kinds = rec.kinds("prepare.sleep300");
    assert_eq!(kinds.first(), Some(&Kind::Started));
    assert_eq!(kinds.last(), Some(&Kind::Finished(Status::Pass)));
    let progress: Vec<Duration> = kinds
        .iter()
        .filter_map(|k| match k {
            Kind::Progress(d) => Some(*d),
            _ => None,
        })
        .collect();
    assert!(!progress.is_empty(), "{kinds:?}");
    assert!(progress.windows(2).all(|w| w[0] < w[1]), "{progress:?}");
    assert_eq!(
        rec.kinds("prepare.sleep0"),
        [Kind::Started, Kind::Finished(Status::Pass)]
    );
}

#[tokio::test]
async fn outcomes_are_redacted() {
    let mut ctx = ctx(16);
    ctx.clients.secrets = Arc::new(vec!["tok-0123456789".into()]);
    let results = run_with(
        &[fake_item("prepare.secret")],
        &ctx,
        &NoObserver,
        HEARTBEAT,
        fake(),
    )
    .await;
    let o = &results[0].1;
    assert_eq!(o.summary, "token [REDACTED] rejected");
    assert_eq!(o.evidence["header"], "Bearer [REDACTED]");
}

#[test]
fn limits() {
    let mut ctx = ctx(16);
    let five_min = Duration::from_secs(300);
    // A window check: the engine's default.
    assert_eq!(check_limit(&fake_item("prepare.w"), &ctx), five_min);
    // A command with a 15 m timeout: its own limit plus grace, so its own timeout fires first.
    let mut tests = item("prepare.tests", Some(command(&["pnpm", "test"])));
    if let Some(CheckSpec::Command(c)) = &mut tests.check {
        c.timeout = Some(Span::secs(900));
    }
    assert_eq!(check_limit(&tests, &ctx), Duration::from_secs(905));
    // The item's own timeout always wins.
    tests.timeout = Some(Span::secs(60));
    assert_eq!(check_limit(&tests, &ctx), Duration::from_secs(60));
    // An HTTP probe by default: 3 × 10 s + 0.5 s + 1 s, under the default.
    let http = CheckSpec::Http(HttpCheck {
        url: "http://127.0.0.1:1/".into(),
        method: "GET".into(),
        expect_status: StatusSpec::One(200),
        timeout: None,
        retries: None,
        backoff: None,
        body_contains: None,
        json_pointer: None,
        json_equals: None,
        headers: Default::default(),
    });
    assert_eq!(
        own_limit(&http, &ctx, 0),
        Some(Duration::from_millis(31_500))
    );
    assert_eq!(check_limit(&item("verify.h", Some(http)), &ctx), five_min);
    // Absurd retry counts saturate instead of overflowing.
    let huge = http_limit(Duration::from_secs(1), u32::MAX, Duration::from_secs(1));
    assert!(huge >= Duration::from_secs(u64::from(u32::MAX)));
    // A rerun: the longest of the items it reruns.
    let mut list = Checklist::default();
    let mut long = item("prepare.tests", Some(command(&["pnpm", "test"])));
    if let Some(CheckSpec::Command(c)) = &mut long.check {
        c.timeout = Some(Span::secs(600));
    }
    list.items.push(long);
    ctx.checklist = Arc::new(list);
    let rerun = item(
        "preflight.staging-final",
        Some(CheckSpec::Rerun(RerunCheck {
            items: vec!["prepare.tests".into()],
        })),
    );
    assert_eq!(check_limit(&rerun, &ctx), Duration::from_secs(605));
}
