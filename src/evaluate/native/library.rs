//! The functions of `data.credwarden.lib` as native code, for the Rego rules on the fast path.
//!
//! A custom rule spends most of its time in the library: ORG005 (key older than N days) calls
//! eleven library functions per key, each a Rego function whose body the interpreter walks —
//! scopes, `else` chains, a path resolved per call. Registered as engine extensions, the same
//! functions are one Rust call each: ORG005 took a third of the time.
//!
//! `policies/lib/functions.rego` stays the reference: `--engine rego`, `policy test`, `query`
//! and OPA use it, and on the fast path it is simply not loaded, so a call such as
//! `lib.days_since(t)` finds no Rego function and reaches the extension of that name. Every
//! function here follows its Rego twin step by step, undefined where it is undefined and an
//! error where it raises one, using the engine's own arithmetic; the unit tests call both on
//! thousands of generated arguments and compare.
//!
//! The library's values (the evaluation time, the config, the break-glass names) are read
//! from the engine once per evaluation, so they are exactly what the Rego rules see.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Result};
use regorus::Value;

use crate::evaluate::input::Keys;

/// What the functions read besides their arguments, as the Rego library computes it.
#[derive(Debug, Clone)]
pub(crate) struct Env {
    now_ns: Value,
    config: Value,
    break_glass_names: Value,
    tag_key: Value,
    tag_value: Value,
    /// `object.get(input, "organization", null)`.
    organization: Value,
}

impl Env {
    /// Read the library's values from `engine`, whose data and input are set and which has the
    /// library's values (`policies/lib/credwarden.rego`) loaded.
    pub(crate) fn read(engine: &mut regorus::Engine, input: &Value) -> Result<Env> {
        let mut rule = |name: &str| engine.eval_rule(format!("data.credwarden.lib.{name}"));
        let organization = match input {
            Value::Object(o) => o.get(&text("organization")).cloned().unwrap_or(Value::Null),
            _ => bail!("the input is not an object"),
        };
        Ok(Env {
            now_ns: rule("now_ns")?,
            config: rule("config")?,
            break_glass_names: rule("break_glass_names")?,
            tag_key: rule("break_glass_tag_key")?,
            tag_value: rule("break_glass_tag_value")?,
            organization,
        })
    }
}

impl Env {
    /// Values for an engine that is analysed and compiled but never evaluated (the custom
    /// rules' compiler): its native functions are registered so that calls resolve, and are
    /// never called.
    pub(crate) fn inert() -> Env {
        Env {
            now_ns: Value::Null,
            config: Value::Null,
            break_glass_names: Value::Null,
            tag_key: Value::Null,
            tag_value: Value::Null,
            organization: Value::Null,
        }
    }
}

/// A library function's native body.
pub(crate) type Function = fn(&Env, &[Value]) -> Result<Value>;

/// The native body of the library function `name` and its number of arguments.
pub(crate) fn function(name: &str) -> Option<(usize, Function)> {
    FUNCTIONS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(_, nargs, body)| (usize::from(nargs), body))
}

/// Every function of `policies/lib/functions.rego`: name, number of arguments, native body.
const FUNCTIONS: &[(&str, u8, Function)] = &[
    ("threshold", 1, |env, a| Ok(threshold(env, &a[0]))),
    ("field", 3, |_, a| field(&a[0], &a[1], &a[2])),
    ("ts_ns", 1, |_, a| ts_ns(&a[0])),
    ("days_since", 1, |env, a| elapsed(env, &a[0], NS_PER_DAY)),
    ("hours_since", 1, |env, a| elapsed(env, &a[0], NS_PER_HOUR)),
    ("latest", 1, |_, a| latest(&a[0])),
    ("last_activity", 1, |_, a| last_activity(&a[0])),
    ("never_used", 1, |_, a| never_used(&a[0])),
    ("is_active", 1, |_, a| Ok(status_is(&a[0], "Active"))),
    ("is_inactive", 1, |_, a| Ok(status_is(&a[0], "Inactive"))),
    ("password_enabled", 1, |_, a| password_enabled(&a[0])),
    ("break_glass_flag", 1, |env, a| {
        Ok(Value::Bool(is_break_glass(env, &a[0])?))
    }),
    ("active_keys", 1, |_, a| active_keys(&a[0])),
    ("key_present", 1, |_, a| Ok(truth(key_present(&a[0])?))),
    ("root_key_slots", 1, |_, a| root_key_slots(&a[0])),
    ("key_id", 2, |_, a| key_id(&a[0], &a[1])),
    ("key_label", 1, |_, a| key_label(&a[0])),
    ("is_break_glass", 1, |env, a| {
        Ok(truth(is_break_glass(env, &a[0])?))
    }),
    ("user_resource", 1, |_, a| Ok(user_resource(&a[0]))),
    ("key_resource", 2, |_, a| key_resource(&a[0], &a[1])),
    ("root_resource", 1, |_, a| Ok(root_resource(&a[0]))),
    ("account_resource", 1, |env, a| account_resource(env, &a[0])),
    ("credential_report_resource", 1, |_, a| {
        credential_report_resource(&a[0])
    }),
    ("user_remediation", 3, |env, a| {
        user_remediation(env, &a[0], &a[1], &a[2])
    }),
    ("key_params", 2, |_, a| key_params(&a[0], &a[1])),
    ("manual", 2, |_, a| manual(&a[0], &a[1])),
    ("key_remediation", 3, |env, a| {
        key_remediation(env, &a[0], &a[1], &a[2])
    }),
];

