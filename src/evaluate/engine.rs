//! The embedded Rego engine (regorus): the rules in force, the interpreted ones run, and the
//! evaluation's findings made section by section ([`super::stream`]).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::compiled::{self, Program};
use super::finding::{Finding, RawFinding};
use super::input::{snapshot_input, Users};
use super::native::{self, library, library::Aliases};
use super::packed::Packed;
use super::stream::{FindingStream, Parts, Tally};
use super::{PolicyError, PolicyFile, PolicySet, RuleMetadata};
use crate::config::{Config, Exception};
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
    /// In report order. Empty when the findings were streamed ([`FindingStream::run`]).
    pub findings: Vec<Finding>,
    /// How many findings there are, by severity and suppression.
    pub tally: Tally,
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
    /// are compiled to native code where they can be (exactly the interpreter's findings) and
    /// run over a few accounts at a time where they are proven account-wise, in the
    /// interpreter over the whole snapshot otherwise.
    #[default]
    Fast,
    /// Every rule in the Rego interpreter over the whole snapshot: the reference path.
    Rego,
}

/// Compiled policies, ready to evaluate snapshots.
pub struct Evaluator {
    engine: regorus::Engine,
    /// The policies without `policies/lib/functions.rego`, whose functions run natively on the
    /// fast path, and the names policies call them by; `None` when a policy rules that out
    /// ([`Aliases::of`]).
    native_library: Option<(regorus::Engine, Aliases)>,
    /// The data (`data.credwarden`) the native library's engine holds, analysed with it, when
    /// it was made for a context ([`Evaluator::for_context`]): an evaluation with the same data
    /// starts from that analysis instead of redoing it on its critical path.
    native_data: Option<serde_json::Value>,
    /// The Rego rules compiled to native code (from the native library's engine), made on
    /// the first evaluation that needs them.
    compiled: Option<Program>,
    /// The custom rules being compiled in the background ([`Evaluator::for_context`]), until
    /// the first evaluation needs them.
    compiling: Option<std::thread::JoinHandle<Program>>,
    policies: PolicySet,
    rule_time_limit: std::time::Duration,
    strategy: Strategy,
    /// How many users (at least) a shard of accounts holds for account-wise rules.
    shard_users: usize,
}

impl Evaluator {
    /// Parse every policy file. Syntax errors name the file, line and column.
    pub fn new(policies: PolicySet) -> Result<Evaluator, PolicyError> {
        Evaluator::build(policies, None)
    }

    /// [`Evaluator::new`], made ready to evaluate under `ctx` with `strategy`: on the fast
    /// path the custom rules are compiled for `ctx` in the background, while the policies are
    /// parsed and, later, while the first evaluation makes its input. An evaluation under
    /// another context compiles nothing again (as after a first evaluation).
    pub fn for_context(
        policies: PolicySet,
        ctx: &Context,
        strategy: Strategy,
    ) -> Result<Evaluator, PolicyError> {
        let mut evaluator =
            Evaluator::build(policies, (strategy == Strategy::Fast).then_some(ctx))?;
        evaluator.strategy = strategy;
        Ok(evaluator)
    }

    /// The engines of `policies` — every policy, and the policies without the library's Rego
    /// functions, which run natively — parsed side by side; with `ctx`, the custom rules
    /// compiled in the background.
    fn build(policies: PolicySet, ctx: Option<&Context>) -> Result<Evaluator, PolicyError> {
        let custom = policies.files.iter().filter(|f| !f.bundled);
        let aliases = Aliases::of(custom.map(|f| f.source.as_str()));
        if aliases.is_none() {
            tracing::info!(
                "a custom policy uses `with … as …` or gives another package an alias of the library: the library's functions run in Rego, not natively"
            );
        }
        let compiling = match (ctx, &aliases) {
            (Some(ctx), Some(aliases)) => start_compiling(&policies, aliases, ctx),
            _ => None,
        };
        // The data of `ctx`; an evaluation time out of range is reported by the evaluation.
        let native_data = ctx.and_then(|ctx| data_of(ctx).ok()).map(|(data, _)| data);
        let started = std::time::Instant::now();
        let (engine, native_engine) = std::thread::scope(|scope| {
            let native_engine = aliases.is_some().then(|| {
                scope.spawn(|| {
                    let started = std::time::Instant::now();
                    let files = policies
                        .files
                        .iter()
                        .filter(|f| !(f.bundled && f.path == LIBRARY_FUNCTIONS));
                    let engine =
                        compile(files).map(|engine| analysed_with(engine, native_data.as_ref()));
                    tracing::debug!(
                        "the native library's engine parsed (and analysed) in {:?}",
                        started.elapsed()
                    );
                    engine
                })
            });
            let engine = compile(policies.files.iter());
            (engine, native_engine.map(joined))
        });
        tracing::debug!("both engines parsed in {:?}", started.elapsed());
        // A policy that does not parse: the error of the engine of every policy.
        let engine = engine?;
        let (native_library, native_data) = match (native_engine, aliases) {
            (Some(native_engine), Some(aliases)) => {
                let (native_engine, data) = native_engine?;
                (Some((native_engine, aliases)), data)
            }
            _ => (None, None),
        };
        Ok(Evaluator {
            engine,
            native_library,
            native_data,
            compiled: None,
            compiling,
            policies,
            rule_time_limit: DEFAULT_RULE_TIME_LIMIT,
            strategy: Strategy::default(),
            shard_users: super::sharded::SHARD_USERS,
        })
    }

