//! Real git repositories for tests: a bare `origin`, a working clone, and `production` and
//! `staging` branches. Every git call (here and in [`crate::clients::git`] under
//! test) is hermetic: no user or system config, a fixed identity, fixed dates.

use std::sync::Arc;

use crate::actions::ActionContext;
use crate::clients::Clients;
use crate::clients::exec::Cmd;
use crate::clients::git::Repo;
use crate::model::config::Config;

pub(crate) use shipcheck_testkit::git::git;
use shipcheck_testkit::git::{Fixture, HERMETIC_ENV, REMOVE_ENV};

/// Makes a [`Cmd`] hermetic.
pub(crate) fn hermetic(mut c: Cmd) -> Cmd {
    for k in REMOVE_ENV {
        c = c.env_remove(k);
    }
    for (k, v) in HERMETIC_ENV {
        c = c.env(k, v);
    }
    c
}

/// A bare origin and a working clone in a temporary directory: the workspace's git fixture
/// ([`Fixture`]: `root`, `origin`, `work`, `commit`, `push`, … through `Deref`) with check and
/// action contexts for the clone.
pub(crate) struct TestRepo {
    fixture: Fixture,
    /// Commits staging has that production lacks after [`TestRepo::new`].
    pub staging_commits: usize,
    _tmp: tempfile::TempDir,
}

impl std::ops::Deref for TestRepo {
    type Target = Fixture;
    fn deref(&self) -> &Fixture {
        &self.fixture
    }
}

impl TestRepo {
    /// production with README.md, CHANGELOG.md and `src/legacy.ts` (which holds a
    /// pre-existing `TODO:`); staging two commits ahead ("add rate limit" adds
    /// `src/limit.ts`, "update changelog"); the clone on staging; all pushed.
    pub fn new() -> TestRepo {
        let mut t = TestRepo::empty();
        t.commit(
            "staging",
            &[("src/limit.ts", "export const limit = 10;\n")],
            "add rate limit",
        );
        t.commit(
            "staging",
            &[("CHANGELOG.md", "# Changelog\n\n- rate limit\n")],
            "update changelog",
        );
        t.push("staging");
        t.staging_commits = 2;
        t
    }

    /// production and staging at the same commit.
    pub fn empty() -> TestRepo {
        let tmp = tempfile::tempdir().expect("tempdir");
        let fixture = Fixture::new(
            tmp.path(),
            "work",
            &[
                ("README.md", "hello\n"),
                ("CHANGELOG.md", "# Changelog\n"),
                (
                    "src/legacy.ts",
                    "export const x = 1; // TODO: pre-existing\n",
                ),
            ],
        );
        TestRepo {
            fixture,
            staging_commits: 0,
            _tmp: tmp,
        }
    }

    /// Every ref of the clone and of origin, plus the clone's HEAD and status (to show
    /// that something changed nothing).
    pub fn snapshot(&self) -> String {
        let mut s = git(
            &self.work,
            &["for-each-ref", "--format=%(refname) %(objectname)"],
        );
        s += &git(
            &self.origin,
            &["for-each-ref", "--format=%(refname) %(objectname)"],
        );
        s += &git(&self.work, &["rev-parse", "HEAD"]);
        s += &git(&self.work, &["status", "--porcelain"]);
        s
    }

    /// The clients of the clone (`[git] repo = "work"`, default `[paths]`).
    pub fn clients(&self) -> Clients {
        self.clients_with(Config::default())
    }

    /// The clients of `config` (its `[git] repo` pointed at the clone).
    pub fn clients_with(&self, mut config: Config) -> Clients {
        config.git.repo = "work".into();
        Clients::new(
            Arc::new(config),
            self.root.clone(),
            Arc::new(crate::model::clock::SystemClock),
        )
    }

    /// The repository of the clone, with a fresh change set.
    pub fn repo(&self) -> Repo {
        self.clients().repo()
    }

    /// An action context (by `dee`).
    pub fn action_ctx(&self, message: Option<&str>, dry_run: bool) -> ActionContext {
        ActionContext {
            message: message.map(str::to_string),
            dry_run,
            ..ActionContext::new(self.clients(), None, "dee")
        }
    }
}

/// A run (id `id`) on the built-in checklist, with `events` after its start.
pub(crate) fn run_state(
    id: &str,
    events: Vec<crate::model::event::Event>,
) -> crate::journal::state::RunState {
    use crate::model::event::{Event, GENESIS_HASH, StoredEvent};
    let start = Event::RunStarted {
        project: "app".into(),
        env: "production".into(),
        by: "dee".into(),
        scheduled_at: None,
        config_digest: "test".into(),
        config: None,
        items: crate::model::checklist::Checklist::builtin().items,
    };
    let stored: Vec<StoredEvent> = std::iter::once(start)
        .chain(events)
        .enumerate()
        .map(|(i, event)| StoredEvent {
            run_id: id.into(),
            seq: i as i64 + 1,
            at: jiff::Timestamp::UNIX_EPOCH,
            event,
            prev_hash: GENESIS_HASH.into(),
            hash: GENESIS_HASH.into(),
        })
        .collect();
    crate::journal::state::RunState::fold(&stored).expect("a valid run")
}

impl TestRepo {
    /// An action context inside run `id`.
    pub fn run_ctx(&self, id: &str, message: Option<&str>) -> ActionContext {
        let mut a = self.action_ctx(message, false);
        a.run = Some(Arc::new(run_state(id, Vec::new())));
        a
    }

    /// The merge commits on origin's `branch`.
    pub fn origin_merges(&self, branch: &str) -> Vec<String> {
        git(&self.origin, &["log", "--merges", "--format=%H", branch])
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// `git log -1 --format=… rev` in origin.
    pub fn origin_show(&self, format: &str, rev: &str) -> String {
        git(
            &self.origin,
            &["log", "-1", &format!("--format={format}"), rev],
        )
        .trim_end()
        .to_string()
    }
}
