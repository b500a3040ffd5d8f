//! Applying a plan to live AWS: re-check, act, journal.
//!
//! For every action, the live state is read again first, and the action is skipped — with its
//! reason — when its precondition no longer holds: the key was used since the plan, the user
//! became break-glass, the key or login profile is gone. A break-glass user is never acted on,
//! whatever the plan says. Keys are deactivated before they are deleted.

use std::sync::{Arc, Mutex};

use aws_config::SdkConfig;
use aws_sdk_iam::types::StatusType;
use chrono::{DateTime, Utc};

use super::journal::{Event, Journal, JournalError, Record};
use super::plan::{tags_say_break_glass, Action, ActionKind, Plan, ScpGuardrail, SCP_ACTION_ID};
use crate::collect::clients::{self, ApiCalls};
use crate::collect::{CollectError, CollectOptions};
use crate::config::Config;

/// What happened to one action in this run.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub action_id: String,
    pub event: Event,
    pub detail: String,
}

/// The outcome of every action, in plan order.
#[derive(Debug, Clone, Default)]
pub struct ApplySummary {
    pub outcomes: Vec<Outcome>,
    /// Actions the journal already had as done or skipped (a resumed run).
    pub already: usize,
    /// Actions not started because the run was asked to stop (a re-run does them).
    pub not_started: usize,
}

