//! The literal prefilter: for each pattern, sets of literals of which every match must
//! contain one ("required literals"), found in the pattern's syntax tree; the rarest set per
//! pattern is picked on a sample of the input; one Aho-Corasick automaton (Teddy, SIMD, when
//! the literals fit) over all of them finds candidate lines, and only those are matched
//! with the regex set.
//!
//! A pattern with no usable literal set (`.*`, `\w+`), or literals that hit most lines of
//! the sample, turns the prefilter off: the scan then finds candidates with one regex (the
//! patterns as an alternation, a lazy DFA over the whole buffer) instead.

use aho_corasick::{AhoCorasick, MatchKind, packed};
use regex_syntax::hir::literal::{ExtractKind, Extractor, Seq};
use regex_syntax::hir::{Hir, HirKind};

/// Teddy (the SIMD multi-literal search) takes at most this many literals; the patterns'
/// sets share this budget, each shortened (every literal cut to fewer bytes) to its share.
const TEDDY_LIMIT: usize = 64;
/// No set is shortened below this many members' budget.
const MIN_BUDGET: usize = 4;
/// At most this many candidate sets are tried per pattern.
const MAX_CANDIDATES: usize = 8;
/// The sample the candidates are tried on is at most this long.
const SAMPLE: usize = 256 << 10;
/// Above this share of sample lines hit, the literal prefilter is not worth it.
const MAX_HIT_SHARE: f64 = 0.3;

/// A set of literals; every match of its pattern contains one of them.
pub(super) type LitSet = Vec<Vec<u8>>;

/// A candidate set, and whether every match *starts* with one of its literals (then a hit can
/// be checked with an anchored search at the hit instead of matching the whole line).
pub(super) type Cand = (LitSet, bool);

/// Each pattern's share of [`TEDDY_LIMIT`] when there are `n` patterns.
pub(super) fn budget(n: usize) -> usize {
    (TEDDY_LIMIT / n.max(1)).max(MIN_BUDGET)
}

/// The candidate literal sets of `pattern` (none: it has no usable required literals), each
/// of at most `budget` literals.
pub(super) fn candidates(pattern: &str, budget: usize) -> Vec<Cand> {
    let Ok(hir) = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(pattern)
    else {
        return Vec::new();
    };
    let mut out = walk(&hir, 0, budget);
    out.sort_by_key(|c| static_cost(&c.0));
    out.dedup();
    out.truncate(MAX_CANDIDATES);
    out
}

fn walk(hir: &Hir, depth: usize, budget: usize) -> Vec<Cand> {
    let whole = |h: &Hir| prefix_set(h, budget).map(|s| (s, true));
    if depth > 16 {
        return whole(hir).into_iter().collect();
    }
    match hir.kind() {
        HirKind::Concat(subs) => {
            let mut out = Vec::new();
            for i in 0..subs.len() {
                if let Some(s) = prefix_set(&Hir::concat(subs[i..].to_vec()), budget) {
                    out.push((s, i == 0));
                }
            }
            for (i, sub) in subs.iter().enumerate() {
                out.extend(
                    walk(sub, depth + 1, budget)
                        .into_iter()
                        .map(|(s, prefix)| (s, prefix && i == 0)),
                );
            }
            out
        }
        HirKind::Alternation(branches) => {
            // Every branch must contribute: the union of each branch's best set.
            let mut union: LitSet = Vec::new();
            let mut all_prefix = true;
            let mut complete = true;
            for b in branches {
                match walk(b, depth + 1, budget)
                    .into_iter()
                    .min_by_key(|c| static_cost(&c.0))
                {
                    Some((best, prefix)) => {
                        union.extend(best);
                        all_prefix &= prefix;
                    }
                    None => {
                        complete = false;
                        break;
                    }
                }
            }
            let mut out: Vec<Cand> = whole(hir).into_iter().collect();
            if complete && !union.is_empty() && union.len() <= budget.max(2 * branches.len()) {
                union.sort();
                union.dedup();
                out.push((union, all_prefix));
            }
            out
        }
        HirKind::Capture(c) => walk(&c.sub, depth + 1, budget),
        HirKind::Repetition(r) if r.min >= 1 => walk(&r.sub, depth + 1, budget),
        _ => whole(hir).into_iter().collect(),
    }
}

