//! Property tests: whatever snapshot the generators make, evaluation succeeds, gives the same
//! findings every time, gives the same findings after the snapshot is written out and read
//! back, and the fast path gives byte for byte the findings of the plain Rego path (under the
//! default config and under one with other thresholds and break-glass users named). Two generators: the seeded synthetic organisation (realistic mixes, Organizations and
//! SCPs) and a structural one with edge values (future and ancient timestamps, keys older than
//! their users, odd names and paths, failed accounts, missing report and root data).

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;

use credwarden::config::Config;
use credwarden::evaluate::{Context, Evaluator, Finding, PolicySet, Strategy as Path};
use credwarden::snapshot::load::parse_snapshot;
use credwarden::snapshot::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap()
}

fn findings(snapshot: &Snapshot) -> Vec<Finding> {
    findings_with(snapshot, Path::Fast, Config::default())
}

fn findings_with(snapshot: &Snapshot, path: Path, config: Config) -> Vec<Finding> {
    findings_of(snapshot, path, config, &[])
}

fn findings_of(
    snapshot: &Snapshot,
    path: Path,
    config: Config,
    dirs: &[std::path::PathBuf],
) -> Vec<Finding> {
    findings_in_shards(snapshot, path, config, dirs, None)
}

/// `shard_users`: account-wise custom rules run over shards of at least this many users
/// (`Some(1)`: an account at a time) instead of the default.
fn findings_in_shards(
    snapshot: &Snapshot,
    path: Path,
    config: Config,
    dirs: &[std::path::PathBuf],
    shard_users: Option<usize>,
) -> Vec<Finding> {
    let mut evaluator = Evaluator::new(PolicySet::load(dirs).unwrap()).unwrap();
    evaluator.set_strategy(path);
    if let Some(users) = shard_users {
        evaluator.set_shard_users(users);
    }
    let ctx = Context { now: now(), config };
    evaluator
        .evaluate(snapshot, &ctx)
        .unwrap_or_else(|e| panic!("evaluation failed: {e}"))
        .findings
}

/// A config that moves every threshold the native rules read and names break-glass users by
/// name and by ARN, in another case than the snapshot's.
fn other_config() -> Config {
    Config::parse(
        "thresholds:\n  unused_days: 30\n  rotation_days: 365\n  inactive_user_days: 10\n  inactive_key_grace_days: 0\n  break_glass_use_days: 400\nbreak_glass:\n  users: [USER-1, 'arn:aws:iam::111111111111:user/Odd Name', SVC-3]\n  tag_key: team\n  tag_value: TEAM-7\n",
        "other.yaml",
    )
    .unwrap()
}

/// The fast path and the plain Rego path agree, byte for byte, under both configs.
fn check_paths(snapshot: &Snapshot) -> Result<(), TestCaseError> {
    check_paths_with(snapshot, &[])
}

