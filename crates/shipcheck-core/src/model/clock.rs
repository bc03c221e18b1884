//! Time as a dependency. The system clock for real runs; a manual clock for tests; a scaled
//! clock so rehearsals can run a 2-hour watch in seconds.

use crate::model::error::Invalid;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;

/// Where "now" comes from, and how waiting happens.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> Timestamp;
    /// Waits `d` of this clock's time.
    fn sleep(&self, d: Duration) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// A shared clock.
pub type SharedClock = Arc<dyn Clock>;

/// The wall clock. `SHIPCHECK_NOW` (RFC 3339) pins "now" for reproducible output; time
/// still passes for sleeps.
#[derive(Debug, Default, Clone)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
    fn sleep(&self, d: Duration) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// A clock fixed at an instant that only moves when told to (tests) or when slept on.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<Timestamp>>,
}

impl ManualClock {
    /// A clock at `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock {
            now: Arc::new(Mutex::new(start)),
        }
    }
    /// Moves the clock forward.
    pub fn advance(&self, d: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now = add(*now, d);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn sleep(&self, d: Duration) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        self.advance(d);
        Box::pin(tokio::task::yield_now())
    }
}

/// A clock that runs `speed` times faster than the wall clock, from `start`.
#[derive(Debug, Clone)]
pub struct ScaledClock {
    start: Timestamp,
    origin: std::time::Instant,
    speed: f64,
}

impl ScaledClock {
    /// A clock at `start` running `speed`× real time (`speed` ≥ 1).
    pub fn new(start: Timestamp, speed: f64) -> Self {
        ScaledClock {
            start,
            origin: std::time::Instant::now(),
            speed: speed.max(1.0),
        }
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> Timestamp {
        let elapsed = self.origin.elapsed().mul_f64(self.speed);
        add(self.start, elapsed)
    }
    fn sleep(&self, d: Duration) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(d.div_f64(self.speed)))
    }
}

/// A scaled clock every process agrees on: `start + (wall now − since) × speed`. Built from
/// `[clock]` ([`for_config`]); a process that resumes a run after another one died computes
/// the same time the dead one would have.
#[derive(Debug, Clone)]
pub struct AnchoredClock {
    since: Timestamp,
    start: Timestamp,
    speed: f64,
}

impl AnchoredClock {
    /// Wall instant `since` stands for `start`; time runs `speed`× (at least 1).
    pub fn new(since: Timestamp, start: Timestamp, speed: f64) -> Self {
        AnchoredClock {
            since,
            start,
            speed: if speed.is_finite() {
                speed.max(1.0)
            } else {
                1.0
            },
        }
    }
    /// The speed.
    pub fn speed(&self) -> f64 {
        self.speed
    }
    /// The scaled instant of wall instant `wall`.
    pub fn at(&self, wall: Timestamp) -> Timestamp {
        let elapsed = wall.duration_since(self.since);
        let secs = elapsed.as_secs_f64() * self.speed;
        let scaled = jiff::SignedDuration::try_from_secs_f64(secs).unwrap_or(if secs < 0.0 {
            jiff::SignedDuration::MIN
        } else {
            jiff::SignedDuration::MAX
        });
        self.start.checked_add(scaled).unwrap_or(if secs < 0.0 {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        })
    }
    /// The wall-clock duration of `d` of this clock's time.
    pub fn wall(&self, d: Duration) -> Duration {
        d.div_f64(self.speed)
    }
}

impl Clock for AnchoredClock {
    fn now(&self) -> Timestamp {
        self.at(Timestamp::now())
    }
    fn sleep(&self, d: Duration) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(self.wall(d)))
    }
}

/// The clock for a config: `SHIPCHECK_NOW` first (tests pin "now" with it), then `[clock]`
/// (a rehearsal's scaled clock), else the system clock.
pub fn for_config(cfg: &crate::model::config::ClockConfig) -> Result<SharedClock, Invalid> {
    if std::env::var("SHIPCHECK_NOW").is_ok_and(|t| !t.is_empty()) || cfg.is_wall_clock() {
        return from_env();
    }
    let Some(since) = cfg.since else {
        return Err("[clock] needs `since` when `speed` or `start` is set".into());
    };
    Ok(Arc::new(AnchoredClock::new(
        since,
        cfg.start.unwrap_or(since),
        cfg.speed,
    )))
}

/// `t + d`, saturating at the largest timestamp.
pub fn add(t: Timestamp, d: Duration) -> Timestamp {
    let d = jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::MAX);
    t.checked_add(d).unwrap_or(Timestamp::MAX)
}

/// The clock for this process: `SHIPCHECK_NOW` pins the start instant (used by tests and
/// reproducible examples), otherwise the system clock.
pub fn from_env() -> Result<SharedClock, Invalid> {
    match std::env::var("SHIPCHECK_NOW") {
        Ok(text) if !text.is_empty() => {
            let start: Timestamp = text
                .parse()
                .map_err(|e| format!("SHIPCHECK_NOW={text:?} is not an RFC 3339 instant: {e}"))?;
            Ok(Arc::new(ScaledClock::new(start, 1.0)))
        }
        _ => Ok(Arc::new(SystemClock)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_clock_moves_on_sleep() {
        let t0: Timestamp = "2026-11-24T10:00:00Z".parse().unwrap();
        let c = ManualClock::new(t0);
        c.sleep(Duration::from_secs(900)).await;
        assert_eq!(
            c.now(),
            "2026-11-24T10:15:00Z".parse::<Timestamp>().unwrap()
        );
    }

    #[test]
    fn anchored_clocks_agree_and_run_fast() {
        let since: Timestamp = "2026-11-26T07:00:00Z".parse().unwrap();
        let start: Timestamp = "2026-12-01T09:30:00Z".parse().unwrap();
        let c = AnchoredClock::new(since, start, 120.0);
        let wall: Timestamp = "2026-11-26T07:00:30Z".parse().unwrap();
        assert_eq!(
            c.at(wall),
            "2026-12-01T10:30:00Z".parse::<Timestamp>().unwrap()
        );
        // Another process with the same config computes the same time.
        let d = AnchoredClock::new(since, start, 120.0);
        assert_eq!(c.at(wall), d.at(wall));
        assert_eq!(c.wall(Duration::from_secs(120)), Duration::from_secs(1));
        assert_eq!(AnchoredClock::new(since, start, f64::NAN).speed(), 1.0);
    }

    #[test]
    fn scaled_clock_runs_fast() {
        let t0: Timestamp = "2026-11-24T10:00:00Z".parse().unwrap();
        let c = ScaledClock::new(t0, 1000.0);
        std::thread::sleep(Duration::from_millis(20));
        assert!(c.now().duration_since(t0).as_secs_f64() >= 19.0);
    }
}
