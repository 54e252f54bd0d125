//! Loading the settings with figment: the defaults in code, then the TOML file, then the
//! `PRESIGNED_POST__SECTION__KEY` environment variables.

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Toml};

use super::{ConfigError, Settings};

/// The settings file read when `--config` is not given (if it exists).
pub const DEFAULT_FILE: &str = "presigned-post.toml";
/// The prefix of environment variables that override settings.
pub const ENV_PREFIX: &str = "PRESIGNED_POST__";

impl Settings {
    /// Reads `file` (which must exist) or `presigned-post.toml` (if it exists), then the
    /// environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        match file {
            Some(path) if !path.is_file() => {
                return Err(ConfigError::Invalid(vec![format!(
                    "settings file {} does not exist",
                    path.display()
                )]));
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_FILE).is_file() => {
                figment = figment.merge(Toml::file_exact(DEFAULT_FILE));
            }
            None => {}
        }
        let figment = figment.merge(Env::prefixed(ENV_PREFIX).split("__"));
        Self::from_figment(figment)
    }

    /// Reads settings from any figment (tests give a TOML string).
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        figment
            .extract()
            .map_err(|e| ConfigError::Load(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_toml(toml: &str) -> Result<Settings, ConfigError> {
        Settings::from_figment(Figment::from(Toml::string(toml)))
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(matches!(
            from_toml("[store]\nbukket = \"x\""),
            Err(ConfigError::Load(_))
        ));
    }
}
