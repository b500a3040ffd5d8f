//! Running a compiled rule: backtracking over statements, rule values computed once.

use std::time::Instant;

use regorus::Value;

use super::ir::*;
use super::lazy::Lazy;
use super::Program;
use crate::evaluate::native::library;

/// Why a compiled evaluation stopped without a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The interpreter would raise an error here, or this case is not mirrored exactly: the
    /// interpreter evaluates the rule instead.
    Bail(String),
    /// The rule ran past its time limit.
    TimeLimit,
}

type Step<T> = Result<T, Stop>;

fn bail<T>(why: impl Into<String>) -> Step<T> {
    Err(Stop::Bail(why.into()))
}

/// How often (in iterations) the clock is read.
const CLOCK_EVERY: u32 = 1024;

pub(super) struct Run<'p> {
    program: &'p Program,
    input: &'p Value,
    data: &'p Value,
    env: Option<&'p library::Env>,
    rules: Vec<Option<Value>>,
    /// The values of the expressions computed once ([`Expr::Once`]).
    onces: Vec<Option<Value>>,
    /// Where each field access last found its field: the object's key (kept, so that its
    /// address stays its own) and its position among the object's members.
    fields: Vec<Option<(Value, usize)>>,
    /// Frames given back, for the next call.
    frames: Vec<Vec<Value>>,
    /// The arguments of the calls under way, innermost last.
    args: Vec<Value>,
    deadline: Instant,
    steps: u32,
}

/// An object of `keys` and `values` (in key order), given as its parts; undefined without
/// its values.
fn members<const N: usize>(keys: &[Value; N], values: Option<[Value; N]>) -> Lazy {
    match values {
        Some(values) => Lazy::Object(keys.iter().cloned().zip(values.map(Lazy::Value)).collect()),
        None => Lazy::Value(Value::Undefined),
    }
}

/// `lib.manual(params, task)` as its parts: `{"action": "manual", "params":
/// object.union(params, {"task": task})}` where `params` is an object without a `task` (its
/// members and the task in its place). Anything else is given back, for the library's own.
fn manual(made: &Made, params: Lazy, task: Value) -> Result<Lazy, (Lazy, Value)> {
    let Made::Manual {
        action,
        params: params_key,
        task: task_key,
        manual,
    } = made
    else {
        return Err((params, task));
    };
    let mut members = params
        .into_members()
        .map_err(|params| (params, task.clone()))?;
    match members.binary_search_by(|(k, _)| k.cmp(task_key)) {
        Ok(_) => Err((Lazy::Object(members), task)),
        Err(at) => {
            members.insert(at, (task_key.clone(), Lazy::Value(task)));
            Ok(Lazy::Object(vec![
                (action.clone(), Lazy::Value(manual.clone())),
                (params_key.clone(), Lazy::Object(members)),
            ]))
        }
    }
}

