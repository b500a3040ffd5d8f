//! `credwarden evidence export | verify`: the auditors' bundle.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use predicates::prelude::*;
use sha2::{Digest, Sha256};

const CONFIG: &str = "fixtures/config/example.yaml";

fn export(extra: &[&str]) -> assert_cmd::Command {
    let mut cmd = credwarden();
    cmd.args([
        "evidence",
        "export",
        "--snapshot",
        DEMO,
        "--now",
        NOW,
        "--config",
        CONFIG,
    ])
    .args(extra);
    cmd
}

fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

fn controls(dir: &Path) -> Vec<BTreeMap<String, String>> {
    csv::Reader::from_path(dir.join("controls.csv"))
        .unwrap()
        .deserialize()
        .map(Result::unwrap)
        .collect()
}

fn control<'a>(
    rows: &'a [BTreeMap<String, String>],
    fw: &str,
    id: &str,
) -> &'a BTreeMap<String, String> {
    rows.iter()
        .find(|r| r["framework"] == fw && r["control_id"] == id)
        .unwrap_or_else(|| panic!("no control {fw} {id}"))
}

#[test]
fn the_bundle_holds_every_file_with_its_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("evidence");
    let out = export(&["--out", dir.to_str().unwrap()]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "config.yaml",
            "controls.csv",
            "findings.json",
            "findings.sarif",
            "manifest.json",
            "report.html",
            "snapshot.json"
        ]
    );
    let m = manifest(&dir);
    let listed: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        names
            .iter()
            .filter(|n| *n != "manifest.json")
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    for f in m["files"].as_array().unwrap() {
        let bytes = std::fs::read(dir.join(f["path"].as_str().unwrap())).unwrap();
        assert_eq!(f["sha256"], sha256(&bytes), "{}", f["path"]);
        assert_eq!(f["bytes"], bytes.len());
    }
    // The manifest's own hash is printed, to be recorded elsewhere.
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        printed.trim(),
        format!(
            "manifest sha256 {}",
            sha256(&std::fs::read(dir.join("manifest.json")).unwrap())
        )
    );
    // The snapshot is the evaluated file itself, byte for byte; the config too.
    assert_eq!(
        std::fs::read(dir.join("snapshot.json")).unwrap(),
        std::fs::read(repo(DEMO)).unwrap()
    );
    assert_eq!(
        std::fs::read(dir.join("config.yaml")).unwrap(),
        std::fs::read(repo(CONFIG)).unwrap()
    );
}

