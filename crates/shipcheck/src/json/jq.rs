//! `--jq EXPR`: filters every `--json` document through a jq expression before it is printed,
//! as `gh` does (jq's language through jaq, with its standard library). Like gh, a string
//! result prints without quotes, any other result as JSON (indented on a terminal, one line
//! otherwise), one result per line; `--jq` needs `--json` (main refuses it alone). The
//! expression is compiled before the command runs, so a bad one changes nothing and says where
//! it is wrong. The `error` document is never filtered: a failure stays visible to a script.
//! `env` and `$ENV` (the process environment, where tokens live) are not in the language;
//! `halt` ends the output with an error rather than the process.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data};
use jaq_json::Val;
use serde_json::Value;

/// Filters the language leaves out: the process environment (where tokens live). (`input`
/// and `inputs` are not in jaq's standard set; `halt` ends the output with an error here
/// instead of ending the process.)
const LEFT_OUT: &[&str] = &["env"];

/// jq's `@csv` and `@tsv`, which jaq does not have: a row (an array) of strings, numbers,
/// booleans and nulls; strings quoted (`""` for `"`) or escaped (`\t`, `\n`, `\r`, `\\`).
const FORMATS: &str = r#"
def @csv: if type != "array" then error("\(type) cannot be csv-formatted, only an array can be") end
  | map(if type == "string" then "\"" + (split("\"") | join("\"\"")) + "\""
        elif type == "array" or type == "object" then error("\(type) is not valid in a csv row")
        elif . == null then "" else tojson end)
  | join(",");
def @tsv: if type != "array" then error("\(type) cannot be tsv-formatted, only an array can be") end
  | map(if type == "string"
          then split("\\") | join("\\\\") | split("\t") | join("\\t")
             | split("\n") | join("\\n") | split("\r") | join("\\r")
        elif type == "array" or type == "object" then error("\(type) is not valid in a tsv row")
        elif . == null then "" else tojson end)
  | join("\t");
"#;

static FILTER: OnceLock<String> = OnceLock::new();
static FAILED: AtomicBool = AtomicBool::new(false);

/// What is wrong with an expression: each problem with where it is.
#[derive(Debug, thiserror::Error)]
#[error("--jq {expr:?}: {}", .problems.join("; "))]
pub struct JqError {
    expr: String,
    problems: Vec<String>,
}

/// Where `part` (a slice of `code`) starts, as a 1-based column; the end of the code when
/// `part` is not a slice of it.
fn column(code: &str, part: &str) -> usize {
    let (base, at) = (code.as_ptr() as usize, part.as_ptr() as usize);
    let offset = if (base..=base + code.len()).contains(&at) {
        at - base
    } else {
        code.len()
    };
    code[..offset.min(code.len())].chars().count() + 1
}

/// One result of the filter.
pub enum Out {
    /// A string: printed as it is.
    Text(String),
    /// Anything else: printed as JSON.
    Json(String),
}

/// Runs `expr` on `input`, handing each result to `each` as it comes; a runtime error ends
/// the run (results before it were handed on).
pub fn run(expr: &str, input: &Value, each: impl FnMut(Out)) -> Result<(), JqError> {
    filter(expr, Some(input), each)
}

/// Whether `expr` parses and compiles (it is not run).
pub fn check(expr: &str) -> Result<(), JqError> {
    filter(expr, None, |_| {})
}

/// Compiles `expr`, then runs it on `input` when there is one.
fn filter(expr: &str, input: Option<&Value>, mut each: impl FnMut(Out)) -> Result<(), JqError> {
    let fail = |problems: Vec<String>| JqError {
        expr: expr.to_string(),
        problems,
    };
    let formats = jaq_core::load::parse(FORMATS, |p| p.defs()).unwrap_or_default();
    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs())
        .chain(formats);
    let funs = jaq_core::funs()
        .chain(jaq_std::funs())
        .chain(jaq_json::funs())
        .filter(|(name, _, _)| !LEFT_OUT.contains(name));
    let loader = Loader::new(defs);
    let arena = Arena::default();
    let modules = loader
        .load(
            &arena,
            File {
                code: expr,
                path: (),
            },
        )
        .map_err(|errs| {
            fail(
                errs.into_iter()
                    .flat_map(|(_, e)| load_problems(expr, e))
                    .collect(),
            )
        })?;
    let filter = Compiler::default()
        .with_funs(funs)
        .compile(modules)
        .map_err(|errs| {
            fail(
                errs.into_iter()
                    .flat_map(|(_, es)| es)
                    .map(|(name, undefined)| {
                        format!(
                            "{} `{name}` is not defined (column {})",
                            undefined.as_str(),
                            column(expr, name)
                        )
                    })
                    .collect(),
            )
        })?;
    let Some(input) = input else {
        return Ok(());
    };
    let text = serde_json::to_string(input).unwrap_or_else(|_| "null".into());
    let input = jaq_json::read::parse_single(text.as_bytes())
        .map_err(|e| fail(vec![format!("cannot read the document: {e}")]))?;
    let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, Vars::new([]));
    for result in filter.id.run((ctx, input)) {
        match result {
            Ok(Val::TStr(bytes)) => each(Out::Text(String::from_utf8_lossy(&bytes).into_owned())),
            Ok(v) => each(Out::Json(v.to_string())),
            Err(exn) => {
                let why = match exn.get_err() {
                    Ok(e) => e.to_string(),
                    Err(exn) => match exn.get_halt() {
                        Ok(code) => format!("the expression halted (halt({code}))"),
                        Err(_) => "the expression stopped unexpectedly".to_string(),
                    },
                };
                return Err(fail(vec![why]));
            }
        }
    }
    Ok(())
}