/// Where a set rule's members go: made into values, or as their parts.
enum Gather<'a> {
    Made(&'a mut dyn FnMut(Value) -> Step<()>),
    Lazy(&'a mut dyn FnMut(Lazy) -> Step<()>),
}

/// A statement holds when its value is defined and not `false`.
fn holds(v: &Value) -> bool {
    !matches!(v, Value::Undefined | Value::Bool(false))
}

impl<'p> Run<'p> {
    pub(super) fn new(
        program: &'p Program,
        input: &'p Value,
        data: &'p Value,
        env: Option<&'p library::Env>,
        deadline: Instant,
    ) -> Run<'p> {
        Run {
            program,
            input,
            data,
            env,
            rules: vec![None; program.rules.len()],
            onces: vec![None; program.onces],
            fields: vec![None; program.fields],
            frames: Vec::new(),
            args: Vec::new(),
            deadline,
            steps: 0,
        }
    }

    fn tick(&mut self) -> Step<()> {
        self.steps += 1;
        if self.steps % CLOCK_EVERY == 0 && Instant::now() >= self.deadline {
            return Err(Stop::TimeLimit);
        }
        Ok(())
    }

    /// The value of rule `id`, computed on first use.
    pub(super) fn rule(&mut self, id: RuleId) -> Step<Value> {
        if let Some(v) = &self.rules[id] {
            return Ok(v.clone());
        }
        let program = self.program;
        let rule = &program.rules[id];
        let value = match rule.kind {
            RuleKind::Complete => {
                let mut value = Value::Undefined;
                for definition in &rule.definitions {
                    let v = self.definition(definition, &[])?;
                    value = merge(value, v, &rule.path)?;
                }
                if value == Value::Undefined {
                    rule.default.clone().unwrap_or(Value::Undefined)
                } else {
                    value
                }
            }
            RuleKind::PartialSet => {
                let mut members = std::collections::BTreeSet::new();
                self.gather(
                    rule,
                    Gather::Made(&mut |v| {
                        members.insert(v);
                        Ok(())
                    }),
                )?;
                Value::from(members)
            }
        };
        self.rules[id] = Some(value.clone());
        Ok(value)
    }

    /// Give `add` each member of the set rule `id` (`r contains x if …`) as it is made, in
    /// the interpreter's order, a member made twice given twice: what its value holds,
    /// without holding it, each as its parts ([`Lazy`]). `None` for a rule of another kind.
    pub(super) fn members(
        &mut self,
        id: RuleId,
        add: &mut dyn FnMut(Lazy) -> Step<()>,
    ) -> Option<Step<()>> {
        let rule = &self.program.rules[id];
        if !matches!(rule.kind, RuleKind::PartialSet) {
            return None;
        }
        Some(self.gather(rule, Gather::Lazy(add)))
    }

    /// Every member of the set rule `rule`, in the interpreter's order, duplicates included.
    fn gather(&mut self, rule: &Rule, mut add: Gather<'_>) -> Step<()> {
        for definition in &rule.definitions {
            let [body] = definition.chain.as_slice() else {
                return bail("a set rule with else");
            };
            let mut frame = self.frame(definition.slots);
            let mut stmts = body.query.stmts.as_slice();
            let mut value = body.value.as_ref();
            // `x := e` last and `contains x`: the member is `e`, given lazily. Its statement
            // fails where `e` is undefined (no member, not a bail), as the binding would.
            let mut bound_last = false;
            if let (Gather::Lazy(_), Some(Expr::Local(x))) = (&add, value) {
                if let Some((Stmt::Bind(Pattern::Bind(y), e), before)) = stmts.split_last() {
                    if x == y {
                        (stmts, value, bound_last) = (before, Some(e), true);
                    }
                }
            }
            let done = self.query(stmts, &mut frame, &mut |run, frame| {
                let member = match value {
                    Some(e) => match add {
                        Gather::Lazy(_) => run.lazy(e, frame)?,
                        Gather::Made(_) => Lazy::Value(run.expr(e, frame)?),
                    },
                    None => Lazy::Value(Value::Bool(true)),
                };
                if member.is_undefined() {
                    if bound_last {
                        return Ok(());
                    }
                    // The interpreter then drops what the rule had gathered.
                    return bail("a set rule's member is undefined");
                }
                match &mut add {
                    Gather::Lazy(add) => add(member),
                    Gather::Made(add) => add(member.into_value()),
                }
            });
            self.frames.push(frame);
            done?;
        }
        Ok(())
    }

    /// The value of `e`, objects that `e` makes itself given as their parts: an object
    /// literal of constant keys, `lib.manual`. Evaluated as [`Run::expr`] evaluates it, in
    /// the same order, undefined and failing where it is.
    pub(super) fn lazy(&mut self, e: &Expr, frame: &mut [Value]) -> Step<Lazy> {
        match e {
            Expr::Template(t) => {
                let mut made = Vec::with_capacity(t.fields.len());
                for (_, value) in &t.fields {
                    let v = self.lazy(value, frame)?;
                    if v.is_undefined() {
                        return Ok(v);
                    }
                    made.push(Some(v));
                }
                let members = t.order.iter().map(|&i| {
                    let v = made[i].take().expect("each field once");
                    (t.fields[i].0.clone(), v)
                });
                Ok(Lazy::Object(members.collect()))
            }
            Expr::Call(Callee::Library(_, Some(made)), args) => {
                self.lazy_library(e, made, args, frame)
            }
            _ => self.expr(e, frame).map(Lazy::Value),
        }
    }

    /// [`Run::lazy`] of a call of the library (`e`) that it gives as its parts. The
    /// arguments are evaluated in order, then the call is undefined if one is, as
    /// [`Run::apply`] has it.
    fn lazy_library(
        &mut self,
        e: &Expr,
        made: &Made,
        args: &[Expr],
        frame: &mut [Value],
    ) -> Step<Lazy> {
        let Expr::Call(Callee::Library(f, _), _) = e else {
            unreachable!("a call of the library");
        };
        match (made, args) {
            (Made::UserResource(keys), [user]) => {
                let user = self.expr(user, frame)?;
                if user == Value::Undefined {
                    return Ok(Lazy::Value(Value::Undefined));
                }
                self.library_values()?;
                Ok(members(keys, library::user_resource_parts(&user)))
            }
            (Made::KeyResource(keys), [user, key]) => {
                let user = self.expr(user, frame)?;
                let key = self.expr(key, frame)?;
                if user == Value::Undefined || key == Value::Undefined {
                    return Ok(Lazy::Value(Value::Undefined));
                }
                self.library_values()?;
                let parts = library::key_resource_parts(&user, &key);
                let parts = parts.map_err(|e| Stop::Bail(format!("{e:#}")))?;
                Ok(members(keys, parts))
            }
            (
                Made::KeyRemediation {
                    outer,
                    params,
                    manual,
                },
                [user, key, action],
            ) => {
                let user = self.expr(user, frame)?;
                let key = self.expr(key, frame)?;
                let action = self.expr(action, frame)?;
                if [&user, &key, &action].contains(&&Value::Undefined) {
                    return Ok(Lazy::Value(Value::Undefined));
                }
                let env = self.library_values()?;
                let parts = library::key_remediation_parts(env, &user, &key);
                let Some(parts) = parts.map_err(|e| Stop::Bail(format!("{e:#}")))? else {
                    let value = f(env, &[user, key, action]);
                    return value
                        .map(Lazy::Value)
                        .map_err(|e| Stop::Bail(format!("{e:#}")));
                };
                if parts.user_name == Value::Undefined {
                    return Ok(Lazy::Value(Value::Undefined));
                }
                let value = |v: Value| Lazy::Value(v);
                let [access_key_id, break_glass, intended_action, user_name] = params;
                let (action, members) = if parts.break_glass {
                    let members = vec![
                        (access_key_id.clone(), value(parts.id)),
                        (break_glass.clone(), value(Value::Bool(true))),
                        (intended_action.clone(), value(action)),
                        (user_name.clone(), value(parts.user_name)),
                    ];
                    (manual.clone(), members)
                } else {
                    let members = vec![
                        (access_key_id.clone(), value(parts.id)),
                        (user_name.clone(), value(parts.user_name)),
                    ];
                    (action, members)
                };
                Ok(Lazy::Object(vec![
                    (outer[0].clone(), value(action)),
                    (outer[1].clone(), Lazy::Object(members)),
                ]))
            }
            (Made::Manual { .. }, [params, task]) => {
                let params = self.lazy(params, frame)?;
                let task = self.expr(task, frame)?;
                if params.is_undefined() || task == Value::Undefined {
                    return Ok(Lazy::Value(Value::Undefined));
                }
                let env = self.library_values()?;
                manual(made, params, task).or_else(|(params, task)| {
                    let value = f(env, &[params.into_value(), task]);
                    value
                        .map(Lazy::Value)
                        .map_err(|e| Stop::Bail(format!("{e:#}")))
                })
            }
            _ => self.expr(e, frame).map(Lazy::Value),
        }
    }

    /// The library's values, which a call of the library needs, as [`Run::apply`] does.
    fn library_values(&self) -> Step<&'p library::Env> {
        match self.env {
            Some(env) => Ok(env),
            None => bail("the library without its values"),
        }
    }

    /// The value of one definition: that of the first body of its chain with solutions.
    fn definition(&mut self, definition: &Definition, args: &[Value]) -> Step<Value> {
        let mut frame = self.frame(definition.slots);
        let value = self.definition_in(definition, args, &mut frame);
        self.frames.push(frame);
        value
    }

    /// A frame of `slots` undefined variables, reusing one given back.
    fn frame(&mut self, slots: u32) -> Vec<Value> {
        let mut frame = self.frames.pop().unwrap_or_default();
        frame.clear();
        frame.resize(slots as usize, Value::Undefined);
        frame
    }

    fn definition_in(
        &mut self,
        definition: &Definition,
        args: &[Value],
        frame: &mut [Value],
    ) -> Step<Value> {
        for (i, body) in definition.chain.iter().enumerate() {
            if i > 0 {
                frame.fill(Value::Undefined);
            }
            for (pattern, arg) in definition.params.iter().zip(args) {
                if !bind(pattern, arg, frame) {
                    // A parameter that does not match: this definition has no value.
                    return Ok(Value::Undefined);
                }
            }
            let mut value = Value::Undefined;
            let mut conflict = false;
            let out = body.value.as_ref();
            self.query(&body.query.stmts, frame, &mut |run, frame| {
                let v = match out {
                    Some(e) => run.expr(e, frame)?,
                    None => Value::Bool(true),
                };
                if v == Value::Undefined {
                    // The interpreter then drops the values gathered, or does not take the
                    // `else`: not mirrored.
                    return bail("a rule's or function's value is undefined");
                }
                if value == Value::Undefined {
                    value = v;
                } else if value != v {
                    conflict = true;
                }
                Ok(())
            })?;
            if conflict {
                return bail("a rule or function with several values");
            }
            if value != Value::Undefined {
                return Ok(value);
            }
        }
        Ok(Value::Undefined)
    }

    /// `object.name`, looked for first where this place last found its field.
    ///
    /// The objects one place meets mostly have the same keys in the same order — every user
    /// of the input has the same fields, named by the same strings — so the member at the
    /// position found last time is checked first, its key recognised by address. Only when it
    /// is another key are the keys compared. A binary search instead touches a cache line per
    /// probe, and the users' members are rarely in the cache.
    fn field(&mut self, place: usize, object: &regorus::value::Object, name: &Value) -> Value {
        if let Some((key, at)) = &self.fields[place] {
            if let Some((k, v)) = object.iter_sorted().nth(*at) {
                if same_string(k, key) {
                    return v.clone();
                }
            }
        }
        let Value::String(wanted) = name else {
            return object.get(name).cloned().unwrap_or(Value::Undefined);
        };
        match library::find(object, wanted) {
            Some((at, key, value)) => {
                self.fields[place] = Some((key.clone(), at));
                value.clone()
            }
            None => Value::Undefined,
        }
    }

    /// Call `callee` with the arguments on the stack from `base`.
    fn apply(&mut self, callee: &Callee, base: usize) -> Step<Value> {
        let args = &self.args[base..];
        if args.iter().any(|v| matches!(v, Value::Undefined)) {
            return Ok(Value::Undefined);
        }
        match callee {
            Callee::Builtin(f) => f(args).map_err(|b| Stop::Bail(b.0)),
            Callee::Library(f, _) => {
                let Some(env) = self.env else {
                    return bail("the library without its values");
                };
                f(env, args).map_err(|e| Stop::Bail(format!("{e:#}")))
            }
            Callee::Function(id) => {
                // A function's body makes calls of its own on the stack: its arguments are
                // moved to a buffer of the frame pool.
                let mut own = self.frames.pop().unwrap_or_default();
                own.clear();
                own.extend(self.args.drain(base..));
                let value = self.call_function(*id, &own);
                self.frames.push(own);
                value
            }
        }
    }

    fn call_function(&mut self, id: FunctionId, args: &[Value]) -> Step<Value> {
        let program = self.program;
        let function = &program.functions[id];
        let mut value = Value::Undefined;
        for definition in &function.definitions {
            let v = self.definition(definition, args)?;
            value = merge(value, v, &function.path)?;
        }
        Ok(value)
    }

    /// Run `stmts`, calling `k` for every solution.
    fn query(
        &mut self,
        stmts: &[Stmt],
        frame: &mut [Value],
        k: &mut dyn FnMut(&mut Self, &mut [Value]) -> Step<()>,
    ) -> Step<()> {
        let Some((first, rest)) = stmts.split_first() else {
            return k(self, frame);
        };
        match first {
            Stmt::Expr(e) => {
                if holds(&self.expr(e, frame)?) {
                    self.query(rest, frame, k)?;
                }
            }
            Stmt::Not(e) => {
                if !holds(&self.expr(e, frame)?) {
                    self.query(rest, frame, k)?;
                }
            }
            Stmt::Bind(pattern, e) => {
                let v = self.expr(e, frame)?;
                if bind(pattern, &v, frame) {
                    self.query(rest, frame, k)?;
                }
            }
            Stmt::SomeIn {
                key,
                value,
                collection,
            } => {
                let c = self.expr(collection, frame)?;
                self.each(&c, |run, k_v, v| {
                    run.tick()?;
                    if let Some(key) = key {
                        if !bind(key, &k_v, frame) {
                            return Ok(());
                        }
                    }
                    if !bind(value, &v, frame) {
                        return Ok(());
                    }
                    run.query(rest, frame, k)
                })?;
            }
            Stmt::Every {
                key,
                value,
                domain,
                query,
            } => {
                let d = self.expr(domain, frame)?;
                if !matches!(d, Value::Array(_) | Value::Set(_) | Value::Object(_)) {
                    // `every` over anything but a collection is false, not an error.
                    return Ok(());
                }
                let mut all = true;
                self.each(&d, |run, k_v, v| {
                    run.tick()?;
                    if !all {
                        return Ok(());
                    }
                    if let Some(key) = key {
                        frame[*key as usize] = k_v;
                    }
                    frame[*value as usize] = v;
                    let mut found = false;
                    run.query(&query.stmts, frame, &mut |_, _| {
                        found = true;
                        Ok(())
                    })?;
                    all &= found;
                    Ok(())
                })?;
                if all {
                    self.query(rest, frame, k)?;
                }
            }
        }
        Ok(())
    }

    /// Visit the members of a collection (`some … in`): an array's indexes and elements, a
    /// set's elements (each its own key), an object's keys and values.
    fn each(
        &mut self,
        collection: &Value,
        mut visit: impl FnMut(&mut Self, Value, Value) -> Step<()>,
    ) -> Step<()> {
        match collection {
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    visit(self, Value::from(i), v.clone())?;
                }
            }
            Value::Set(s) => {
                for v in s.iter() {
                    visit(self, v.clone(), v.clone())?;
                }
            }
            Value::Object(o) => {
                for (k, v) in o.iter() {
                    visit(self, k.clone(), v.clone())?;
                }
            }
            Value::Undefined => {}
            _ => return bail("`in` over a value that is not a collection"),
        }
        Ok(())
    }

    pub(super) fn expr(&mut self, e: &Expr, frame: &mut [Value]) -> Step<Value> {
        Ok(match e {
            Expr::Const(v) => v.clone(),
            Expr::Local(slot) => frame[*slot as usize].clone(),
            Expr::Input => self.input.clone(),
            Expr::Data(path) => {
                let mut v = self.data;
                for key in path {
                    v = &v[key];
                }
                v.clone()
            }
            Expr::Rule(id) => self.rule(*id)?,
            Expr::Once(slot, e) => {
                if let Some(v) = &self.onces[*slot] {
                    return Ok(v.clone());
                }
                let v = self.expr(e, frame)?;
                self.onces[*slot] = Some(v.clone());
                v
            }
            Expr::Field(base, name, place) => match self.expr(base, frame)? {
                Value::Object(o) => self.field(*place, &o, name),
                b => b[name].clone(),
            },
            Expr::FieldOr(base, name, fallback, place) => {
                // Both arguments are evaluated, as for any call.
                let b = self.expr(base, frame)?;
                let fallback = self.expr(fallback, frame)?;
                match b {
                    Value::Undefined => Value::Undefined,
                    _ if fallback == Value::Undefined => Value::Undefined,
                    Value::Object(o) => match self.field(*place, &o, name) {
                        Value::Undefined => fallback,
                        v => v,
                    },
                    _ => fallback,
                }
            }
            Expr::Index(base, key) => {
                // The interpreter evaluates a computed index before what it indexes.
                let k = self.expr(key, frame)?;
                let b = self.expr(base, frame)?;
                b[&k].clone()
            }
            Expr::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let v = self.expr(item, frame)?;
                    if v == Value::Undefined {
                        return Ok(Value::Undefined);
                    }
                    out.push(v);
                }
                Value::from(out)
            }
            Expr::Set(items) => {
                let mut out = std::collections::BTreeSet::new();
                for item in items {
                    let v = self.expr(item, frame)?;
                    if v == Value::Undefined {
                        return Ok(Value::Undefined);
                    }
                    out.insert(v);
                }
                Value::from(out)
            }
            Expr::Object(fields) => {
                let mut out = std::collections::BTreeMap::new();
                for (k, v) in fields {
                    let k = self.expr(k, frame)?;
                    if k == Value::Undefined {
                        return Ok(Value::Undefined);
                    }
                    let v = self.expr(v, frame)?;
                    if v == Value::Undefined {
                        return Ok(Value::Undefined);
                    }
                    out.insert(k, v);
                }
                Value::from(out)
            }
            Expr::Template(t) => {
                let mut object = t.object.clone();
                for (key, value) in &t.fields {
                    let v = self.expr(value, frame)?;
                    if v == Value::Undefined {
                        return Ok(Value::Undefined);
                    }
                    object.insert(key.clone(), v);
                }
                Value::from(object)
            }
            Expr::ArrayCompr(query, term) => {
                let mut out = Vec::new();
                self.query(&query.stmts, frame, &mut |run, frame| {
                    let v = run.expr(term, frame)?;
                    if v != Value::Undefined {
                        out.push(v);
                    }
                    Ok(())
                })?;
                Value::from(out)
            }
            Expr::SetCompr(query, term) => {
                let mut out = std::collections::BTreeSet::new();
                self.query(&query.stmts, frame, &mut |run, frame| {
                    let v = run.expr(term, frame)?;
                    if v != Value::Undefined {
                        out.insert(v);
                    }
                    Ok(())
                })?;
                Value::from(out)
            }
            Expr::ObjectCompr(query, key, value) => {
                let mut out = std::collections::BTreeMap::new();
                self.query(&query.stmts, frame, &mut |run, frame| {
                    let k = run.expr(key, frame)?;
                    let v = run.expr(value, frame)?;
                    if k == Value::Undefined || v == Value::Undefined {
                        return Ok(());
                    }
                    match out.get(&k) {
                        Some(old) if *old != v => bail("an object comprehension with a key twice"),
                        _ => {
                            out.insert(k, v);
                            Ok(())
                        }
                    }
                })?;
                Value::from(out)
            }
            Expr::Call(callee, args) => {
                // Every argument is evaluated (an error in any is the interpreter's error),
                // then an undefined one makes the call undefined. The arguments go on a stack
                // shared by every call of this run: no allocation per call.
                let base = self.args.len();
                for a in args {
                    let v = match self.expr(a, frame) {
                        Ok(v) => v,
                        Err(stop) => {
                            self.args.truncate(base);
                            return Err(stop);
                        }
                    };
                    self.args.push(v);
                }
                let value = self.apply(callee, base);
                self.args.truncate(base);
                value?
            }
            Expr::Arith(op, lhs, rhs) => {
                let a = self.expr(lhs, frame)?;
                let b = self.expr(rhs, frame)?;
                arith(*op, &a, &b)?
            }
            Expr::Compare(op, lhs, rhs) => {
                let a = self.expr(lhs, frame)?;
                let b = self.expr(rhs, frame)?;
                if a == Value::Undefined || b == Value::Undefined {
                    return Ok(Value::Undefined);
                }
                Value::Bool(match op {
                    Compare::Eq => a == b,
                    Compare::Ne => a != b,
                    Compare::Lt => a < b,
                    Compare::Le => a <= b,
                    Compare::Gt => a > b,
                    Compare::Ge => a >= b,
                })
            }
            Expr::SetOp(op, lhs, rhs) => {
                let a = self.expr(lhs, frame)?;
                let b = self.expr(rhs, frame)?;
                match (&a, &b) {
                    (Value::Undefined, _) | (_, Value::Undefined) => Value::Undefined,
                    (Value::Set(x), Value::Set(y)) => match op {
                        SetOp::Union => x.union(y).into_value(),
                        SetOp::Intersection => x.intersection(y).into_value(),
                    },
                    _ => return bail("a set operator on values that are not sets"),
                }
            }
            Expr::Membership(key, value, collection) => {
                let v = self.expr(value, frame)?;
                let c = self.expr(collection, frame)?;
                let k = match key {
                    Some(k) => Some(self.expr(k, frame)?),
                    None => None,
                };
                if v == Value::Undefined || k.as_ref() == Some(&Value::Undefined) {
                    // The interpreter compares the undefined value as it is: not mirrored.
                    return bail("membership of an undefined value");
                }
                // Never undefined: false for anything but a collection.
                Value::Bool(member(k.as_ref(), &v, &c))
            }
        })
    }
}

