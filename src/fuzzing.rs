//! Entry points for the fuzz targets (`fuzz/`) and their regression tests.
//!
//! Each function feeds arbitrary bytes to one parser of user input, exactly as the command line
//! would, and ignores the result: a fuzz target fails only if the parser panics, hangs or
//! exhausts memory. The regression test `tests/fuzz_regressions.rs` runs every saved input in
//! `fixtures/fuzz/<target>/` through the same function, so a crash found once stays fixed.

use chrono::{DateTime, TimeZone, Utc};

/// A fixed evaluation time, so a run is reproducible.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0)
        .single()
        .expect("a valid time")
}

/// The credential report CSV parser.
pub fn credential_report(data: &[u8]) {
    let _ =
        crate::snapshot::credential_report::parse_credential_report(data, "fuzz.csv", None, now());
}

/// The snapshot JSON loader (type checks, schema version).
pub fn snapshot(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::snapshot::load::parse_snapshot(text, "fuzz.json");
    }
}

/// The YAML config loader, exceptions and all.
pub fn config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::config::Config::parse(text, "fuzz.yaml");
    }
}

/// The remediation plan loader (shape, digest, age).
pub fn plan(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::remediate::plan::parse_plan(text, "fuzz.json", now(), 24);
    }
}

/// The journal reader (JSON lines, a torn last line tolerated).
pub fn journal(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::remediate::journal::parse(text, std::path::Path::new("fuzz.jsonl"));
    }
}

/// The `# METADATA` reader and validator of Rego files.
pub fn metadata(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        for block in crate::evaluate::metadata::extract_blocks(text) {
            let _ = crate::evaluate::metadata::parse_block(&block, "data.fuzz", "fuzz.rego", false);
        }
    }
}

/// A fuzz entry point.
pub type Target = fn(&[u8]);

/// Every target, by the name of its directory under `fixtures/fuzz/` and `fuzz/fuzz_targets/`.
pub const TARGETS: [(&str, Target); 6] = [
    ("credential_report", credential_report),
    ("snapshot", snapshot),
    ("config", config),
    ("plan", plan),
    ("journal", journal),
    ("metadata", metadata),
];
