//! The remediation plan: reviewed data, applied exactly.
//!
//! A plan lists actions — which account, user and key, what to do, which finding it resolves —
//! with the state observed when it was made (its preconditions). It carries a digest of its own
//! content: `apply` refuses a plan edited without re-digesting, or older than the allowed age,
//! because a plan is what a person approved, and nothing else may run.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::evaluate::Evaluation;
use crate::snapshot::{KeyStatus, Snapshot, User};

/// The plan format's identifier; a plan of another kind or version is refused.
pub const PLAN_KIND: &str = "credwarden.remediation-plan/v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    DeactivateAccessKey,
    DeleteAccessKey,
    DeleteLoginProfile,
    /// Create the SCP guardrail and attach it (never planned from findings).
    AttachScp,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::DeactivateAccessKey => "deactivate_access_key",
            ActionKind::DeleteAccessKey => "delete_access_key",
            ActionKind::DeleteLoginProfile => "delete_login_profile",
            ActionKind::AttachScp => "attach_scp",
        }
    }

    fn parse(s: &str) -> Option<ActionKind> {
        [
            ActionKind::DeactivateAccessKey,
            ActionKind::DeleteAccessKey,
            ActionKind::DeleteLoginProfile,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// What was true when the plan was made; apply re-checks it live before acting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preconditions {
    /// The key's status (`Active`/`Inactive`), for key actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_status: Option<KeyStatus>,
    /// The key's last use as observed (`null`: never used).
    #[serde(default)]
    pub key_last_used_at: Option<DateTime<Utc>>,
    /// The user's last console sign-in as observed, for login-profile actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_last_used: Option<DateTime<Utc>>,
    /// When the snapshot behind the plan was collected.
    pub snapshot_time: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// Stable within the plan: the journal refers to actions by it.
    pub id: String,
    pub action: ActionKind,
    pub account_id: String,
    pub user_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// The findings (rule ids) this action resolves.
    pub rules: Vec<String>,
    /// Why, in words (the finding's message).
    pub reason: String,
    pub preconditions: Preconditions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub kind: String,
    pub created_at: DateTime<Utc>,
    /// The evaluation time of the findings behind the plan.
    pub evaluated_at: DateTime<Utc>,
    pub tool_version: String,
    /// The snapshot the plan was made from.
    pub snapshot_collected_at: DateTime<Utc>,
    pub actions: Vec<Action>,
    /// The SCP that stops new long-lived credentials, when asked for (`--scp-guardrail`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp_guardrail: Option<ScpGuardrail>,
    /// `sha256:` of the plan without this field; see [`Plan::compute_digest`].
    pub digest: String,
}

/// A Service Control Policy denying `iam:CreateAccessKey` (and optionally `iam:CreateUser`)
/// to everyone but the break-glass principals. It also blocks key rotation: attach it only
/// after workloads have moved to roles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScpGuardrail {
    pub name: String,
    pub description: String,
    /// The policy document, exactly as it will be created.
    pub document: serde_json::Value,
    /// Principal ARN patterns exempted by the condition.
    pub exempt_principals: Vec<String>,
}

/// The id the journal gives the SCP guardrail.
pub const SCP_ACTION_ID: &str = "SCP";

impl ScpGuardrail {
    /// The guardrail for a snapshot: break-glass users of the config (names or ARNs) and the
    /// tagged ones found in the snapshot are exempt, plus `extra` ARN patterns (e.g. a
    /// break-glass role).
    pub fn build(
        snapshot: &Snapshot,
        config: &Config,
        deny_create_user: bool,
        extra: &[String],
    ) -> ScpGuardrail {
        let mut exempt: Vec<String> = config
            .break_glass
            .users
            .iter()
            .map(|u| {
                if u.starts_with("arn:") {
                    u.clone()
                } else {
                    format!("arn:aws:iam::*:user/{u}")
                }
            })
            .collect();
        for account in &snapshot.accounts {
            for user in account
                .users
                .iter()
                .filter(|u| tags_say_break_glass(&u.tags, config))
            {
                exempt.push(user.arn.clone());
            }
        }
        exempt.extend(extra.iter().cloned());
        exempt.sort();
        exempt.dedup();
        let mut actions = vec!["iam:CreateAccessKey"];
        if deny_create_user {
            actions.push("iam:CreateUser");
        }
        let mut statement = serde_json::json!({
            "Sid": "DenyLongLivedCredentials",
            "Effect": "Deny",
            "Action": actions,
            "Resource": "*",
        });
        if !exempt.is_empty() {
            statement["Condition"] =
                serde_json::json!({"ArnNotLike": {"aws:PrincipalArn": exempt}});
        }
        ScpGuardrail {
            name: "credwarden-deny-long-lived-credentials".into(),
            description: "Deny new IAM access keys (and users) except to break-glass principals; made by credwarden".into(),
            document: serde_json::json!({"Version": "2012-10-17", "Statement": [statement]}),
            exempt_principals: exempt,
        }
    }
}