/// The 20 organisational rules of the benchmark: they call every function of the library, which
/// the fast path runs natively and the plain path in Rego.
fn custom_policies() -> Vec<std::path::PathBuf> {
    vec![std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/custom-policies")]
}

/// With custom policies the fast path is also run an account at a time (a shard per account),
/// which must change nothing.
fn check_paths_with(snapshot: &Snapshot, dirs: &[std::path::PathBuf]) -> Result<(), TestCaseError> {
    for config in [Config::default(), other_config()] {
        let plain = findings_of(snapshot, Path::Rego, config.clone(), dirs);
        let mut fast = vec![findings_of(snapshot, Path::Fast, config.clone(), dirs)];
        if !dirs.is_empty() {
            fast.push(findings_in_shards(
                snapshot,
                Path::Fast,
                config,
                dirs,
                Some(1),
            ));
        }
        for fast in fast {
            prop_assert_eq!(plain.len(), fast.len(), "as many findings on both paths");
            for (p, f) in plain.iter().zip(&fast) {
                prop_assert_eq!(
                    serde_json::to_string(p).unwrap(),
                    serde_json::to_string(f).unwrap(),
                    "the same finding on both paths"
                );
            }
        }
    }
    Ok(())
}

/// Findings come in report order (they are made a section at a time, each section sorted on its
/// own): every finding's sort key is at most the next one's, and none repeats the one before.
fn check_order(findings: &[Finding]) -> Result<(), TestCaseError> {
    for pair in findings.windows(2) {
        prop_assert!(
            pair[0].sort_key() <= pair[1].sort_key(),
            "report order: {} {} {} before {} {} {}",
            pair[0].rule_id,
            pair[0].account_id,
            pair[0].resource.id,
            pair[1].rule_id,
            pair[1].account_id,
            pair[1].resource.id
        );
        prop_assert!(
            !(pair[0].rule_id == pair[1].rule_id
                && pair[0].fingerprint == pair[1].fingerprint
                && pair[0].message == pair[1].message),
            "no duplicates"
        );
    }
    Ok(())
}

fn check(snapshot: &Snapshot) -> Result<(), TestCaseError> {
    check_paths(snapshot)?;
    let first = findings(snapshot);
    check_order(&first)?;
    prop_assert_eq!(
        &first,
        &findings(snapshot),
        "the same findings on a second run"
    );
    let text = serde_json::to_string_pretty(snapshot).unwrap();
    let back = parse_snapshot(&text, "roundtrip.json")
        .map_err(|e| TestCaseError::fail(format!("a written snapshot reads back: {e}")))?;
    prop_assert_eq!(
        &first,
        &findings(&back),
        "the same findings after a round trip"
    );
    Ok(())
}

/// A time between 1970 and 2100: before, around and after the evaluation time.
fn time() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        (0i64..4_102_444_800).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap()),
        (-800i64..30).prop_map(|d| now() + chrono::Duration::days(d)),
    ]
}

fn key(i: usize) -> impl Strategy<Value = AccessKey> {
    (
        any::<bool>(),
        time(),
        proptest::option::of(time()),
        proptest::option::of(0u8..3),
        any::<bool>(),
    )
        .prop_map(
            move |(active, created_at, last_used_at, slot, has_id)| AccessKey {
                access_key_id: has_id.then(|| format!("AKIA{:016}", i)),
                slot,
                status: if active {
                    KeyStatus::Active
                } else {
                    KeyStatus::Inactive
                },
                created_at,
                last_used_service: last_used_at.map(|_| "s3".to_string()),
                last_used_region: last_used_at.map(|_| "us-east-1".to_string()),
                last_used_at,
            },
        )
}

fn user(account: &'static str, i: usize) -> impl Strategy<Value = User> {
    (
        "[a-zA-Z0-9+=,.@_-]{1,24}",
        prop::sample::select(vec![
            "/",
            "/service/",
            "/contractors/",
            "/contractors/x/",
            "/a/b/c/",
        ]),
        time(),
        (any::<bool>(), proptest::option::of(time())),
        any::<bool>(),
        prop::collection::vec(key(i), 0..3),
        prop::sample::select(vec![
            None,
            Some("true"),
            Some("TRUE"),
            Some("false"),
            Some(""),
        ]),
    )
        .prop_map(
            move |(name, path, created_at, (pw, pw_used), mfa, keys, glass)| {
                let name = format!("{name}-{i}");
                let mut tags = credwarden::snapshot::Tags::new();
                if let Some(v) = glass {
                    tags.insert("credwarden:break-glass".to_string(), v.to_string());
                }
                User {
                    arn: format!("arn:aws:iam::{account}:user{path}{name}"),
                    user_name: name,
                    user_id: None,
                    path: path.to_string(),
                    created_at,
                    tags,
                    password: Password {
                        enabled: pw,
                        last_used: pw_used,
                        last_changed: None,
                    },
                    mfa_active: mfa,
                    access_keys: keys,
                }
            },
        )
}

