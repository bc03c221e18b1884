//! The commented `shipcheck.toml` that `shipcheck init` writes (placeholder).
