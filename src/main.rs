//! The `presigned-post` command: reads the command line, sets up logging, and runs the command
//! from `presigned_post::cli::commands`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use presigned_post::app::telemetry;
use presigned_post::cli::commands::{self, CliError, PresignArgs};

/// mimalloc instead of glibc's allocator: a policy request makes a few dozen short-lived
/// allocations, some over 1 KiB, and glibc consolidated its fast bins on each of those.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let _log_writer = telemetry::init(cli.log_json);
    let config = cli.config.as_deref();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => commands::serve(config).await,
        Command::Cors => commands::cors(config),
        Command::Doctor => commands::doctor(config).await,
        Command::Presign {
            profile,
            file,
            content_type,
            curl,
            user,
        } => {
            let args = PresignArgs {
                profile,
                file,
                content_type,
                curl,
                user,
            };
            commands::presign(config, args).await
        }
        Command::HashToken => commands::hash_token(),
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
