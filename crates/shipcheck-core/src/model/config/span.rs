//! Where things are in `shipcheck.toml`: key paths (`environments.production.apps[0].name`),
//! their byte spans in the text, and line/column positions.
//!
//! The text is parsed with `toml::de::DeTable`, whose keys and values keep their spans. A key
//! path is walked through that tree to find a span; an error span is mapped back to the
//! deepest key path that holds it.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeArray, DeValue};

/// One step of a key path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Seg {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// A parsed document: the root table as a value.
pub(crate) type Tree<'i> = Spanned<DeValue<'i>>;

/// Writes a key path as users read it: `checklist.override."prepare.tests".check`,
/// `environments.production.apps[0]`.
pub(crate) fn format_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                let bare = !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if bare {
                    out.push_str(k);
                } else {
                    out.push('"');
                    out.push_str(&k.replace('\\', "\\\\").replace('"', "\\\""));
                    out.push('"');
                }
            }
            Seg::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// Reads a key path written by [`format_path`]. Best effort: it stops at the first thing it
/// cannot read (`checklist (built-in item x)` reads as `checklist`).
pub(crate) fn parse_path(text: &str) -> Vec<Seg> {
    let mut segs = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        match chars.peek() {
            None => break,
            Some('.') => {
                chars.next();
            }
            Some('[') => {
                chars.next();
                let mut digits = String::new();
                while let Some(c) = chars.next_if(|c| c.is_ascii_digit()) {
                    digits.push(c);
                }
                match (digits.parse(), chars.next()) {
                    (Ok(i), Some(']')) => segs.push(Seg::Index(i)),
                    _ => break,
                }
            }
            Some('"') => {
                chars.next();
                let mut key = String::new();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => key.extend(chars.next()),
                        '"' => {
                            closed = true;
                            break;
                        }
                        c => key.push(c),
                    }
                }
                if !closed {
                    break;
                }
                segs.push(Seg::Key(key));
            }
            Some(c) if c.is_ascii_alphanumeric() || *c == '_' || *c == '-' => {
                let mut key = String::new();
                while let Some(c) =
                    chars.next_if(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                {
                    key.push(c);
                }
                segs.push(Seg::Key(key));
            }
            Some(_) => break,
        }
    }
    segs
}

/// What [`lookup`] found: how many segments of the path exist, and the spans of the deepest
/// one found (its key, when it is a table entry, and its value).
pub(crate) struct Found {
    /// How many leading segments of the path exist in the document.
    pub depth: usize,
    /// The span of the last found key (table entries only).
    pub key: Option<Range<usize>>,
    /// The span of the last found value (for a `[table]` header, the header).
    pub value: Range<usize>,
}

/// Walks `path` as far as it exists.
pub(crate) fn lookup(root: &Tree<'_>, path: &[Seg]) -> Found {
    let mut found = Found {
        depth: 0,
        key: None,
        value: root.span(),
    };
    let mut node = root;
    for seg in path {
        let next = match (seg, node.get_ref()) {
            (Seg::Key(k), DeValue::Table(t)) => t
                .get_key_value(k.as_str())
                .map(|(key, value)| (Some(key.span()), value)),
            (Seg::Index(i), DeValue::Array(a)) => a.get(*i).map(|value| (None, value)),
            _ => None,
        };
        let Some((key, value)) = next else { break };
        found.depth += 1;
        found.key = key;
        found.value = value.span();
        node = value;
    }
    found
}

/// The span to label for a key path: the key itself (`at_key`) or its value; when the path
/// does not exist (a default was used), the nearest parent that does.
pub(crate) fn span_of(root: &Tree<'_>, path: &[Seg], at_key: bool) -> Range<usize> {
    let found = lookup(root, path);
    if found.depth == path.len() && at_key {
        found.key.unwrap_or(found.value)
    } else {
        found.value
    }
}

/// The child of the table at `path` whose key is `key`, with its key span.
pub(crate) fn child_key_span(root: &Tree<'_>, path: &[Seg], key: &str) -> Option<Range<usize>> {
    let found = lookup(root, path);
    if found.depth != path.len() {
        return None;
    }
    let node = node_at(root, path)?;
    let DeValue::Table(t) = node.get_ref() else {
        return None;
    };
    t.get_key_value(key).map(|(k, _)| k.span())
}