#[test]
fn the_manifest_says_what_produced_the_evidence() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("e");
    export(&["--out", dir.to_str().unwrap()]).assert().code(0);
    let m = manifest(&dir);
    let findings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("findings.json")).unwrap()).unwrap();
    assert_eq!(m["format"], "credwarden-evidence/1");
    assert_eq!(m["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(m["evaluated_at"], NOW);
    assert_eq!(m["collected_at"], "2026-11-20T23:40:00Z");
    assert_eq!(
        m["policy_bundle"]["digest"],
        findings["input"]["policy_digest"]
    );
    assert!(m["policy_bundle"]["digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    assert_eq!(
        m["config"]["sha256"],
        sha256(&std::fs::read(repo(CONFIG)).unwrap())
    );
    let reports: Vec<(&str, &str)> = m["credential_reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["account_id"].as_str().unwrap(),
                r["generated_at"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reports,
        [
            ("111111111111", "2026-11-20T23:35:00Z"),
            ("222222222222", "2026-11-20T23:35:00Z"),
            ("333333333333", "2026-11-20T12:00:00Z"),
        ]
    );
    assert_eq!(m["summary"]["findings"], findings["summary"]["findings"]);
    assert_eq!(m["summary"]["suppressed"], 1);
    let frameworks: Vec<&str> = m["summary"]["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        frameworks,
        [
            "cis-aws-1.2",
            "cis-aws-1.4",
            "cis-aws-1.5",
            "cis-aws-2.0",
            "cis-aws-3.0",
            "cis-aws-5.0",
            "nist-800-53-r5",
            "iso-27001-2022"
        ]
    );
}

#[test]
fn controls_pass_fail_and_count_their_evidence() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("e");
    export(&["--out", dir.to_str().unwrap()]).assert().code(0);
    let rows = controls(&dir);
    let findings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("findings.json")).unwrap()).unwrap();
    // CIS 1.4 1.12 (credentials unused for 45 days): CW101 and CW301, failing on the distinct
    // resources with open findings of either rule.
    let c = control(&rows, "cis-aws-1.4", "1.12");
    assert_eq!(c["rules"], "CW101 CW301");
    assert_eq!(c["status"], "fail");
    let mut failing: Vec<String> = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["suppressed"].as_bool().unwrap())
        .filter(|f| ["CW101", "CW301"].contains(&f["rule_id"].as_str().unwrap()))
        .map(|f| format!("{} {}", f["account_id"], f["resource"]["id"]))
        .collect();
    failing.sort();
    failing.dedup();
    assert_eq!(c["failing_resources"], failing.len().to_string());
    assert_eq!(c["evaluated_resources"], "45");
    assert_eq!(c["evidence"], "19 aws_iam_access_key, 26 aws_iam_user");
    // A suppressed finding does not fail its control but is counted.
    let c = control(&rows, "cis-aws-1.4", "1.14");
    assert_eq!(c["suppressed_findings"], "1");
    // CW902 found every account collected: CA-7 passes, with the three accounts as evidence.
    let c = control(&rows, "nist-800-53-r5", "CA-7");
    assert_eq!(
        (
            c["status"].as_str(),
            c["failing_resources"].as_str(),
            c["evaluated_resources"].as_str()
        ),
        ("pass", "0", "3")
    );
    // The example config disables CW304, the only rule for CIS 1.21: not evaluated, never "pass".
    let c = control(&rows, "cis-aws-1.4", "1.21");
    assert_eq!(
        (
            c["status"].as_str(),
            c["rules"].as_str(),
            c["evaluated_resources"].as_str()
        ),
        ("not-evaluated", "", "")
    );
    assert!(rows
        .iter()
        .all(|r| ["pass", "fail", "not-evaluated"].contains(&r["status"].as_str())));
    assert!(
        rows.iter().all(|r| !r["title"].is_empty()),
        "every bundled control has a title"
    );
}

#[test]
fn verify_accepts_an_intact_bundle_and_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("e");
    let archive = tmp.path().join("e.tar.gz");
    export(&[
        "--out",
        dir.to_str().unwrap(),
        "--archive",
        archive.to_str().unwrap(),
    ])
    .assert()
    .code(0);
    for path in [&dir, &archive] {
        credwarden()
            .args(["evidence", "verify"])
            .arg(path)
            .assert()
            .code(0)
            .stdout(predicate::str::starts_with(
                "ok: 6 files match the manifest",
            ));
    }
    let recorded = sha256(&std::fs::read(dir.join("manifest.json")).unwrap());
    credwarden()
        .args(["evidence", "verify", "--manifest-sha256", &recorded])
        .arg(&archive)
        .assert()
        .code(0);
}

#[test]
fn verify_catches_changed_missing_and_added_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("e");
    export(&["--out", dir.to_str().unwrap()]).assert().code(0);
    // One changed byte in the findings.
    let path = dir.join("findings.json");
    let mut bytes = std::fs::read(&path).unwrap();
    let i = bytes.iter().position(|b| *b == b'1').unwrap();
    bytes[i] = b'2';
    std::fs::write(&path, bytes).unwrap();
    std::fs::remove_file(dir.join("report.html")).unwrap();
    std::fs::write(dir.join("notes.txt"), "added later").unwrap();
    credwarden()
        .args(["evidence", "verify"])
        .arg(&dir)
        .assert()
        .code(1)
        .stdout("CHANGED findings.json\nMISSING report.html\nADDED   notes.txt\nFAILED: 3 file(s) differ from the manifest; 4 intact\n");
}

