//! A session on a real SQLite store with a manual clock, production apps on loopback, and
//! (optionally) a real git repository the release was merged into.

use std::sync::{Arc, Mutex};

use jiff::Timestamp;

use crate::journal::state::RunState;
use crate::model::checklist::{Item, Phase};
use crate::model::clock::ManualClock;
use crate::model::event::Event;
use crate::runs::stream::Confirm;
use crate::runs::stream::WatchEvent;
use crate::runs::stream::{EngineEvent, Observer};
use crate::runs::{Session, StartOptions};
use crate::store::{Store, StoreTarget};
use crate::testkit::repo::TestRepo;
use crate::watch::tests::app::{App, Behaviour};

/// Wednesday, inside the default window.
pub const T0: &str = "2026-11-25T11:00:00Z";

pub struct World {
    pub session: Session,
    pub clock: ManualClock,
    pub app: App,
    pub repo: Option<TestRepo>,
    _tmp: Option<tempfile::TempDir>,
}

/// Records what the watch reports.
#[derive(Default)]
pub struct Seen(pub Mutex<Vec<WatchEvent>>);

impl Observer for Seen {
    fn on_event(&self, _event: EngineEvent<'_>) {}
    fn on_watch(&self, event: &WatchEvent) {
        self.0.lock().unwrap().push(event.clone());
    }
}

impl Seen {
    pub fn waits(&self) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| matches!(e, WatchEvent::Waiting { .. }))
            .count()
    }
}

/// Answers rollback prompts, and remembers being asked.
pub struct Prompt {
    pub answer: bool,
    pub asked: Mutex<Vec<(String, Timestamp)>>,
    pub clock: ManualClock,
}

impl Confirm for Prompt {
    fn confirm(&self, item: &Item, _plan: &[String]) -> bool {
        use crate::model::clock::Clock;
        self.asked
            .lock()
            .unwrap()
            .push((item.title.clone(), self.clock.now()));
        self.answer
    }
}

/// The test worlds sample every 30 s unless the test says otherwise (`sample_every` in its
/// `[monitor]`): the simulated 2-hour watches stay cheap (the default 5 s is six times the
/// rounds), and the tests written about the 30-second pace keep it. The tests of the default
/// pace set `sample_every = "5s"`.
fn paced(extra: &str) -> String {
    const PACE: &str = "sample_every = \"30s\"\n";
    if extra.contains("sample_every") {
        extra.to_string()
    } else if extra.contains("[monitor]\n") {
        extra.replacen("[monitor]\n", &format!("[monitor]\n{PACE}"), 1)
    } else {
        format!("{extra}\n[monitor]\n{PACE}")
    }
}

impl World {
    /// Two production apps (`/a` and `/b` of one server) and `extra` config.
    pub async fn new(extra: &str, behaviour: Behaviour) -> World {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let mut w = World::build(&root, extra, "", behaviour, false).await;
        w._tmp = Some(tmp);
        w
    }

    /// As [`World::new`], in a real repository with the release merged (git-revert works).
    pub async fn with_repo(extra: &str, behaviour: impl FnOnce(&TestRepo) -> Behaviour) -> World {
        let repo = TestRepo::new();
        let b = behaviour(&repo);
        let root = repo.root.clone();
        let mut w = World::build(&root, extra, "", b, true).await;
        w.repo = Some(repo);
        w
    }

    /// As [`World::with_repo`], each app with `app_extra` (keys of its
    /// `[[environments.production.apps]]`).
    pub async fn with_repo_apps(
        extra: &str,
        app_extra: &str,
        behaviour: impl FnOnce(&TestRepo) -> Behaviour,
    ) -> World {
        let repo = TestRepo::new();
        let b = behaviour(&repo);
        let root = repo.root.clone();
        let mut w = World::build(&root, extra, app_extra, b, true).await;
        w.repo = Some(repo);
        w
    }

    async fn build(
        root: &std::path::Path,
        extra: &str,
        app_extra: &str,
        behaviour: Behaviour,
        repo: bool,
    ) -> World {
        let clock = ManualClock::new(T0.parse().unwrap());
        let app = App::start(Arc::new(clock.clone()), behaviour).await;
        let git = if repo { "[git]\nrepo = \"work\"\n" } else { "" };
        let extra = &paced(extra);
        let text = format!(
            r#"[project]
name = "shop"
timezone = "Europe/Berlin"
{git}
[contacts]
team_lead = "Ana Lima <ana@example.com>"
devops = "Ben <ben@example.com>"
on_call = "Cy"

[[environments.production.apps]]
name = "api"
health_url = "{a}"
{app_extra}

[[environments.production.apps]]
name = "web"
health_url = "{b}"
{app_extra}

[checklist.override."prepare.tests"]
check = {{ type = "command", argv = ["true"] }}

{extra}
"#,
            a = app.url("/a"),
            b = app.url("/b"),
        );
        let path = root.join("shipcheck.toml");
        std::fs::write(&path, &text).unwrap();
        let loaded =
            crate::model::config::load_str(&path, &text).unwrap_or_else(|e| panic!("{e:?}"));
        let store = Store::open(&StoreTarget::Sqlite(root.join(".shipcheck/shipcheck.db")))
            .await
            .unwrap();
        World {
            session: Session::new(store, Arc::new(loaded), Arc::new(clock.clone())),
            clock,
            app,
            repo: None,
            _tmp: None,
        }
    }

    pub fn prompt(&self, answer: bool) -> Prompt {
        Prompt {
            answer,
            asked: Mutex::new(Vec::new()),
            clock: self.clock.clone(),
        }
    }

    /// A run whose baseline is measured and whose phases up to `rollout` are complete; with
    /// a repository, the release is merged (and recorded) first.
    pub async fn live_run(&self) -> RunState {
        let s = &self.session;
        let run = s
            .start(&StartOptions {
                env: "production".into(),
                by: "dee".into(),
                at: None,
                override_window: None,
                trust_config: false,
            })
            .await
            .unwrap();
        let run = crate::engine::phases::record_baseline(s, &run, &Seen::default())
            .await
            .unwrap();
        if self.repo.is_some() {
            let actx = crate::actions::ActionContext::new(s.clients(), Some(&run), "dee");
            let repo = actx.clients.repo();
            let merge = crate::actions::merge_of(&actx, &repo);
            let done = crate::actions::merge::perform(&merge).await.unwrap();
            s.append(
                &run.id,
                Event::ActionDone {
                    item: "release.merge".into(),
                    summary: done.summary,
                    evidence: done.evidence,
                    facts: Vec::new(),
                },
            )
            .await
            .unwrap();
        }
        for phase in [
            Phase::Prepare,
            Phase::Preflight,
            Phase::Release,
            Phase::Approve,
            Phase::Rollout,
        ] {
            s.append(&run.id, Event::PhaseCompleted { phase })
                .await
                .unwrap();
        }
        s.load(&run.id).await.unwrap()
    }

    pub async fn run(&self, id: &str) -> RunState {
        self.session.load(id).await.unwrap()
    }
}

/// The minutes since T0 of `t`.
pub fn minutes(t: Timestamp) -> f64 {
    t.duration_since(T0.parse().unwrap()).as_secs_f64() / 60.0
}