fn account(id: &'static str) -> impl Strategy<Value = Account> {
    (
        prop::collection::vec(0usize..1, 0..6),
        proptest::option::of(proptest::option::of(time())),
        proptest::option::of((
            any::<bool>(),
            any::<bool>(),
            proptest::option::of(time()),
            any::<bool>(),
        )),
        any::<u8>(),
    )
        .prop_flat_map(move |(users, report, root, failed)| {
            let n = users.len();
            let users: Vec<_> = (0..n).map(|i| user(id, i)).collect();
            (users, Just(report), Just(root), Just(failed))
        })
        .prop_map(move |(users, report, root, failed)| {
            let failed = failed % 8 == 0;
            Account {
                account_id: id.to_string(),
                alias: None,
                credential_report: report.map(|generated_at| CredentialReportInfo { generated_at }),
                root: root.map(|(mfa, key, used, pw)| RootUser {
                    arn: format!("arn:aws:iam::{id}:root"),
                    password_enabled: Some(pw),
                    password_last_used: used,
                    mfa_active: mfa,
                    access_keys: vec![RootKeySlot {
                        slot: 1,
                        active: key,
                        last_rotated: used,
                        last_used_at: used,
                        last_used_service: None,
                        last_used_region: None,
                    }],
                    account_access_keys_present: Some(key),
                    account_mfa_enabled: Some(mfa),
                }),
                users: if failed { Vec::new() } else { users },
                error: failed.then(|| CollectionError {
                    code: "AccessDenied".into(),
                    message: "assume-role refused".into(),
                }),
            }
        })
}

fn snapshot() -> impl Strategy<Value = Snapshot> {
    (account("111111111111"), account("222222222222"), time()).prop_map(|(a, b, collected_at)| {
        let mut s = credwarden::synthetic::generate(credwarden::synthetic::Spec {
            seed: 1,
            accounts: 1,
            users: 0,
        });
        s.collected_at = collected_at;
        s.organization = None;
        s.accounts = vec![a, b];
        s
    })
}

/// The fast path against the plain one on realistic organisations of several seeds, each with
/// every native rule firing (under one config or the other).
#[test]
fn fast_and_plain_paths_agree_on_synthetic_organisations() {
    for seed in 1..=6 {
        let s = credwarden::synthetic::generate(credwarden::synthetic::Spec {
            seed,
            accounts: 4,
            users: 400,
        });
        let mut fast = findings(&s);
        check_order(&fast).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        fast.extend(findings_with(&s, Path::Fast, other_config()));
        for rule in [
            "CW101", "CW102", "CW103", "CW104", "CW105", "CW301", "CW302", "CW303", "CW304",
            "CW305",
        ] {
            assert!(
                fast.iter().any(|f| f.rule_id == rule),
                "seed {seed}: {rule} fires"
            );
        }
        check_paths(&s).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    }
}

/// Custom rules give the same findings with the library's functions run natively (the fast
/// path) and in Rego (the plain path), on realistic organisations of several seeds.
#[test]
fn custom_rules_agree_with_the_native_library_on_synthetic_organisations() {
    for seed in 1..=3 {
        let s = credwarden::synthetic::generate(credwarden::synthetic::Spec {
            seed,
            accounts: 3,
            users: 150,
        });
        let fast = findings_of(&s, Path::Fast, Config::default(), &custom_policies());
        let custom = |id: &str| fast.iter().filter(|f| f.rule_id == id).count();
        for rule in ["ORG001", "ORG003", "ORG005", "ORG006", "ORG009", "ORG018"] {
            assert!(custom(rule) > 0, "seed {seed}: {rule} fires");
        }
        check_paths_with(&s, &custom_policies()).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    }
}

