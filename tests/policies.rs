//! Organisational policies beside the bundled ones, and `credwarden policy test`.

mod common;

use common::*;
use predicates::prelude::*;

const FIXTURES: &str = "tests/fixtures/policies";

#[test]
fn custom_policy_runs_beside_the_bundled_rules() {
    // The demo has no contractor keys: point the policy at /service/ through the config's params.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.yaml");
    let with_params = |extra: &str| {
        std::fs::write(
            &cfg,
            format!("params:\n  contractor_path: /service/\n{extra}"),
        )
        .unwrap();
        json_of(&mut scan_demo(&[
            "--format",
            "json",
            "--policy",
            &format!("{FIXTURES}/org"),
            "--config",
            cfg.to_str().unwrap(),
        ]))
    };
    let report = with_params("");
    let counts = count_by_rule(&report);
    assert_eq!(
        counts.len(),
        17,
        "the 16 bundled rules that fire on the demo, and ORG001"
    );
    // Ten active /service/ keys are 30 days or older; deploy-pipeline's second key (18 days) is not.
    let org_keys: Vec<String> = rule_resources(&report)
        .into_iter()
        .filter(|(r, _)| r == "ORG001")
        .map(|(_, id)| id)
        .collect();
    assert_eq!(org_keys.len(), 10, "{org_keys:?}");
    assert!(org_keys.contains(&"AKIAJB7XPG3SGEXAMPLE".to_string()));
    assert!(org_keys.contains(&"AKIADNCCMYONKEXAMPLE".to_string()));
    assert!(!org_keys.contains(&"AKIAKTSRLFH6REXAMPLE".to_string()));
    let org: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "ORG001")
        .collect();
    assert!(!org.is_empty());
    for f in &org {
        assert_eq!(f["severity"], "high");
        assert_eq!(f["slug"], "contractor-key-too-old");
        assert!(f["resource"]["arn"]
            .as_str()
            .unwrap()
            .contains(":user/service/"));
        assert_eq!(
            f["remediation"]["summary"],
            "Rotate the contractor's key, or move the contractor to IAM Identity Center."
        );
    }
    let rule = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "ORG001")
        .unwrap();
    assert_eq!(rule["bundled"], false);
    assert_eq!(rule["controls"]["acme-security-standard"][0], "AC-7");
    // The config's params reach the policy.
    let relaxed = with_params("  contractor_key_days: 100000\n");
    assert!(!count_by_rule(&relaxed).contains_key("ORG001"));
}

/// The findings of rule `id` in a scan of the demo with the custom policies of `policy_dir`
/// and `engine`, and the scan's debug log.
fn custom_findings(policy_dir: &str, id: &str, engine: &str) -> (Vec<serde_json::Value>, String) {
    let out = scan_demo(&[
        "--format", "json", "--policy", policy_dir, "--engine", engine,
    ])
    .env("CREDWARDEN_LOG", "credwarden=debug")
    .output()
    .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    let log = String::from_utf8_lossy(&out.stderr).to_string();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ours: Vec<serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == id)
        .cloned()
        .collect();
    (ours, log)
}

