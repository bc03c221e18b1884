//! Query strings and durations as the stand-ins read them.

use jiff::{SignedDuration, Timestamp};

/// Query pairs, repeated keys kept.
pub(crate) fn pairs(q: &Option<String>) -> Vec<(String, String)> {
    let Some(q) = q else { return Vec::new() };
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Percent-decodes a query component (`+` is a space).
pub(crate) fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(x) => {
                        out.push(x);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn get1<'a>(p: &'a [(String, String)], k: &str) -> Option<&'a str> {
    p.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str())
}

/// An ISO 8601 time or epoch seconds.
pub(crate) fn time(s: &str) -> Option<Timestamp> {
    s.parse::<Timestamp>()
        .ok()
        .or_else(|| {
            s.parse::<i64>()
                .ok()
                .and_then(|n| Timestamp::from_second(n).ok())
        })
        .filter(sane)
}

/// Between 1970 and 2200: far enough from jiff's limits that any bounded interval added or
/// subtracted stays inside them.
pub(crate) fn sane(t: &Timestamp) -> bool {
    (0..7_258_118_400).contains(&t.as_second())
}

/// `5m`, `1h`, `1d` or seconds.
pub(crate) fn interval(s: &str) -> Option<SignedDuration> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    // Bounded, so no arithmetic with it can leave jiff's range (a bad query is a 400, never
    // a panic).
    let n: i64 = n.parse().ok().filter(|n| (1..=100_000).contains(n))?;
    Some(match unit {
        "" | "s" => SignedDuration::from_secs(n),
        "m" => SignedDuration::from_mins(n),
        "h" => SignedDuration::from_hours(n),
        "d" => SignedDuration::from_hours(24 * n),
        "w" => SignedDuration::from_hours(24 * 7 * n),
        _ => return None,
    })
}
