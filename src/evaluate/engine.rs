//! The embedded Rego engine (regorus) and the completion of raw findings.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::finding::{fingerprint, AppliedException, Finding, RawFinding, Remediation, Text};
use super::native;
use super::{PolicyError, PolicySet, RuleMetadata};
use crate::config::{Config, Exception, ExceptionMatch};
use crate::cores;
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

/// How the bundled rules are evaluated. Findings are identical either way (the test suite checks
/// it over generated snapshots); only the time differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// The bundled per-user rules run as native code on every core, the other rules in the Rego
    /// interpreter over an input without per-user detail (they do not read it); custom rules
    /// always run in the interpreter over the whole snapshot.
    #[default]
    Fast,
    /// Every rule in the Rego interpreter over the whole snapshot: the reference path.
    Rego,
}

/// Compiled policies, ready to evaluate snapshots.
pub struct Evaluator {
    engine: regorus::Engine,
    policies: PolicySet,
    rule_time_limit: std::time::Duration,
    strategy: Strategy,
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
            strategy: Strategy::default(),
        })
    }

    pub fn set_strategy(&mut self, strategy: Strategy) {
        self.strategy = strategy;
    }

    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// The native implementation of `rule`, when the fast path may use it: the rule is bundled and
    /// no custom policy adds to the `credwarden` namespace the bundled rules read.
    fn native_rule(&self, rule: &RuleMetadata) -> Option<native::UserRule> {
        let extends_bundle = || {
            self.policies.files.iter().any(|f| {
                !f.bundled
                    && (f.package == "data.credwarden" || f.package.starts_with("data.credwarden."))
            })
        };
        if self.strategy != Strategy::Fast || !rule.bundled || extends_bundle() {
            return None;
        }
        native::user_rule(&rule.package)
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
        let now_ns = self.set_data(ctx)?;
        let disabled: BTreeSet<String> = ctx
            .config
            .rules
            .disable
            .iter()
            .map(|s| s.to_ascii_uppercase())
            .collect();
        let accounts = Accounts::of(snapshot);
        let rules: Vec<RuleMetadata> = self
            .policies
            .rules
            .iter()
            .filter(|rule| !disabled.contains(&rule.id.to_ascii_uppercase()))
            .map(|rule| {
                let mut rule = rule.clone();
                if let Some(sev) = ctx.config.rules.severity.get(&rule.id) {
                    rule.severity = *sev;
                }
                rule
            })
            .collect();
        let (native_rules, rego_rules): (Vec<_>, Vec<_>) = rules
            .iter()
            .map(|rule| (rule, self.native_rule(rule)))
            .partition(|(_, native)| native.is_some());

        let mut findings = Vec::new();
        let mut timings = Vec::new();
        if !rego_rules.is_empty() {
            let all_bundled = rego_rules.iter().all(|(rule, _)| rule.bundled);
            let small_input = self.strategy == Strategy::Fast && all_bundled;
            let input = if small_input {
                account_scope_input(snapshot)
            } else {
                serde_json::to_value(snapshot)
            }
            .map_err(|e| PolicyError::Eval(e.to_string()))?;
            self.engine.set_input(regorus::Value::from(input));
            let rules: Vec<&RuleMetadata> = rego_rules.iter().map(|(rule, _)| *rule).collect();
            // Rules over the whole snapshot cost milliseconds per thousand users each: worth
            // spreading over the cores. Over the small input they cost milliseconds in all.
            let workers = if small_input { 1 } else { cores() };
            let outcomes = run_rego_rules(&self.engine, &rules, self.rule_time_limit, workers);
            for (rule, (raws, took)) in rules.iter().zip(outcomes) {
                timings.push((rule.id.clone(), took));
                tracing::debug!("rule {} took {:?}", rule.id, took);
                let stamp = Stamp::of(rule);
                findings.extend(
                    raws?
                        .into_iter()
                        .map(|raw| complete(&stamp, raw, &accounts)),
                );
            }
        }
        if !native_rules.is_empty() {
            let native_rules: Vec<(&RuleMetadata, native::UserRule)> = native_rules
                .into_iter()
                .filter_map(|(rule, f)| Some((rule, f?)))
                .collect();
            let params = native::Params::new(now_ns, &ctx.config);
            let started = std::time::Instant::now();
            let (found, took) = run_native(snapshot, &native_rules, &params);
            tracing::debug!("native rules took {:?}", started.elapsed());
            findings.extend(found);
            timings.extend(native_rules.iter().map(|(r, _)| r.id.clone()).zip(took));
        }
        let started = std::time::Instant::now();
        let exceptions =
            apply_exceptions(&mut findings, &ctx.config.exceptions, ctx.now.date_naive());
        tracing::debug!("exceptions took {:?}", started.elapsed());
        let started = std::time::Instant::now();
        sort_findings(&mut findings);
        findings.dedup_by(|a, b| {
            a.rule_id == b.rule_id && a.fingerprint == b.fingerprint && a.message == b.message
        });
        tracing::debug!(
            "sorting {} findings took {:?}",
            findings.len(),
            started.elapsed()
        );
        Ok(Evaluation {
            findings,
            rules,
            exceptions,
            evaluated_at: ctx.now,
            policy_digest: self.policies.digest(),
            rule_timings: timings,
        })
    }

    /// `data.credwarden`: the evaluation time and the effective config. Returns the time in ns.
    pub(crate) fn set_data(&mut self, ctx: &Context) -> Result<i64, PolicyError> {
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
            .map_err(|e| PolicyError::Eval(e.to_string()))?;
        Ok(now_ns)
    }
}

