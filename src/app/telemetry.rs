//! Logging: `tracing` to standard error, filtered by `RUST_LOG` (default `info`); and
//! [`with_causes`], how an error is written for people (in logs and reports).

use std::error::Error;
use std::fmt;
use std::io::{BufWriter, IsTerminal};

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// The most log text written with one system call.
const LOG_BUFFER_BYTES: usize = 64 * 1024;

/// The most lines waiting for the writer before loggers wait for it. The queue's slots are
/// allocated and touched up front (32 bytes each): `tracing-appender`'s default of 128,000
/// kept 4 MB resident for nothing.
const QUEUED_LINES: usize = 8192;

/// Installs the global subscriber; `json` switches to one JSON object per line.
///
/// Lines are formatted on the thread that logs them and written to standard error by a thread
/// of their own, so a request never waits for a `write(2)` (issue 14: the write was a quarter of
/// a policy's cost). That thread writes whatever lines are waiting with one `write(2)` (through a
/// buffer it flushes as soon as no line waits), so a busy service makes few system calls and an
/// idle one shows each line at once. Lines are never dropped: if the writer falls
/// [`QUEUED_LINES`] behind, loggers wait for it. Keep the returned guard until the program
/// ends: dropping it writes what is left.
#[must_use = "dropping the guard stops the log writer"]
pub fn init(json: bool) -> WorkerGuard {
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(QUEUED_LINES)
        .thread_name("log-writer")
        .finish(BufWriter::with_capacity(
            LOG_BUFFER_BYTES,
            std::io::stderr(),
        ));
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::stderr().is_terminal());
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
    guard
}

/// `error` followed by its causes (its [`source`](Error::source) chain), each after `: `, as in
/// `unreachable: error sending request: connection refused`.
///
/// An error's own message leaves its cause out (the cause is its source), so logs and reports
/// write errors with this. A cause whose message its parent's already ends with (an error that
/// still writes its source into its message) is not written twice.
pub fn with_causes<'a>(error: &'a (dyn Error + 'static)) -> impl fmt::Display + 'a {
    WithCauses(error)
}

struct WithCauses<'a>(&'a (dyn Error + 'static));

impl fmt::Display for WithCauses<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut written = self.0.to_string();
        f.write_str(&written)?;
        let mut cause = self.0.source();
        while let Some(error) = cause {
            let message = error.to_string();
            if !written.ends_with(&message) {
                write!(f, ": {message}")?;
            }
            written = message;
            cause = error.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{message}")]
    struct Failed {
        message: &'static str,
        #[source]
        source: Option<Box<Failed>>,
    }

    /// An error with `messages` as its chain, outermost first.
    fn chain(messages: &[&'static str]) -> Failed {
        let (message, causes) = messages.split_first().unwrap();
        Failed {
            message,
            source: (!causes.is_empty()).then(|| Box::new(chain(causes))),
        }
    }

    #[test]
    fn an_error_is_written_with_each_of_its_causes() {
        let error = chain(&["unreachable", "error sending request", "connection refused"]);
        assert_eq!(
            with_causes(&error).to_string(),
            "unreachable: error sending request: connection refused"
        );
        assert_eq!(with_causes(&chain(&["alone"])).to_string(), "alone");
    }

    #[test]
    fn a_cause_its_parent_already_wrote_is_not_written_again() {
        let error = chain(&[
            "cannot listen: address in use",
            "address in use",
            "os error",
        ]);
        assert_eq!(
            with_causes(&error).to_string(),
            "cannot listen: address in use: os error"
        );
    }
}
