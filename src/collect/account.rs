//! Collecting one account: credential report, users, access keys, root user.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use aws_config::SdkConfig;
use aws_sdk_iam::types::{EntityType, ReportStateType, StatusType, SummaryKeyType};
use chrono::{DateTime, Utc};

use super::clients::{self, ApiCalls};
use super::{CollectError, CollectOptions, Progress};
use crate::snapshot::credential_report::parse_credential_report;
use crate::snapshot::{AccessKey, Account, CredentialReportInfo, KeyStatus, Password, User};

/// Per-user calls in flight at once within an account.
const USER_CONCURRENCY: usize = 8;

pub async fn collect(
    config: &SdkConfig,
    calls: &ApiCalls,
    account_id: &str,
    opts: &CollectOptions,
) -> Result<Account, CollectError> {
    let iam = clients::iam(config, calls);
    let phase = |phase: &'static str| {
        if let Some(p) = &opts.progress {
            p(Progress::Phase {
                account_id: account_id.to_string(),
                phase,
            });
        }
    };

    phase("alias");
    let aliases = iam
        .list_account_aliases()
        .send()
        .await
        .map_err(|e| CollectError::aws("iam:ListAccountAliases", e))?;
    let alias = aliases.account_aliases().first().cloned();

    phase("credential report");
    let (content, generated_at) = credential_report(&iam, opts).await?;
    let origin = format!("the credential report of account {account_id}");
    let (report, _) = parse_credential_report(&content, &origin, Some(generated_at), generated_at)
        .map_err(|e| CollectError::Other(e.to_string()))?;
    let report_account = report.accounts.into_iter().next();
    let mut root = report_account.as_ref().and_then(|a| a.root.clone());
    let report_users: HashMap<String, User> = report_account
        .map(|a| a.users.into_iter().map(|u| (u.arn.clone(), u)).collect())
        .unwrap_or_default();

    phase("account summary");
    let summary = iam
        .get_account_summary()
        .send()
        .await
        .map_err(|e| CollectError::aws("iam:GetAccountSummary", e))?;
    if let (Some(root), Some(map)) = (root.as_mut(), summary.summary_map()) {
        root.account_access_keys_present = map
            .get(&SummaryKeyType::AccountAccessKeysPresent)
            .map(|v| *v > 0);
        root.account_mfa_enabled = map.get(&SummaryKeyType::AccountMfaEnabled).map(|v| *v > 0);
    }

    phase("users");
    let details = list_users(&iam).await?;

    phase("access keys");
    let iam = Arc::new(iam);
    let semaphore = Arc::new(tokio::sync::Semaphore::new(USER_CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, detail) in details.into_iter().enumerate() {
        let from_report = report_users.get(&detail.arn).cloned();
        let (iam, semaphore) = (iam.clone(), semaphore.clone());
        tasks.spawn(async move {
            let _permit = semaphore
                .acquire_owned()
                .await
                .expect("semaphore is never closed");
            complete_user(&iam, detail, from_report)
                .await
                .map(|u| (index, u))
        });
    }
    let mut users = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        users.push(
            joined.map_err(|e| CollectError::Other(format!("a collection task failed: {e}")))??,
        );
    }
    users.sort_by_key(|(i, _)| *i);

    Ok(Account {
        account_id: account_id.to_string(),
        alias,
        credential_report: Some(CredentialReportInfo {
            generated_at: Some(generated_at),
        }),
        root,
        users: users.into_iter().map(|(_, u)| u).collect(),
        error: None,
    })
}

/// The credential report: the existing one when fresh enough, else generate it and poll with
/// backoff until it is ready — never longer than `report_timeout`.
async fn credential_report(
    iam: &aws_sdk_iam::Client,
    opts: &CollectOptions,
) -> Result<(Vec<u8>, DateTime<Utc>), CollectError> {
    if let Some(found) = fetch_report(iam).await? {
        let age = Utc::now() - found.1;
        if age.to_std().map_or(true, |a| a <= opts.report_max_age) {
            return Ok(found);
        }
    }
    let start = Instant::now();
    let mut delay = std::time::Duration::from_millis(200);
    loop {
        let out = iam
            .generate_credential_report()
            .send()
            .await
            .map_err(|e| CollectError::aws("iam:GenerateCredentialReport", e))?;
        if out.state() == Some(&ReportStateType::Complete) {
            if let Some(found) = fetch_report(iam).await? {
                return Ok(found);
            }
        }
        tracing::debug!(
            "credential report not ready yet ({:?}); polling again in {delay:?}",
            out.state()
        );
        if start.elapsed() + delay > opts.report_timeout {
            return Err(CollectError::Other(format!(
                "the credential report was not ready after {} s; try again later or raise --report-timeout",
                opts.report_timeout.as_secs()
            )));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(std::time::Duration::from_secs(5));
    }
}

/// `GetCredentialReport`: `None` when there is none, it expired, or it is still being made.
async fn fetch_report(
    iam: &aws_sdk_iam::Client,
) -> Result<Option<(Vec<u8>, DateTime<Utc>)>, CollectError> {
    match iam.get_credential_report().send().await {
        Ok(out) => {
            let content = out
                .content()
                .map(|b| b.as_ref().to_vec())
                .unwrap_or_default();
            let generated = out.generated_time().map(to_chrono).unwrap_or_else(Utc::now);
            Ok(Some((content, generated)))
        }
        Err(e) => {
            let absent = e.as_service_error().is_some_and(|s| {
                s.is_credential_report_not_present_exception()
                    || s.is_credential_report_expired_exception()
                    || s.is_credential_report_not_ready_exception()
            });
            if absent {
                Ok(None)
            } else {
                Err(CollectError::aws("iam:GetCredentialReport", e))
            }
        }
    }
}

/// A user as `GetAccountAuthorizationDetails` lists it.
struct UserDetail {
    user_name: String,
    user_id: Option<String>,
    arn: String,
    path: String,
    created_at: DateTime<Utc>,
    tags: crate::snapshot::Tags,
}

/// Every IAM user with path, id and tags: `GetAccountAuthorizationDetails` pages (bulk).
async fn list_users(iam: &aws_sdk_iam::Client) -> Result<Vec<UserDetail>, CollectError> {
    let mut pages = iam
        .get_account_authorization_details()
        .filter(EntityType::User)
        .max_items(1000)
        .into_paginator()
        .send();
    let mut users = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| CollectError::aws("iam:GetAccountAuthorizationDetails", e))?;
        for u in page.user_detail_list() {
            users.push(UserDetail {
                user_name: u.user_name().unwrap_or_default().to_string(),
                user_id: u.user_id().map(str::to_string),
                arn: u.arn().unwrap_or_default().to_string(),
                path: u.path().unwrap_or("/").to_string(),
                created_at: u.create_date().map(to_chrono).unwrap_or_else(Utc::now),
                tags: u
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect(),
            });
        }
    }
    Ok(users)
}