    /// Shards of accounts for account-wise custom rules hold at least `users` users (one
    /// account at least). For tests: the findings are the same whatever the size.
    #[doc(hidden)]
    pub fn set_shard_users(&mut self, users: usize) {
        self.shard_users = users;
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
        if self.strategy != Strategy::Fast || !rule.bundled || self.extends_bundle() {
            return None;
        }
        native::user_rule(&rule.package)
    }

    /// Whether a custom policy adds to the `credwarden` namespace the bundled rules read.
    fn extends_bundle(&self) -> bool {
        self.policies.files.iter().any(|f| {
            !f.bundled
                && (f.package == "data.credwarden" || f.package.starts_with("data.credwarden."))
        })
    }

    /// Stop any single rule (or query) that evaluates for longer than `limit`.
    pub fn set_rule_time_limit(&mut self, limit: std::time::Duration) {
        self.rule_time_limit = limit;
        self.engine.set_execution_timer_config(timer(limit));
        if let Some((engine, _)) = &mut self.native_library {
            engine.set_execution_timer_config(timer(limit));
        }
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
        let stream = self.stream(snapshot, ctx)?;
        let mut findings = Vec::new();
        let evaluation = stream
            .run(
                |section| section,
                |section| {
                    findings.extend(section);
                    Ok(())
                },
            )
            .expect("collecting findings in memory does not fail");
        Ok(Evaluation {
            findings,
            ..evaluation
        })
    }

