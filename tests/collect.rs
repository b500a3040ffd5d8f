//! Live collection end to end, over HTTP, against the AWS emulator (moto, extended in
//! tests/emulator): seed a scenario with known truth → `credwarden collect` → `credwarden scan`
//! → exactly the expected findings. Also: API-call economy, throttling, a dying endpoint, and the
//! least-privilege IAM policy.
#![cfg(feature = "aws")]

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use common::emulator::{send_signal, Emulator};
use common::*;
use serde_json::{json, Value};

/// `(rule, account, resource type, resource id)` of every finding of scanning `snapshot` with the
/// truth's config at the truth's time.
fn scan_findings(
    snapshot: &Path,
    truth: &Value,
    dir: &Path,
) -> BTreeSet<(String, String, String, String)> {
    let config = dir.join("config.yaml");
    std::fs::write(&config, truth["config_yaml"].as_str().unwrap()).unwrap();
    let report = json_of(credwarden().args([
        "scan",
        "--snapshot",
        snapshot.to_str().unwrap(),
        "--now",
        truth["now"].as_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--format",
        "json",
    ]));
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["account_id"].as_str().unwrap().to_string(),
                f["resource"]["type"].as_str().unwrap().to_string(),
                f["resource"]["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn expected(truth: &Value) -> BTreeSet<(String, String, String, String)> {
    truth["expected_findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["account_id"].as_str().unwrap().to_string(),
                f["resource_type"].as_str().unwrap().to_string(),
                f["resource_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn assert_same_findings(
    got: &BTreeSet<(String, String, String, String)>,
    want: &BTreeSet<(String, String, String, String)>,
) {
    let missing: Vec<_> = want.difference(got).collect();
    let extra: Vec<_> = got.difference(want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing: {missing:#?}\nunexpected: {extra:#?}"
    );
}

/// Every action the collector called is allowed by docs/iam-policy.json.
fn assert_allowed_by_policy(calls: &Value) {
    let policy: Value =
        serde_json::from_slice(&std::fs::read(repo("docs/iam-policy.json")).unwrap()).unwrap();
    let allowed: BTreeSet<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .flat_map(|s| {
            s["Action"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_ascii_lowercase())
        })
        .collect();
    for action in calls["actions"].as_array().unwrap() {
        let action = action.as_str().unwrap();
        assert!(
            allowed.contains(&action.to_ascii_lowercase()),
            "{action} is not in docs/iam-policy.json"
        );
    }
}

/// Every access key id of a snapshot-shaped account.
fn key_ids(account: &Value) -> BTreeSet<String> {
    account["users"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|u| u["access_keys"].as_array().unwrap().iter())
        .map(|k| k["access_key_id"].as_str().unwrap().to_string())
        .collect()
}

fn snapshot_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn single_account_collects_exactly_the_truth() {
    let emu = Emulator::start();
    let truth = emu.seed("single-account");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snapshot.json");
    let run = emu.collect(&out, &[]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let calls = emu.calls();
    assert_allowed_by_policy(&calls);

    let snapshot = snapshot_json(&out);
    assert_eq!(snapshot["schema"], "1.0");
    assert_eq!(snapshot["source"], "aws");
    let account = &snapshot["accounts"][0];
    assert_eq!(account["account_id"], truth["accounts"][0]["account_id"]);
    assert_eq!(account["alias"], truth["accounts"][0]["alias"]);
    // Real key ids, not slots.
    assert_eq!(key_ids(account), key_ids(&truth["accounts"][0]));
    // The API calls are counted by operation in the snapshot.
    let counted = &snapshot["metadata"]["api_calls"];
    assert!(counted["iam:GetCredentialReport"].as_u64().unwrap() >= 1);
    assert!(counted["sts:GetCallerIdentity"].as_u64().unwrap() == 1);

    assert_same_findings(&scan_findings(&out, &truth, dir.path()), &expected(&truth));
}

#[test]
fn organization_collects_every_active_account() {
    collects_every_active_account("organization", 7, "3");
}

/// Ten accounts (the performance issue's `--org` figure), collected eight at a time.
#[test]
fn organization_of_ten_accounts_collects_every_one() {
    collects_every_active_account("organization-ten", 10, "8");
}

fn collects_every_active_account(scenario: &str, accounts: usize, concurrency: &str) {
    let emu = Emulator::start();
    let truth = emu.seed(scenario);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snapshot.json");
    let run = emu.collect(&out, &["--org", "--concurrency", concurrency]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_allowed_by_policy(&emu.calls());

    let snapshot = snapshot_json(&out);
    let collected: BTreeSet<&str> = snapshot["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account_id"].as_str().unwrap())
        .collect();
    let wanted: BTreeSet<&str> = truth["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        collected, wanted,
        "every ACTIVE account, and no SUSPENDED one"
    );
    assert_eq!(collected.len(), accounts, "{scenario}");
    assert!(snapshot["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["error"].is_null()));
    let org = &snapshot["organization"];
    assert_eq!(
        org["management_account_id"],
        truth["organization"]["management_account_id"]
    );
    assert_eq!(
        org["organizational_units"].as_array().unwrap().len(),
        truth["organization"]["organizational_units"]
            .as_array()
            .unwrap()
            .len()
    );

    assert_same_findings(&scan_findings(&out, &truth, dir.path()), &expected(&truth));
}

/// The seeded organization, with one member account (returned) refusing every IAM call.
fn organization_refusing_a_member() -> (Emulator, Value, String) {
    let emu = Emulator::start();
    let truth = emu.seed("organization");
    let victim = truth["member_accounts"]["sandbox"]
        .as_str()
        .unwrap()
        .to_string();
    emu.control(
        "POST",
        "faults",
        Some(json!({"error_ratio": 1.0, "accounts": [victim], "operations": ["iam:ListAccountAliases"], "seed": 1})),
    );
    (emu, truth, victim)
}

#[test]
fn a_refused_member_account_is_recorded_not_dropped() {
    let (emu, truth, victim) = organization_refusing_a_member();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snapshot.json");
    let run = emu.collect(&out, &["--org", "--max-attempts", "2"]);
    assert_eq!(
        run.status.code(),
        Some(3),
        "a failed account makes the run exit 3"
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains(&format!("account {victim} was not collected")),
        "{stderr}"
    );
    let snapshot = snapshot_json(&out);
    let accounts = snapshot["accounts"].as_array().unwrap();
    assert_eq!(
        accounts.len(),
        truth["accounts"].as_array().unwrap().len(),
        "the others still complete"
    );
    let failed: Vec<&Value> = accounts.iter().filter(|a| !a["error"].is_null()).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["account_id"], victim.as_str());
    // …and the scan reports it as a finding.
    let findings = scan_findings(&out, &truth, dir.path());
    assert!(findings
        .iter()
        .any(|(rule, account, _, _)| rule == "CW902" && account == &victim));
}

#[test]
fn large_account_stays_within_the_api_call_budget() {
    let emu = Emulator::start();
    let truth = emu.seed("large");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snapshot.json");
    let started = Instant::now();
    let run = emu.collect(&out, &[]);
    let elapsed = started.elapsed();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let calls = emu.calls();
    let total = calls["total"].as_u64().unwrap();
    let budget = &truth["api_call_budget"];
    let users_with_keys = budget["users_with_keys"].as_u64().unwrap();
    let limit = users_with_keys + budget["pages_of_users_at_100"].as_u64().unwrap() + 25;
    eprintln!(
        "large account: {total} API calls in {elapsed:?}: {}",
        calls["calls"]
    );
    assert!(total <= limit, "{total} calls > budget {limit}");
    let snapshot = snapshot_json(&out);
    assert_eq!(
        snapshot["accounts"][0]["users"].as_array().unwrap().len(),
        2500
    );
    assert_eq!(
        snapshot["metadata"]["api_calls"]["iam:ListAccessKeys"]
            .as_u64()
            .unwrap(),
        users_with_keys
    );
    assert_same_findings(&scan_findings(&out, &truth, dir.path()), &expected(&truth));
}

#[test]
fn throttling_is_retried_and_changes_nothing() {
    let emu = Emulator::start();
    let truth = emu.seed("single-account");
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("clean.json");
    assert_eq!(emu.collect(&clean, &[]).status.code(), Some(0));
    emu.control("DELETE", "calls", None);
    emu.control(
        "POST",
        "faults",
        Some(json!({"throttle_ratio": 0.2, "seed": 7, "max_consecutive": 3})),
    );
    let throttled = dir.path().join("throttled.json");
    let run = emu.collect(&throttled, &[]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let calls = emu.calls();
    assert!(
        calls["faulted"].as_u64().unwrap() > 0,
        "throttling was injected: {calls}"
    );
    let strip = |mut v: Value| {
        v["collected_at"] = Value::Null;
        v["metadata"] = Value::Null;
        v
    };
    assert_eq!(
        strip(snapshot_json(&clean)),
        strip(snapshot_json(&throttled))
    );
    assert_same_findings(
        &scan_findings(&throttled, &truth, dir.path()),
        &expected(&truth),
    );
}

#[test]
fn emulator_dying_mid_collection_exits_3_and_writes_nothing() {
    let emu = Emulator::start();
    emu.seed("single-account");
    emu.control("POST", "faults", Some(json!({"die_after_requests": 6})));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snapshot.json");
    let run = emu.collect(&out, &["--max-attempts", "2"]);
    assert_eq!(
        run.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stderr).starts_with("error: "));
    assert!(!out.exists(), "no snapshot file");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temporary file either"
    );
}

#[test]
fn live_scan_evaluates_without_a_snapshot_file() {
    let emu = Emulator::start();
    let truth = emu.seed("single-account");
    let report = json_of(emu.credwarden().args([
        "scan",
        "--now",
        truth["now"].as_str().unwrap(),
        "--format",
        "json",
        "-q",
    ]));
    assert!(report["summary"]["findings"].as_u64().unwrap() > 0);
    assert_eq!(
        report["accounts"][0]["account_id"],
        truth["accounts"][0]["account_id"]
    );
}

#[test]
fn a_credential_report_that_never_comes_is_not_waited_for_forever() {
    let emu = Emulator::start();
    emu.seed("single-account");
    emu.control("DELETE", "iam/credential-report", None);
    emu.control(
        "POST",
        "iam/credential-report",
        Some(json!({"delay_polls": 100000})),
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snapshot.json");
    let started = Instant::now();
    let run = emu.collect(&out, &["--report-timeout", "2"]);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(run.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("the credential report was not ready after 2 s"),
        "{stderr}"
    );
    assert!(!out.exists());
}

#[test]
fn verbose_collection_logs_each_step() {
    let emu = Emulator::start();
    emu.seed("single-account");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snapshot.json");
    let run = emu
        .credwarden()
        .args(["collect", "-o", out.to_str().unwrap(), "-v"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&run.stderr);
    for step in [
        "collecting 1 account(s)",
        "123456789012: credential report",
        "123456789012: access keys",
        "123456789012: done",
    ] {
        assert!(stderr.contains(step), "{step} in {stderr}");
    }
    // Quiet, and not a terminal: nothing at all.
    let run = emu
        .credwarden()
        .args(["collect", "-o", out.to_str().unwrap(), "-q"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&run.stderr), "");
}

/// A live evidence export of an organization with a refused member: the bundle is written,
/// the failed account is named in the manifest and fails CA-7, and the run exits 3.
#[test]
fn live_evidence_export_records_a_failed_account() {
    let (emu, truth, victim) = organization_refusing_a_member();
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("evidence");
    let run = emu
        .credwarden()
        .args(["evidence", "export", "--org", "--max-attempts", "2", "-q"])
        .args(["--now", truth["now"].as_str().unwrap(), "--out"])
        .arg(&bundle)
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["input"]["accounts_not_collected"], json!([victim]));
    assert_eq!(
        manifest["input"]["accounts"].as_u64().unwrap() as usize,
        truth["accounts"].as_array().unwrap().len()
    );
    let controls = std::fs::read_to_string(bundle.join("controls.csv")).unwrap();
    let ca7 = controls
        .lines()
        .find(|l| l.starts_with("nist-800-53-r5,") && l.contains(",CA-7,"))
        .unwrap();
    assert!(ca7.contains(",CW902,fail,1,"), "{ca7}");
    emu.credwarden()
        .args(["evidence", "verify"])
        .arg(&bundle)
        .assert()
        .code(0);
}

/// SIGINT or SIGTERM mid-collection: a clear message, the signal's exit code, and no file.
#[test]
fn signalled_collection_writes_nothing() {
    for (signal, code, wait_ms) in [("INT", 130, 300), ("TERM", 143, 900)] {
        let emu = Emulator::start();
        emu.seed("single-account");
        emu.control("POST", "faults", Some(json!({"delay_ms": 200})));
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("snapshot.json");
        let child = emu.spawn(&["collect", "-o", out.to_str().unwrap()]);
        std::thread::sleep(std::time::Duration::from_millis(wait_ms));
        send_signal(&child, signal);
        let run = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(code), "SIG{signal}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "interrupted by SIG{signal}: collection stopped; nothing was written"
            )),
            "{stderr}"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no file, not even a temporary one"
        );
    }
}