/// A custom rule that makes each finding once per access key, and again from a second body in
/// another form (a `null` remediation, a list where the first has a set): compiled, each
/// finding is reported once, exactly as the interpreter reports the set.
#[test]
fn a_finding_made_twice_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let body = |details: &str, extra: &str| {
        format!(
            r#"deny contains finding if {{
	some account in lib.collected_accounts
	some user in account.users
	some _ in user.access_keys
	finding := {{
		"account_id": account.account_id,
		"resource": lib.user_resource(user),
		"message": sprintf("IAM user %s has access keys", [user.user_name]),
		"details": {{"seen": {details}}},{extra}
	}}
}}
"#
        )
    };
    let policy = format!(
        "# METADATA\n# title: Keys\n# custom:\n#   id: ORG900\n#   slug: user-keys\n#   severity: low\npackage org.rules.repeats\n\nimport rego.v1\n\nimport data.credwarden.lib\n\n{}\n{}",
        body(r#"{"a", "b"}"#, ""),
        body(r#"["a", "b"]"#, "\n\t\t\"remediation\": null,"),
    );
    std::fs::write(dir.path().join("repeats.rego"), policy).unwrap();
    let policy_dir = dir.path().to_str().unwrap();
    let findings = |engine: &str| custom_findings(policy_dir, "ORG900", engine);
    let (fast, log) = findings("fast");
    assert!(log.contains("ORG900: compiled"), "{log}");
    let (interpreted, _) = findings("rego");
    assert_eq!(fast, interpreted);
    // One finding per user with keys, never one per key.
    let users: Vec<&str> = fast
        .iter()
        .map(|f| f["resource"]["id"].as_str().unwrap())
        .collect();
    let mut distinct = users.clone();
    distinct.dedup();
    assert_eq!(users, distinct);
    assert!(users.len() >= 5, "{users:?}");
    for f in &fast {
        assert_eq!(f["details"]["seen"], serde_json::json!(["a", "b"]));
    }
}

/// The findings of a custom rule made from the parts of its object literals (`lib.manual`,
/// details and remediations written in the rule): the same findings as the interpreter's, in
/// every form the packing reads from its parts and every one it leaves to the made value —
/// a `task` already among `lib.manual`'s parameters (merged), parameters that are a made
/// object, a remediation and a resource written as literals, an object among the details,
/// a literal undefined where a member is missing (no finding, not an error).
#[test]
fn findings_made_from_their_parts_are_the_interpreters() {
    let dir = tempfile::tempdir().unwrap();
    let policy = r#"# METADATA
# title: Parts
# custom:
#   id: ORG901
#   slug: parts
#   severity: low
package org.rules.parts

import rego.v1

import data.credwarden.lib

fixed := {"user_name": "x", "why": "made"}

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	finding := {
		"account_id": account.account_id,
		"resource": lib.user_resource(user),
		"message": sprintf("manual for %s", [user.user_name]),
		"remediation": lib.manual({"user_name": user.user_name, "z": 1, "a": [1, {"b": null}]}, "do it"),
		"details": {"nested": {"path": user.path, "n": 2}, "mfa": user.mfa_active, "none": null},
	}
}

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	finding := {
		"account_id": account.account_id,
		"resource": lib.user_resource(user),
		"message": sprintf("task merged for %s", [user.user_name]),
		"remediation": lib.manual({"task": {"old": 1}, "user_name": user.user_name}, {"new": 2}),
	}
}

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	finding := {
		"account_id": account.account_id,
		"resource": {"type": "aws_iam_user", "id": user.user_name, "arn": user.arn, "user": user.user_name},
		"message": sprintf("made params for %s", [user.user_name]),
		"remediation": {"action": "delete_login_profile", "params": fixed},
		"details": {},
	}
}

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	some key in user.access_keys
	some [form, given, action] in [
		["key remediation", key, "deactivate_access_key"],
		["key without its id", object.remove(key, ["access_key_id"]), "delete_access_key"],
	]
	finding := {
		"account_id": account.account_id,
		"resource": lib.key_resource(user, key),
		"message": sprintf("%s for %s", [form, lib.key_label(key)]),
		"remediation": lib.key_remediation(user, given, action),
	}
}

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	finding := {
		"account_id": account.account_id,
		"resource": lib.user_resource(user),
		"message": sprintf("only where tagged %s", [user.user_name]),
		"remediation": lib.manual(fixed, user.tags["contract-end"]),
		"details": {"ends": user.tags["contract-end"]},
	}
}
"#;
    std::fs::write(dir.path().join("parts.rego"), policy).unwrap();
    let policy_dir = dir.path().to_str().unwrap();
    let findings = |engine: &str| custom_findings(policy_dir, "ORG901", engine);
    let (fast, log) = findings("fast");
    assert!(log.contains("ORG901: compiled"), "{log}");
    assert!(!log.contains("ORG901: the interpreter"), "{log}");
    let (interpreted, _) = findings("rego");
    assert_eq!(fast, interpreted);
    let count = |prefix: &str| {
        fast.iter()
            .filter(|f| f["message"].as_str().unwrap().starts_with(prefix))
            .count()
    };
    let users = count("manual for");
    assert!(users >= 10, "{fast:#?}");
    assert_eq!(count("task merged"), users);
    assert_eq!(count("made params"), users);
    let tagged = count("only where tagged");
    assert!(tagged > 0 && tagged < users, "{tagged} of {users}");
    let merged = fast
        .iter()
        .find(|f| f["message"].as_str().unwrap().starts_with("task merged"))
        .unwrap();
    assert_eq!(
        merged["remediation"]["params"]["task"],
        serde_json::json!({"old": 1, "new": 2})
    );
    // `lib.key_remediation`: the key's action, a break-glass user's key left to a person, and
    // a key without its id (made by the library, not from its parts).
    let keys = count("key remediation");
    assert!(keys >= 10, "{fast:#?}");
    assert_eq!(count("key without its id"), keys);
    let remediations = |prefix: &str| -> Vec<serde_json::Value> {
        fast.iter()
            .filter(|f| f["message"].as_str().unwrap().starts_with(prefix))
            .map(|f| f["remediation"].clone())
            .collect()
    };
    let by_id = remediations("key remediation");
    assert!(by_id.iter().any(|r| r["action"] == "deactivate_access_key"));
    assert!(by_id.iter().any(|r| r["action"] == "manual"
        && r["params"]["break_glass"] == true
        && r["params"]["intended_action"] == "deactivate_access_key"));
    assert!(remediations("key without its id")
        .iter()
        .all(|r| r["action"] == "manual" && r["params"]["intended_action"] == "delete_access_key"));
}

