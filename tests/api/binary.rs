//! The real `presigned-post` binary: settings from a file and the environment, credentials from
//! the standard AWS variables, and no secret in any log line or response.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::servers::forward_output;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETSECRET";
const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKENVALUE";

/// A running binary; killed on drop.
pub struct Running {
    pub child: Child,
    log: Arc<Mutex<String>>,
    /// The threads reading its stdout and stderr into `log`; done once it has exited.
    output: Vec<JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Everything it printed so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits (up to 30 s) for the process to exit and for the last of its output to be in the
    /// log.
    pub fn wait_for_exit(&mut self) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                for reader in self.output.drain(..) {
                    reader.join().expect("the log reader ends with the output");
                }
                return status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the binary kept running:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Asks it to stop (SIGTERM), as a service manager would, and waits as
    /// [`Running::wait_for_exit`] does.
    pub fn stop(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        self.wait_for_exit()
    }

    /// Waits for the "listening on" line and returns the address.
    pub fn address(&self) -> String {
        let started = Instant::now();
        loop {
            let log = self.log();
            if let Some(rest) = log.split("listening on http://").nth(1) {
                return rest.split_whitespace().next().unwrap().to_owned();
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the binary did not start:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Starts the binary in `dir` with `settings` in `file_name`, passed with `--config` unless it
/// is the default `presigned-post.toml`, and AWS credentials for a configured bucket.
fn start(dir: &std::path::Path, file_name: &str, settings: &str) -> Running {
    std::fs::write(dir.join(file_name), settings).unwrap();
    let args: &[&str] = if file_name == "presigned-post.toml" {
        &[]
    } else {
        &["--config", file_name]
    };
    start_binary(
        dir,
        args,
        &[
            ("AWS_ACCESS_KEY_ID", "AKIDBINARYTEST"),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
            ("AWS_SESSION_TOKEN", SESSION_TOKEN),
            ("AWS_REGION", "eu-west-1"),
            ("PRESIGNED_POST__STORE__BUCKET", "binary-test"),
        ],
    )
}

/// Starts the binary in `dir` with only `env` (plus PATH, HOME, full logging, no instance
/// metadata lookups, and port 0). Its output is kept for [`Running::log`] (and with `TEST_LOG=1`
/// goes to stderr too).
pub fn start_binary(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_presigned-post"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("RUST_LOG", "trace")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("PRESIGNED_POST__LISTEN", "127.0.0.1:0")
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let log = Arc::new(Mutex::new(String::new()));
    let name = format!(
        "presigned-post {}",
        dir.file_name().unwrap().to_string_lossy()
    );
    let output = [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ]
    .map(|stream| {
        let log = Arc::clone(&log);
        forward_output(name.clone(), stream, move |line| {
            let mut log = log.lock().unwrap();
            log.push_str(line);
            log.push('\n');
        })
    })
    .into();
    Running { child, log, output }
}

/// A fresh directory under the target directory.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn binary_serves_settings_from_file_and_env_and_never_leaks_secrets() {
    let dir = temp_dir("binary");
    let mut running = start(
        &dir,
        "settings.toml",
        "[profiles.avatar]\nkey_prefix = \"avatars/\"\nmax_size = \"5 MiB\"\ncontent_types = [\"image/*\"]\n",
    );
    let address = running.address();
    let http = reqwest::Client::new();
    let mut answers = Vec::new();
    let requests = [
        json!({"profile": "avatar", "filename": "me.png", "content_type": "image/png"}),
        json!({"profile": "avatar", "filename": "../me.png", "content_type": "image/png"}),
        json!({"profile": "nope", "filename": "me.png"}),
        json!({"profile": "avatar", "filename": "me.png", "content_type": "text/html"}),
    ];
    let mut statuses = Vec::new();
    for body in &requests {
        let response = http
            .post(format!("http://{address}/api/uploads"))
            .json(body)
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        answers.push(response.text().await.unwrap());
    }
    assert_eq!(statuses, [200, 422, 404, 422], "answers: {answers:?}");
    let first: serde_json::Value = serde_json::from_str(&answers[0]).unwrap();
    assert_eq!(
        first["url"],
        "https://binary-test.s3.eu-west-1.amazonaws.com/"
    );
    assert!(first["key"].as_str().unwrap().starts_with("avatars/"));
    assert_eq!(first["fields"]["x-amz-security-token"], SESSION_TOKEN);
    assert!(
        first["fields"]["x-amz-credential"]
            .as_str()
            .unwrap()
            .starts_with("AKIDBINARYTEST/")
    );

    let health = http
        .get(format!("http://{address}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    drop(http);
    running.stop();
    let log = running.log();
    assert!(
        log.contains("issued upload policy"),
        "the log shows the service working:\n{log}"
    );
    for secret in [SECRET, "SECRETSECRET"] {
        assert!(!log.contains(secret), "a secret is in the log:\n{log}");
        assert!(
            answers.iter().all(|a| !a.contains(secret)),
            "a secret is in a response: {answers:?}"
        );
    }
}

#[tokio::test]
async fn bad_settings_stop_the_binary_with_every_problem_named() {
    let dir = temp_dir("binary-bad");
    let mut running = start(
        &dir,
        "presigned-post.toml",
        "[profiles.x]\nmax_size = \"6 TiB\"\nexpires = 900000\n",
    );
    let status = running.wait_for_exit();
    let log = running.log();
    assert!(!status.success());
    assert!(
        log.contains("5 TiB") && log.contains("milliseconds"),
        "{log}"
    );
}

#[tokio::test]
async fn json_logs_and_a_graceful_stop_on_sigterm() {
    let dir = temp_dir("binary-json");
    let mut running = start_binary(&dir, &["--log-json"], &[("RUST_LOG", "info")]);
    let address = {
        let started = Instant::now();
        loop {
            let log = running.log();
            if let Some(line) = log.lines().find(|l| l.contains("listening on http://")) {
                let line: serde_json::Value = serde_json::from_str(line).expect("a JSON log line");
                let message = line["fields"]["message"].as_str().unwrap();
                break message
                    .trim_start_matches("listening on http://")
                    .to_owned();
            }
            assert!(started.elapsed() < Duration::from_secs(30), "{log}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let health = reqwest::get(format!("http://{address}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let status = running.stop();
    assert!(status.success(), "{status:?}");
    let log = running.log();
    for line in log.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "not JSON: {line}"
        );
    }
    assert!(log.contains("graceful shutdown"), "{log}");
}
