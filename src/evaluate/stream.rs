//! Findings made a section at a time, in report order, on every core.
//!
//! An evaluation is cut into sections: the findings of one rule for one account id, made by
//! a native rule over that account's users or by an interpreted rule over the whole snapshot. Sections follow the report order (most severe rule first, then
//! rule id, then account id), so sorting each section on its own sorts them all, and a caller can
//! consume each section — serialise it, count it — as soon as it is made, and never hold every
//! finding at once. At 100,000 users a scan makes half a million findings: kept whole they were
//! most of its memory, and touching that much fresh memory most of its time.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use super::engine::{Context, Evaluation, ExceptionStatus};
use super::finding::{fingerprint, AppliedException, Finding, RawFinding, Remediation, Text};
use super::packed::Packed;
use super::{native, order, RuleMetadata, Severity};
use crate::config::{Exception, ExceptionMatch};
use crate::snapshot::{Account, Snapshot};

/// How many findings an evaluation made, by what they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Findings not suppressed, by severity in [`Severity::ALL`] order.
    open: [usize; Severity::ALL.len()],
    suppressed: usize,
}

impl Tally {
    pub fn of(findings: &[Finding]) -> Tally {
        let mut tally = Tally::default();
        for f in findings {
            tally.count(f);
        }
        tally
    }

    fn count(&mut self, f: &Finding) {
        if f.suppressed {
            self.suppressed += 1;
        } else {
            self.open[f.severity.rank()] += 1;
        }
    }

    fn add(&mut self, other: &Tally) {
        for (sum, n) in self.open.iter_mut().zip(other.open) {
            *sum += n;
        }
        self.suppressed += other.suppressed;
    }

    /// Findings not suppressed.
    pub fn open(&self) -> usize {
        self.open.iter().sum()
    }

    /// Findings an exception suppressed.
    pub fn suppressed(&self) -> usize {
        self.suppressed
    }

    /// Findings not suppressed, by severity, most severe first.
    pub fn by_severity(&self) -> impl Iterator<Item = (Severity, usize)> + '_ {
        Severity::ALL.into_iter().zip(self.open)
    }

    /// Whether a finding at or above `threshold` is not suppressed.
    pub fn any_open_at_or_above(&self, threshold: Severity) -> bool {
        self.by_severity().any(|(s, n)| s >= threshold && n > 0)
    }
}

/// One section of work, in report order.
enum Work<'s> {
    /// The findings with one account id that a rule produced in the interpreter (or
    /// compiled), packed until their section unpacks and completes them.
    Interpreted {
        rule: usize,
        raws: Mutex<Vec<Packed>>,
    },
    /// A native rule over the users of the accounts with one account id.
    Native {
        rule: usize,
        run: native::UserRule,
        accounts: Vec<&'s Account>,
    },
}

impl Work<'_> {
    fn rule(&self) -> usize {
        match self {
            Work::Interpreted { rule, .. } | Work::Native { rule, .. } => *rule,
        }
    }
}

/// An evaluation whose interpreted rules have run, ready to make its findings section by section
/// ([`FindingStream::run`]). Made by [`super::Evaluator::stream`].
pub struct FindingStream<'s> {
    snapshot: &'s Snapshot,
    ctx: &'s Context,
    now_ns: i64,
    rules: Vec<RuleMetadata>,
    work: Vec<Work<'s>>,
    /// Each rule's time so far (the interpreted rules').
    took: Vec<Duration>,
    policy_digest: String,
}

/// The findings of interpreted rules, and the native rules to run, by index into the rules.
pub(super) struct Parts {
    pub interpreted: Vec<(usize, Vec<Packed>)>,
    pub native: Vec<(usize, native::UserRule)>,
}

