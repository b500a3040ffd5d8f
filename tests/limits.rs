//! What a custom policy cannot do, and what stops one that runs away.

mod common;

use common::*;
use predicates::prelude::*;

/// A custom policy calling `builtin`: credwarden's engine has no such function, so loading it
/// is an error (exit 2) — nothing is sent, read or exposed.
fn policy_calling(builtin_call: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("reach_out.rego"),
        format!(
            "# METADATA\n# title: Reaches outside\n# custom:\n#   id: ORG041\n#   slug: reach-out\n#   severity: low\n\
             package org.rules.reach_out\n\nimport rego.v1\n\n\
             deny contains finding if {{\n\tx := {builtin_call}\n\
             \tfinding := {{\"account_id\": \"1\", \"resource\": {{\"type\": \"aws_account\", \"id\": \"1\", \"arn\": \"a\"}}, \"message\": sprintf(\"%v\", [x])}}\n}}\n"
        ),
    )
    .unwrap();
    dir
}

#[test]
fn builtins_reaching_outside_do_not_exist() {
    for call in [
        r#"http.send({"method": "GET", "url": "http://127.0.0.1:9/"})"#,
        "opa.runtime()",
        r#"net.lookup_ip_addr("example.com")"#,
        r#"net.cidr_expand("10.0.0.0/8")"#,
    ] {
        let dir = policy_calling(call);
        let name = call.split('(').next().unwrap();
        scan_demo(&["--policy", dir.path().to_str().unwrap()])
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(name).and(predicate::str::contains("reach_out.rego")));
    }
}

#[test]
fn queries_cannot_reach_outside_either() {
    credwarden()
        .args([
            "query",
            "--snapshot",
            DEMO,
            "--now",
            NOW,
            "opa.runtime().env",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("opa.runtime"));
}

#[test]
fn a_runaway_policy_is_stopped_with_its_name() {
    let started = std::time::Instant::now();
    scan_demo(&[
        "--policy",
        "tests/fixtures/policies/runaway",
        "--rule-time-limit",
        "1",
    ])
    .assert()
    .code(2)
    .stdout("")
    .stderr(predicate::str::contains(
        "runaway.rego: rule ORG030 was stopped after 1 s",
    ));
    assert!(started.elapsed().as_secs() < 60, "stopped promptly");
}

#[test]
fn a_runaway_query_is_stopped_too() {
    credwarden()
        .args(["query", "--snapshot", DEMO, "--now", NOW, "--rule-time-limit", "0.5"])
        .arg("count([1 | some a in numbers.range(1, 5000); some b in numbers.range(1, 5000); a * b == -1])")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("stopped after 0.5 s"));
}

#[test]
fn deeply_nested_json_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.json");
    let depth = 100_000;
    // Free-form metadata is the one place a snapshot may nest arbitrarily.
    std::fs::write(
        &path,
        format!(
            r#"{{"schema":"1.0","collected_at":"2026-11-20T00:00:00Z","accounts":[],"metadata":{{"x":{}{}}}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        ),
    )
    .unwrap();
    credwarden()
        .args(["scan", "--snapshot"])
        .arg(&path)
        .args(["--now", NOW])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("deep.json:1:")
                .and(predicate::str::contains("recursion limit")),
        );
}

#[test]
fn bad_time_limits_are_usage_errors() {
    for bad in ["0", "-1", "nan", "1e9"] {
        scan_demo(&[&format!("--rule-time-limit={bad}")])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("expected a number of seconds"));
    }
}

#[test]
fn a_snapshot_of_several_gigabytes_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.json");
    // A sparse 4 GiB file: refused from its size, before a byte is read.
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(4 << 30).unwrap();
    let started = std::time::Instant::now();
    credwarden()
        .args(["scan", "--snapshot"])
        .arg(&path)
        .args(["--now", NOW, "-o"])
        .arg(dir.path().join("out.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "huge.json: the snapshot is larger than the input limit of 268435456 bytes",
        ))
        .stderr(predicate::str::contains("CREDWARDEN_MAX_INPUT_BYTES"));
    assert!(started.elapsed().as_secs() < 10);
    assert!(!dir.path().join("out.json").exists());
}

#[test]
fn the_input_limit_can_be_set() {
    scan_demo(&[])
        .env("CREDWARDEN_MAX_INPUT_BYTES", "1000")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "larger than the input limit of 1000 bytes",
        ));
    credwarden()
        .args([
            "scan",
            "--credential-report",
            "fixtures/credential-report/report.csv",
            "--now",
            NOW,
        ])
        .env("CREDWARDEN_MAX_INPUT_BYTES", "100")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "the credential report is larger than the input limit",
        ));
}

#[test]
fn a_credential_report_of_a_million_rows_stops_with_a_clear_error() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("million.csv");
    let header = std::fs::read_to_string(repo("fixtures/credential-report/report.csv"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let columns = header.split(',').count();
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(w, "{header}").unwrap();
    for i in 0..1_000_000 {
        // user, arn, creation time, then N/A for everything else.
        write!(
            w,
            "u{i},arn:aws:iam::123456789012:user/u{i},2024-01-01T00:00:00+00:00"
        )
        .unwrap();
        for _ in 3..columns {
            w.write_all(b",N/A").unwrap();
        }
        w.write_all(b"\n").unwrap();
    }
    w.flush().unwrap();
    drop(w);
    credwarden()
        .args(["scan", "--credential-report"])
        .arg(&path)
        .args(["--now", NOW])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "million.csv:10003: more than 10001 rows",
        ));
}

#[test]
fn invalid_utf8_in_a_snapshot_names_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.json");
    std::fs::write(
        &path,
        b"{\n  \"schema\": \"1.0\",\n  \"source\": \"caf\xe9\"\n}\n",
    )
    .unwrap();
    credwarden()
        .args(["scan", "--snapshot"])
        .arg(&path)
        .args(["--now", NOW])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "latin1.json:3:17: invalid JSON: not UTF-8",
        ));
}

#[test]
fn a_yaml_alias_bomb_in_the_config_is_a_clear_error() {
    scan_demo(&["--config", "fixtures/fuzz/config/alias-bomb.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("alias-bomb.yaml: field `params."))
        .stderr(predicate::str::contains("repetition limit exceeded"));
}
