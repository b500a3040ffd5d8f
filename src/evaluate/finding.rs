//! Findings: what a rule says about one resource, completed with the rule's metadata.

use serde::{Deserialize, Serialize};

use super::severity::Severity;
pub use super::text::{Detail, Fields, Text};

/// The resource a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    #[serde(rename = "type")]
    pub kind: Text,
    pub id: String,
    pub arn: String,
    /// The user a key belongs to, for key findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Remediation {
    /// What to do, in words (from the rule's METADATA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Text>,
    /// A machine-readable action (`deactivate_access_key`, …) the remediation planner can use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Text>,
    #[serde(default, skip_serializing_if = "Fields::is_empty")]
    pub params: Fields,
}

/// The exception that matched a finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppliedException {
    /// `active` (the finding is suppressed) or `expired` (it is not).
    pub status: &'static str,
    pub resource: String,
    pub reason: String,
    pub owner: String,
    pub expires: chrono::NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule_id: Text,
    pub slug: Text,
    pub title: Text,
    pub severity: Severity,
    pub account_id: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_alias: Option<Text>,
    pub resource: Resource,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<Remediation>,
    #[serde(skip_serializing_if = "Fields::is_empty")]
    pub details: Fields,
    /// Stable across runs for the same rule and resource.
    pub fingerprint: String,
    pub suppressed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Boxed: few findings have one, and every finding would pay for its room.
    pub exception: Option<Box<AppliedException>>,
}

/// A finding as a policy produces it, before credwarden completes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFinding {
    pub account_id: String,
    pub resource: Resource,
    pub message: String,
    #[serde(default)]
    pub remediation: Option<RawRemediation>,
    #[serde(default)]
    pub details: Fields,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRemediation {
    pub action: Text,
    #[serde(default)]
    pub params: Fields,
}

/// The fingerprint of a rule and resource: the first 32 hex digits of a SHA-256.
pub fn fingerprint(rule_id: &str, account_id: &str, resource: &Resource) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [rule_id, account_id, &resource.kind, &resource.id] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    let digest = h.finalize();
    let mut hex = String::with_capacity(32);
    for byte in &digest[..16] {
        for nibble in [byte >> 4, byte & 0xf] {
            hex.push(char::from(b"0123456789abcdef"[usize::from(nibble)]));
        }
    }
    hex
}

impl Finding {
    /// Deterministic report order: most severe first, then rule, account, resource, message.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            std::cmp::Reverse(self.severity),
            &self.rule_id,
            &self.account_id,
            &self.resource,
            &self.message,
        )
    }
}
