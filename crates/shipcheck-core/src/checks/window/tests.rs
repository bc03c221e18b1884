use jiff::Timestamp;

use crate::checks::window::*;
use crate::model::config::Config;
use crate::model::outcome::Status;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// The window `days start–end` in `zone`, checked at `at` (scheduled; the clock says
/// 2000-01-01).
struct Case {
    config: Config,
    scheduled_at: Option<Timestamp>,
    now: Timestamp,
}

fn ctx(days: &[Day], start: &str, end: &str, zone: &str, at: &str) -> Case {
    let config = Config {
        window: WindowConfig {
            days: days.to_vec(),
            start: start.into(),
            end: end.into(),
            timezone: Some(zone.into()),
        },
        ..Config::default()
    };
    Case {
        config,
        scheduled_at: Some(ts(at)),
        now: ts("2000-01-01T00:00:00Z"),
    }
}

fn run(c: &Case) -> Outcome {
    crate::checks::window::run(
        &c.config.window,
        &c.config.project.timezone,
        c.scheduled_at,
        c.now,
    )
}

const TUE_THU: &[Day] = &[Day::Tue, Day::Wed, Day::Thu];

fn berlin(at: &str) -> Outcome {
    run(&ctx(TUE_THU, "10:00", "14:00", "Europe/Berlin", at))
}

#[test]
fn boundaries_start_inclusive_end_exclusive() {
    // Tue 2026-11-24, CET = UTC+1.
    assert_eq!(berlin("2026-11-24T09:00:00Z").status, Status::Pass); // 10:00
    assert_eq!(berlin("2026-11-24T08:59:00Z").status, Status::Fail); // 09:59
    assert_eq!(berlin("2026-11-24T12:59:00Z").status, Status::Pass); // 13:59
    assert_eq!(berlin("2026-11-24T12:59:59Z").status, Status::Pass); // 13:59:59
    assert_eq!(berlin("2026-11-24T13:00:00Z").status, Status::Fail); // 14:00
}

#[test]
fn inside_says_when_it_closes() {
    let o = berlin("2026-11-24T09:30:00Z");
    assert_eq!(o.status, Status::Pass);
    assert_eq!(
        o.summary,
        "Tue 2026-11-24 10:30 CET is inside the deploy window \
         (Tue–Thu 10:00–14:00 Europe/Berlin); it closes at 14:00 CET"
    );
    assert_eq!(o.evidence["inside"], true);
    assert_eq!(o.evidence["closes_at"], "2026-11-24T13:00:00Z");
}

#[test]
fn friday_afternoon_fails_with_next_window() {
    let o = berlin("2026-11-27T14:02:00Z");
    assert_eq!(o.status, Status::Fail);
    assert_eq!(
        o.summary,
        "Fri 2026-11-27 15:02 CET is outside the deploy window \
         (Tue–Thu 10:00–14:00 Europe/Berlin); next window opens Tue 2026-12-01 10:00 CET"
    );
    let e = &o.evidence;
    assert_eq!(e["instant"], "2026-11-27T14:02:00Z");
    assert_eq!(e["source"], "scheduled");
    assert_eq!(e["local"], "Fri 2026-11-27 15:02 CET");
    assert_eq!(e["local_rfc3339"], "2026-11-27T15:02:00+01:00");
    assert_eq!(e["abbreviation"], "CET");
    assert_eq!(e["offset"], "+01:00");
    assert_eq!(e["weekday"], "Fri");
    assert_eq!(e["zone"], "Europe/Berlin");
    assert_eq!(
        e["window"]["days"],
        serde_json::json!(["tue", "wed", "thu"])
    );
    assert_eq!(e["next_window_opens"], "Tue 2026-12-01 10:00 CET");
    assert_eq!(e["next_window_opens_at"], "2026-12-01T09:00:00Z");
}

#[test]
fn wrong_day_fails() {
    // Sat 2026-11-28 12:00 CET.
    let o = berlin("2026-11-28T11:00:00Z");
    assert_eq!(o.status, Status::Fail);
    assert!(o.summary.starts_with("Sat 2026-11-28 12:00 CET is outside"));
}

#[test]
fn monday_next_window_is_tuesday() {
    let o = berlin("2026-11-30T11:00:00Z"); // Mon 12:00 CET
    assert_eq!(o.status, Status::Fail);
    assert_eq!(o.evidence["next_window_opens"], "Tue 2026-12-01 10:00 CET");
}

