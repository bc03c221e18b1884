//! Redaction: secrets never reach evidence, the store, the terminal or a report.

/// Replaces every occurrence of each secret value (of 4 or more characters) with `[REDACTED]`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if s.len() >= 4 && out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "[REDACTED]");
        }
    }
    out
}

/// Redacts every string inside a JSON value.
pub fn redact_json(value: &mut serde_json::Value, secrets: &[String]) {
    match value {
        serde_json::Value::String(s) => *s = redact(s, secrets),
        serde_json::Value::Array(a) => a.iter_mut().for_each(|v| redact_json(v, secrets)),
        serde_json::Value::Object(o) => o.values_mut().for_each(|v| redact_json(v, secrets)),
        _ => {}
    }
}

/// The values of environment variables whose names look like secrets (`*TOKEN*`, `*SECRET*`,
/// `*PASSWORD*`, `*_KEY`, `*DSN*`, `*WEBHOOK*`, `DATABASE_URL`) plus the named ones.
pub fn secrets_from_env(named: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in std::env::vars() {
        let up = k.to_ascii_uppercase();
        let looks = ["TOKEN", "SECRET", "PASSWORD", "DSN", "WEBHOOK"]
            .iter()
            .any(|w| up.contains(w))
            || up.ends_with("_KEY")
            || up == "DATABASE_URL"
            || crate::model::config::FLY_TOKEN_VARS.contains(&k.as_str())
            || named.contains(&k);
        if looks && v.len() >= 4 {
            out.push(v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_strings_and_json() {
        let s = vec!["hunter22".to_string()];
        assert_eq!(redact("token=hunter22 ok", &s), "token=[REDACTED] ok");
        let mut v = serde_json::json!({"a": ["x hunter22"], "b": 1});
        redact_json(&mut v, &s);
        assert_eq!(v, serde_json::json!({"a": ["x [REDACTED]"], "b": 1}));
    }
}
