//! `credwarden.yaml`: thresholds, break-glass users, disabled rules, severities, exceptions.

mod common;

use common::*;
use predicates::prelude::*;
use serde_json::Value;

fn with_config(yaml: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credwarden.yaml");
    std::fs::write(&path, yaml).unwrap();
    json_of(&mut scan_demo(&[
        "--format",
        "json",
        "--config",
        path.to_str().unwrap(),
    ]))
}

fn finding<'a>(report: &'a Value, rule: &str, id: &str) -> Option<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == rule && f["resource"]["id"] == id)
}

#[test]
fn example_config_disables_overrides_and_applies_exceptions() {
    let report = json_of(&mut scan_demo(&[
        "--format",
        "json",
        "--config",
        "fixtures/config/example.yaml",
    ]));
    let counts = count_by_rule(&report);
    assert!(!counts.contains_key("CW304"), "CW304 is disabled");
    assert!(!report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == "CW304"));
    assert_eq!(report["summary"]["findings"], 27);
    assert_eq!(report["summary"]["suppressed"], 1);

    // The active exception suppresses, and the finding stays visible.
    let suppressed = finding(&report, "CW102", "AKIALPSOURNYXEXAMPLE").expect("kept in the output");
    assert_eq!(suppressed["suppressed"], true);
    assert_eq!(suppressed["exception"]["status"], "active");
    assert_eq!(suppressed["exception"]["owner"], "payments@acme.example");

    // The expired exception no longer suppresses and says so.
    let expired = finding(&report, "CW303", "r.okafor").unwrap();
    assert_eq!(expired["suppressed"], false);
    assert_eq!(expired["exception"]["status"], "expired");
    let statuses: Vec<&str> = report["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["active", "expired"]);

    // Severity override.
    assert_eq!(
        finding(&report, "CW302", "vendor-poc").unwrap()["severity"],
        "medium"
    );
}

#[test]
fn text_report_lists_expired_exceptions() {
    let out = scan_demo(&["--config", "fixtures/config/example.yaml"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("1 finding(s) suppressed"), "{text}");
    assert!(text.contains("EXPIRED on 2026-10-31"), "{text}");
    assert!(text.contains("27 findings"), "{text}");
}

#[test]
fn suppressed_findings_do_not_fail_the_gate() {
    let cfg = "exceptions:\n".to_string()
        + &["CW201", "CW203"]
            .iter()
            .map(|r| format!("  - {{rule: {r}, resource: 'arn:aws:iam::*:root', reason: accepted, owner: sec, expires: 2027-01-01}}\n"))
            .collect::<String>();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yaml");
    std::fs::write(&path, cfg).unwrap();
    scan_demo(&["--fail-on", "critical", "--config", path.to_str().unwrap()])
        .assert()
        .code(0);
    // The day after the exceptions expire, they stop suppressing.
    credwarden()
        .args([
            "scan",
            "--snapshot",
            DEMO,
            "--now",
            "2027-01-02",
            "--fail-on",
            "critical",
            "--config",
            path.to_str().unwrap(),
        ])
        .assert()
        .code(1);
}

#[test]
fn thresholds_change_what_fires() {
    // deploy-pipeline's first key is 80 days old: rotation at 60 days flags it.
    let report = with_config("thresholds:\n  rotation_days: 60\n");
    assert!(finding(&report, "CW102", "AKIADNCCMYONKEXAMPLE").is_some());
    let default = json_of(&mut scan_demo(&["--format", "json"]));
    assert!(finding(&default, "CW102", "AKIADNCCMYONKEXAMPLE").is_none());
}

#[test]
fn break_glass_by_config_name() {
    // Naming r.okafor break-glass exempts it from CW304 and flags its missing MFA under CW305.
    let report = with_config("break_glass:\n  users: [r.okafor]\n");
    assert!(finding(&report, "CW304", "r.okafor").is_none());
    assert!(finding(&report, "CW305", "r.okafor").is_some());
}

#[test]
fn break_glass_tag_key_is_configurable() {
    // With another tag key, the demo's tagged users are no longer break-glass.
    let report = with_config("break_glass:\n  tag_key: emergency\n");
    assert!(finding(&report, "CW304", "breakglass-admin").is_some());
}

#[test]
fn unknown_key_is_a_clear_error() {
    scan_demo(&["--config", "fixtures/bad/config-unknown-key.yaml"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("fixtures/bad/config-unknown-key.yaml:4:3: field `thresholds.unused_dayz`: unknown field `unused_dayz`, expected one of"));
}

#[test]
fn exception_without_owner_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yaml");
    std::fs::write(&path, "exceptions:\n  - {rule: CW101, resource: '*', reason: x, owner: '', expires: 2027-01-01}\n").unwrap();
    scan_demo(&["--config", path.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("exceptions[0]").and(predicate::str::contains("owner")));
    std::fs::write(
        &path,
        "exceptions:\n  - {rule: CW101, resource: '*', reason: x, owner: me, expires: soon}\n",
    )
    .unwrap();
    scan_demo(&["--config", path.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("exceptions[0].expires"));
}