/// Options of `remediate plan`.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Only findings of these rules (all with an automatic action when empty).
    pub rules: Vec<String>,
    /// Delete already-inactive keys of CW101/CW105 findings too (normally only deactivated).
    pub delete_inactive_keys: bool,
    /// Delete the console password of inactive users (CW301); off unless asked for.
    pub delete_login_profiles: bool,
    /// Include the SCP guardrail (`Some(deny_create_user)`), exempting these extra ARNs.
    pub scp_guardrail: Option<bool>,
    pub scp_exempt: Vec<String>,
}

impl Plan {
    /// Build a plan from an evaluation: one action per key or user and kind, for unsuppressed
    /// findings whose remediation is an action credwarden performs. Break-glass users never get
    /// one (the rules already mark them `manual`; the config is checked again here).
    /// `created_at` is when the plan is made (its age is checked against it), not the
    /// evaluation time.
    pub fn build(
        snapshot: &Snapshot,
        evaluation: &Evaluation,
        config: &Config,
        opts: &PlanOptions,
        created_at: DateTime<Utc>,
    ) -> Plan {
        let mut by_target: BTreeMap<(String, String, Option<String>, ActionKind), Action> =
            BTreeMap::new();
        // Users by account id and name, found once (a search per finding through the account's
        // users was a thousand comparisons each at 100,000 users); the first of a name wins,
        // as the search found it.
        let mut users: HashMap<(&str, &str), &User> = HashMap::new();
        for account in &snapshot.accounts {
            for user in &account.users {
                let at = (account.account_id.as_str(), user.user_name.as_str());
                users.entry(at).or_insert(user);
            }
        }
        for f in evaluation.findings.iter().filter(|f| !f.suppressed) {
            if !opts.rules.is_empty()
                && !opts
                    .rules
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(&f.rule_id))
            {
                continue;
            }
            let Some(remediation) = &f.remediation else {
                continue;
            };
            let Some(kind) = remediation.action.as_deref().and_then(ActionKind::parse) else {
                continue;
            };
            if kind == ActionKind::DeleteLoginProfile && !opts.delete_login_profiles {
                continue;
            }
            let Some(user_name) = remediation.params.get("user_name").and_then(|v| v.as_str())
            else {
                continue;
            };
            let key_id = remediation
                .params
                .get("access_key_id")
                .and_then(|v| v.as_str())
                .map(str::to_string);
            if kind != ActionKind::DeleteLoginProfile && key_id.is_none() {
                continue;
            }
            let Some(&user) = users.get(&(f.account_id.as_str(), user_name)) else {
                continue;
            };
            if is_break_glass(user, config) {
                continue;
            }
            let key = key_id.as_ref().and_then(|id| {
                user.access_keys
                    .iter()
                    .find(|k| k.access_key_id.as_deref() == Some(id))
            });
            // Deactivate before delete: an active key is only ever deactivated.
            let kind = match (kind, key.map(|k| k.status)) {
                (ActionKind::DeleteAccessKey, Some(KeyStatus::Active)) => {
                    ActionKind::DeactivateAccessKey
                }
                (ActionKind::DeactivateAccessKey, Some(KeyStatus::Inactive))
                    if opts.delete_inactive_keys =>
                {
                    ActionKind::DeleteAccessKey
                }
                (ActionKind::DeactivateAccessKey, Some(KeyStatus::Inactive)) => continue,
                (k, _) => k,
            };
            let preconditions = Preconditions {
                key_status: key.map(|k| k.status),
                key_last_used_at: key.and_then(|k| k.last_used_at),
                password_last_used: (kind == ActionKind::DeleteLoginProfile)
                    .then_some(user.password.last_used)
                    .flatten(),
                snapshot_time: snapshot.collected_at,
            };
            let target = (
                f.account_id.to_string(),
                user_name.to_string(),
                key_id.clone(),
                kind,
            );
            by_target
                .entry(target)
                .and_modify(|a| {
                    if !a.rules.iter().any(|r| *r == f.rule_id) {
                        a.rules.push(f.rule_id.to_string());
                    }
                })
                .or_insert_with(|| Action {
                    id: String::new(),
                    action: kind,
                    account_id: f.account_id.to_string(),
                    user_name: user_name.to_string(),
                    access_key_id: key_id.clone(),
                    rules: vec![f.rule_id.to_string()],
                    reason: f.message.clone(),
                    preconditions,
                });
        }
        let mut actions: Vec<Action> = by_target.into_values().collect();
        for (i, a) in actions.iter_mut().enumerate() {
            a.rules.sort();
            a.id = format!("A{:04}", i + 1);
        }
        let mut plan = Plan {
            kind: PLAN_KIND.into(),
            created_at,
            evaluated_at: evaluation.evaluated_at,
            tool_version: env!("CARGO_PKG_VERSION").into(),
            snapshot_collected_at: snapshot.collected_at,
            actions,
            scp_guardrail: opts.scp_guardrail.map(|deny_create_user| {
                ScpGuardrail::build(snapshot, config, deny_create_user, &opts.scp_exempt)
            }),
            digest: String::new(),
        };
        plan.digest = plan.compute_digest();
        plan
    }

    /// `sha256:` over the canonical JSON of the plan with an empty digest.
    pub fn compute_digest(&self) -> String {
        let mut copy = self.clone();
        copy.digest = String::new();
        let bytes = serde_json::to_vec(&copy).expect("a plan serialises");
        format!("sha256:{:x}", Sha256::digest(&bytes))
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a plan serialises");
        text.push('\n');
        text
    }
}

