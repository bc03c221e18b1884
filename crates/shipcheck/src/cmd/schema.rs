//! `shipcheck schema`: the JSON Schemas of the `--json` documents.

use std::path::Path;

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
            std::fs::write(&path, d.schema_text()).map_err(|source| CliError::Io {
                what: format!("writing {}", path.display()),
                source,
            })?;
        }
        if !g.json {
            say!(
                "wrote {} schemas ({}) to {}",
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