#[test]
fn thursday_at_end_next_window_is_tuesday() {
    let o = berlin("2026-11-26T13:00:00Z"); // Thu 14:00 CET
    assert_eq!(o.status, Status::Fail);
    assert_eq!(o.evidence["next_window_opens"], "Tue 2026-12-01 10:00 CET");
}

#[test]
fn same_day_before_opening_points_at_today() {
    let o = berlin("2026-11-24T07:00:00Z"); // Tue 08:00 CET
    assert_eq!(o.evidence["next_window_opens"], "Tue 2026-11-24 10:00 CET");
}

#[test]
fn berlin_spring_forward_2026_03_29() {
    // Sunday 2026-03-29: clocks jump 02:00 CET → 03:00 CEST. After it, 10:00 local is 08:00Z.
    let sunday = |at| run(&ctx(&[Day::Sun], "10:00", "14:00", "Europe/Berlin", at));
    assert_eq!(sunday("2026-03-29T08:00:00Z").status, Status::Pass); // 10:00 CEST
    assert_eq!(sunday("2026-03-29T07:59:00Z").status, Status::Fail); // 09:59 CEST
    assert_eq!(sunday("2026-03-29T11:59:00Z").status, Status::Pass); // 13:59 CEST
    assert_eq!(sunday("2026-03-29T12:00:00Z").status, Status::Fail); // 14:00 CEST
    // From Saturday (CET) the next opening is on the other side of the change.
    let o = sunday("2026-03-28T14:00:00Z");
    assert_eq!(o.evidence["next_window_opens"], "Sun 2026-03-29 10:00 CEST");
    assert_eq!(o.evidence["next_window_opens_at"], "2026-03-29T08:00:00Z");
    // The usual window, the Tuesday after.
    assert_eq!(berlin("2026-03-31T08:00:00Z").status, Status::Pass);
    assert_eq!(berlin("2026-03-31T07:59:00Z").status, Status::Fail);
    let o = berlin("2026-03-27T14:00:00Z"); // Fri 15:00 CET
    assert_eq!(o.evidence["next_window_opens"], "Tue 2026-03-31 10:00 CEST");
}

#[test]
fn berlin_fall_back_2026_10_25() {
    // Sunday 2026-10-25: clocks go back 03:00 CEST → 02:00 CET. After it, 10:00 is 09:00Z.
    let sunday = |at| run(&ctx(&[Day::Sun], "10:00", "14:00", "Europe/Berlin", at));
    assert_eq!(sunday("2026-10-25T09:00:00Z").status, Status::Pass); // 10:00 CET
    assert_eq!(sunday("2026-10-25T08:59:00Z").status, Status::Fail); // 09:59 CET
    assert_eq!(sunday("2026-10-25T12:59:00Z").status, Status::Pass); // 13:59 CET
    assert_eq!(sunday("2026-10-25T13:00:00Z").status, Status::Fail); // 14:00 CET
    let o = sunday("2026-10-25T09:00:00Z");
    assert_eq!(o.evidence["abbreviation"], "CET");
    // Saturday in summer time, next opening in winter time.
    let o = sunday("2026-10-24T13:00:00Z");
    assert_eq!(o.evidence["local"], "Sat 2026-10-24 15:00 CEST");
    assert_eq!(o.evidence["next_window_opens"], "Sun 2026-10-25 10:00 CET");
    assert_eq!(o.evidence["next_window_opens_at"], "2026-10-25T09:00:00Z");
}

#[test]
fn window_touching_the_dst_gap() {
    // 02:30 does not exist on 2026-03-29 in Berlin; the window opens right after the gap
    // (03:00 CEST = 01:00Z) and the check does not panic.
    let gap = |at| run(&ctx(&[Day::Sun], "02:30", "04:00", "Europe/Berlin", at));
    assert_eq!(gap("2026-03-29T00:59:00Z").status, Status::Fail); // 01:59 CET
    assert_eq!(gap("2026-03-29T01:00:00Z").status, Status::Pass); // 03:00 CEST
    assert_eq!(gap("2026-03-29T02:00:00Z").status, Status::Fail); // 04:00 CEST
}