/// Break-glass by config name/ARN or by tag, as the policies decide it.
pub fn is_break_glass(user: &crate::snapshot::User, config: &Config) -> bool {
    let bg = &config.break_glass;
    bg.users
        .iter()
        .any(|u| u == &user.user_name || u == &user.arn)
        || tags_say_break_glass(&user.tags, config)
}

/// Whether tags mark a user break-glass (`tag_key` = `tag_value`, value compared ignoring ASCII case).
pub fn tags_say_break_glass(tags: &crate::snapshot::Tags, config: &Config) -> bool {
    tags.get(&config.break_glass.tag_key)
        .is_some_and(|v| v.eq_ignore_ascii_case(&config.break_glass.tag_value))
}

/// Why a plan cannot be applied.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{path}: cannot read the plan: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: the plan is not valid: {message}")]
    Invalid {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: not a credwarden remediation plan (kind {found:?}, expected {PLAN_KIND:?})")]
    Kind { path: String, found: String },
    #[error("{path}: the plan was changed after it was made (digest {found} does not match its content, {expected}); make a new plan with `credwarden remediate plan`")]
    Digest {
        path: String,
        found: String,
        expected: String,
    },
    #[error("{path}: the plan is {age_hours} hours old, older than the allowed {max_hours} hours; make a new plan (or raise --max-plan-age)")]
    Stale {
        path: String,
        age_hours: i64,
        max_hours: u64,
    },
}

/// Read a plan and check its kind, digest and age.
pub fn load_plan(
    path: &std::path::Path,
    now: DateTime<Utc>,
    max_age_hours: u64,
) -> Result<Plan, PlanError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| PlanError::Io {
        path: origin.clone(),
        source,
    })?;
    parse_plan(&text, &origin, now, max_age_hours)
}

/// Parse plan text and check its kind, digest and age; `origin` names it in errors.
pub fn parse_plan(
    text: &str,
    origin: &str,
    now: DateTime<Utc>,
    max_age_hours: u64,
) -> Result<Plan, PlanError> {
    let origin = origin.to_string();
    let plan: Plan = serde_json::from_str(text).map_err(|e| PlanError::Invalid {
        path: origin.clone(),
        line: e.line(),
        column: e.column(),
        message: e
            .to_string()
            .rsplit_once(" at line ")
            .map_or(e.to_string(), |(m, _)| m.to_string()),
    })?;
    if plan.kind != PLAN_KIND {
        return Err(PlanError::Kind {
            path: origin,
            found: plan.kind,
        });
    }
    let expected = plan.compute_digest();
    if plan.digest != expected {
        return Err(PlanError::Digest {
            path: origin,
            found: plan.digest.clone(),
            expected,
        });
    }
    let age_hours = (now - plan.created_at).num_hours();
    if age_hours > max_age_hours as i64 {
        return Err(PlanError::Stale {
            path: origin,
            age_hours,
            max_hours: max_age_hours,
        });
    }
    Ok(plan)
}
