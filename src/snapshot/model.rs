//! The snapshot document, format v1.
//!
//! A snapshot is everything the policies look at, captured once: the accounts, their IAM users
//! with passwords, MFA and access keys, the root user, the credential report's age, and the
//! AWS Organization with its Service Control Policies. It is the `input` document of every Rego
//! policy, so its field names are a public contract: `docs/schema/snapshot-v1.schema.json`
//! describes it and `docs/writing-policies.md` explains it.
//!
//! Optional data is `null` (or absent), never guessed: a credential report does not tell a key's
//! id, so `access_key_id` is `null` there and policies must cope.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::exact::Exact;

/// The format version this build writes. Readers accept any `1.x`.
pub const SCHEMA_VERSION: &str = "1.0";

/// The major format version this build understands.
pub const SCHEMA_MAJOR: u64 = 1;

/// Timestamps are RFC 3339 in UTC, e.g. `2026-11-21T09:30:00Z`.
pub type Timestamp = DateTime<Utc>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// Format version, `"1.0"`. An unknown major version is refused.
    pub schema: String,
    /// What wrote the snapshot.
    #[serde(default)]
    pub generator: Generator,
    /// When the collection finished.
    #[serde(
        deserialize_with = "super::timestamp::deserialize",
        serialize_with = "super::timestamp::serialize"
    )]
    pub collected_at: Timestamp,
    /// Where the data came from: `aws`, `credential-report` or `synthetic`.
    #[serde(default = "default_source")]
    pub source: String,
    /// The AWS Organization, when the collector could read it.
    #[serde(default)]
    pub organization: Option<Organization>,
    /// Why there is no organization data (not a member, access denied), when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_error: Option<CollectionError>,
    /// Every account collected (one for a single-account scan).
    pub accounts: Vec<Account>,
    /// Collector statistics such as API calls by operation; free-form.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, serde_json::Value>,
}

fn default_source() -> String {
    "aws".to_string()
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generator {
    #[serde(default)]
    pub tool: String,
    #[serde(default)]
    pub version: String,
}

/// Why something could not be collected. Recorded, never silently dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionError {
    /// A short machine-readable code, e.g. `AccessDenied`, `AWSOrganizationsNotInUseException`.
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// The 12-digit account id.
    pub account_id: String,
    #[serde(default)]
    pub alias: Option<String>,
    /// The credential report the user and root data came from.
    #[serde(default)]
    pub credential_report: Option<CredentialReportInfo>,
    /// The root user; `null` when it could not be read.
    #[serde(default)]
    pub root: Option<RootUser>,
    #[serde(default, deserialize_with = "users_in_one_allocation")]
    pub users: Vec<User>,
    /// Set when this account could not be collected (e.g. assume-role failed in an org scan).
    #[serde(default)]
    pub error: Option<CollectionError>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialReportInfo {
    /// `GeneratedTime` of the report; `null` when unknown (a CSV given without it).
    #[serde(
        default,
        deserialize_with = "super::timestamp::deserialize_option",
        serialize_with = "super::timestamp::serialize_option"
    )]
    pub generated_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootUser {
    pub arn: String,
    /// `null` when AWS says `not_supported` (organizations with centralized root access).
    #[serde(default)]
    pub password_enabled: Option<bool>,
    #[serde(
        default,
        deserialize_with = "super::timestamp::deserialize_option",
        serialize_with = "super::timestamp::serialize_option"
    )]
    pub password_last_used: Option<Timestamp>,
    pub mfa_active: bool,
    /// The two key slots of the credential report.
    #[serde(default)]
    pub access_keys: Vec<RootKeySlot>,
    /// `AccountAccessKeysPresent` of the account summary, when read.
    #[serde(default)]
    pub account_access_keys_present: Option<bool>,
    /// `AccountMFAEnabled` of the account summary, when read.
    #[serde(default)]
    pub account_mfa_enabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootKeySlot {
    /// 1 or 2.
    pub slot: u8,
    pub active: bool,
    #[serde(
        default,
        deserialize_with = "super::timestamp::deserialize_option",
        serialize_with = "super::timestamp::serialize_option"
    )]
    pub last_rotated: Option<Timestamp>,
    #[serde(
        default,
        deserialize_with = "super::timestamp::deserialize_option",
        serialize_with = "super::timestamp::serialize_option"
    )]
    pub last_used_at: Option<Timestamp>,
    #[serde(default)]
    pub last_used_service: Option<String>,
    #[serde(default)]
    pub last_used_region: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub user_name: String,
    /// `AIDA…`; `null` when the source does not give it (a credential report).
    #[serde(default)]
    pub user_id: Option<String>,
    pub arn: String,
    #[serde(default = "default_path")]
    pub path: String,
    #[serde(
        deserialize_with = "super::timestamp::deserialize",
        serialize_with = "super::timestamp::serialize"
    )]
    pub created_at: Timestamp,
    #[serde(default)]
    pub tags: super::Tags,
    #[serde(default)]
    pub password: Password,
    pub mfa_active: bool,
    #[serde(default, deserialize_with = "keys_in_one_allocation")]
    pub access_keys: Vec<AccessKey>,
}

