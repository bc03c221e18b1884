//! Shell words for display: the exact commands a dry run, an intent or a written workflow
//! shows, quoted for a POSIX shell.

/// Quotes one word for a POSIX shell (as is when it needs no quoting).
pub fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,^".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}
