//! Values computed once per run: the parts of a rule that do not change from one user to the
//! next.
//!
//! `"allowed_teams": sort(allowed_teams)` in a finding reads no variable: every finding of the
//! rule gets the same sorted array. Rego evaluates it again for each one. An expression that
//! reads no local variable — only constants, the input, data and rules, through calls — has
//! one value in a run, since every function here is pure (time comes in through data). Such an
//! expression is marked [`Expr::Once`] and the run keeps its value from its first evaluation.
//! It is first evaluated where the interpreter would first evaluate it, so an error is raised
//! in the same place (and leaves the rule to the interpreter, as any error does).

use super::ir::*;

/// Whether an expression reads no local variable, and whether computing it costs more than
/// reading its value back.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Closed {
    /// It reads a local variable (or binds some, as a comprehension does).
    No,
    /// A constant, the input, data, a rule (each already at hand), or a lookup in one.
    Cheap,
    /// A call or a value built: worth keeping.
    Costly,
}

/// Mark the closed expressions of `definition` that cost something, numbering them from
/// `count` (which is left at the number of marks made so far).
pub(super) fn mark_definition(definition: &mut Definition, count: &mut usize) {
    for body in &mut definition.chain {
        mark_query(&mut body.query, count);
        if let Some(value) = &mut body.value {
            mark_top(value, count);
        }
    }
}

fn mark_query(query: &mut Query, count: &mut usize) {
    for stmt in &mut query.stmts {
        match stmt {
            Stmt::Expr(e) | Stmt::Not(e) | Stmt::Bind(_, e) => mark_top(e, count),
            Stmt::SomeIn { collection, .. } => mark_top(collection, count),
            Stmt::Every { domain, query, .. } => {
                mark_top(domain, count);
                mark_query(query, count);
            }
        }
    }
}

/// Mark `e` itself when it is closed and costly, else its closed and costly parts.
fn mark_top(e: &mut Expr, count: &mut usize) {
    if mark(e, count) == Closed::Costly {
        wrap(e, count);
    }
}

fn wrap(e: &mut Expr, count: &mut usize) {
    let inner = std::mem::replace(e, Expr::Input);
    *e = Expr::Once(*count, Box::new(inner));
    *count += 1;
}

/// What `e` is (see [`Closed`]). When `e` is not closed, its closed and costly parts are
/// marked; when it is, the caller decides.
fn mark(e: &mut Expr, count: &mut usize) -> Closed {
    let own = match e {
        Expr::Const(_) | Expr::Input | Expr::Data(_) | Expr::Rule(_) => return Closed::Cheap,
        Expr::Local(_) => return Closed::No,
        Expr::Once(..) => return Closed::Cheap,
        Expr::ArrayCompr(query, term) | Expr::SetCompr(query, term) => {
            mark_query(query, count);
            mark_top(term, count);
            return Closed::No;
        }
        Expr::ObjectCompr(query, key, value) => {
            mark_query(query, count);
            mark_top(key, count);
            mark_top(value, count);
            return Closed::No;
        }
        Expr::Index(..)
        | Expr::Field(..)
        | Expr::FieldOr(..)
        | Expr::Compare(..)
        | Expr::Membership(..) => Closed::Cheap,
        Expr::Array(_)
        | Expr::Set(_)
        | Expr::Object(_)
        | Expr::Template(_)
        | Expr::Call(..)
        | Expr::Arith(..)
        | Expr::SetOp(..) => Closed::Costly,
    };
    let mut parts = children(e);
    let marks: Vec<Closed> = parts.iter_mut().map(|c| mark(c, count)).collect();
    if marks.contains(&Closed::No) {
        for (part, m) in parts.into_iter().zip(marks) {
            if m == Closed::Costly {
                wrap(part, count);
            }
        }
        return Closed::No;
    }
    if marks.contains(&Closed::Costly) {
        Closed::Costly
    } else {
        own
    }
}

/// The expressions `e` is made of (none for a leaf or a comprehension).
fn children(e: &mut Expr) -> Vec<&mut Expr> {
    match e {
        Expr::Index(a, b)
        | Expr::Arith(_, a, b)
        | Expr::Compare(_, a, b)
        | Expr::SetOp(_, a, b) => {
            vec![&mut **a, &mut **b]
        }
        Expr::Membership(key, value, collection) => {
            let mut out: Vec<&mut Expr> = key.iter_mut().map(|k| &mut **k).collect();
            out.push(&mut **value);
            out.push(&mut **collection);
            out
        }
        Expr::Field(base, _, _) => vec![&mut **base],
        Expr::FieldOr(base, _, fallback, _) => vec![&mut **base, &mut **fallback],
        Expr::Array(items) | Expr::Set(items) | Expr::Call(_, items) => items.iter_mut().collect(),
        Expr::Object(fields) => fields.iter_mut().flat_map(|(k, v)| [k, v]).collect(),
        Expr::Template(t) => t.fields.iter_mut().map(|(_, v)| v).collect(),
        Expr::Const(_)
        | Expr::Local(_)
        | Expr::Input
        | Expr::Data(_)
        | Expr::Rule(_)
        | Expr::Once(..)
        | Expr::ArrayCompr(..)
        | Expr::SetCompr(..)
        | Expr::ObjectCompr(..) => Vec::new(),
    }
}