/// One rule's `deny` set, each element checked against the finding shape a rule must produce.
fn run_rule(
    engine: &mut regorus::Engine,
    rule: &RuleMetadata,
    limit: std::time::Duration,
) -> Result<Vec<RawFinding>, PolicyError> {
    let query = format!("{}.deny", rule.package);
    let value = engine.eval_rule(query).map_err(|e| {
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

/// Evaluate `rules` (each rule's `deny` set) with clones of `engine` on `workers` threads, each
/// taking the next rule not yet taken. Outcomes come back in rule order, with each rule's time.
fn run_rego_rules(
    engine: &regorus::Engine,
    rules: &[&RuleMetadata],
    limit: std::time::Duration,
    workers: usize,
) -> Vec<(Result<Vec<RawFinding>, PolicyError>, std::time::Duration)> {
    let run = |engine: &mut regorus::Engine, rule: &RuleMetadata| {
        let started = std::time::Instant::now();
        let raws = run_rule(engine, rule, limit);
        (raws, started.elapsed())
    };
    let workers = workers.min(rules.len());
    if workers <= 1 {
        let mut engine = engine.clone();
        return rules.iter().map(|rule| run(&mut engine, rule)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let mut engine = engine.clone();
                let next = &next;
                scope.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(rule) = rules.get(i) else { break };
                        done.push((i, run(&mut engine, rule)));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a Rego worker panicked"))
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, outcome)| outcome).collect()
}

/// Evaluate with a fresh engine: the one-call form of [`Evaluator`].
pub fn evaluate(
    policies: PolicySet,
    snapshot: &Snapshot,
    ctx: &Context,
) -> Result<Evaluation, PolicyError> {
    Evaluator::new(policies)?.evaluate(snapshot, ctx)
}

/// The snapshot as the account- and organization-scope bundled rules see it on the fast path:
/// everything but the users, of which they read only the number (each user is `null`).
fn account_scope_input(snapshot: &Snapshot) -> serde_json::Result<serde_json::Value> {
    let skeleton = Snapshot {
        accounts: snapshot
            .accounts
            .iter()
            .map(|a| crate::snapshot::Account {
                account_id: a.account_id.clone(),
                alias: a.alias.clone(),
                credential_report: a.credential_report.clone(),
                root: a.root.clone(),
                users: Vec::new(),
                error: a.error.clone(),
            })
            .collect(),
        organization: snapshot.organization.clone(),
        organization_error: snapshot.organization_error.clone(),
        schema: snapshot.schema.clone(),
        generator: snapshot.generator.clone(),
        collected_at: snapshot.collected_at,
        source: snapshot.source.clone(),
        metadata: snapshot.metadata.clone(),
    };
    let mut value = serde_json::to_value(skeleton)?;
    if let Some(accounts) = value["accounts"].as_array_mut() {
        for (json, account) in accounts.iter_mut().zip(&snapshot.accounts) {
            json["users"] =
                serde_json::Value::Array(vec![serde_json::Value::Null; account.users.len()]);
        }
    }
    Ok(value)
}

/// Run the native rules over every user of the collected accounts, the users split evenly over
/// the available cores. Returns the completed findings and each rule's time (summed over cores).
fn run_native(
    snapshot: &Snapshot,
    rules: &[(&RuleMetadata, native::UserRule)],
    params: &native::Params,
) -> (Vec<Finding>, Vec<std::time::Duration>) {
    let collected: Vec<&crate::snapshot::Account> = snapshot
        .accounts
        .iter()
        .filter(|a| a.error.is_none())
        .collect();
    let total: usize = collected.iter().map(|a| a.users.len()).sum();
    let threads = cores().min(total.div_ceil(2_000).max(1));
    let shards = shards(&collected, total.div_ceil(threads).max(1));
    let run_shard = |shard: &[(&crate::snapshot::Account, &[crate::snapshot::User])]| {
        // Each shard its own shared texts: no reference count is contended between cores.
        let accounts = Accounts::of(snapshot);
        let mut findings = Vec::new();
        let mut took = Vec::with_capacity(rules.len());
        let mut raws = Vec::new();
        for (meta, rule) in rules {
            let started = std::time::Instant::now();
            for (account, users) in shard {
                for user in *users {
                    rule(params, account, user, &mut raws);
                }
            }
            let stamp = Stamp::of(meta);
            findings.extend(raws.drain(..).map(|raw| complete(&stamp, raw, &accounts)));
            took.push(started.elapsed());
        }
        (findings, took)
    };
    let results: Vec<(Vec<Finding>, Vec<std::time::Duration>)> = if shards.len() <= 1 {
        shards.iter().map(|s| run_shard(s)).collect()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = shards
                .iter()
                .map(|s| scope.spawn(|| run_shard(s)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a native rule panicked"))
                .collect()
        })
    };
    let mut findings = Vec::with_capacity(results.iter().map(|(f, _)| f.len()).sum());
    let mut took = vec![std::time::Duration::ZERO; rules.len()];
    for (found, times) in results {
        findings.extend(found);
        for (sum, t) in took.iter_mut().zip(times) {
            *sum += t;
        }
    }
    (findings, took)
}

type Shard<'s> = Vec<(&'s crate::snapshot::Account, &'s [crate::snapshot::User])>;

/// Cut the users of `accounts` into consecutive shards of about `size` users.
fn shards<'s>(accounts: &[&'s crate::snapshot::Account], size: usize) -> Vec<Shard<'s>> {
    let mut shards = vec![Vec::new()];
    let mut room = size;
    for account in accounts {
        let mut users: &[crate::snapshot::User] = &account.users;
        loop {
            let take = users.len().min(room);
            shards
                .last_mut()
                .expect("never empty")
                .push((*account, &users[..take]));
            users = &users[take..];
            room -= take;
            if room == 0 {
                shards.push(Vec::new());
                room = size;
            }
            if users.is_empty() {
                break;
            }
        }
    }
    shards.retain(|s| s.iter().any(|(_, users)| !users.is_empty()));
    shards
}

