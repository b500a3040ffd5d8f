//! Rego builtin functions run natively on [`regorus::Value`], each giving exactly what the
//! regorus 0.14.1 interpreter gives for the same arguments.
//!
//! A builtin answers `Ok(value)` only where the interpreter answers that value (`Ok(Undefined)`
//! where the interpreter's builtin itself returns undefined). Wherever the interpreter's builtin
//! raises an error — with the default strict builtin errors an error of the whole evaluation,
//! without them an undefined call — or wherever a case is not mirrored here, it answers
//! [`Bail`], and the caller lets the interpreter evaluate the whole rule. Bailing is always
//! safe; a wrong `Ok` is not.
//!
//! Numbers are never computed here: the arithmetic, rounding and formatting are regorus's own
//! public methods of its number type (reached through `Value::Number`), so the integer, float
//! and big-integer cases cannot drift from the interpreter's.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use regorus::value::{Array, Object, Set};
use regorus::Value;

/// Our evaluator cannot decide this call exactly as the interpreter would (the interpreter
/// would raise an error, or the case is not mirrored): the caller then lets the interpreter
/// evaluate the whole rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bail(pub(crate) String);

pub(crate) type Builtin = fn(&[Value]) -> Result<Value, Bail>;

/// Whether `f` is `object.get` (which the account analysis looks through when it reads the
/// input at a constant key).
pub(crate) fn is_object_get(f: Builtin) -> bool {
    std::ptr::fn_addr_eq(f, object_get as Builtin)
}

/// Whether `f` is `count` (which the account analysis allows on an account's users: counted
/// users are as many).
pub(crate) fn is_count(f: Builtin) -> bool {
    std::ptr::fn_addr_eq(f, count as Builtin)
}

/// The builtin named `name` (as a call spells it, e.g. "count", "object.get", "regex.match")
/// taking `nargs` arguments, when it is mirrored here.
pub(crate) fn lookup(name: &str, nargs: usize) -> Option<Builtin> {
    let (arity, f): (usize, Builtin) = match name {
        "count" => (1, count),
        "sprintf" => (2, sprintf),
        "is_string" => (1, is_string),
        "is_number" => (1, is_number),
        "is_boolean" => (1, is_boolean),
        "is_array" => (1, is_array),
        "is_set" => (1, is_set),
        "is_object" => (1, is_object),
        "is_null" => (1, is_null),
        "type_name" => (1, type_name),
        "object.get" => (3, object_get),
        "object.union" => (2, object_union),
        "object.keys" => (1, object_keys),
        "object.remove" => (2, object_remove),
        "contains" => (2, contains),
        "startswith" => (2, startswith),
        "endswith" => (2, endswith),
        "concat" => (2, concat),
        "lower" => (1, lower),
        "upper" => (1, upper),
        "split" => (2, split),
        "replace" => (3, replace),
        "trim" => (2, trim),
        "trim_space" => (1, trim_space),
        "trim_prefix" => (2, trim_prefix),
        "trim_suffix" => (2, trim_suffix),
        "trim_left" => (2, trim_left),
        "trim_right" => (2, trim_right),
        "substring" => (3, substring),
        "indexof" => (2, indexof),
        "format_int" => (2, format_int),
        "to_number" => (1, to_number),
        "sort" => (1, sort),
        "max" => (1, max),
        "min" => (1, min),
        "sum" => (1, sum),
        "floor" => (1, floor),
        "ceil" => (1, ceil),
        "round" => (1, round),
        "abs" => (1, abs),
        "array.concat" => (2, array_concat),
        "array.slice" => (3, array_slice),
        "union" => (1, union),
        "intersection" => (1, intersection),
        "regex.match" => (2, regex_match),
        "time.parse_rfc3339_ns" => (1, time_parse_rfc3339_ns),
        "json.unmarshal" => (1, json_unmarshal),
        _ => return None,
    };
    (arity == nargs).then_some(f)
}

// ---- argument helpers ------------------------------------------------------------------------

fn bail<T>(why: impl Into<String>) -> Result<T, Bail> {
    Err(Bail(why.into()))
}

fn one(args: &[Value]) -> Result<&Value, Bail> {
    match args {
        [a] => Ok(a),
        _ => bail("wrong number of arguments"),
    }
}

fn two(args: &[Value]) -> Result<(&Value, &Value), Bail> {
    match args {
        [a, b] => Ok((a, b)),
        _ => bail("wrong number of arguments"),
    }
}

fn three(args: &[Value]) -> Result<(&Value, &Value, &Value), Bail> {
    match args {
        [a, b, c] => Ok((a, b, c)),
        _ => bail("wrong number of arguments"),
    }
}

/// The interpreter's `ensure_string`: anything else is an error.
fn string(v: &Value) -> Result<&str, Bail> {
    match v {
        Value::String(s) => Ok(s),
        _ => bail("expects a string argument"),
    }
}

/// The interpreter's `ensure_array`.
fn array(v: &Value) -> Result<&Array, Bail> {
    match v {
        Value::Array(a) => Ok(a),
        _ => bail("expects an array argument"),
    }
}

/// The interpreter's `ensure_set`.
fn set(v: &Value) -> Result<&Set, Bail> {
    match v {
        Value::Set(s) => Ok(s),
        _ => bail("expects a set argument"),
    }
}

/// The interpreter's `ensure_object`.
fn object(v: &Value) -> Result<&Object, Bail> {
    match v {
        Value::Object(o) => Ok(o),
        _ => bail("expects an object argument"),
    }
}

/// The interpreter's `ensure_numeric`: the argument itself, known to be a `Value::Number`.
fn numeric(v: &Value) -> Result<&Value, Bail> {
    match v {
        Value::Number(_) => Ok(v),
        _ => bail("expects a numeric argument"),
    }
}

fn text(s: impl Into<String>) -> Value {
    Value::from(s.into())
}

// ---- types -----------------------------------------------------------------------------------

fn is_string(args: &[Value]) -> Result<Value, Bail> {
    Ok(Value::Bool(matches!(one(args)?, Value::String(_))))
}

fn is_number(args: &[Value]) -> Result<Value, Bail> {
    Ok(Value::Bool(matches!(one(args)?, Value::Number(_))))
}

fn is_boolean(args: &[Value]) -> Result<Value, Bail> {
    Ok(Value::Bool(matches!(one(args)?, Value::Bool(_))))
}

fn is_array(args: &[Value]) -> Result<Value, Bail> {
    Ok(Value::Bool(matches!(one(args)?, Value::Array(_))))
}

fn is_set(args: &[Value]) -> Result<Value, Bail> {
    Ok(Value::Bool(matches!(one(args)?, Value::Set(_))))
}

