//! Test support shared by the crate's tests: real git repositories ([`repo`]) and check
//! contexts with runs whose items carry evidence ([`checks`]).

pub mod checks;
pub mod repo;

/// The text of a recorded API answer under `fixtures/api/` (see its README for provenance),
/// compiled into the test.
macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/api/",
            $path
        ))
    };
}
pub(crate) use fixture;

/// A wiremock answer with the status and headers of a `*.headers.txt` fixture (its first line
/// is the status line) and `body`.
pub fn recorded_response(headers: &str, body: &str) -> wiremock::ResponseTemplate {
    let mut lines = headers.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let mut t = wiremock::ResponseTemplate::new(status);
    for line in lines {
        if let Some((k, v)) = line.split_once(':')
            && !k.eq_ignore_ascii_case("status")
            && !k.eq_ignore_ascii_case("content-length")
        {
            t = t.insert_header(k.trim(), v.trim());
        }
    }
    t.set_body_raw(body.as_bytes().to_vec(), "application/json; charset=utf-8")
}
