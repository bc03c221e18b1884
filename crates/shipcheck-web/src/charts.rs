//! The watch as pictures: one inline SVG per signal, drawn on the server from the run's
//! journal — each tick's value (its p95, else its last) against the fail limit and the
//! baseline, the raw health samples (`watch_samples`) behind them, the incidents, the
//! rollback and its verification marked on the same time axis — with the verdict and the
//! numbers beside it. No script, no style attribute (the Content-Security-Policy allows
//! neither inline): presentation attributes and classes from `app.css`; the SVG scales to the
//! page's width, so it reads on a phone.

use std::fmt::Write as _;

use jiff::Timestamp;
use shipcheck_core::journal::state::RunState;
use shipcheck_core::journal::watch::verdict;
use shipcheck_core::model::event::{Event, StoredEvent};
use shipcheck_core::model::watch::{Grade, Metric, ProbeSample, Purpose, SeriesKey};

use crate::html::esc;

/// The drawing's size in SVG units (it scales with the page).
const W: f64 = 640.0;
const H: f64 = 220.0;
/// Plot area margins: left (the axis labels), right, top, bottom.
const ML: f64 = 52.0;
const MR: f64 = 12.0;
const MT: f64 = 34.0;
const MB: f64 = 30.0;
/// The most raw sample dots drawn per chart (evenly thinned beyond it).
const MAX_DOTS: usize = 1500;

/// The raw samples of every watch in the journal: (leg, sample).
pub(crate) fn samples(events: &[StoredEvent]) -> Vec<(u32, ProbeSample)> {
    let mut out = Vec::new();
    for e in events {
        if let Event::WatchSamples { leg, samples } = &e.event {
            out.extend(samples.iter().cloned().map(|s| (*leg, s)));
        }
    }
    out
}

fn unit(m: Metric) -> &'static str {
    match m {
        Metric::Health => "",
        Metric::Latency | Metric::P95 => " ms",
        Metric::ErrorRate => " /min",
        Metric::HttpErrors
        | Metric::EdgeErrors
        | Metric::Cpu
        | Metric::Memory
        | Metric::DbConnections => "%",
    }
}

fn title(key: &SeriesKey) -> String {
    let what = match key.metric {
        Metric::Health => "health (share of probes answered)",
        Metric::HttpErrors => "failed health probes",
        Metric::Latency => "health probe latency",
        Metric::P95 => "p95 latency at the edge",
        Metric::EdgeErrors => "failed requests at the edge",
        Metric::ErrorRate => "application errors",
        Metric::Cpu => "CPU",
        Metric::Memory => "memory",
        Metric::DbConnections => "database connections",
    };
    match &key.app {
        Some(app) => format!("{what} · {app}"),
        None => what.to_string(),
    }
}

fn num(v: f64, m: Metric) -> String {
    let s = if m == Metric::Health {
        format!("{v:.2}")
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    };
    format!("{s}{}", unit(m))
}

/// A raw sample's value for a series, when the sample speaks to it.
fn sample_value(key: &SeriesKey, s: &ProbeSample) -> Option<f64> {
    if key.app.as_deref() != Some(s.app.as_str()) || s.sent == 0 {
        return None;
    }
    match key.metric {
        Metric::Health => Some((s.sent - s.failed.min(s.sent)) as f64 / s.sent as f64),
        Metric::HttpErrors => Some(s.failed as f64 * 100.0 / s.sent as f64),
        Metric::Latency if !s.ms.is_empty() => {
            Some(s.ms.iter().map(|&m| m as f64).sum::<f64>() / s.ms.len() as f64)
        }
        _ => None,
    }
}

/// One point of a series: when, the tick's value, the tick's grade, its number.
struct Point {
    at: Timestamp,
    value: Option<f64>,
    grade: Grade,
    tick: u32,
    leg: u32,
}

struct Series {
    key: SeriesKey,
    points: Vec<Point>,
    limit: Option<f64>,
    baseline: Option<f64>,
}

