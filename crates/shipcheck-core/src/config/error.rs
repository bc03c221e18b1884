//! Config errors (placeholder until the loader lands).

/// A config error.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    /// What.
    pub message: String,
}

impl ConfigError {
    /// Plain-text rendering (placeholder).
    pub fn render(&self) -> String {
        self.message.clone()
    }
}