/// Custom rules over the accounts alone (alias, member root, credential report) run over
/// shards whose users are only counted: the same findings as the plain path.
#[test]
fn account_level_custom_rules_agree_over_counted_users() {
    let dir = tempfile::tempdir().unwrap();
    for file in [
        "org_account_alias.rego",
        "org_member_root_credentials.rego",
        "org_credential_report_missing.rego",
    ] {
        std::fs::copy(custom_policies()[0].join(file), dir.path().join(file)).unwrap();
    }
    let dirs = [dir.path().to_path_buf()];
    for seed in 1..=2 {
        let mut s = credwarden::synthetic::generate(credwarden::synthetic::Spec {
            seed,
            accounts: 4,
            users: 120,
        });
        // Findings to make: an account without an alias or a credential report.
        s.accounts[1].alias = None;
        s.accounts[2].credential_report = None;
        let fast = findings_of(&s, Path::Fast, Config::default(), &dirs);
        assert!(
            fast.iter().any(|f| f.rule_id.starts_with("ORG")),
            "seed {seed}"
        );
        check_paths_with(&s, &dirs).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    }
}

/// Accounts out of order, and two accounts with one id (each user twice): the findings are in
/// report order, each once, and the same on both paths.
#[test]
fn accounts_out_of_order_or_repeated() {
    let mut s = credwarden::synthetic::generate(credwarden::synthetic::Spec {
        seed: 3,
        accounts: 3,
        users: 200,
    });
    s.accounts.reverse();
    let twin = s.accounts[0].clone();
    s.accounts.push(twin);
    let all = findings(&s);
    check_order(&all).unwrap();
    s.accounts.pop();
    assert_eq!(all, findings(&s), "the repeated account adds nothing");
    check_paths(&s).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn structural_snapshots_evaluate_deterministically(s in snapshot()) {
        check(&s)?;
    }

    /// Edge values (null and ancient timestamps, odd names, failed accounts, credential-report
    /// keys without ids) through the custom rules: native library and Rego library agree.
    #[test]
    fn custom_rules_agree_with_the_native_library_on_edge_values(s in snapshot()) {
        check_paths_with(&s, &custom_policies())?;
    }

    #[test]
    fn synthetic_organisations_evaluate_deterministically(seed in any::<u64>(), accounts in 1usize..4, users in 0usize..80) {
        let s = credwarden::synthetic::generate(credwarden::synthetic::Spec { seed, accounts, users });
        check(&s)?;
    }
}

/// A custom policy in `dir` of one rule, ORG950, whose `deny` body is `body`.
fn one_rule(dir: &std::path::Path, body: &str) {
    std::fs::write(
        dir.join("one.rego"),
        format!(
            "# METADATA\n# title: One\n# custom:\n#   id: ORG950\n#   slug: one\n#   severity: low\n\
             package org.rules.one\n\nimport rego.v1\n\nimport data.credwarden.lib\n\n{body}\n"
        ),
    )
    .unwrap();
}

/// What evaluating `snapshot` with the policies of `dir` gives, as text: the findings' JSON or
/// the error.
fn outcome(
    snapshot: &Snapshot,
    dir: &std::path::Path,
    path: Path,
    shard_users: Option<usize>,
) -> String {
    let mut evaluator = Evaluator::new(PolicySet::load(&[dir.to_path_buf()]).unwrap()).unwrap();
    evaluator.set_strategy(path);
    evaluator.set_rule_time_limit(std::time::Duration::from_millis(500));
    if let Some(users) = shard_users {
        evaluator.set_shard_users(users);
    }
    let ctx = Context {
        now: now(),
        config: Config::default(),
    };
    match evaluator.evaluate(snapshot, &ctx) {
        Ok(evaluation) => serde_json::to_string(&evaluation.findings).unwrap(),
        Err(e) => format!("error: {e}"),
    }
}