fn series(run: &RunState) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for leg in &run.monitor.legs {
        for t in &leg.ticks {
            for s in &t.series {
                let i = match out.iter().position(|x| x.key == s.key) {
                    Some(i) => i,
                    None => {
                        out.push(Series {
                            key: s.key.clone(),
                            points: Vec::new(),
                            limit: None,
                            baseline: None,
                        });
                        out.len() - 1
                    }
                };
                let x = &mut out[i];
                x.limit = s.limit.filter(|v| v.is_finite()).or(x.limit);
                x.baseline = s.baseline.filter(|v| v.is_finite()).or(x.baseline);
                x.points.push(Point {
                    at: t.due_at,
                    value: s.p95.or(s.last).filter(|v| v.is_finite()),
                    grade: s.grade,
                    tick: t.n,
                    leg: t.leg,
                });
            }
        }
    }
    // Health (the share answered) says what failed probes (%) says, on another scale: drawn
    // only for an app without the latter.
    let errors: Vec<Option<String>> = out
        .iter()
        .filter(|x| x.key.metric == Metric::HttpErrors)
        .map(|x| x.key.app.clone())
        .collect();
    out.retain(|x| x.key.metric != Metric::Health || !errors.contains(&x.key.app));
    if let Some(b) = &run.monitor.baseline {
        for x in &mut out {
            if x.baseline.is_none() {
                x.baseline = b.value(&x.key);
            }
        }
    }
    out
}

/// A vertical marker across every chart: when, css class, label.
struct Marker {
    at: Timestamp,
    class: &'static str,
    label: String,
}

fn markers(run: &RunState) -> Vec<Marker> {
    let mut m = Vec::new();
    if let Some(at) = run.monitor.release_live_at {
        m.push(Marker {
            at,
            class: "m-live",
            label: "live".into(),
        });
    }
    for i in &run.monitor.incidents {
        m.push(Marker {
            at: i.raised_at,
            class: "m-incident",
            label: format!("#{} {}", i.record.id, i.record.severity.as_str()),
        });
    }
    for r in &run.rollbacks {
        m.push(Marker {
            at: r.started_at,
            class: "m-rollback",
            label: "rollback".into(),
        });
    }
    if let Some(v) = &run.monitor.verification {
        m.push(Marker {
            at: v.at,
            class: if v.ok { "m-verified" } else { "m-incident" },
            label: if v.ok {
                "verified".into()
            } else {
                "not verified".into()
            },
        });
    }
    // In time order, so neighbouring labels alternate rows.
    m.sort_by_key(|k| k.at);
    m
}

/// The section: verdict and numbers, then one chart per signal. Empty when the run has no
/// watch yet.
pub(crate) fn watch(run: &RunState, raw: &[(u32, ProbeSample)]) -> String {
    let all = series(run);
    if run.monitor.legs.is_empty() && all.is_empty() {
        return String::new();
    }
    let v = verdict(run);
    let mut out = format!(
        "<section class=\"watch\" id=\"watch\"><h2>The watch</h2><div class=\"watch-summary\"><p><b>Verdict</b>: <span class=\"state {cls}\">{verdict}</span> — {reason}</p><ul>",
        cls = esc(v.verdict.as_str()),
        verdict = esc(v.verdict.as_str()),
        reason = esc(&v.reason),
    );
    for leg in &run.monitor.legs {
        let ticks = leg.ticks.len();
        let of = leg.ticks.last().map(|t| t.of).unwrap_or(0);
        let worst = leg
            .ticks
            .iter()
            .map(|t| t.grade)
            .max()
            .map(|g| g.as_str())
            .unwrap_or("no ticks yet");
        let _ = write!(
            out,
            "<li>watch {n} ({purpose}): {ticks} of {of} tick(s), worst {worst}, {outcome}</li>",
            n = leg.leg,
            purpose = match leg.purpose {
                Purpose::Release => "the release",
                Purpose::AfterRollback => "after the rollback",
            },
            outcome = leg.outcome.map(|o| o.as_str()).unwrap_or("running"),
        );
    }
    for i in &run.monitor.incidents {
        let _ = write!(
            out,
            "<li class=\"fail\">incident #{} ({}) at {}: {}</li>",
            i.record.id,
            esc(i.record.severity.as_str()),
            i.raised_at.strftime("%H:%M:%S"),
            esc(&i.record.summary)
        );
    }
    for r in &run.rollbacks {
        let _ = write!(
            out,
            "<li>rollback ({}) by {} at {}: {}</li>",
            esc(&r.strategy),
            esc(&r.by),
            r.started_at.strftime("%H:%M:%S"),
            esc(r.outcome.as_deref().unwrap_or("in progress"))
        );
    }
    if let Some(x) = &run.monitor.verification {
        let _ = write!(
            out,
            "<li class=\"{}\">rollback {} at {}</li>",
            if x.ok { "pass" } else { "fail" },
            if x.ok {
                "verified healthy"
            } else {
                "not verified"
            },
            x.at.strftime("%H:%M:%S"),
        );
    }
    out.push_str("</ul></div>");
    let marks = markers(run);
    for s in &all {
        chart(&mut out, s, &marks, raw);
    }
    out.push_str("</section>");
    out
}

