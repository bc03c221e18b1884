//! Conditions (`when`): whether a conditional item is required for this run.
//!
//! Evaluating a condition needs the change set (which files and lines the release changes).
//! Until the Git integration computes it, a condition cannot be evaluated and the item stays
//! required: a step that might matter is never skipped on a guess.

use crate::checklist::Condition;
use crate::checks::CheckContext;

/// `Some((required, reason))` when the condition can be evaluated; `None` keeps the item
/// required.
pub async fn evaluate(_cond: &Condition, _ctx: &CheckContext) -> Option<(bool, String)> {
    None
}
