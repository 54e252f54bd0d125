//! The `presigned-post` command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use presigned_post::config::Settings;
use presigned_post::{bucket_cors, startup, telemetry};

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
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_json);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => match Settings::load(cli.config.as_deref()) {
            Ok(settings) => startup::serve(settings).await.map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        },
        Command::Cors => Settings::load(cli.config.as_deref())
            .map(|settings| {
                let rule = bucket_cors::configuration(&[settings.browser_origin()]);
                println!(
                    "{}",
                    serde_json::to_string_pretty(&rule).expect("JSON always prints")
                );
            })
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            ExitCode::FAILURE
        }
    }
}
