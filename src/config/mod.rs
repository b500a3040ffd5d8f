//! `credwarden.yaml`: thresholds, break-glass users, rule switches and exceptions.
//!
//! Unknown keys are errors, not silently ignored: a misspelt threshold would otherwise quietly
//! fall back to its default and change what the scan reports.

pub mod exceptions;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use exceptions::{Exception, ExceptionMatch};

use crate::evaluate::Severity;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read the config: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}{at}: {message}")]
    Invalid {
        path: String,
        /// `:line:column`, when known.
        at: String,
        message: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub thresholds: Thresholds,
    pub break_glass: BreakGlass,
    pub rules: RuleSettings,
    pub exceptions: Vec<Exception>,
    /// Free-form values for organisational policies (`data.credwarden.config.params`).
    pub params: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// CW101: an active key unused for this many days or more.
    pub unused_days: u32,
    /// CW102: an active key older than this many days.
    pub rotation_days: u32,
    /// CW301: no console login and no key use for this many days or more.
    pub inactive_user_days: u32,
    /// CW202: root used within this many days.
    pub root_use_days: u32,
    /// CW104: an inactive key kept longer than this many days.
    pub inactive_key_grace_days: u32,
    /// CW305: a break-glass user used within this many days.
    pub break_glass_use_days: u32,
    /// CW901: a credential report older than this many hours.
    pub stale_report_hours: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            unused_days: 90,
            rotation_days: 90,
            inactive_user_days: 90,
            root_use_days: 90,
            inactive_key_grace_days: 30,
            break_glass_use_days: 30,
            stale_report_hours: 4,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreakGlass {
    /// User names or user ARNs.
    pub users: Vec<String>,
    pub tag_key: String,
    pub tag_value: String,
}

impl Default for BreakGlass {
    fn default() -> Self {
        Self {
            users: Vec::new(),
            tag_key: "credwarden:break-glass".into(),
            tag_value: "true".into(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuleSettings {
    /// Rule ids that are not evaluated.
    pub disable: Vec<String>,
    /// Severity per rule id, replacing the rule's own.
    pub severity: BTreeMap<String, Severity>,
}

impl Config {
    /// Read a config file; `None` gives the defaults.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: origin.clone(),
            source,
        })?;
        Config::parse(&text, &origin)
    }

    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let invalid = |at: String, message: String| ConfigError::Invalid {
            path: origin.to_string(),
            at,
            message,
        };
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        let de = yaml_serde::Deserializer::from_str(text);
        let config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            let at = inner
                .location()
                .map(|l| format!(":{}:{}", l.line(), l.column()))
                .unwrap_or_default();
            let message = strip_yaml_position(&inner.to_string());
            // yaml_serde starts its message with the parent path ("thresholds: unknown field …").
            let message = match message.split_once(": ") {
                Some((prefix, rest)) if !prefix.contains(' ') => rest.to_string(),
                _ => message,
            };
            if field.is_empty() || field == "." {
                invalid(at, message)
            } else {
                invalid(at, format!("field `{field}`: {message}"))
            }
        })?;
        config.validate().map_err(|m| invalid(String::new(), m))?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        for (i, e) in self.exceptions.iter().enumerate() {
            e.validate()
                .map_err(|m| format!("field `exceptions[{i}]`: {m}"))?;
        }
        if self.break_glass.tag_key.is_empty() {
            return Err("field `break_glass.tag_key`: expected a non-empty tag key".into());
        }
        Ok(())
    }

    /// The config as policies see it: `data.credwarden.config`.
    pub fn policy_view(&self) -> serde_json::Value {
        serde_json::json!({
            "thresholds": self.thresholds,
            "break_glass": self.break_glass,
            "params": self.params,
        })
    }
}

/// yaml_serde appends " at line L column C"; the caller already says where.
fn strip_yaml_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_the_default() {
        assert_eq!(Config::parse("", "c.yaml").unwrap(), Config::default());
    }

    #[test]
    fn unknown_key_is_an_error_with_its_place() {
        let err = Config::parse("thresholds:\n  unused_dayz: 30\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "c.yaml:2:3: field `thresholds.unused_dayz`: unknown field `unused_dayz`"
            ),
            "{err}"
        );
        assert!(err.contains("expected one of"), "{err}");
    }

    #[test]
    fn severity_override_must_be_known() {
        let err = Config::parse("rules:\n  severity:\n    CW101: urgent\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("rules.severity.CW101"), "{err}");
    }

    #[test]
    fn partial_thresholds_keep_other_defaults() {
        let c = Config::parse("thresholds:\n  unused_days: 30\n", "c.yaml").unwrap();
        assert_eq!(c.thresholds.unused_days, 30);
        assert_eq!(c.thresholds.rotation_days, 90);
    }
}
