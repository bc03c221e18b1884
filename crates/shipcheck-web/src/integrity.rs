//! The integrity line of a run's page and record: whether its journal verifies from the raw
//! stored text, as `shipcheck verify` checks it, with the verdict kept with the folded run
//! ([`crate::folded`]). Anchors and SSH signatures need git and ssh-keygen, which no render
//! runs: the line sends the reader to `shipcheck verify` for them.

use shipcheck_core::store::ChainReport;

use crate::folded::Folded;
use crate::html::esc;
use crate::pages::when;

/// The first eight hex digits of a hash, for people.
fn short(hash: &str) -> &str {
    hash.get(..8).unwrap_or(hash)
}

/// What lies outside the store (anchors, signatures) and how to check it.
fn outside(f: &Folded) -> Option<String> {
    let count = |n: usize, what: &str| match n {
        0 => None,
        1 => Some(format!("its {what}")),
        n => Some(format!("its {n} {what}s")),
    };
    let what: Vec<String> = [
        count(f.run.anchors.len(), "anchor"),
        count(f.run.ssh_signatures.len(), "SSH signature"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let plural = what.len() > 1 || f.run.anchors.len() > 1 || f.run.ssh_signatures.len() > 1;
    (!what.is_empty()).then(|| {
        let text = format!(
            "{} {} checked by `shipcheck verify {}`, not here",
            what.join(" and "),
            if plural { "are" } else { "is" },
            f.run.id
        );
        let mut c = text.chars();
        c.next()
            .map(|first| first.to_uppercase().chain(c).collect())
            .unwrap_or_default()
    })
}

/// The verdict in words: `Err` with the banner's text when the journal does not verify (now,
/// or when this server first saw it break), else the verified line.
fn words(f: &Folded) -> Result<String, String> {
    let whole = when(f.whole_at);
    if let Some(b) = &f.broken {
        let mut text = format!(
            "This run's journal does not verify: event {} — {} (seen {}). What is shown is the journal as stored now, not the record as it was written; `shipcheck verify {}` says more.",
            b.seq,
            b.reason,
            when(b.seen),
            f.run.id
        );
        if let ChainReport::Intact { .. } = f.report {
            text.push_str(&format!(
                " The journal as stored verifies again as of {whole}: it was changed back or restored since."
            ));
        }
        return Err(text);
    }
    match &f.report {
        ChainReport::Broken { seq, reason } => Err(format!(
            "This run's journal does not verify: event {seq} — {reason}."
        )),
        ChainReport::Intact { events, head } => {
            let mut text = format!(
                "Journal verified: {events} events chained, head {}… (the whole chain at {whole}, each event since as it was read).",
                short(head)
            );
            if let Some(o) = outside(f) {
                text.push_str(&format!(" {o}."));
            }
            Ok(text)
        }
    }
}

/// The line for the run's page: a banner when the journal does not verify.
pub(crate) fn html(f: &Folded) -> String {
    let code = |s: &str| {
        // `shipcheck verify …` in the words is shown as code.
        let mut out = String::new();
        for (i, part) in s.split('`').enumerate() {
            if i % 2 == 1 {
                out.push_str(&format!("<code>{}</code>", esc(part)));
            } else {
                out.push_str(&esc(part));
            }
        }
        out
    };
    match words(f) {
        Ok(text) => format!("<p class=\"integrity verified\">✓ {}</p>", code(&text)),
        Err(text) => format!(
            "<p class=\"integrity broken\" role=\"alert\">✗ {}</p>",
            code(&text)
        ),
    }
}

/// The line for the record (Markdown), before the record itself.
pub(crate) fn markdown(f: &Folded) -> String {
    match words(f) {
        Ok(text) => format!("> ✓ {text}\n\n"),
        Err(text) => format!("> **✗ {text}**\n\n"),
    }
}

#[cfg(test)]
#[path = "integrity_tests.rs"]
mod tests;