/// The node at `path`, if it exists.
pub(crate) fn node_at<'a, 'i>(root: &'a Tree<'i>, path: &[Seg]) -> Option<&'a Tree<'i>> {
    let mut node = root;
    for seg in path {
        node = match (seg, node.get_ref()) {
            (Seg::Key(k), DeValue::Table(t)) => t.get(k.as_str())?,
            (Seg::Index(i), DeValue::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(node)
}

/// The key path of the tightest key or value whose span holds `span` (ties go to the deeper
/// one). Empty when nothing but the document holds it.
pub(crate) fn path_at(root: &Tree<'_>, span: &Range<usize>) -> Vec<Seg> {
    let mut best: Option<(usize, usize, Vec<Seg>)> = None;
    let mut path = Vec::new();
    visit(root, span, &mut path, &mut best);
    best.map(|(_, _, p)| p).unwrap_or_default()
}

fn holds(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

fn consider(
    candidate: &Range<usize>,
    span: &Range<usize>,
    path: &[Seg],
    best: &mut Option<(usize, usize, Vec<Seg>)>,
) {
    if !holds(candidate, span) {
        return;
    }
    let size = candidate.end - candidate.start;
    let better = match best {
        None => true,
        Some((bsize, bdepth, _)) => size < *bsize || (size == *bsize && path.len() >= *bdepth),
    };
    if better {
        *best = Some((size, path.len(), path.to_vec()));
    }
}

fn visit(
    node: &Tree<'_>,
    span: &Range<usize>,
    path: &mut Vec<Seg>,
    best: &mut Option<(usize, usize, Vec<Seg>)>,
) {
    match node.get_ref() {
        DeValue::Table(t) => {
            for (k, v) in t.iter() {
                path.push(Seg::Key(k.get_ref().to_string()));
                consider(&k.span(), span, path, best);
                consider(&v.span(), span, path, best);
                visit(v, span, path, best);
                path.pop();
            }
        }
        DeValue::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                consider(&v.span(), span, path, best);
                visit(v, span, path, best);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Removes the entry at `path` (a table key or an array element). False if it is not there.
pub(crate) fn remove(root: &mut Tree<'_>, path: &[Seg]) -> bool {
    let Some((last, parent)) = path.split_last() else {
        return false;
    };
    let mut node = root;
    for seg in parent {
        let next = match (seg, node.get_mut()) {
            (Seg::Key(k), DeValue::Table(t)) => t.get_mut(k.as_str()),
            (Seg::Index(i), DeValue::Array(a)) => a.get_mut(*i),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return false,
        }
    }
    match (last, node.get_mut()) {
        (Seg::Key(k), DeValue::Table(t)) => t.remove(k.as_str()).is_some(),
        (Seg::Index(i), DeValue::Array(a)) if *i < a.len() => {
            let old = std::mem::replace(a, DeArray::new());
            *a = old
                .into_iter()
                .enumerate()
                .filter(|(n, _)| n != i)
                .map(|(_, v)| v)
                .collect();
            true
        }
        _ => false,
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|n| n + 1).unwrap_or(0);
    let column = source[line_start..offset].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;
    use toml::de::DeTable;

    fn tree(src: &str) -> Tree<'_> {
        let t = DeTable::parse(src).expect("test input parses");
        let span = t.span();
        Spanned::new(span, DeValue::Table(t.into_inner()))
    }

    #[test]
    fn paths_round_trip() {
        for p in [
            "project.name",
            "environments.production.apps[0].health_url",
            "checklist.override.\"prepare.tests\".check",
            "checklist.disable[3]",
        ] {
            assert_eq!(format_path(&parse_path(p)), p);
        }
        assert_eq!(
            parse_path("checklist (built-in item x)"),
            vec![Seg::Key("checklist".into())]
        );
    }

    #[test]
    fn finds_spans_of_keys_and_values() {
        let src = "[project]\nname = \"x\"\n\n[[environments.production.apps]]\nname = \"a\"\n";
        let t = tree(src);
        let name = span_of(&t, &parse_path("project.name"), true);
        assert_eq!(&src[name.clone()], "name");
        assert_eq!(line_col(src, name.start), (2, 1));
        let v = span_of(
            &t,
            &parse_path("environments.production.apps[0].name"),
            false,
        );
        assert_eq!(&src[v.clone()], "\"a\"");
        assert_eq!(line_col(src, v.start), (5, 8));
        // Missing: falls back to the nearest parent that exists.
        let tz = span_of(&t, &parse_path("project.timezone"), false);
        assert_eq!(&src[tz], "[project]");
        assert_eq!(
            format_path(&path_at(&t, &v)),
            "environments.production.apps[0].name"
        );
    }

    #[test]
    fn removes_entries_and_elements() {
        let src = "a = [1, 2, 3]\n[b]\nc = 1\n";
        let mut t = tree(src);
        assert!(remove(&mut t, &parse_path("a[1]")));
        assert!(remove(&mut t, &parse_path("b.c")));
        assert!(!remove(&mut t, &parse_path("b.c")));
        let a = node_at(&t, &parse_path("a")).and_then(|n| n.get_ref().as_array().map(|a| a.len()));
        assert_eq!(a, Some(2));
    }
}