impl<'s> FindingStream<'s> {
    pub(super) fn new(
        snapshot: &'s Snapshot,
        ctx: &'s Context,
        now_ns: i64,
        rules: Vec<RuleMetadata>,
        parts: Parts,
        took: Vec<Duration>,
        policy_digest: String,
    ) -> FindingStream<'s> {
        // An interpreted rule's findings, a section per account id (the report orders a
        // rule's findings by account first): small sorts, and no section of a whole rule's
        // findings — a hundred thousand at 100,000 users — rendered in one piece.
        let mut work: Vec<Work<'s>> = parts
            .interpreted
            .into_iter()
            .flat_map(|(rule, raws)| {
                by_account(raws).map(move |raws| Work::Interpreted {
                    rule,
                    raws: Mutex::new(raws),
                })
            })
            .collect();
        // Native rules visit only the accounts that were collected, grouped by account id.
        let mut by_id: BTreeMap<&str, Vec<&Account>> = BTreeMap::new();
        for account in snapshot.accounts.iter().filter(|a| a.error.is_none()) {
            by_id.entry(&account.account_id).or_default().push(account);
        }
        for (rule, run) in parts.native {
            work.extend(by_id.values().map(|accounts| Work::Native {
                rule,
                run,
                accounts: accounts.clone(),
            }));
        }
        // Report order: most severe rule first, then rule id; a rule's sections are in account
        // order already, and the sort is stable.
        work.sort_by(|a, b| {
            let (a, b) = (&rules[a.rule()], &rules[b.rule()]);
            b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id))
        });
        FindingStream {
            snapshot,
            ctx,
            now_ns,
            rules,
            work,
            took,
            policy_digest,
        }
    }

    /// When the evaluation takes place (`--now`).
    pub fn evaluated_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.ctx.now
    }

    /// The rules that run, in their order (disabled rules left out, severities overridden).
    pub fn rules(&self) -> &[RuleMetadata] {
        &self.rules
    }

    /// The digest of the policies evaluated.
    pub fn policy_digest(&self) -> &str {
        &self.policy_digest
    }

    /// Make every section's findings on every core. Each section, completed, matched against the
    /// exceptions, sorted and without duplicates, goes through `render` on the core that made it;
    /// `sink` receives what `render` returns on the calling thread, section after section in
    /// report order. Returns the evaluation without its findings (they went to `sink`), with
    /// their tally. Stops at `sink`'s first error.
    pub fn run<T: Send>(
        self,
        render: impl Fn(Vec<Finding>) -> T + Sync,
        mut sink: impl FnMut(T) -> std::io::Result<()>,
    ) -> std::io::Result<Evaluation> {
        let params = native::Params::new(self.now_ns, &self.ctx.config);
        let today = self.ctx.now.date_naive();
        let exceptions = &self.ctx.config.exceptions;
        let section = |worker: &mut Worker, i: usize| {
            let findings = worker.section(&self.work[i], &params, exceptions, today);
            render(findings)
        };
        let new_worker = || Worker::new(self.snapshot, &self.rules, exceptions.len());
        let done = crate::parallel::in_order(self.work.len(), new_worker, section, &mut sink)?;

        let mut tally = Tally::default();
        let mut matched = vec![0; exceptions.len()];
        let mut took = self.took;
        for worker in &done {
            tally.add(&worker.tally);
            for (sum, n) in matched.iter_mut().zip(&worker.matched) {
                *sum += n;
            }
            for (sum, t) in took.iter_mut().zip(&worker.took) {
                *sum += *t;
            }
        }
        log_rule_times(&self.rules, &took);
        Ok(Evaluation {
            findings: Vec::new(),
            tally,
            exceptions: exception_statuses(exceptions, &matched, today),
            rule_timings: self.rules.iter().map(|r| r.id.clone()).zip(took).collect(),
            rules: self.rules,
            evaluated_at: self.ctx.now,
            policy_digest: self.policy_digest,
        })
    }
}

/// How many of the slowest rules `-v` names.
const SLOWEST: usize = 5;

/// Each rule's time in the debug log, and the slowest rules with `-v`: a policy author sees
/// which rule to look at first. A rule's time is summed over the cores it ran on.
fn log_rule_times(rules: &[RuleMetadata], took: &[Duration]) {
    for (rule, took) in rules.iter().zip(took) {
        tracing::debug!("rule {} took {:?}", rule.id, took);
    }
    if rules.is_empty() || !tracing::enabled!(tracing::Level::INFO) {
        return;
    }
    let times: Vec<(&str, Duration)> = rules
        .iter()
        .map(|r| r.id.as_str())
        .zip(took.iter().copied())
        .collect();
    tracing::info!("{}", slowest_rules(&times, SLOWEST));
}

/// "N rules took T in all (summed over cores); the slowest: ID T, …": at most `n` rules, the
/// slowest first, rules of equal time in the order given.
fn slowest_rules(times: &[(&str, Duration)], n: usize) -> String {
    let mut order: Vec<&(&str, Duration)> = times.iter().collect();
    order.sort_by_key(|(_, took)| std::cmp::Reverse(*took));
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
    let slowest: Vec<String> = order
        .iter()
        .take(n)
        .map(|(id, took)| format!("{id} {}", ms(*took)))
        .collect();
    format!(
        "{} rules took {} in all (summed over cores); the slowest: {} \
         (-vv: every rule's time)",
        times.len(),
        ms(times.iter().map(|(_, t)| *t).sum()),
        slowest.join(", ")
    )
}

/// Findings grouped by their account id, in the order of the ids (as the report orders
/// them); none when there are none.
fn by_account(raws: Vec<Packed>) -> impl Iterator<Item = Vec<Packed>> {
    let mut groups: BTreeMap<String, Vec<Packed>> = BTreeMap::new();
    for raw in raws {
        match groups.get_mut(raw.account_id()) {
            Some(group) => group.push(raw),
            None => {
                groups.insert(raw.account_id().to_string(), vec![raw]);
            }
        }
    }
    groups.into_values()
}

