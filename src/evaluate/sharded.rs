//! Compiled custom rules run over a few accounts at a time.
//!
//! A custom rule reads the snapshot as engine values. Made whole, they are the fixed cost of
//! any custom rule (190–400 ms and 170 MB at 100,000 users), and each rule that sweeps them
//! finds them long gone from the cache. The rules that are account-wise (proven at compile
//! time: `compiled/accounts.rs`) run here instead, shard by shard: a shard's accounts are made
//! into values on whichever core is free, every account-wise rule runs over them while they
//! are fresh, and they are dropped, their memory reused by the next shard. Their union is the
//! whole run's set; a rule that fails or gives way in any shard is run again over the whole
//! input, so its error (or its interpreter's result) is the reference's.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use regorus::Value;

use super::compiled::{self, Program};
use super::input::{shard_input, InputError, Keys, Users};
use super::metadata::RuleMetadata;
use super::native::library;
use super::packed::Packed;
use super::PolicyError;
use crate::snapshot::Snapshot;

/// A shard holds whole accounts, at least this many users between them (or one account).
/// Large enough that a shard's few dozen runs cost little against its users, small enough
/// that its values (about 1.7 KB a user) stay in the cache while every rule reads them.
pub(super) const SHARD_USERS: usize = 1_000;

/// What a rule run over the shards gives.
pub(super) enum Outcome {
    /// Its findings, and the time it took on all cores.
    Done(Result<Vec<Packed>, PolicyError>, Duration),
    /// It failed or gave way in a shard: run it over the whole input.
    WholeInput,
}

/// What the rules read besides the input.
pub(super) struct Rules<'a> {
    pub(super) program: &'a Program,
    pub(super) data: &'a Value,
    pub(super) env: &'a library::Env,
    pub(super) rules: &'a [&'a RuleMetadata],
    pub(super) limit: Duration,
    /// A shard's users, at least ([`SHARD_USERS`] but in tests).
    pub(super) shard_users: usize,
    /// The users of a shard's accounts: counted only when no rule reads them.
    pub(super) users: Users,
}

/// One rule's result in one shard.
enum Part {
    Found(Vec<Packed>),
    GaveWay,
    TimeLimit,
    /// Not run: it already gave way or ran out of time in another shard.
    Skipped,
}

