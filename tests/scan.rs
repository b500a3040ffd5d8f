//! `credwarden scan` end to end: the demo organization, credential reports, config, exit codes.

mod common;

use common::*;
use predicates::prelude::*;

#[test]
fn demo_fires_every_bundled_rule_exactly_as_documented() {
    let report = json_of(
        scan_demo(&["--format", "json"])
            .arg("--fail-on")
            .arg("none"),
    );
    let expected = [
        ("CW101", 3),
        ("CW102", 5),
        ("CW103", 1),
        ("CW104", 2),
        ("CW105", 1),
        ("CW201", 1),
        ("CW202", 1),
        ("CW203", 1),
        ("CW301", 4),
        ("CW302", 1),
        ("CW303", 2),
        ("CW304", 24),
        ("CW305", 1),
        ("CW401", 2),
        ("CW402", 2),
        ("CW901", 1),
    ];
    let counts = count_by_rule(&report);
    assert_eq!(
        counts,
        expected.iter().map(|(r, n)| (r.to_string(), *n)).collect(),
        "fixtures/demo/README.md lists the expected findings"
    );
    assert_eq!(report["summary"]["findings"], 52);
    assert_eq!(report["summary"]["by_severity"]["critical"], 2);
    assert_eq!(report["summary"]["by_severity"]["high"], 7);
    // Specific resources, from the fixture's table.
    let pairs = rule_resources(&report);
    for (rule, id) in [
        ("CW101", "AKIAJB7XPG3SGEXAMPLE"),
        ("CW101", "AKIATHCM6VHJBEXAMPLE"),
        ("CW103", "deploy-pipeline"),
        ("CW105", "AKIAAKXZBPC6OEXAMPLE"),
        ("CW201", "root"),
        ("CW302", "vendor-poc"),
        ("CW305", "breakglass-sandbox"),
        ("CW401", "333333333333"),
        ("CW401", "111111111111"),
    ] {
        assert!(
            pairs.contains(&(rule.into(), id.into())),
            "missing {rule} on {id}"
        );
    }
    // Prod is covered by the OU's SCP; the correctly configured break-glass user is clean.
    assert!(!pairs.contains(&("CW401".into(), "222222222222".into())));
    assert!(!pairs.iter().any(|(_, id)| id == "breakglass-admin"));
}

#[test]
fn json_findings_carry_the_contract_fields() {
    let report = json_of(&mut scan_demo(&["--format", "json"]));
    assert_eq!(report["tool"]["name"], "credwarden");
    assert_eq!(report["evaluated_at"], NOW);
    assert_eq!(report["input"]["kind"], "snapshot");
    assert_eq!(report["input"]["path"], DEMO);
    assert_eq!(report["accounts"].as_array().unwrap().len(), 3);
    assert_eq!(report["accounts"][2]["credential_report_age_hours"], 12.0);
    for f in report["findings"].as_array().unwrap() {
        for field in [
            "rule_id",
            "slug",
            "severity",
            "account_id",
            "message",
            "fingerprint",
            "title",
        ] {
            assert!(
                f[field].as_str().is_some_and(|s| !s.is_empty()),
                "{field} in {f}"
            );
        }
        for field in ["type", "id", "arn"] {
            assert!(
                f["resource"][field].as_str().is_some_and(|s| !s.is_empty()),
                "resource.{field} in {f}"
            );
        }
        if f["resource"]["type"] == "aws_iam_access_key" {
            assert!(
                f["resource"]["user"].is_string(),
                "key findings name the user: {f}"
            );
        }
        assert_eq!(f["suppressed"], false);
    }
    let unused = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "CW101" && f["resource"]["id"] == "AKIAJB7XPG3SGEXAMPLE")
        .unwrap();
    assert_eq!(unused["remediation"]["action"], "deactivate_access_key");
    assert_eq!(
        unused["remediation"]["params"]["access_key_id"],
        "AKIAJB7XPG3SGEXAMPLE"
    );
    assert!(unused["remediation"]["summary"].as_str().unwrap().len() > 20);
    assert_eq!(unused["account_alias"], "acme-prod");
}

#[test]
fn output_is_deterministic() {
    let a = scan_demo(&["--format", "json"]).output().unwrap().stdout;
    let b = scan_demo(&["--format", "json"]).output().unwrap().stdout;
    assert_eq!(a, b);
    let a = scan_demo(&["--format", "sarif"]).output().unwrap().stdout;
    let b = scan_demo(&["--format", "sarif"]).output().unwrap().stdout;
    assert_eq!(a, b);
}

/// `--engine rego` (every rule in the interpreter) and the default fast path give the same
/// report, byte for byte, with a config that moves thresholds and names break-glass users.
#[test]
fn both_engines_give_the_same_report() {
    for format in ["json", "sarif", "text"] {
        for extra in [&[][..], &["--config", "fixtures/config/example.yaml"][..]] {
            let run = |engine: &str| {
                scan_demo(&["--format", format, "--engine", engine])
                    .args(extra)
                    .output()
                    .unwrap()
                    .stdout
            };
            let fast = run("fast");
            assert!(!fast.is_empty());
            assert_eq!(fast, run("rego"), "{format} {extra:?}");
        }
    }
}

