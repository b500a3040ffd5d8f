//! `policies/users/*.rego`, natively.

use serde_json::Value;

use super::*;

/// `break_glass_user_misconfigured.rego` (CW305).
pub(super) fn break_glass_misconfigured(
    p: &Params,
    a: &Account,
    u: &User,
    out: &mut Vec<RawFinding>,
) {
    if !p.is_break_glass(u) {
        return;
    }
    let mut problems: Vec<(&str, String)> = Vec::new();
    if !u.access_keys.is_empty() {
        let labels: Vec<String> = u
            .access_keys
            .iter()
            .map(|k| {
                let status = match k.status {
                    KeyStatus::Active => "active",
                    KeyStatus::Inactive => "inactive",
                };
                format!("{} {status}", key_label(k))
            })
            .collect();
        let text = format!(
            "has {} access key(s) ({})",
            u.access_keys.len(),
            labels.join(", ")
        );
        problems.push(("access_keys", text));
    }
    if !u.mfa_active {
        problems.push(("no_mfa", "has no MFA device".into()));
    }
    if let Some((days, when, how)) = most_recent_use(p, u) {
        let text = format!("was used {} days ago ({how}, {when})", days.max(0));
        problems.push(("recent_use", text));
    }
    if problems.is_empty() {
        return;
    }
    let texts: Vec<&str> = problems.iter().map(|(_, t)| t.as_str()).collect();
    let codes = problems.iter().map(|(c, _)| Value::from(*c)).collect();
    out.push(finding(
        a,
        user_resource(u),
        format!("Break-glass user {} {}", u.user_name, texts.join("; ")),
        manual(
            object([
                ("user_name", u.user_name.clone().into()),
                ("break_glass", true.into()),
            ]),
            "fix the break-glass user by hand",
        ),
        object([
            ("problems", Value::Array(codes).into()),
            ("access_keys", u.access_keys.len().into()),
            ("mfa_active", u.mfa_active.into()),
        ]),
    ));
}

/// The least `[days, timestamp, how]` among the uses within the threshold (`use_problem`).
fn most_recent_use(p: &Params, u: &User) -> Option<(i64, String, String)> {
    let limit = i64::from(p.thresholds.break_glass_use_days);
    let console = u
        .password
        .last_used
        .iter()
        .map(|t| (t, "console sign-in".to_string()));
    let keys = u.access_keys.iter().filter_map(|k| {
        let t = k.last_used_at.as_ref()?;
        Some((t, format!("access key {}", key_label(k))))
    });
    console
        .chain(keys)
        .filter_map(|(t, how)| {
            let days = p.days_since(t)?;
            (days <= limit).then(|| (days, ts(t), how))
        })
        .min()
}

/// `console_user_without_mfa.rego` (CW303).
pub(super) fn console_without_mfa(p: &Params, a: &Account, u: &User, out: &mut Vec<RawFinding>) {
    if !u.password.enabled || u.mfa_active {
        return;
    }
    out.push(finding(
        a,
        user_resource(u),
        format!(
            "IAM user {} can sign in to the console with a password but has no MFA device",
            u.user_name
        ),
        user_remediation(p, u, "enable_mfa", Fields::new()),
        object([
            (
                "password_last_used",
                ts_value(u.password.last_used.as_ref()),
            ),
            ("break_glass", p.is_break_glass(u).into()),
        ]),
    ));
}

/// `inactive_user.rego` (CW301).
pub(super) fn inactive(p: &Params, a: &Account, u: &User, out: &mut Vec<RawFinding>) {
    let key_uses = u.access_keys.iter().filter_map(|k| k.last_used_at.as_ref());
    let used = latest(u.password.last_used.iter().chain(key_uses));
    let Some(days) = p
        .days_since(used.unwrap_or(&u.created_at))
        .filter(|&d| d >= i64::from(p.thresholds.inactive_user_days))
    else {
        return;
    };
    let message = match used {
        None => format!(
            "IAM user {} has never signed in nor used an access key since it was created {days} days ago",
            u.user_name
        ),
        Some(used) => format!(
            "IAM user {} has been inactive for {days} days (last activity {})",
            u.user_name,
            ts(used)
        ),
    };
    let break_glass = p.is_break_glass(u);
    let remediation = if u.password.enabled {
        user_remediation(p, u, "delete_login_profile", Fields::new())
    } else {
        manual(
            object([
                ("user_name", u.user_name.clone().into()),
                ("break_glass", break_glass.into()),
            ]),
            "remove the inactive user's access keys, then the user",
        )
    };
    out.push(finding(
        a,
        user_resource(u),
        message,
        remediation,
        object([
            ("days_inactive", days.into()),
            ("last_used_at", ts_value(used)),
            ("created_at", ts(&u.created_at).into()),
            ("password_enabled", u.password.enabled.into()),
            ("break_glass", break_glass.into()),
        ]),
    ));
}

/// `non_break_glass_user.rego` (CW304).
pub(super) fn non_break_glass(p: &Params, a: &Account, u: &User, out: &mut Vec<RawFinding>) {
    if p.is_break_glass(u) {
        return;
    }
    out.push(finding(
        a,
        user_resource(u),
        format!(
            "IAM user {} is not a break-glass user; people belong in IAM Identity Center, workloads in IAM roles",
            u.user_name
        ),
        manual(
            object([("user_name", u.user_name.clone().into())]),
            "replace the IAM user with federation or a role",
        ),
        object([
            ("password_enabled", u.password.enabled.into()),
            ("active_access_keys", active_keys(u).count().into()),
        ]),
    ));
}

/// `user_without_credentials.rego` (CW302).
pub(super) fn without_credentials(p: &Params, a: &Account, u: &User, out: &mut Vec<RawFinding>) {
    if u.password.enabled || active_keys(u).next().is_some() {
        return;
    }
    let inactive = u
        .access_keys
        .iter()
        .filter(|k| k.status == KeyStatus::Inactive)
        .count();
    out.push(finding(
        a,
        user_resource(u),
        format!(
            "IAM user {} has no console password and no active access key ({inactive} inactive key(s))",
            u.user_name
        ),
        manual(
            object([
                ("user_name", u.user_name.clone().into()),
                ("break_glass", p.is_break_glass(u).into()),
            ]),
            "delete the orphaned user",
        ),
        object([
            ("inactive_keys", inactive.into()),
            ("created_at", ts(&u.created_at).into()),
        ]),
    ));
}
