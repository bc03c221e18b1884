//! `shipcheck schema`: the JSON Schemas of the `--json` documents; `shipcheck config
//! schema`: the JSON Schema of `shipcheck.toml`.

use std::path::Path;

use shipcheck_core::model::config::schema::{SCHEMA_FILE, json_schema_text};

use crate::cli::Global;
use crate::errors::CliError;
use crate::json::{self, DOCUMENTS, docs};

pub fn run(g: &Global, name: Option<&str>, all: Option<&Path>) -> Result<u8, CliError> {
    if let Some(dir) = all {
        std::fs::create_dir_all(dir).map_err(|source| CliError::Io {
            what: format!("creating {}", dir.display()),
            source,
        })?;
        for d in DOCUMENTS {
            let path = dir.join(format!("{}.json", d.name));
            write(&path, &d.schema_text())?;
        }
        write(&dir.join(SCHEMA_FILE), &json_schema_text())?;
        if !g.json {
            say!(
                "wrote {} schemas ({}) and the config's ({SCHEMA_FILE}) to {}",
                DOCUMENTS.len(),
                json::VERSION,
                dir.display()
            );
        }
        return Ok(0);
    }
    match name {
        Some(name) => match json::find(name) {
            Some(d) => {
                say_raw!("{}", d.schema_text());
                Ok(0)
            }
            None => Err(CliError::Usage(format!(
                "no document named {name}; `shipcheck schema` lists them"
            ))),
        },
        None if g.json => {
            json::print(
                "schemas",
                &docs::Schemas {
                    documents: DOCUMENTS
                        .iter()
                        .map(|d| docs::SchemaEntry {
                            name: d.name.to_string(),
                            printed_by: d.about.to_string(),
                        })
                        .collect(),
                },
            );
            Ok(0)
        }
        None => {
            say!(
                "{} documents (`shipcheck schema NAME` prints one):",
                json::VERSION
            );
            let width = DOCUMENTS.iter().map(|d| d.name.len()).max().unwrap_or(0);
            for d in DOCUMENTS {
                say!("  {:<width$}  {}", d.name, d.about);
            }
            Ok(0)
        }
    }
}

/// `shipcheck config schema [-o FILE]`: needs no config file (an editor wants the schema
/// before the file is valid).
pub fn config_schema(g: &Global, output: Option<&Path>) -> Result<u8, CliError> {
    let text = json_schema_text();
    match output {
        Some(path) => {
            write(path, &text)?;
            if !g.json {
                say!(
                    "wrote the JSON Schema of shipcheck.toml to {}",
                    path.display()
                );
            }
        }
        None => say_raw!("{text}"),
    }
    Ok(0)
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text).map_err(|source| CliError::Io {
        what: format!("writing {}", path.display()),
        source,
    })
}