fn is_object(args: &[Value]) -> Result<Value, Bail> {
    Ok(Value::Bool(matches!(one(args)?, Value::Object(_))))
}

fn is_null(args: &[Value]) -> Result<Value, Bail> {
    Ok(Value::Bool(matches!(one(args)?, Value::Null)))
}

fn type_name(args: &[Value]) -> Result<Value, Bail> {
    let name = match one(args)? {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Set(_) => "set",
        Value::Undefined => return bail("undefined argument"),
    };
    Ok(Value::from(name))
}

// ---- aggregates ------------------------------------------------------------------------------

/// `count`: a string counts its UTF-16 code units (as regorus does), not its bytes or chars.
fn count(args: &[Value]) -> Result<Value, Bail> {
    let n = match one(args)? {
        Value::Array(a) => a.len(),
        Value::Set(s) => s.len(),
        Value::Object(o) => o.len(),
        Value::String(s) => s.encode_utf16().count(),
        // An error with strict builtin errors (the default), undefined without.
        _ => return bail("count of a value that is not a collection or string"),
    };
    Ok(Value::from(n))
}

fn max(args: &[Value]) -> Result<Value, Bail> {
    let found = match one(args)? {
        Value::Array(a) => a.iter().max(),
        Value::Set(s) => s.iter().max(),
        _ => return bail("max expects an array or a set"),
    };
    Ok(found.cloned().unwrap_or(Value::Undefined))
}

fn min(args: &[Value]) -> Result<Value, Bail> {
    let found = match one(args)? {
        Value::Array(a) => a.iter().min(),
        Value::Set(s) => s.iter().min(),
        _ => return bail("min expects an array or a set"),
    };
    Ok(found.cloned().unwrap_or(Value::Undefined))
}

fn sort(args: &[Value]) -> Result<Value, Bail> {
    match one(args)? {
        Value::Array(a) => {
            let mut sorted = (**a).clone();
            sorted.sort();
            Ok(Value::from(sorted))
        }
        // A set iterates in order already; sorting it gives an array.
        Value::Set(s) => Ok(Value::from(s.iter().cloned().collect::<Vec<Value>>())),
        _ => bail("sort expects an array or a set"),
    }
}

/// `sum`: regorus's own addition, from its integer zero, in the collection's order.
fn sum(args: &[Value]) -> Result<Value, Bail> {
    let items: Box<dyn Iterator<Item = &Value>> = match one(args)? {
        Value::Array(a) => Box::new(a.iter()),
        Value::Set(s) => Box::new(s.iter()),
        _ => return bail("sum expects an array or a set"),
    };
    let mut total = Value::from(0_u64);
    for item in items {
        let Value::Number(n) = item else {
            return bail("sum of a non-numeric element");
        };
        let acc = total
            .as_number_mut()
            .map_err(|e| Bail(format!("sum: {e}")))?;
        acc.add_assign(n).map_err(|e| Bail(format!("sum: {e}")))?;
    }
    Ok(total)
}

// ---- numbers ---------------------------------------------------------------------------------

fn abs(args: &[Value]) -> Result<Value, Bail> {
    match numeric(one(args)?)? {
        Value::Number(n) => Ok(Value::Number(n.abs())),
        _ => bail("abs expects a number"),
    }
}

fn ceil(args: &[Value]) -> Result<Value, Bail> {
    match numeric(one(args)?)? {
        Value::Number(n) => Ok(Value::Number(n.ceil())),
        _ => bail("ceil expects a number"),
    }
}

fn floor(args: &[Value]) -> Result<Value, Bail> {
    match numeric(one(args)?)? {
        Value::Number(n) => Ok(Value::Number(n.floor())),
        _ => bail("floor expects a number"),
    }
}

fn round(args: &[Value]) -> Result<Value, Bail> {
    match numeric(one(args)?)? {
        Value::Number(n) => Ok(Value::Number(n.round())),
        _ => bail("round expects a number"),
    }
}

/// `to_number`: a string is read as a JSON number (regorus's reading), not as Go's `Atoi`.
fn to_number(args: &[Value]) -> Result<Value, Bail> {
    match one(args)? {
        Value::Null | Value::Bool(false) => Ok(Value::from(0_u64)),
        Value::Bool(true) => Ok(Value::from(1_u64)),
        v @ Value::Number(_) => Ok(v.clone()),
        Value::String(s) => match Value::from_json_str(s) {
            Ok(n @ Value::Number(_)) => Ok(n),
            _ => bail("to_number: string is not a number"),
        },
        _ => bail("to_number expects a bool, number, string or null"),
    }
}

/// `format_int`: the magnitude is floored and printed in the base, the sign put before it.
fn format_int(args: &[Value]) -> Result<Value, Bail> {
    let (n, base) = two(args)?;
    let (Value::Number(n), Value::Number(base)) = (numeric(n)?, numeric(base)?) else {
        return bail("format_int expects numbers");
    };
    let zero = Value::from(0_u64);
    let Value::Number(zero) = &zero else {
        return bail("format_int: no zero");
    };
    let (sign, magnitude) = if n < zero {
        ("-", n.abs())
    } else {
        ("", n.clone())
    };
    let magnitude = magnitude.floor();
    let digits = match base.as_u64() {
        Some(2) => magnitude.format_bin(),
        Some(8) => magnitude.format_octal(),
        Some(10) => magnitude.format_decimal(),
        Some(16) => magnitude.format_hex(),
        // An error with strict builtin errors, undefined without.
        _ => return bail("format_int base is not 2, 8, 10 or 16"),
    };
    Ok(text(format!("{sign}{digits}")))
}

// ---- arrays and sets -------------------------------------------------------------------------

fn array_concat(args: &[Value]) -> Result<Value, Bail> {
    let (a, b) = two(args)?;
    let (a, b) = (array(a)?, array(b)?);
    let mut joined = a.to_vec();
    joined.extend(b.iter().cloned());
    Ok(Value::from(joined))
}

/// `array.slice`: a non-integer or out-of-i64 bound is undefined (not an error); bounds are
/// clamped to the array.
fn array_slice(args: &[Value]) -> Result<Value, Bail> {
    let (a, start, stop) = three(args)?;
    let a = array(a)?;
    let (Value::Number(start), Value::Number(stop)) = (numeric(start)?, numeric(stop)?) else {
        return bail("array.slice expects numeric bounds");
    };
    if !start.is_integer() || !stop.is_integer() {
        return Ok(Value::Undefined);
    }
    let Some(start) = start.as_i64() else {
        return Ok(Value::Undefined);
    };
    let Some(stop) = stop.as_i64() else {
        return Ok(Value::Undefined);
    };
    let start = usize::try_from(start).unwrap_or(0);
    let stop = usize::try_from(stop).unwrap_or(0).min(a.len());
    if start >= stop {
        return Ok(Value::new_array());
    }
    Ok(Value::from(
        a.iter()
            .skip(start)
            .take(stop - start)
            .cloned()
            .collect::<Vec<Value>>(),
    ))
}