/// The names the functions are registered under: what a call spells before the engine finds
/// no Rego function for it.
pub(crate) fn names(function: &str, aliases: &Aliases) -> Vec<String> {
    let mut names = vec![format!("data.credwarden.lib.{function}")];
    names.extend(aliases.lib.iter().map(|a| format!("{a}.{function}")));
    names.extend(aliases.root.iter().map(|a| format!("{a}.lib.{function}")));
    names
}

/// Every name a call may spell a library function by, to the function's name.
pub(crate) fn all_names(aliases: &Aliases) -> std::collections::HashMap<String, String> {
    FUNCTIONS
        .iter()
        .flat_map(|&(function, _, _)| {
            names(function, aliases)
                .into_iter()
                .map(move |n| (n, function.to_string()))
        })
        .collect()
}

/// Register every function on `engine`, under every name a policy may call it by.
pub(crate) fn register(engine: &mut regorus::Engine, env: &Env, aliases: &Aliases) -> Result<()> {
    for &(function, nargs, body) in FUNCTIONS {
        for name in names(function, aliases) {
            let env = env.clone();
            engine.add_extension(
                name,
                nargs,
                Box::new(move |args: Vec<Value>| body(&env, &args)),
            )?;
        }
    }
    Ok(())
}

/// The names policies import the library under: `import data.credwarden.lib` (as `lib`, or
/// `as x`) and `import data.credwarden` (as `credwarden`, or `as x`, calling `x.lib.f`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Aliases {
    lib: Vec<String>,
    root: Vec<String>,
}

impl Aliases {
    /// The aliases of every import of the library in `sources`, or `None` when the native
    /// functions could change what a policy means: a `with` that replaces a value or a
    /// function (the native functions read the library's values once, not under `with`), or
    /// an alias that names the library in one file and something else in another.
    pub(crate) fn of<'a>(sources: impl IntoIterator<Item = &'a str>) -> Option<Aliases> {
        let mut aliases = Aliases {
            lib: vec!["lib".into()],
            root: vec!["credwarden".into()],
        };
        let mut others = Vec::new();
        for source in sources {
            for line in source.lines() {
                let code = line.split('#').next().unwrap_or("");
                if has_with_modifier(code) {
                    return None;
                }
                let mut words = code.split_whitespace();
                if words.next() != Some("import") {
                    continue;
                }
                let Some(target) = words.next() else { continue };
                let alias = match (words.next(), words.next()) {
                    (Some("as"), Some(alias)) => alias.to_string(),
                    _ => target.rsplit('.').next().unwrap_or(target).to_string(),
                };
                match target {
                    "data.credwarden.lib" => push_new(&mut aliases.lib, alias),
                    "data.credwarden" => push_new(&mut aliases.root, alias),
                    _ => others.push(alias),
                }
            }
        }
        let clash = others
            .iter()
            .any(|o| aliases.lib.contains(o) || aliases.root.contains(o));
        (!clash).then_some(aliases)
    }
}

fn push_new(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// `… with data.x as y` (or `with input…`, `with f as g`) on this line of code.
fn has_with_modifier(code: &str) -> bool {
    let words: Vec<&str> = code.split_whitespace().collect();
    words
        .windows(3)
        .any(|w| w[0] == "with" && w[2] == "as" && !w[1].starts_with('"'))
}

const NS_PER_DAY: u64 = 86_400_000_000_000;
const NS_PER_HOUR: u64 = 3_600_000_000_000;

/// `true` or undefined, as a boolean Rego function is.
fn truth(b: bool) -> Value {
    if b {
        Value::Bool(true)
    } else {
        Value::Undefined
    }
}

/// `v.name`: undefined unless `v` is an object with that key.
fn dot(v: &Value, name: &str) -> Value {
    match v {
        Value::Object(o) => member(o, name).cloned().unwrap_or(Value::Undefined),
        _ => Value::Undefined,
    }
}

/// The member of `o` named `name`, found without making `name` a value (an allocation for
/// every field read).
fn member<'o>(o: &'o regorus::value::Object, name: &str) -> Option<&'o Value> {
    find(o, name).map(|(_, _, v)| v)
}

/// The position, key and value of the member of `o` named `name`. Keys are in order: strings
/// come after every null, boolean and number, and before every array, set and object.
pub(crate) fn find<'o>(
    o: &'o regorus::value::Object,
    name: &str,
) -> Option<(usize, &'o Value, &'o Value)> {
    for (at, (k, v)) in o.iter_sorted().enumerate() {
        match k {
            Value::String(s) => match (**s).cmp(name) {
                std::cmp::Ordering::Less => continue,
                std::cmp::Ordering::Equal => return Some((at, k, v)),
                std::cmp::Ordering::Greater => return None,
            },
            Value::Null | Value::Bool(_) | Value::Number(_) => continue,
            _ => return None,
        }
    }
    None
}