/// A custom rule whose `lib.manual` is given parameters that are not an object fails the
/// scan with the interpreter's error, compiled or not.
#[test]
fn manual_parameters_that_are_not_an_object_fail_as_in_the_interpreter() {
    let dir = tempfile::tempdir().unwrap();
    let policy = r#"# METADATA
# title: Bad parameters
# custom:
#   id: ORG902
#   slug: bad-params
#   severity: low
package org.rules.bad_params

import rego.v1

import data.credwarden.lib

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	finding := {
		"account_id": account.account_id,
		"resource": lib.user_resource(user),
		"message": "bad",
		"remediation": lib.manual(user.user_name, "do it"),
	}
}
"#;
    std::fs::write(dir.path().join("bad_params.rego"), policy).unwrap();
    let policy_dir = dir.path().to_str().unwrap();
    let failure = |engine: &str| {
        let out = scan_demo(&[
            "--format", "json", "--policy", policy_dir, "--engine", engine,
        ])
        .output()
        .unwrap();
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(out.stdout.is_empty());
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let fast = failure("fast");
    assert!(fast.contains("object.union"), "{fast}");
    assert_eq!(fast, failure("rego"));
}

/// Run a scan that must fail with exit 2 and `message`, and check no output file appears.
fn rejects(args: &[&str], message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    let mut all = vec!["--format", "json", "-o", out.to_str().unwrap()];
    all.extend_from_slice(args);
    let assert = scan_demo(&all).assert().code(2).stdout("");
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains(message),
        "expected {message:?} in {stderr:?}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(!out.exists(), "no output file after an error");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temporary file either"
    );
}

#[test]
fn finding_of_the_wrong_shape_names_the_policy() {
    rejects(
        &["--policy", &format!("{FIXTURES}/bad-shape")],
        "tests/fixtures/policies/bad-shape/missing_arn.rego: rule ORG002: a finding does not have the required shape (missing field `arn`)",
    );
}

#[test]
fn rego_syntax_error_names_file_and_line() {
    rejects(
        &["--policy", &format!("{FIXTURES}/bad-syntax")],
        "tests/fixtures/policies/bad-syntax/broken.rego:1",
    );
}

#[test]
fn bad_metadata_names_file_and_line() {
    rejects(
        &["--policy", &format!("{FIXTURES}/bad-metadata")],
        "tests/fixtures/policies/bad-metadata/bad_severity.rego:6: custom.severity: expected one of critical, high, medium, low, info; found \"urgent\"",
    );
}

#[test]
fn bundled_ids_are_reserved() {
    rejects(
        &["--policy", &format!("{FIXTURES}/reserved-id")],
        "ids starting with CW are reserved",
    );
}

#[test]
fn deny_without_metadata_is_an_error() {
    rejects(
        &["--policy", &format!("{FIXTURES}/no-metadata")],
        "defines `deny` but has no `# METADATA`",
    );
}