impl ApplySummary {
    pub fn count(&self, event: Event) -> usize {
        self.outcomes.iter().filter(|o| o.event == event).count()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Aws(#[from] CollectError),
}

/// Apply `plan`, recording into `journal`. Actions the journal has as done or skipped are not
/// repeated.
pub async fn apply(
    plan: &Plan,
    journal: Journal,
    opts: &CollectOptions,
    config: &Config,
    scp_target: Option<&str>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Result<ApplySummary, ApplyError> {
    let last: std::collections::BTreeMap<String, Event> = journal
        .last_events()
        .into_iter()
        .map(|(id, r)| (id, r.event))
        .collect();
    let pending: Vec<Action> = plan
        .actions
        .iter()
        .filter(|a| {
            !matches!(
                last.get(&a.id).copied(),
                Some(Event::Done | Event::Skipped | Event::Undone)
            )
        })
        .cloned()
        .collect();
    let already = plan.actions.len() - pending.len();
    let journal = Arc::new(Mutex::new(journal));
    let calls = ApiCalls::default();
    let base = clients::load_config(opts).await;
    let clients::Caller {
        account_id: caller_account,
        partition,
    } = clients::caller(&base, &calls).await?;

    // One client per account, made once.
    let mut accounts: Vec<String> = pending.iter().map(|a| a.account_id.clone()).collect();
    accounts.sort();
    accounts.dedup();
    let mut iam_by_account = std::collections::HashMap::new();
    let mut outcomes = Vec::new();
    for account in &accounts {
        let config = if *account == caller_account {
            Ok(base.clone())
        } else {
            clients::assume_role(&base, &calls, &partition, account, opts).await
        };
        match config {
            Ok(c) => {
                iam_by_account.insert(account.clone(), Arc::new(clients::iam(&c, &calls)));
            }
            Err(e) => {
                for a in pending.iter().filter(|a| &a.account_id == account) {
                    let outcome = Outcome {
                        action_id: a.id.clone(),
                        event: Event::Failed,
                        detail: e.to_string(),
                    };
                    journal.lock().expect("journal lock").append(record(
                        plan,
                        a,
                        Event::Failed,
                        None,
                        &outcome.detail,
                    ))?;
                    outcomes.push(outcome);
                }
            }
        }
    }

    let semaphore = Arc::new(tokio::sync::Semaphore::new(opts.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, action) in pending.into_iter().enumerate() {
        let Some(iam) = iam_by_account.get(&action.account_id).cloned() else {
            continue;
        };
        // Started by an interrupted run: whatever it finds done now, that run did.
        let resumed = matches!(last.get(&action.id), Some(Event::Started));
        let (journal, semaphore, config, plan_digest, stop) = (
            journal.clone(),
            semaphore.clone(),
            config.clone(),
            plan.digest.clone(),
            stop.clone(),
        );
        tasks.spawn(async move {
            let _permit = semaphore
                .acquire_owned()
                .await
                .expect("semaphore is never closed");
            // Asked to stop: start nothing new (what runs finishes and is journalled).
            if stop.load(std::sync::atomic::Ordering::SeqCst) {
                return Ok(None);
            }
            let digest_plan = PlanRef {
                digest: &plan_digest,
            };
            let started = record_with(&digest_plan, &action, Event::Started, None, "");
            journal.lock().expect("journal lock").append(started)?;
            let (event, changed, detail) = match run(&iam, &action, &config, resumed).await {
                Ok(Step::Done { changed, detail }) => (Event::Done, Some(changed), detail),
                Ok(Step::Skipped(detail)) => (Event::Skipped, None, detail),
                Err(e) => (Event::Failed, None, e.to_string()),
            };
            journal.lock().expect("journal lock").append(record_with(
                &digest_plan,
                &action,
                event,
                changed,
                &detail,
            ))?;
            Ok::<_, JournalError>(Some((
                index,
                Outcome {
                    action_id: action.id.clone(),
                    event,
                    detail,
                },
            )))
        });
    }
    let mut ran = Vec::new();
    let mut not_started = 0;
    while let Some(joined) = tasks.join_next().await {
        let result =
            joined.map_err(|e| CollectError::Other(format!("an apply task failed: {e}")))?;
        match result? {
            Some(done) => ran.push(done),
            None => not_started += 1,
        }
    }
    ran.sort_by_key(|(i, _)| *i);
    outcomes.extend(ran.into_iter().map(|(_, o)| o));
    let order: std::collections::HashMap<&str, usize> = plan
        .actions
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.as_str(), i))
        .collect();
    outcomes.sort_by_key(|o| order.get(o.action_id.as_str()).copied());

    // The SCP guardrail: only with an explicit target, in the management account.
    let stopping = stop.load(std::sync::atomic::Ordering::SeqCst);
    if let (Some(scp), Some(target), false) = (&plan.scp_guardrail, scp_target, stopping) {
        if last.get(SCP_ACTION_ID) != Some(&Event::Done) {
            let orgs = clients::organizations(&base, &calls);
            let mut started = Record::new(Event::Started, &plan.digest);
            started.action_id = Some(SCP_ACTION_ID.into());
            started.action = Some(ActionKind::AttachScp);
            started.target_id = Some(target.to_string());
            journal
                .lock()
                .expect("journal lock")
                .append(started.clone())?;
            let mut end = started;
            end.at = Utc::now();
            let outcome = match attach_scp(&orgs, scp, target).await {
                Ok((policy_id, changed)) => {
                    end.event = Event::Done;
                    end.changed = Some(changed);
                    end.policy_id = Some(policy_id.clone());
                    let verb = if changed {
                        "attached"
                    } else {
                        "was already attached"
                    };
                    let detail = format!("SCP {} ({policy_id}) {verb} to {target}", scp.name);
                    Outcome {
                        action_id: SCP_ACTION_ID.into(),
                        event: Event::Done,
                        detail,
                    }
                }
                Err(e) => {
                    end.event = Event::Failed;
                    Outcome {
                        action_id: SCP_ACTION_ID.into(),
                        event: Event::Failed,
                        detail: e.to_string(),
                    }
                }
            };
            end.detail = Some(outcome.detail.clone());
            journal.lock().expect("journal lock").append(end)?;
            outcomes.push(outcome);
        }
    }
    Ok(ApplySummary {
        outcomes,
        already,
        not_started,
    })
}

/// Create the guardrail SCP (or find it by name) and attach it to `target`.
async fn attach_scp(
    orgs: &aws_sdk_organizations::Client,
    scp: &ScpGuardrail,
    target: &str,
) -> Result<(String, bool), CollectError> {
    use aws_sdk_organizations::types::PolicyType;
    let mut existing = None;
    let mut pages = orgs
        .list_policies()
        .filter(PolicyType::ServiceControlPolicy)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| CollectError::aws("organizations:ListPolicies", e))?;
        if let Some(p) = page
            .policies()
            .iter()
            .find(|p| p.name() == Some(scp.name.as_str()))
        {
            existing = p.id().map(str::to_string);
        }
    }
    let policy_id = match existing {
        Some(id) => id,
        None => orgs
            .create_policy()
            .name(&scp.name)
            .description(&scp.description)
            .r#type(PolicyType::ServiceControlPolicy)
            .content(scp.document.to_string())
            .send()
            .await
            .map_err(|e| CollectError::aws("organizations:CreatePolicy", e))?
            .policy()
            .and_then(|p| p.policy_summary())
            .and_then(|s| s.id())
            .unwrap_or_default()
            .to_string(),
    };
    let targets = orgs
        .list_targets_for_policy()
        .policy_id(&policy_id)
        .send()
        .await
        .map_err(|e| CollectError::aws("organizations:ListTargetsForPolicy", e))?;
    if targets
        .targets()
        .iter()
        .any(|t| t.target_id() == Some(target))
    {
        return Ok((policy_id, false));
    }
    orgs.attach_policy()
        .policy_id(&policy_id)
        .target_id(target)
        .send()
        .await
        .map_err(|e| CollectError::aws("organizations:AttachPolicy", e))?;
    Ok((policy_id, true))
}