#[test]
fn new_york() {
    let ny = |at| run(&ctx(TUE_THU, "10:00", "14:00", "America/New_York", at));
    // Tue 2026-11-24, EST = UTC-5.
    assert_eq!(ny("2026-11-24T15:00:00Z").status, Status::Pass);
    assert_eq!(ny("2026-11-24T14:59:00Z").status, Status::Fail);
    assert_eq!(ny("2026-11-24T19:00:00Z").status, Status::Fail);
    // Tue 2026-03-10, after the US change on 2026-03-08: EDT = UTC-4.
    assert_eq!(ny("2026-03-10T14:00:00Z").status, Status::Pass);
    assert_eq!(ny("2026-03-10T13:59:00Z").status, Status::Fail);
    let o = ny("2026-03-06T20:00:00Z"); // Fri 15:00 EST
    assert_eq!(o.evidence["local"], "Fri 2026-03-06 15:00 EST");
    assert_eq!(o.evidence["next_window_opens"], "Tue 2026-03-10 10:00 EDT");
}

#[test]
fn utc_instant_on_a_different_local_day() {
    // Tue 2026-11-24 23:30Z is Wed 08:30 in Berlin... and Tue 18:30 in New York.
    let o = berlin("2026-11-24T23:30:00Z");
    assert_eq!(o.evidence["weekday"], "Wed");
    assert_eq!(o.evidence["next_window_opens"], "Wed 2026-11-25 10:00 CET");
}

#[test]
fn overnight_window_spans_midnight() {
    let night = |at| run(&ctx(&[Day::Fri], "22:00", "02:00", "UTC", at));
    assert_eq!(night("2026-11-27T22:00:00Z").status, Status::Pass); // Fri 22:00
    assert_eq!(night("2026-11-28T01:59:00Z").status, Status::Pass); // Sat 01:59
    assert_eq!(night("2026-11-28T02:00:00Z").status, Status::Fail); // Sat 02:00
    assert_eq!(night("2026-11-26T23:00:00Z").status, Status::Fail); // Thu 23:00
}

#[test]
fn uses_the_clock_without_a_scheduled_time_and_the_project_zone() {
    let mut config = Config::default();
    config.project.timezone = "Europe/Berlin".into();
    let ctx = Case {
        config,
        scheduled_at: None,
        now: ts("2026-11-25T10:00:00Z"), // Wed 11:00 CET
    };
    let o = run(&ctx);
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert_eq!(o.evidence["source"], "now");
    assert_eq!(o.evidence["zone"], "Europe/Berlin");
}

#[test]
fn bad_config_is_an_error_not_a_panic() {
    let at = "2026-11-24T09:00:00Z";
    let o = run(&ctx(TUE_THU, "10:00", "14:00", "Mars/Olympus_Mons", at));
    assert_eq!(o.status, Status::Error);
    assert!(
        o.summary
            .contains("unknown time zone \"Mars/Olympus_Mons\""),
        "{}",
        o.summary
    );
    for (start, end) in [
        ("10", "14:00"),
        ("25:00", "14:00"),
        ("10:00", "14:60"),
        ("", "x"),
    ] {
        let o = run(&ctx(TUE_THU, start, end, "UTC", at));
        assert_eq!(o.status, Status::Error, "{start}–{end}");
        assert!(o.summary.contains("is not a time of day"), "{}", o.summary);
    }
    let o = run(&ctx(&[], "10:00", "14:00", "UTC", at));
    assert_eq!(o.status, Status::Error);
    assert!(o.summary.contains("days is empty"));
    let o = run(&ctx(TUE_THU, "10:00", "10:00", "UTC", at));
    assert_eq!(o.status, Status::Error);
    assert!(o.summary.contains("would be empty"));
}

#[test]
fn describes_days() {
    use Day::*;
    assert_eq!(describe_days(&[Tue, Wed, Thu]), "Tue–Thu");
    assert_eq!(describe_days(&[Mon, Wed, Fri]), "Mon, Wed, Fri");
    assert_eq!(describe_days(&[Mon, Tue, Wed, Fri]), "Mon–Wed, Fri");
    assert_eq!(describe_days(&[Sat]), "Sat");
}

#[test]
fn parses_times() {
    assert_eq!(
        parse_hhmm("10:00").unwrap(),
        Time::new(10, 0, 0, 0).unwrap()
    );
    assert_eq!(
        parse_hhmm(" 9:30 ").unwrap(),
        Time::new(9, 30, 0, 0).unwrap()
    );
    assert_eq!(
        parse_hhmm("23:59:59").unwrap(),
        Time::new(23, 59, 59, 0).unwrap()
    );
    assert!(parse_hhmm("24:00").is_err());
    assert!(parse_hhmm("-1:00").is_err());
    assert!(parse_hhmm("10:00:00:00").is_err());
}
