//! The world's `shipcheck.toml`: a team's config in every respect but four — flyctl is the
//! stand-in, the API base URLs are loopback, secrets come from the `SHIPCHECK_DEMO_*`
//! variables, and `[clock]` runs time faster. Nothing in it says "demo" to the engine.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp, ToSpan};

use super::Manifest;
use super::postgres::PgStatus;

/// The project's time zone.
pub const TIMEZONE: &str = "Africa/Nairobi";

/// The instant the world's clock starts at: `wall` itself when it is inside the seed's
/// deploy window (Tuesday to Thursday, 10:00–12:30 in the project's time zone, leaving time
/// for the run), else the next Tuesday, Wednesday or Thursday at 10:30.
pub fn start_instant(wall: Timestamp) -> Timestamp {
    let Ok(tz) = jiff::tz::TimeZone::get(TIMEZONE) else {
        return wall;
    };
    let here = wall.to_zoned(tz.clone());
    // Already inside the window, with time to spare: now.
    let weekday = here.date().weekday().to_monday_one_offset();
    let minutes = i32::from(here.hour()) * 60 + i32::from(here.minute());
    if (2..=4).contains(&weekday) && (10 * 60..12 * 60 + 30).contains(&minutes) {
        return wall;
    }
    let mut day = here.date();
    for _ in 0..8 {
        let candidate = day
            .at(10, 30, 0, 0)
            .to_zoned(tz.clone())
            .map(|z| z.timestamp());
        let weekday = day.weekday().to_monday_one_offset();
        if let Ok(t) = candidate
            && (2..=4).contains(&weekday)
            && t >= wall - SignedDuration::from_secs(1)
        {
            return t;
        }
        day = match day.checked_add(1.day()) {
            Ok(d) => d,
            Err(_) => return wall,
        };
    }
    wall
}

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn list(items: &[String]) -> String {
    format!(
        "[{}]",
        items.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
    )
}

