//! The one error of this layer: settings that could not be read, or every problem found in
//! them.

/// Settings that could not be loaded or do not make sense.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file or variable could not be read or parsed.
    #[error("cannot read settings: {0}")]
    Load(#[from] Box<figment::Error>),
    /// The settings were read but are wrong; every problem is listed.
    #[error("invalid settings:\n  - {}", .0.join("\n  - "))]
    Invalid(Vec<String>),
}