/// An account's users in one allocation of their number ([`super::exact`]).
fn users_in_one_allocation<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<User>, D::Error> {
    d.deserialize_seq(Exact(&USER_BUFFER))
}

/// A user's access keys in one allocation of their number ([`super::exact`]).
fn keys_in_one_allocation<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<AccessKey>, D::Error> {
    d.deserialize_seq(Exact(&KEY_BUFFER))
}

thread_local! {
    static USER_BUFFER: std::cell::RefCell<Vec<User>> = const { std::cell::RefCell::new(Vec::new()) };
    static KEY_BUFFER: std::cell::RefCell<Vec<AccessKey>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn default_path() -> String {
    "/".to_string()
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Password {
    pub enabled: bool,
    #[serde(
        default,
        deserialize_with = "super::timestamp::deserialize_option",
        serialize_with = "super::timestamp::serialize_option"
    )]
    pub last_used: Option<Timestamp>,
    #[serde(
        default,
        deserialize_with = "super::timestamp::deserialize_option",
        serialize_with = "super::timestamp::serialize_option"
    )]
    pub last_changed: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyStatus {
    Active,
    Inactive,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessKey {
    /// `AKIA…`; `null` when the source does not give it (a credential report names slots only).
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// The credential report slot (1 or 2), when known.
    #[serde(default)]
    pub slot: Option<u8>,
    pub status: KeyStatus,
    #[serde(
        deserialize_with = "super::timestamp::deserialize",
        serialize_with = "super::timestamp::serialize"
    )]
    pub created_at: Timestamp,
    #[serde(
        default,
        deserialize_with = "super::timestamp::deserialize_option",
        serialize_with = "super::timestamp::serialize_option"
    )]
    pub last_used_at: Option<Timestamp>,
    #[serde(default)]
    pub last_used_service: Option<String>,
    #[serde(default)]
    pub last_used_region: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    /// `o-…`
    pub id: String,
    pub management_account_id: String,
    #[serde(default)]
    pub roots: Vec<OrgRoot>,
    #[serde(default)]
    pub organizational_units: Vec<OrganizationalUnit>,
    #[serde(default)]
    pub accounts: Vec<OrgAccount>,
    /// Service Control Policies with their parsed documents and targets.
    #[serde(default)]
    pub policies: Vec<ServiceControlPolicy>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgRoot {
    /// `r-…`
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// e.g. `SERVICE_CONTROL_POLICY` when SCPs are enabled.
    #[serde(default)]
    pub policy_types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationalUnit {
    /// `ou-…`
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// A root id or another OU id.
    pub parent_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgAccount {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`.
    pub status: String,
    /// A root id or an OU id.
    pub parent_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceControlPolicy {
    /// `p-…`
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub aws_managed: bool,
    /// The parsed policy document (`Version`, `Statement`), as AWS returns it.
    pub document: serde_json::Value,
    /// Root, OU and account ids the policy is attached to.
    #[serde(default)]
    pub targets: Vec<String>,
}
