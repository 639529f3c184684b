//! What running scripts found: counts of passed, failed and skipped directives, and where each
//! failure or skip happened.

use std::{any::Any, fmt};

/// One directive that failed (or was skipped), with where it is and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WastFailure {
    /// The script's name (usually its path).
    pub file: String,
    /// 1-based line of the directive.
    pub line: usize,
    /// 1-based column of the directive.
    pub col: usize,
    /// The directive's keyword, e.g. `assert_return`.
    pub directive: &'static str,
    /// Why it failed: expected versus got.
    pub message: String,
}

impl fmt::Display for WastFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.col, self.directive, self.message
        )
    }
}

/// The outcome of one or more scripts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WastReport {
    /// Directives that did what the script says.
    pub passed: usize,
    /// Directives that did not.
    pub failures: Vec<WastFailure>,
    /// Directives the runner does not execute (e.g. threads), with the reason.
    pub skips: Vec<WastFailure>,
}

impl WastReport {
    /// Number of failed directives.
    pub fn failed(&self) -> usize {
        self.failures.len()
    }

    /// Number of skipped directives.
    pub fn skipped(&self) -> usize {
        self.skips.len()
    }

    /// Whether nothing failed and nothing was skipped.
    pub fn is_clean(&self) -> bool {
        self.failures.is_empty() && self.skips.is_empty()
    }

    /// The report of a script whose run panicked: one failure carrying the panic's message.
    pub fn panicked(file: &str, payload: &(dyn Any + Send)) -> Self {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Self {
            failures: vec![WastFailure {
                file: file.to_string(),
                line: 0,
                col: 0,
                directive: "script",
                message: format!("the runner panicked: {message}"),
            }],
            ..Self::default()
        }
    }

    /// Adds `other`'s counts and lists to this report.
    pub fn merge(&mut self, other: WastReport) {
        self.passed += other.passed;
        self.failures.extend(other.failures);
        self.skips.extend(other.skips);
    }
}

impl fmt::Display for WastReport {
    /// The closing line of the `wast` command.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "wast: {} passed, {} failed, {} skipped",
            self.passed,
            self.failed(),
            self.skipped()
        )
    }
}
