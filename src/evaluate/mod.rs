//! Stage 3 of the pipeline: evaluate a snapshot with the Rego policies into findings.
//!
//! Nothing here talks to AWS: a snapshot is enough. The evaluation time is an input
//! ([`Context::now`]), never read from the clock by policies, so the same snapshot, config and
//! time always give the same findings in the same order.

mod compiled;
mod deny;
pub mod docs;
mod engine;
pub mod finding;
mod input;
pub mod metadata;
mod native;
mod objects;
mod order;
mod packed;
pub mod policies;
pub mod query;
mod serialize;
mod severity;
mod sharded;
mod stream;
pub mod testing;
mod text;

pub use engine::{
    evaluate, Context, Evaluation, Evaluator, ExceptionStatus, Strategy, DEFAULT_RULE_TIME_LIMIT,
};
pub use finding::{AppliedException, Finding, Remediation, Resource};
pub use metadata::RuleMetadata;
pub(crate) use order::report_order;
pub use policies::{PolicyFile, PolicySet};
pub use severity::Severity;
pub use stream::{FindingStream, Tally};

/// Why policies could not be loaded or evaluated.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{path}: cannot read the policy: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: String,
        line: u32,
        message: String,
    },
    #[error("{location}: Rego error: {message}")]
    Rego { location: String, message: String },
    #[error("{file}: rule {rule}: {message}")]
    BadFinding {
        file: String,
        rule: String,
        message: String,
    },
    #[error("{file}: rule {rule} was stopped after {seconds} s (the evaluation time limit): does it loop over a very large product? Raise the limit with --rule-time-limit SECONDS if the input is simply that large")]
    TimeLimit {
        file: String,
        rule: String,
        seconds: f64,
    },
    #[error("evaluation failed: {0}")]
    Eval(String),
}

impl PolicyError {
    /// Turn regorus's multi-line diagnostic (`--> file:line:col`, a source excerpt, `error: …`)
    /// into one line.
    pub(crate) fn from_rego(err: &anyhow::Error, fallback: &str) -> PolicyError {
        let text = format!("{err:#}");
        let location = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("--> "))
            .unwrap_or(fallback)
            .to_string();
        let message = text
            .lines()
            .rev()
            .find_map(|l| l.trim().strip_prefix("error: "))
            .map(str::to_string)
            .unwrap_or_else(|| {
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            });
        PolicyError::Rego { location, message }
    }
}
