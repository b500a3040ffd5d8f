//! The embedded Rego engine (regorus) and the completion of raw findings.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::finding::{fingerprint, AppliedException, Finding, RawFinding, Remediation};
use super::{PolicyError, PolicySet, RuleMetadata};
use crate::config::{Config, Exception, ExceptionMatch};
use crate::snapshot::Snapshot;

/// What an evaluation depends on besides the snapshot.
#[derive(Debug, Clone)]
pub struct Context {
    /// The evaluation time: ages and expiries are measured against it.
    pub now: DateTime<Utc>,
    pub config: Config,
}

/// An exception and what it did in this run.
#[derive(Debug, Clone, Serialize)]
pub struct ExceptionStatus {
    #[serde(flatten)]
    pub exception: Exception,
    /// `active`, `expired`, or `unused` (in force but matched nothing).
    pub status: &'static str,
    /// Findings it matched.
    pub matched: usize,
}

/// The result of evaluating one snapshot.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    /// The rules that ran, with the severity in force.
    pub rules: Vec<RuleMetadata>,
    pub exceptions: Vec<ExceptionStatus>,
    pub evaluated_at: DateTime<Utc>,
    pub policy_digest: String,
    /// How long each rule took, in rule order (for `-v` and benchmarks).
    pub rule_timings: Vec<(String, std::time::Duration)>,
}

/// How long one rule may evaluate before it is stopped, unless the caller sets another limit:
/// a policy that loops or explodes ends with an error naming it instead of hanging the run.
pub const DEFAULT_RULE_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

/// Compiled policies, ready to evaluate snapshots.
pub struct Evaluator {
    engine: regorus::Engine,
    policies: PolicySet,
    rule_time_limit: std::time::Duration,
}

impl Evaluator {
    /// Parse every policy file. Syntax errors name the file, line and column.
    pub fn new(policies: PolicySet) -> Result<Evaluator, PolicyError> {
        let mut engine = regorus::Engine::new();
        engine.set_execution_timer_config(timer(DEFAULT_RULE_TIME_LIMIT));
        for file in &policies.files {
            engine
                .add_policy(file.path.clone(), file.source.clone())
                .map_err(|e| PolicyError::from_rego(&e, &file.path))?;
        }
        Ok(Evaluator {
            engine,
            policies,
            rule_time_limit: DEFAULT_RULE_TIME_LIMIT,
        })
    }

    /// Stop any single rule (or query) that evaluates for longer than `limit`.
    pub fn set_rule_time_limit(&mut self, limit: std::time::Duration) {
        self.rule_time_limit = limit;
        self.engine.set_execution_timer_config(timer(limit));
    }

    pub fn rule_time_limit(&self) -> std::time::Duration {
        self.rule_time_limit
    }

    pub fn policies(&self) -> &PolicySet {
        &self.policies
    }

    pub(crate) fn engine_mut(&mut self) -> &mut regorus::Engine {
        &mut self.engine
    }

    /// Evaluate every enabled rule over the snapshot.
    pub fn evaluate(
        &mut self,
        snapshot: &Snapshot,
        ctx: &Context,
    ) -> Result<Evaluation, PolicyError> {
        self.set_data(ctx)?;
        let input = serde_json::to_value(snapshot).map_err(|e| PolicyError::Eval(e.to_string()))?;
        self.engine.set_input(regorus::Value::from(input));

        let disabled: BTreeSet<String> = ctx
            .config
            .rules
            .disable
            .iter()
            .map(|s| s.to_ascii_uppercase())
            .collect();
        let aliases = snapshot
            .accounts
            .iter()
            .filter_map(|a| Some((a.account_id.clone(), a.alias.clone()?)))
            .collect::<std::collections::HashMap<_, _>>();
        let mut rules = Vec::new();
        let mut findings = Vec::new();
        let mut timings = Vec::new();
        for rule in self.policies.rules.clone() {
            if disabled.contains(&rule.id.to_ascii_uppercase()) {
                continue;
            }
            let mut rule = rule.clone();
            if let Some(sev) = ctx.config.rules.severity.get(&rule.id) {
                rule.severity = *sev;
            }
            let started = std::time::Instant::now();
            let raws = self.run_rule(&rule)?;
            timings.push((rule.id.clone(), started.elapsed()));
            tracing::debug!("rule {} took {:?}", rule.id, started.elapsed());
            for raw in raws {
                let mut f = complete(&rule, raw);
                f.account_alias = aliases.get(&f.account_id).cloned();
                findings.push(f);
            }
            rules.push(rule);
        }
        let exceptions =
            apply_exceptions(&mut findings, &ctx.config.exceptions, ctx.now.date_naive());
        findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        findings.dedup_by(|a, b| {
            a.rule_id == b.rule_id && a.fingerprint == b.fingerprint && a.message == b.message
        });
        Ok(Evaluation {
            findings,
            rules,
            exceptions,
            evaluated_at: ctx.now,
            policy_digest: self.policies.digest(),
            rule_timings: timings,
        })
    }