enum Step {
    Done { changed: bool, detail: String },
    Skipped(String),
}

/// Re-check the live state, then act.
async fn run(
    iam: &aws_sdk_iam::Client,
    action: &Action,
    config: &Config,
    resumed: bool,
) -> Result<Step, CollectError> {
    let user = action.user_name.as_str();
    if config
        .break_glass
        .users
        .iter()
        .any(|u| u == user || u.ends_with(&format!("/{user}")))
    {
        return Ok(Step::Skipped(format!(
            "{user} is a break-glass user (config); credwarden never acts on one"
        )));
    }
    let tags = match iam.list_user_tags().user_name(user).send().await {
        Ok(out) => out
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()) =>
        {
            return Ok(Step::Skipped(format!("user {user} no longer exists")));
        }
        Err(e) => return Err(CollectError::aws("iam:ListUserTags", e)),
    };
    if tags_say_break_glass(&tags, config) {
        return Ok(Step::Skipped(format!(
            "{user} is tagged break-glass; credwarden never acts on one"
        )));
    }
    match action.action {
        ActionKind::DeactivateAccessKey | ActionKind::DeleteAccessKey => {
            key_action(iam, action, resumed).await
        }
        ActionKind::DeleteLoginProfile => login_profile_action(iam, action).await,
        ActionKind::AttachScp => Ok(Step::Skipped("an SCP is not a user action".into())),
    }
}