    /// Run the interpreted rules, and make ready to produce every finding section by section,
    /// in report order ([`FindingStream::run`]), without holding them all at once.
    pub fn stream<'s>(
        &mut self,
        snapshot: &'s Snapshot,
        ctx: &'s Context,
    ) -> Result<FindingStream<'s>, PolicyError> {
        let now_ns = self.set_data(ctx)?;
        let disabled: BTreeSet<String> = ctx
            .config
            .rules
            .disable
            .iter()
            .map(|s| s.to_ascii_uppercase())
            .collect();
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
        let mut parts = Parts {
            interpreted: Vec::new(),
            native: Vec::new(),
        };
        let mut interpreted = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            match self.native_rule(rule) {
                Some(run) => parts.native.push((i, run)),
                None => interpreted.push(i),
            }
        }
        let mut took = vec![std::time::Duration::ZERO; rules.len()];
        if !interpreted.is_empty() {
            let outcomes = self.run_interpreted(snapshot, ctx, &rules, &interpreted)?;
            for (i, (raws, elapsed)) in outcomes {
                took[i] = elapsed;
                parts.interpreted.push((i, raws?));
            }
        }
        Ok(FindingStream::new(
            snapshot,
            ctx,
            now_ns,
            rules,
            parts,
            took,
            self.policies.digest(),
        ))
    }

    /// Evaluate the rules at `interpreted` (positions in `rules`) that have no native form:
    /// bundled rules left in Rego and custom rules. Custom rules proven account-wise run over a
    /// few accounts at a time ([`super::sharded`]); the others read the input made whole — or,
    /// when only bundled rules are left on the fast path, the input with each account's users
    /// counted. Outcomes come back in rule order, each with its rule's time.
    fn run_interpreted(
        &mut self,
        snapshot: &Snapshot,
        ctx: &Context,
        rules: &[RuleMetadata],
        interpreted: &[usize],
    ) -> Result<Vec<Outcome>, PolicyError> {
        let input_error = |e: super::input::InputError| PolicyError::Eval(e.to_string());
        let fast = self.strategy == Strategy::Fast;
        let made = |users: Users| {
            let started = std::time::Instant::now();
            let input = snapshot_input(snapshot, users).map_err(input_error);
            tracing::debug!("the input ({users:?}) made in {:?}", started.elapsed());
            input
        };
        // Custom rules are compiled (once per evaluator, on the fast path) on a core of their
        // own while the input and the library's values are made; the bundled rules left in
        // Rego read only the small input on the fast path, where compiling them would cost
        // more than it saves.
        let native_library = self.native_library.as_ref();
        let compiling = match (self.compiling.take(), native_library) {
            (Some(pending), _) => Some(pending),
            (None, Some((_, aliases))) if fast && self.compiled.is_none() => {
                start_compiling(&self.policies, aliases, ctx)
            }
            _ => None,
        };
        // On the fast path, the input with each account's users counted: the library's values
        // read the config and the organization, never the users. On the plain path, whole.
        let made_input = made(if fast { Users::Counted } else { Users::Whole }).and_then(|base| {
            let started = std::time::Instant::now();
            let native = match native_library.filter(|_| fast) {
                Some((base_engine, aliases)) => {
                    let analysed = self.native_data.as_ref();
                    Some(native_library_engine(
                        base_engine,
                        aliases,
                        analysed,
                        ctx,
                        &base,
                    )?)
                }
                None => None,
            };
            tracing::debug!("the native library read in {:?}", started.elapsed());
            Ok((base, native))
        });
        if let Some(thread) = compiling {
            let program = thread.join();
            self.compiled = Some(program.unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        let (base, mut native) = made_input?;
        let (mut done, mut rest) = match &native {
            Some(native) => self.run_in_parts(snapshot, &base, native, rules, interpreted)?,
            None => (Vec::new(), interpreted.to_vec()),
        };
        rest.sort_unstable();
        if !rest.is_empty() {
            // Bundled rules alone read the small input on the fast path (their tests pin
            // it), unless a custom policy adds to the namespace they read.
            let small_input =
                fast && rest.iter().all(|&i| rules[i].bundled) && !self.extends_bundle();
            let input = if small_input || !fast {
                base
            } else {
                let whole = made(Users::Whole)?;
                if let Some((engine, _)) = &mut native {
                    engine.set_input(whole.clone());
                }
                whole
            };
            self.engine.set_input(input.clone());
            let chosen: Vec<&RuleMetadata> = rest.iter().map(|&i| &rules[i]).collect();
            // Rules over the whole snapshot cost milliseconds per thousand users each: worth
            // spreading over the cores. Over the small input they cost milliseconds in all.
            let workers = if small_input { 1 } else { cores() };
            let compiled = match (&native, &self.compiled) {
                (Some((engine, env)), Some(program)) => Some(Compiled {
                    program,
                    data: engine.get_data(),
                    env,
                    input: &input,
                }),
                _ => None,
            };
            let engines = Engines {
                reference: &self.engine,
                native: native.as_ref().map(|(engine, _)| engine),
                compiled: compiled.as_ref(),
            };
            let outcomes = run_rego_rules(engines, &chosen, self.rule_time_limit, workers);
            done.extend(rest.iter().copied().zip(outcomes));
        }
        done.sort_unstable_by_key(|(i, _)| *i);
        Ok(done)
    }

    /// Run the compiled custom rules of `interpreted` that need no whole input: those that
    /// never read the accounts, once over `counted` (the input with each account's users
    /// counted), and those proven account-wise, a few accounts at a time. Returns their
    /// outcomes, and the rules left for the whole input: the others, and any that gave way.
    fn run_in_parts(
        &self,
        snapshot: &Snapshot,
        counted: &regorus::Value,
        (engine, env): &(regorus::Engine, library::Env),
        rules: &[RuleMetadata],
        interpreted: &[usize],
    ) -> Result<(Vec<Outcome>, Vec<usize>), PolicyError> {
        let Some(program) = &self.compiled else {
            return Ok((Vec::new(), interpreted.to_vec()));
        };
        let (mut accountless, mut wise, mut rest) = (Vec::new(), Vec::new(), Vec::new());
        for &i in interpreted {
            let path = format!("{}.deny", rules[i].package);
            let compiled = !rules[i].bundled && program.status(&path).is_ok();
            if compiled && !program.reads_accounts(&path) {
                accountless.push(i);
            } else if compiled && program.account_wise(&path) {
                wise.push(i);
            } else {
                rest.push(i);
            }
        }
        let data = engine.get_data();
        let mut done = Vec::with_capacity(accountless.len() + wise.len());
        for (chosen, sharded) in [(&accountless, false), (&wise, true)] {
            if chosen.is_empty() {
                continue;
            }
            let rules_meta: Vec<&RuleMetadata> = chosen.iter().map(|&i| &rules[i]).collect();
            let part = super::sharded::Rules {
                program,
                data: &data,
                env,
                rules: &rules_meta,
                limit: self.rule_time_limit,
                shard_users: self.shard_users,
                // Only shards have users to make; the rules run once read none.
                users: if sharded {
                    shard_users_input(program, &rules_meta)
                } else {
                    Users::Counted
                },
            };
            let started = std::time::Instant::now();
            let outcomes = if sharded {
                super::sharded::run(snapshot, counted, &part)
                    .map_err(|e| PolicyError::Eval(e.to_string()))?
            } else {
                super::sharded::run_once(counted, &part)
            };
            let how = if sharded {
                "account by account"
            } else {
                "without the accounts"
            };
            tracing::debug!(
                "{} rules run {how} in {:?}",
                chosen.len(),
                started.elapsed()
            );
            for (&i, outcome) in chosen.iter().zip(outcomes) {
                match outcome {
                    super::sharded::Outcome::Done(raws, elapsed) => done.push((i, (raws, elapsed))),
                    super::sharded::Outcome::WholeInput => rest.push(i),
                }
            }
        }
        Ok((done, rest))
    }

    /// Compile the `deny` of `rules` (custom rules) as the fast path evaluates them: with the
    /// library's functions native and `ctx`'s data. It needs neither the snapshot nor the
    /// library's values, so it runs beside the making of both.
    /// The engine compiled from holds the custom files and the library only, not every
    /// bundled rule (a fifth of the syntax tree to read); a reference into a package it lacks
    /// leaves its rule to the interpreter. A rule that cannot be compiled keeps the
    /// interpreter.
    #[cfg(test)]
    fn compile_rules(&self, ctx: &Context, rules: &[&RuleMetadata]) -> Program {
        let aliases = self.native_library.as_ref().map(|(_, aliases)| aliases);
        compile_rules(&self.policies, aliases, ctx, rules)
    }

    /// `data.credwarden`: the evaluation time and the effective config. Returns the time in ns.
    pub(crate) fn set_data(&mut self, ctx: &Context) -> Result<i64, PolicyError> {
        set_data(&mut self.engine, ctx)
    }
}

/// The value of a scoped thread; its panic, if it panicked.
fn joined<T>(thread: std::thread::ScopedJoinHandle<'_, T>) -> T {
    thread
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// The custom rules of `policies` (if any) compiling for `ctx` on a thread of their own, to be
/// joined by the evaluation that needs them; `None` when a thread cannot be started (the
/// evaluation then compiles them itself).
fn start_compiling(
    policies: &PolicySet,
    aliases: &Aliases,
    ctx: &Context,
) -> Option<std::thread::JoinHandle<Program>> {
    if policies.rules.iter().all(|r| r.bundled) {
        return None;
    }
    let (policies, aliases, ctx) = (policies.clone(), aliases.clone(), ctx.clone());
    let compile = move || {
        let custom: Vec<&RuleMetadata> = policies.rules.iter().filter(|r| !r.bundled).collect();
        compile_rules(&policies, Some(&aliases), &ctx, &custom)
    };
    std::thread::Builder::new()
        .name("compile custom rules".into())
        .spawn(compile)
        .ok()
}

/// [`Evaluator::compile_rules`], of the policy set `policies` and the names the native
/// library's functions are called by (`aliases`): what a thread of its own needs.
fn compile_rules(
    policies: &PolicySet,
    aliases: Option<&Aliases>,
    ctx: &Context,
    rules: &[&RuleMetadata],
) -> Program {
    let entries: Vec<String> = rules
        .iter()
        .map(|rule| format!("{}.deny", rule.package))
        .collect();
    let Some(aliases) = aliases else {
        return Program::empty();
    };
    let files = &policies.files;
    let custom: BTreeSet<&str> = files
        .iter()
        .filter(|f| !f.bundled)
        .map(|f| f.package.as_str())
        .collect();
    // The library, and the bundled helper packages beside it (`policies/lib/scp.rego`)
    // that a custom file names: each module costs its syntax tree read.
    let named = |package: &str| {
        let name = package.strip_prefix("data.").unwrap_or(package);
        files.iter().any(|f| !f.bundled && f.source.contains(name))
    };
    let needed = |f: &&PolicyFile| {
        let library = f.package == "data.credwarden.lib"
            || f.package.starts_with("data.credwarden.lib.")
            || (f.path.starts_with("policies/lib/")
                && !f.path.ends_with("_test.rego")
                && named(&f.package));
        !f.bundled
            || (f.path != LIBRARY_FUNCTIONS && (library || custom.contains(f.package.as_str())))
    };
    let started = std::time::Instant::now();
    let made = compile(files.iter().filter(needed)).and_then(|mut engine| {
        set_data(&mut engine, ctx)?;
        library::register(&mut engine, &library::Env::inert(), aliases)
            .map_err(|e| PolicyError::Eval(format!("the native library: {e:#}")))?;
        Ok(engine)
    });
    let Ok(mut engine) = made else {
        return Program::empty();
    };
    tracing::debug!("the custom rules' engine made in {:?}", started.elapsed());
    let packages: Vec<String> = files.iter().map(|f| f.package.clone()).collect();
    let library = compiled::NativeLibrary {
        names: library::all_names(aliases),
    };
    let started = std::time::Instant::now();
    let program = Program::compile(&mut engine, &entries, Some(&library), &packages);
    tracing::debug!("compiled the custom rules in {:?}", started.elapsed());
    for (rule, entry) in rules.iter().zip(&entries) {
        match program.status(entry) {
            Ok(()) => tracing::debug!("{}: compiled", rule.id),
            Err(why) => tracing::info!("{} runs in the Rego interpreter: {}", rule.id, why.0),
        }
    }
    program
}

/// The bundled file of the library's functions, which run natively on the fast path.
const LIBRARY_FUNCTIONS: &str = "policies/lib/functions.rego";

/// An engine with `files` parsed.
fn compile<'f>(
    files: impl Iterator<Item = &'f PolicyFile>,
) -> Result<regorus::Engine, PolicyError> {
    let mut engine = regorus::Engine::new();
    engine.set_execution_timer_config(timer(DEFAULT_RULE_TIME_LIMIT));
    for file in files {
        engine
            .add_policy(file.path.clone(), file.source.clone())
            .map_err(|e| PolicyError::from_rego(&e, &file.path))?;
    }
    Ok(engine)
}

/// `data.credwarden`: the evaluation time and the effective config. Returns the time in ns.
fn set_data(engine: &mut regorus::Engine, ctx: &Context) -> Result<i64, PolicyError> {
    let (data, now_ns) = data_of(ctx)?;
    put_data(engine, data)?;
    Ok(now_ns)
}

/// The data of `ctx` (`data.credwarden`), and its time in ns.
fn data_of(ctx: &Context) -> Result<(serde_json::Value, i64), PolicyError> {
    let now_ns = ctx
        .now
        .timestamp_nanos_opt()
        .ok_or_else(|| PolicyError::Eval(format!("evaluation time {} is out of range", ctx.now)))?;
    let data = serde_json::json!({
        "credwarden": {
            "now": ctx.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "now_ns": now_ns,
            "config": ctx.config.policy_view(),
        }
    });
    Ok((data, now_ns))
}

/// Make `data` the engine's only data.
fn put_data(engine: &mut regorus::Engine, data: serde_json::Value) -> Result<(), PolicyError> {
    engine.clear_data();
    engine
        .add_data(regorus::Value::from(data))
        .map_err(|e| PolicyError::Eval(e.to_string()))
}

/// `engine` with `data` (when given), analysed, and the data it now holds: regorus analyses
/// the policies (statement order, loop hoisting) on the first evaluation after the data
/// changes, which for the native library's engine is the reading of the library's values, on
/// an evaluation's critical path. Done here it runs while the other engine is parsed. What is
/// evaluated is a rule of the data alone; its value, or error, is not kept (an error comes
/// again, the same, when the evaluation reads the library's values). Data that cannot be set
/// is left to the evaluation, which reports it.
fn analysed_with(
    mut engine: regorus::Engine,
    data: Option<&serde_json::Value>,
) -> (regorus::Engine, Option<serde_json::Value>) {
    let Some(data) = data else {
        return (engine, None);
    };
    if put_data(&mut engine, data.clone()).is_err() {
        engine.clear_data();
        return (engine, None);
    }
    let _ = engine.eval_rule("data.credwarden.lib.now_ns".into());
    (engine, Some(data.clone()))
}

/// `base` (the policies without the library's Rego functions) ready for this evaluation: its
/// data and input set, and the library's functions registered as native extensions that read
/// the library's values of this evaluation.
///
/// `analysed`: the data `base` holds and was analysed with, if any; the same data is not set
/// again (which would discard the analysis).
fn native_library_engine(
    base: &regorus::Engine,
    aliases: &Aliases,
    analysed: Option<&serde_json::Value>,
    ctx: &Context,
    input: &regorus::Value,
) -> Result<(regorus::Engine, library::Env), PolicyError> {
    let mut engine = base.clone();
    let (data, _) = data_of(ctx)?;
    if analysed != Some(&data) {
        put_data(&mut engine, data)?;
    }
    engine.set_input(input.clone());
    let eval = |e: anyhow::Error| PolicyError::Eval(format!("the native library: {e:#}"));
    let env = library::Env::read(&mut engine, input).map_err(eval)?;
    library::register(&mut engine, &env, aliases).map_err(eval)?;
    Ok((engine, env))
}

/// The engines interpreted rules run on: the reference, and the one with the native library
/// when the fast path has it; and the rules compiled to native code, tried first.
#[derive(Clone, Copy)]
struct Engines<'e> {
    reference: &'e regorus::Engine,
    native: Option<&'e regorus::Engine>,
    compiled: Option<&'e Compiled<'e>>,
}