/// The config text.
pub fn render(m: &Manifest, project: &str, flyctl: &[String], monitor: &[String]) -> String {
    let mut t = String::new();
    t.push_str(&format!(
        "# shipcheck.toml of a rehearsal world (`shipcheck demo --scenario {}`).\n\
         # It is a team's config: only the flyctl program, the API base URLs, the secret\n\
         # variables (see env.sh) and [clock] differ from a real deployment's.\n\n",
        m.scenario.as_str()
    ));
    t.push_str(&format!(
        "[project]\nname = {}\ntimezone = {}\n\n",
        q(project),
        q(TIMEZONE)
    ));
    t.push_str("[git]\nrepo = \"repo\"\nstaging = \"staging\"\nproduction = \"production\"\nremote = \"origin\"\n\n");
    t.push_str(
        "[window]\ndays = [\"tue\", \"wed\", \"thu\"]\nstart = \"10:00\"\nend = \"14:00\"\n\n",
    );
    t.push_str(&format!(
        "# Time runs {}x faster than the wall clock, counted from `since` (wall clock),\n\
         # which stands for `start` (a Tuesday-to-Thursday morning in the deploy window).\n\
         [clock]\nspeed = {}\nsince = {}\nstart = {}\n\n",
        m.clock.speed,
        m.clock.speed,
        q(&m.clock.since.to_string()),
        q(&m.clock.start.to_string())
    ));
    t.push_str("[contacts]\nteam_lead = \"Amina Wanjiru <amina@maishapoa.example>\"\ndevops = \"Baraka Otieno <baraka@maishapoa.example>\"\non_call = \"Wanjiku Kamau <wanjiku@maishapoa.example>\"\n\n");
    t.push_str(
        "# Each production app says which commit it runs, each in its own way: the health\n\
         # answer's JSON, a header, or the tag its image was pushed with.\n",
    );
    for env in ["staging", "production"] {
        for (name, path, version) in [
            (
                "internal-api",
                "/api/health",
                "{ json_pointer = \"/version\" }",
            ),
            ("agent-registration", "/", "{ header = \"x-release\" }"),
            ("public-api", "/", "{ image_ref = true }"),
        ] {
            let fly_app = format!("{project}-{env}-{name}");
            let base = m.apps.get(&fly_app).cloned().unwrap_or_default();
            t.push_str(&format!(
                "[[environments.{env}.apps]]\nname = {}\nfly_app = {}\nhealth_url = {}\nregion = \"fra\"\nrequired_secrets = [\"DATABASE_URL\", \"SENTRY_DSN\"]\n",
                q(name),
                q(&fly_app),
                q(&format!("{base}{path}"))
            ));
            if env == "production" {
                t.push_str(&format!(
                    "version = {version}\nsentry_project = {}\n",
                    q(name)
                ));
            }
            t.push('\n');
        }
    }
    t.push_str(&format!(
        "[fly]\ncommand = {}\ntimeout = \"20s\"\n\n",
        list(flyctl)
    ));
    t.push_str(&format!(
        "[github]\nrepo = {}\napi_url = {}\ntoken_env = {}\nworkflow = {}\nenvironment = \"production\"\npoll_interval = \"10s\"\nhealth_jobs = [\"health-check\"]\n\n",
        q(super::github::REPO),
        q(&m.services["github"]),
        q(super::ENV_GITHUB),
        q(super::github::WORKFLOW)
    ));
    t.push_str(&format!(
        "[sentry]\nurl = {}\norg = {}\nprojects = [\"internal-api\", \"agent-registration\", \"public-api\"]\ntoken_env = {}\nenvironment = \"production\"\n\n",
        q(&m.services["sentry"]),
        q(super::sentry::ORG),
        q(super::ENV_SENTRY)
    ));
    t.push_str(&format!(
        "[slack]\nwebhook_env = {}\nchannel_name = \"#deploys\"\n\n",
        q(super::ENV_SLACK)
    ));
    t.push_str(&format!(
        "[prometheus]\nurl = {}\ntoken_env = {}\nauth = \"flyv1\"\n\n",
        q(&m.services["prometheus"]),
        q(super::ENV_PROMETHEUS)
    ));
    t.push_str(&format!(
        "# The run's life as CDEvents, to the world's sink.\n[events]\nsink = {}\ntoken_env = {}\n\n",
        q(&format!("{}{}", m.services["cdevents"], super::cdevents::PATH)),
        q(super::ENV_EVENTS)
    ));
    match &m.postgres {
        PgStatus::Ready { .. } => t.push_str(&format!(
            "[database]\nurl_env = {}\nstaging_url_env = {}\n\n",
            q(super::ENV_DATABASE),
            q(super::ENV_STAGING_DATABASE)
        )),
        PgStatus::Unavailable { reason } => t.push_str(&format!(
            "# No [database]: {reason}.\n# The database items are left to a person, with that reason.\n\n"
        )),
    }
    t.push_str("[incident]\nauto_rollback = true\nrollback_strategy = \"platform\"\n\n");
    t.push_str(&format!(
        "# Fast signals sampled fast: every {every}s of world time, the health probes within the default\n# budget of one a second per app and the edge's request counters; Sentry at its own pace.\n# (5 s in real time; at a fast clock no faster than every 1/6 s of wall time, which the\n# loopback apps answer without the watch's own probes slowing them.)\n[monitor]\nsample_every = \"{every}s\"\n",
        every = sample_every_s(m.clock.speed)
    ));
    for line in monitor {
        t.push_str(line);
        t.push('\n');
    }
    t.push('\n');
    t.push_str("[checklist.override.\"prepare.tests\"]\ncheck = { type = \"command\", argv = [\"sh\", \"scripts/test.sh\"], timeout = \"2m\" }\n\n");
    t.push_str("# Small apps: two seconds of load per staging app measure them well enough.\n[checklist.override.\"prepare.load-test\"]\ncheck = { type = \"loadtest\", env = \"staging\", concurrency = 10, duration = \"2s\", max_p95 = \"500ms\", max_error_rate = 0.01 }\n");
    t
}

/// The demo's `sample_every` in world seconds: 5, or at a fast clock as many as 1/6 s of wall
/// time holds (30 at ×180).
pub fn sample_every_s(speed: f64) -> u64 {
    let wall = if speed.is_finite() && speed > 0.0 {
        (speed / 6.0).ceil() as u64
    } else {
        5
    };
    wall.clamp(5, 60)
}

/// `env.sh`: `export NAME='value'` for each variable.
pub fn env_sh(env: &BTreeMap<String, String>) -> String {
    let mut s = String::from(
        "# The secrets this world's shipcheck.toml names (good only for this world).\n# Use: . ./env.sh\n",
    );
    for (k, v) in env {
        s.push_str(&format!("export {k}='{}'\n", v.replace('\'', "'\\''")));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_starts_inside_the_window() {
        // A Saturday → the next Tuesday 10:30 in Nairobi (07:30 UTC).
        let sat: Timestamp = "2026-11-28T15:00:00Z".parse().unwrap();
        assert_eq!(
            start_instant(sat),
            "2026-12-01T07:30:00Z".parse::<Timestamp>().unwrap()
        );
        // Inside the window → now.
        let thu: Timestamp = "2026-11-26T08:00:00Z".parse().unwrap();
        assert_eq!(start_instant(thu), thu);
        // A Wednesday before 10:30 → that Wednesday.
        let wed: Timestamp = "2026-11-25T05:00:00Z".parse().unwrap();
        assert_eq!(
            start_instant(wed),
            "2026-11-25T07:30:00Z".parse::<Timestamp>().unwrap()
        );
    }
}