/// `union(set_of_sets)`.
fn union(args: &[Value]) -> Result<Value, Bail> {
    let outer = set(one(args)?)?;
    let mut result = Set::new();
    for s in outer.iter() {
        let Value::Set(s) = s else {
            return bail("union expects a set of sets");
        };
        result = result.union(s);
    }
    Ok(Value::from(result))
}

/// `intersection(set_of_sets)`: the empty set of sets gives the empty set.
fn intersection(args: &[Value]) -> Result<Value, Bail> {
    let outer = set(one(args)?)?;
    let mut result: Option<Set> = None;
    for s in outer.iter() {
        let Value::Set(s) = s else {
            return bail("intersection expects a set of sets");
        };
        result = Some(match result {
            None => (**s).clone(),
            Some(r) => r.intersection(s),
        });
    }
    Ok(Value::from(result.unwrap_or_default()))
}

// ---- objects ---------------------------------------------------------------------------------

/// `object.get(object, key, default)`; an array key is a path, walked through objects, arrays
/// and sets, the default standing for the first step that is missing (an empty path gives the
/// object itself).
fn object_get(args: &[Value]) -> Result<Value, Bail> {
    let (doc, key, default) = three(args)?;
    let obj = object(doc)?;
    match key {
        Value::Array(path) => {
            let mut at = doc;
            for step in path.iter() {
                at = &at[step];
                if matches!(at, Value::Undefined) {
                    return Ok(default.clone());
                }
            }
            Ok(at.clone())
        }
        key => Ok(obj.get(key).unwrap_or(default).clone()),
    }
}

fn object_keys(args: &[Value]) -> Result<Value, Bail> {
    let obj = object(one(args)?)?;
    Ok(Value::from(
        obj.keys().cloned().collect::<BTreeSet<Value>>(),
    ))
}

fn object_remove(args: &[Value]) -> Result<Value, Bail> {
    let (doc, keys) = two(args)?;
    object(doc)?;
    let mut result = doc.clone();
    let obj = result
        .as_object_mut()
        .map_err(|e| Bail(format!("object.remove: {e}")))?;
    match keys {
        Value::Array(a) => {
            let keys: BTreeSet<&Value> = a.iter().collect();
            obj.retain(|k, _| !keys.contains(k));
        }
        Value::Set(s) => obj.retain(|k, _| !s.contains(k)),
        Value::Object(o) => obj.retain(|k, _| !o.contains_key(k)),
        _ => return bail("object.remove expects an array, set or object of keys"),
    }
    Ok(result)
}

/// The recursive merge of `object.union`: where both sides are objects their keys merge, and
/// anywhere else the right side wins.
fn merge(left: &Value, right: &Value) -> Result<Value, Bail> {
    let (Value::Object(l), Value::Object(r)) = (left, right) else {
        return Ok(right.clone());
    };
    let mut result = left.clone();
    let obj = result
        .as_object_mut()
        .map_err(|e| Bail(format!("object.union: {e}")))?;
    for (key, value) in r.iter() {
        let merged = match l.get(key) {
            Some(existing) => merge(existing, value)?,
            None => value.clone(),
        };
        obj.insert(key.clone(), merged);
    }
    Ok(result)
}

fn object_union(args: &[Value]) -> Result<Value, Bail> {
    let (a, b) = two(args)?;
    object(a)?;
    object(b)?;
    merge(a, b)
}

// ---- strings ---------------------------------------------------------------------------------

fn contains(args: &[Value]) -> Result<Value, Bail> {
    let (a, b) = two(args)?;
    let (a, b) = (string(a)?, string(b)?);
    Ok(Value::Bool(a.contains(b)))
}

fn startswith(args: &[Value]) -> Result<Value, Bail> {
    let (a, b) = two(args)?;
    let (a, b) = (string(a)?, string(b)?);
    Ok(Value::Bool(a.starts_with(b)))
}

fn endswith(args: &[Value]) -> Result<Value, Bail> {
    let (a, b) = two(args)?;
    let (a, b) = (string(a)?, string(b)?);
    Ok(Value::Bool(a.ends_with(b)))
}

/// `concat(delimiter, array_or_set_of_strings)`.
fn concat(args: &[Value]) -> Result<Value, Bail> {
    let (delimiter, items) = two(args)?;
    let delimiter = string(delimiter)?;
    let items: Box<dyn Iterator<Item = &Value>> = match items {
        Value::Array(a) => Box::new(a.iter()),
        Value::Set(s) => Box::new(s.iter()),
        _ => return bail("concat expects an array or set of strings"),
    };
    let parts = items.map(string).collect::<Result<Vec<&str>, Bail>>()?;
    Ok(text(parts.join(delimiter)))
}

/// `json.unmarshal`: the interpreter's own parse of the text (`Value::from_json_str`), so the
/// numbers, duplicate keys and nesting limits are its own; text it rejects is its error.
fn json_unmarshal(args: &[Value]) -> Result<Value, Bail> {
    Value::from_json_str(string(one(args)?)?).or_else(|_| bail("json.unmarshal of bad JSON"))
}

fn lower(args: &[Value]) -> Result<Value, Bail> {
    Ok(text(string(one(args)?)?.to_lowercase()))
}

fn upper(args: &[Value]) -> Result<Value, Bail> {
    Ok(text(string(one(args)?)?.to_uppercase()))
}

/// `split`: an empty delimiter splits into characters (no leading or trailing "").
fn split(args: &[Value]) -> Result<Value, Bail> {
    let (s, delimiter) = two(args)?;
    let (s, delimiter) = (string(s)?, string(delimiter)?);
    let parts: Vec<Value> = if delimiter.is_empty() {
        s.chars().map(|c| text(c.to_string())).collect()
    } else {
        s.split(delimiter).map(Value::from).collect()
    };
    Ok(Value::from(parts))
}

fn replace(args: &[Value]) -> Result<Value, Bail> {
    let (s, old, new) = three(args)?;
    let (s, old, new) = (string(s)?, string(old)?, string(new)?);
    Ok(text(s.replace(old, new)))
}

/// `trim(s, cutset)`: every char of the cutset is trimmed from both ends.
fn trim(args: &[Value]) -> Result<Value, Bail> {
    let (s, cutset) = two(args)?;
    let (s, cutset) = (string(s)?, string(cutset)?);
    Ok(Value::from(s.trim_matches(|c| cutset.contains(c))))
}

