//! The order in which the interpreter runs a query's statements.
//!
//! regorus does not run a query's statements in source order: its analyzer records, for each
//! statement, which variables it defines and which it uses, and orders the statements by
//! those dependencies (taking variables in name order). The order decides which error a
//! broken rule raises first and the order of an array comprehension's elements, so a
//! compiled query runs its statements in exactly that order: this module repeats the
//! analysis for the statements that are compiled (regorus 0.14's `scheduler.rs`).
//!
//! Only the variables the query itself declares (`:=`, `some … in`) matter here: a compiled
//! query has no other free variable (lowering refuses one).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::tree::Tree as Json;

use super::lower::Unsupported;

/// A variable a statement defines (`""` for none) and the variables it needs first.
struct Definition {
    var: String,
    used: Vec<String>,
}

fn variant(json: &Json) -> Option<(&str, &Json)> {
    match json.as_object()? {
        [(k, v)] => Some((k, v)),
        _ => None,
    }
}

fn var_name(expr: &Json) -> Option<&str> {
    match variant(expr)? {
        ("Var", v) => v.get("value")?.as_str(),
        _ => None,
    }
}

/// The children of an expression the analyzer's traversal visits: not a comprehension's
/// insides, not a call's function name.
fn children(expr: &Json) -> Vec<&Json> {
    let Some((kind, e)) = variant(expr) else {
        return Vec::new();
    };
    let get = |name: &str| e.get(name).filter(|v| !v.is_null());
    match kind {
        "Array" | "Set" => get("items")
            .and_then(Json::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default(),
        "Object" => get("fields")
            .and_then(Json::as_array)
            .map(|fields| {
                fields
                    .iter()
                    .flat_map(|f| [f.get(1), f.get(2)].into_iter().flatten())
                    .collect()
            })
            .unwrap_or_default(),
        "Call" => get("params")
            .and_then(Json::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default(),
        "UnaryExpr" => get("expr").into_iter().collect(),
        "RefDot" => get("refr").into_iter().collect(),
        "RefBrack" => [get("refr"), get("index")].into_iter().flatten().collect(),
        "BinExpr" | "BoolExpr" | "ArithExpr" | "AssignExpr" => {
            [get("lhs"), get("rhs")].into_iter().flatten().collect()
        }
        "Membership" => [get("key"), get("value"), get("collection")]
            .into_iter()
            .flatten()
            .collect(),
        _ => Vec::new(),
    }
}

fn is_comprehension(expr: &Json) -> bool {
    matches!(
        variant(expr),
        Some(("ArrayCompr" | "SetCompr" | "ObjectCompr", _))
    )
}

/// The analysis of one query: its own variables.
struct Analysis<'l> {
    locals: &'l BTreeSet<String>,
}

impl Analysis<'_> {
    /// The query's variables `expr` uses, adding the definitions its indexes make (`r[i]`
    /// with `i` a variable of the query defines `i` from `r`'s variables); comprehensions
    /// inside are returned, not entered.
    fn used<'j>(
        &self,
        expr: &'j Json,
        definitions: &mut Vec<Definition>,
        comprehensions: &mut Vec<&'j Json>,
    ) -> Vec<String> {
        let mut used = Vec::new();
        self.visit_used(expr, definitions, comprehensions, &mut used);
        used
    }

    fn visit_used<'j>(
        &self,
        expr: &'j Json,
        definitions: &mut Vec<Definition>,
        comprehensions: &mut Vec<&'j Json>,
        used: &mut Vec<String>,
    ) {
        if let Some(name) = var_name(expr) {
            if !matches!(name, "_" | "input" | "data") && self.locals.contains(name) {
                used.push(name.to_string());
            }
            return;
        }
        if is_comprehension(expr) {
            comprehensions.push(expr);
            return;
        }
        if let Some(("RefBrack", e)) = variant(expr) {
            if let (Some(refr), Some(index)) = (e.get("refr"), e.get("index")) {
                for var in self.index_vars(index) {
                    let mut refr_comprehensions = Vec::new();
                    let refr_used = self.used(refr, definitions, &mut refr_comprehensions);
                    definitions.push(Definition {
                        var: var.clone(),
                        used: refr_used.clone(),
                    });
                    used.extend(refr_used);
                    used.push(var);
                    comprehensions.extend(refr_comprehensions);
                }
            }
        }
        for child in children(expr) {
            self.visit_used(child, definitions, comprehensions, used);
        }
    }

    /// The query's variables at the root of an index or inside its array and object literals.
    fn index_vars(&self, index: &Json) -> Vec<String> {
        let mut vars = Vec::new();
        self.visit_index(index, &mut vars);
        vars
    }

    fn visit_index(&self, expr: &Json, vars: &mut Vec<String>) {
        if let Some(name) = var_name(expr) {
            if self.locals.contains(name) {
                vars.push(name.to_string());
            }
            return;
        }
        if let Some(("Array" | "Object", _)) = variant(expr) {
            for child in children(expr) {
                self.visit_index(child, vars);
            }
        }
    }

    /// The query's variables `expr` assigns: its root, or inside its array and object literals.
    fn assigned(&self, expr: &Json) -> Vec<String> {
        self.index_vars(expr)
    }

    /// The variables of this query that `comprehensions` read from it.
    fn comprehension_inputs(&self, comprehensions: &[&Json], used: &mut Vec<String>) {
        for c in comprehensions {
            let mut free = BTreeSet::new();
            comprehension_free_vars(c, &mut free);
            // The analyzer records them in the order of its own scope (a sorted set).
            used.extend(free.into_iter().filter(|v| self.locals.contains(v)));
        }
    }

    fn definitions(&self, stmt: &Json) -> Vec<Definition> {
        let mut definitions = Vec::new();
        let Some((kind, literal)) = stmt.get("literal").and_then(variant) else {
            return vec![empty(Vec::new())];
        };
        match kind {
            "SomeIn" => {
                let mut comprehensions = Vec::new();
                let mut used = match literal.get("collection") {
                    Some(c) => self.used(c, &mut definitions, &mut comprehensions),
                    None => Vec::new(),
                };
                self.comprehension_inputs(&comprehensions, &mut used);
                for pattern in ["key", "value"] {
                    let Some(p) = literal.get(pattern).filter(|p| !p.is_null()) else {
                        continue;
                    };
                    let mut names = Vec::new();
                    ordered_pattern_vars(p, &mut names);
                    for name in names.into_iter().filter(|n| self.locals.contains(n)) {
                        definitions.push(Definition {
                            var: name,
                            used: used.clone(),
                        });
                    }
                }
                // The patterns' other parts (literals, `_`) use no variable of the query.
                definitions.push(empty(Vec::new()));
            }
            "Expr" | "NotExpr" => {
                if let Some(expr) = literal.get("expr") {
                    self.expr_definitions(expr, &mut definitions);
                }
            }
            "Every" => {
                let mut comprehensions = Vec::new();
                let mut used = match literal.get("domain") {
                    Some(d) => self.used(d, &mut definitions, &mut comprehensions),
                    None => Vec::new(),
                };
                self.comprehension_inputs(&comprehensions, &mut used);
                definitions.push(empty(used));
            }
            _ => {}
        }
        if definitions.is_empty() {
            definitions.push(empty(Vec::new()));
        }
        definitions
    }

    fn expr_definitions(&self, expr: &Json, definitions: &mut Vec<Definition>) {
        if let Some(("AssignExpr", a)) = variant(expr) {
            if let (Some(lhs), Some(rhs)) = (a.get("lhs"), a.get("rhs")) {
                self.assign_definitions(lhs, rhs, definitions);
                return;
            }
        }
        let mut comprehensions = Vec::new();
        let mut used = self.used(expr, definitions, &mut comprehensions);
        self.comprehension_inputs(&comprehensions, &mut used);
        definitions.push(empty(used));
    }

    /// `lhs := rhs` and `lhs = rhs`: each side defines its variables from the other's.
    fn assign_definitions(&self, lhs: &Json, rhs: &Json, definitions: &mut Vec<Definition>) {
        for (from, to) in [(rhs, lhs), (lhs, rhs)] {
            let mut comprehensions = Vec::new();
            let mut used = self.used(from, definitions, &mut comprehensions);
            self.comprehension_inputs(&comprehensions, &mut used);
            let assigned = self.assigned(to);
            for var in &assigned {
                definitions.push(Definition {
                    var: var.clone(),
                    used: used.iter().filter(|u| *u != var).cloned().collect(),
                });
            }
            if assigned.is_empty() {
                definitions.push(empty(used));
            }
        }
    }
}