/// The report order: [`Finding::sort_key`], then [`content`] between findings with equal keys.
fn report_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    a.sort_key()
        .cmp(&b.sort_key())
        .then_with(|| content(a).cmp(&content(b)))
}

/// Sort findings into report order. Large sets sort a permutation rather than the findings
/// themselves (a finding is a few hundred bytes; an index is four), in two halves on two cores
/// merged afterwards; the findings are then moved once, each to its place.
fn sort_findings(findings: &mut [Finding]) {
    const PARALLEL_FROM: usize = 20_000;
    let n = findings.len();
    if n < PARALLEL_FROM || u32::try_from(n).is_err() {
        findings.sort_unstable_by(report_order);
        return;
    }
    let by = |a: &u32, b: &u32| report_order(&findings[*a as usize], &findings[*b as usize]);
    let mut order: Vec<u32> = (0..n as u32).collect();
    let (left, right) = order.split_at_mut(n / 2);
    if cores() > 1 {
        std::thread::scope(|scope| {
            scope.spawn(|| left.sort_unstable_by(by));
            right.sort_unstable_by(by);
        });
    } else {
        left.sort_unstable_by(by);
        right.sort_unstable_by(by);
    }
    let mut order = merge(&order[..n / 2], &order[n / 2..], by);
    permute(findings, &mut order);
}