#[test]
fn missing_policy_dir_is_an_error() {
    rejects(
        &["--policy", "no/such/dir"],
        "no/such/dir: cannot read the policy",
    );
}

#[test]
fn policy_test_runs_the_bundled_suite() {
    credwarden()
        .args(["policy", "test"])
        .assert()
        .code(0)
        .stdout(predicate::str::is_match(r"(?m)^\d{3,} passed, 0 failed$").unwrap());
}

#[test]
fn policy_test_runs_the_repositorys_policies() {
    credwarden()
        .args(["policy", "test", "policies"])
        .assert()
        .code(0)
        .stdout(predicate::str::is_match(r"(?m)^\d{3,} passed, 0 failed$").unwrap());
}

#[test]
fn policy_test_runs_custom_suites() {
    credwarden()
        .args(["policy", "test", &format!("{FIXTURES}/org"), "-v"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "PASS tests/fixtures/policies/org/contractor_key_age_test.rego:19",
        ))
        .stdout(predicate::str::ends_with("3 passed, 0 failed\n"));
}

#[test]
fn policy_test_reports_failures_with_file_and_line() {
    credwarden()
        .args(["policy", "test", &format!("{FIXTURES}/failing-tests")])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "FAIL tests/fixtures/policies/failing-tests/always_test.rego:9: data.org.rules.always_test.test_fails",
        ))
        .stdout(predicate::str::ends_with("1 passed, 1 failed\n"));
}

#[test]
fn policy_test_filters_with_run() {
    credwarden()
        .args([
            "policy",
            "test",
            &format!("{FIXTURES}/failing-tests"),
            "--run",
            "test_passes",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::ends_with("1 passed, 0 failed\n"));
}

#[test]
fn policy_test_with_a_syntax_error_is_exit_2() {
    credwarden()
        .args(["policy", "test", &format!("{FIXTURES}/bad-syntax")])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("broken.rego:1"));
}

/// The bundled rules keep the conventions: one rule per file, a sibling test, no clock.
#[test]
fn bundled_rules_follow_the_conventions() {
    let set = credwarden::evaluate::PolicySet::load(&[]).unwrap();
    assert_eq!(set.rules.len(), 17);
    let ids: Vec<&str> = set.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "CW101", "CW102", "CW103", "CW104", "CW105", "CW201", "CW202", "CW203", "CW301",
            "CW302", "CW303", "CW304", "CW305", "CW401", "CW402", "CW901", "CW902"
        ]
    );
    for rule in &set.rules {
        let test = rule.file.replace(".rego", "_test.rego");
        assert!(
            repo(&test).exists(),
            "{} has no sibling test {test}",
            rule.file
        );
        assert!(
            rule.remediation.as_deref().is_some_and(|r| r.len() > 20),
            "{} lacks remediation text",
            rule.id
        );
        assert!(
            !rule.description.is_empty(),
            "{} lacks a description",
            rule.id
        );
        assert!(rule.line == 1, "{}: METADATA opens the file", rule.file);
    }
    for file in &set.files {
        assert!(
            !file.source.contains("time.now_ns"),
            "{} reads the clock; time comes from data.credwarden.now_ns",
            file.path
        );
    }
    // CIS mappings of PRODUCT.md.
    let cis = |id: &str, version: &str| -> Vec<String> {
        set.rules
            .iter()
            .find(|r| r.id == id)
            .unwrap()
            .controls
            .get(&format!("cis-aws-{version}"))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(cis("CW201", "1.2"), ["1.12"]);
    assert_eq!(cis("CW201", "1.4"), ["1.4"]);
    assert_eq!(cis("CW201", "5.0"), ["1.3"]);
    assert!(cis("CW101", "1.2").contains(&"1.3".to_string()));
    assert!(cis("CW101", "3.0").contains(&"1.12".to_string()));
    assert!(cis("CW101", "5.0").contains(&"1.11".to_string()));
    assert_eq!(cis("CW102", "1.2"), ["1.4"]);
    assert_eq!(cis("CW102", "2.0"), ["1.14"]);
    assert_eq!(cis("CW102", "5.0"), ["1.13"]);
    assert_eq!(cis("CW103", "1.5"), ["1.13"]);
    assert_eq!(cis("CW103", "5.0"), ["1.12"]);
    assert_eq!(cis("CW303", "1.2"), ["1.2"]);
    assert_eq!(cis("CW303", "1.4"), ["1.10"]);
    assert_eq!(cis("CW303", "5.0"), ["1.9"]);
    assert_eq!(cis("CW105", "1.2"), ["1.21"]);
    assert_eq!(cis("CW105", "3.0"), ["1.11"]);
    assert_eq!(cis("CW105", "5.0"), ["1.10"]);
}

