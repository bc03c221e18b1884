//! The literal prefilter: for each pattern, sets of literals of which every match must
//! contain one ("required literals"), found in the pattern's syntax tree; the rarest set per
//! pattern is picked on a sample of the input; one Aho-Corasick automaton (Teddy, SIMD, when
//! the literals fit) over all of them finds candidate lines, and only those are matched
//! with the regex set.
//!
//! A pattern with no usable literal set (`.*`, `\w+`), or literals that hit most lines of
//! the sample, turns the prefilter off: the scan then finds candidates with one regex (the
//! patterns as an alternation, a lazy DFA over the whole buffer) instead.

use aho_corasick::{AhoCorasick, MatchKind};
use regex_syntax::hir::literal::{ExtractKind, Extractor, Seq};
use regex_syntax::hir::{Hir, HirKind};

/// Literal sets with more members than this are shortened (each literal cut to fewer bytes).
const MAX_SET: usize = 32;
/// At most this many candidate sets are tried per pattern.
const MAX_CANDIDATES: usize = 24;
/// Above this share of sample lines hit, the literal prefilter is not worth it.
const MAX_HIT_SHARE: f64 = 0.3;

/// A set of literals; every match of its pattern contains one of them.
pub(super) type LitSet = Vec<Vec<u8>>;

/// The candidate literal sets of `pattern` (none: it has no usable required literals).
pub(super) fn candidates(pattern: &str) -> Vec<LitSet> {
    let Ok(hir) = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(pattern)
    else {
        return Vec::new();
    };
    let mut out = walk(&hir, 0);
    out.sort_by_key(static_cost);
    out.dedup();
    out.truncate(MAX_CANDIDATES);
    out
}

fn walk(hir: &Hir, depth: usize) -> Vec<LitSet> {
    if depth > 16 {
        return prefix_set(hir).into_iter().collect();
    }
    match hir.kind() {
        HirKind::Concat(subs) => {
            let mut out = Vec::new();
            for i in 0..subs.len() {
                if let Some(s) = prefix_set(&Hir::concat(subs[i..].to_vec())) {
                    out.push(s);
                }
            }
            for sub in subs {
                out.extend(walk(sub, depth + 1));
            }
            out
        }
        HirKind::Alternation(branches) => {
            // Every branch must contribute: the union of each branch's best set.
            let mut union: LitSet = Vec::new();
            let mut complete = true;
            for b in branches {
                match walk(b, depth + 1).into_iter().min_by_key(static_cost) {
                    Some(best) => union.extend(best),
                    None => {
                        complete = false;
                        break;
                    }
                }
            }
            let mut out: Vec<LitSet> = prefix_set(hir).into_iter().collect();
            if complete && !union.is_empty() {
                union.sort();
                union.dedup();
                out.push(union);
            }
            out
        }
        HirKind::Capture(c) => walk(&c.sub, depth + 1),
        HirKind::Repetition(r) if r.min >= 1 => walk(&r.sub, depth + 1),
        _ => prefix_set(hir).into_iter().collect(),
    }
}

/// The prefixes every match of `hir` starts with, when they are finitely many, none empty,
/// none holding a newline; cut short until there are at most [`MAX_SET`].
fn prefix_set(hir: &Hir) -> Option<LitSet> {
    let mut seq: Seq = Extractor::new().kind(ExtractKind::Prefix).extract(hir);
    seq.dedup();
    let mut min = seq.min_literal_len()?;
    while seq.len()? > MAX_SET && min > 2 {
        min -= 1;
        seq.keep_first_bytes(min);
        seq.dedup();
    }
    let lits = seq.literals()?;
    if lits.is_empty() || lits.len() > MAX_SET {
        return None;
    }
    let set: LitSet = lits.iter().map(|l| l.as_bytes().to_vec()).collect();
    if set.iter().any(|l| l.is_empty() || l.contains(&b'\n')) {
        return None;
    }
    Some(set)
}

/// Without data: longer literals first (up to 8 bytes), then fewer of them.
fn static_cost(s: &LitSet) -> (usize, usize) {
    let min = s.iter().map(Vec::len).min().unwrap_or(0).min(8);
    (8 - min, s.len())
}

fn automaton(lits: &[Vec<u8>]) -> Option<AhoCorasick> {
    AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostFirst)
        .build(lits)
        .ok()
}

/// How many lines of `sample` hold a literal of `ac` (stops counting at `cap`).
fn lines_hit(ac: &AhoCorasick, sample: &[u8], cap: usize) -> usize {
    let mut pos = 0;
    let mut n = 0;
    while pos < sample.len() && n < cap {
        let Some(m) = ac.find(aho_corasick::Input::new(sample).span(pos..sample.len())) else {
            break;
        };
        n += 1;
        pos = match memchr::memchr(b'\n', &sample[m.end()..]) {
            Some(i) => m.end() + i + 1,
            None => sample.len(),
        };
    }
    n
}

/// The prefilter for a scan.
pub(super) struct Chosen {
    /// The automaton, when literals are worth it.
    pub ac: Option<AhoCorasick>,
    /// How many literals.
    pub literals: usize,
}

/// Picks, per pattern, the candidate set that hits the fewest lines of `sample` (without a
/// sample: by [`static_cost`]), and builds one automaton over the picks. `None` inside when a
/// pattern has no candidate or the picks hit too many sample lines.
pub(super) fn choose(per_pattern: &[Vec<LitSet>], sample: &[u8]) -> Chosen {
    let off = Chosen {
        ac: None,
        literals: 0,
    };
    let sample_lines = memchr::memchr_iter(b'\n', sample).count().max(1);
    let cap = sample_lines;
    let mut all: LitSet = Vec::new();
    for sets in per_pattern {
        let best = if sample.is_empty() {
            sets.first().cloned()
        } else {
            sets.iter()
                .filter_map(|s| Some((lines_hit(&automaton(s)?, sample, cap), s)))
                .min_by_key(|(hits, s)| (*hits, static_cost(s)))
                .map(|(_, s)| s.clone())
        };
        match best {
            Some(s) => all.extend(s),
            None => return off,
        }
    }
    all.sort();
    all.dedup();
    let Some(ac) = automaton(&all) else {
        return off;
    };
    if !sample.is_empty() {
        let hit = lines_hit(&ac, sample, cap);
        if hit as f64 > MAX_HIT_SHARE * sample_lines as f64 {
            return off;
        }
    }
    Chosen {
        literals: all.len(),
        ac: Some(ac),
    }
}
