//! SDK configuration: the standard credential chain, retries, and the API-call counter.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use super::{CollectError, CollectOptions};

/// Counts of API operations (one per call) and attempts (one per HTTP request, retries
/// included), keyed `service:Operation` as in IAM policies.
#[derive(Debug, Clone, Default)]
pub struct ApiCalls(Arc<Mutex<Counts>>);

#[derive(Debug, Default)]
struct Counts {
    operations: BTreeMap<String, u64>,
    attempts: BTreeMap<String, u64>,
}

impl ApiCalls {
    fn bump(&self, cfg: &ConfigBag, attempt: bool) {
        let Some(meta) = cfg.load::<Metadata>() else {
            return;
        };
        let key = format!("{}:{}", service_prefix(meta.service()), meta.name());
        let mut counts = self.0.lock().expect("counter lock");
        let map = if attempt {
            &mut counts.attempts
        } else {
            &mut counts.operations
        };
        *map.entry(key).or_insert(0) += 1;
    }

    pub fn operations(&self) -> BTreeMap<String, u64> {
        self.0.lock().expect("counter lock").operations.clone()
    }

    pub fn operations_json(&self) -> serde_json::Value {
        serde_json::json!(self.operations())
    }

    pub fn attempts_json(&self) -> serde_json::Value {
        serde_json::json!(self.0.lock().expect("counter lock").attempts)
    }
}

/// The SDK names services `IAM`, `Organizations`, `STS`; IAM policies say `iam`, `organizations`, `sts`.
fn service_prefix(service: &str) -> String {
    service.to_ascii_lowercase()
}

impl Intercept for ApiCalls {
    fn name(&self) -> &'static str {
        "credwarden::ApiCalls"
    }

    // Once per call; the operation's metadata is in the bag from serialization on.
    fn read_before_serialization(
        &self,
        _: &BeforeSerializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.bump(cfg, false);
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.bump(cfg, true);
        Ok(())
    }
}

/// Adaptive retries (backoff, and a client-side rate limit that slows the client down after
/// throttling), unless `mode` (`AWS_RETRY_MODE`, as the AWS CLI and SDKs read it) asks for
/// `standard` or `legacy` ones: backoff only.
fn retry_mode(mode: Option<&str>) -> RetryConfig {
    match mode.map(str::trim) {
        Some("standard" | "legacy") => RetryConfig::standard(),
        _ => RetryConfig::adaptive(),
    }
}

/// The standard credential chain (env, profiles, SSO, IMDS), `--profile`, `--region`, and
/// `AWS_ENDPOINT_URL`; adaptive retries with backoff for throttling and transient errors.
pub async fn load_config(opts: &CollectOptions) -> SdkConfig {
    let mode = std::env::var("AWS_RETRY_MODE").ok();
    let retry = retry_mode(mode.as_deref()).with_max_attempts(opts.max_attempts.max(1));
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(retry);
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &opts.region {
        loader = loader.region(Region::new(region.clone()));
    }
    let config = loader.load().await;
    if config.region().is_none() {
        // IAM, STS and Organizations are global; any region signs them.
        return config
            .into_builder()
            .region(Region::from_static("us-east-1"))
            .build();
    }
    config
}

pub fn iam(config: &SdkConfig, calls: &ApiCalls) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::config::Builder::from(config)
            .interceptor(calls.clone())
            .build(),
    )
}

pub fn organizations(config: &SdkConfig, calls: &ApiCalls) -> aws_sdk_organizations::Client {
    aws_sdk_organizations::Client::from_conf(
        aws_sdk_organizations::config::Builder::from(config)
            .interceptor(calls.clone())
            .build(),
    )
}

pub fn sts(config: &SdkConfig, calls: &ApiCalls) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(config)
            .interceptor(calls.clone())
            .build(),
    )
}

/// Who the credentials are: their account, and the partition (`aws`, `aws-us-gov`, `aws-cn`)
/// that member-account roles live in.
pub struct Caller {
    pub account_id: String,
    pub partition: String,
}

pub async fn caller(config: &SdkConfig, calls: &ApiCalls) -> Result<Caller, CollectError> {
    let out = sts(config, calls)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| CollectError::aws("sts:GetCallerIdentity", e))?;
    Ok(Caller {
        account_id: out.account().unwrap_or_default().to_string(),
        partition: out
            .arn()
            .and_then(|a| a.split(':').nth(1))
            .unwrap_or("aws")
            .to_string(),
    })
}

/// Credentials for a member account: `sts:AssumeRole` into `role_name` there. Called once per
/// account, so a refused role is that account's recorded error, not a lazy failure later.
pub async fn assume_role(
    base: &SdkConfig,
    calls: &ApiCalls,
    partition: &str,
    account_id: &str,
    opts: &CollectOptions,
) -> Result<SdkConfig, CollectError> {
    let role_arn = format!("arn:{partition}:iam::{account_id}:role/{}", opts.role_name);
    let mut request = sts(base, calls)
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("credwarden")
        .duration_seconds(3600);
    if let Some(id) = &opts.external_id {
        request = request.external_id(id);
    }
    let out = request
        .send()
        .await
        .map_err(|e| CollectError::aws("sts:AssumeRole", e))?;
    let creds = out.credentials().ok_or_else(|| {
        CollectError::Other(format!(
            "sts:AssumeRole into {role_arn} returned no credentials"
        ))
    })?;
    let expiry = std::time::SystemTime::try_from(*creds.expiration()).ok();
    let provider = aws_credential_types::Credentials::new(
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(creds.session_token().to_string()),
        expiry,
        "credwarden-assume-role",
    );
    Ok(base
        .clone()
        .into_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(provider),
        )
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_config::retry::RetryMode;

    #[test]
    fn retries_are_adaptive_unless_aws_retry_mode_says_standard() {
        assert_eq!(retry_mode(None).mode(), RetryMode::Adaptive);
        assert_eq!(retry_mode(Some("adaptive")).mode(), RetryMode::Adaptive);
        assert_eq!(retry_mode(Some("standard")).mode(), RetryMode::Standard);
        assert_eq!(retry_mode(Some(" legacy ")).mode(), RetryMode::Standard);
        assert_eq!(retry_mode(Some("bogus")).mode(), RetryMode::Adaptive);
    }
}
