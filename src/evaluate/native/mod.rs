//! The fast path: the bundled per-user rules as native code.
//!
//! The Rego files under `policies/` are the definition of every bundled rule, and the reference:
//! `credwarden policy test` runs their tests, `--engine rego` evaluates them in the interpreter,
//! and the test suite checks, over generated snapshots of many seeds and shapes, that this module
//! produces exactly the same findings (message, resource, remediation and details, byte for
//! byte). Only the rules whose cost grows with the number of users live here — ten rules that
//! each visit every user or key; the account- and organization-scope rules stay in Rego, where
//! they cost milliseconds.
//!
//! Each function below mirrors one `.rego` file of the same name; the helpers mirror
//! `policies/lib/functions.rego`, as [`library`] does for the rules that stay in Rego. Objects are built with their keys sorted, as the engine emits
//! them, so reports are identical whichever path produced a finding.

mod access_keys;
pub(crate) mod library;
mod users;

use std::collections::HashSet;

use super::finding::{Detail, Fields, RawFinding, RawRemediation, Resource, Text};
use crate::config::{Config, Thresholds};
use crate::snapshot::{AccessKey, Account, KeyStatus, Timestamp, User};

/// A native rule: the findings of one user of one (collected) account.
pub(crate) type UserRule = fn(&Params, &Account, &User, &mut Vec<RawFinding>);

/// The native implementation of a bundled rule's package, if it has one.
pub(crate) fn user_rule(package: &str) -> Option<UserRule> {
    let name = package.strip_prefix("data.credwarden.rules.")?;
    Some(match name {
        "access_key_created_at_user_setup" => access_keys::created_at_user_setup,
        "access_key_not_rotated" => access_keys::not_rotated,
        "inactive_access_key_not_deleted" => access_keys::inactive_not_deleted,
        "multiple_active_access_keys" => access_keys::multiple_active,
        "unused_access_key" => access_keys::unused,
        "break_glass_user_misconfigured" => users::break_glass_misconfigured,
        "console_user_without_mfa" => users::console_without_mfa,
        "inactive_user" => users::inactive,
        "non_break_glass_user" => users::non_break_glass,
        "user_without_credentials" => users::without_credentials,
        _ => return None,
    })
}

/// What the rules read besides the snapshot: `data.credwarden` (time and config).
pub(crate) struct Params<'a> {
    now_ns: i64,
    thresholds: &'a Thresholds,
    break_glass_names: HashSet<String>,
    break_glass_tag_key: &'a str,
    break_glass_tag_value: String,
}