fn trim_left(args: &[Value]) -> Result<Value, Bail> {
    let (s, cutset) = two(args)?;
    let (s, cutset) = (string(s)?, string(cutset)?);
    Ok(Value::from(s.trim_start_matches(|c| cutset.contains(c))))
}

fn trim_right(args: &[Value]) -> Result<Value, Bail> {
    let (s, cutset) = two(args)?;
    let (s, cutset) = (string(s)?, string(cutset)?);
    Ok(Value::from(s.trim_end_matches(|c| cutset.contains(c))))
}

fn trim_prefix(args: &[Value]) -> Result<Value, Bail> {
    let (s, prefix) = two(args)?;
    let (s, prefix) = (string(s)?, string(prefix)?);
    Ok(Value::from(s.strip_prefix(prefix).unwrap_or(s)))
}

fn trim_suffix(args: &[Value]) -> Result<Value, Bail> {
    let (s, suffix) = two(args)?;
    let (s, suffix) = (string(s)?, string(suffix)?);
    Ok(Value::from(s.strip_suffix(suffix).unwrap_or(s)))
}

/// `trim_space`: Rust's `str::trim` (Unicode White_Space), as regorus uses.
fn trim_space(args: &[Value]) -> Result<Value, Bail> {
    Ok(Value::from(string(one(args)?)?.trim()))
}

/// `substring(s, offset, length)` in chars. A negative offset is an error; an offset or length
/// that is not an i64 integer gives ""; a negative length takes the rest.
fn substring(args: &[Value]) -> Result<Value, Bail> {
    let (s, offset, length) = three(args)?;
    let s = string(s)?;
    let (Value::Number(offset), Value::Number(length)) = (numeric(offset)?, numeric(length)?)
    else {
        return bail("substring expects numeric offset and length");
    };
    match (offset.as_i64(), length.as_i64()) {
        (Some(offset), _) if offset < 0 => bail("substring: negative offset"),
        (Some(offset), Some(length)) => {
            let skip = usize::try_from(offset).map_err(|_| Bail("substring offset".into()))?;
            // A negative length takes (at most) as many chars as the string has bytes.
            let take = usize::try_from(length).unwrap_or(s.len());
            Ok(text(s.chars().skip(skip).take(take).collect::<String>()))
        }
        _ => Ok(Value::from("")),
    }
}

/// `indexof(s, needle)`: the position in chars of the first match, or -1. The empty needle is
/// found at 0 in a non-empty string, and not found (-1) in the empty string.
fn indexof(args: &[Value]) -> Result<Value, Bail> {
    let (s, needle) = two(args)?;
    let (s, needle) = (string(s)?, string(needle)?);
    let found = s
        .char_indices()
        .position(|(at, _)| s.get(at..).is_some_and(|rest| rest.starts_with(needle)));
    Ok(match found {
        Some(pos) => Value::from(pos),
        None => Value::from(-1_i64),
    })
}

// ---- sprintf ---------------------------------------------------------------------------------

/// The widest `%N…` this mirrors: wider ones bail (regorus's u32 width arithmetic may overflow).
const MAX_WIDTH: u32 = 1024;

#[derive(Clone, Copy)]
enum Width {
    None,
    LeadingZeros(usize),
    Cell(usize),
    Decimals(u32),
}

/// Pads on the left to the width counted in bytes (as regorus counts it).
fn pad(width: Width, s: String) -> String {
    match width {
        Width::LeadingZeros(n) if n > s.len() => "0".repeat(n - s.len()) + &s,
        Width::Cell(n) if n > s.len() => " ".repeat(n - s.len()) + &s,
        _ => s,
    }
}

/// How `%v` (and `%s` of a non-string) prints a value: strings inside collections are
/// JSON-quoted, a set prints as `{a, b}`, an object as `{k: v}` in key order.
fn display(v: &Value, quote: bool, out: &mut String) -> Result<(), Bail> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::String(s) if quote => out.push_str(
            &serde_json::to_string(s.as_ref()).map_err(|e| Bail(format!("sprintf: {e}")))?,
        ),
        Value::String(s) => out.push_str(s),
        Value::Number(n) => out.push_str(&n.format_decimal()),
        Value::Array(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                display(e, true, out)?;
            }
            out.push(']');
        }
        Value::Set(s) => {
            out.push('{');
            for (i, e) in s.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                display(e, true, out)?;
            }
            out.push('}');
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, e)) in o.iter_sorted().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                display(k, true, out)?;
                out.push_str(": ");
                display(e, true, out)?;
            }
            out.push('}');
        }
        Value::Undefined => return bail("sprintf of an undefined value"),
    }
    Ok(())
}

/// regorus's `sprintf`, which is not Go's: see the notes on each verb. Not mirrored (bail):
/// `%c`, `%g`, `%G`, `%q`, `%+…`, and widths that are not ASCII digits or exceed [`MAX_WIDTH`].
fn sprintf(args: &[Value]) -> Result<Value, Bail> {
    let (format, list) = two(args)?;
    let format = string(format)?;
    let list = array(list)?;
    let zero = Value::from(0.0_f64);
    let Value::Number(zero) = &zero else {
        return bail("sprintf: no zero");
    };

    let mut out = String::new();
    let mut next_arg = 0_usize;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let (verb, width) = match chars.next() {
            Some('%') => {
                out.push('%');
                continue;
            }
            Some(first) if first == '.' || first.is_numeric() => {
                // regorus reads any Unicode numeric char here and panics on a non-ASCII one.
                let mut w: u32 = match first {
                    '.' => 0,
                    d if d.is_ascii_digit() => d.to_digit(10).unwrap_or(0),
                    _ => return bail("sprintf: non-ASCII digit in width"),
                };
                while let Some(&d) = chars.peek() {
                    if !d.is_numeric() {
                        break;
                    }
                    if !d.is_ascii_digit() {
                        return bail("sprintf: non-ASCII digit in width");
                    }
                    let digit = d.to_digit(10).unwrap_or(0);
                    w = w.saturating_mul(10).saturating_add(digit);
                    if w > MAX_WIDTH {
                        return bail("sprintf: width too large");
                    }
                    chars.next();
                }
                let width = match first {
                    '0' => Width::LeadingZeros(w as usize),
                    '.' => Width::Decimals(w),
                    _ => Width::Cell(w as usize),
                };
                match chars.next() {
                    Some(verb) => (verb, width),
                    None => return bail("sprintf: missing verb after width"),
                }
            }
            Some(verb) => (verb, Width::None),
            None => return bail("sprintf: missing verb at end of format"),
        };

        let Some(arg) = list.get(next_arg) else {
            return bail("sprintf: too few arguments");
        };
        next_arg += 1;

        match (verb, arg) {
            ('s', Value::String(s)) => out.push_str(s),
            ('s' | 'v', v) => display(v, false, &mut out)?,
            ('b' | 'd' | 'o' | 'O' | 'x' | 'X', Value::Number(n)) if n.is_integer() => {
                // regorus writes "-" for a negative number and then the number's own digits,
                // which carry their sign too (so `%d` of -5 is "--5").
                if n < zero {
                    out.push('-');
                }
                let digits = match verb {
                    // `%b` ignores the width.
                    'b' => n.format_bin(),
                    'd' => pad(width, n.format_decimal()),
                    // regorus's prefixes are `0O` for `%o` and `0o` for `%O`.
                    'o' => pad(width, format!("0O{}", n.format_octal())),
                    'O' => pad(width, format!("0o{}", n.format_octal())),
                    'x' => pad(width, n.format_hex()),
                    _ => pad(width, n.format_big_hex()),
                };
                out.push_str(&digits);
            }
            ('e', Value::Number(n)) => out.push_str(&n.format_scientific()),
            ('E', Value::Number(n)) => out.push_str(&n.format_scientific().replace('e', "E")),
            ('f' | 'F', Value::Number(n)) => match width {
                Width::Decimals(d) => out.push_str(&n.format_decimal_with_width(d)),
                _ => out.push_str(&pad(width, n.format_decimal())),
            },
            // `%c`, `%g` and `%G` of a number are not mirrored; any other verb of a number (and
            // `%b`… of a non-integer) is an error.
            (_, Value::Number(_)) => return bail("sprintf: number verb not mirrored"),
            // `%q` quotes like Go (not mirrored) or is an error; `%+` reads the format on.
            ('q' | '+' | 'T' | '#' | 'p', _) => return bail("sprintf: verb not mirrored"),
            // Any other verb of a non-number prints nothing (and uses up its argument).
            _ => {}
        }
    }

    if next_arg < list.len() {
        return bail("sprintf: extra arguments");
    }
    Ok(text(out))
}

