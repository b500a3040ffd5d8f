//! Exceptions: a reviewed, owned and dated decision to accept a finding.
//!
//! An exception suppresses the findings of one rule on the resources its pattern matches, until
//! it expires. Suppressed findings stay in JSON and SARIF output, marked as suppressed; an
//! expired exception suppresses nothing and is reported, so that accepted risk is re-reviewed
//! instead of silently lasting forever.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::evaluate::Finding;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// The rule id, e.g. `CW101`.
    pub rule: String,
    /// An ARN, access key id or resource id; `*` matches any run of characters, `?` one.
    pub resource: String,
    pub reason: String,
    pub owner: String,
    /// The last day (UTC) on which the exception applies.
    pub expires: NaiveDate,
}

/// How an exception relates to a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionMatch {
    /// Matches and is in force: the finding is suppressed.
    Active,
    /// Matches but has expired: the finding stands.
    Expired,
}

impl Exception {
    pub(crate) fn validate(&self) -> Result<(), String> {
        for (name, value) in [
            ("rule", &self.rule),
            ("resource", &self.resource),
            ("reason", &self.reason),
            ("owner", &self.owner),
        ] {
            if value.trim().is_empty() {
                return Err(format!("`{name}` is empty; every exception needs a rule, a resource, a reason and an owner"));
            }
        }
        Ok(())
    }

    /// Whether this exception covers the finding, and whether it is still in force on `today`.
    pub fn matches(&self, finding: &Finding, today: NaiveDate) -> Option<ExceptionMatch> {
        let r = &finding.resource;
        let hit = self.rule.eq_ignore_ascii_case(&finding.rule_id)
            && [r.arn.as_str(), r.id.as_str()]
                .iter()
                .any(|s| wildcard_match(&self.resource, s));
        hit.then(|| {
            if today <= self.expires {
                ExceptionMatch::Active
            } else {
                ExceptionMatch::Expired
            }
        })
    }
}

/// `*` matches any run of characters (including `/` and `:`), `?` exactly one.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::wildcard_match;

    #[test]
    fn wildcards() {
        assert!(wildcard_match(
            "arn:aws:iam::*:user/ci-*",
            "arn:aws:iam::123456789012:user/ci-deploy"
        ));
        assert!(!wildcard_match(
            "arn:aws:iam::*:user/ci-*",
            "arn:aws:iam::123456789012:user/alice"
        ));
        assert!(wildcard_match("AKIA????", "AKIA1234"));
        assert!(!wildcard_match("AKIA????", "AKIA12345"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*b*c", "aXXbYYc"));
        assert!(!wildcard_match("a*b*c", "aXXbYY"));
    }
}
