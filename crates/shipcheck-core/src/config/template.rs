//! The commented `shipcheck.toml` that `shipcheck init` writes (placeholder).

/// The system time zone (placeholder).
pub fn system_timezone() -> String {
    "UTC".into()
}
/// Template (placeholder).
pub fn init_template(tz: &str) -> String {
    format!("[project]\ntimezone = \"{tz}\"\n")
}
