//! The checklist: the built-in default (the seed, item for item) and a team's changes to it.

pub mod apis;
pub mod conditions;
pub mod fly;
pub mod model;

use serde::Deserialize;

pub use apis::*;
pub use fly::*;
pub use model::*;

/// The built-in checklist's TOML, embedded in the binary.
pub const DEFAULT_CHECKLIST_TOML: &str = include_str!("default-checklist.toml");

/// An ordered list of items, by phase then by position.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, Deserialize)]
pub struct Checklist {
    /// The items, in phase order and, within a phase, in the order written.
    pub items: Vec<Item>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DefaultFile {
    items: Vec<Item>,
}

/// A problem in the `[checklist]` table, with the key path it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChecklistProblem {
    /// The key path in `shipcheck.toml` (`checklist.items[2].id`).
    pub path: String,
    /// What is wrong and what to write instead.
    pub message: String,
}

impl Checklist {
    /// The built-in checklist (the seed's lines as 58 items, `verify.version-live`, and the
    /// two markers in other services: `verify.deployment-record`, `close.deploy-markers`).
    #[expect(
        clippy::panic,
        reason = "the checklist is compiled into the binary and parsed by a unit test; it cannot be invalid at run time"
    )]
    pub fn builtin() -> Checklist {
        let file: DefaultFile = toml::from_str(DEFAULT_CHECKLIST_TOML)
            .unwrap_or_else(|e| panic!("the embedded default checklist is invalid: {e}"));
        Checklist { items: file.items }
    }

    /// The item with this id.
    pub fn get(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    /// The items of one phase, in order.
    pub fn phase(&self, phase: Phase) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(move |i| i.phase == phase)
    }

    /// Every item id.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(|i| i.id.as_str())
    }

    /// A "did you mean" for an unknown id.
    pub fn suggest(&self, id: &str) -> Option<String> {
        suggest(id, self.ids())
    }
}

/// The closest candidate to `word` by edit distance, if it is close enough to be a typo.
pub fn suggest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(word, c);
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let (d, c) = best?;
    let limit = (word.chars().count().max(c.chars().count()) / 3).max(1);
    (d <= limit).then(|| c.to_string())
}

/// Levenshtein distance.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn builtin_has_the_seeds_58_items_version_live_production_healthy_and_two_markers_in_8_phases()
    {
        let c = Checklist::builtin();
        assert_eq!(c.items.len(), 62);
        let counts: Vec<usize> = Phase::ALL.iter().map(|p| c.phase(*p).count()).collect();
        assert_eq!(counts, vec![23, 6, 2, 4, 4, 12, 5, 6]);
        for item in &c.items {
            assert!(
                item.id.starts_with(&format!("{}.", item.phase)),
                "{}",
                item.id
            );
        }
        let ids: BTreeSet<_> = c.ids().collect();
        assert_eq!(ids.len(), 62, "ids are unique");
        // Phases are in order.
        assert!(c.items.windows(2).all(|w| w[0].phase <= w[1].phase));
    }

    #[test]
    fn suggestions_find_typos() {
        assert_eq!(
            suggest("prepare.backpu", Checklist::builtin().ids()).as_deref(),
            Some("prepare.backup")
        );
        assert_eq!(suggest("zzz", ["name", "fly_app"].into_iter()), None);
    }
}