// ---- regex and time --------------------------------------------------------------------------

/// regorus compiles every pattern with this NFA size limit; a bigger pattern is an error.
const REGEX_SIZE_LIMIT: usize = 100 * 1024;

/// Compiled patterns kept per thread (`None`: the pattern does not compile).
const REGEX_CACHE_ENTRIES: usize = 512;

thread_local! {
    static REGEXES: RefCell<HashMap<String, Option<regex::Regex>>> = RefCell::new(HashMap::new());
}

fn compile_regex(pattern: &str) -> Option<regex::Regex> {
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .ok()
}

fn cached_regex(pattern: &str) -> Option<regex::Regex> {
    REGEXES.with(|cache| {
        let Ok(mut cache) = cache.try_borrow_mut() else {
            return compile_regex(pattern);
        };
        if let Some(re) = cache.get(pattern) {
            return re.clone();
        }
        let re = compile_regex(pattern);
        if cache.len() >= REGEX_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(pattern.to_owned(), re.clone());
        re
    })
}

/// `regex.match(pattern, value)`: an invalid or too large pattern is an error.
fn regex_match(args: &[Value]) -> Result<Value, Bail> {
    let (pattern, value) = two(args)?;
    let (pattern, value) = (string(pattern)?, string(value)?);
    match cached_regex(pattern) {
        Some(re) => Ok(Value::Bool(re.is_match(value))),
        None => bail("regex.match: invalid pattern"),
    }
}

/// `time.parse_rfc3339_ns`: chrono's RFC 3339 reading; unparsable or out of the i64 nanosecond
/// range is an error.
fn time_parse_rfc3339_ns(args: &[Value]) -> Result<Value, Bail> {
    let s = string(one(args)?)?;
    let at = chrono::DateTime::parse_from_rfc3339(s)
        .map_err(|e| Bail(format!("time.parse_rfc3339_ns: {e}")))?;
    match at.timestamp_nanos_opt() {
        Some(ns) => Ok(Value::from(ns)),
        None => bail("time.parse_rfc3339_ns: time out of range"),
    }
}

#[cfg(test)]
mod tests {
    //! Every builtin against the regorus interpreter itself, over a grid of arguments: where
    //! ours answers, the interpreter answers the same (numbers in the same representation);
    //! where the interpreter raises an error, ours bails; and ours bails on nothing the
    //! interpreter answers, except the `sprintf` verbs that are not mirrored.

    use std::collections::BTreeMap;

    use super::*;

    fn num(s: &str) -> Value {
        Value::from_numeric_string(s).expect("a number")
    }

    fn arr(items: Vec<Value>) -> Value {
        Value::from(items)
    }

    fn set_of(items: Vec<Value>) -> Value {
        Value::from(items.into_iter().collect::<BTreeSet<Value>>())
    }

    fn obj(entries: Vec<(Value, Value)>) -> Value {
        Value::from(entries.into_iter().collect::<BTreeMap<Value, Value>>())
    }

    fn json(s: &str) -> Value {
        Value::from_json_str(s).expect("json")
    }

    fn strs(items: &[&str]) -> Vec<Value> {
        items.iter().map(|s| Value::from(*s)).collect()
    }

    fn strings() -> Vec<Value> {
        strs(&[
            "",
            "a",
            "abc",
            "aXbXc",
            "Hello, World",
            "  padded \t\n",
            "\u{85}nel\u{a0}",
            "ÄÖü straße",
            "İstanbul",
            "ΟΔΟΣ",
            "ﬁ",
            "日本語",
            "😀x😀",
            "a,b,,c",
            ",",
            "%",
            "1",
            "-2",
            "1.5",
            "1e3",
            " 7 ",
            "0x10",
            "2.0",
            "12345678901234567890123",
            "x\"y\\z\u{1}",
            "\u{212A}",
        ])
    }

    fn numbers() -> Vec<Value> {
        vec![
            Value::from(0_u64),
            Value::from(1_u64),
            Value::from(2_u64),
            Value::from(3_u64),
            Value::from(8_u64),
            Value::from(10_u64),
            Value::from(16_u64),
            Value::from(-1_i64),
            Value::from(-5_i64),
            Value::from(1.5_f64),
            Value::from(-1.5_f64),
            Value::from(2.0_f64),
            Value::from(-2.0_f64),
            Value::from(0.5_f64),
            Value::from(2.5_f64),
            Value::from(-2.5_f64),
            Value::from(-0.0_f64),
            Value::from(0.1_f64),
            Value::from(1e20_f64),
            Value::from(1e300_f64),
            Value::from(u64::MAX),
            Value::from(i64::MIN),
            Value::from(i64::MAX),
            Value::from(9_007_199_254_740_993_u64),
            num("123456789012345678901234567890"),
            num("-123456789012345678901234567890"),
            json("2.0"),
            json("1e2"),
        ]
    }