/// Whether `a` and `b` are one string (the same allocation), not merely equal.
fn same_string(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(a), Value::String(b)) => std::ptr::eq(a.as_ptr(), b.as_ptr()),
        _ => false,
    }
}

/// Match `value` against `pattern`, binding its variables in `frame`: whether it matches.
fn bind(pattern: &Pattern, value: &Value, frame: &mut [Value]) -> bool {
    if *value == Value::Undefined {
        return false;
    }
    match pattern {
        Pattern::Bind(slot) => {
            frame[*slot as usize] = value.clone();
            true
        }
        Pattern::Ignore => true,
        Pattern::Equal(expected) => value == expected,
        Pattern::Array(items) => match value {
            Value::Array(a) if a.len() == items.len() => {
                items.iter().zip(a.iter()).all(|(p, v)| bind(p, v, frame))
            }
            _ => false,
        },
    }
}

/// Two values of one rule or function, from different definitions.
fn merge(a: Value, b: Value, path: &str) -> Step<Value> {
    if a == Value::Undefined {
        return Ok(b);
    }
    if b == Value::Undefined || a == b {
        return Ok(a);
    }
    bail(format!("{path} has several values"))
}

fn arith(op: Arith, a: &Value, b: &Value) -> Step<Value> {
    match (a, b) {
        (Value::Undefined, _) | (_, Value::Undefined) => Ok(Value::Undefined),
        (Value::Number(x), Value::Number(y)) => {
            let zero = y.as_u64() == Some(0) || y.as_f64() == Some(0.0);
            if zero && matches!(op, Arith::Div | Arith::Mod) {
                return bail("division by zero");
            }
            if op == Arith::Mod && !(x.is_integer() && y.is_integer()) {
                return bail("modulo of a number that is not an integer");
            }
            let n = match op {
                Arith::Add => x.add(y),
                Arith::Sub => x.sub(y),
                Arith::Mul => x.mul(y),
                Arith::Div => x.clone().divide(y),
                Arith::Mod => x.clone().modulo(y),
            };
            n.map(Value::Number).map_err(|e| Stop::Bail(e.to_string()))
        }
        (Value::Set(x), Value::Set(y)) if op == Arith::Sub => Ok(x.difference(y).into_value()),
        _ => bail("arithmetic on values that are not numbers"),
    }
}

/// `value in collection`, `key, value in collection` (both defined).
fn member(key: Option<&Value>, value: &Value, collection: &Value) -> bool {
    match (key, collection) {
        (None, Value::Array(a)) => a.iter().any(|v| v == value),
        (None, Value::Set(s)) => s.contains(value),
        (None, Value::Object(o)) => o.values().any(|v| v == value),
        (Some(k), Value::Array(_) | Value::Object(_)) => collection[k] == *value,
        _ => false,
    }
}
