//! What a name says about the environment it deploys: the words of a file name, a directory
//! or an app name. `[env]` values are never read: the corpus shows staging and preview files
//! that say `NODE_ENV = "production"`.

use super::Env;

/// Words that name an environment. `other` covers real deployments that are not a stage
/// before production (a sandbox, a test network).
const ENV_WORDS: &[(Env, &[&str])] = &[
    (Env::Production, &["production", "prod", "prd", "mainnet"]),
    (Env::Staging, &["staging", "stage", "stg", "preprod"]),
    (
        Env::Development,
        &["development", "develop", "devel", "dev"],
    ),
    (Env::Preview, &["preview", "review"]),
    (Env::Test, &["test", "testing", "qa", "uat", "e2e"]),
    (
        Env::Other,
        &[
            "sandbox", "testnet", "devnet", "sepolia", "goerli", "holesky",
        ],
    ),
];

/// Words that make an app something other than a stage of an app (an example or template
/// to copy, a demo): weaker than an environment word, so `cof-log-shipper-prod` is
/// production and `fly-log-shipper-example` is `other`.
const ROLE_WORDS: &[&str] = &["example", "examples", "template", "sample", "demo"];

/// Deployment slots: `mainnet-blue` is the same environment and the same app group.
const SLOT_WORDS: &[&str] = &["blue", "green"];

/// How strongly a name marks an environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Strength {
    /// A role word (`example`, `log-shipper`): the app is `other`.
    Role,
    /// An environment word (`staging`, `prod`, `sandbox`, `pr-12`).
    Env,
}

/// What one name says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Marker {
    /// The environment.
    pub env: Env,
    /// The word (or words) that say it, as written in the name.
    pub word: String,
    /// Environment word or role word.
    pub strength: Strength,
    /// Other environment words in the same name that were passed over.
    pub also: Vec<String>,
}

/// The lowercase words of a name, split at anything that is not a letter or digit.
pub(crate) fn words(name: &str) -> Vec<String> {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// One word (or a pair: `pr 12`, `pre prod`, `log shipper`) read from `words[i..]`: the
/// environment or role it marks and how many words it took.
fn read_word(words: &[String], i: usize) -> Option<(Env, Strength, String, usize)> {
    let w = words[i].as_str();
    let next = words.get(i + 1).map(String::as_str);
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if w == "pr" && next.is_some_and(digits) {
        return Some((
            Env::Preview,
            Strength::Env,
            format!("pr-{}", next.unwrap_or("")),
            2,
        ));
    }
    if w.len() > 2 && w.starts_with("pr") && digits(&w[2..]) {
        return Some((Env::Preview, Strength::Env, w.to_string(), 1));
    }
    if w == "pre" && matches!(next, Some("prod" | "production")) {
        return Some((
            Env::Staging,
            Strength::Env,
            format!("pre-{}", next.unwrap_or("")),
            2,
        ));
    }
    if w == "log" && matches!(next, Some("shipper" | "shippers")) {
        return Some((Env::Other, Strength::Role, "log-shipper".into(), 2));
    }
    if w == "logshipper" {
        return Some((Env::Other, Strength::Role, w.to_string(), 1));
    }
    for (env, spellings) in ENV_WORDS {
        if spellings.contains(&w) {
            return Some((*env, Strength::Env, w.to_string(), 1));
        }
    }
    if ROLE_WORDS.contains(&w) {
        return Some((Env::Other, Strength::Role, w.to_string(), 1));
    }
    None
}

/// What the words of one name say. Environment words beat role words. When one name holds
/// two different environment words, the first that is not production is taken (never
/// production by a guess) and the others are kept in `also`.
pub(crate) fn marker(words: &[String]) -> Option<Marker> {
    let mut found: Vec<(Env, Strength, String)> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        match read_word(words, i) {
            Some((env, strength, word, took)) => {
                found.push((env, strength, word));
                i += took;
            }
            None => i += 1,
        }
    }
    let strongest = found.iter().map(|f| f.1).max()?;
    let candidates: Vec<&(Env, Strength, String)> =
        found.iter().filter(|f| f.1 == strongest).collect();
    let first_env = candidates.first()?.0;
    let chosen = if candidates.iter().all(|c| c.0 == first_env) {
        candidates.first()?
    } else {
        candidates
            .iter()
            .find(|c| c.0 != Env::Production)
            .or(candidates.first())?
    };
    Some(Marker {
        env: chosen.0,
        word: chosen.2.clone(),
        strength: strongest,
        also: candidates
            .iter()
            .filter(|c| c.0 != chosen.0)
            .map(|c| c.2.clone())
            .collect(),
    })
}