/// Join a user's listing with its credential report row; ask per user only what the report
/// cannot tell: the key ids (`ListAccessKeys`), and for a user newer than the report, its login
/// profile, MFA devices and keys' last use.
async fn complete_user(
    iam: &aws_sdk_iam::Client,
    detail: UserDetail,
    row: Option<User>,
) -> Result<User, CollectError> {
    let report_keys = row
        .as_ref()
        .map(|r| r.access_keys.clone())
        .unwrap_or_default();
    let needs_keys = row.is_none() || !report_keys.is_empty();
    let mut access_keys = Vec::new();
    if needs_keys {
        let listed = iam
            .list_access_keys()
            .user_name(&detail.user_name)
            .send()
            .await
            .map_err(|e| CollectError::aws("iam:ListAccessKeys", e))?;
        let mut metadata: Vec<_> = listed.access_key_metadata().to_vec();
        metadata.sort_by_key(|k| k.create_date().map(|d| d.secs()));
        for key in metadata {
            let id = key.access_key_id().unwrap_or_default().to_string();
            let created_at = key
                .create_date()
                .map(to_chrono)
                .unwrap_or(detail.created_at);
            let status = if key.status() == Some(&StatusType::Active) {
                KeyStatus::Active
            } else {
                KeyStatus::Inactive
            };
            // The report's slot for this key: the one created at the same second.
            let slot = report_keys
                .iter()
                .find(|k| (k.created_at - created_at).num_seconds().abs() <= 1);
            let mut access_key = AccessKey {
                access_key_id: Some(id.clone()),
                slot: slot.and_then(|s| s.slot),
                status,
                created_at,
                last_used_at: slot.and_then(|s| s.last_used_at),
                last_used_service: slot.and_then(|s| s.last_used_service.clone()),
                last_used_region: slot.and_then(|s| s.last_used_region.clone()),
            };
            if slot.is_none() {
                last_used(iam, &mut access_key).await?;
            }
            access_keys.push(access_key);
        }
    }
    let (password, mfa_active) = match &row {
        Some(r) => (r.password.clone(), r.mfa_active),
        None => (
            login_profile(iam, &detail.user_name).await?,
            mfa_devices(iam, &detail.user_name).await?,
        ),
    };
    Ok(User {
        user_name: detail.user_name,
        user_id: detail.user_id,
        arn: detail.arn,
        path: detail.path,
        created_at: detail.created_at,
        tags: detail.tags,
        password,
        mfa_active,
        access_keys,
    })
}

async fn last_used(iam: &aws_sdk_iam::Client, key: &mut AccessKey) -> Result<(), CollectError> {
    let id = key.access_key_id.clone().unwrap_or_default();
    let out = iam
        .get_access_key_last_used()
        .access_key_id(id)
        .send()
        .await
        .map_err(|e| CollectError::aws("iam:GetAccessKeyLastUsed", e))?;
    if let Some(used) = out.access_key_last_used() {
        key.last_used_at = used.last_used_date().map(to_chrono);
        key.last_used_service = Some(used.service_name().to_string()).filter(|s| s != "N/A");
        key.last_used_region = Some(used.region().to_string()).filter(|s| s != "N/A");
    }
    Ok(())
}

async fn login_profile(iam: &aws_sdk_iam::Client, user: &str) -> Result<Password, CollectError> {
    match iam.get_login_profile().user_name(user).send().await {
        Ok(out) => Ok(Password {
            enabled: true,
            last_used: None,
            last_changed: out.login_profile().map(|p| to_chrono(p.create_date())),
        }),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()) =>
        {
            Ok(Password::default())
        }
        Err(e) => Err(CollectError::aws("iam:GetLoginProfile", e)),
    }
}

async fn mfa_devices(iam: &aws_sdk_iam::Client, user: &str) -> Result<bool, CollectError> {
    let out = iam
        .list_mfa_devices()
        .user_name(user)
        .send()
        .await
        .map_err(|e| CollectError::aws("iam:ListMFADevices", e))?;
    Ok(!out.mfa_devices().is_empty())
}

pub(crate) fn to_chrono(t: &aws_smithy_types::DateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos()).unwrap_or_default()
}
