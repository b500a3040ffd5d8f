//! The library's errors, and the exit code each one means (PRODUCT.md: 2 bad usage or bad
//! input, 3 AWS access failed).

use crate::config::ConfigError;
use crate::evaluate::PolicyError;
use crate::output::OutputError;
use crate::snapshot::credential_report::ReportError;
use crate::snapshot::load::SnapshotError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    CredentialReport(#[from] ReportError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Evidence(#[from] crate::evidence::EvidenceError),
    #[error("{0}")]
    Usage(String),
    #[cfg(feature = "aws")]
    #[error(transparent)]
    Collect(#[from] crate::collect::CollectError),
    #[error(transparent)]
    Plan(#[from] crate::remediate::PlanError),
    #[error(transparent)]
    Journal(#[from] crate::remediate::journal::JournalError),
    /// SIGINT or SIGTERM arrived; `what` says what was (not) left behind.
    #[error("interrupted by {signal}: {what}")]
    Interrupted { signal: Signal, what: String },
}

/// The signals credwarden stops cleanly on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        })
    }
}

impl Signal {
    /// The shell's convention: 128 + the signal number.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }
}

#[cfg(feature = "aws")]
impl From<crate::remediate::apply::ApplyError> for Error {
    fn from(e: crate::remediate::apply::ApplyError) -> Self {
        match e {
            crate::remediate::apply::ApplyError::Journal(j) => Error::Journal(j),
            crate::remediate::apply::ApplyError::Aws(a) => Error::Collect(a),
        }
    }
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            #[cfg(feature = "aws")]
            Error::Collect(_) => 3,
            Error::Interrupted { signal, .. } => signal.exit_code(),
            _ => 2,
        }
    }
}
