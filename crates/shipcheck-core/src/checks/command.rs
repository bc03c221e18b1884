//! Command checks (placeholder).
use super::{CheckContext, Outcome};
use crate::checklist::CommandCheck;
/// Runs it.
pub async fn run(_c: &CommandCheck, _ctx: &CheckContext) -> Outcome {
    Outcome::error("command check not built yet", serde_json::Value::Null)
}
