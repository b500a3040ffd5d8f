//! A rule's `deny` set, read from the engine's values into findings.
//!
//! The values are read in place by a serde [`Deserializer`](serde::Deserializer) over
//! `regorus::Value`, instead of being written out as a `serde_json::Value` tree first: at
//! 100,000 users the trees of 20 custom rules added 190 MB to the peak. What a finding deserialises from is
//! exactly what it did from the tree — regorus's own serialisation of a value, read back by
//! serde_json — so the findings are the same (the fast and plain paths are compared finding by
//! finding in the property tests, and the unit tests below compare both readings).

use std::borrow::Cow;
use std::str::FromStr;

use regorus::value::Object;
use regorus::Value;
use serde::de::value::{Error, MapDeserializer, SeqDeserializer};
use serde::de::{self, Deserialize, IntoDeserializer, Visitor};

use super::finding::RawFinding;

/// Why a `deny` set could not be read: what is wrong, in words for the policy's author.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BadDeny(pub String);

/// The findings of a rule's `deny` value (a set, or an array, of finding objects).
pub(crate) fn findings(deny: &Value) -> Result<Vec<RawFinding>, BadDeny> {
    let items: Vec<&Value> = match deny {
        Value::Undefined => return Ok(Vec::new()),
        Value::Set(set) => set.iter().collect(),
        Value::Array(array) => array.iter().collect(),
        other => {
            return Err(BadDeny(format!(
                "`deny` must be a set of finding objects, found {}",
                kind(other)
            )))
        }
    };
    items.into_iter().map(finding).collect()
}

fn finding(item: &Value) -> Result<RawFinding, BadDeny> {
    RawFinding::deserialize(Reader(item)).map_err(|e| {
        let text = serde_json::to_string(item).unwrap_or_default();
        BadDeny(format!(
            "a finding does not have the required shape ({e}); expected {{account_id, resource: {{type, id, arn}}, message}}, got {}",
            truncate(&text, 200)
        ))
    })
}

/// What a value is, as the error about a `deny` that is not a set says it.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) | Value::Undefined => "a string",
        Value::Array(_) | Value::Set(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// A value read as regorus serialises it: sets as arrays, numbers as their decimal text read
/// by serde_json, non-string object keys as their JSON text, undefined as `"<undefined>"`.
#[derive(Clone, Copy)]
struct Reader<'de>(&'de Value);

impl<'de> IntoDeserializer<'de, Error> for Reader<'de> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

/// An object's members with their keys as serialised: a string key as it is, another as its
/// JSON text.
fn members(object: &Object) -> Result<Vec<(Cow<'_, str>, Reader<'_>)>, Error> {
    object
        .iter_sorted()
        .map(|(k, v)| {
            let key = match k {
                Value::String(s) => Cow::Borrowed(s.as_ref()),
                other => Cow::Owned(serde_json::to_string(other).map_err(de::Error::custom)?),
            };
            Ok((key, Reader(v)))
        })
        .collect()
}

impl<'de> de::Deserializer<'de> for Reader<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Number(n) => {
                let number = serde_json::Number::from_str(&n.format_decimal())
                    .map_err(|_| de::Error::custom("could not serialize number"))?;
                if let Some(u) = number.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = number.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    let f = number
                        .as_f64()
                        .ok_or_else(|| de::Error::custom("bad number"))?;
                    visitor.visit_f64(f)
                }
            }
            Value::Array(items) => {
                visitor.visit_seq(SeqDeserializer::new(items.iter().map(Reader)))
            }
            Value::Set(items) => visitor.visit_seq(SeqDeserializer::new(items.iter().map(Reader))),
            Value::Object(object) => {
                let mut map = MapDeserializer::new(members(object)?.into_iter());
                let value = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(value)
            }
            Value::Undefined => visitor.visit_borrowed_str("<undefined>"),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The old reading: regorus's serialisation into a JSON tree, then serde_json.
    fn through_json(deny: &Value) -> Result<Vec<RawFinding>, String> {
        let json = serde_json::to_value(deny).map_err(|e| e.to_string())?;
        let items = json.as_array().ok_or("not an array")?.clone();
        items
            .into_iter()
            .map(|item| serde_json::from_value::<RawFinding>(item).map_err(|e| e.to_string()))
            .collect()
    }

    fn rego(text: &str) -> Value {
        let mut engine = regorus::Engine::new();
        engine
            .add_policy(
                "t.rego".into(),
                format!("package t\nimport rego.v1\n{text}"),
            )
            .unwrap();
        engine.eval_rule("data.t.deny".into()).unwrap()
    }

    fn same_findings(deny: &Value) {
        let read = findings(deny).unwrap();
        let old = through_json(deny).unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(format!("{read:?}"), format!("{old:?}"));
    }

    #[test]
    fn findings_read_in_place_are_those_read_through_json() {
        same_findings(&rego(
            r#"deny contains {
                "account_id": "111111111111",
                "resource": {"type": "aws_iam_user", "id": "alice", "arn": "arn:aws:iam::1:user/alice", "user": "alice"},
                "message": "m",
                "remediation": {"action": "manual", "params": {"a": 1, "b": [1, "x", {"c": null}], "d": -3, "e": 2.5, "f": 10000000000000000000000}},
                "details": {"n": 1, "neg": -1, "f": 0.1, "whole": 3.0, "big": 18446744073709551615, "set": {1, 2}, "obj": {1: "one", "k": {}}, "t": true, "z": null},
            }
            deny contains {
                "account_id": "222222222222",
                "resource": {"type": "aws_account", "id": "222222222222", "arn": "arn:aws:iam::222222222222:root"},
                "message": "no details",
                "remediation": null,
            }"#,
        ));
        assert!(findings(&Value::Undefined).unwrap().is_empty());
    }

    #[test]
    fn a_bad_deny_says_what_is_wrong() {
        let err = findings(&rego(r#"deny := "x""#)).unwrap_err();
        assert_eq!(
            err.0,
            "`deny` must be a set of finding objects, found a string"
        );
        let err = findings(&rego(
            r#"deny contains {"account_id": "1", "resource": {"type": "t", "id": "i"}, "message": "m"}"#,
        ))
        .unwrap_err();
        assert!(err.0.contains("(missing field `arn`)"), "{}", err.0);
        assert!(
            err.0.contains(r#"got {"account_id":"1","message":"m""#),
            "{}",
            err.0
        );
        let err = findings(&rego(
            r#"deny contains {"account_id": "1", "resource": {"type": "t", "id": "i", "arn": "a"}, "message": "m", "extra": 1}"#,
        ))
        .unwrap_err();
        assert!(err.0.contains("unknown field `extra`"), "{}", err.0);
    }
}
