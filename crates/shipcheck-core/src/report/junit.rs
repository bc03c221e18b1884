//! JUnit XML: one testsuite per phase, one testcase per item, so CI systems can show the run.

use crate::journal::state::{ItemState, RunState};

/// Renders the run as JUnit XML.
pub fn render(run: &RunState) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let failures = run
        .items
        .iter()
        .filter(|r| matches!(r.state, ItemState::Fail))
        .count();
    let errors = run
        .items
        .iter()
        .filter(|r| matches!(r.state, ItemState::Error))
        .count();
    out.push_str(&format!(
        "<testsuites name=\"shipcheck {}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">\n",
        esc(&run.id),
        run.items.len()
    ));
    for phase in crate::model::checklist::Phase::ALL {
        let recs: Vec<_> = run.phase_items(phase).collect();
        if recs.is_empty() {
            continue;
        }
        let f = recs.iter().filter(|r| r.state == ItemState::Fail).count();
        let e = recs.iter().filter(|r| r.state == ItemState::Error).count();
        let s = recs
            .iter()
            .filter(|r| {
                matches!(
                    r.state,
                    ItemState::Pending | ItemState::NotRequired | ItemState::Waived
                )
            })
            .count();
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"{e}\" skipped=\"{s}\">\n",
            phase,
            recs.len()
        ));
        for r in recs {
            let time = r.duration_ms.map(|ms| ms as f64 / 1000.0).unwrap_or(0.0);
            out.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{time:.3}\">",
                esc(&r.item.id),
                esc(&r.item.title)
            ));
            let summary = esc(r.summary.as_deref().unwrap_or(""));
            match r.state {
                ItemState::Fail => out.push_str(&format!("<failure message=\"{summary}\"/>")),
                ItemState::Error => out.push_str(&format!("<error message=\"{summary}\"/>")),
                ItemState::Pending => out.push_str("<skipped message=\"pending\"/>"),
                ItemState::NotRequired => {
                    out.push_str(&format!("<skipped message=\"not required: {summary}\"/>"))
                }
                ItemState::Waived => out.push_str(&format!(
                    "<skipped message=\"waived by {}: {}\"/>",
                    esc(r.by.as_deref().unwrap_or("?")),
                    esc(r.reason.as_deref().unwrap_or(""))
                )),
                ItemState::Pass | ItemState::Done => {
                    if !summary.is_empty() {
                        out.push_str(&format!("<system-out>{summary}</system-out>"));
                    }
                }
            }
            out.push_str("</testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
