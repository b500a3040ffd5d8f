//! `policies/access_keys/*.rego`, natively.

use super::*;

/// `access_key_created_at_user_setup.rego` (CW105).
pub(super) fn created_at_user_setup(p: &Params, a: &Account, u: &User, out: &mut Vec<RawFinding>) {
    if !u.password.enabled {
        return;
    }
    for key in active_keys(u).filter(|k| k.last_used_at.is_none()) {
        out.push(finding(
            a,
            key_resource(u, key),
            format!(
                "Console user {} has an active access key {} that has never been used (created {})",
                u.user_name,
                key_label(key),
                ts(&key.created_at)
            ),
            key_remediation(p, u, key, "deactivate_access_key"),
            object([
                ("key_created_at", ts(&key.created_at).into()),
                ("user_created_at", ts(&u.created_at).into()),
            ]),
        ));
    }
}

/// `access_key_not_rotated.rego` (CW102).
pub(super) fn not_rotated(p: &Params, a: &Account, u: &User, out: &mut Vec<RawFinding>) {
    let limit = i64::from(p.thresholds.rotation_days);
    for key in active_keys(u) {
        let Some(age) = p.days_since(&key.created_at).filter(|&d| d > limit) else {
            continue;
        };
        out.push(finding(
            a,
            key_resource(u, key),
            format!(
                "Active access key {} of user {} is {age} days old (created {}); rotate it at least every {limit} days",
                key_label(key),
                u.user_name,
                ts(&key.created_at)
            ),
            manual(key_params(u, key), "rotate the access key"),
            object([
                ("age_days", age.into()),
                ("created_at", ts(&key.created_at).into()),
                ("last_used_at", ts_value(key.last_used_at.as_ref())),
            ]),
        ));
    }
}

/// `inactive_access_key_not_deleted.rego` (CW104).
pub(super) fn inactive_not_deleted(p: &Params, a: &Account, u: &User, out: &mut Vec<RawFinding>) {
    let grace = i64::from(p.thresholds.inactive_key_grace_days);
    for key in u
        .access_keys
        .iter()
        .filter(|k| k.status == KeyStatus::Inactive)
    {
        let Some(last) = latest(key.last_used_at.iter().chain([&key.created_at])) else {
            continue;
        };
        let Some(days) = p.days_since(last).filter(|&d| d > grace) else {
            continue;
        };
        let last = ts(last);
        out.push(finding(
            a,
            key_resource(u, key),
            format!(
                "Inactive access key {} of user {} is still present; its last activity was {days} days ago ({last})",
                key_label(key),
                u.user_name
            ),
            key_remediation(p, u, key, "delete_access_key"),
            object([
                ("days_since_last_activity", days.into()),
                ("last_activity", last.into()),
                ("created_at", ts(&key.created_at).into()),
                ("last_used_at", ts_value(key.last_used_at.as_ref())),
            ]),
        ));
    }
}

/// `multiple_active_access_keys.rego` (CW103).
pub(super) fn multiple_active(_: &Params, a: &Account, u: &User, out: &mut Vec<RawFinding>) {
    let active: Vec<&AccessKey> = active_keys(u).collect();
    if active.len() < 2 {
        return;
    }
    let labels: Vec<String> = active.iter().map(|k| key_label(k)).collect();
    let summaries = active
        .iter()
        .map(|k| {
            object([
                ("access_key_id", opt_str(k.access_key_id.as_ref())),
                ("slot", opt_slot(k.slot)),
                ("created_at", ts(&k.created_at).into()),
                ("last_used_at", ts_value(k.last_used_at.as_ref())),
            ])
        })
        .collect();
    out.push(finding(
        a,
        user_resource(u),
        format!(
            "User {} has {} active access keys ({}); keep at most one",
            u.user_name,
            active.len(),
            labels.join(", ")
        ),
        manual(
            object([("user_name", u.user_name.clone().into())]),
            "keep one active access key, deactivate the other",
        ),
        object([("active_keys", Detail::Objects(summaries))]),
    ));
}

/// `unused_access_key.rego` (CW101).
pub(super) fn unused(p: &Params, a: &Account, u: &User, out: &mut Vec<RawFinding>) {
    let limit = i64::from(p.thresholds.unused_days);
    for key in active_keys(u) {
        let last = key.last_used_at.as_ref().unwrap_or(&key.created_at);
        let Some(days) = p.days_since(last).filter(|&d| d >= limit) else {
            continue;
        };
        let message = match &key.last_used_at {
            None => format!(
                "Active access key {} of user {} was never used and was created {days} days ago",
                key_label(key),
                u.user_name
            ),
            Some(used) => format!(
                "Active access key {} of user {} has not been used for {days} days (last used {})",
                key_label(key),
                u.user_name,
                ts(used)
            ),
        };
        out.push(finding(
            a,
            key_resource(u, key),
            message,
            key_remediation(p, u, key, "deactivate_access_key"),
            object([
                ("days_unused", days.into()),
                ("never_used", key.last_used_at.is_none().into()),
                ("last_used_at", ts_value(key.last_used_at.as_ref())),
                ("created_at", ts(&key.created_at).into()),
                ("last_used_service", opt_str(key.last_used_service.as_ref())),
            ]),
        ));
    }
}