/// The words of a name without its environment, role and slot words: what stays the same
/// across environments (`gaia-gateway-prod` → `gaia-gateway`). `log-shipper` stays: it is
/// what the app is.
pub(crate) fn stem(words: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        if SLOT_WORDS.contains(&w) {
            i += 1;
            continue;
        }
        match read_word(words, i) {
            Some((_, _, word, took)) if !word.starts_with("log") => i += took,
            _ => {
                out.push(words[i].clone());
                i += 1;
            }
        }
    }
    out
}

/// The words of a Fly config file's name between `fly` and the extension:
/// `fly.kb.production.toml` → `kb`, `production`; `fly-preview.yml` → `preview`.
pub(crate) fn file_words(file_name: &str) -> Vec<String> {
    let base = [".toml", ".yml", ".yaml", ".json"]
        .iter()
        .find_map(|ext| file_name.strip_suffix(ext))
        .unwrap_or(file_name);
    let rest = base.strip_prefix("fly").unwrap_or(base);
    words(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str) -> Option<(Env, String)> {
        marker(&words(name)).map(|m| (m.env, m.word))
    }

    #[test]
    fn names_say_environments() {
        assert_eq!(
            m("gaia-gateway-dev"),
            Some((Env::Development, "dev".into()))
        );
        assert_eq!(m("regex-help-stg"), Some((Env::Staging, "stg".into())));
        assert_eq!(
            m("carbonable-mainnet-blue-indexer").unwrap().0,
            Env::Production
        );
        assert_eq!(m("carbonable-testnet-indexer").unwrap().0, Env::Other);
        assert_eq!(m("shaun-etcd-test-2").unwrap().0, Env::Test);
        assert_eq!(
            m("pr-12-superfly-docs"),
            Some((Env::Preview, "pr-12".into()))
        );
        assert_eq!(m("acme-pr7").unwrap().0, Env::Preview);
        assert_eq!(m("acme-pre-prod"), Some((Env::Staging, "pre-prod".into())));
        // An environment word beats a role word.
        assert_eq!(m("cof-log-shipper-prod").unwrap().0, Env::Production);
        assert_eq!(m("fly-log-shipper-example").unwrap().0, Env::Other);
        assert_eq!(m("hello-elixir"), None);
        assert_eq!(m("livebeats"), None);
        // Two environment words: never production by a guess.
        let two = marker(&words("prod-test-runner")).unwrap();
        assert_eq!(two.env, Env::Test);
        assert_eq!(two.also, vec!["prod".to_string()]);
        // Words, not substrings.
        assert_eq!(m("devops-api"), None);
        assert_eq!(m("production-like"), m("production"));
    }

    #[test]
    fn stems_and_file_words() {
        let s = |n: &str| stem(&words(n)).join("-");
        assert_eq!(s("gaia-gateway-prod"), "gaia-gateway");
        assert_eq!(s("carbonable-mainnet-blue-indexer"), "carbonable-indexer");
        assert_eq!(s("http-cache-sandbox"), "http-cache");
        assert_eq!(s("indexer-log-shipper"), "indexer-log-shipper");
        assert_eq!(s("pr-12-docs"), "docs");
        assert_eq!(file_words("fly.toml"), Vec::<String>::new());
        assert_eq!(file_words("fly.kb.production.toml"), ["kb", "production"]);
        assert_eq!(file_words("fly-preview.yml"), ["preview"]);
        assert_eq!(file_words("fly.mainnet-blue.toml"), ["mainnet", "blue"]);
    }
}
