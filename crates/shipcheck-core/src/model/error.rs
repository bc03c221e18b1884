//! Error kinds: what sort of failure an error is, so a front end can answer it the same way
//! everywhere (the binary maps kinds to exit codes in one place; a web view to HTTP statuses).
//! Every library error type says its kind ([`HasKind`]); none knows an exit code.

/// What sort of failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `shipcheck.toml` (or a value in it) is missing or wrong.
    Config,
    /// The request itself is wrong or refused (an unknown item, a waiver without a reason, a
    /// run that is not open).
    Usage,
    /// An integration (a service, a program, the database) could not be reached or answered
    /// nonsense.
    Integration,
    /// Another process changed what this one was changing; nothing was written.
    Conflict,
    /// Someone else holds the deploy lock, or another process walks the environment.
    Locked,
    /// The operation ran and failed (a check failed, an action did not complete).
    Failed,
}

/// An error that knows its kind.
pub trait HasKind {
    /// The kind.
    fn kind(&self) -> ErrorKind;
}

/// A value that is not what it should be, with the reason (for parsers of small values:
/// durations, times, globs, conditions). Its kind is [`ErrorKind::Usage`] unless it came from
/// the config, which its caller says.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl HasKind for Invalid {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Usage
    }
}

impl From<String> for Invalid {
    fn from(s: String) -> Self {
        Invalid(s)
    }
}

impl From<&str> for Invalid {
    fn from(s: &str) -> Self {
        Invalid(s.to_string())
    }
}

impl From<Invalid> for String {
    fn from(e: Invalid) -> String {
        e.0
    }
}

impl std::ops::Deref for Invalid {
    type Target = str;
    /// The reason, as text.
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<&str> for Invalid {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<str> for Invalid {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}