    fn collections() -> Vec<Value> {
        vec![
            arr(vec![]),
            json("[1, 2, 3]"),
            json(r#"["a", "b"]"#),
            json(r#"["b", "a", "c", "a"]"#),
            json("[3, 1, 2.5, -1, 1.0, 1]"),
            json(r#"[1, "a", null, true, [1], {"k": 1}]"#),
            arr(vec![
                Value::from(1.0_f64),
                Value::from(1_u64),
                set_of(vec![]),
            ]),
            json("[[1], [0]]"),
            set_of(vec![]),
            set_of(vec![
                Value::from(1_u64),
                Value::from(2_u64),
                Value::from(3_u64),
            ]),
            set_of(strs(&["a", "b"])),
            set_of(vec![
                set_of(vec![Value::from(1_u64), Value::from(2_u64)]),
                set_of(vec![Value::from(2_u64), Value::from(3_u64)]),
            ]),
            set_of(vec![set_of(vec![Value::from(1_u64)]), set_of(vec![])]),
            set_of(vec![set_of(strs(&["a"]))]),
            set_of(vec![Value::from(1_u64), Value::from("a")]),
            set_of(vec![Value::from(2.5_f64), Value::from(-1_i64)]),
            obj(vec![]),
            json(r#"{"a": 1, "b": {"c": 2}}"#),
            json(r#"{"b": {"d": 3}, "e": 4}"#),
            obj(vec![
                (Value::from(1_u64), Value::from("x")),
                (Value::from("k"), json("[1, 2]")),
            ]),
            json(r#"{"a": null}"#),
            json(r#"{"a": {"b": [10, {"c": 5}]}, "s": "t"}"#),
            obj(vec![(Value::from("a"), set_of(strs(&["x"])))]),
        ]
    }

    fn everything() -> Vec<Value> {
        let mut all = vec![Value::Null, Value::Bool(true), Value::Bool(false)];
        all.extend(strings());
        all.extend(numbers());
        all.extend(collections());
        all
    }

    /// A value's text with each number's representation (integer or float) visible, as
    /// `sprintf("%.3f")` and `%e` would show it.
    fn fingerprint(v: &Value, out: &mut String) {
        match v {
            Value::Number(n) => {
                out.push_str(&format!(
                    "<{}|{}|{}>",
                    n.format_decimal(),
                    n.format_decimal_with_width(3),
                    n.format_scientific()
                ));
            }
            Value::Array(a) => {
                out.push('[');
                for e in a.iter() {
                    fingerprint(e, out);
                    out.push(',');
                }
                out.push(']');
            }
            Value::Set(s) => {
                out.push_str("set(");
                for e in s.iter() {
                    fingerprint(e, out);
                    out.push(',');
                }
                out.push(')');
            }
            Value::Object(o) => {
                out.push('{');
                for (k, e) in o.iter() {
                    fingerprint(k, out);
                    out.push(':');
                    fingerprint(e, out);
                    out.push(',');
                }
                out.push('}');
            }
            other => out.push_str(&format!("{other:?}")),
        }
    }

    fn print(v: &Value) -> String {
        let mut s = String::new();
        fingerprint(v, &mut s);
        s
    }

    struct Oracle {
        name: &'static str,
        ours: Builtin,
        engine: regorus::Engine,
        /// Bailing where the interpreter answers is allowed (cases not mirrored).
        may_bail: bool,
        answered: usize,
        undefined: usize,
        errors: usize,
        bailed_on_answer: usize,
    }

    impl Oracle {
        fn new(name: &'static str, nargs: usize) -> Oracle {
            let ours = lookup(name, nargs).expect("the builtin is mirrored");
            let params = (0..nargs)
                .map(|i| format!("input[{i}]"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut engine = regorus::Engine::new();
            engine
                .add_policy(
                    "t.rego".into(),
                    format!("package t\n\nx := {name}({params})\n"),
                )
                .expect("policy");
            Oracle {
                name,
                ours,
                engine,
                may_bail: name == "sprintf",
                answered: 0,
                undefined: 0,
                errors: 0,
                bailed_on_answer: 0,
            }
        }

        fn check(&mut self, args: &[Value]) {
            self.engine.set_input(Value::from(args.to_vec()));
            let want = self.engine.eval_rule("data.t.x".into());
            let got = (self.ours)(args);
            let call = format!(
                "{}({})",
                self.name,
                args.iter().map(print).collect::<Vec<_>>().join(", ")
            );
            match (got, want) {
                (Ok(got), Ok(want)) => {
                    assert_eq!(print(&got), print(&want), "{call}");
                    assert_eq!(got, want, "{call}");
                    if want == Value::Undefined {
                        self.undefined += 1;
                    } else {
                        self.answered += 1;
                    }
                }
                (Ok(got), Err(e)) => {
                    panic!(
                        "{call}: ours gave {} where the interpreter failed: {e}",
                        print(&got)
                    )
                }
                (Err(Bail(why)), Ok(want)) => {
                    assert!(
                        self.may_bail,
                        "{call}: ours bailed ({why}) where the interpreter gave {}",
                        print(&want)
                    );
                    self.bailed_on_answer += 1;
                }
                (Err(_), Err(_)) => self.errors += 1,
            }
        }

        /// How many calls the interpreter answered (with a defined value).
        fn done(&self) -> usize {
            eprintln!(
                "{}: {} answered, {} undefined, {} errors, {} bailed on an answer",
                self.name, self.answered, self.undefined, self.errors, self.bailed_on_answer
            );
            self.answered
        }
    }

    fn each_1(name: &'static str, values: &[Value]) -> usize {
        let mut o = Oracle::new(name, 1);
        for a in values {
            o.check(std::slice::from_ref(a));
        }
        o.done()
    }

    fn each_2(name: &'static str, firsts: &[Value], seconds: &[Value]) -> usize {
        let mut o = Oracle::new(name, 2);
        for a in firsts {
            for b in seconds {
                o.check(&[a.clone(), b.clone()]);
            }
        }
        o.done()
    }

    fn each_3(name: &'static str, firsts: &[Value], seconds: &[Value], thirds: &[Value]) -> usize {
        let mut o = Oracle::new(name, 3);
        for a in firsts {
            for b in seconds {
                for c in thirds {
                    o.check(&[a.clone(), b.clone(), c.clone()]);
                }
            }
        }
        o.done()
    }

    /// Pairs of strings, and each kind of value against a string on either side.
    fn each_string_pair(name: &'static str, seconds: &[Value]) -> usize {
        let all = everything();
        let mut o = Oracle::new(name, 2);
        for a in strings() {
            for b in seconds {
                o.check(&[a.clone(), b.clone()]);
            }
        }
        for v in &all {
            o.check(&[v.clone(), Value::from("a")]);
            o.check(&[Value::from("abc"), v.clone()]);
        }
        o.done()
    }

    #[test]
    fn lookup_knows_names_and_arities() {
        assert!(lookup("count", 1).is_some());
        assert!(lookup("count", 2).is_none());
        assert!(lookup("object.get", 3).is_some());
        assert!(lookup("object.get", 2).is_none());
        assert!(lookup("http.send", 1).is_none());
        assert!(lookup("startswith", 2).is_some());
    }

    #[test]
    fn types_and_aggregates_match_the_interpreter() {
        let all = everything();
        for name in [
            "count",
            "is_string",
            "is_number",
            "is_boolean",
            "is_array",
            "is_set",
            "is_object",
            "is_null",
            "type_name",
            "sort",
            "max",
            "min",
            "sum",
            "floor",
            "ceil",
            "round",
            "abs",
            "to_number",
            "lower",
            "upper",
            "trim_space",
            "object.keys",
            "union",
            "intersection",
            "time.parse_rfc3339_ns",
        ] {
            let answered = each_1(name, &all);
            assert!(answered > 0 || name == "time.parse_rfc3339_ns", "{name}");
        }
        let mut sums = collections();
        sums.extend([
            arr(numbers()),
            set_of(numbers()),
            arr(vec![Value::from(u64::MAX), Value::from(1_u64)]),
            arr(vec![Value::from(i64::MIN), Value::from(-1_i64)]),
            arr(vec![Value::from(0.1_f64), Value::from(0.2_f64)]),
            arr(vec![Value::from(1.5_f64), Value::from(1.5_f64)]),
            arr(vec![
                Value::from(1e300_f64),
                Value::from(1e300_f64),
                Value::from(1e300_f64),
            ]),
        ]);
        each_1("sum", &sums);
        each_1("max", &sums);
        each_1("sort", &sums);
        let answered = each_1(
            "time.parse_rfc3339_ns",
            &strs(&[
                "2024-01-02T03:04:05Z",
                "2024-01-02T03:04:05.123456789+02:00",
                "2024-01-02t03:04:05z",
                "2024-01-02 03:04:05Z",
                "2024-01-02T03:04:05",
                "1600-01-01T00:00:00Z",
                "2262-04-11T23:47:16.854775807Z",
                "2262-04-11T23:47:16.854775808Z",
                "1677-09-21T00:12:43.145224192Z",
                "2024-02-30T00:00:00Z",
                "2016-12-31T23:59:60Z",
                "2024-01-02T03:04:05.1234567891Z",
            ]),
        );
        assert!(answered > 0);
        let mut documents = strs(&[
            r#"{"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Deny"}]}"#,
            r#"{"a": 1, "a": 2}"#,
            r#"[1, 1.0, -0, 1e400, 18446744073709551616, 0.1]"#,
            r#""text""#,
            "null",
            "true",
            " {\"k\": {}} ",
            "{",
            "",
            "[1,]",
            "{\"a\": NaN}",
            "\"\\ud800\"",
        ]);
        documents.push(Value::from("[".repeat(200) + &"]".repeat(200)));
        documents.extend(everything());
        assert!(each_1("json.unmarshal", &documents) > 0);
        let mut to_numbers = strs(&[
            "0",
            "-0",
            "1.0",
            "1e2",
            "1E-2",
            "+1",
            ".5",
            "1_000",
            "0x1F",
            "NaN",
            "Infinity",
            "1e400",
            "-",
            "18446744073709551616",
            "-9223372036854775809",
            "[1]",
            "\"1\"",
        ]);
        to_numbers.extend(strings());
        each_1("to_number", &to_numbers);
        each_1(
            "count",
            &strs(&["😀", "é", "e\u{301}", "日本", "\u{10FFFF}", "\u{FFFF}"]),
        );
    }

    #[test]
    fn strings_match_the_interpreter() {
        let mut seconds = strings();
        seconds.truncate(16);
        seconds.extend(strs(&[
            "b", "X", "c", "ab", "bc", "😀", "ü", " \t\n", "\u{85}",
        ]));
        for name in [
            "contains",
            "startswith",
            "endswith",
            "split",
            "indexof",
            "trim",
            "trim_left",
            "trim_right",
            "trim_prefix",
            "trim_suffix",
        ] {
            assert!(each_string_pair(name, &seconds) > 0, "{name}");
        }

        let mut delimiters = strs(&["", ",", "ü"]);
        delimiters.push(Value::from(1_u64));
        let mut items = collections();
        items.extend(strings());
        items.push(arr(strings()));
        items.push(set_of(strings()));
        assert!(each_2("concat", &delimiters, &items) > 0);

        let subjects = strs(&["", "abcabc", "aaa", "日本日本", "a.b.c"]);
        let olds = strs(&["", "a", "bc", "本", "."]);
        let mut news = strs(&["", "-", "XYZ"]);
        news.push(Value::Null);
        assert!(each_3("replace", &subjects, &olds, &news) > 0);
        each_3("replace", &[Value::from(1_u64)], &olds, &news[..1]);

        let subjects = strs(&["", "abcdef", "日本語です", "😀x😀"]);
        let mut offsets = numbers();
        offsets.push(Value::from("1"));
        let lengths = numbers();
        assert!(each_3("substring", &subjects, &offsets, &lengths) > 0);
        each_3("substring", &[Value::Null], &offsets[..2], &lengths[..2]);

        let mut bases = numbers();
        bases.extend([Value::from("10"), Value::Null]);
        let mut ints = numbers();
        ints.push(Value::from("5"));
        assert!(each_2("format_int", &ints, &bases) > 0);

        let patterns = strs(&[
            "",
            "a",
            "^a",
            "c$",
            "a.*c",
            "(?i)hello",
            "[",
            "(",
            "\\d+",
            "\\w+\\s",
            "^[a-z]+$",
            "ü|日",
            "\\p{Greek}",
            "(?P<x>a)\\k<x>",
            "a{1000}{1000}",
            "(a|b)*c",
            "\\bworld\\b",
        ]);
        let mut values = strings();
        values.push(Value::from("hello World"));
        assert!(each_2("regex.match", &patterns, &values) > 0);
        each_2(
            "regex.match",
            &[Value::from("a"), Value::Null],
            &everything(),
        );
    }

    #[test]
    fn collections_match_the_interpreter() {
        let all = everything();
        let mut docs = collections();
        docs.extend([Value::Null, Value::from("a")]);
        let mut keys = strs(&["a", "b", "s", "k", "z"]);
        keys.extend([
            Value::from(1_u64),
            Value::from(1.0_f64),
            json("[]"),
            json(r#"["a"]"#),
            json(r#"["a", "b"]"#),
            json(r#"["a", "b", 1]"#),
            json(r#"["a", "b", 1, "c"]"#),
            json(r#"["a", "b", 1.0, "c"]"#),
            json(r#"["a", "b", "1", "c"]"#),
            json(r#"["a", "b", -1]"#),
            json(r#"["s", "t"]"#),
            json(r#"["a", "x"]"#),
            json(r#"["b", "c", "d"]"#),
            json("[1]"),
            set_of(strs(&["a"])),
            Value::Null,
        ]);
        let defaults = vec![Value::from("default"), Value::Null];
        assert!(each_3("object.get", &docs, &keys, &defaults) > 0);
        // A path through a set: its element stands for itself.
        each_3(
            "object.get",
            &[obj(vec![(Value::from("a"), set_of(strs(&["x", "y"])))])],
            &[json(r#"["a", "x"]"#), json(r#"["a", "q"]"#)],
            &defaults[..1],
        );

        let objects: Vec<Value> = collections()
            .into_iter()
            .filter(|v| matches!(v, Value::Object(_)))
            .chain([
                json(r#"{"a": {"b": 1, "c": {"d": 2}}, "x": [1]}"#),
                json(r#"{"a": {"c": {"e": 3}, "b": null}, "x": {"y": 1}}"#),
                obj(vec![(Value::from(1.0_f64), Value::from("float key"))]),
            ])
            .collect();
        let mut others = objects.clone();
        others.extend([Value::Null, json("[1]"), set_of(vec![])]);
        assert!(each_2("object.union", &others, &others) > 0);

        let mut removals = collections();
        removals.extend(strs(&["a"]));
        removals.extend([
            json(r#"["a", "k", 1]"#),
            arr(vec![Value::from(1.0_f64)]),
            set_of(strs(&["a", "b"])),
        ]);
        let mut docs = objects.clone();
        docs.push(Value::Null);
        assert!(each_2("object.remove", &docs, &removals) > 0);

        let mut arrays = collections();
        arrays.push(Value::Null);
        assert!(each_2("array.concat", &arrays, &arrays) > 0);

        let lists = vec![
            json("[]"),
            json("[1, 2, 3, 4, 5]"),
            json(r#"["a"]"#),
            set_of(vec![Value::from(1_u64)]),
            Value::from("abc"),
        ];
        let mut bounds = numbers();
        bounds.push(Value::from(4_u64));
        bounds.push(Value::from("1"));
        assert!(each_3("array.slice", &lists, &bounds, &bounds) > 0);

        each_1("union", &all);
        each_1("intersection", &all);
    }

    #[test]
    fn sprintf_matches_the_interpreter() {
        let formats = strs(&[
            "",
            "plain",
            "%%",
            "%s",
            "%v",
            "%d",
            "%5d",
            "%05d",
            "%-5d",
            "%.2f",
            "%.0f",
            "%.12f",
            "%f",
            "%F",
            "%8.3f",
            "%8f",
            "%08f",
            "%x",
            "%X",
            "%08x",
            "%o",
            "%O",
            "%6o",
            "%b",
            "%5b",
            "%e",
            "%E",
            "%t",
            "%z",
            "%s %s",
            "%s-%v",
            "%v%%",
            "%%%d",
            "%10s",
            "%.3s",
            "%3v",
            "%5%",
            "%q",
            "%c",
            "%g",
            "%G",
            "%+v",
            "%+d",
            "%T",
            "%#v",
            "%p",
            "%",
            "abc%",
            "%5",
            "%.",
            "%1025d",
            "%d日本%s",
            "%ü",
        ]);
        let args: Vec<Value> = vec![
            json("[]"),
            json(r#"["a"]"#),
            json(r#"["a", "b"]"#),
            json(r#"["a", 1]"#),
            json("[1, 2, 3]"),
            json("[1]"),
            json("[-5]"),
            json("[255]"),
            json("[2.0]"),
            json("[1.5]"),
            json("[-1.5]"),
            json("[0.1]"),
            json("[1e20]"),
            json("[1e-7]"),
            json("[-0.0]"),
            json("[123456.789]"),
            arr(vec![Value::from(u64::MAX)]),
            arr(vec![Value::from(i64::MIN)]),
            arr(vec![num("123456789012345678901234567890")]),
            arr(vec![num("-123456789012345678901234567890")]),
            json("[null]"),
            json("[true]"),
            json("[false]"),
            json(r#"[[1, "a", null, true, 2.5]]"#),
            json(r#"[{"k": "v", "a": [1, {"b": null}]}]"#),
            arr(vec![set_of(vec![Value::from(1_u64), Value::from("a")])]),
            arr(vec![set_of(vec![])]),
            json("[{}]"),
            json("[[]]"),
            arr(vec![obj(vec![(Value::from(1_u64), Value::from("x\"y"))])]),
            json(r#"["x\"y\\z\n\u0001 é 😀 <&>"]"#),
            json(r#"[["x\"y\\z\n\u0001 é 😀 <&>"]]"#),
            json(r#"["日本語"]"#),
        ];
        let mut o = Oracle::new("sprintf", 2);
        for f in &formats {
            for a in &args {
                o.check(&[f.clone(), a.clone()]);
            }
        }
        for v in everything() {
            o.check(&[Value::from("%v"), v.clone()]);
            o.check(&[v.clone(), json("[]")]);
            o.check(&[Value::from("%v"), arr(vec![v.clone()])]);
            o.check(&[Value::from("%s"), arr(vec![v.clone()])]);
            o.check(&[Value::from("%d"), arr(vec![v])]);
        }
        assert!(o.done() > 0);
    }

    /// Cases the interpreter panics on (or that would take it long), which ours bails on.
    #[test]
    fn sprintf_bails_where_regorus_would_panic() {
        for format in ["%٣d", "%1٣d", "%99999999999d", "%.99999999999f", "%5000d"] {
            let args = [Value::from(format), json("[1]")];
            assert!(sprintf(&args).is_err(), "{format}");
        }
    }

    #[test]
    fn regex_cache_gives_the_same_answer() {
        let args = [Value::from("^a+$"), Value::from("aaa")];
        assert_eq!(regex_match(&args), Ok(Value::Bool(true)));
        assert_eq!(regex_match(&args), Ok(Value::Bool(true)));
        let bad = [Value::from("("), Value::from("aaa")];
        assert!(regex_match(&bad).is_err());
        assert!(regex_match(&bad).is_err());
    }
}