fn empty(used: Vec<String>) -> Definition {
    Definition {
        var: String::new(),
        used,
    }
}

/// The variables a comprehension reads from outside: those it names (in its statements,
/// its term, and its own comprehensions' inputs) that its query does not declare.
fn comprehension_free_vars(compr: &Json, free: &mut BTreeSet<String>) {
    let Some((_, c)) = variant(compr) else { return };
    let mut named = BTreeSet::new();
    for part in ["term", "key", "value"] {
        if let Some(e) = c.get(part) {
            names_in(e, &mut named);
        }
    }
    let mut declared = BTreeSet::new();
    if let Some(stmts) = c
        .get("query")
        .and_then(|q| q.get("stmts"))
        .and_then(Json::as_array)
    {
        for stmt in stmts {
            declared_by(stmt, &mut declared);
            let Some((kind, literal)) = stmt.get("literal").and_then(variant) else {
                continue;
            };
            match kind {
                "SomeIn" => {
                    if let Some(c) = literal.get("collection") {
                        names_in(c, &mut named);
                    }
                }
                "Expr" | "NotExpr" => {
                    if let Some(e) = literal.get("expr") {
                        names_in(e, &mut named);
                    }
                }
                "Every" => {
                    if let Some(d) = literal.get("domain") {
                        names_in(d, &mut named);
                    }
                }
                _ => {}
            }
        }
    }
    free.extend(named.into_iter().filter(|n| !declared.contains(n)));
}

