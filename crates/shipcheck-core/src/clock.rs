//! Time as a dependency. The system clock for real runs; a manual clock for tests; a scaled
//! clock so rehearsals can run a 2-hour watch in seconds.

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

/// `t + d`, saturating at the largest timestamp.
pub fn add(t: Timestamp, d: Duration) -> Timestamp {
    let d = jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::MAX);
    t.checked_add(d).unwrap_or(Timestamp::MAX)
}

/// The clock for this process: `SHIPCHECK_NOW` pins the start instant (used by tests and
/// reproducible examples), otherwise the system clock.
pub fn from_env() -> Result<SharedClock, String> {
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
    fn scaled_clock_runs_fast() {
        let t0: Timestamp = "2026-11-24T10:00:00Z".parse().unwrap();
        let c = ScaledClock::new(t0, 1000.0);
        std::thread::sleep(Duration::from_millis(20));
        assert!(c.now().duration_since(t0).as_secs_f64() >= 19.0);
    }
}
