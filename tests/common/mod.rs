//! Helpers shared by the integration tests: they run the real binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub mod emulator;

/// The evaluation time every test pins, so results never depend on the clock.
pub const NOW: &str = "2026-11-21T00:00:00Z";
pub const DEMO: &str = "fixtures/demo/snapshot.json";

pub fn credwarden() -> Command {
    let mut cmd = Command::cargo_bin("credwarden").expect("the binary is built");
    cmd.env_remove("NO_COLOR");
    cmd
}

/// `credwarden scan --snapshot <demo> --now <NOW>` plus `args`.
pub fn scan_demo(args: &[&str]) -> Command {
    let mut cmd = credwarden();
    cmd.args(["scan", "--snapshot", DEMO, "--now", NOW])
        .args(args);
    cmd
}

pub fn json_of(cmd: &mut Command) -> serde_json::Value {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// A synthetic snapshot (the benchmark's generator) written into `dir`; its path.
pub fn write_synthetic(dir: &Path, seed: u64, accounts: usize, users: usize) -> PathBuf {
    let snapshot = credwarden::synthetic::generate(credwarden::synthetic::Spec {
        seed,
        accounts,
        users,
    });
    let path = dir.join(format!("synthetic-{seed}.json"));
    std::fs::write(&path, serde_json::to_vec(&snapshot).unwrap()).unwrap();
    path
}

pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// `(rule_id, resource id)` of every finding, in report order.
pub fn rule_resources(report: &serde_json::Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["resource"]["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Count of findings per rule id.
pub fn count_by_rule(report: &serde_json::Value) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for (rule, _) in rule_resources(report) {
        *counts.entry(rule).or_insert(0) += 1;
    }
    counts
}
