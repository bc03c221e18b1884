//! A production app on loopback whose answers are a function of the (simulated) time, the
//! request count and anything the test closes over: healthy, then 500s, slow, flapping.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use shipcheck_testkit::http::{Reply as HttpReply, Server};

use crate::model::clock::SharedClock;

/// What the app sees of a request.
pub struct Req {
    /// 0, 1, 2, … across all paths.
    pub n: usize,
    /// The simulated time.
    pub now: Timestamp,
    /// The path.
    pub path: String,
}

/// How it answers.
pub struct Reply {
    pub status: u16,
    pub delay: Duration,
    /// The commit it says it runs (`x-release`), if any.
    pub version: Option<String>,
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::status(200)
    }
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            delay: Duration::ZERO,
            version: None,
        }
    }
    pub fn slow(ms: u64) -> Reply {
        Reply {
            delay: Duration::from_millis(ms),
            ..Reply::ok()
        }
    }
    /// Says it runs `commit`.
    pub fn version(mut self, commit: &str) -> Reply {
        self.version = Some(commit.to_string());
        self
    }
}

pub type Behaviour = Arc<dyn Fn(&Req) -> Reply + Send + Sync>;

/// The app: the workspace's loopback test server answering as `behaviour` says.
pub struct App {
    server: Server,
}

impl App {
    pub async fn start(clock: SharedClock, behaviour: Behaviour) -> App {
        // Each answer is worked out on the blocking pool: a behaviour may run git, and one
        // slow answer must not hold up the others (which would read as latency).
        let server = Server::start_async(move |req| {
            let (behaviour, clock) = (behaviour.clone(), clock.clone());
            async move {
                let now = clock.now();
                let reply = tokio::task::spawn_blocking(move || {
                    behaviour(&Req {
                        n: req.n,
                        now,
                        path: req.path,
                    })
                })
                .await
                .unwrap();
                let body = if reply.status == 200 { "ok" } else { "down" };
                let answer = HttpReply::new(reply.status, body).delay(reply.delay);
                match reply.version {
                    Some(v) => answer.header("x-release", &v),
                    None => answer,
                }
            }
        });
        App { server }
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    pub fn hits(&self) -> usize {
        self.server.requests()
    }
}