/// `object.get(obj, key, fallback)`: an error unless `obj` is an object; an array `key` is a
/// path.
fn object_get(obj: &Value, key: &Value, fallback: &Value) -> Result<Value> {
    let Value::Object(o) = obj else {
        bail!("object.get: expects an object, got {}", kind(obj));
    };
    Ok(match key {
        Value::Array(path) => {
            let mut v = obj;
            for k in path.iter() {
                v = &v[k];
                if *v == Value::Undefined {
                    return Ok(fallback.clone());
                }
            }
            v.clone()
        }
        key => o.get(key).cloned().unwrap_or_else(|| fallback.clone()),
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Set(_) => "set",
        Value::Object(_) => "object",
        Value::Undefined => "undefined",
    }
}

/// An object of `members`; undefined when a member is (as an object literal is).
fn object_of<const N: usize>(members: [(&'static str, Value); N]) -> Value {
    if members.iter().any(|(_, v)| *v == Value::Undefined) {
        return Value::Undefined;
    }
    MADE.with_borrow_mut(|made| made.object(Vec::from(members)))
}

/// An object whose members are made in order, as the engine evaluates an object literal: it
/// stops at the first undefined member (the object is undefined) or error.
fn object_in_order(members: &[(&'static str, &dyn Fn() -> Result<Value>)]) -> Result<Value> {
    let mut made = Vec::with_capacity(members.len());
    for (name, member) in members {
        let value = member()?;
        if value == Value::Undefined {
            return Ok(Value::Undefined);
        }
        made.push((*name, value));
    }
    Ok(MADE.with_borrow_mut(|m| m.object(made)))
}

thread_local! {
    /// The names of the library's objects, each made once per thread, and their shapes.
    static MADE: RefCell<Keys> = RefCell::default();
}

/// A constant string of the library, made once per thread.
fn text(s: &'static str) -> Value {
    MADE.with_borrow_mut(|made| made.key(s))
}

/// What `some x in collection` visits: an array's or a set's elements, an object's values;
/// an error for anything else.
fn members(collection: &Value) -> Result<Vec<&Value>> {
    Ok(match collection {
        Value::Array(a) => a.iter().collect(),
        Value::Set(s) => s.iter().collect(),
        Value::Object(o) => o.iter().map(|(_, v)| v).collect(),
        other => bail!(
            "`some .. in collection` expects array/set/object, got {}",
            kind(other)
        ),
    })
}

/// `lower(s)`: an error unless `s` is a string.
fn lower(s: &Value) -> Result<Value> {
    match s {
        Value::String(s) => Ok(Value::from(s.to_lowercase())),
        other => bail!("lower: expects a string, got {}", kind(other)),
    }
}

/// Whether `lower(v)` is `v`: an ASCII string without capitals (`to_lowercase` changes no
/// other ASCII string, and is left to decide for the rest).
fn already_lower(v: &Value) -> bool {
    matches!(v, Value::String(s) if s.is_ascii() && !s.bytes().any(|b| b.is_ascii_uppercase()))
}

/// `lower(a) == lower(b)`, without the copies when both are ASCII.
fn same_lowered(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.to_lowercase() == b.to_lowercase()
}

fn is_string(v: &Value) -> bool {
    matches!(v, Value::String(_))
}

// -------------------------------------------------------------------------------------------
// The functions, in the order of functions.rego
// -------------------------------------------------------------------------------------------

fn threshold(env: &Env, name: &Value) -> Value {
    let thresholds = dot(&env.config, "thresholds");
    match &thresholds {
        Value::Undefined => Value::Undefined,
        t => t[name].clone(),
    }
}

fn field(obj: &Value, key: &Value, fallback: &Value) -> Result<Value> {
    match obj {
        Value::Object(_) => object_get(obj, key, fallback),
        _ => Ok(fallback.clone()),
    }
}

fn ts_ns(ts: &Value) -> Result<Value> {
    let Value::String(text) = ts else {
        return Ok(Value::Undefined);
    };
    let parsed = chrono::DateTime::parse_from_rfc3339(text)
        .map_err(|err| anyhow!("Failed to parse datetime: {err}"))?;
    match parsed.timestamp_nanos_opt() {
        Some(ns) => Ok(Value::from(ns)),
        None => bail!("time outside of valid range"),
    }
}

/// `floor((now_ns - ts_ns(ts)) / unit)` in the engine's arithmetic.
fn elapsed(env: &Env, ts: &Value, unit: u64) -> Result<Value> {
    let then = ts_ns(ts)?;
    let (Value::Number(now), Value::Number(then)) = (&env.now_ns, &then) else {
        if then == Value::Undefined || env.now_ns == Value::Undefined {
            return Ok(Value::Undefined);
        }
        bail!("sub: expects numbers");
    };
    let Value::Number(unit) = Value::from(unit) else {
        unreachable!("a u64 is a number")
    };
    let quotient = now.sub(then)?.divide(&unit)?;
    Ok(Value::Number(quotient.floor()))
}

fn latest(timestamps: &Value) -> Result<Value> {
    let mut best: Option<(Value, Value)> = None;
    for t in members(timestamps)? {
        if !is_string(t) {
            continue;
        }
        let ns = ts_ns(t)?;
        let candidate = (ns, t.clone());
        let better = match &best {
            None => true,
            Some(b) => match candidate.0.cmp(&b.0) {
                Ordering::Equal => candidate.1 > b.1,
                o => o == Ordering::Greater,
            },
        };
        if better {
            best = Some(candidate);
        }
    }
    Ok(best.map(|(_, t)| t).unwrap_or(Value::Undefined))
}

fn last_activity(key: &Value) -> Result<Value> {
    if is_string(&object_get(key, &text("last_used_at"), &Value::Null)?) {
        Ok(dot(key, "last_used_at"))
    } else {
        Ok(dot(key, "created_at"))
    }
}

fn never_used(key: &Value) -> Result<Value> {
    let last_used = object_get(key, &text("last_used_at"), &Value::Null)?;
    Ok(Value::Bool(last_used == Value::Null))
}

fn status_is(key: &Value, status: &str) -> Value {
    let is = match key {
        Value::Object(o) => matches!(member(o, "status"), Some(Value::String(s)) if **s == *status),
        _ => false,
    };
    truth(is)
}

fn password_enabled(user: &Value) -> Result<Value> {
    let password = field(user, &text("password"), &Value::new_object())?;
    let enabled = field(&password, &text("enabled"), &Value::Bool(false))?;
    Ok(Value::Bool(enabled == Value::Bool(true)))
}

fn active_keys(user: &Value) -> Result<Value> {
    let keys = object_get(user, &text("access_keys"), &Value::new_array())?;
    let active = members(&keys)?
        .into_iter()
        .filter(|key| status_is(key, "Active") == Value::Bool(true))
        .cloned()
        .collect::<Vec<_>>();
    Ok(Value::from(active))
}

fn key_present(slot: &Value) -> Result<bool> {
    let active = dot(slot, "active") == Value::Bool(true);
    let rotated = is_string(&object_get(slot, &text("last_rotated"), &Value::Null)?);
    Ok(active || rotated)
}

fn root_key_slots(root: &Value) -> Result<Value> {
    let slots = object_get(root, &text("access_keys"), &Value::new_array())?;
    let mut present = Vec::new();
    for slot in members(&slots)? {
        let number = dot(slot, "slot");
        if number != Value::Undefined && key_present(slot)? {
            present.push(number);
        }
    }
    present.sort();
    Ok(Value::from(present))
}

fn key_id(user: &Value, key: &Value) -> Result<Value> {
    let id = object_get(key, &text("access_key_id"), &Value::Null)?;
    if is_string(&id) {
        return Ok(id);
    }
    if object_get(key, &text("slot"), &Value::Null)? != Value::Null {
        return Ok(format(
            &["", "/key-", ""],
            &[&dot(user, "user_name"), &dot(key, "slot")],
        ));
    }
    Ok(format(&["", "/key"], &[&dot(user, "user_name")]))
}

fn key_label(key: &Value) -> Result<Value> {
    let id = object_get(key, &text("access_key_id"), &Value::Null)?;
    if is_string(&id) {
        return Ok(id);
    }
    if object_get(key, &text("slot"), &Value::Null)? != Value::Null {
        return Ok(format(&["in slot ", ""], &[&dot(key, "slot")]));
    }
    Ok(Value::from("(id unknown)"))
}

fn is_break_glass(env: &Env, user: &Value) -> Result<bool> {
    let named = |v: Value| -> Result<bool> {
        if v == Value::Undefined {
            return Ok(false);
        }
        let Value::Set(names) = &env.break_glass_names else {
            lower(&v)?;
            return Ok(false);
        };
        // Most names are lower case already: looked up as they are, not copied.
        Ok(match already_lower(&v) {
            true => names.contains(&v),
            false => names.contains(&lower(&v)?),
        })
    };
    let by_name = named(dot(user, "user_name"))?;
    let by_arn = named(dot(user, "arn"))?;
    let tags = field(user, &text("tags"), &Value::new_object())?;
    let value = field(&tags, &env.tag_key, &Value::Null)?;
    let by_tag = match (&value, &env.tag_value) {
        (Value::String(a), Value::String(b)) => same_lowered(a, b),
        _ => false,
    };
    Ok(by_name || by_arn || by_tag)
}

fn user_resource(user: &Value) -> Value {
    match user_resource_parts(user) {
        Some([arn, id, kind]) => object_of([("arn", arn), ("id", id), ("type", kind)]),
        None => Value::Undefined,
    }
}

/// The members of `user_resource(user)` in key order (`arn`, `id`, `type`); `None` where it
/// is undefined.
pub(crate) fn user_resource_parts(user: &Value) -> Option<[Value; 3]> {
    let parts = [
        dot(user, "arn"),
        dot(user, "user_name"),
        text("aws_iam_user"),
    ];
    defined(parts)
}

fn key_resource(user: &Value, key: &Value) -> Result<Value> {
    Ok(match key_resource_parts(user, key)? {
        Some([arn, id, kind, user]) => {
            object_of([("arn", arn), ("id", id), ("type", kind), ("user", user)])
        }
        None => Value::Undefined,
    })
}

/// The members of `key_resource(user, key)` in key order (`arn`, `id`, `type`, `user`);
/// `None` where it is undefined. The key's id is the one member that can fail.
pub(crate) fn key_resource_parts(user: &Value, key: &Value) -> Result<Option<[Value; 4]>> {
    let id = key_id(user, key)?;
    let parts = [
        dot(user, "arn"),
        id,
        text("aws_iam_access_key"),
        dot(user, "user_name"),
    ];
    Ok(defined(parts))
}

/// The members of an object, unless one is undefined (and the object with it).
fn defined<const N: usize>(parts: [Value; N]) -> Option<[Value; N]> {
    (!parts.contains(&Value::Undefined)).then_some(parts)
}

fn root_resource(root: &Value) -> Value {
    object_of([
        ("type", text("aws_root_user")),
        ("id", text("root")),
        ("arn", dot(root, "arn")),
    ])
}

fn account_resource(env: &Env, account_id: &Value) -> Result<Value> {
    if let Value::Object(_) = &env.organization {
        let arn = format(
            &["arn:aws:organizations::", ":account/", "/", ""],
            &[
                &dot(&env.organization, "management_account_id"),
                &dot(&env.organization, "id"),
                account_id,
            ],
        );
        let resource = object_of([
            ("type", text("aws_account")),
            ("id", account_id.clone()),
            ("arn", arn),
        ]);
        if resource != Value::Undefined {
            return Ok(resource);
        }
    }
    Ok(object_of([
        ("type", text("aws_account")),
        ("id", account_id.clone()),
        ("arn", format(&["arn:aws:iam::", ":root"], &[account_id])),
    ]))
}

fn credential_report_resource(account_id: &Value) -> Result<Value> {
    Ok(object_of([
        ("type", text("aws_credential_report")),
        ("id", Value::from("credential-report")),
        ("arn", format(&["arn:aws:iam::", ":root"], &[account_id])),
    ]))
}

fn user_remediation(env: &Env, user: &Value, action: &Value, params: &Value) -> Result<Value> {
    if is_break_glass(env, user)? {
        let extra = object_of([
            ("user_name", dot(user, "user_name")),
            ("break_glass", Value::Bool(true)),
            ("intended_action", action.clone()),
        ]);
        return Ok(object_of([
            ("action", text("manual")),
            ("params", union_checked(params, &extra)?),
        ]));
    }
    let extra = object_of([("user_name", dot(user, "user_name"))]);
    Ok(object_of([
        ("action", action.clone()),
        ("params", union_checked(params, &extra)?),
    ]))
}

fn key_params(user: &Value, key: &Value) -> Result<Value> {
    object_in_order(&[
        ("user_name", &|| Ok(dot(user, "user_name"))),
        ("access_key_id", &|| {
            object_get(key, &text("access_key_id"), &Value::Null)
        }),
        ("slot", &|| object_get(key, &text("slot"), &Value::Null)),
    ])
}

fn manual(params: &Value, task: &Value) -> Result<Value> {
    let extra = object_of([("task", task.clone())]);
    Ok(object_of([
        ("action", text("manual")),
        ("params", union_checked(params, &extra)?),
    ]))
}

/// `key_remediation(user, key, action)` where the key's id is a string, as its parts: the
/// user's name (undefined makes the whole undefined) and whether the user is break-glass.
/// `None` where the key's id is not a string (the library's own value is made then).
pub(crate) struct KeyRemediationParts {
    pub(crate) id: Value,
    pub(crate) user_name: Value,
    pub(crate) break_glass: bool,
}

/// The parts of `key_remediation(user, key, action)` (see [`KeyRemediationParts`]), reached
/// exactly as [`key_remediation`] reaches them, errors included.
pub(crate) fn key_remediation_parts(
    env: &Env,
    user: &Value,
    key: &Value,
) -> Result<Option<KeyRemediationParts>> {
    if !is_string(&object_get(key, &text("access_key_id"), &Value::Null)?) {
        return Ok(None);
    }
    Ok(Some(KeyRemediationParts {
        id: dot(key, "access_key_id"),
        break_glass: is_break_glass(env, user)?,
        user_name: dot(user, "user_name"),
    }))
}

fn key_remediation(env: &Env, user: &Value, key: &Value, action: &Value) -> Result<Value> {
    if is_string(&object_get(key, &text("access_key_id"), &Value::Null)?) {
        let params = object_of([("access_key_id", dot(key, "access_key_id"))]);
        return user_remediation(env, user, action, &params);
    }
    let params = object_in_order(&[
        ("user_name", &|| Ok(dot(user, "user_name"))),
        ("slot", &|| object_get(key, &text("slot"), &Value::Null)),
        ("break_glass", &|| {
            Ok(Value::Bool(is_break_glass(env, user)?))
        }),
        ("intended_action", &|| Ok(action.clone())),
        ("reason", &|| {
            Ok(Value::from(
                "the access key id is unknown (credential report input)",
            ))
        }),
    ])?;
    Ok(object_of([("action", text("manual")), ("params", params)]))
}

/// `object.union(a, b)`: undefined when either is; an error unless both are objects.
fn union_checked(a: &Value, b: &Value) -> Result<Value> {
    if *a == Value::Undefined || *b == Value::Undefined {
        return Ok(Value::Undefined);
    }
    for v in [a, b] {
        if !matches!(v, Value::Object(_)) {
            bail!("object.union: expects objects, got {}", kind(v));
        }
    }
    Ok(union(a, b))
}

/// Members of `b` over those of `a`, objects merged member by member.
fn union(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Object(ma), Value::Object(mb)) => {
            let mut merged: BTreeMap<Value, Value> =
                ma.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            for (k, vb) in mb.iter() {
                let v = match ma.get(k) {
                    Some(va) => union(va, vb),
                    None => vb.clone(),
                };
                merged.insert(k.clone(), v);
            }
            Value::from(merged)
        }
        _ => b.clone(),
    }
}

/// `sprintf` with `%s`/`%v` between `pieces` (one more piece than arguments): undefined when
/// an argument is.
fn format(pieces: &[&str], args: &[&Value]) -> Value {
    if args.iter().any(|a| **a == Value::Undefined) {
        return Value::Undefined;
    }
    let mut text = String::from(pieces[0]);
    for (arg, piece) in args.iter().zip(&pieces[1..]) {
        text.push_str(&display(arg, false));
        text.push_str(piece);
    }
    Value::from(text)
}

/// How `sprintf`'s `%s` and `%v` print a value (strings inside collections are quoted).
fn display(v: &Value, quoted: bool) -> String {
    let list = |items: Vec<String>| items.join(", ");
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) if quoted => {
            serde_json::to_string(s.as_ref()).unwrap_or_else(|_| s.to_string())
        }
        Value::String(s) => s.to_string(),
        Value::Number(n) => n.format_decimal(),
        Value::Array(a) => format!("[{}]", list(a.iter().map(|e| display(e, true)).collect())),
        Value::Set(s) => format!("{{{}}}", list(s.iter().map(|e| display(e, true)).collect())),
        Value::Object(o) => format!(
            "{{{}}}",
            list(
                o.iter()
                    .map(|(k, v)| format!("{}: {}", display(k, true), display(v, true)))
                    .collect()
            )
        ),
        Value::Undefined => "#undefined".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::Rng;
    use serde_json::json;

    const VALUES: &str = include_str!("../../../policies/lib/credwarden.rego");
    const REFERENCE: &str = include_str!("../../../policies/lib/functions.rego");
    /// 2026-11-21T00:00:00Z.
    const NOW_NS: i64 = 1_795_219_200_000_000_000;

    /// The reference library in an engine, and the native one's values, for one config and input.
    struct World {
        reference: regorus::Engine,
        env: Env,
    }

    fn engine(with_reference: bool, config: &serde_json::Value, input: &Value) -> regorus::Engine {
        let mut engine = regorus::Engine::new();
        engine
            .add_policy("credwarden.rego".into(), VALUES.into())
            .unwrap();
        if with_reference {
            engine
                .add_policy("functions.rego".into(), REFERENCE.into())
                .unwrap();
        }
        let data = json!({"credwarden": {"now_ns": NOW_NS, "config": config}});
        engine.add_data(Value::from(data)).unwrap();
        engine.set_input(input.clone());
        engine
    }

    fn world(config: serde_json::Value, input: serde_json::Value) -> World {
        let input = Value::from(input);
        let mut native = engine(false, &config, &input);
        World {
            reference: engine(true, &config, &input),
            env: Env::read(&mut native, &input).unwrap(),
        }
    }

    fn worlds() -> Vec<World> {
        let thresholds = json!({"unused_days": 90, "rotation_days": 90});
        vec![
            world(
                json!({"thresholds": thresholds, "break_glass": {"users": ["Alice", "arn:aws:iam::1:user/Bob", 7, "ÅSA"]}}),
                json!({"organization": {"id": "o-1", "management_account_id": "999"}}),
            ),
            world(
                json!({"thresholds": thresholds, "break_glass": {"tag_key": "team", "tag_value": "TEAM-7"}}),
                json!({"organization": null}),
            ),
            world(
                json!({"break_glass": {"tag_value": 5}}),
                json!({"organization": {"id": "o-2"}}),
            ),
            world(json!({"break_glass": null}), json!({})),
            world(
                json!({"break_glass": {"tag_key": "team", "tag_value": "Équipe-7"}}),
                json!({}),
            ),
        ]
    }

    fn reference(world: &mut World, function: &str, args: &[Value]) -> Result<Value> {
        let args: Vec<String> = args.iter().map(|a| a.to_json_str().unwrap()).collect();
        let query = format!("x := data.credwarden.lib.{function}({})", args.join(", "));
        let results = world.reference.eval_query(query, false)?;
        Ok(match results.result.first() {
            Some(row) => row.bindings[&Value::from("x")].clone(),
            None => Value::Undefined,
        })
    }

    fn pick<T: Clone>(rng: &mut Rng, items: &[T]) -> T {
        items[rng.below(items.len() as u64) as usize].clone()
    }

    const TIMESTAMPS: &[&str] = &[
        "2026-11-21T00:00:00Z",
        "2025-11-21T00:00:00Z",
        "2025-11-20T23:59:59.999999999Z",
        "2025-11-21T00:00:00.000000001Z",
        "2026-11-20T23:00:00Z",
        "2026-12-01T00:00:00Z",
        "2026-11-20T12:00:00+05:30",
        "1970-01-01T00:00:00Z",
        "1900-01-01T00:00:00Z",
        "1600-01-01T00:00:00Z",
        "2300-01-01T00:00:00Z",
        "garbage",
        "2026-11-21",
        "2026-11-21T00:00:00",
    ];

    fn timestamp(rng: &mut Rng) -> serde_json::Value {
        if rng.chance(85) {
            json!(pick(rng, TIMESTAMPS))
        } else {
            pick(
                rng,
                &[json!(null), json!(5), json!(["2025-01-01T00:00:00Z"])],
            )
        }
    }

    /// An object with each member of `members` present or not, each with a value of its own.
    fn object(rng: &mut Rng, members: Vec<(&str, serde_json::Value)>) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for (k, v) in members {
            if rng.chance(75) {
                map.insert(k.into(), v);
            }
        }
        serde_json::Value::Object(map)
    }

    fn key(rng: &mut Rng) -> serde_json::Value {
        let members = vec![
            (
                "access_key_id",
                pick(
                    rng,
                    &[json!("AKIA1"), json!("AKIA2"), json!(null), json!(5)],
                ),
            ),
            (
                "slot",
                pick(
                    rng,
                    &[
                        json!(1),
                        json!(2),
                        json!(null),
                        json!("x"),
                        json!(1.5),
                        json!([1]),
                        json!({"a": 1}),
                    ],
                ),
            ),
            (
                "status",
                pick(
                    rng,
                    &[
                        json!("Active"),
                        json!("Inactive"),
                        json!("active"),
                        json!(null),
                    ],
                ),
            ),
            ("last_used_at", timestamp(rng)),
            ("created_at", timestamp(rng)),
            (
                "active",
                pick(rng, &[json!(true), json!(false), json!("true")]),
            ),
            ("last_rotated", timestamp(rng)),
        ];
        object(rng, members)
    }

    fn user(rng: &mut Rng) -> serde_json::Value {
        let keys = match rng.below(5) {
            0 => json!([]),
            1 => json!(null),
            2 => json!({"a": key(rng)}),
            _ => json!([key(rng), key(rng)]),
        };
        let members = vec![
            (
                "user_name",
                pick(
                    rng,
                    &[
                        json!("alice"),
                        json!("Alice"),
                        json!("ALICE"),
                        json!("bob"),
                        json!("åsa"),
                        json!("Åsa"),
                        json!(5),
                        json!(null),
                    ],
                ),
            ),
            (
                "arn",
                pick(
                    rng,
                    &[
                        json!("arn:aws:iam::1:user/bob"),
                        json!("arn:aws:iam::1:user/x"),
                        json!(3),
                    ],
                ),
            ),
            (
                "tags",
                pick(
                    rng,
                    &[
                        json!(null),
                        json!({}),
                        json!({"credwarden:break-glass": "true"}),
                        json!({"credwarden:break-glass": "TRUE"}),
                        json!({"credwarden:break-glass": true}),
                        json!({"team": "team-7"}),
                        json!({"team": "Team-7"}),
                        json!({"team": "ÉQUIPE-7"}),
                        json!({"team": "équipe-7"}),
                        json!({"team": 7}),
                        json!("tags"),
                    ],
                ),
            ),
            (
                "password",
                pick(
                    rng,
                    &[
                        json!(null),
                        json!({"enabled": true}),
                        json!({"enabled": false}),
                        json!({"enabled": "true"}),
                        json!({}),
                        json!(7),
                    ],
                ),
            ),
            ("access_keys", keys),
        ];
        object(rng, members)
    }

    fn params(rng: &mut Rng) -> serde_json::Value {
        pick(
            rng,
            &[
                json!({}),
                json!({"a": 1}),
                json!({"user_name": "other"}),
                json!({"nested": {"x": 1}, "task": {"y": 2}}),
                json!(null),
                json!("s"),
            ],
        )
    }

    /// Any argument: the shapes the library is meant for, and the ones it is not.
    fn any(rng: &mut Rng) -> serde_json::Value {
        match rng.below(9) {
            0 | 1 => user(rng),
            2 | 3 => key(rng),
            4 => timestamp(rng),
            5 => json!([timestamp(rng), timestamp(rng), timestamp(rng)]),
            6 => params(rng),
            7 => json!({"access_keys": [key(rng), key(rng)], "arn": "arn:aws:iam::1:root"}),
            _ => pick(
                rng,
                &[
                    json!(null),
                    json!(true),
                    json!(0),
                    json!(-1),
                    json!(""),
                    json!("123456789012"),
                    json!(["a", "b"]),
                    json!("password"),
                    json!(["password", "enabled"]),
                ],
            ),
        }
    }

    /// Every function, on generated arguments, in four worlds: the same value, or an error on
    /// both sides.
    #[test]
    fn every_function_gives_what_its_rego_twin_gives() {
        let mut worlds = worlds();
        let mut rng = Rng::new(42);
        let mut compared = 0;
        for &(function, nargs, body) in FUNCTIONS {
            for round in 0..300 {
                let n = worlds.len();
                let world = &mut worlds[round % n];
                let args: Vec<Value> = (0..nargs).map(|_| Value::from(any(&mut rng))).collect();
                let expected = reference(world, function, &args);
                let got = body(&world.env, &args);
                match (&expected, &got) {
                    (Err(_), Err(_)) => {}
                    (Ok(e), Ok(g)) if e == g && e.to_json_str().ok() == g.to_json_str().ok() => {}
                    _ => panic!(
                        "{function}({}): Rego {expected:?}, native {got:?}",
                        args.iter()
                            .map(|a| a.to_json_str().unwrap())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }
                compared += 1;
            }
        }
        assert_eq!(compared, FUNCTIONS.len() * 300);
    }

    /// Break-glass names and tag values compare as Rego's `lower` makes them, whether the
    /// native side lowers a copy (capitals, letters beyond ASCII) or compares in place.
    #[test]
    fn break_glass_matches_as_rego_lowers() {
        let mut worlds = worlds();
        let users = [
            (0, json!({"user_name": "alice"}), true),
            (0, json!({"user_name": "ALICE"}), true),
            (0, json!({"user_name": "alicE2"}), false),
            (0, json!({"user_name": "åsa"}), true),
            (0, json!({"user_name": "ÅSA"}), true),
            (0, json!({"user_name": "asa"}), false),
            (
                0,
                json!({"user_name": "x", "arn": "ARN:AWS:IAM::1:USER/BOB"}),
                true,
            ),
            (
                1,
                json!({"user_name": "x", "tags": {"team": "team-7"}}),
                true,
            ),
            (
                1,
                json!({"user_name": "x", "tags": {"team": "tEaM-7"}}),
                true,
            ),
            (
                1,
                json!({"user_name": "x", "tags": {"team": "team-8"}}),
                false,
            ),
            (
                4,
                json!({"user_name": "x", "tags": {"team": "ÉQUIPE-7"}}),
                true,
            ),
            (
                4,
                json!({"user_name": "x", "tags": {"team": "équipe-7"}}),
                true,
            ),
            (
                4,
                json!({"user_name": "x", "tags": {"team": "equipe-7"}}),
                false,
            ),
        ];
        for (world, user, expected) in users {
            let world = &mut worlds[world];
            let args = [Value::from(user.clone())];
            let rego = reference(world, "is_break_glass", &args).unwrap();
            let native = is_break_glass(&world.env, &args[0]).unwrap();
            assert_eq!(rego == Value::from(true), expected, "Rego, {user}");
            assert_eq!(native, expected, "native, {user}");
        }
    }

    /// Every function of the reference file has a native twin, and no native function lacks one.
    #[test]
    fn the_native_functions_are_the_reference_functions() {
        let mut reference: Vec<&str> = REFERENCE
            .lines()
            .filter(|l| !l.starts_with(['#', ' ', '\t', '}']) && l.contains('('))
            .filter_map(|l| l.split('(').next())
            .collect();
        reference.sort();
        reference.dedup();
        let mut native: Vec<&str> = FUNCTIONS.iter().map(|(name, _, _)| *name).collect();
        native.sort();
        assert_eq!(native, reference);
    }

    #[test]
    fn aliases_come_from_imports_and_with_rules_the_native_library_out() {
        let aliases = Aliases::of(["import data.credwarden.lib as cw\nimport data.credwarden\nimport data.credwarden as root"]).unwrap();
        assert_eq!(aliases.lib, ["lib", "cw"]);
        assert_eq!(aliases.root, ["credwarden", "root"]);
        assert_eq!(
            names("field", &aliases),
            [
                "data.credwarden.lib.field",
                "lib.field",
                "cw.field",
                "credwarden.lib.field",
                "root.lib.field"
            ]
        );
        assert!(Aliases::of(["x := f(1) with data.credwarden.now_ns as 5"]).is_none());
        assert!(Aliases::of(["x := f(1) with lib.days_since as g"]).is_none());
        assert!(
            Aliases::of(["import data.acme.lib"]).is_none(),
            "another package named lib"
        );
        // A message that says "with ... as" is not a modifier; a comment is not code.
        assert!(Aliases::of(["msg := \"with keys as well\"\n# with data.x as y"]).is_some());
    }
}
