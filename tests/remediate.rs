//! Remediation end to end against the AWS emulator: plan → apply → undo, live re-checks,
//! kill-and-resume, refused plans, throttling across accounts.
#![cfg(feature = "aws")]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::emulator::{send_signal, Emulator};
use common::*;
use serde_json::{json, Value};

const ACCOUNT: &str = "123456789012";

/// A seeded single account, collected, and a plan made from it (with the truth's config).
struct Setup {
    emu: Emulator,
    truth: Value,
    dir: tempfile::TempDir,
    plan: PathBuf,
}

impl Setup {
    fn new(scenario: &str, collect_args: &[&str]) -> Setup {
        Setup::new_with(scenario, collect_args, |_, _| {})
    }

    /// Like `new`, with `prepare` run on the seeded emulator before collection.
    fn new_with(
        scenario: &str,
        collect_args: &[&str],
        prepare: impl FnOnce(&Emulator, &Value),
    ) -> Setup {
        let emu = Emulator::start();
        let truth = emu.seed(scenario);
        prepare(&emu, &truth);
        let dir = tempfile::tempdir().unwrap();
        let snapshot = dir.path().join("snapshot.json");
        let run = emu.collect(&snapshot, collect_args);
        assert_eq!(
            run.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let config = dir.path().join("config.yaml");
        std::fs::write(&config, truth["config_yaml"].as_str().unwrap()).unwrap();
        let plan = dir.path().join("plan.json");
        credwarden()
            .args([
                "remediate",
                "plan",
                "--snapshot",
                snapshot.to_str().unwrap(),
                "--config",
                config.to_str().unwrap(),
            ])
            .args([
                "--now",
                truth["now"].as_str().unwrap(),
                "-o",
                plan.to_str().unwrap(),
            ])
            .assert()
            .code(0);
        emu.control("DELETE", "calls", None);
        Setup {
            emu,
            truth,
            dir,
            plan,
        }
    }

    fn plan_json(&self) -> Value {
        serde_json::from_slice(&std::fs::read(&self.plan).unwrap()).unwrap()
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("config.yaml")
    }

    fn journal(&self) -> PathBuf {
        self.dir.path().join("plan.journal.jsonl")
    }

    fn apply(&self, extra: &[&str]) -> std::process::Output {
        self.emu
            .credwarden()
            .args([
                "remediate",
                "apply",
                self.plan.to_str().unwrap(),
                "--yes",
                "--config",
                self.config().to_str().unwrap(),
            ])
            .args(extra)
            .output()
            .unwrap()
    }

    /// Key id of `user` in the truth.
    fn key_of(&self, user: &str) -> String {
        self.truth["accounts"][0]["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["user_name"] == user)
            .unwrap()["access_keys"][0]["access_key_id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn calls_of(&self, action: &str) -> u64 {
        self.emu.calls()["calls"][action]["count"]
            .as_u64()
            .unwrap_or(0)
    }
}

fn journal_events(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn done_count(events: &[Value], action_id: &str) -> usize {
    events
        .iter()
        .filter(|e| e["action_id"] == action_id && e["event"] == "done")
        .count()
}

#[test]
fn plan_apply_undo_round_trip() {
    let s = Setup::new("single-account", &[]);
    let plan = s.plan_json();
    let actions = plan["actions"].as_array().unwrap();
    let targets: Vec<(String, String)> = actions
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap().to_string(),
                a["user_name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        targets,
        [
            (
                "deactivate_access_key".to_string(),
                "console-setup-key".to_string()
            ),
            ("delete_access_key".into(), "key-inactive-old".into()),
            ("deactivate_access_key".into(), "key-never-used-old".into()),
            ("deactivate_access_key".into(), "key-used-long-ago".into()),
        ],
        "{plan:#}"
    );
    assert!(actions
        .iter()
        .all(|a| a["preconditions"]["snapshot_time"].is_string()));
    // Break-glass users are never in a plan, whatever their findings.
    assert!(!actions
        .iter()
        .any(|a| a["user_name"].as_str().unwrap().contains("breakglass")));

    // `show` summarises it.
    let shown = credwarden()
        .args(["remediate", "show", s.plan.to_str().unwrap()])
        .output()
        .unwrap();
    let shown = String::from_utf8(shown.stdout).unwrap();
    assert!(
        shown.contains("4 action(s): 3 deactivate key, 1 delete key"),
        "{shown}"
    );

    let run = s.apply(&[]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("4 done, 0 skipped, 0 failed"), "{stdout}");
    let keys = s.emu.key_statuses(ACCOUNT);
    for user in [
        "console-setup-key",
        "key-never-used-old",
        "key-used-long-ago",
    ] {
        assert_eq!(keys[&s.key_of(user)], "Inactive", "{user}");
    }
    assert!(
        !keys.contains_key(&s.key_of("key-inactive-old")),
        "the inactive key was deleted"
    );
    assert_eq!(s.calls_of("iam:UpdateAccessKey"), 3);
    assert_eq!(s.calls_of("iam:DeleteAccessKey"), 1);
    // Every call apply made is allowed by the documented remediation policy.
    let policy: Value =
        serde_json::from_slice(&std::fs::read(repo("docs/iam-policy-remediate.json")).unwrap())
            .unwrap();
    let allowed: Vec<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|st| {
            st["Action"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_ascii_lowercase())
        })
        .collect();
    for action in s.emu.calls()["actions"].as_array().unwrap() {
        let action = action.as_str().unwrap().to_ascii_lowercase();
        assert!(
            allowed.contains(&action),
            "{action} is not in docs/iam-policy-remediate.json"
        );
    }

    // Every action journaled before and after.
    let events = journal_events(&s.journal());
    assert_eq!(events[0]["event"], "opened");
    for a in actions {
        let id = a["id"].as_str().unwrap();
        assert_eq!(
            events
                .iter()
                .filter(|e| e["action_id"] == id && e["event"] == "started")
                .count(),
            1
        );
        assert_eq!(done_count(&events, id), 1);
    }

    // Applying again does nothing.
    let again = s.apply(&[]);
    assert_eq!(again.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&again.stdout).contains("(4 already done in an earlier run)"));
    assert_eq!(s.calls_of("iam:UpdateAccessKey"), 3);

    // Undo reactivates what was deactivated, and says what cannot be undone.
    let undo = s
        .emu
        .credwarden()
        .args(["remediate", "undo", s.journal().to_str().unwrap(), "--yes"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&undo.stdout);
    assert_eq!(
        undo.status.code(),
        Some(1),
        "a deletion cannot be undone: {stdout}"
    );
    assert!(
        stdout.contains("3 undone, 1 cannot be undone, 0 failed"),
        "{stdout}"
    );
    let keys = s.emu.key_statuses(ACCOUNT);
    for user in [
        "console-setup-key",
        "key-never-used-old",
        "key-used-long-ago",
    ] {
        assert_eq!(keys[&s.key_of(user)], "Active", "{user}");
    }
}

#[test]
fn apply_rechecks_live_state_and_skips_what_changed() {
    let s = Setup::new("single-account", &[]);
    // Between plan and apply: a key gets used, a user becomes break-glass, a key is deleted.
    let used = s.key_of("key-used-long-ago");
    s.emu.control("POST", "iam/backdate", Some(json!({"access_key_id": used, "last_used_at": "2026-11-20T12:00:00Z", "last_used_service": "s3", "last_used_region": "eu-west-1"})));
    s.emu.boto3("iam.tag_user(UserName='console-setup-key', Tags=[{'Key': 'credwarden:break-glass', 'Value': 'true'}])");
    let gone = s.key_of("key-never-used-old");
    s.emu.boto3(&format!(
        "iam.delete_access_key(UserName='key-never-used-old', AccessKeyId='{gone}')"
    ));
    s.emu.control("DELETE", "calls", None);

    let run = s.apply(&[]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(1),
        "skipped actions make a partial apply: {stdout}"
    );
    assert!(stdout.contains("1 done, 3 skipped, 0 failed"), "{stdout}");
    assert!(
        stdout.contains(&format!("access key {used} was used since the plan")),
        "{stdout}"
    );
    assert!(
        stdout.contains("console-setup-key is tagged break-glass"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "access key {gone} of key-never-used-old no longer exists"
        )),
        "{stdout}"
    );
    assert_eq!(
        s.calls_of("iam:UpdateAccessKey"),
        0,
        "nothing was deactivated"
    );
    let keys = s.emu.key_statuses(ACCOUNT);
    assert_eq!(keys[&used], "Active");
    assert_eq!(keys[&s.key_of("console-setup-key")], "Active");
}

#[test]
fn killed_apply_resumes_and_acts_exactly_once() {
    let s = Setup::new("single-account", &[]);
    // Slow every AWS request so the kill lands mid-apply.
    s.emu
        .control("POST", "faults", Some(json!({"delay_ms": 150})));
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("credwarden"))
        .args([
            "remediate",
            "apply",
            s.plan.to_str().unwrap(),
            "--yes",
            "--concurrency",
            "1",
        ])
        .args(["--config", s.config().to_str().unwrap()])
        .envs(aws_env(&s.emu))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        let done = journal_events(&s.journal())
            .iter()
            .filter(|e| e["event"] == "done")
            .count();
        if done >= 1 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "apply never finished an action"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = journal_events(&s.journal());
    let done_before = before.iter().filter(|e| e["event"] == "done").count();
    assert!(
        done_before < 4,
        "the kill landed mid-apply ({done_before} done)"
    );

    s.emu.control("DELETE", "faults", None);
    let run = s.apply(&[]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{stdout}");
    let events = journal_events(&s.journal());
    for a in s.plan_json()["actions"].as_array().unwrap() {
        assert_eq!(
            done_count(&events, a["id"].as_str().unwrap()),
            1,
            "{} done once: {events:#?}",
            a["id"]
        );
    }
    // In the emulator: each key changed once (a deactivation interrupted after AWS acted is
    // found already inactive on resume, and recorded as done without a second change).
    assert!(s.calls_of("iam:UpdateAccessKey") <= 3);
    assert!(s.calls_of("iam:DeleteAccessKey") <= 1);
    let keys = s.emu.key_statuses(ACCOUNT);
    for user in [
        "console-setup-key",
        "key-never-used-old",
        "key-used-long-ago",
    ] {
        assert_eq!(keys[&s.key_of(user)], "Inactive", "{user}");
    }
    eprintln!("kill-and-resume: {done_before} action(s) done before the kill; resumed: {stdout}");
}

fn aws_env(emu: &Emulator) -> Vec<(String, String)> {
    emu.env()
}

#[test]
fn refused_plans_change_nothing() {
    let s = Setup::new("single-account", &[]);
    let refuse = |plan: &Path, extra: &[&str], message: &str| {
        let run = s
            .emu
            .credwarden()
            .args(["remediate", "apply", plan.to_str().unwrap(), "--yes"])
            .args(extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(message), "expected {message:?} in {stderr}");
    };
    let original = s.plan_json();

    // Edited without re-digesting.
    let mut edited = original.clone();
    edited["actions"][0]["user_name"] = json!("someone-else");
    let edited_path = s.dir.path().join("edited.json");
    std::fs::write(&edited_path, serde_json::to_string_pretty(&edited).unwrap()).unwrap();
    refuse(&edited_path, &[], "the plan was changed after it was made");

    // Stale: re-digested, but made two days ago.
    let mut stale: credwarden::remediate::Plan = serde_json::from_value(original.clone()).unwrap();
    stale.created_at -= chrono::Duration::days(2);
    stale.digest = stale.compute_digest();
    let stale_path = s.dir.path().join("stale.json");
    std::fs::write(&stale_path, stale.to_json()).unwrap();
    refuse(&stale_path, &[], "older than the allowed 24 hours");

    // Malformed.
    let bad_path = s.dir.path().join("bad.json");
    std::fs::write(
        &bad_path,
        "{\n  \"kind\": \"credwarden.remediation-plan/v1\",\n  \"actions\": [\n",
    )
    .unwrap();
    refuse(&bad_path, &[], "bad.json:4:");

    // A journal of another plan.
    let other_journal = s.dir.path().join("other.jsonl");
    std::fs::write(
        &other_journal,
        "{\"event\":\"opened\",\"at\":\"2026-11-21T00:00:00Z\",\"plan_digest\":\"sha256:0000\"}\n",
    )
    .unwrap();
    refuse(
        &s.plan,
        &["--journal", other_journal.to_str().unwrap()],
        "this journal belongs to another plan",
    );

    // Without --yes and without a terminal: refused.
    let run = s
        .emu
        .credwarden()
        .args(["remediate", "apply", s.plan.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("pass --yes"));

    assert_eq!(s.calls_of("iam:UpdateAccessKey"), 0);
    assert_eq!(s.calls_of("iam:DeleteAccessKey"), 0);
}

#[test]
fn organization_apply_under_throttling_acts_once_per_action() {
    let s = Setup::new("organization", &["--org"]);
    let plan = s.plan_json();
    let actions = plan["actions"].as_array().unwrap();
    let accounts: std::collections::BTreeSet<&str> = actions
        .iter()
        .map(|a| a["account_id"].as_str().unwrap())
        .collect();
    assert!(
        accounts.len() >= 3,
        "actions in several accounts: {accounts:?}"
    );
    s.emu.control(
        "POST",
        "faults",
        Some(json!({"throttle_ratio": 0.2, "seed": 3, "max_consecutive": 3})),
    );
    let run = s.apply(&["--concurrency", "4"]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let calls = s.emu.calls();
    assert!(calls["faulted"].as_u64().unwrap() > 0);
    let events = journal_events(&s.journal());
    for a in actions {
        assert_eq!(done_count(&events, a["id"].as_str().unwrap()), 1);
    }
    let changes = calls["calls"]["iam:UpdateAccessKey"]["count"]
        .as_u64()
        .unwrap_or(0)
        - calls["calls"]["iam:UpdateAccessKey"]["throttled"]
            .as_u64()
            .unwrap_or(0);
    let deactivations = actions
        .iter()
        .filter(|a| a["action"] == "deactivate_access_key")
        .count() as u64;
    assert_eq!(changes, deactivations, "each deactivation reached AWS once");
}

#[test]
fn scp_guardrail_is_planned_printed_and_attached_only_when_asked() {
    let emu = Emulator::start();
    let truth = emu.seed("organization");
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot.json");
    assert_eq!(emu.collect(&snapshot, &["--org"]).status.code(), Some(0));
    let config = dir.path().join("config.yaml");
    std::fs::write(&config, truth["config_yaml"].as_str().unwrap()).unwrap();
    let plan = dir.path().join("plan.json");
    let made = credwarden()
        .args([
            "remediate",
            "plan",
            "--snapshot",
            snapshot.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ])
        .args([
            "--now",
            truth["now"].as_str().unwrap(),
            "-o",
            plan.to_str().unwrap(),
        ])
        .args([
            "--scp-guardrail",
            "--scp-deny-create-user",
            "--scp-exempt",
            "arn:aws:iam::*:role/BreakGlass",
        ])
        .output()
        .unwrap();
    assert_eq!(made.status.code(), Some(0));
    let shown = String::from_utf8_lossy(&made.stdout);
    assert!(
        shown.contains("it also blocks key rotation") || shown.contains("also blocks key rotation"),
        "{shown}"
    );
    assert!(
        shown.contains("\"iam:CreateAccessKey\""),
        "the document is printed: {shown}"
    );
    let parsed: Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    let scp = &parsed["scp_guardrail"];
    let statement = &scp["document"]["Statement"][0];
    assert_eq!(statement["Effect"], "Deny");
    assert_eq!(
        statement["Action"],
        json!(["iam:CreateAccessKey", "iam:CreateUser"])
    );
    let exempt = statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
        .as_array()
        .unwrap();
    assert!(exempt.contains(&json!("arn:aws:iam::*:role/BreakGlass")));
    assert!(
        exempt.contains(&json!("arn:aws:iam::*:user/breakglass-admin")),
        "config break-glass users are exempt"
    );

    // Without the explicit flag and target: not applied.
    emu.control("DELETE", "calls", None);
    let run = emu
        .credwarden()
        .args([
            "remediate",
            "apply",
            plan.to_str().unwrap(),
            "--yes",
            "--config",
            config.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&run.stderr).contains("SCP guardrail is not applied"));
    assert_eq!(
        emu.calls()["calls"]["organizations:CreatePolicy"]["count"]
            .as_u64()
            .unwrap_or(0),
        0
    );

    // With them: created and attached to the root; member accounts are covered from then on.
    let root = truth["organization"]["roots"][0]["id"].as_str().unwrap();
    let run = emu
        .credwarden()
        .args([
            "remediate",
            "apply",
            plan.to_str().unwrap(),
            "--yes",
            "--config",
            config.to_str().unwrap(),
        ])
        .args(["--apply-scp", "--attach-scp-to", root])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains(&format!("attached to {root}")),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let after = dir.path().join("after.json");
    assert_eq!(emu.collect(&after, &["--org"]).status.code(), Some(0));
    let report = json_of(credwarden().args([
        "scan",
        "--snapshot",
        after.to_str().unwrap(),
        "--now",
        truth["now"].as_str().unwrap(),
        "--format",
        "json",
        "--config",
        config.to_str().unwrap(),
    ]));
    let management = truth["organization"]["management_account_id"]
        .as_str()
        .unwrap();
    let uncovered: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            (f["rule_id"] == "CW401" || f["rule_id"] == "CW402") && f["account_id"] != management
        })
        .collect();
    assert!(
        uncovered.is_empty(),
        "every member account is covered now: {uncovered:#?}"
    );

    // Undo detaches it.
    let journal = dir.path().join("plan.journal.jsonl");
    let undo = emu
        .credwarden()
        .args(["remediate", "undo", journal.to_str().unwrap(), "--yes"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&undo.stdout).contains(&format!("from {root}")),
        "{}",
        String::from_utf8_lossy(&undo.stdout)
    );
}

/// SIGINT and SIGTERM at different points of an apply: the actions in flight finish and are
/// journalled, no new one starts, the exit code is the signal's, and a re-run resumes so that
/// every action is done exactly once.
#[test]
fn signalled_apply_stops_cleanly_and_resumes() {
    for (signal, code, after_done) in [("INT", 130, 0), ("TERM", 143, 1), ("INT", 130, 2)] {
        let s = Setup::new("single-account", &[]);
        s.emu
            .control("POST", "faults", Some(json!({"delay_ms": 150})));
        let child = s.emu.spawn(&[
            "remediate",
            "apply",
            s.plan.to_str().unwrap(),
            "--yes",
            "--concurrency",
            "1",
            "--config",
            s.config().to_str().unwrap(),
        ]);
        // Wait until `after_done` actions are done and the next has started.
        let started = Instant::now();
        loop {
            let events = journal_events(&s.journal());
            let done = events.iter().filter(|e| e["event"] == "done").count();
            let begun = events.iter().filter(|e| e["event"] == "started").count();
            if done >= after_done && begun > after_done {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "apply never got there"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        // …plus a random moment within the action in flight (printed, to replay a failure).
        let jitter = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
            % 250;
        std::thread::sleep(Duration::from_millis(jitter.into()));
        send_signal(&child, signal);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(code),
            "SIG{signal} (+{jitter} ms): {stderr}"
        );
        assert!(
            stderr.contains(&format!("interrupted by SIG{signal}"))
                && stderr.contains("run the same apply again to resume"),
            "{stderr}"
        );
        // Consistent: every action that started has its outcome recorded.
        let events = journal_events(&s.journal());
        for e in events.iter().filter(|e| e["event"] == "started") {
            let id = e["action_id"].as_str().unwrap();
            assert!(
                events.iter().any(|o| o["action_id"] == id
                    && ["done", "skipped", "failed"].contains(&o["event"].as_str().unwrap())),
                "{id} started without an outcome: {events:#?}"
            );
        }
        let done_before = events.iter().filter(|e| e["event"] == "done").count();
        assert!(done_before < 4, "the signal landed mid-apply");

        s.emu.control("DELETE", "faults", None);
        let run = s.apply(&[]);
        assert_eq!(
            run.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&run.stdout)
        );
        let events = journal_events(&s.journal());
        for a in s.plan_json()["actions"].as_array().unwrap() {
            assert_eq!(
                done_count(&events, a["id"].as_str().unwrap()),
                1,
                "{}",
                a["id"]
            );
        }
        eprintln!(
            "SIG{signal} after {after_done} done +{jitter} ms: {done_before} done before, the rest on resume"
        );
    }
}