fn load_problems(code: &str, e: jaq_core::load::Error<&str>) -> Vec<String> {
    use jaq_core::load::Error as E;
    match e {
        E::Io(list) => list
            .into_iter()
            .map(|(path, why)| format!("cannot load {path}: {why}"))
            .collect(),
        E::Lex(list) => list
            .into_iter()
            .map(|(expect, at)| {
                format!(
                    "expected {} at column {}",
                    expect.as_str(),
                    column(code, at)
                )
            })
            .collect(),
        E::Parse(list) => list
            .into_iter()
            .map(|(expect, found)| {
                let what = if found.is_empty() {
                    "the end".to_string()
                } else {
                    format!("`{found}`")
                };
                format!(
                    "expected {} at column {}, found {what}",
                    expect.as_str(),
                    column(code, found)
                )
            })
            .collect(),
    }
}

/// Compiles `expr` and, when it compiles, makes it the filter of every document printed
/// from now on.
pub fn set(expr: &str) -> Result<(), JqError> {
    check(expr)?;
    let _ = FILTER.set(expr.to_string());
    Ok(())
}

/// The filter set by `--jq`, if any.
pub fn active() -> Option<&'static str> {
    FILTER.get().map(String::as_str)
}

/// Whether a document could not be filtered (main exits 2 then).
pub fn failed() -> bool {
    FAILED.load(Ordering::Relaxed)
}

/// Prints `doc` filtered by `expr`: strings as they are, other values as JSON (indented when
/// `pretty`), one per line. A runtime error is said on stderr and remembered for the exit code.
pub fn print_filtered(expr: &str, doc: &Value, pretty: bool) {
    let result = run(expr, doc, |out| match out {
        Out::Text(s) => say!("{s}"),
        Out::Json(compact) => {
            let text = if pretty {
                serde_json::from_str::<Value>(&compact)
                    .ok()
                    .and_then(|v| serde_json::to_string_pretty(&v).ok())
                    .unwrap_or(compact)
            } else {
                compact
            };
            say!("{text}");
        }
    });
    if let Err(e) = result {
        FAILED.store(true, Ordering::Relaxed);
        say_err!("error: {e}");
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn results(expr: &str, doc: Value) -> Result<Vec<String>, JqError> {
        let mut out = Vec::new();
        run(expr, &doc, |o| {
            out.push(match o {
                Out::Text(s) => format!("text:{s}"),
                Out::Json(j) => format!("json:{j}"),
            })
        })?;
        Ok(out)
    }

    #[test]
    fn strings_come_out_raw_and_the_rest_as_json() {
        let doc =
            json!({"items": [{"id": "a", "state": "pass"}, {"id": "b", "state": "fail"}], "n": 2});
        assert_eq!(
            results(".items[] | select(.state == \"fail\") | .id", doc.clone()).unwrap(),
            ["text:b"]
        );
        assert_eq!(
            results(".n, .items[0]", doc.clone()).unwrap(),
            ["json:2", "json:{\"id\":\"a\",\"state\":\"pass\"}"]
        );
        assert_eq!(
            results(".items | map(.id) | @csv", doc.clone()).unwrap(),
            ["text:\"a\",\"b\""]
        );
        // jq's @csv and @tsv, which jaq lacks.
        let row = json!(["a,b", 1, null, true, "x\"y", "t\tn\nb\\"]);
        assert_eq!(
            results("@csv", row.clone()).unwrap(),
            ["text:\"a,b\",1,,true,\"x\"\"y\",\"t\tn\nb\\\""]
        );
        assert_eq!(
            results("@tsv", row).unwrap(),
            ["text:a,b\t1\t\ttrue\tx\"y\tt\\tn\\nb\\\\"]
        );
        assert!(results("@csv", json!({"a": 1})).is_err());
        assert!(results("@tsv", json!([[1]])).is_err());
        assert_eq!(
            results("[.items[] | select(.id | test(\"^a\"))] | length", doc).unwrap(),
            ["json:1"]
        );
    }

    #[test]
    fn a_bad_expression_says_what_and_where() {
        let e = check(".items[] | select(.state ==")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--jq") && e.contains("expected"), "{e}");
        let e = check(".items | frobnicate").unwrap_err().to_string();
        assert!(e.contains("`frobnicate` is not defined"), "{e}");
        assert!(e.contains("column 10"), "{e}");
        let e = check("\"\\q\"").unwrap_err().to_string();
        assert!(e.contains("expected"), "{e}");
        // Only compiled: an expression that would fail on some documents is not refused.
        assert!(check(".items[0].id | ascii_downcase").is_ok());
        assert!(check(".verdict # a comment").is_ok());
        assert!(check(".").is_ok());
    }

    #[test]
    fn the_environment_is_not_in_the_language() {
        for expr in ["env", "env.HOME", "$ENV.HOME"] {
            assert!(check(expr).is_err(), "{expr}");
        }
        let e = results("1, halt, 2", json!(null)).unwrap_err().to_string();
        assert!(e.contains("halted"), "{e}");
    }

    #[test]
    fn a_runtime_error_stops_with_the_reason() {
        let e = results(".n | keys", json!({"n": 2}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot") || e.contains("keys"), "{e}");
    }
}
