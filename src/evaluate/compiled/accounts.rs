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
use super::ir::{Callee, Definition, Expr, Pattern, Query, Rule, RuleId, RuleKind, Slot, Stmt};
use super::Program;

/// What is known of each rule and function while the program is analysed.
pub(super) struct Analysis<'p> {
    program: &'p Program,
    accounts: Value,
    users: Value,
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
            users: Value::from("users"),
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

    /// Whether the account-wise set rule `id` reads no account's users but for how many there
    /// are (`count(account.users)`): it then runs over accounts whose users are only counted,
    /// never made into values.
    pub(super) fn without_users(&mut self, id: RuleId) -> bool {
        self.account_wise(id) && self.accounts_without_users(id, false)
    }

    /// Whether every body of the account-wise rule `id` reads of its account only fields other
    /// than the users, or their count. `passes`: its member may also be the account itself (a
    /// set of accounts another rule iterates, as `lib.collected_accounts`).
    fn accounts_without_users(&mut self, id: RuleId, passes: bool) -> bool {
        let rule: &'p Rule = &self.program.rules[id];
        rule.definitions.iter().all(|definition| {
            let [body] = definition.chain.as_slice() else {
                return false;
            };
            // The one iteration over the accounts (the rule is account-wise): its variable.
            let mut account = None;
            for stmt in &body.query.stmts {
                if let Stmt::SomeIn {
                    key: None,
                    value,
                    collection,
                } = stmt
                {
                    if !self.is_accounts(collection) {
                        continue;
                    }
                    account = match value {
                        Pattern::Bind(slot) => Some(*slot),
                        Pattern::Ignore => None,
                        _ => return false,
                    };
                    if !self.domain_without_users(collection) {
                        return false;
                    }
                }
            }
            let Some(slot) = account else {
                return true;
            };
            let stmts_fine = body.query.stmts.iter().all(|stmt| match stmt {
                Stmt::SomeIn { collection, .. } if self.is_accounts(collection) => true,
                other => !self.stmt_misuses(other, slot),
            });
            stmts_fine
                && match &body.value {
                    None => true,
                    Some(Expr::Local(s)) if passes && *s == slot => true,
                    Some(value) => !self.misuses(value, slot),
                }
        })
    }

    /// Whether the accounts `e` iterates reach the rule without their users read.
    fn domain_without_users(&mut self, e: &'p Expr) -> bool {
        match e {
            Expr::Once(_, inner) => self.domain_without_users(inner),
            Expr::Rule(id) => self.accounts_without_users(*id, true),
            _ => true,
        }
    }

    /// Whether `e` uses the account in `slot` other than by reading a field besides `users`
    /// or counting the users.
    fn misuses(&self, e: &Expr, slot: Slot) -> bool {
        let is_account = |x: &Expr| matches!(x, Expr::Local(s) if *s == slot);
        match e {
            Expr::Local(s) => *s == slot,
            Expr::Field(inner, name, _) if is_account(inner) => *name == self.users,
            Expr::FieldOr(inner, name, fallback, _) if is_account(inner) => {
                *name == self.users || self.misuses(fallback, slot)
            }
            Expr::Call(Callee::Builtin(f), args) if builtins::is_object_get(*f) => {
                match args.as_slice() {
                    [inner, Expr::Const(key), fallback] if is_account(inner) => {
                        *key == self.users || self.misuses(fallback, slot)
                    }
                    _ => args.iter().any(|a| self.misuses(a, slot)),
                }
            }
            // How many users there are: counted users are as many.
            Expr::Call(Callee::Builtin(f), args) if builtins::is_count(*f) => {
                match args.as_slice() {
                    [Expr::Field(inner, name, _)] if is_account(inner) && *name == self.users => {
                        false
                    }
                    [Expr::FieldOr(inner, name, fallback, _)]
                        if is_account(inner) && *name == self.users =>
                    {
                        self.misuses(fallback, slot)
                    }
                    _ => args.iter().any(|a| self.misuses(a, slot)),
                }
            }
            _ => parts(e).into_iter().any(|part| match part {
                Part::Expr(x) => self.misuses(x, slot),
                Part::Query(q) => q.stmts.iter().any(|s| self.stmt_misuses(s, slot)),
            }),
        }
    }

    fn stmt_misuses(&self, stmt: &Stmt, slot: Slot) -> bool {
        stmt_parts(stmt).into_iter().any(|part| match part {
            Part::Expr(x) => self.misuses(x, slot),
            Part::Query(q) => q.stmts.iter().any(|s| self.stmt_misuses(s, slot)),
        })
    }

    /// Whether `query` iterates the accounts in exactly one statement, without a key, and
    /// reads them nowhere else.
    fn one_pass_over_accounts(&mut self, query: &'p Query) -> bool {
        let mut passes = 0;
        for stmt in &query.stmts {
            match stmt {
                Stmt::SomeIn {
                    key: None,
                    collection,
                    ..
                } if self.is_accounts(collection) => passes += 1,
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
            // The whole input, where nothing says which part is read.
            Expr::Input => true,
            Expr::Rule(id) => self.rule_reads(*id),
            Expr::Field(inner, name, _) if matches!(**inner, Expr::Input) => *name == self.accounts,
            Expr::FieldOr(inner, name, fallback, _) if matches!(**inner, Expr::Input) => {
                *name == self.accounts || self.reads(fallback)
            }
            Expr::Index(inner, index) if matches!(**inner, Expr::Input) => match &**index {
                Expr::Const(key) => *key == self.accounts,
                _ => true,
            },
            Expr::Call(Callee::Builtin(f), args) if builtins::is_object_get(*f) => {
                match args.as_slice() {
                    [Expr::Input, Expr::Const(key), fallback] => {
                        *key == self.accounts || self.reads(fallback)
                    }
                    _ => args.iter().any(|a| self.reads(a)),
                }
            }
            // Builtins read their arguments only; the library's native functions their
            // arguments, the config and the organization.
            Expr::Call(Callee::Function(id), args) => {
                self.function_reads(*id) || args.iter().any(|a| self.reads(a))
            }
            _ => parts(e).into_iter().any(|part| match part {
                Part::Expr(x) => self.reads(x),
                Part::Query(q) => self.query_reads(q),
            }),
        }
    }

    fn stmt_reads(&mut self, stmt: &'p Stmt) -> bool {
        stmt_parts(stmt).into_iter().any(|part| match part {
            Part::Expr(x) => self.reads(x),
            Part::Query(q) => self.query_reads(q),
        })
    }

    fn query_reads(&mut self, query: &'p Query) -> bool {
        query.stmts.iter().any(|s| self.stmt_reads(s))
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
            definition.chain.iter().any(|body| {
                self.query_reads(&body.query) || body.value.as_ref().is_some_and(|v| self.reads(v))
            })
        })
    }
}

