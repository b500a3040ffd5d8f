//! Bad input gets a clear one-line error naming the file, line and field; exit 2; no output file.

mod common;

use common::*;

fn rejects(input_flag: &str, file: &str, message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.sarif");
    let assert = credwarden()
        .args([
            "scan",
            input_flag,
            file,
            "--now",
            NOW,
            "--format",
            "sarif",
            "-o",
            out.to_str().unwrap(),
        ])
        .assert()
        .code(2)
        .stdout("");
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        stderr.contains(message),
        "expected {message:?} in {stderr:?}"
    );
    assert!(!stderr.contains("panicked"));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no output file"
    );
}

#[test]
fn invalid_json_names_line_and_column() {
    rejects(
        "--snapshot",
        "fixtures/bad/snapshot-invalid-json.json",
        "fixtures/bad/snapshot-invalid-json.json:60:5: invalid JSON: trailing comma",
    );
}

#[test]
fn unknown_schema_version_is_refused() {
    rejects(
        "--snapshot",
        "fixtures/bad/snapshot-future-schema.json",
        "snapshot schema version \"2.0\" is not supported: this credwarden reads schema 1.x",
    );
}

#[test]
fn bad_field_names_its_path() {
    rejects(
        "--snapshot",
        "fixtures/bad/snapshot-bad-field.json",
        "fixtures/bad/snapshot-bad-field.json:50:33: field `accounts[0].users[0].access_keys[0].status`: unknown variant `Enabled`, expected `Active` or `Inactive`",
    );
}

#[test]
fn missing_file_is_named() {
    rejects(
        "--snapshot",
        "fixtures/no-such-snapshot.json",
        "fixtures/no-such-snapshot.json: cannot read the snapshot",
    );
    rejects(
        "--credential-report",
        "fixtures/no-such-report.csv",
        "fixtures/no-such-report.csv: cannot read the credential report",
    );
}

#[test]
fn empty_snapshot_is_invalid_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.json");
    std::fs::write(&path, "").unwrap();
    rejects(
        "--snapshot",
        path.to_str().unwrap(),
        "empty.json:1:0: invalid JSON: EOF while parsing",
    );
}

#[test]
fn malformed_csv_rows_name_line_and_column() {
    rejects(
        "--credential-report",
        "fixtures/bad/report-bad-date.csv",
        "fixtures/bad/report-bad-date.csv:4:5: field `password_last_used`: expected an ISO 8601 timestamp",
    );
    rejects(
        "--credential-report",
        "fixtures/bad/report-short-row.csv",
        "fixtures/bad/report-short-row.csv:3: row has 18 fields, expected 22",
    );
    rejects(
        "--credential-report",
        "fixtures/bad/report-missing-column.csv",
        "fixtures/bad/report-missing-column.csv:1: the header lacks column(s) mfa_active",
    );
}

#[test]
fn a_snapshot_given_as_csv_is_explained() {
    rejects(
        "--credential-report",
        DEMO,
        "fixtures/demo/snapshot.json:1: the header lacks column(s)",
    );
}

#[test]
fn output_into_a_missing_directory_is_exit_2_and_leaves_nothing() {
    let assert = scan_demo(&["--format", "json", "-o", "/nonexistent-dir/out.json"])
        .assert()
        .code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("/nonexistent-dir/out.json: cannot write the output"),
        "{stderr}"
    );
}

mod schema {
    use super::*;

    fn validator() -> jsonschema::Validator {
        let schema: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(repo("docs/schema/snapshot-v1.schema.json")).unwrap(),
        )
        .unwrap();
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the schema compiles")
    }

    fn errors(v: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
        v.iter_errors(doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    #[test]
    fn demo_snapshot_matches_the_json_schema() {
        let demo: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(repo(DEMO)).unwrap()).unwrap();
        assert_eq!(errors(&validator(), &demo), Vec::<String>::new());
    }

    #[test]
    fn snapshot_built_from_a_credential_report_matches_the_json_schema() {
        let bytes = std::fs::read(repo("fixtures/credential-report/report.csv")).unwrap();
        let (snapshot, _) = credwarden::snapshot::credential_report::parse_credential_report(
            &bytes,
            "report.csv",
            Some("2026-11-20T12:00:00Z".parse().unwrap()),
            NOW.parse().unwrap(),
        )
        .unwrap();
        let doc = serde_json::to_value(&snapshot).unwrap();
        assert_eq!(errors(&validator(), &doc), Vec::<String>::new());
    }

    #[test]
    fn synthetic_snapshots_match_the_json_schema() {
        let spec = credwarden::synthetic::Spec {
            seed: 3,
            accounts: 4,
            users: 300,
        };
        let doc = serde_json::to_value(credwarden::synthetic::generate(spec)).unwrap();
        assert_eq!(errors(&validator(), &doc), Vec::<String>::new());
    }

    #[test]
    fn schema_rejects_what_the_loader_rejects() {
        let bad: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(repo("fixtures/bad/snapshot-bad-field.json")).unwrap(),
        )
        .unwrap();
        assert!(!errors(&validator(), &bad).is_empty());
        let future: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(repo("fixtures/bad/snapshot-future-schema.json")).unwrap(),
        )
        .unwrap();
        assert!(!errors(&validator(), &future).is_empty());
    }

    #[test]
    fn typed_round_trip_keeps_the_demo_intact() {
        let text = std::fs::read_to_string(repo(DEMO)).unwrap();
        let snapshot = credwarden::snapshot::load::parse_snapshot(&text, DEMO).unwrap();
        let original: serde_json::Value = serde_json::from_str(&text).unwrap();
        let again = serde_json::to_value(&snapshot).unwrap();
        assert_eq!(
            credwarden::snapshot::load::parse_snapshot(&again.to_string(), "again").unwrap(),
            snapshot
        );
        assert_eq!(
            original["accounts"][1]["users"].as_array().unwrap().len(),
            snapshot.accounts[1].users.len()
        );
    }
}

/// The policies are read while the snapshot loads, but errors come in the order a user fixes
/// them: the config's, then the input's, then the policies'. Each run exits 2 with one line.
#[test]
fn errors_come_config_then_input_then_policies() {
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    std::fs::write(
        policies.join("broken.rego"),
        "package org.rules.broken\n\nimport rego.v1\n\ndeny contains x if {\n",
    )
    .unwrap();
    let policy_dir = policies.to_str().unwrap();
    let stderr_of = |args: &[&str]| {
        let assert = credwarden()
            .args([
                "scan", "--now", NOW, "--format", "json", "--policy", policy_dir,
            ])
            .args(args)
            .assert()
            .code(2)
            .stdout("");
        let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
        stderr
    };
    let bad_snapshot = "fixtures/bad/snapshot-invalid-json.json";
    let bad_config = "fixtures/bad/config-unknown-key.yaml";
    let both = stderr_of(&["--snapshot", bad_snapshot]);
    assert!(both.contains(bad_snapshot), "{both}");
    let all = stderr_of(&["--snapshot", bad_snapshot, "--config", bad_config]);
    assert!(all.contains(bad_config), "{all}");
    let policy = stderr_of(&["--snapshot", DEMO]);
    assert!(policy.contains("broken.rego"), "{policy}");
}