#[test]
fn evaluation_time_changes_results() {
    // A year earlier, hackathon-2024's key (created 2024-03-08) was younger.
    let before = json_of(credwarden().args([
        "scan",
        "--snapshot",
        DEMO,
        "--format",
        "json",
        "--now",
        "2024-03-20T00:00:00Z",
    ]));
    let pairs = rule_resources(&before);
    assert!(!pairs.contains(&("CW101".into(), "AKIATHCM6VHJBEXAMPLE".into())));
}

#[test]
fn text_report_snapshot() {
    let out = scan_demo(&[]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines().all(|l| l.chars().count() <= 80),
        "fits 80 columns"
    );
    assert!(!text.contains('\x1b'), "no colour when not a terminal");
    insta::assert_snapshot!("demo_text_by_rule", text);
}

#[test]
fn text_report_groups_by_user_and_account() {
    let by_user = scan_demo(&["--group-by", "user"]).output().unwrap().stdout;
    let by_user = String::from_utf8(by_user).unwrap();
    assert!(
        by_user.contains("222222222222 (acme-prod) legacy-etl (4)"),
        "{by_user}"
    );
    assert!(
        by_user.lines().all(|l| l.chars().count() <= 80),
        "fits 80 columns"
    );
    insta::assert_snapshot!("demo_text_by_user", by_user);
    let by_account = String::from_utf8(
        scan_demo(&["--group-by", "account"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(
        by_account.contains("333333333333 (acme-sandbox) (22)"),
        "{by_account}"
    );
    assert!(
        by_account.contains("111111111111 (acme-management) (12)"),
        "{by_account}"
    );
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let out = scan_demo(&["--color", "always"]).output().unwrap().stdout;
    assert!(String::from_utf8(out)
        .unwrap()
        .contains("\x1b[1;35mCRITICAL"));
}

#[test]
fn fail_on_sets_the_exit_code() {
    scan_demo(&["--fail-on", "high", "--format", "json"])
        .assert()
        .code(1);
    scan_demo(&["--fail-on", "critical", "--format", "json"])
        .assert()
        .code(1);
    scan_demo(&["--fail-on", "none", "--format", "json"])
        .assert()
        .code(0);
    scan_demo(&["--format", "json"]).assert().code(0);
    // With the root and break-glass rules disabled, nothing is critical.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.yaml");
    std::fs::write(&cfg, "rules:\n  disable: [CW201, CW203]\n").unwrap();
    scan_demo(&["--fail-on", "critical", "--config", cfg.to_str().unwrap()])
        .assert()
        .code(0);
    scan_demo(&["--fail-on", "urgent"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "expected none, critical, high, medium, low or info",
        ));
}

#[test]
fn output_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    scan_demo(&["--format", "json", "-o", out.to_str().unwrap()])
        .assert()
        .code(0)
        .stdout("");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(report["summary"]["findings"], 52);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
}

/// The JSON report of scanning a credential report CSV at `NOW`.
fn scan_report(file: &str, extra: &[&str]) -> serde_json::Value {
    json_of(
        credwarden()
            .args([
                "scan",
                "--credential-report",
                file,
                "--format",
                "json",
                "--now",
                NOW,
            ])
            .args(extra),
    )
}

#[test]
fn credential_report_is_evaluated() {
    let report = scan_report(
        "fixtures/credential-report/report.csv",
        &["--report-generated-at", "2026-11-20T12:00:00Z"],
    );
    assert_eq!(report["input"]["kind"], "credential-report");
    let pairs = rule_resources(&report);
    // The root's inactive key slot 1 still counts as a key present.
    assert!(
        pairs.contains(&("CW201".into(), "root".into())),
        "{pairs:?}"
    );
    assert!(
        pairs.contains(&("CW901".into(), "credential-report".into())),
        "{pairs:?}"
    );
    // Keys have no ids in a credential report: they are named by slot.
    assert!(
        pairs.iter().any(|(_, id)| id.ends_with("/key-1")),
        "{pairs:?}"
    );
    for f in report["findings"].as_array().unwrap() {
        assert_eq!(f["account_id"], "444444444444");
    }
    insta::assert_json_snapshot!("credential_report_findings", pairs);
}

#[test]
fn credential_report_with_bom_and_crlf_reads_the_same() {
    let run = |file: &str| {
        let mut report = scan_report(file, &[]);
        report["input"]["path"] = serde_json::Value::Null;
        report["findings"].clone()
    };
    let plain = run("fixtures/credential-report/report.csv");
    assert!(!plain.as_array().unwrap().is_empty());
    assert_eq!(plain, run("fixtures/credential-report/report-crlf-bom.csv"));
}

#[test]
fn without_report_time_the_staleness_rule_stays_silent() {
    let report = scan_report("fixtures/credential-report/report.csv", &[]);
    assert!(!rule_resources(&report).iter().any(|(r, _)| r == "CW901"));
}

/// Without an input file, scan collects from AWS; unreachable AWS is exit 3 with a clear message.
#[test]
fn live_scan_without_aws_access_exits_3() {
    credwarden()
        .args(["scan", "--now", NOW, "--max-attempts", "1"])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "dummy")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .assert()
        .code(3)
        .stdout("")
        .stderr(predicate::str::starts_with(
            "error: AWS sts:GetCallerIdentity failed",
        ));
}

#[test]
fn now_accepts_a_date_and_rejects_nonsense() {
    let at = |now: &str| {
        let mut cmd = credwarden();
        cmd.args(["scan", "--snapshot", DEMO, "--format", "json", "--now", now]);
        cmd
    };
    assert_eq!(
        at("2026-11-21").output().unwrap().stdout,
        scan_demo(&["--format", "json"]).output().unwrap().stdout
    );
    at("tomorrow")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("expected an RFC 3339 time"));
}