#[test]
fn verify_catches_a_rewritten_manifest_given_its_recorded_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("e");
    export(&["--out", dir.to_str().unwrap()]).assert().code(0);
    let recorded = sha256(&std::fs::read(dir.join("manifest.json")).unwrap());
    // Someone edits the findings and rewrites their hash in the manifest to match.
    let findings = std::fs::read(dir.join("findings.json")).unwrap();
    let edited = String::from_utf8(findings.clone())
        .unwrap()
        .replacen("CW101", "CW1O1", 1);
    std::fs::write(dir.join("findings.json"), &edited).unwrap();
    let m = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    std::fs::write(
        dir.join("manifest.json"),
        m.replace(&sha256(&findings), &sha256(edited.as_bytes())),
    )
    .unwrap();
    credwarden()
        .args(["evidence", "verify"])
        .arg(&dir)
        .assert()
        .code(0);
    credwarden()
        .args(["evidence", "verify", "--manifest-sha256", &recorded])
        .arg(&dir)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("CHANGED manifest.json"));
}

#[test]
fn archives_are_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.tar.gz");
    let b = tmp.path().join("b.tar.gz");
    export(&["--archive", a.to_str().unwrap()]).assert().code(0);
    export(&["--archive", b.to_str().unwrap()]).assert().code(0);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    // The files were rendered in a staging directory beside the archive, removed since.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 2);
    // Entries sit under evidence/, so unpacking never scatters files.
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(&a).unwrap(),
    ));
    let names: Vec<String> = archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| n.starts_with("evidence/")),
        "{names:?}"
    );
    assert_eq!(names.len(), 7);
}

#[test]
fn an_existing_bundle_is_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("e");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("keep.txt"), "mine").unwrap();
    export(&["--out", dir.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists and is not empty"));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "no staging directory is left"
    );
    // An empty directory is fine.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    export(&["--out", empty.to_str().unwrap()]).assert().code(0);
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 7);
}

#[test]
fn bad_input_leaves_no_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("e");
    credwarden()
        .args([
            "evidence",
            "export",
            "--snapshot",
            "fixtures/bad/snapshot-bad-field.json",
            "--now",
            NOW,
        ])
        .args(["--out", dir.to_str().unwrap()])
        .assert()
        .code(2);
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn a_bad_manifest_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("e");
    export(&["--out", dir.to_str().unwrap()]).assert().code(0);
    std::fs::write(
        dir.join("manifest.json"),
        "{\n  \"format\": \"credwarden-evidence/1\",\n  \"files\": 3\n}\n",
    )
    .unwrap();
    credwarden()
        .args(["evidence", "verify"])
        .arg(&dir)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("manifest.json:3:"))
        .stderr(predicate::str::contains("the manifest is not valid"));
    let not_gz = tmp.path().join("x.tar.gz");
    std::fs::write(&not_gz, "plain text").unwrap();
    credwarden()
        .args(["evidence", "verify"])
        .arg(&not_gz)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a .tar.gz archive"));
}

#[test]
fn a_credential_report_bundle_keeps_the_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("e");
    credwarden()
        .args([
            "evidence",
            "export",
            "--credential-report",
            "fixtures/credential-report/report.csv",
        ])
        .args([
            "--report-generated-at",
            "2026-11-20T22:00:00Z",
            "--now",
            NOW,
            "--out",
            dir.to_str().unwrap(),
        ])
        .assert()
        .code(0);
    assert_eq!(
        std::fs::read(dir.join("credential-report.csv")).unwrap(),
        std::fs::read(repo("fixtures/credential-report/report.csv")).unwrap()
    );
    let m = manifest(&dir);
    assert_eq!(m["input"]["kind"], "credential-report");
    assert_eq!(
        m["credential_reports"][0]["generated_at"],
        "2026-11-20T22:00:00Z"
    );
    assert!(m["config"].is_null());
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("findings.sarif")).unwrap()).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
            ["uri"],
        "credential-report.csv"
    );
    credwarden()
        .args(["evidence", "verify"])
        .arg(&dir)
        .assert()
        .code(0);
}

#[test]
fn quiet_export_prints_only_the_manifest_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("e");
    export(&["-q", "--out", dir.to_str().unwrap()])
        .assert()
        .code(0)
        .stderr("")
        .stdout(predicate::str::is_match("^manifest sha256 [0-9a-f]{64}\n$").unwrap());
}