/// The variable names an expression uses, with its comprehensions' free variables.
fn names_in(expr: &Json, names: &mut BTreeSet<String>) {
    if let Some(name) = var_name(expr) {
        if !matches!(name, "_" | "input" | "data") {
            names.insert(name.to_string());
        }
        return;
    }
    if is_comprehension(expr) {
        comprehension_free_vars(expr, names);
        return;
    }
    for child in children(expr) {
        names_in(child, names);
    }
}

/// The variables of a pattern: at its root or inside its array and object literals.
pub(super) fn pattern_vars(pattern: &Json, names: &mut BTreeSet<String>) {
    let mut ordered = Vec::new();
    ordered_pattern_vars(pattern, &mut ordered);
    names.extend(ordered);
}

fn ordered_pattern_vars(pattern: &Json, names: &mut Vec<String>) {
    if let Some(name) = var_name(pattern) {
        if !matches!(name, "_" | "input") {
            names.push(name.to_string());
        }
        return;
    }
    if let Some(("Array" | "Object", _)) = variant(pattern) {
        for child in children(pattern) {
            ordered_pattern_vars(child, names);
        }
    }
}

/// The variables a statement declares: `x := …`, `[a, b] := …`, `some k, v in …`.
pub(super) fn declared_by(stmt: &Json, declared: &mut BTreeSet<String>) {
    let Some((kind, literal)) = stmt.get("literal").and_then(variant) else {
        return;
    };
    match kind {
        "SomeIn" => {
            for pattern in ["key", "value"] {
                if let Some(p) = literal.get(pattern).filter(|p| !p.is_null()) {
                    pattern_vars(p, declared);
                }
            }
        }
        "Expr" => {
            if let Some(("AssignExpr", a)) = literal.get("expr").and_then(variant) {
                if a.get("op").and_then(Json::as_str) == Some("ColEq") {
                    if let Some(lhs) = a.get("lhs") {
                        pattern_vars(lhs, declared);
                    }
                }
            }
        }
        _ => {}
    }
}

/// The statements of a query in the order the interpreter runs them.
pub(super) fn order(stmts: &[Json]) -> Result<Vec<usize>, Unsupported> {
    let mut locals = BTreeSet::new();
    for stmt in stmts {
        declared_by(stmt, &mut locals);
    }
    let analysis = Analysis { locals: &locals };
    let infos: Vec<Vec<Definition>> = stmts.iter().map(|s| analysis.definitions(s)).collect();
    Ok(schedule(&infos))
}

