//! `credwarden query`: ad-hoc Rego over a snapshot.

mod common;

use common::*;
use predicates::prelude::*;

fn query(args: &[&str]) -> assert_cmd::Command {
    let mut cmd = credwarden();
    cmd.args(["query", "--snapshot", DEMO, "--now", NOW])
        .args(args);
    cmd
}

/// Never-used keys per user: the example of the issue, through the bundled helpers.
const UNUSED_PER_USER: &str = "{u.user_name: n | some a in input.accounts; some u in a.users; \
    n := count([k | some k in u.access_keys; data.credwarden.lib.never_used(k)]); n > 0}";

#[test]
fn a_value_is_printed_as_json() {
    let out = query(&[UNUSED_PER_USER]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"hackathon-2024": 1, "l.fischer": 1})
    );
}

#[test]
fn a_value_as_a_table() {
    query(&["--format", "table", UNUSED_PER_USER])
        .assert()
        .code(0)
        .stdout(
            "key             value\n--------------  -----\nhackathon-2024  1\nl.fischer       1\n",
        );
}

#[test]
fn variables_give_one_row_per_result() {
    query(&[
        "--format",
        "table",
        "some a in input.accounts; id := a.account_id; users := count(a.users)",
    ])
    .assert()
    .code(0)
    .stdout(predicate::str::is_match(r"(?m)^a +id +users$").unwrap())
    .stdout(predicate::str::is_match(r"(?m)^\{.*… +111111111111 +7$").unwrap());
    let out = query(&["some a in input.accounts; id := a.account_id"])
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["111111111111", "222222222222", "333333333333"]);
}

#[test]
fn the_evaluation_time_and_config_are_in_data() {
    let out = query(&["data.credwarden.now"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "\"2026-11-21T00:00:00Z\"\n"
    );
    let out = credwarden()
        .args(["query", "--snapshot", DEMO, "--now", NOW])
        .args(["--config", "fixtures/config/example.yaml"])
        .arg("data.credwarden.config.thresholds.unused_days")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse::<u32>()
        .is_ok());
}

#[test]
fn an_undefined_query_exits_1() {
    query(&["input.no_such_field"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("undefined"));
}

#[test]
fn a_bad_query_is_exit_2_with_its_column() {
    query(&["count(input.accounts"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("query:1:1"))
        .stderr(predicate::str::contains("left open"));
    query(&["data.credwarden.lib.no_such_function(1)"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("query:1:"))
        .stderr(predicate::str::contains("no_such_function"));
}

#[test]
fn a_credential_report_can_be_queried() {
    credwarden()
        .args([
            "query",
            "--credential-report",
            "fixtures/credential-report/report.csv",
        ])
        .args(["--now", NOW, "count(input.accounts[0].users) > 0"])
        .assert()
        .code(0)
        .stdout("true\n");
}
