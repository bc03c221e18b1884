//! Window check (placeholder).
use super::{CheckContext, Outcome};
/// Evaluates it.
pub fn run(_ctx: &CheckContext) -> Outcome {
    Outcome::error("window check not built yet", serde_json::Value::Null)
}
