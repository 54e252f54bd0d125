//! The `presigned-post` command.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use aws_config::BehaviorVersion;
use clap::{Parser, Subcommand};
use presigned_post::clock::SystemClock;
use presigned_post::config::{AwsDefaults, Settings};
use presigned_post::credentials::CredentialCache;
use presigned_post::startup::Application;
use presigned_post::telemetry;

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
    /// Run the HTTP service (the default).
    Serve,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_json);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => match serve(cli.config).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!("{error}");
                ExitCode::FAILURE
            }
        },
    }
}

async fn serve(config_file: Option<PathBuf>) -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::load(config_file.as_deref())?;
    let aws = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let config = settings.validate(&AwsDefaults::from_env(aws.region().map(|r| r.to_string())))?;
    let provider = aws
        .credentials_provider()
        .ok_or("aws-config found no credentials provider")?;
    let app = Application::build(
        config.clone(),
        CredentialCache::new(provider),
        Arc::new(SystemClock),
    )?;
    tracing::info!("listening on http://{}:{}", config.listen.ip(), app.port());
    app.run_until_stopped().await?;
    Ok(())
}
