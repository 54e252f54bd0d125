//! The `presigned-post` command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use presigned_post::app::telemetry;
use presigned_post::cli::startup::{PresignOnceError, StartError};
use presigned_post::cli::{doctor, startup};
use presigned_post::config::{ConfigError, Settings};
use presigned_post::s3::cors_rule;
use presigned_post::upload::access::{self, Caller, UserId};
use presigned_post::upload::request::UploadRequest;

/// Signed S3 POST policies so browsers upload straight to the bucket.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Settings file (default: ./presigned-post.toml if it exists).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Log one JSON object per line.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service (the default). With no bucket configured, a local development
    /// store starts in the same process.
    Serve,
    /// Print the bucket CORS rule the upload page's script needs, for
    /// `aws s3api put-bucket-cors --bucket BUCKET --cors-configuration file://cors.json`.
    Cors,
    /// Check credentials, clock, bucket and region, CORS, and a real test upload against the
    /// configured store; exits non-zero if anything fails.
    Doctor,
    /// Print a signed policy for one file as JSON (or as a curl command line).
    Presign {
        /// The upload profile.
        #[arg(long)]
        profile: String,
        /// The file to upload (its name goes into the key; with --curl, its path into the command).
        #[arg(long)]
        file: PathBuf,
        /// Its media type.
        #[arg(long)]
        content_type: Option<String>,
        /// Print a ready curl command line instead of JSON.
        #[arg(long)]
        curl: bool,
        /// Sign as this user (for `access = "token"` profiles; fills `{user}` in the prefix).
        #[arg(long)]
        user: Option<String>,
    },
    /// Print the SHA-256 of a token read from standard input, for `[[tokens]] sha256`.
    HashToken,
}

/// Why a command failed: each is logged as one error line, except [`CliError::ChecksFailed`],
/// whose report said why already. Every one exits with status 1.
#[derive(Debug, thiserror::Error)]
enum CliError {
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

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_json);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.config).await,
        Command::Cors => Settings::load(cli.config.as_deref())
            .map(|settings| {
                let rule = cors_rule::configuration(&[settings.browser_origin()]);
                println!(
                    "{}",
                    serde_json::to_string_pretty(&rule).expect("JSON always prints")
                );
            })
            .map_err(CliError::from),
        Command::Doctor => doctor(cli.config).await,
        Command::Presign {
            profile,
            file,
            content_type,
            curl,
            user,
        } => presign(cli.config, &profile, &file, content_type, curl, user).await,
        Command::HashToken => {
            let mut token = String::new();
            std::io::stdin()
                .read_line(&mut token)
                .map(|_| {
                    println!(
                        "{}",
                        access::hash_token(token.trim_end_matches(['\r', '\n']))
                    )
                })
                .map_err(CliError::from)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::ChecksFailed) => ExitCode::FAILURE,
        Err(error) => {
            tracing::error!("{}", telemetry::with_causes(&error));
            ExitCode::FAILURE
        }
    }
}

/// Runs the service until it is told to stop.
async fn serve(config: Option<PathBuf>) -> Result<(), CliError> {
    let settings = Settings::load(config.as_deref())?;
    Ok(startup::serve(settings).await?)
}

/// Runs the checks and prints them; [`CliError::ChecksFailed`] when any failed.
async fn doctor(config: Option<PathBuf>) -> Result<(), CliError> {
    let settings = Settings::load(config.as_deref())?;
    let origin = settings.browser_origin();
    let resolved = startup::resolve(settings).await?;
    if resolved.embedded_store.is_some() {
        println!("no bucket configured: the service uses its development store; nothing to check");
        return Ok(());
    }
    let checks = doctor::run(resolved, &origin).await;
    let (report, ok) = doctor::render(&checks);
    print!("{report}");
    if ok {
        Ok(())
    } else {
        Err(CliError::ChecksFailed)
    }
}

/// Prints a signed policy for `file` as JSON, or as a curl command line.
async fn presign(
    config: Option<PathBuf>,
    profile: &str,
    file: &std::path::Path,
    content_type: Option<String>,
    curl: bool,
    user: Option<String>,
) -> Result<(), CliError> {
    let user = user
        .map(|u| UserId::parse(&u).ok_or(CliError::Usage("--user takes 1-64 of A-Z a-z 0-9 - _")))
        .transpose()?;
    let settings = Settings::load(config.as_deref())?;
    let filename = file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or(CliError::Usage("--file must name a file"))?
        .to_owned();
    let size = std::fs::metadata(file).ok().map(|m| m.len());
    let request = UploadRequest {
        filename,
        content_type,
        size,
        metadata: Default::default(),
    };
    let caller = user.map_or(Caller::Anonymous, Caller::User);
    let post = startup::presign_once(settings, profile, &request, &caller).await?;
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