/// What an expression or a statement holds directly: expressions, and the queries of
/// comprehensions and `every`. Patterns hold only constants and variables.
enum Part<'p> {
    Expr(&'p Expr),
    Query(&'p Query),
}

fn parts(e: &Expr) -> Vec<Part<'_>> {
    fn exprs(items: &[Expr]) -> Vec<Part<'_>> {
        items.iter().map(Part::Expr).collect()
    }
    match e {
        Expr::Const(_) | Expr::Local(_) | Expr::Input | Expr::Data(_) | Expr::Rule(_) => Vec::new(),
        Expr::Index(a, b)
        | Expr::FieldOr(a, _, b, _)
        | Expr::Arith(_, a, b)
        | Expr::Compare(_, a, b)
        | Expr::SetOp(_, a, b) => vec![Part::Expr(a), Part::Expr(b)],
        Expr::Field(a, _, _) | Expr::Once(_, a) => vec![Part::Expr(a)],
        Expr::Array(items) | Expr::Set(items) | Expr::Call(_, items) => exprs(items),
        Expr::Object(pairs) => pairs
            .iter()
            .flat_map(|(k, v)| [Part::Expr(k), Part::Expr(v)])
            .collect(),
        Expr::Template(template) => template.fields.iter().map(|(_, v)| Part::Expr(v)).collect(),
        Expr::ArrayCompr(q, item) | Expr::SetCompr(q, item) => {
            vec![Part::Query(q), Part::Expr(item)]
        }
        Expr::ObjectCompr(q, k, v) => vec![Part::Query(q), Part::Expr(k), Part::Expr(v)],
        Expr::Membership(key, value, collection) => key
            .iter()
            .map(|k| Part::Expr(k))
            .chain([Part::Expr(value), Part::Expr(collection)])
            .collect(),
    }
}

