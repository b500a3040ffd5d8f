//! Which compiled rules can run a few accounts at a time.
//!
//! A custom rule reads the snapshot as engine values. Made for the whole snapshot at once,
//! those values cost 190–400 ms and 170 MB at 100,000 users before the first rule runs, and
//! twenty rules that each sweep 100,000 users' values miss the cache on every sweep. A rule
//! whose findings for an account depend on that account alone can instead run over a shard
//! of the accounts: the shard's values are made, every such rule runs over them while they
//! are in the cache, and they are dropped before the next shard reuses their memory.
//!
//! Running over shards gives exactly the whole run's set when the rule is **account-wise**:
//!
//! - a set rule (`deny contains f if …`), each definition a single body without `else`;
//! - each body iterates the accounts exactly once, with `some account in D` (no key: an index
//!   into the whole list is not an index into a shard), where `D` is `input.accounts`,
//!   `object.get(input, "accounts", …)` or a set rule that is itself account-wise
//!   (`lib.collected_accounts`);
//! - nothing else in the body or its member — no other statement, comprehension, rule or
//!   function it reaches — reads `input.accounts` (other parts of the input, such as the
//!   organization, are the same in every shard).
//!
//! The body's solutions are then those of each account in `D` taken apart, so the union of
//! the shards' sets is the whole set. Errors are not a concern here: a run that fails in any
//! shard is run again over the whole input, which gives the reference's error. The proof is
//! syntactic and conservative — any other shape keeps the whole input.

use regorus::Value;

use super::builtins;
use super::ir::{Callee, Definition, Expr, Pattern, Query, Rule, RuleId, RuleKind, Stmt};
use super::Program;

/// What is known of each rule and function while the program is analysed.
pub(super) struct Analysis<'p> {
    program: &'p Program,
    accounts: Value,
    /// Whether each rule may read `input.accounts` (`None`: not yet known).
    rule_reads: Vec<Option<bool>>,
    function_reads: Vec<Option<bool>>,
    wise: Vec<Option<bool>>,
}