async fn key_action(
    iam: &aws_sdk_iam::Client,
    action: &Action,
    resumed: bool,
) -> Result<Step, CollectError> {
    let user = action.user_name.as_str();
    let key_id = action.access_key_id.clone().unwrap_or_default();
    let listed = iam
        .list_access_keys()
        .user_name(user)
        .send()
        .await
        .map_err(|e| CollectError::aws("iam:ListAccessKeys", e))?;
    let Some(key) = listed
        .access_key_metadata()
        .iter()
        .find(|k| k.access_key_id() == Some(key_id.as_str()))
    else {
        if resumed && action.action == ActionKind::DeleteAccessKey {
            let detail =
                format!("access key {key_id} of {user} was deleted by the interrupted run");
            return Ok(Step::Done {
                changed: true,
                detail,
            });
        }
        return Ok(Step::Skipped(format!(
            "access key {key_id} of {user} no longer exists"
        )));
    };
    let active = key.status() == Some(&StatusType::Active);
    let used = iam
        .get_access_key_last_used()
        .access_key_id(&key_id)
        .send()
        .await
        .map_err(|e| CollectError::aws("iam:GetAccessKeyLastUsed", e))?;
    let last_used = used
        .access_key_last_used()
        .and_then(|u| u.last_used_date())
        .map(crate::collect::to_chrono);
    if let Some(now_used) = used_since(last_used, action.preconditions.key_last_used_at) {
        return Ok(Step::Skipped(format!(
            "access key {key_id} was used since the plan ({now_used}); it is in use"
        )));
    }
    match action.action {
        ActionKind::DeactivateAccessKey if !active => Ok(Step::Done {
            changed: resumed,
            detail: if resumed {
                format!("access key {key_id} of {user} was deactivated by the interrupted run")
            } else {
                format!("access key {key_id} was already inactive")
            },
        }),
        ActionKind::DeactivateAccessKey => {
            iam.update_access_key()
                .user_name(user)
                .access_key_id(&key_id)
                .status(StatusType::Inactive)
                .send()
                .await
                .map_err(|e| CollectError::aws("iam:UpdateAccessKey", e))?;
            Ok(Step::Done {
                changed: true,
                detail: format!("deactivated access key {key_id} of {user}"),
            })
        }
        ActionKind::DeleteAccessKey if active => Ok(Step::Skipped(format!(
            "access key {key_id} is active again; deactivate before delete (make a new plan)"
        ))),
        _ => {
            iam.delete_access_key()
                .user_name(user)
                .access_key_id(&key_id)
                .send()
                .await
                .map_err(|e| CollectError::aws("iam:DeleteAccessKey", e))?;
            Ok(Step::Done {
                changed: true,
                detail: format!("deleted inactive access key {key_id} of {user}"),
            })
        }
    }
}

async fn login_profile_action(
    iam: &aws_sdk_iam::Client,
    action: &Action,
) -> Result<Step, CollectError> {
    let user = action.user_name.as_str();
    let got = iam
        .get_user()
        .user_name(user)
        .send()
        .await
        .map_err(|e| CollectError::aws("iam:GetUser", e))?;
    let last_used = got
        .user()
        .and_then(|u| u.password_last_used())
        .map(crate::collect::to_chrono);
    if let Some(now_used) = used_since(last_used, action.preconditions.password_last_used) {
        return Ok(Step::Skipped(format!(
            "{user} signed in since the plan ({now_used})"
        )));
    }
    match iam.delete_login_profile().user_name(user).send().await {
        Ok(_) => Ok(Step::Done {
            changed: true,
            detail: format!("deleted the console password of {user}"),
        }),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()) =>
        {
            Ok(Step::Skipped(format!(
                "{user} has no console password any more"
            )))
        }
        Err(e) => Err(CollectError::aws("iam:DeleteLoginProfile", e)),
    }
}

/// The live last use, when it is later than the one the plan observed (or the plan saw none):
/// the credential is in use, and the action's precondition no longer holds.
fn used_since(
    live: Option<DateTime<Utc>>,
    planned: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    live.filter(|now_used| planned.is_none_or(|then| *now_used > then))
}

struct PlanRef<'a> {
    digest: &'a str,
}

fn record(
    plan: &Plan,
    action: &Action,
    event: Event,
    changed: Option<bool>,
    detail: &str,
) -> Record {
    record_with(
        &PlanRef {
            digest: &plan.digest,
        },
        action,
        event,
        changed,
        detail,
    )
}

fn record_with(
    plan: &PlanRef,
    action: &Action,
    event: Event,
    changed: Option<bool>,
    detail: &str,
) -> Record {
    Record {
        event,
        at: Utc::now(),
        plan_digest: plan.digest.to_string(),
        action_id: Some(action.id.clone()),
        action: Some(action.action),
        account_id: Some(action.account_id.clone()),
        user_name: Some(action.user_name.clone()),
        access_key_id: action.access_key_id.clone(),
        policy_id: None,
        target_id: None,
        changed,
        detail: (!detail.is_empty()).then(|| detail.to_string()),
    }
}

