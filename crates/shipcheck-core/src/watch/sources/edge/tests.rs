//! The edge's counters: read from a Prometheus answer shaped like Fly's
//! (`fixtures/api/prometheus/query-vector-fly-edge-responses-derived.json`), differenced into
//! requests and 5xx between two reads.

use std::collections::BTreeMap;

use super::*;
use crate::clients::prometheus::read_query;

fn fixture() -> Vec<Sample> {
    let body = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/api/prometheus/query-vector-fly-edge-responses-derived.json"
    ))
    .unwrap();
    read_query(&body).unwrap()
}

fn sample(host: &str, status: &str, value: f64) -> Sample {
    let labels: BTreeMap<String, String> = [
        ("__name__", "fly_edge_http_responses_count"),
        ("app", "my-app"),
        ("host", host),
        ("region", "fra"),
        ("status", status),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Sample { labels, value }
}

#[test]
fn reads_every_series_of_the_fixture_and_marks_the_5xx() {
    let c = counters(&fixture()).unwrap();
    assert_eq!(c.len(), 4);
    let failed: f64 = c.values().filter(|(f, _)| *f).map(|(_, v)| v).sum();
    let total: f64 = c.values().map(|(_, v)| v).sum();
    assert_eq!(failed, 37.0);
    assert_eq!(total, 18423.0 + 37.0 + 6110.0 + 12.0);
    // The name is not part of a series' identity; the host and region are.
    assert!(
        c.keys()
            .all(|k| !k.contains("__name__") && k.contains("host="))
    );
}

#[test]
fn counts_what_happened_between_two_reads_resets_and_new_series_included() {
    let before = counters(&fixture()).unwrap();
    let mut later = fixture();
    for s in &mut later {
        s.value += match s.labels["status"].as_str() {
            "200" => 30.0,
            "500" => 4.0,
            _ => 0.0,
        };
    }
    // A 503 never seen before (the release began failing after the last read).
    later.push(sample("a1f2", "503", 6.0));
    let after = counters(&later).unwrap();
    assert_eq!(increase(&before, &after), (30 + 30 + 4 + 6, 4 + 6));
    // An edge restarted: its counter went down, and counts from zero.
    let mut reset = later.clone();
    for s in &mut reset {
        if s.labels["host"] == "c09e" {
            s.value = 5.0;
        }
    }
    let reset = counters(&reset).unwrap();
    assert_eq!(increase(&after, &reset), (5 + 5, 0));
    // Nothing new: nothing counted.
    assert_eq!(increase(&after, &after), (0, 0));
}

#[test]
fn an_answer_without_a_status_or_with_a_nonsense_value_is_an_error() {
    let mut s = sample("a1f2", "500", 3.0);
    s.labels.remove("status");
    let e = counters(&[s]).unwrap_err();
    assert!(e.contains("no `status` label"), "{e}");
    let e = counters(&[sample("a1f2", "500", f64::NAN)]).unwrap_err();
    assert!(e.contains("finite"), "{e}");
    let e = counters(&[sample("a1f2", "500", -1.0)]).unwrap_err();
    assert!(e.contains("finite"), "{e}");
    // A status class reads as a server error.
    let c = counters(&[sample("a1f2", "5xx", 3.0), sample("a1f2", "2xx", 7.0)]).unwrap();
    assert_eq!(increase(&Counters::new(), &c), (10, 3));
}