#[test]
fn policy_list_shows_bundled_and_custom_rules() {
    let out = credwarden()
        .args(["policy", "list", "--policy", &format!("{FIXTURES}/org")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("CW101   unused-access-key"), "{text}");
    assert!(text.contains("ORG001  contractor-key-too-old"), "{text}");
    assert!(
        text.contains("tests/fixtures/policies/org/contractor_key_age.rego"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_slice(
        &credwarden()
            .args(["policy", "list", "--format", "json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let rules = json.as_array().unwrap();
    assert_eq!(rules.len(), 17);
    assert_eq!(rules[0]["id"], "CW101");
    assert_eq!(rules[0]["controls"]["cis-aws-5.0"][0], "1.11");
}

#[test]
fn policy_check_accepts_good_and_names_bad_policies() {
    credwarden()
        .args(["policy", "check", &format!("{FIXTURES}/org")])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("ok ORG001 contractor-key-too-old"));
    for (dir, message) in [
        (
            "bad-shape",
            "missing_arn.rego: rule ORG002: a finding does not have the required shape",
        ),
        ("bad-metadata", "bad_severity.rego:6: custom.severity"),
        ("bad-syntax", "broken.rego:1"),
        ("reserved-id", "ids starting with CW are reserved"),
    ] {
        credwarden()
            .args(["policy", "check", &format!("{FIXTURES}/{dir}")])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
}

#[test]
fn rule_docs_do_not_drift_from_the_policies() {
    let dir = tempfile::tempdir().unwrap();
    credwarden()
        .args(["policy", "doc", "--out", dir.path().to_str().unwrap()])
        .assert()
        .code(0);
    let generated: std::collections::BTreeMap<String, String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    let checked_in: std::collections::BTreeMap<String, String> =
        std::fs::read_dir(repo("docs/rules"))
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().to_string(),
                    std::fs::read_to_string(e.path()).unwrap(),
                )
            })
            .collect();
    assert_eq!(generated.len(), 18, "a page per rule and an index");
    assert!(
        generated == checked_in,
        "docs/rules/ is out of date with the policies: run `cargo run -- policy doc` and commit the result"
    );
}

#[test]
fn policy_test_coverage_names_uncovered_lines() {
    credwarden()
        .args([
            "policy",
            "test",
            &format!("{FIXTURES}/partial-coverage"),
            "--coverage",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::is_match(
            r"(?m)^tests/fixtures/policies/partial-coverage/contractor_credentials\.rego +13/18 +72\.2% +23, 28-31$",
        ).unwrap())
        .stdout(predicate::str::is_match(r"(?m)^total +13/18 +72\.2%$").unwrap())
        // Only the user's own files: the bundled library loaded beside them is not listed.
        .stdout(predicate::str::contains("policies/lib").not());
}

#[test]
fn policy_test_coverage_of_the_bundled_suite_lists_every_policy() {
    let out = credwarden()
        .args(["policy", "test", "--coverage"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let listed = text.lines().filter(|l| l.starts_with("policies/")).count();
    let files = std::fs::read_dir(repo("policies"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).into_iter().flatten())
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name().into_string().unwrap();
            name.ends_with(".rego") && !name.ends_with("_test.rego")
        })
        .count();
    assert_eq!(listed, files, "{text}");
    assert!(!text.contains("no test evaluated"), "{text}");
}

#[test]
fn policy_test_run_is_a_regular_expression() {
    credwarden()
        .args([
            "policy",
            "test",
            &format!("{FIXTURES}/failing-tests"),
            "--run",
            r"always_test\.test_p[a-z]+$",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::ends_with("1 passed, 0 failed\n"));
    credwarden()
        .args(["policy", "test", "--run", "("])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a valid regular expression"));
}