/// An account-wise rule that fails in one account only: run an account at a time, the shard
/// that fails sends the rule back to the whole input, and the error is the interpreter's.
#[test]
fn a_rule_failing_in_one_shard_fails_as_in_the_interpreter() {
    let s = credwarden::synthetic::generate(credwarden::synthetic::Spec {
        seed: 5,
        accounts: 4,
        users: 40,
    });
    let failing = &s.accounts[2].account_id;
    let dir = tempfile::tempdir().unwrap();
    one_rule(
        dir.path(),
        &format!(
            "deny contains finding if {{\n\tsome account in lib.collected_accounts\n\tsome user in account.users\n\
             \tn := count(user.user_name) / count([x | some x in [1]; account.account_id != \"{failing}\"])\n\
             \tfinding := {{\"account_id\": account.account_id, \"resource\": lib.user_resource(user), \"message\": sprintf(\"%v\", [n])}}\n}}"
        ),
    );
    let reference = outcome(&s, dir.path(), Path::Rego, None);
    assert!(
        reference.starts_with("error: ") && reference.contains("one.rego"),
        "{reference}"
    );
    for shards in [None, Some(1), Some(15)] {
        assert_eq!(
            outcome(&s, dir.path(), Path::Fast, shards),
            reference,
            "shards of {shards:?} users"
        );
    }
    // Without the failing account, the same rule makes the interpreter's findings.
    let mut fine = s.clone();
    fine.accounts.remove(2);
    let reference = outcome(&fine, dir.path(), Path::Rego, None);
    assert!(reference.contains("ORG950"), "{reference}");
    for shards in [None, Some(1)] {
        assert_eq!(outcome(&fine, dir.path(), Path::Fast, shards), reference);
    }
}

/// An account-wise rule that makes one finding in every shard (a finding that names the first
/// account, whichever account the rule is in) reports it once, as the interpreter does.
#[test]
fn a_finding_made_in_every_shard_is_reported_once() {
    let s = credwarden::synthetic::generate(credwarden::synthetic::Spec {
        seed: 6,
        accounts: 4,
        users: 12,
    });
    let first = &s.accounts[0].account_id;
    let dir = tempfile::tempdir().unwrap();
    one_rule(
        dir.path(),
        &format!(
            "deny contains finding if {{\n\tsome account in lib.collected_accounts\n\tsome user in account.users\n\
             \tcount(user.user_name) > 0\n\
             \tfinding := {{\"account_id\": \"{first}\", \"resource\": lib.account_resource(\"{first}\"), \"message\": \"the estate has users\"}}\n}}"
        ),
    );
    let reference = outcome(&s, dir.path(), Path::Rego, None);
    assert_eq!(reference.matches("ORG950").count(), 1, "{reference}");
    for shards in [None, Some(1), Some(5)] {
        assert_eq!(
            outcome(&s, dir.path(), Path::Fast, shards),
            reference,
            "shards of {shards:?} users"
        );
    }
}

/// A compiled account-wise rule that runs away is stopped at its time limit, with its name,
/// however many shards share the time.
#[test]
fn a_runaway_account_wise_rule_is_stopped_with_its_name() {
    let s = credwarden::synthetic::generate(credwarden::synthetic::Spec {
        seed: 5,
        accounts: 4,
        users: 40,
    });
    let dir = tempfile::tempdir().unwrap();
    let big: Vec<String> = (1..=300).map(|i| i.to_string()).collect();
    one_rule(
        dir.path(),
        &format!(
            "big := [{}]\n\ndeny contains finding if {{\n\tsome account in lib.collected_accounts\n\
             \tsome a in big\n\tsome b in big\n\tsome c in big\n\ta * b * c == -1\n\
             \tfinding := {{\"account_id\": account.account_id, \"resource\": {{\"type\": \"aws_account\", \"id\": account.account_id, \"arn\": \"a\"}}, \"message\": \"never\"}}\n}}",
            big.join(",\n\t")
        ),
    );
    for shards in [None, Some(1)] {
        let started = std::time::Instant::now();
        let got = outcome(&s, dir.path(), Path::Fast, shards);
        assert!(
            got.starts_with("error: ")
                && got.contains("ORG950")
                && got.contains("stopped after 0.5 s"),
            "{got}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "stopped promptly"
        );
    }
}