fn stmt_parts(stmt: &Stmt) -> Vec<Part<'_>> {
    match stmt {
        Stmt::Expr(e) | Stmt::Not(e) | Stmt::Bind(_, e) => vec![Part::Expr(e)],
        Stmt::SomeIn { collection, .. } => vec![Part::Expr(collection)],
        Stmt::Every { domain, query, .. } => vec![Part::Expr(domain), Part::Query(query)],
    }
}

#[cfg(test)]
mod tests {
    use super::super::Program;

    /// (account-wise, reads the accounts) of `data.t.deny` in `rules`.
    fn classify(rules: &str) -> (bool, bool) {
        let (wise, reads, _) = classify_users(rules);
        (wise, reads)
    }

    /// And whether it is account-wise without reading the users (but their number).
    fn classify_users(rules: &str) -> (bool, bool, bool) {
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
        (
            program.account_wise(&entry),
            program.reads_accounts(&entry),
            program.account_wise_without_users(&entry),
        )
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

    #[test]
    fn rules_that_read_no_users_but_their_number() {
        let ok = "ok contains a if { some a in input.accounts; a.error == null }\n";
        for (rules, without_users) in [
            ("deny contains a.id if { some a in input.accounts }", true),
            ("deny contains a.id if { some a in input.accounts; count(a.users) > 250 }", true),
            ("deny contains [a.id, a.alias] if { some a in input.accounts; a.root.mfa_active == false }", true),
            ("deny contains x if { some a in input.accounts; x := object.get(a, \"alias\", \"-\") }", true),
            ("deny contains \"x\" if { some _ in input.accounts }", true),
            (&format!("{ok}deny contains a.id if {{ some a in ok }}"), true),
            (&format!("{ok}deny contains a.id if {{ some a in ok; count(a.users) > 1 }}"), true),
            // The users read, in every way.
            ("deny contains u.name if { some a in input.accounts; some u in a.users }", false),
            ("deny contains a.id if { some a in input.accounts; users := a.users; count(users) > 1 }", false),
            ("deny contains a.id if { some a in input.accounts; count(object.get(a, \"users\", [])) > 1 }", false),
            ("deny contains a.id if { some a in input.accounts; count([u | some u in a.users]) > 1 }", false),
            // The account whole: in a finding, to a function, compared, copied.
            ("deny contains a if { some a in input.accounts }", false),
            ("f(x) := x.id\ndeny contains f(a) if { some a in input.accounts }", false),
            ("deny contains a.id if { some a in input.accounts; a != {} }", false),
            ("deny contains b.id if { some a in input.accounts; b := a }", false),
            ("deny contains a.id if { some [a] in [[x] | some x in input.accounts] }", false),
            // A set of accounts that reads their users, or gives them.
            ("ok contains a if { some a in input.accounts; count(a.users[0]) > 0 }\ndeny contains a.id if { some a in ok }", false),
            ("ok contains a.users if { some a in input.accounts }\ndeny contains count(u) if { some u in ok }", false),
        ] {
            let (wise, reads, found) = classify_users(rules);
            assert!(reads, "{rules}");
            assert_eq!(found, without_users && wise, "{rules}");
            if without_users {
                assert!(wise, "{rules}");
            }
        }
    }
}
