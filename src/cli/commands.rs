//! The commands `main` dispatches to: `serve`, `cors`, `doctor`, `presign` and `hash-token`, each
//! from the settings file named on the command line (if any), printing to standard output.

use std::path::Path;

use super::startup::{PresignOnceError, StartError};
use super::{doctor, startup};
use crate::config::{ConfigError, Settings};
use crate::s3::cors_rule;
use crate::upload::access::{self, Caller, UserId};
use crate::upload::request::UploadRequest;

/// Why a command failed: each is logged as one error line, except [`CliError::ChecksFailed`],
/// whose report said why already. Every one exits with status 1.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The settings could not be loaded.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The service could not start, or the store and credentials could not be resolved.
    #[error(transparent)]
    Start(#[from] StartError),
    /// No policy could be made.
    #[error(transparent)]
    Presign(#[from] PresignOnceError),
    /// A command-line value is wrong.
    #[error("{0}")]
    Usage(&'static str),
    /// Standard input could not be read.
    #[error(transparent)]
    Stdin(#[from] std::io::Error),
    /// `doctor` found problems; its report said which.
    #[error("some checks failed")]
    ChecksFailed,
}

/// Runs the service until it is told to stop.
pub async fn serve(config: Option<&Path>) -> Result<(), CliError> {
    let settings = Settings::load(config)?;
    Ok(startup::serve(settings).await?)
}

/// Prints the bucket CORS rule the pages' script needs, for the configured origin.
pub fn cors(config: Option<&Path>) -> Result<(), CliError> {
    let settings = Settings::load(config)?;
    let rule = cors_rule::configuration(&[settings.browser_origin()]);
    println!(
        "{}",
        serde_json::to_string_pretty(&rule).expect("JSON always prints")
    );
    Ok(())
}

/// Runs the checks and prints them; [`CliError::ChecksFailed`] when any failed.
pub async fn doctor(config: Option<&Path>) -> Result<(), CliError> {
    let settings = Settings::load(config)?;
    let origin = settings.browser_origin();
    let resolved = startup::resolve(settings).await?;
    let checks = match resolved.embedded_store.is_some() {
        true => {
            println!("no bucket configured: the service uses its development store, not checked");
            doctor::service_checks(&resolved.config).await
        }
        false => doctor::run(resolved, &origin).await,
    };
    let (report, ok) = doctor::render(&checks);
    print!("{report}");
    if ok {
        Ok(())
    } else {
        Err(CliError::ChecksFailed)
    }
}

/// What `presign` signs, as the command line gives it.
#[derive(Debug)]
pub struct PresignArgs {
    /// The upload profile.
    pub profile: String,
    /// The file: its name goes into the key, its size into the request, and its path into the
    /// curl command line.
    pub file: std::path::PathBuf,
    /// Its media type.
    pub content_type: Option<String>,
    /// Print a curl command line instead of JSON.
    pub curl: bool,
    /// Sign as this user.
    pub user: Option<String>,
}

/// Prints a signed policy for the file as JSON, or as a curl command line.
pub async fn presign(config: Option<&Path>, args: PresignArgs) -> Result<(), CliError> {
    let PresignArgs {
        profile,
        file,
        content_type,
        curl,
        user,
    } = args;
    let user = user
        .map(|u| UserId::parse(&u).ok_or(CliError::Usage("--user takes 1-64 of A-Z a-z 0-9 - _")))
        .transpose()?;
    let settings = Settings::load(config)?;
    let filename = file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or(CliError::Usage("--file must name a file"))?
        .to_owned();
    let size = std::fs::metadata(&file).ok().map(|m| m.len());
    let request = UploadRequest {
        filename,
        content_type,
        size,
        metadata: Default::default(),
    };
    let caller = user.map_or(Caller::Anonymous, Caller::User);
    let post = startup::presign_once(settings, &profile, &request, &caller).await?;
    if curl {
        println!("{}", post.curl_command(&file.display().to_string()));
    } else {
        println!(
            "{}",
            serde_json::to_string_pretty(&post).expect("JSON always prints")
        );
    }
    Ok(())
}

/// Prints the SHA-256 of the token on the first line of standard input (without its line end).
pub fn hash_token() -> Result<(), CliError> {
    let mut token = String::new();
    std::io::stdin().read_line(&mut token)?;
    println!(
        "{}",
        access::hash_token(token.trim_end_matches(['\r', '\n']))
    );
    Ok(())
}