/// Merge two sorted runs (stable: the left run wins ties).
fn merge(left: &[u32], right: &[u32], by: impl Fn(&u32, &u32) -> std::cmp::Ordering) -> Vec<u32> {
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if by(&right[j], &left[i]).is_lt() {
            out.push(right[j]);
            j += 1;
        } else {
            out.push(left[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&left[i..]);
    out.extend_from_slice(&right[j..]);
    out
}

/// Rearrange `items` so that position `k` holds what was at `order[k]`, following each cycle of
/// the permutation with swaps (`order` is consumed: every entry ends as its own index).
fn permute<T>(items: &mut [T], order: &mut [u32]) {
    for start in 0..items.len() {
        let mut k = start;
        loop {
            let from = order[k] as usize;
            order[k] = k as u32;
            if from == start || from == k {
                break;
            }
            items.swap(k, from);
            k = from;
        }
    }
}

/// What tells two findings with the same sort key apart, so that the order (and which of two
/// near-duplicates survives) never depends on the order rules produced them in.
fn content(f: &Finding) -> String {
    serde_json::to_string(&(&f.remediation, &f.details)).unwrap_or_default()
}

/// What every finding of a rule shares, made once per rule.
struct Stamp {
    id: Text,
    slug: Text,
    title: Text,
    severity: super::Severity,
    summary: Option<Text>,
}

impl Stamp {
    fn of(rule: &RuleMetadata) -> Stamp {
        Stamp {
            id: Text::from(&rule.id),
            slug: Text::from(&rule.slug),
            title: Text::from(&rule.title),
            severity: rule.severity,
            summary: rule.remediation.as_ref().map(Text::from),
        }
    }
}

/// The accounts' ids and aliases, each shared by the account's findings.
struct Accounts(HashMap<String, (Text, Option<Text>)>);

impl Accounts {
    fn of(snapshot: &Snapshot) -> Accounts {
        let texts = |a: &crate::snapshot::Account| {
            (Text::from(&a.account_id), a.alias.as_ref().map(Text::from))
        };
        Accounts(
            snapshot
                .accounts
                .iter()
                .map(|a| (a.account_id.clone(), texts(a)))
                .collect(),
        )
    }

    /// The id and alias of an account; a rule may name one the snapshot lacks (no alias).
    fn get(&self, account_id: String) -> (Text, Option<Text>) {
        match self.0.get(&account_id) {
            Some((id, alias)) => (id.clone(), alias.clone()),
            None => (Text::from(account_id), None),
        }
    }
}

fn complete(rule: &Stamp, raw: RawFinding, accounts: &Accounts) -> Finding {
    let remediation = match (raw.remediation, &rule.summary) {
        (None, None) => None,
        (r, summary) => Some(Remediation {
            summary: summary.clone(),
            action: r.as_ref().map(|r| r.action.clone()),
            params: r.map(|r| r.params).unwrap_or_default(),
        }),
    };
    let fingerprint = fingerprint(&rule.id, &raw.account_id, &raw.resource);
    let (account_id, account_alias) = accounts.get(raw.account_id);
    Finding {
        fingerprint,
        rule_id: rule.id.clone(),
        slug: rule.slug.clone(),
        title: rule.title.clone(),
        severity: rule.severity,
        account_alias,
        account_id,
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
            f.exception = Some(Box::new(AppliedException {
                status: if f.suppressed { "active" } else { "expired" },
                resource: e.resource.clone(),
                reason: e.reason.clone(),
                owner: e.owner.clone(),
                expires: e.expires,
            }));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permute_places_each_item_where_the_order_says() {
        let items: Vec<u32> = (0..1000u32)
            .map(|i| i.wrapping_mul(2_654_435_761) % 997)
            .collect();
        let mut order: Vec<u32> = (0..1000).collect();
        order.sort_by_key(|&i| (items[i as usize], i));
        let mut expected: Vec<u32> = order.iter().map(|&i| items[i as usize]).collect();
        let mut permuted = items.clone();
        permute(&mut permuted, &mut order);
        assert_eq!(permuted, expected);
        expected.sort();
        assert_eq!(permuted, expected);
    }

    #[test]
    fn merge_keeps_both_runs_in_order() {
        let by = |a: &u32, b: &u32| (a / 10).cmp(&(b / 10));
        let merged = merge(&[1, 12, 25, 40], &[3, 11, 13, 50, 60], by);
        assert_eq!(merged, [1, 3, 12, 11, 13, 25, 40, 50, 60]);
    }
}