    /// `data.credwarden`: the evaluation time and the effective config.
    pub(crate) fn set_data(&mut self, ctx: &Context) -> Result<(), PolicyError> {
        let now_ns = ctx.now.timestamp_nanos_opt().ok_or_else(|| {
            PolicyError::Eval(format!("evaluation time {} is out of range", ctx.now))
        })?;
        let data = serde_json::json!({
            "credwarden": {
                "now": ctx.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "now_ns": now_ns,
                "config": ctx.config.policy_view(),
            }
        });
        self.engine.clear_data();
        self.engine
            .add_data(regorus::Value::from(data))
            .map_err(|e| PolicyError::Eval(e.to_string()))
    }

    fn run_rule(&mut self, rule: &RuleMetadata) -> Result<Vec<RawFinding>, PolicyError> {
        let query = format!("{}.deny", rule.package);
        let limit = self.rule_time_limit;
        let value = self.engine.eval_rule(query).map_err(|e| {
            if is_time_limit(&e) {
                PolicyError::TimeLimit {
                    file: rule.file.clone(),
                    rule: rule.id.clone(),
                    seconds: limit.as_secs_f64(),
                }
            } else {
                PolicyError::from_rego(&e, &rule.file)
            }
        })?;
        if value == regorus::Value::Undefined {
            return Ok(Vec::new());
        }
        let bad = |message: String| PolicyError::BadFinding {
            file: rule.file.clone(),
            rule: rule.id.clone(),
            message,
        };
        let json = serde_json::to_value(&value).map_err(|e| bad(e.to_string()))?;
        let items = match json {
            serde_json::Value::Array(items) => items,
            other => {
                return Err(bad(format!(
                    "`deny` must be a set of finding objects, found {}",
                    kind_of(&other)
                )))
            }
        };
        items
            .into_iter()
            .map(|item| {
                serde_json::from_value::<RawFinding>(item.clone()).map_err(|e| {
                    bad(format!(
                        "a finding does not have the required shape ({e}); expected {{account_id, resource: {{type, id, arn}}, message}}, got {}",
                        truncate(&item.to_string(), 200)
                    ))
                })
            })
            .collect()
    }
}

/// Evaluate with a fresh engine: the one-call form of [`Evaluator`].
pub fn evaluate(
    policies: PolicySet,
    snapshot: &Snapshot,
    ctx: &Context,
) -> Result<Evaluation, PolicyError> {
    Evaluator::new(policies)?.evaluate(snapshot, ctx)
}

fn complete(rule: &RuleMetadata, raw: RawFinding) -> Finding {
    let remediation = match (raw.remediation, &rule.remediation) {
        (None, None) => None,
        (r, summary) => Some(Remediation {
            summary: summary.clone(),
            action: r.as_ref().map(|r| r.action.clone()),
            params: r.map(|r| r.params).unwrap_or_default(),
        }),
    };
    Finding {
        fingerprint: fingerprint(&rule.id, &raw.account_id, &raw.resource),
        rule_id: rule.id.clone(),
        slug: rule.slug.clone(),
        title: rule.title.clone(),
        severity: rule.severity,
        account_id: raw.account_id,
        account_alias: None,
        resource: raw.resource,
        message: raw.message,
        remediation,
        details: raw.details,
        suppressed: false,
        exception: None,
    }
}

/// Mark findings covered by an exception: the first one in force wins, else the first expired.
fn apply_exceptions(
    findings: &mut [Finding],
    exceptions: &[Exception],
    today: chrono::NaiveDate,
) -> Vec<ExceptionStatus> {
    let mut matched = vec![0usize; exceptions.len()];
    for f in findings.iter_mut() {
        let mut candidates = exceptions
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.matches(f, today).map(|m| (i, e, m)));
        let first = candidates.next();
        let hit = match first {
            Some((_, _, ExceptionMatch::Expired)) => candidates
                .find(|(_, _, m)| *m == ExceptionMatch::Active)
                .or(first),
            _ => first,
        };
        if let Some((i, e, m)) = hit {
            matched[i] += 1;
            f.suppressed = m == ExceptionMatch::Active;
            f.exception = Some(AppliedException {
                status: if f.suppressed { "active" } else { "expired" },
                resource: e.resource.clone(),
                reason: e.reason.clone(),
                owner: e.owner.clone(),
                expires: e.expires,
            });
        }
    }
    exceptions
        .iter()
        .zip(matched)
        .map(|(e, matched)| ExceptionStatus {
            status: if today > e.expires {
                "expired"
            } else if matched == 0 {
                "unused"
            } else {
                "active"
            },
            exception: e.clone(),
            matched,
        })
        .collect()
}

fn timer(limit: std::time::Duration) -> regorus::utils::limits::ExecutionTimerConfig {
    regorus::utils::limits::ExecutionTimerConfig {
        limit,
        check_interval: std::num::NonZeroU32::new(64).expect("not zero"),
    }
}

/// Whether regorus stopped an evaluation at its time limit.
pub(crate) fn is_time_limit(err: &anyhow::Error) -> bool {
    let text = format!("{err:#}").to_ascii_lowercase();
    text.contains("time limit") || text.contains("timelimitexceeded")
}

fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