/// Run `rules` (account-wise compiled set rules) over `snapshot` shard by shard; `base` is the
/// input with each account's users counted, whose accounts each shard replaces with its own.
pub(super) fn run(
    snapshot: &Snapshot,
    base: &Value,
    rules: &Rules<'_>,
) -> Result<Vec<Outcome>, InputError> {
    let shards = shards(snapshot, rules.shard_users);
    let n = rules.rules.len();
    let paths: Vec<String> = rules
        .rules
        .iter()
        .map(|rule| format!("{}.deny", rule.package))
        .collect();
    let stopped: Vec<AtomicBool> = (0..n).map(|_| AtomicBool::new(false)).collect();
    let used: Vec<AtomicU64> = (0..n).map(|_| AtomicU64::new(0)).collect();
    // How many findings each rule made in the last shard it ran over: the next shard's set
    // starts that large, rather than growing (and rehashing) from empty.
    let sizes: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
    // A rule's findings of every shard, appended: a finding made in two shards is made for one
    // account, so both land in that account's section of the stream, which keeps it once.
    let mut found: Vec<Vec<Packed>> = (0..n).map(|_| Vec::new()).collect();
    let mut ends: Vec<Option<Part>> = (0..n).map(|_| None).collect();
    let mut failed = None;
    // Fewer shards than two per core (a snapshot of one large account, a credential report):
    // the rules of each shard are split between the cores too, each group making the shard's
    // values itself, so that no core waits while the other runs every rule.
    let groups = if shards.len() >= 2 * crate::cores() {
        1
    } else {
        crate::cores().clamp(1, n.max(1))
    };
    crate::parallel::in_order(
        shards.len() * groups,
        Keys::default,
        |keys, item| {
            let (s, group) = (item / groups, item % groups);
            let input = shard_input(snapshot, shards[s].clone(), rules.users, base, keys)?;
            Ok((group..n)
                .step_by(groups)
                .map(|r| {
                    if stopped[r].load(Ordering::Relaxed) {
                        return (r, Part::Skipped);
                    }
                    let started = Instant::now();
                    let spent = Duration::from_nanos(used[r].load(Ordering::Relaxed));
                    let deadline = started + rules.limit.saturating_sub(spent);
                    let size = sizes[r].load(Ordering::Relaxed);
                    let part = run_rule(rules, &paths[r], &input, deadline, size);
                    if let Part::Found(found) = &part {
                        sizes[r].store(found.len(), Ordering::Relaxed);
                    }
                    let took = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
                    used[r].fetch_add(took, Ordering::Relaxed);
                    if !matches!(part, Part::Found(_)) {
                        stopped[r].store(true, Ordering::Relaxed);
                    }
                    (r, part)
                })
                .collect::<Vec<(usize, Part)>>())
        },
        &mut |shard: Result<Vec<(usize, Part)>, InputError>| {
            match shard {
                Ok(parts) => {
                    for (r, part) in parts {
                        match part {
                            Part::Found(findings) if ends[r].is_none() => {
                                found[r].extend(findings);
                            }
                            Part::GaveWay | Part::TimeLimit if ends[r].is_none() => {
                                ends[r] = Some(part);
                            }
                            _ => {}
                        }
                    }
                }
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
            Ok(())
        },
    )
    .expect("collecting into memory does not fail");
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(found
        .into_iter()
        .zip(ends)
        .enumerate()
        .map(|(r, (findings, end))| {
            let took = Duration::from_nanos(used[r].load(Ordering::Relaxed));
            match end {
                None => Outcome::Done(Ok(findings), took),
                Some(Part::TimeLimit) => {
                    Outcome::Done(Err(time_limit(rules.rules[r], rules.limit)), took)
                }
                Some(_) => Outcome::WholeInput,
            }
        })
        .collect())
}

/// Run `rules` (compiled set rules that never read `input.accounts`) once, over `base`: the
/// input with each account's users counted, which they read as they would the whole input.
pub(super) fn run_once(base: &Value, rules: &Rules<'_>) -> Vec<Outcome> {
    rules
        .rules
        .iter()
        .map(|rule| {
            let started = Instant::now();
            let path = format!("{}.deny", rule.package);
            let part = run_rule(rules, &path, base, started + rules.limit, 0);
            let took = started.elapsed();
            match part {
                Part::Found(findings) => Outcome::Done(Ok(findings), took),
                Part::TimeLimit => Outcome::Done(Err(time_limit(rule, rules.limit)), took),
                Part::GaveWay | Part::Skipped => Outcome::WholeInput,
            }
        })
        .collect()
}

fn time_limit(rule: &RuleMetadata, limit: Duration) -> PolicyError {
    PolicyError::TimeLimit {
        file: rule.file.clone(),
        rule: rule.id.clone(),
        seconds: limit.as_secs_f64(),
    }
}

/// A rule's findings without repeats, in the order made.
pub(super) type Distinct = indexmap::IndexSet<Packed, foldhash::fast::FixedState>;

/// What a compiled set rule's members go to: each read into a finding as it is made, and
/// kept once. The set is never held: the stream sorts the findings into report order itself.
/// A finding made twice is kept once, by its packed bytes; members that differ only where a
/// finding does not look (a `null` remediation or none, a set or an array in the details) make
/// the same finding, which the report would keep once anyway (`order::sort_and_dedup`). A
/// member that cannot be read gives way, so that the interpreter gives the reference's error.
pub(super) fn reader(
    findings: &mut Distinct,
) -> impl FnMut(compiled::Lazy) -> Result<(), compiled::Stop> + '_ {
    |member| match super::deny::packed_lazy(member) {
        Ok(finding) => {
            findings.insert(finding);
            Ok(())
        }
        Err(_) => Err(compiled::Stop::Bail("a finding of the wrong shape".into())),
    }
}

/// One rule over one shard's input.
/// `size`: how many findings to make room for.
fn run_rule(rules: &Rules<'_>, path: &str, input: &Value, deadline: Instant, size: usize) -> Part {
    let mut findings = Distinct::with_capacity_and_hasher(size, Default::default());
    let env = Some(rules.env);
    let members = rules.program.members(
        path,
        input,
        rules.data,
        env,
        deadline,
        &mut reader(&mut findings),
    );
    match members {
        Some(Ok(())) => Part::Found(findings.into_iter().collect()),
        Some(Err(compiled::Stop::TimeLimit)) => Part::TimeLimit,
        Some(Err(compiled::Stop::Bail(why))) => {
            tracing::debug!("{path}: a shard gives way ({why}); the whole input follows");
            Part::GaveWay
        }
        None => Part::GaveWay,
    }
}

/// The shards: consecutive whole accounts, at least `at_least` users each (the last may
/// hold fewer; a snapshot without accounts has one empty shard).
fn shards(snapshot: &Snapshot, at_least: usize) -> Vec<std::ops::Range<usize>> {
    let mut shards = Vec::new();
    let (mut start, mut users) = (0, 0);
    for (i, account) in snapshot.accounts.iter().enumerate() {
        users += account.users.len();
        if users >= at_least {
            shards.push(start..i + 1);
            (start, users) = (i + 1, 0);
        }
    }
    // No accounts still make one shard: what the rules do before iterating them (and any
    // error there) is the whole run's.
    if start < snapshot.accounts.len() || shards.is_empty() {
        shards.push(start..snapshot.accounts.len());
    }
    shards
}
