//! Stage 5 of the pipeline: remediation — plan, review, apply, undo.
//!
//! Users clean keys up by hand-written loops, or by tools that disabled the wrong key because
//! the credential report names key slots, not ids. credwarden makes cleanup reviewable and
//! reversible: a plan is data a person reads ([`plan`]), `apply` re-checks every action live
//! before it acts and journals it durably ([`journal`]), and `undo` restores what was
//! deactivated. Read-only unless `apply` is given a plan.

#[cfg(feature = "aws")]
pub mod apply;
pub mod journal;
pub mod plan;

use std::fmt::Write as _;

pub use plan::{load_plan, Action, ActionKind, Plan, PlanError, PlanOptions, ScpGuardrail};

/// The human summary of a plan (`remediate show`): what, why, on which account.
pub fn describe(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Remediation plan {} · made {} from a snapshot collected {}",
        &plan.digest[..plan.digest.len().min(19)],
        plan.created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        plan.snapshot_collected_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    );
    if plan.actions.is_empty() && plan.scp_guardrail.is_none() {
        out.push_str("\nNothing to do.\n");
        return out;
    }
    let mut accounts: Vec<&str> = plan.actions.iter().map(|a| a.account_id.as_str()).collect();
    accounts.dedup();
    for account in accounts.iter().collect::<std::collections::BTreeSet<_>>() {
        let _ = writeln!(out, "\nAccount {account}");
        for a in plan.actions.iter().filter(|a| a.account_id == **account) {
            let target = match &a.access_key_id {
                Some(key) => format!("{} key {key}", a.user_name),
                None => a.user_name.clone(),
            };
            let _ = writeln!(
                out,
                "  {} {:<22} {target}  [{}]",
                a.id,
                a.action.as_str(),
                a.rules.join(", ")
            );
            let _ = writeln!(out, "        why: {}", a.reason);
        }
    }
    let count = |k: ActionKind| plan.actions.iter().filter(|a| a.action == k).count();
    let _ = writeln!(
        out,
        "\n{} action(s): {} deactivate key, {} delete key, {} delete console password",
        plan.actions.len(),
        count(ActionKind::DeactivateAccessKey),
        count(ActionKind::DeleteAccessKey),
        count(ActionKind::DeleteLoginProfile)
    );
    if let Some(scp) = &plan.scp_guardrail {
        let _ = writeln!(
            out,
            "\nSCP guardrail {} (applied only with --apply-scp --attach-scp-to ROOT_OR_OU_ID):\n{}",
            scp.name,
            serde_json::to_string_pretty(&scp.document).expect("a document serialises")
        );
        out.push_str(
            "Warning: this SCP also blocks key rotation. Attach it only after workloads have moved to IAM roles;\n\
             teams that manage SCPs as code can take the document above into their own IaC instead.\n",
        );
    }
    out.push_str("Apply re-checks every action live first, never touches break-glass users, and journals each step;\n`credwarden remediate undo JOURNAL` reactivates what it deactivated.\n");
    out
}
