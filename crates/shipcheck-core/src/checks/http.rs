//! HTTP checks (placeholder).
use super::{CheckContext, Outcome};
use crate::checklist::{HealthCheck, HttpCheck};
/// One probe.
pub async fn run(_c: &HttpCheck, _ctx: &CheckContext) -> Outcome {
    Outcome::error("http check not built yet", serde_json::Value::Null)
}
/// Every app of an environment.
pub async fn run_health(_c: &HealthCheck, _ctx: &CheckContext) -> Outcome {
    Outcome::error("health check not built yet", serde_json::Value::Null)
}
