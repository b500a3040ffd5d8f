//! Stage 5 (for auditors): the evidence bundle.
//!
//! One export holds everything an audit needs to trust a scan without re-running it: the
//! snapshot that was evaluated, the findings (JSON, SARIF, HTML), the result of every
//! framework control (CSV), the config, and `manifest.json` with the SHA-256 of each file, the
//! tool version, the digests of the policy bundle and config, the collection time and the
//! credential reports' generation times. `evidence verify` recomputes the hashes later.

pub mod bundle;
pub mod controls;
mod gzip;
pub mod verify;

pub use bundle::{InputFile, Sources, Written};
pub use verify::{verify, Verification};

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: already exists and is not empty; choose another --out, or remove it first (an evidence bundle is never overwritten)")]
    Exists(String),
    #[error("{0}: the file changed while it was being read; export again")]
    InputChanged(String),
    #[error("{path}: the manifest is not valid: {message}")]
    BadManifest { path: String, message: String },
    #[error("{path}: {message}")]
    BadArchive { path: String, message: String },
}
