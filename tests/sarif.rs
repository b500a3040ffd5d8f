//! SARIF output: accepted by the SARIF validator and by GitHub code scanning's rules.

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::Value;

fn demo_sarif(extra: &[&str]) -> Value {
    let mut args = vec!["--format", "sarif"];
    args.extend_from_slice(extra);
    let out = scan_demo(&args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The SARIF multitool, installed by scripts/test (npm @microsoft/sarif-multitool).
fn multitool() -> PathBuf {
    let path = std::env::var_os("SARIF_MULTITOOL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            repo("target/tools/sarif/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool")
        });
    assert!(
        path.exists(),
        "the SARIF multitool is not installed at {}: run `bash scripts/test`, which installs it",
        path.display()
    );
    path
}

/// Validate with the SARIF multitool (SARIF spec rules and GitHub's ingestion rules) and return
/// the (level, rule) of every error and warning it reports. Its exit code is 0 even when it finds
/// errors, so its output log is read.
fn validate(sarif: &str) -> Vec<(String, String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.sarif");
    let log = dir.path().join("validation.sarif");
    std::fs::write(&input, sarif).unwrap();
    let out = std::process::Command::new(multitool())
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .arg("validate")
        .arg(&input)
        .arg("--output")
        .arg(&log)
        .args([
            "--log",
            "ForceOverwrite",
            "--rule-kind",
            "Sarif",
            "Gh",
            "--level",
            "Error",
            "Warning",
            "Note",
        ])
        .output()
        .expect("the multitool runs");
    assert!(
        log.exists(),
        "no validation log: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&log).unwrap()).unwrap();
    report["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|r| r["level"] == "error" || r["level"] == "warning")
        .map(|r| {
            (
                r["level"].as_str().unwrap_or("").to_string(),
                r["ruleId"].as_str().unwrap_or("").to_string(),
                r["message"].to_string(),
            )
        })
        .collect()
}

#[test]
fn demo_sarif_passes_the_multitool_and_githubs_rules() {
    let text =
        String::from_utf8(scan_demo(&["--format", "sarif"]).output().unwrap().stdout).unwrap();
    let problems = validate(&text);
    assert!(problems.is_empty(), "validator: {problems:#?}");
}

#[test]
fn the_validator_catches_what_github_rejects() {
    // A control: the same log with an empty URI must be reported, or the check above proves nothing.
    let mut sarif = demo_sarif(&[]);
    sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        Value::from("");
    sarif["runs"][0]["results"][1]["locations"] = Value::Array(vec![]);
    let problems = validate(&sarif.to_string());
    assert!(!problems.is_empty(), "a broken log must be reported");
}

#[test]
fn every_result_satisfies_github_code_scanning() {
    let sarif = demo_sarif(&[]);
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert!(run["automationDetails"]["id"]
        .as_str()
        .is_some_and(|id| id.starts_with("credwarden/")));
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 17);
    for rule in rules {
        let score: f64 = rule["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&score));
        assert!(rule["shortDescription"]["text"]
            .as_str()
            .is_some_and(|t| !t.is_empty()));
        assert!(rule["help"]["text"].as_str().is_some_and(|t| !t.is_empty()));
        let tags = rule["properties"]["tags"].as_array().unwrap();
        assert!(tags.len() <= 20 && tags.contains(&Value::from("security")));
    }
    let cw101 = rules.iter().find(|r| r["id"] == "CW101").unwrap();
    assert_eq!(cw101["properties"]["security-severity"], "8.0");
    assert!(cw101["properties"]["tags"]
        .as_array()
        .unwrap()
        .contains(&Value::from("cis-aws-5.0:1.11")));

    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 52);
    for r in results {
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            !uri.is_empty() && !uri.starts_with('/') && !uri.contains("://"),
            "relative URI: {uri}"
        );
        assert!(loc["region"]["startLine"].as_i64().unwrap() >= 1);
        assert!(r["partialFingerprints"]["credwarden/v1"]
            .as_str()
            .is_some_and(|f| f.len() == 32));
        assert!(
            r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
                .as_str()
                .unwrap()
                .starts_with("arn:aws:")
        );
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
    }
}

#[test]
fn start_line_points_at_the_resource_in_the_snapshot() {
    let sarif = demo_sarif(&[]);
    let lines: Vec<String> = std::fs::read_to_string(repo(DEMO))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let key = results
        .iter()
        .find(|r| {
            r["ruleId"] == "CW101" && r["properties"]["resource"]["id"] == "AKIAJB7XPG3SGEXAMPLE"
        })
        .unwrap();
    let line = key["locations"][0]["physicalLocation"]["region"]["startLine"]
        .as_u64()
        .unwrap() as usize;
    assert!(
        lines[line - 1].contains("AKIAJB7XPG3SGEXAMPLE"),
        "line {line}: {}",
        lines[line - 1]
    );
    let user = results
        .iter()
        .find(|r| r["ruleId"] == "CW303" && r["properties"]["resource"]["id"] == "k.ivanova")
        .unwrap();
    let line = user["locations"][0]["physicalLocation"]["region"]["startLine"]
        .as_u64()
        .unwrap() as usize;
    assert!(
        lines[line - 1].contains("/k.ivanova\""),
        "line {line}: {}",
        lines[line - 1]
    );
}

#[test]
fn fingerprints_are_stable_across_runs_and_times() {
    let fingerprints = |now: &str| {
        let out = credwarden()
            .args([
                "scan",
                "--snapshot",
                DEMO,
                "--format",
                "sarif",
                "--now",
                now,
            ])
            .output()
            .unwrap();
        let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
        sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["ruleId"].to_string() + &r["properties"]["resource"]["id"].to_string(),
                    r["partialFingerprints"].clone(),
                )
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let a = fingerprints(NOW);
    let b = fingerprints("2026-11-22T00:00:00Z");
    let common: Vec<_> = a.keys().filter(|k| b.contains_key(*k)).collect();
    assert!(common.len() >= 50);
    for k in common {
        assert_eq!(
            a[k], b[k],
            "fingerprint of {k} changed with the evaluation time"
        );
    }
    let unique: std::collections::BTreeSet<_> = a.values().map(|v| v.to_string()).collect();
    assert_eq!(
        unique.len(),
        a.len(),
        "one fingerprint per rule and resource"
    );
}

#[test]
fn artifact_and_category_can_be_set() {
    let sarif = demo_sarif(&[
        "--sarif-artifact",
        "./infra/aws/snapshot.json",
        "--sarif-category",
        "aws-prod",
    ]);
    let run = &sarif["runs"][0];
    assert_eq!(
        run["automationDetails"]["id"],
        "aws-prod/2026-11-21T00:00:00Z"
    );
    for r in run["results"].as_array().unwrap() {
        assert_eq!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "infra/aws/snapshot.json"
        );
    }
}

#[test]
fn suppressed_findings_carry_suppressions() {
    let sarif = demo_sarif(&["--config", "fixtures/config/example.yaml"]);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let suppressed: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["suppressions"][0]["kind"], "external");
    assert_eq!(suppressed[0]["suppressions"][0]["status"], "accepted");
    assert!(suppressed[0]["suppressions"][0]["justification"]
        .as_str()
        .unwrap()
        .contains("owner"));
}

#[test]
fn sarif_snapshot() {
    let text =
        String::from_utf8(scan_demo(&["--format", "sarif"]).output().unwrap().stdout).unwrap();
    insta::assert_snapshot!("demo_sarif", text);
}