/// The compiled rules and what they read in this evaluation (the native engine's).
struct Compiled<'e> {
    program: &'e Program,
    data: regorus::Value,
    env: &'e library::Env,
    input: &'e regorus::Value,
}

impl Compiled<'_> {
    /// The rule's findings from its compiled form; `None` when it has none or gives way to
    /// the interpreter (which then gives the reference's result or error).
    fn run_rule(
        &self,
        rule: &RuleMetadata,
        limit: std::time::Duration,
    ) -> Option<Result<Vec<Packed>, PolicyError>> {
        let path = format!("{}.deny", rule.package);
        let deadline = std::time::Instant::now() + limit;
        let env = Some(self.env);
        let mut findings = Distinct::default();
        let members = self.program.members(
            &path,
            self.input,
            &self.data,
            env,
            deadline,
            &mut super::sharded::reader(&mut findings),
        );
        let read = match members {
            Some(done) => done.map(|()| Ok(findings.into_iter().collect())),
            None => self
                .program
                .evaluate(&path, self.input, &self.data, env, deadline)?
                .map(|value| super::deny::findings(&value).map(|raws| packed(&raws))),
        };
        match read {
            // A `deny` that is not a set of findings: the interpreter gives the reference's
            // error.
            Ok(findings) => findings.ok().map(Ok),
            Err(compiled::Stop::TimeLimit) => Some(Err(PolicyError::TimeLimit {
                file: rule.file.clone(),
                rule: rule.id.clone(),
                seconds: limit.as_secs_f64(),
            })),
            Err(compiled::Stop::Bail(why)) => {
                tracing::debug!("{}: the interpreter evaluates it: {why}", rule.id);
                None
            }
        }
    }
}