/// What one core keeps between sections: its own copies of the shared texts (so no reference
/// count is contended between cores), and its counts.
struct Worker {
    stamps: Vec<Stamp>,
    accounts: Accounts,
    raws: Vec<RawFinding>,
    tally: Tally,
    matched: Vec<usize>,
    took: Vec<Duration>,
}

impl Worker {
    fn new(snapshot: &Snapshot, rules: &[RuleMetadata], exceptions: usize) -> Worker {
        Worker {
            stamps: rules.iter().map(Stamp::of).collect(),
            accounts: Accounts::of(snapshot),
            raws: Vec::new(),
            tally: Tally::default(),
            matched: vec![0; exceptions],
            took: vec![Duration::ZERO; rules.len()],
        }
    }

    /// One section's findings: made, completed, matched against the exceptions, sorted, and
    /// without duplicates.
    fn section(
        &mut self,
        work: &Work<'_>,
        params: &native::Params,
        exceptions: &[Exception],
        today: NaiveDate,
    ) -> Vec<Finding> {
        let started = Instant::now();
        let rule = work.rule();
        match work {
            Work::Interpreted { raws, .. } => {
                let raws = std::mem::take(&mut *raws.lock().unwrap_or_else(|p| p.into_inner()));
                self.raws.extend(raws.iter().map(Packed::unpack));
            }
            Work::Native { run, accounts, .. } => {
                for account in accounts {
                    for user in &account.users {
                        run(params, account, user, &mut self.raws);
                    }
                }
            }
        }
        let stamp = &self.stamps[rule];
        let mut findings: Vec<Finding> = self
            .raws
            .drain(..)
            .map(|raw| complete(stamp, raw, &self.accounts))
            .collect();
        mark_exceptions(&mut findings, exceptions, today, &mut self.matched);
        order::sort_and_dedup(&mut findings);
        for f in &findings {
            self.tally.count(f);
        }
        self.took[rule] += started.elapsed();
        findings
    }
}

/// What every finding of a rule shares, made once per rule.
struct Stamp {
    id: Text,
    slug: Text,
    title: Text,
    severity: Severity,
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
        let texts = |a: &Account| (Text::from(&a.account_id), a.alias.as_ref().map(Text::from));
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

/// A rule's raw finding with the rule's metadata, its account's alias and its fingerprint.
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
/// Counts each exception's matches into `matched`.
fn mark_exceptions(
    findings: &mut [Finding],
    exceptions: &[Exception],
    today: NaiveDate,
    matched: &mut [usize],
) {
    if exceptions.is_empty() {
        return;
    }
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
}

/// What each exception did in the run.
fn exception_statuses(
    exceptions: &[Exception],
    matched: &[usize],
    today: NaiveDate,
) -> Vec<ExceptionStatus> {
    exceptions
        .iter()
        .zip(matched)
        .map(|(e, &matched)| ExceptionStatus {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::finding::{Fields, Resource};

    fn raw(account: &str, id: &str) -> RawFinding {
        RawFinding {
            account_id: account.into(),
            resource: Resource {
                kind: Text::from_static("aws_iam_user"),
                id: id.into(),
                arn: format!("arn:aws:iam::{account}:user/{id}"),
                user: None,
            },
            message: format!("{account} {id}"),
            remediation: None,
            details: Fields::new(),
        }
    }

    #[test]
    fn the_slowest_rules_are_named_slowest_first() {
        let ms = |n: u64| Duration::from_micros(n * 100);
        let times = [
            ("CW101", ms(5)),
            ("ORG002", ms(540)),
            ("CW102", ms(5)),
            ("ORG001", ms(390)),
        ];
        assert_eq!(
            slowest_rules(&times, 3),
            "4 rules took 94.0 ms in all (summed over cores); the slowest: ORG002 54.0 ms, \
             ORG001 39.0 ms, CW101 0.5 ms (-vv: every rule's time)"
        );
    }

    /// An interpreted rule's findings become a section per account id, in the order of the
    /// ids, each keeping the order the rule made them in; no findings, no section.
    #[test]
    fn findings_are_grouped_by_account_in_id_order() {
        let raws = [
            raw("222", "b"),
            raw("111", "z"),
            raw("222", "a"),
            raw("", "root"),
            raw("111", "y"),
        ];
        let groups: Vec<Vec<String>> = by_account(raws.iter().map(Packed::new).collect())
            .map(|g| g.iter().map(|p| p.unpack().message).collect())
            .collect();
        assert_eq!(
            groups,
            [
                vec![" root"],
                vec!["111 z", "111 y"],
                vec!["222 b", "222 a"]
            ]
        );
        assert_eq!(by_account(Vec::new()).count(), 0);
    }
}