#[test]
fn markdown_report_for_job_summaries() {
    let out = scan_demo(&[
        "--format",
        "markdown",
        "--config",
        "fixtures/config/example.yaml",
    ])
    .output()
    .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("## credwarden: 27 findings\n"), "{text}");
    assert!(text.contains("| critical | 2 |"));
    assert!(text.contains("1 finding(s) suppressed by exceptions."));
    assert!(text.contains("**Expired exception:** CW303"));
    assert!(text
        .contains("| high | CW101 `unused-access-key` | 222222222222 | `AKIAJB7XPG3SGEXAMPLE` |"));
}

#[test]
fn csv_report_has_a_row_per_finding() {
    let out = scan_demo(&[
        "--format",
        "csv",
        "--config",
        "fixtures/config/example.yaml",
    ])
    .output()
    .unwrap();
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "rule_id");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 28, "27 findings and the suppressed one");
    let suppressed = headers.iter().position(|h| h == "suppressed").unwrap();
    assert_eq!(rows.iter().filter(|r| &r[suppressed] == "true").count(), 1);
}

/// Reports written as the evaluation streams (text by rule, CSV, JSON) behave like the others
/// at the edges: a reader that stops early (`| head`) still gets the exit code, never a panic;
/// an output file that cannot be made is exit 2 with its path, and leaves nothing behind.
#[test]
fn streamed_reports_survive_a_closed_pipe_and_a_missing_directory() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let snapshot = write_synthetic(dir.path(), 5, 3, 2000);
    for format in ["text", "csv", "json"] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("credwarden"))
            .args([
                "scan",
                "--snapshot",
                snapshot.to_str().unwrap(),
                "--now",
                NOW,
            ])
            .args(["--format", format, "--fail-on", "high"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty(), "{format}");
        // The reader is gone: the rest of the report (megabytes) meets a closed pipe.
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{format}: {stderr}");
        assert!(!stderr.contains("panicked"), "{format}: {stderr}");

        let missing = dir.path().join("no-such-dir").join("report.out");
        scan_demo(&["--format", format, "-o", missing.to_str().unwrap()])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("no-such-dir/report.out"));
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn verbose_names_the_slowest_rules_for_policy_authors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let run = |verbose: bool| {
        let mut cmd = scan_demo(&[
            "--policy",
            "docs/examples/org-policies",
            "--format",
            "json",
            "-o",
            out.to_str().unwrap(),
            "--fail-on",
            "none",
        ]);
        cmd.env_remove("CREDWARDEN_LOG");
        if verbose {
            cmd.arg("-v");
        }
        let output = cmd.output().unwrap();
        assert_eq!(output.status.code(), Some(0));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let stderr = run(true);
    let line = stderr
        .lines()
        .find(|l| l.contains("rules took"))
        .unwrap_or_else(|| panic!("no line of the rules' times in:\n{stderr}"));
    assert!(
        !stderr.contains('\x1b'),
        "no colour when not a terminal: {stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let rules = report["rules"].as_array().unwrap().len();
    assert!(
        line.contains(&format!("{rules} rules took ")),
        "{rules} rules: {line}"
    );
    // The five slowest, each a rule of the report with its time.
    let (_, slowest) = line.split_once("the slowest: ").unwrap();
    let (slowest, _) = slowest.split_once(" (").unwrap();
    let named: Vec<&str> = slowest.split(", ").collect();
    assert_eq!(named.len(), 5, "{line}");
    for entry in named {
        let (id, time) = entry.split_once(' ').unwrap();
        assert!(
            report["rules"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["id"] == id),
            "{id} is not a rule of the report"
        );
        assert!(time.ends_with(" ms"), "{entry}");
    }
    assert!(!run(false).contains("rules took"));
}
