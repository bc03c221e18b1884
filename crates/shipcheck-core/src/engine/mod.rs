//! TEMPORARY interface stub; replaced by the checks branch.
#![allow(missing_docs, unused_variables)]
use std::time::Duration;

use crate::checklist::Item;
use crate::checks::{CheckContext, Outcome};

pub enum EngineEvent<'a> {
    Started {
        item: &'a Item,
    },
    Progress {
        item: &'a Item,
        elapsed: Duration,
    },
    Finished {
        item: &'a Item,
        outcome: &'a Outcome,
    },
}
pub trait Observer: Send + Sync {
    fn on_event(&self, event: EngineEvent<'_>);
}
pub struct NoObserver;
impl Observer for NoObserver {
    fn on_event(&self, _event: EngineEvent<'_>) {}
}
pub async fn run_checks(
    items: &[Item],
    ctx: &CheckContext,
    observer: &dyn Observer,
) -> Vec<(String, Outcome)> {
    let mut out = Vec::new();
    for item in items {
        if let (true, Some(spec)) = (item.is_automatic(), &item.check) {
            observer.on_event(EngineEvent::Started { item });
            let o = crate::checks::run(spec, ctx).await;
            observer.on_event(EngineEvent::Finished { item, outcome: &o });
            out.push((item.id.clone(), o));
        }
    }
    out
}