/// The prefixes every match of `hir` starts with, when they are finitely many, none empty,
/// none holding a newline; cut short until there are at most `budget`.
fn prefix_set(hir: &Hir, budget: usize) -> Option<LitSet> {
    let mut seq: Seq = Extractor::new().kind(ExtractKind::Prefix).extract(hir);
    seq.dedup();
    let mut min = seq.min_literal_len()?;
    while seq.len()? > budget && min > 2 {
        min -= 1;
        seq.keep_first_bytes(min);
        seq.dedup();
    }
    let lits = seq.literals()?;
    if lits.is_empty() || lits.len() > budget {
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

/// A literal searcher: Teddy when the literals fit it, else an Aho-Corasick automaton.
pub(super) enum Searcher {
    Teddy(packed::Searcher),
    Automaton(AhoCorasick),
}

/// The chosen literals and how to search them.
pub(super) struct Literals {
    searcher: Searcher,
    /// Per literal: the patterns owning it, when each of them starts with it (a hit is then
    /// checked with anchored searches of those patterns at the hit).
    anchored: Vec<Option<Vec<usize>>>,
}

impl Literals {
    /// The first literal at or after `from`: its start, and the patterns to try anchored
    /// there (`None`: match the whole line).
    #[inline]
    pub fn find(&self, hay: &[u8], from: usize) -> Option<(usize, Option<&[usize]>)> {
        let m = match &self.searcher {
            Searcher::Teddy(s) => s.find_in(hay, aho_corasick::Span::from(from..hay.len())),
            Searcher::Automaton(ac) => ac.find(aho_corasick::Input::new(hay).span(from..hay.len())),
        }?;
        let owners = self
            .anchored
            .get(m.pattern().as_usize())
            .and_then(|o| o.as_deref());
        Some((m.start(), owners))
    }
}

/// The prefilter for a scan.
pub(super) struct Chosen {
    /// The searcher, when literals are worth it.
    pub literals: Option<Literals>,
    /// How many literals, and which searcher.
    pub describe: String,
}

/// Picks, per pattern, the candidate set that hits the fewest lines of `sample` (without a
/// sample: by [`static_cost`]), and builds one automaton over the picks. `None` inside when a
/// pattern has no candidate or the picks hit too many sample lines.
pub(super) fn choose(per_pattern: &[Vec<Cand>], sample: &[u8]) -> Chosen {
    let off = Chosen {
        literals: None,
        describe: "regex".into(),
    };
    let sample = match memchr::memrchr(b'\n', &sample[..sample.len().min(SAMPLE)]) {
        Some(i) => &sample[..=i],
        None => &sample[..sample.len().min(SAMPLE)],
    };
    let sample_lines = memchr::memchr_iter(b'\n', sample).count().max(1);
    let cap = sample_lines;
    // (literal, pattern, starts the pattern)
    let mut owned: Vec<(Vec<u8>, usize, bool)> = Vec::new();
    for (i, sets) in per_pattern.iter().enumerate() {
        let best = if sample.is_empty() {
            sets.first().cloned()
        } else {
            sets.iter()
                .filter_map(|c| Some((lines_hit(&automaton(&c.0)?, sample, cap), c)))
                .min_by_key(|(hits, c)| (*hits, static_cost(&c.0)))
                .map(|(_, c)| c.clone())
        };
        match best {
            Some((lits, prefix)) => owned.extend(lits.into_iter().map(|l| (l, i, prefix))),
            None => return off,
        }
    }
    owned.sort();
    let mut all: LitSet = Vec::new();
    let mut anchored: Vec<Option<Vec<usize>>> = Vec::new();
    for (lit, pattern, prefix) in owned {
        if all.last() != Some(&lit) {
            all.push(lit);
            anchored.push(Some(Vec::new()));
        }
        if let Some(slot) = anchored.last_mut() {
            match (slot.as_mut(), prefix) {
                (Some(list), true) => list.push(pattern),
                _ => *slot = None,
            }
        }
    }
    let Some(ac) = automaton(&all) else {
        return off;
    };
    if !sample.is_empty() {
        let hit = lines_hit(&ac, sample, cap);
        if hit as f64 > MAX_HIT_SHARE * sample_lines as f64 {
            return off;
        }
    }
    let teddy = packed::Config::new()
        .match_kind(packed::MatchKind::LeftmostFirst)
        .builder()
        .extend(&all)
        .build();
    match teddy {
        Some(t) => Chosen {
            literals: Some(Literals {
                searcher: Searcher::Teddy(t),
                anchored,
            }),
            describe: format!("literals ({}, Teddy)", all.len()),
        },
        None => Chosen {
            literals: Some(Literals {
                searcher: Searcher::Automaton(ac),
                anchored,
            }),
            describe: format!("literals ({}, Aho-Corasick)", all.len()),
        },
    }
}
