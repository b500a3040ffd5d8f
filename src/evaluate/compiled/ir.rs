//! What a policy is compiled into: names resolved, variables numbered, calls bound.
//!
//! Every expression here has one value (or is undefined): a reference that would iterate
//! (`x[_]`) is not compiled. Only a statement iterates (`some … in …`), so a query is run by
//! backtracking over its statements and nothing else.

use regorus::Value;

use super::builtins::Builtin;
use crate::evaluate::native::library::Function;

/// Index of a variable in its frame.
pub(super) type Slot = u32;

/// Index of a rule in [`super::Program::rules`].
pub(super) type RuleId = usize;

/// Index of a function in [`super::Program::functions`].
pub(super) type FunctionId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Compare {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    Ne,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SetOp {
    Union,
    Intersection,
}

pub(super) enum Expr {
    Const(Value),
    Local(Slot),
    Input,
    /// The data document at this path (no rule lives at or under it).
    Data(Vec<Value>),
    /// The value of a rule (complete rules and partial sets).
    Rule(RuleId),
    /// `e[index]`.
    Index(Box<Expr>, Box<Expr>),
    /// `e.field`: the field's name (a string), and the number of this place in the run's
    /// record of where each place last found its field (see `Run::field`).
    Field(Box<Expr>, Value, usize),
    /// `lib.field(e, "name", fallback)` (the library's field read, native): `e.name` when `e`
    /// is an object that has it, else the fallback; undefined when `e` or the fallback is. The
    /// place is numbered with those of [`Expr::Field`].
    FieldOr(Box<Expr>, Value, Box<Expr>, usize),
    Array(Vec<Expr>),
    Set(Vec<Expr>),
    Object(Vec<(Expr, Expr)>),
    /// An object literal whose keys are distinct constants: a copy of its keys, filled in.
    Template(Box<Template>),
    ArrayCompr(Box<Query>, Box<Expr>),
    SetCompr(Box<Query>, Box<Expr>),
    ObjectCompr(Box<Query>, Box<Expr>, Box<Expr>),
    Call(Callee, Vec<Expr>),
    Arith(Arith, Box<Expr>, Box<Expr>),
    Compare(Compare, Box<Expr>, Box<Expr>),
    SetOp(SetOp, Box<Expr>, Box<Expr>),
    /// `value in collection` and `key, value in collection`.
    Membership(Option<Box<Expr>>, Box<Expr>, Box<Expr>),
    /// An expression that reads no local variable: its value is kept, in this slot of the
    /// run, from its first evaluation (see `once.rs`).
    Once(usize, Box<Expr>),
}

/// The keys of an object literal, sorted as an object keeps them, and its values' expressions
/// in the literal's order.
pub(super) struct Template {
    /// The keys, each with a placeholder value.
    pub(super) object: regorus::value::Object,
    pub(super) fields: Vec<(Value, Expr)>,
    /// For each key in the object's order, the index of its field.
    pub(super) order: Vec<usize>,
}

pub(super) enum Callee {
    Builtin(Builtin),
    /// A function of the credwarden library that runs natively on the fast path, and how its
    /// value is given lazily, if it can be.
    Library(Function, Option<Made>),
    Function(FunctionId),
}

/// A library function whose value [`super::run::Run::lazy`] gives as its parts.
pub(super) enum Made {
    /// `lib.manual(params, task)`: `{"action": "manual", "params": object.union(params,
    /// {"task": task})}`. The keys and the action, made once.
    Manual {
        action: Value,
        params: Value,
        task: Value,
        manual: Value,
    },
    /// `lib.user_resource(user)`: its keys in order (`arn`, `id`, `type`).
    UserResource([Value; 3]),
    /// `lib.key_resource(user, key)`: its keys in order (`arn`, `id`, `type`, `user`).
    KeyResource([Value; 4]),
    /// `lib.key_remediation(user, key, action)` where the key's id is a string:
    /// `{"action": action, "params": {"access_key_id": id, "user_name": name}}`, or for a
    /// break-glass user `{"action": "manual", "params": {"access_key_id": id, "break_glass":
    /// true, "intended_action": action, "user_name": name}}`. The keys (`action`, `params`,
    /// then the params' in order) and `manual`, made once.
    KeyRemediation {
        outer: [Value; 2],
        params: [Value; 4],
        manual: Value,
    },
}

/// What a value is matched against: `x := v`, `some [a, _] in c`, a parameter.
pub(super) enum Pattern {
    /// A fresh variable.
    Bind(Slot),
    /// `_`.
    Ignore,
    /// A literal the value must equal.
    Equal(Value),
    /// An array of exactly these elements.
    Array(Vec<Pattern>),
}

pub(super) enum Stmt {
    /// Holds when the value is defined and not `false`.
    Expr(Expr),
    /// Holds when the value is undefined or `false`.
    Not(Expr),
    /// `x := e`, `[a, b] := e`: binds fresh variables.
    Bind(Pattern, Expr),
    /// `some value in collection` / `some key, value in collection`.
    SomeIn {
        key: Option<Pattern>,
        value: Pattern,
        collection: Expr,
    },
    /// `every key, value in domain { query }`.
    Every {
        key: Option<Slot>,
        value: Slot,
        domain: Expr,
        query: Query,
    },
}

/// Statements in the order the interpreter runs them.
pub(super) struct Query {
    pub(super) stmts: Vec<Stmt>,
}

/// One `if` body of a rule or function and its value, followed by its `else` bodies.
pub(super) struct Body {
    pub(super) query: Query,
    /// The value the body gives; `None` for `true` (a rule or function without `:=`).
    pub(super) value: Option<Expr>,
}

/// One definition: a body and its `else` chain.
pub(super) struct Definition {
    /// A function's parameters (none for a rule).
    pub(super) params: Vec<Pattern>,
    pub(super) chain: Vec<Body>,
    /// Variables the definition's bodies use: the size of its frame.
    pub(super) slots: u32,
}

pub(super) enum RuleKind {
    /// `r := v if …` (or `r if …`): one value.
    Complete,
    /// `r contains x if …`: the set of every `x`.
    PartialSet,
}

pub(super) struct Rule {
    pub(super) path: String,
    pub(super) kind: RuleKind,
    pub(super) definitions: Vec<Definition>,
    pub(super) default: Option<Value>,
}

pub(super) struct UserFunction {
    pub(super) path: String,
    pub(super) definitions: Vec<Definition>,
}
