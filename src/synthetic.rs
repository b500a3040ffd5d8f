//! Synthetic snapshots for benchmarks and property tests: seeded and deterministic.
//!
//! The mix is meant to look like a real estate of accounts: mostly workload users with two keys
//! of every age (about 1.95 keys a user), console users with and without MFA, never-used and inactive keys, a few
//! break-glass users, and an Organization whose SCPs cover some accounts and not others.

use std::collections::BTreeMap;

use chrono::{Duration, TimeZone, Utc};

use crate::snapshot::*;

/// A small, fast, seeded generator (SplitMix64); good enough for test data, not for secrets.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub seed: u64,
    pub accounts: usize,
    /// Users in all, spread evenly over the accounts.
    pub users: usize,
}

/// The time synthetic snapshots are "collected" at; evaluate them at or after it.
pub fn collected_at() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 20, 23, 40, 0)
        .single()
        .expect("valid time")
}

pub fn generate(spec: Spec) -> Snapshot {
    let mut rng = Rng::new(spec.seed);
    let accounts = spec.accounts.max(1);
    let now = collected_at();
    let mut out = Vec::with_capacity(accounts);
    for a in 0..accounts {
        let share = spec.users / accounts + usize::from(a < spec.users % accounts);
        out.push(account(&mut rng, a, share, now));
    }
    let organization = organization(&mut rng, accounts);
    Snapshot {
        schema: SCHEMA_VERSION.into(),
        generator: Generator {
            tool: "credwarden-synthetic".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        collected_at: now,
        source: "synthetic".into(),
        organization: Some(organization),
        organization_error: None,
        accounts: out,
        metadata: BTreeMap::from([("seed".to_string(), serde_json::json!(spec.seed))]),
    }
}

fn account_id(index: usize) -> String {
    format!("{:012}", 100_000_000_000u64 + index as u64)
}

fn days_ago(now: Timestamp, days: u64, rng: &mut Rng) -> Timestamp {
    now - Duration::days(days as i64) - Duration::seconds(rng.below(86_400) as i64)
}

fn account(rng: &mut Rng, index: usize, users: usize, now: Timestamp) -> Account {
    let id = account_id(index);
    let report_age_minutes = if rng.chance(10) { 600 } else { 20 };
    Account {
        alias: Some(format!("synthetic-{index}")),
        credential_report: Some(CredentialReportInfo {
            generated_at: Some(now - Duration::minutes(report_age_minutes)),
        }),
        root: Some(root(rng, &id, now)),
        users: (0..users).map(|u| user(rng, &id, u, now)).collect(),
        error: None,
        account_id: id,
    }
}

fn root(rng: &mut Rng, account: &str, now: Timestamp) -> RootUser {
    let has_key = rng.chance(5);
    let slot = |n: u8, present: bool, rng: &mut Rng| RootKeySlot {
        slot: n,
        active: present,
        last_rotated: present.then(|| days_ago(now, 400 + rng.below(2000), rng)),
        last_used_at: None,
        last_used_service: None,
        last_used_region: None,
    };
    RootUser {
        arn: format!("arn:aws:iam::{account}:root"),
        password_enabled: Some(true),
        password_last_used: rng.chance(30).then(|| days_ago(now, rng.below(400), rng)),
        mfa_active: !rng.chance(5),
        access_keys: vec![slot(1, has_key, rng), slot(2, false, rng)],
        account_access_keys_present: Some(has_key),
        account_mfa_enabled: None,
    }
}

fn user(rng: &mut Rng, account: &str, index: usize, now: Timestamp) -> User {
    let human = rng.chance(40);
    let break_glass = rng.below(1000) < 5;
    let (path, name) = if break_glass {
        ("/", format!("breakglass-{index}"))
    } else if human {
        (
            ["/engineering/", "/contractors/", "/"][rng.below(3) as usize],
            format!("user-{index}"),
        )
    } else {
        ("/service/", format!("svc-{index}"))
    };
    let created_at = days_ago(now, 30 + rng.below(2500), rng);
    let age_days = (now - created_at).num_days().max(1) as u64;
    let mut tags = Tags::from([("team".to_string(), format!("team-{}", rng.below(40)))]);
    if break_glass {
        tags.insert("credwarden:break-glass".into(), "true".into());
    }
    let password_enabled = human || break_glass;
    let password = Password {
        enabled: password_enabled,
        last_used: (password_enabled && rng.chance(85))
            .then(|| days_ago(now, rng.below(age_days.min(400)), rng)),
        last_changed: password_enabled.then_some(created_at),
    };
    // About two keys a user, as in estates where keys are rotated by creating the second one:
    // almost every workload user has both slots filled, most people have one or two.
    let key_count = if !human {
        2
    } else if rng.chance(2) {
        0
    } else {
        1 + u64::from(rng.chance(92))
    };
    // A retired workload: its keys deactivated, the user left behind.
    let retired = !human && !break_glass && rng.chance(3);
    let access_keys = (0..key_count)
        .map(|slot| {
            let mut key = key(rng, account, index, slot as u8 + 1, created_at, now);
            if retired {
                key.status = KeyStatus::Inactive;
            }
            key
        })
        .collect();
    User {
        user_id: Some(format!(
            "AIDA{:017}",
            (index as u64) * 7919 % 100_000_000_000_000_000
        )),
        arn: format!("arn:aws:iam::{account}:user{path}{name}"),
        path: path.into(),
        user_name: name,
        created_at,
        tags,
        password,
        mfa_active: (human || break_glass) && rng.chance(80),
        access_keys,
    }
}

fn key(
    rng: &mut Rng,
    account: &str,
    user: usize,
    slot: u8,
    user_created: Timestamp,
    now: Timestamp,
) -> AccessKey {
    let max_age = (now - user_created).num_days().max(1) as u64;
    let created_at = days_ago(now, rng.below(max_age), rng).max(user_created);
    let age = (now - created_at).num_days().max(1) as u64;
    let never_used = rng.chance(15);
    let account_tag = &account[account.len() - 4..];
    AccessKey {
        access_key_id: Some(format!("AKIA{account_tag}{user:09}{slot:03}")),
        slot: Some(slot),
        status: if rng.chance(10) {
            KeyStatus::Inactive
        } else {
            KeyStatus::Active
        },
        created_at,
        last_used_at: (!never_used).then(|| days_ago(now, rng.below(age), rng)),
        last_used_service: (!never_used)
            .then(|| ["s3", "sts", "ec2", "dynamodb"][rng.below(4) as usize].to_string()),
        last_used_region: (!never_used).then(|| "eu-west-1".to_string()),
    }
}

fn organization(rng: &mut Rng, accounts: usize) -> Organization {
    let root_id = "r-syn0".to_string();
    let ous = vec![
        OrganizationalUnit {
            id: "ou-syn0-workload".into(),
            name: "Workloads".into(),
            parent_id: root_id.clone(),
        },
        OrganizationalUnit {
            id: "ou-syn0-prod0001".into(),
            name: "Prod".into(),
            parent_id: "ou-syn0-workload".into(),
        },
        OrganizationalUnit {
            id: "ou-syn0-sandbox1".into(),
            name: "Sandbox".into(),
            parent_id: root_id.clone(),
        },
    ];
    let org_accounts = (0..accounts)
        .map(|a| OrgAccount {
            id: account_id(a),
            name: format!("synthetic-{a}"),
            email: None,
            status: if rng.chance(3) {
                "SUSPENDED".into()
            } else {
                "ACTIVE".into()
            },
            parent_id: if a == 0 {
                root_id.clone()
            } else {
                ous[a % 3].id.clone()
            },
        })
        .collect();
    let deny = |actions: &[&str]| {
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": actions, "Resource": "*",
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/BreakGlass"}}}]})
    };
    let policies = vec![
        ServiceControlPolicy {
            id: "p-FullAWSAccess".into(),
            name: "FullAWSAccess".into(),
            arn: None,
            aws_managed: true,
            document: serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
            targets: vec![root_id.clone()],
        },
        ServiceControlPolicy {
            id: "p-syn0denykeys".into(),
            name: "DenyLongLivedCredentials".into(),
            arn: None,
            aws_managed: false,
            document: deny(&["iam:CreateAccessKey", "iam:CreateUser"]),
            targets: vec!["ou-syn0-workload".into()],
        },
    ];
    Organization {
        id: "o-synthetic0".into(),
        management_account_id: account_id(0),
        roots: vec![OrgRoot {
            id: root_id,
            name: "Root".into(),
            policy_types: vec!["SERVICE_CONTROL_POLICY".into()],
        }],
        organizational_units: ous,
        accounts: org_accounts,
        policies,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_snapshot() {
        let spec = Spec {
            seed: 7,
            accounts: 3,
            users: 50,
        };
        assert_eq!(generate(spec), generate(spec));
        assert_ne!(generate(spec), generate(Spec { seed: 8, ..spec }));
        assert_eq!(
            generate(spec)
                .accounts
                .iter()
                .map(|a| a.users.len())
                .sum::<usize>(),
            50
        );
    }
}