/// regorus's ordering: statements are taken as the variables they need become defined,
/// variables visited in name order; source order when not every statement can be placed.
fn schedule(infos: &[Vec<Definition>]) -> Vec<usize> {
    let mut state = State {
        infos,
        defining: BTreeMap::new(),
        order: Vec::with_capacity(infos.len()),
        defined: BTreeSet::new(),
        scheduled: vec![false; infos.len()],
    };
    for (i, definitions) in infos.iter().enumerate() {
        for d in definitions {
            state.defining.entry(d.var.as_str()).or_default().push(i);
        }
    }
    let mut to_process: Vec<&str> = state.defining.keys().copied().collect();
    let mut tmp: Vec<&str> = Vec::new();
    state.process("");
    loop {
        let mut done = true;
        std::mem::swap(&mut to_process, &mut tmp);
        // As in regorus, `tmp` is not cleared: what it held stays part of later rounds.
        for var in tmp.clone() {
            let (placed, again) = state.process(var);
            if placed {
                done = false;
                state.process("");
            }
            if again {
                to_process.push(var);
            }
        }
        if done {
            break;
        }
    }
    if state.order.len() != infos.len() {
        return (0..infos.len()).collect();
    }
    state.order
}

struct State<'i> {
    infos: &'i [Vec<Definition>],
    defining: BTreeMap<&'i str, Vec<usize>>,
    order: Vec<usize>,
    defined: BTreeSet<&'i str>,
    scheduled: Vec<bool>,
}

impl<'i> State<'i> {
    /// Try every statement that defines `var`: (one was placed, one must wait).
    fn process(&mut self, var: &str) -> (bool, bool) {
        let mut placed = false;
        let mut again = false;
        let stmts = self.defining.get(var).cloned().unwrap_or_default();
        for i in stmts {
            match self.try_schedule(i) {
                Some(true) => placed = true,
                Some(false) => again = true,
                None => {}
            }
        }
        (placed, again)
    }

    fn try_schedule(&mut self, i: usize) -> Option<bool> {
        if self.scheduled[i] {
            return None;
        }
        let infos: &'i [Vec<Definition>] = self.infos;
        let definitions = &infos[i];
        let ready = if definitions.len() == 1 {
            definitions[0]
                .used
                .iter()
                .all(|u| self.defined.contains(u.as_str()))
        } else {
            let mut here: BTreeSet<&str> = BTreeSet::new();
            let mut queue: VecDeque<&Definition> = definitions.iter().collect();
            loop {
                let m = queue.len();
                for _ in 0..m {
                    let d = queue.pop_front().expect("counted");
                    let known =
                        |u: &String| self.defined.contains(u.as_str()) || here.contains(u.as_str());
                    if d.used.iter().all(known) {
                        here.insert(d.var.as_str());
                    } else {
                        queue.push_back(d);
                    }
                }
                if queue.len() == m {
                    break;
                }
            }
            queue.is_empty()
        };
        if !ready {
            return Some(false);
        }
        self.order.push(i);
        self.scheduled[i] = true;
        for d in definitions {
            self.defined.insert(d.var.as_str());
        }
        Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmts(policy: &str) -> Vec<Json> {
        let mut engine = regorus::Engine::new();
        engine.add_policy("t.rego".into(), policy.into()).unwrap();
        let mut keys = super::super::tree::Keys::default();
        let ast = super::super::tree::to_tree(engine.get_modules(), &mut keys).unwrap();
        let rule = ast.get(0).and_then(|m| m.get("rules")?.get(0)?.get("Spec"));
        let body = rule.and_then(|r| r.get("bodies")?.get(0)?.get("query")?.get("stmts"));
        body.and_then(Json::as_array).unwrap().clone()
    }

    #[test]
    fn source_order_stays_when_each_statement_is_ready() {
        let s = stmts(
            "package t\nimport rego.v1\nr if {\n some a in input.a\n some b in a.b\n b > 1\n c := b + 1\n c < 5\n}",
        );
        assert_eq!(order(&s).unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_loop_that_needs_nothing_runs_first() {
        // The analyzer's own example: the loop over input.b needs no variable, so it is
        // placed as soon as the statements without a variable are, before `y` and `z`.
        let s = stmts(
            "package t\nimport rego.v1\nr if {\n y := input.a\n z := y\n some v in z\n some w in input.b\n}",
        );
        assert_eq!(order(&s).unwrap(), vec![0, 3, 1, 2]);
    }
}