impl<'p> Analysis<'p> {
    pub(super) fn new(program: &'p Program) -> Analysis<'p> {
        Analysis {
            program,
            accounts: Value::from("accounts"),
            rule_reads: vec![None; program.rules.len()],
            function_reads: vec![None; program.functions.len()],
            wise: vec![None; program.rules.len()],
        }
    }

    /// Whether the set rule `id` is account-wise (see the module's documentation).
    pub(super) fn account_wise(&mut self, id: RuleId) -> bool {
        if let Some(known) = self.wise[id] {
            return known;
        }
        // Rego has no recursion; should a cycle appear, it is not account-wise.
        self.wise[id] = Some(false);
        let rule: &'p Rule = &self.program.rules[id];
        let wise = matches!(rule.kind, RuleKind::PartialSet)
            && !rule.definitions.is_empty()
            && rule.definitions.iter().all(|definition| {
                definition.params.is_empty()
                    && match definition.chain.as_slice() {
                        [body] => {
                            self.one_pass_over_accounts(&body.query)
                                && !body.value.as_ref().is_some_and(|v| self.reads(v))
                        }
                        _ => false,
                    }
            });
        self.wise[id] = Some(wise);
        wise
    }

    /// Whether `query` iterates the accounts in exactly one statement, without a key, and
    /// reads them nowhere else.
    fn one_pass_over_accounts(&mut self, query: &'p Query) -> bool {
        let mut passes = 0;
        for stmt in &query.stmts {
            match stmt {
                Stmt::SomeIn {
                    key: None,
                    value,
                    collection,
                } if self.is_accounts(collection) => {
                    passes += 1;
                    if self.pattern_reads(value) {
                        return false;
                    }
                }
                other => {
                    if self.stmt_reads(other) {
                        return false;
                    }
                }
            }
        }
        passes == 1
    }

    /// Whether `e` is the accounts, or an account-wise set of what they hold.
    fn is_accounts(&mut self, e: &'p Expr) -> bool {
        match e {
            Expr::Once(_, inner) => self.is_accounts(inner),
            Expr::Field(inner, name, _) => matches!(**inner, Expr::Input) && *name == self.accounts,
            Expr::Call(Callee::Builtin(f), args) if builtins::is_object_get(*f) => {
                match args.as_slice() {
                    [Expr::Input, Expr::Const(key), fallback] => {
                        *key == self.accounts && !self.reads(fallback)
                    }
                    _ => false,
                }
            }
            Expr::Rule(id) => self.account_wise(*id),
            _ => false,
        }
    }

    /// Whether evaluating `e` may read `input.accounts`.
    fn reads(&mut self, e: &'p Expr) -> bool {
        match e {
            Expr::Const(_) | Expr::Local(_) | Expr::Data(_) => false,
            // The whole input, where nothing says which part is read.
            Expr::Input => true,
            Expr::Rule(id) => self.rule_reads(*id),
            Expr::Field(inner, name, _) => match **inner {
                Expr::Input => *name == self.accounts,
                _ => self.reads(inner),
            },
            Expr::FieldOr(inner, name, fallback, _) => {
                let inner_reads = match **inner {
                    Expr::Input => *name == self.accounts,
                    _ => self.reads(inner),
                };
                inner_reads || self.reads(fallback)
            }
            Expr::Index(inner, index) => match (&**inner, &**index) {
                (Expr::Input, Expr::Const(key)) => *key == self.accounts,
                _ => self.reads(inner) || self.reads(index),
            },
            Expr::Array(items) | Expr::Set(items) => items.iter().any(|i| self.reads(i)),
            Expr::Object(pairs) => pairs.iter().any(|(k, v)| self.reads(k) || self.reads(v)),
            Expr::Template(template) => template.fields.iter().any(|(_, v)| self.reads(v)),
            Expr::ArrayCompr(query, item) | Expr::SetCompr(query, item) => {
                self.query_reads(query) || self.reads(item)
            }
            Expr::ObjectCompr(query, key, value) => {
                self.query_reads(query) || self.reads(key) || self.reads(value)
            }
            Expr::Call(callee, args) => {
                let callee_reads = match callee {
                    Callee::Builtin(f) if builtins::is_object_get(*f) => {
                        if let [Expr::Input, Expr::Const(key), fallback] = args.as_slice() {
                            return *key == self.accounts || self.reads(fallback);
                        }
                        false
                    }
                    // Builtins read their arguments only; the library's native functions
                    // their arguments, the config and the organization.
                    Callee::Builtin(_) | Callee::Library(..) => false,
                    Callee::Function(id) => self.function_reads(*id),
                };
                callee_reads || args.iter().any(|a| self.reads(a))
            }
            Expr::Arith(_, a, b) | Expr::Compare(_, a, b) | Expr::SetOp(_, a, b) => {
                self.reads(a) || self.reads(b)
            }
            Expr::Membership(key, value, collection) => {
                key.as_ref().is_some_and(|k| self.reads(k))
                    || self.reads(value)
                    || self.reads(collection)
            }
            Expr::Once(_, inner) => self.reads(inner),
        }
    }

    fn stmt_reads(&mut self, stmt: &'p Stmt) -> bool {
        match stmt {
            Stmt::Expr(e) | Stmt::Not(e) => self.reads(e),
            Stmt::Bind(pattern, e) => self.pattern_reads(pattern) || self.reads(e),
            Stmt::SomeIn {
                key,
                value,
                collection,
            } => {
                key.as_ref().is_some_and(|k| self.pattern_reads(k))
                    || self.pattern_reads(value)
                    || self.reads(collection)
            }
            Stmt::Every { domain, query, .. } => self.reads(domain) || self.query_reads(query),
        }
    }

    fn query_reads(&mut self, query: &'p Query) -> bool {
        query.stmts.iter().any(|s| self.stmt_reads(s))
    }

    /// Patterns hold constants and variables only; this stays true to the type.
    fn pattern_reads(&mut self, pattern: &'p Pattern) -> bool {
        match pattern {
            Pattern::Bind(_) | Pattern::Ignore | Pattern::Equal(_) => false,
            Pattern::Array(items) => items.iter().any(|p| self.pattern_reads(p)),
        }
    }

    /// Whether the rule `id` may read `input.accounts`, through anything it reaches.
    pub(super) fn rule_reads(&mut self, id: RuleId) -> bool {
        if let Some(known) = self.rule_reads[id] {
            return known;
        }
        self.rule_reads[id] = Some(true);
        let reads = self.definitions_read(&self.program.rules[id].definitions);
        self.rule_reads[id] = Some(reads);
        reads
    }

    fn function_reads(&mut self, id: usize) -> bool {
        if let Some(known) = self.function_reads[id] {
            return known;
        }
        self.function_reads[id] = Some(true);
        let reads = self.definitions_read(&self.program.functions[id].definitions);
        self.function_reads[id] = Some(reads);
        reads
    }

    /// Whether any body (or `else`), value or parameter of `definitions` may read the accounts.
    fn definitions_read(&mut self, definitions: &'p [Definition]) -> bool {
        definitions.iter().any(|definition| {
            definition.params.iter().any(|p| self.pattern_reads(p))
                || definition.chain.iter().any(|body| {
                    self.query_reads(&body.query)
                        || body.value.as_ref().is_some_and(|v| self.reads(v))
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::Program;

    /// (account-wise, reads the accounts) of `data.t.deny` in `rules`.
    fn classify(rules: &str) -> (bool, bool) {
        let policy = format!("package t\nimport rego.v1\n{rules}\n");
        let mut engine = regorus::Engine::new();
        engine.add_policy("t.rego".into(), policy).unwrap();
        let entry = "data.t.deny".to_string();
        let program = Program::compile(&mut engine, std::slice::from_ref(&entry), None, &[]);
        assert!(
            program.status(&entry).is_ok(),
            "{rules}: {:?}",
            program.status(&entry)
        );
        (program.account_wise(&entry), program.reads_accounts(&entry))
    }

    #[test]
    fn rules_that_visit_each_account_once_are_account_wise() {
        for rules in [
            "deny contains u.name if { some a in input.accounts; some u in a.users }",
            "deny contains x if { some a in object.get(input, \"accounts\", []); x := a.id }",
            // Through a set of accounts that is itself account-wise, as `lib.collected_accounts`.
            "ok contains a if { some a in input.accounts; a.error == null }\n\
             deny contains [a.id, input.organization.id] if { some a in ok }",
            // Other statements, functions and rules that read the rest of the input.
            "n := count(input.organization.policies)\nf(a) := concat(\"-\", [a.id, input.organization.id])\n\
             deny contains f(a) if { n > 0; some a in input.accounts; count(a.users) > n }",
            // Two definitions, each over the accounts once.
            "deny contains a.id if { some a in input.accounts }\ndeny contains a.alias if { some a in input.accounts }",
            // A comprehension over one account's users.
            "deny contains [a.id, names] if { some a in input.accounts; names := [u.name | some u in a.users] }",
        ] {
            assert_eq!(classify(rules), (true, true), "{rules}");
        }
    }

    #[test]
    fn rules_that_see_several_accounts_at_once_are_not() {
        for rules in [
            // An index into the whole list.
            "deny contains [i, a.id] if { some i, a in input.accounts }",
            // Two accounts at once: a user name in two accounts.
            "deny contains u.name if { some a in input.accounts; some b in input.accounts; a.id != b.id; some u in a.users; some v in b.users; u.name == v.name }",
            // How many accounts there are.
            "deny contains a.id if { some a in input.accounts; count(input.accounts) > 1 }",
            "deny contains a.id if { some a in input.accounts; n := count(object.get(input, \"accounts\", [])) }",
            // A rule or function that reads the accounts.
            "all := [a.id | some a in input.accounts]\ndeny contains x if { some a in input.accounts; some x in all }",
            "f(x) := count(input.accounts)\ndeny contains a.id if { some a in input.accounts; f(a) > 1 }",
            // The whole input, wherever it goes.
            "f(i) := count(i.accounts)\ndeny contains a.id if { some a in input.accounts; f(input) > 1 }",
            "deny contains a.id if { some a in input.accounts; k := \"accounts\"; count(input[k]) > 1 }",
            // The accounts not iterated at all, or only inside a comprehension.
            "deny contains n if { n := count(input.accounts) }",
            "deny contains ids if { ids := [a.id | some a in input.accounts] }",
            // A set of accounts that is not account-wise.
            "two contains a if { some a in input.accounts; count(input.accounts) > 1 }\ndeny contains a.id if { some a in two }",
        ] {
            assert_eq!(classify(rules), (false, true), "{rules}");
        }
    }

    #[test]
    fn rules_that_never_read_the_accounts() {
        for rules in [
            "deny contains p.id if { some p in input.organization.policies }",
            "deny contains x if { x := object.get(input, \"organization\", null); x != null }",
            "deny contains \"x\" if { input.source == \"demo\" }",
        ] {
            assert_eq!(classify(rules), (false, false), "{rules}");
        }
    }
}