/// One rule's `deny` set, each element checked against the finding shape a rule must produce.
fn run_rule(
    engine: &mut regorus::Engine,
    rule: &RuleMetadata,
    limit: std::time::Duration,
) -> Result<Vec<Packed>, PolicyError> {
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
    super::deny::findings(&value)
        .map(|raws| packed(&raws))
        .map_err(|bad| PolicyError::BadFinding {
            file: rule.file.clone(),
            rule: rule.id.clone(),
            message: bad.0,
        })
}

/// The users the account-wise `rules` need in their shards: counted only, when none reads
/// more of them than how many there are.
fn shard_users_input(program: &Program, rules: &[&RuleMetadata]) -> Users {
    let counted = rules
        .iter()
        .all(|rule| program.account_wise_without_users(&format!("{}.deny", rule.package)));
    if counted {
        Users::Counted
    } else {
        Users::Whole
    }
}

/// A rule's findings (or its error), and the time it took.
type RuleOutcome = (Result<Vec<Packed>, PolicyError>, std::time::Duration);

/// A rule's outcome beside its position among the evaluation's rules.
type Outcome = (usize, RuleOutcome);

use super::sharded::Distinct;

/// Findings held until the stream reports them, each as its bytes (see [`Packed`]).
fn packed(raws: &[RawFinding]) -> Vec<Packed> {
    raws.iter().map(Packed::new).collect()
}

