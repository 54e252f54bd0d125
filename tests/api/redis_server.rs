//! A real `redis-server` (Debian's package, which `scripts/test` installs) on a loopback port of
//! this test process's block, with a password, no persistence, and its output in `server.log`
//! of its work directory. It can be stopped and started again on the same port, as an operator
//! restarting Redis would; it dies with the test process in any case.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::servers::{ServerProcess, free_port, work_dir};

/// The password every test Redis asks for: it must never show in the service's logs or answers.
pub const PASSWORD: &str = "redis-test-password-0b5f";

/// A test Redis: running, or stopped and ready to start again on the same port.
pub struct RedisServer {
    /// Its loopback port.
    pub port: u16,
    name: String,
    dir: PathBuf,
    process: Option<ServerProcess>,
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `redis-server` on `PATH` (Debian puts it in `/usr/bin`).
fn redis_server() -> PathBuf {
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    path_dirs
        .into_iter()
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("redis-server"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`redis-server` not found: the tests of rate limits shared by replicas run a \
                 real Redis. Run `scripts/test` (it installs Debian's redis-server), or \
                 `apt-get install redis-server`."
            )
        })
}

impl RedisServer {
    /// Starts a Redis on a free port of this process's block and waits until it takes
    /// connections.
    pub fn start(name: &str) -> RedisServer {
        let mut server = RedisServer {
            port: free_port(),
            name: name.to_owned(),
            dir: work_dir(name),
            process: None,
        };
        server.start_again();
        server
    }

    /// `redis://:PASSWORD@127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://:{PASSWORD}@127.0.0.1:{}", self.port)
    }

    /// Starts it (again) on its port, empty, and waits until it takes connections.
    pub fn start_again(&mut self) {
        assert!(self.process.is_none(), "{} runs already", self.name);
        let mut command = Command::new(redis_server());
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--requirepass", PASSWORD]);
        let mut process = ServerProcess::start(&self.name, command, &self.dir);
        if let Err(status) = process.wait_for(|p| {
            p.log()
                .contains("Ready to accept connections")
                .then_some(())
        }) {
            process.fail(&format!("exited ({status}) while starting"));
        }
        self.process = Some(process);
    }

    /// Stops it (SIGKILL: gone at once, as in a crash), if it runs.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop();
        }
    }

    /// A plain connection, for the test's own questions.
    pub fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .and_then(|client| client.get_connection_with_timeout(Duration::from_secs(2)))
            .unwrap_or_else(|e| panic!("connect to {}: {e}", self.name))
    }

    /// Redis's clock, in whole seconds since the epoch (`TIME`).
    pub fn time(&self) -> u64 {
        let (seconds, _micros): (u64, u64) = redis::cmd("TIME")
            .query(&mut self.connection())
            .expect("TIME");
        seconds
    }

    /// Waits, if fewer than `seconds` are left in Redis's current minute, for the next one:
    /// counts of a test then never straddle two windows.
    pub async fn wait_for_window(&self, seconds: u64) {
        wait_for_window(self.time(), seconds).await;
    }

    /// The keys starting with `prefix`.
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        let mut keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}*"))
            .query(&mut self.connection())
            .expect("KEYS");
        keys.sort();
        keys
    }
}

/// Waits, if fewer than `seconds` are left in the minute of `now` (seconds since the epoch),
/// for the next minute to start.
pub async fn wait_for_window(now: u64, seconds: u64) {
    let left = 60 - now % 60;
    if left < seconds {
        tokio::time::sleep(Duration::from_secs(left) + Duration::from_millis(200)).await;
    }
}
