//! credwarden finds and fixes risky long-lived AWS credentials, as policy-as-code.
//!
//! The library follows the pipeline, one module a stage:
//!
//! ```text
//! collect (AWS) ──> snapshot ──> evaluate (embedded Rego) ──> findings ──> report
//!                                    ▲                                 └─> remediate
//!                                 config
//! ```
//!
//! - [`snapshot`]: the versioned document the policies read, from a JSON file or a credential
//!   report CSV;
//! - [`config`]: thresholds, break-glass users, rule switches and exceptions;
//! - [`evaluate`]: the bundled and custom Rego policies, their `# METADATA`, the regorus engine
//!   and `policy test`;
//! - [`report`]: text, JSON, SARIF, Markdown, CSV and HTML output;
//! - [`evidence`]: the audit bundle (every report, control results, a manifest of hashes);
//! - [`output`]: atomic file writes, so a failed run never leaves a partial file.
//!
//! Evaluating needs no AWS SDK and no network: a snapshot is enough.

#[cfg(feature = "aws")]
pub mod collect;
pub mod config;
pub mod error;
pub mod evaluate;
pub mod evidence;
#[doc(hidden)]
pub mod fuzzing;
pub mod output;
mod parallel;
pub mod remediate;
pub mod report;
pub mod snapshot;
pub mod synthetic;

pub use error::{Error, Signal};

/// The cores this process may use (1 when unknown): how many threads the parallel parts start.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