fn chart(out: &mut String, s: &Series, marks: &[Marker], raw: &[(u32, ProbeSample)]) {
    let m = s.key.metric;
    let dots: Vec<(Timestamp, f64)> = raw
        .iter()
        .filter_map(|(_, x)| sample_value(&s.key, x).map(|v| (x.at, v)))
        .collect();
    // The axes: time over ticks, samples and markers; values from 0 over everything drawn.
    let times = s
        .points
        .iter()
        .map(|p| p.at)
        .chain(dots.iter().map(|d| d.0))
        .chain(marks.iter().map(|k| k.at));
    let (Some(t0), Some(t1)) = (times.clone().min(), times.max()) else {
        return;
    };
    let span = ((t1.as_millisecond() - t0.as_millisecond()) as f64).max(1000.0);
    let vmax = s
        .points
        .iter()
        .filter_map(|p| p.value)
        .chain(dots.iter().map(|d| d.1))
        .chain(s.limit)
        .chain(s.baseline)
        .fold(0.0f64, f64::max);
    let vmax = if m == Metric::Health || vmax <= 0.0 {
        1.0
    } else {
        vmax * 1.12
    };
    let x = |t: Timestamp| {
        ML + (t.as_millisecond() - t0.as_millisecond()) as f64 / span * (W - ML - MR)
    };
    let y = |v: f64| MT + (1.0 - (v / vmax).clamp(0.0, 1.0)) * (H - MT - MB);
    let name = title(&s.key);
    let last = s.points.iter().rev().find_map(|p| p.value);
    let worst = s.points.iter().map(|p| p.grade).max();
    let _ = write!(
        out,
        "<figure class=\"chart\"><svg viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{label}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{label}</title>",
        label = esc(&name),
    );
    // Frame, value axis (0, the top), time axis (start, end).
    let _ = write!(
        out,
        "<rect class=\"plot\" x=\"{ML}\" y=\"{MT}\" width=\"{pw}\" height=\"{ph}\"/>\
<text class=\"axis\" x=\"{lx}\" y=\"{y0}\" text-anchor=\"end\">0</text>\
<text class=\"axis\" x=\"{lx}\" y=\"{ytop}\" text-anchor=\"end\">{top}</text>\
<text class=\"axis\" x=\"{ML}\" y=\"{tb}\">{start}</text>\
<text class=\"axis\" x=\"{xr}\" y=\"{tb}\" text-anchor=\"end\">{end}</text>",
        pw = W - ML - MR,
        ph = H - MT - MB,
        lx = ML - 4.0,
        y0 = y(0.0) + 4.0,
        ytop = MT + 8.0,
        top = esc(&num(vmax, m)),
        tb = H - 10.0,
        start = t0.strftime("%H:%M:%S"),
        end = t1.strftime("%H:%M:%S"),
        xr = W - MR,
    );
    for k in 1..4 {
        let at = t0.as_millisecond() + (span * k as f64 / 4.0) as i64;
        if let Ok(at) = Timestamp::from_millisecond(at) {
            let _ = write!(
                out,
                "<line class=\"grid\" x1=\"{xx:.1}\" x2=\"{xx:.1}\" y1=\"{MT}\" y2=\"{yb}\"/><text class=\"axis\" x=\"{xx:.1}\" y=\"{tb}\" text-anchor=\"middle\">{t}</text>",
                xx = x(at),
                yb = H - MB,
                tb = H - 10.0,
                t = at.strftime(if span < 600_000.0 {
                    "%H:%M:%S"
                } else {
                    "%H:%M"
                }),
            );
        }
    }
    // Limit and baseline.
    if let Some(l) = s.limit {
        let _ = write!(
            out,
            "<line class=\"limit\" x1=\"{ML}\" x2=\"{x2}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\"/><text class=\"limit-label\" x=\"{x2}\" y=\"{ty:.1}\" text-anchor=\"end\">limit {v}</text>",
            x2 = W - MR,
            yy = y(l),
            ty = y(l) - 3.0,
            v = esc(&num(l, m)),
        );
    }
    if let Some(b) = s.baseline {
        let _ = write!(
            out,
            "<line class=\"baseline\" x1=\"{ML}\" x2=\"{x2}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\"/><text class=\"baseline-label\" x=\"{tx}\" y=\"{ty:.1}\">baseline {v}</text>",
            x2 = W - MR,
            tx = ML + 4.0,
            yy = y(b),
            ty = y(b) - 3.0,
            v = esc(&num(b, m)),
        );
    }
    // Markers: incidents, rollback, verification, the release going live.
    for (i, k) in marks.iter().enumerate() {
        let _ = write!(
            out,
            "<line class=\"{c}\" x1=\"{xx:.1}\" x2=\"{xx:.1}\" y1=\"{MT}\" y2=\"{yb}\"><title>{l}</title></line><text class=\"{c} marker-label\" x=\"{tx:.1}\" y=\"{ty}\"{anchor}>{l}</text>",
            c = k.class,
            xx = x(k.at),
            yb = H - MB,
            // Near the right edge the label ends at its line instead of starting there.
            anchor = if x(k.at) > W - 90.0 {
                " text-anchor=\"end\""
            } else {
                ""
            },
            tx = if x(k.at) > W - 90.0 {
                x(k.at) - 2.0
            } else {
                x(k.at) + 2.0
            },
            ty = MT - 4.0 - (i % 2) as f64 * 12.0,
            l = esc(&k.label),
        );
    }
    // The raw samples, thinned evenly past MAX_DOTS.
    let step = dots.len().div_ceil(MAX_DOTS).max(1);
    for (at, v) in dots.iter().step_by(step) {
        let _ = write!(
            out,
            "<circle class=\"sample\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"1.6\"/>",
            x(*at),
            y(*v)
        );
    }
    // The ticks: a line through them, each a dot in its grade's colour.
    let line: Vec<String> = s
        .points
        .iter()
        .filter_map(|p| p.value.map(|v| format!("{:.1},{:.1}", x(p.at), y(v))))
        .collect();
    if line.len() > 1 {
        let _ = write!(
            out,
            "<polyline class=\"series\" points=\"{}\"/>",
            line.join(" ")
        );
    }
    for p in &s.points {
        let (cy, v) = match p.value {
            Some(v) => (y(v), num(v, m)),
            None => (H - MB, "no data".to_string()),
        };
        let _ = write!(
            out,
            "<circle class=\"tick {g}\" cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"4\"><title>watch {leg} tick {n}: {v} ({g})</title></circle>",
            g = p.grade.as_str(),
            cx = x(p.at),
            leg = p.leg,
            n = p.tick,
            v = esc(&v),
        );
    }
    out.push_str("</svg>");
    let _ = write!(
        out,
        "<figcaption><b>{name}</b>: last tick {last}; limit {limit}; baseline {base}; worst tick {worst}; {ticks} tick(s), {dots} sample(s)</figcaption></figure>",
        name = esc(&name),
        last = esc(&last.map(|v| num(v, m)).unwrap_or_else(|| "no data".into())),
        limit = esc(&s.limit.map(|v| num(v, m)).unwrap_or_else(|| "none".into())),
        base = esc(&s
            .baseline
            .map(|v| num(v, m))
            .unwrap_or_else(|| "none".into())),
        worst = worst.map(|g| g.as_str()).unwrap_or("none"),
        ticks = s.points.len(),
        dots = dots.len(),
    );
}
