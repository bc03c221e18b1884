//! The JSON Schema of `shipcheck.toml` (`shipcheck config schema`), derived from the config
//! types themselves (their serde attributes and `///` lines), so it cannot drift from what
//! [`load`](super::load) accepts. Draft 7, the draft TOML editors (Taplo, Even Better TOML)
//! validate and complete with. It says the file's shape: keys, types, the values an enum
//! takes, the form of a duration; what needs more than the shape (a time zone that exists,
//! `start` before `end`, an item id that is in the checklist) is `shipcheck config check`'s.

use serde_json::Value;

use super::Config;

/// The schema's `$id`.
pub const SCHEMA_ID: &str = "https://shipcheck.invalid/schemas/shipcheck.toml.json";

/// The file name `shipcheck init` writes the schema to, next to `shipcheck.toml`, and the
/// committed copy's name under `docs/schemas/`.
pub const SCHEMA_FILE: &str = "shipcheck.schema.json";

/// The `#:schema` header directive (Taplo's) pointing at [`SCHEMA_FILE`] beside the config.
pub const SCHEMA_DIRECTIVE: &str = "#:schema ./shipcheck.schema.json";

/// A time of day as `[window]` and `[incident]` write it (what `parse_hhmm` accepts).
pub const HHMM_PATTERN: &str = "^([01][0-9]|2[0-3]):[0-5][0-9]$";

/// The schema as a JSON value.
pub fn json_schema() -> Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<Config>();
    let mut value = schema.to_value();
    if let Some(o) = value.as_object_mut() {
        o.insert("$id".into(), Value::String(SCHEMA_ID.into()));
        o.insert("title".into(), Value::String("shipcheck.toml".into()));
        o.insert(
            "description".into(),
            Value::String(
                "shipcheck's configuration (docs/config.md documents every key). \
                 `shipcheck config check` checks what a schema cannot: time zones, times, \
                 item ids, and the tables that need each other."
                    .into(),
            ),
        );
    }
    value
}

/// The schema as the committed file and `init` hold it (pretty, with a final newline).
pub fn json_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&json_schema()).unwrap_or_default();
    text.push('\n');
    text
}