impl<'a> Params<'a> {
    pub(crate) fn new(now_ns: i64, config: &'a Config) -> Params<'a> {
        let bg = &config.break_glass;
        Params {
            now_ns,
            thresholds: &config.thresholds,
            break_glass_names: bg.users.iter().map(|u| u.to_lowercase()).collect(),
            break_glass_tag_key: &bg.tag_key,
            break_glass_tag_value: bg.tag_value.to_lowercase(),
        }
    }

    /// `lib.days_since`: whole days from `ts` to now, rounded down (negative in the future).
    /// `None` where the engine cannot represent the time in nanoseconds (the rule is undefined).
    fn days_since(&self, ts: &Timestamp) -> Option<i64> {
        const NS_PER_DAY: i64 = 86_400_000_000_000;
        let then = ts.timestamp_nanos_opt()?;
        Some(self.now_ns.checked_sub(then)?.div_euclid(NS_PER_DAY))
    }

    /// `lib.is_break_glass`: named in the config (by name or ARN), or tagged. Nothing is
    /// lowercased when no name is configured and the user lacks the tag (asked once or twice
    /// per finding, this was two allocations each time).
    fn is_break_glass(&self, user: &User) -> bool {
        let named = |s: &str| self.break_glass_names.contains(&s.to_lowercase());
        (!self.break_glass_names.is_empty() && (named(&user.user_name) || named(&user.arn)))
            || user
                .tags
                .get(self.break_glass_tag_key)
                .is_some_and(|v| v.to_lowercase() == self.break_glass_tag_value)
    }
}

/// A timestamp as the snapshot (and so the engine) spells it.
fn ts(t: &Timestamp) -> String {
    crate::snapshot::timestamp::format(t)
}

fn ts_value(t: Option<&Timestamp>) -> Detail {
    t.map_or(Detail::Null, |t| ts(t).into())
}

fn opt_str(s: Option<&String>) -> Detail {
    s.map_or(Detail::Null, |s| s.clone().into())
}

fn opt_slot(slot: Option<u8>) -> Detail {
    slot.map_or(Detail::Null, |n| Detail::Int(n.into()))
}

/// A JSON object with its keys in the engine's (sorted) order. The keys are a rule's literals,
/// distinct by construction: one allocation, no search for duplicates.
fn object<const N: usize>(mut pairs: [(&'static str, Detail); N]) -> Fields {
    pairs.sort_unstable_by(|a, b| a.0.cmp(b.0));
    Fields::of_distinct(
        pairs
            .into_iter()
            .map(|(k, v)| (Text::from_static(k), v))
            .collect(),
    )
}

/// `object.union(base, extra)`: `extra` wins, keys stay sorted.
fn union(mut base: Fields, extra: Fields) -> Fields {
    base.extend(extra);
    base.sort_keys();
    base
}

fn is_active(key: &AccessKey) -> bool {
    key.status == KeyStatus::Active
}

fn active_keys(user: &User) -> impl Iterator<Item = &AccessKey> {
    user.access_keys.iter().filter(|k| is_active(k))
}

/// `lib.key_id`: the access key id, else `user/key-SLOT`, else `user/key`.
fn key_id(user: &User, key: &AccessKey) -> String {
    match (&key.access_key_id, key.slot) {
        (Some(id), _) => id.clone(),
        (None, Some(slot)) => format!("{}/key-{slot}", user.user_name),
        (None, None) => format!("{}/key", user.user_name),
    }
}

/// `lib.key_label`: how a message names a key.
fn key_label(key: &AccessKey) -> String {
    match (&key.access_key_id, key.slot) {
        (Some(id), _) => id.clone(),
        (None, Some(slot)) => format!("in slot {slot}"),
        (None, None) => "(id unknown)".to_string(),
    }
}

/// `lib.latest`: the latest of some timestamps (ties go to the greater spelling).
fn latest<'t>(timestamps: impl Iterator<Item = &'t Timestamp>) -> Option<&'t Timestamp> {
    timestamps
        .filter(|t| t.timestamp_nanos_opt().is_some())
        .max_by(|a, b| a.cmp(b).then_with(|| ts(a).cmp(&ts(b))))
}

fn user_resource(user: &User) -> Resource {
    Resource {
        kind: Text::from_static("aws_iam_user"),
        id: user.user_name.clone(),
        arn: user.arn.clone(),
        user: None,
    }
}

fn key_resource(user: &User, key: &AccessKey) -> Resource {
    Resource {
        kind: Text::from_static("aws_iam_access_key"),
        id: key_id(user, key),
        arn: user.arn.clone(),
        user: Some(user.user_name.clone()),
    }
}

fn finding(
    account: &Account,
    resource: Resource,
    message: String,
    remediation: RawRemediation,
    details: Fields,
) -> RawFinding {
    RawFinding {
        account_id: account.account_id.clone(),
        resource,
        message,
        remediation: Some(remediation),
        details,
    }
}

/// `lib.manual`: a task for a person.
fn manual(params: Fields, task: &'static str) -> RawRemediation {
    RawRemediation {
        action: Text::from_static("manual"),
        params: union(params, object([("task", task.into())])),
    }
}

/// `lib.user_remediation`: the action, or a manual task for a break-glass user.
fn user_remediation(
    p: &Params,
    user: &User,
    action: &'static str,
    params: Fields,
) -> RawRemediation {
    if p.is_break_glass(user) {
        RawRemediation {
            action: Text::from_static("manual"),
            params: union(
                params,
                object([
                    ("user_name", user.user_name.clone().into()),
                    ("break_glass", true.into()),
                    ("intended_action", action.into()),
                ]),
            ),
        }
    } else {
        RawRemediation {
            action: Text::from_static(action),
            params: union(
                params,
                object([("user_name", user.user_name.clone().into())]),
            ),
        }
    }
}

/// `lib.key_params`.
fn key_params(user: &User, key: &AccessKey) -> Fields {
    object([
        ("user_name", user.user_name.clone().into()),
        ("access_key_id", opt_str(key.access_key_id.as_ref())),
        ("slot", opt_slot(key.slot)),
    ])
}

/// `lib.key_remediation`: the action on a key with a known id, else a manual task.
fn key_remediation(
    p: &Params,
    user: &User,
    key: &AccessKey,
    action: &'static str,
) -> RawRemediation {
    match &key.access_key_id {
        Some(id) => user_remediation(
            p,
            user,
            action,
            object([("access_key_id", id.clone().into())]),
        ),
        None => RawRemediation {
            action: Text::from_static("manual"),
            params: object([
                ("user_name", user.user_name.clone().into()),
                ("slot", opt_slot(key.slot)),
                ("break_glass", p.is_break_glass(user).into()),
                ("intended_action", action.into()),
                (
                    "reason",
                    "the access key id is unknown (credential report input)".into(),
                ),
            ]),
        },
    }
}
