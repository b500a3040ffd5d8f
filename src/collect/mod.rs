//! Stage 1 of the pipeline: collect a snapshot from live AWS, through the official SDK.
//!
//! One account, or every active account of an AWS Organization (`--org`, by assume-role). The
//! collector is built for economy of API calls, because IAM throttles and users wait: the
//! credential report carries passwords, MFA and every key slot's last use for all users in one
//! download, and `GetAccountAuthorizationDetails` carries users with paths, ids and tags in pages.
//! Only what nothing bulk provides is asked per user: `ListAccessKeys` (key ids), for users whose
//! report shows a key. Every call is counted by operation and the counts go into the snapshot.
//!
//! An account that cannot be collected is recorded in the snapshot with its error — never
//! dropped — and the others still complete.

mod account;
pub(crate) mod clients;
mod organization;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

pub(crate) use account::to_chrono;
pub use clients::ApiCalls;

use crate::snapshot::{Account, CollectionError, Generator, Snapshot, SCHEMA_VERSION};

/// Receives progress events (for a progress display).
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// How to collect.
#[derive(Clone)]
pub struct CollectOptions {
    /// A named profile of the shared config files.
    pub profile: Option<String>,
    pub region: Option<String>,
    /// Collect every active account of the Organization by assuming `role_name` in it.
    pub org: bool,
    pub role_name: String,
    pub external_id: Option<String>,
    /// Accounts collected at once.
    pub concurrency: usize,
    /// Regenerate the credential report when it is older than this.
    pub report_max_age: Duration,
    /// Give up waiting for a credential report after this long.
    pub report_timeout: Duration,
    /// Attempts per API call (throttling and transient errors are retried with backoff).
    pub max_attempts: u32,
    /// Called as accounts progress, for progress display.
    pub progress: Option<ProgressFn>,
}

impl Default for CollectOptions {
    fn default() -> Self {
        Self {
            profile: None,
            region: None,
            org: false,
            role_name: "OrganizationAccountAccessRole".into(),
            external_id: None,
            concurrency: 4,
            report_max_age: Duration::from_secs(4 * 3600),
            report_timeout: Duration::from_secs(300),
            max_attempts: 10,
            progress: None,
        }
    }
}

/// A progress event.
#[derive(Debug, Clone)]
pub enum Progress {
    /// The accounts to collect are known.
    Accounts(usize),
    /// An account entered a phase (`report`, `users`, `keys`, …).
    Phase {
        account_id: String,
        phase: &'static str,
    },
    /// An account is done (collected, or recorded as failed).
    Done { account_id: String, failed: bool },
}

/// Why collection failed as a whole (a single account's failure is recorded instead).
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("AWS {operation} failed: {message}")]
    Aws {
        operation: &'static str,
        code: Option<String>,
        message: String,
    },
    #[error("{0}")]
    Other(String),
}

impl CollectError {
    pub(crate) fn aws<E>(
        operation: &'static str,
        err: aws_sdk_iam::error::SdkError<E>,
    ) -> CollectError
    where
        E: aws_sdk_iam::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let code = aws_sdk_iam::error::ProvideErrorMetadata::code(&err).map(str::to_string);
        let message = match (
            &code,
            aws_sdk_iam::error::ProvideErrorMetadata::message(&err),
        ) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            _ => aws_sdk_iam::error::DisplayErrorContext(&err).to_string(),
        };
        CollectError::Aws {
            operation,
            code,
            message,
        }
    }

    fn code(&self) -> String {
        match self {
            CollectError::Aws { code: Some(c), .. } => c.clone(),
            CollectError::Aws { operation, .. } => format!("{operation}Failed"),
            CollectError::Other(_) => "CollectionFailed".into(),
        }
    }

    fn to_record(&self) -> CollectionError {
        CollectionError {
            code: self.code(),
            message: self.to_string(),
        }
    }
}

/// Collect a snapshot.
pub async fn collect(opts: &CollectOptions) -> Result<Snapshot, CollectError> {
    let calls = ApiCalls::default();
    let base = clients::load_config(opts).await;
    let clients::Caller {
        account_id: caller_account,
        partition,
    } = clients::caller(&base, &calls).await?;
    let partition: Arc<str> = partition.into();

    let (organization, organization_error) = organization::collect(&base, &calls).await?;
    let targets: Vec<String> = match (&organization, opts.org) {
        (Some(org), true) => org
            .accounts
            .iter()
            .filter(|a| a.status == "ACTIVE")
            .map(|a| a.id.clone())
            .collect(),
        (None, true) => {
            let why = organization_error
                .as_ref()
                .map_or("unknown".to_string(), |e| e.message.clone());
            return Err(CollectError::Other(format!(
                "--org needs the Organization, which could not be read: {why}"
            )));
        }
        (_, false) => vec![caller_account.clone()],
    };
    if let Some(p) = &opts.progress {
        p(Progress::Accounts(targets.len()));
    }

    let semaphore = Arc::new(tokio::sync::Semaphore::new(opts.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, account_id) in targets.iter().cloned().enumerate() {
        let (base, calls, opts, caller_account, semaphore, partition) = (
            base.clone(),
            calls.clone(),
            opts.clone(),
            caller_account.clone(),
            semaphore.clone(),
            partition.clone(),
        );
        tasks.spawn(async move {
            let _permit = semaphore
                .acquire_owned()
                .await
                .expect("semaphore is never closed");
            let result = async {
                let config = if account_id == caller_account {
                    base.clone()
                } else {
                    clients::assume_role(&base, &calls, &partition, &account_id, &opts).await?
                };
                account::collect(&config, &calls, &account_id, &opts).await
            }
            .await;
            let account = result.unwrap_or_else(|e| failed_account(&account_id, &e));
            if let Some(p) = &opts.progress {
                p(Progress::Done {
                    account_id: account_id.clone(),
                    failed: account.error.is_some(),
                });
            }
            (index, account)
        });
    }
    let mut accounts: Vec<(usize, Account)> = Vec::with_capacity(targets.len());
    while let Some(joined) = tasks.join_next().await {
        accounts.push(
            joined.map_err(|e| CollectError::Other(format!("a collection task failed: {e}")))?,
        );
    }
    accounts.sort_by_key(|(i, _)| *i);
    // A single-account collection that failed has nothing to write: that is the run's error.
    if !opts.org {
        if let Some(err) = accounts.iter().find_map(|(_, a)| a.error.as_ref()) {
            return Err(CollectError::Other(err.message.clone()));
        }
    }

    let mut metadata = BTreeMap::new();
    metadata.insert("api_calls".to_string(), calls.operations_json());
    metadata.insert("api_attempts".to_string(), calls.attempts_json());
    metadata.insert(
        "caller_account_id".to_string(),
        serde_json::json!(caller_account),
    );
    Ok(Snapshot {
        schema: SCHEMA_VERSION.into(),
        generator: Generator {
            tool: "credwarden".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        collected_at: Utc::now(),
        source: "aws".into(),
        organization,
        organization_error,
        accounts: accounts.into_iter().map(|(_, a)| a).collect(),
        metadata,
    })
}

fn failed_account(account_id: &str, err: &CollectError) -> Account {
    Account {
        account_id: account_id.to_string(),
        alias: None,
        credential_report: None,
        root: None,
        users: Vec::new(),
        error: Some(err.to_record()),
    }
}
