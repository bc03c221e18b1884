//! Rendering config errors: the offending line shown around the problem whatever its length.

use std::path::Path;

use crate::model::config::*;

fn rendered(src: &str) -> (ConfigError, String) {
    match load_str(Path::new("shipcheck.toml"), src) {
        Ok(_) => panic!("expected an error"),
        Err(e) => {
            let text = e.render();
            (e, text)
        }
    }
}

/// A problem 70,000 characters into a line: miette's snippet renderer panics on a column past
/// 65,535 ("Formatting argument out of range"); found by the config fuzzer (issue 17).
#[test]
fn a_problem_far_into_a_long_line_renders_an_excerpt() {
    let src = format!("[project]\nname = \"{}\" junk\n", "x".repeat(70_000));
    let (e, text) = rendered(&src);
    let p = &e.problems()[0];
    assert_eq!((p.line, p.column), (2, 70_011), "{p:?}");
    assert!(text.contains("shipcheck.toml:2:70011"), "{text}");
    assert!(text.contains("invalid TOML"), "{text}");
    assert!(
        text.contains("\" junk"),
        "the excerpt shows the problem: {text}"
    );
    assert!(text.contains("help:"), "{text}");
    assert!(
        text.len() < 2_000,
        "the excerpt is cut: {} bytes",
        text.len()
    );
}

/// Tabs are four columns wide to the renderer: 20,000 of them put a key past column 65,535.
#[test]
fn a_problem_after_many_tabs_renders() {
    let src = format!("[project]\n{}nmae = \"a\"\n", "\t".repeat(20_000));
    let (_, text) = rendered(&src);
    assert!(text.contains("unknown key"), "{text}");
    assert!(text.contains("did you mean `name`"), "{text}");
    assert!(text.len() < 2_000, "{} bytes", text.len());
}

/// A long line next to the problem is not printed whole either, and the other problems of
/// the file are all still shown.
#[test]
fn a_long_neighbouring_line_is_cut_and_every_problem_shown() {
    let src = format!(
        "[project]\nname = \"{}\"\nnmae = 1\n[fly]\ncomand = []\n",
        "é".repeat(40_000)
    );
    let (e, text) = rendered(&src);
    assert_eq!(e.problems().len(), 2, "{text}");
    assert!(text.contains("shipcheck.toml:3:1"), "{text}");
    assert!(text.contains("shipcheck.toml:5:1"), "{text}");
    assert!(text.len() < 4_000, "{} bytes", text.len());
}

/// Short lines keep miette's snippet with its frame.
#[test]
fn short_lines_keep_the_snippet() {
    let (_, text) = rendered("[project]\nnmae = \"a\"\n");
    assert!(text.contains("╭─[shipcheck.toml:2:1]"), "{text}");
    assert!(text.contains("unknown key"), "{text}");
}