/// Undo: reactivate every key the journal says credwarden deactivated (and has not undone).
/// Deletions cannot be undone; they are listed.
pub async fn undo(journal: Journal, opts: &CollectOptions) -> Result<ApplySummary, ApplyError> {
    let last = journal.last_events();
    let to_restore: Vec<Record> = last
        .values()
        // Done by apply, or an undo that failed before (it carries the apply's `changed`).
        .filter(|r| matches!(r.event, Event::Done | Event::Failed) && r.changed == Some(true))
        .map(|r| (*r).clone())
        .collect();
    let digest = journal.digest().to_string();
    let journal = Arc::new(Mutex::new(journal));
    let calls = ApiCalls::default();
    let base = clients::load_config(opts).await;
    let clients::Caller {
        account_id: caller_account,
        partition,
    } = clients::caller(&base, &calls).await?;
    let mut configs: std::collections::HashMap<String, SdkConfig> =
        std::collections::HashMap::new();
    let mut outcomes = Vec::new();
    for r in to_restore {
        let id = r.action_id.clone().unwrap_or_default();
        if r.action == Some(ActionKind::AttachScp) {
            let (policy, target) = (
                r.policy_id.clone().unwrap_or_default(),
                r.target_id.clone().unwrap_or_default(),
            );
            let result = clients::organizations(&base, &calls)
                .detach_policy()
                .policy_id(&policy)
                .target_id(&target)
                .send()
                .await;
            let (event, detail) = match result {
                Ok(_) => (
                    Event::Undone,
                    format!("detached SCP {policy} from {target} (the policy itself is kept)"),
                ),
                Err(e) => (
                    Event::Failed,
                    CollectError::aws("organizations:DetachPolicy", e).to_string(),
                ),
            };
            let mut rec = r.clone();
            rec.event = event;
            rec.at = Utc::now();
            rec.detail = Some(detail.clone());
            journal.lock().expect("journal lock").append(rec)?;
            outcomes.push(Outcome {
                action_id: id,
                event,
                detail,
            });
            continue;
        }
        if r.action != Some(ActionKind::DeactivateAccessKey) {
            outcomes.push(Outcome {
                action_id: id,
                event: Event::Skipped,
                detail: format!(
                    "{} cannot be undone: {}",
                    r.action.map_or("?", |a| a.as_str()),
                    r.detail.clone().unwrap_or_default()
                ),
            });
            continue;
        }
        let account = r.account_id.clone().unwrap_or_default();
        if !configs.contains_key(&account) {
            let config = if account == caller_account {
                base.clone()
            } else {
                clients::assume_role(&base, &calls, &partition, &account, opts).await?
            };
            configs.insert(account.clone(), config);
        }
        let iam = clients::iam(&configs[&account], &calls);
        let key_id = r.access_key_id.clone().unwrap_or_default();
        let user = r.user_name.clone().unwrap_or_default();
        let (event, detail) = match iam
            .update_access_key()
            .user_name(&user)
            .access_key_id(&key_id)
            .status(StatusType::Active)
            .send()
            .await
        {
            Ok(_) => (
                Event::Undone,
                format!("reactivated access key {key_id} of {user}"),
            ),
            Err(e) => (
                Event::Failed,
                CollectError::aws("iam:UpdateAccessKey", e).to_string(),
            ),
        };
        let mut rec = r.clone();
        rec.event = event;
        rec.at = Utc::now();
        rec.plan_digest = digest.clone();
        rec.detail = Some(detail.clone());
        journal.lock().expect("journal lock").append(rec)?;
        outcomes.push(Outcome {
            action_id: id,
            event,
            detail,
        });
    }
    Ok(ApplySummary {
        outcomes,
        already: 0,
        not_started: 0,
    })
}
