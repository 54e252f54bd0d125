//! What a check finds ([`Check`], [`Outcome`]) and the report they make ([`render`]).

use std::fmt::Write as _;

/// The result of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// As it should be.
    Pass,
    /// Works, but worth a look.
    Warn,
    /// Uploads will fail (or already do) because of this.
    Fail,
}

/// One check: what was looked at, what was found, and what to do about it.
#[derive(Debug, Clone)]
pub struct Check {
    /// Short name (`credentials`, `clock`, `identity`, `rate-limit`, `bucket`, `cors`, `lifecycle`, `upload`).
    pub name: &'static str,
    /// The verdict.
    pub outcome: Outcome,
    /// What was found.
    pub detail: String,
    /// What to do, when something is wrong.
    pub fix: Option<String>,
}

impl Check {
    /// Check `name` passed: `detail` says what was found.
    pub(super) fn pass(name: &'static str, detail: impl Into<String>) -> Self {
        Check {
            name,
            outcome: Outcome::Pass,
            detail: detail.into(),
            fix: None,
        }
    }

    /// Check `name` failed: `detail` says what was found, `fix` what to do.
    pub(super) fn fail(
        name: &'static str,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Check::with_fix(name, Outcome::Fail, detail.into(), fix.into())
    }

    /// Check `name` found something worth a look: `detail` says what, `fix` what to do.
    pub(super) fn warn(
        name: &'static str,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Check::with_fix(name, Outcome::Warn, detail.into(), fix.into())
    }

    fn with_fix(name: &'static str, outcome: Outcome, detail: String, fix: String) -> Self {
        Check {
            name,
            outcome,
            detail,
            fix: Some(fix),
        }
    }
}

/// The checks as text, one block each, and whether all passed (warnings allowed).
pub fn render(checks: &[Check]) -> (String, bool) {
    let mut text = String::new();
    for check in checks {
        let mark = match check.outcome {
            Outcome::Pass => "PASS",
            Outcome::Warn => "WARN",
            Outcome::Fail => "FAIL",
        };
        let _ = writeln!(text, "{mark}  {:<12} {}", check.name, check.detail);
        if let Some(fix) = &check.fix {
            let _ = writeln!(text, "      {:<12} fix: {fix}", "");
        }
    }
    let ok = checks.iter().all(|c| c.outcome != Outcome::Fail);
    let _ = writeln!(
        text,
        "{}",
        if ok {
            "all checks passed"
        } else {
            "some checks failed"
        }
    );
    (text, ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_lists_each_check_with_its_fix_and_passes_despite_warnings() {
        let checks = [
            Check::pass("bucket", "uploads exists in eu-west-1"),
            Check::warn("upload", "worked but could not be removed", "delete it"),
        ];
        let (text, ok) = render(&checks);
        assert!(ok);
        assert_eq!(
            text,
            "PASS  bucket       uploads exists in eu-west-1\n\
             WARN  upload       worked but could not be removed\n\
             \x20                  fix: delete it\n\
             all checks passed\n"
        );
    }

    #[test]
    fn one_failure_fails_the_report() {
        let checks = [
            Check::pass("clock", "in step"),
            Check::fail("cors", "no rules", "add one"),
        ];
        let (text, ok) = render(&checks);
        assert!(!ok);
        assert!(text.ends_with("some checks failed\n"), "{text}");
    }
}