/// Evaluate `rules` (each rule's `deny` set) with clones of an engine on `workers` threads,
/// each taking the next rule not yet taken. Outcomes come back in rule order, with each rule's
/// time. A rule runs with the native library when there is one; should it fail there (other
/// than at its time limit), it runs again on the reference engine, so an error is always the
/// reference's.
fn run_rego_rules(
    engines: Engines<'_>,
    rules: &[&RuleMetadata],
    limit: std::time::Duration,
    workers: usize,
) -> Vec<(Result<Vec<Packed>, PolicyError>, std::time::Duration)> {
    let engine = engines.native.unwrap_or(engines.reference);
    let run = |engine: &mut regorus::Engine, rule: &RuleMetadata| {
        let started = std::time::Instant::now();
        if let Some(raws) = engines.compiled.and_then(|c| c.run_rule(rule, limit)) {
            return (raws, started.elapsed());
        }
        let mut raws = run_rule(engine, rule, limit);
        // A rule stopped at its time limit is not given the limit a second time.
        let failed = matches!(&raws, Err(e) if !matches!(e, PolicyError::TimeLimit { .. }));
        if failed && engines.native.is_some() {
            raws = run_rule(&mut engines.reference.clone(), rule, limit);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use regorus::Value;

    fn paths(engine: &regorus::Engine) -> Vec<String> {
        let sources = engine.get_policies().unwrap();
        sources.iter().map(|s| s.get_path().clone()).collect()
    }

    /// Every rule of the repository in Rego — bundled and the benchmark's custom ones —
    /// compiles but the two that read the SCP tree (`parents[child] contains parent`, a
    /// rule with a composite head), and each
    /// compiled rule runs to the same `deny` set as the interpreter (with the same native
    /// library) over generated organisations, without giving way to the interpreter.
    /// An evaluator made for its context compiles the custom rules in the background and
    /// analyses its native library's engine with the context's data; its first evaluation
    /// takes both, and it finds what one made plainly finds, as does an evaluation under
    /// another context (which sets its own data); on the reference path it compiles and
    /// analyses nothing.
    #[test]
    fn an_evaluator_made_for_its_context_has_its_rules_compiled() {
        let dirs = [
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/custom-policies")
        ];
        let ctx = Context {
            now: crate::synthetic::collected_at() + chrono::Duration::days(3),
            config: Config::default(),
        };
        let snapshot = crate::synthetic::generate(crate::synthetic::Spec {
            seed: 3,
            accounts: 3,
            users: 120,
        });
        let set = || PolicySet::load(&dirs).unwrap();
        let mut early = Evaluator::for_context(set(), &ctx, Strategy::Fast).unwrap();
        assert!(early.compiling.is_some(), "compiling in the background");
        assert_eq!(early.native_data, Some(data_of(&ctx).unwrap().0));
        let mut plain = Evaluator::new(set()).unwrap();
        assert!(plain.compiled.is_none() && plain.compiling.is_none());
        assert!(plain.native_data.is_none());
        let found = early.evaluate(&snapshot, &ctx).unwrap().findings;
        let program = early
            .compiled
            .as_ref()
            .expect("the background compile is taken");
        assert!(program.status("data.org.rules.user_owner_tag.deny").is_ok());
        assert!(early.compiling.is_none());
        assert!(found.iter().any(|f| f.rule_id == "ORG001"));
        assert_eq!(found, plain.evaluate(&snapshot, &ctx).unwrap().findings);
        // Another evaluation time and config: the analysed data is not this one's.
        let mut later = ctx.clone();
        later.now += chrono::Duration::days(400);
        later.config.thresholds.unused_days = 30;
        let found = early.evaluate(&snapshot, &later).unwrap().findings;
        assert_ne!(found, plain.evaluate(&snapshot, &ctx).unwrap().findings);
        assert_eq!(found, plain.evaluate(&snapshot, &later).unwrap().findings);
        let reference = Evaluator::for_context(set(), &ctx, Strategy::Rego).unwrap();
        assert!(reference.compiled.is_none() && reference.compiling.is_none());
        assert!(reference.native_data.is_none());
        assert_eq!(reference.strategy(), Strategy::Rego);
    }

    #[test]
    fn compiled_rules_give_the_interpreters_deny_sets() {
        let dirs = [
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/custom-policies")
        ];
        let mut evaluator = Evaluator::new(PolicySet::load(&dirs).unwrap()).unwrap();
        let ctx = Context {
            now: crate::synthetic::collected_at() + chrono::Duration::days(3),
            config: Config::default(),
        };
        for seed in [1, 2] {
            let snapshot = crate::synthetic::generate(crate::synthetic::Spec {
                seed,
                accounts: 3,
                users: 150,
            });
            evaluator.set_data(&ctx).unwrap();
            let input = snapshot_input(&snapshot, Users::Whole).unwrap();
            let (base, aliases) = evaluator.native_library.as_ref().unwrap();
            let (mut native, env) =
                native_library_engine(base, aliases, None, &ctx, &input).unwrap();
            // Compiled from the whole engine (the bundled rules too), as the fast path's
            // engine holds them; a scan compiles only the custom rules, from a smaller one.
            let entries: Vec<String> = evaluator
                .policies
                .rules
                .iter()
                .map(|r| format!("{}.deny", r.package))
                .collect();
            let library = compiled::NativeLibrary {
                names: library::all_names(aliases),
            };
            let program = Program::compile(&mut native, &entries, Some(&library), &[]);
            let custom: Vec<&RuleMetadata> = evaluator
                .policies
                .rules
                .iter()
                .filter(|r| !r.bundled)
                .collect();
            let small = evaluator.compile_rules(&ctx, &custom);
            for rule in &custom {
                let path = format!("{}.deny", rule.package);
                assert_eq!(
                    small.status(&path).is_ok(),
                    program.status(&path).is_ok(),
                    "{}",
                    rule.id
                );
                // ORG016 reads the organization only; every other benchmark rule visits
                // the accounts once each.
                let accountless = rule.id == "ORG016";
                assert_eq!(small.reads_accounts(&path), !accountless, "{}", rule.id);
                assert_eq!(small.account_wise(&path), !accountless, "{}", rule.id);
            }
            let without_users: Vec<&str> = custom
                .iter()
                .filter(|r| small.account_wise_without_users(&format!("{}.deny", r.package)))
                .map(|r| r.id.as_str())
                .collect();
            assert_eq!(without_users, ["ORG013", "ORG014", "ORG015"]);
            let counted = snapshot_input(&snapshot, Users::Counted).unwrap();
            let mut keys = crate::evaluate::input::Keys::default();
            let mut shards = |users: Users| -> Vec<regorus::Value> {
                (0..snapshot.accounts.len())
                    .map(|a| {
                        let range = a..a + 1;
                        crate::evaluate::input::shard_input(
                            &snapshot, range, users, &counted, &mut keys,
                        )
                        .unwrap()
                    })
                    .collect()
            };
            let (shards, counted_shards) = (shards(Users::Whole), shards(Users::Counted));
            let data = native.get_data();
            let far = std::time::Instant::now() + std::time::Duration::from_secs(600);
            let (mut compiled, mut with_members, mut in_parts) = (0, 0, 0);
            for rule in &evaluator.policies.rules {
                let path = format!("{}.deny", rule.package);
                match program.evaluate(&path, &input, &data, Some(&env), far) {
                    None => {
                        assert!(
                            ["CW401", "CW402"].contains(&rule.id.as_str()),
                            "{} is not compiled: {:?}",
                            rule.id,
                            program.status(&path)
                        );
                    }
                    Some(outcome) => {
                        let value = outcome.unwrap_or_else(|e| panic!("{}: {e:?}", rule.id));
                        let reference = native.eval_rule(path.clone()).unwrap();
                        assert_eq!(value, reference, "seed {seed}: {}", rule.id);
                        compiled += 1;
                        // Member by member as made: the set's members, some made twice.
                        let mut members = Vec::new();
                        let mut add = |v: compiled::Lazy| {
                            // Packed from its parts as from its value.
                            let value = v.clone().into_value();
                            let quick = crate::evaluate::deny::packed_lazy(v);
                            let made = crate::evaluate::deny::packed(&value);
                            assert!(quick == made, "{}: {value:?}", rule.id);
                            members.push(value);
                            Ok(())
                        };
                        let done = program.members(&path, &input, &data, Some(&env), far, &mut add);
                        if let Some(done) = done {
                            done.unwrap_or_else(|e| panic!("{}: {e:?}", rule.id));
                            members.sort();
                            members.dedup();
                            let Value::Set(set) = &reference else {
                                panic!("{}: not a set", rule.id)
                            };
                            let set: Vec<Value> = set.iter().cloned().collect();
                            assert_eq!(members, set, "seed {seed}: {}", rule.id);
                            with_members += 1;
                            // An account at a time, or without the accounts, where the
                            // analysis allows it: the union is the whole set.
                            let parts: &[regorus::Value] =
                                if program.account_wise_without_users(&path) {
                                    &counted_shards
                                } else if program.account_wise(&path) {
                                    &shards
                                } else if !program.reads_accounts(&path) {
                                    std::slice::from_ref(&counted)
                                } else {
                                    &[]
                                };
                            if !parts.is_empty() {
                                let mut union = Vec::new();
                                for part in parts {
                                    let mut add = |v: compiled::Lazy| {
                                        union.push(v.into_value());
                                        Ok(())
                                    };
                                    let done = program.members(
                                        &path,
                                        part,
                                        &data,
                                        Some(&env),
                                        far,
                                        &mut add,
                                    );
                                    done.unwrap()
                                        .unwrap_or_else(|e| panic!("{}: {e:?}", rule.id));
                                }
                                union.sort();
                                union.dedup();
                                assert_eq!(union, set, "seed {seed}: {} in parts", rule.id);
                                in_parts += 1;
                            }
                        }
                    }
                }
            }
            assert_eq!(compiled, evaluator.policies.rules.len() - 2);
            assert_eq!(with_members, compiled, "every compiled deny is a set rule");
            assert!(in_parts >= 20, "{in_parts} rules run in parts");
        }
    }

    /// The engine of the fast path lacks exactly the library's Rego functions, so that calls
    /// reach the native ones (a Rego function of the same name would be found first).
    #[test]
    fn the_native_library_engine_lacks_only_the_rego_functions() {
        let evaluator = Evaluator::new(PolicySet::load(&[]).unwrap()).unwrap();
        let (native, aliases) = evaluator.native_library.as_ref().unwrap();
        let reference = paths(&evaluator.engine);
        assert!(reference.iter().any(|p| p == LIBRARY_FUNCTIONS));
        let expected: Vec<String> = reference
            .into_iter()
            .filter(|p| p != LIBRARY_FUNCTIONS)
            .collect();
        assert_eq!(paths(native), expected);
        assert_eq!(
            library::names("field", aliases)[..2],
            ["data.credwarden.lib.field", "lib.field"]
        );
    }
}
