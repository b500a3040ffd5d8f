//! The compact parts of a finding.
//!
//! A large scan makes half a million findings, and most of what they hold is repeated: every
//! finding of a rule carries the rule's id, slug, title and remediation text, every finding of
//! an account its id, every key finding the same resource type and detail names. [`Text`]
//! shares such strings instead of copying them, and [`Fields`] keeps a finding's details and
//! remediation parameters as a short list with shared keys and [`Detail`] values (32 bytes,
//! where a `serde_json::Value` takes 72) instead of a hash map with owned keys. They serialise
//! exactly as the `String`, `serde_json::Map` and `Value` they replace.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// An immutable string: a literal, one allocation shared by its clones, or a string of its own
/// (what a rule made for one finding: a message's parts, a timestamp, a user's name), taken
/// over from a `String` without a copy.
#[derive(Clone)]
pub enum Text {
    Static(&'static str),
    Shared(Arc<str>),
    Owned(Box<str>),
}

impl Text {
    pub const fn from_static(s: &'static str) -> Text {
        Text::Static(s)
    }

    pub fn as_str(&self) -> &str {
        match self {
            Text::Static(s) => s,
            Text::Shared(s) => s,
            Text::Owned(s) => s,
        }
    }
}

impl Default for Text {
    fn default() -> Text {
        Text::Static("")
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::Shared(s.into())
    }
}

impl From<String> for Text {
    /// Taken over, not copied (unless the string has spare room to give back).
    fn from(s: String) -> Text {
        Text::Owned(s.into_boxed_str())
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Text {
        Text::Shared(s.as_str().into())
    }
}

impl From<Text> for String {
    fn from(t: Text) -> String {
        t.as_str().to_string()
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

macro_rules! eq_with {
    ($($other:ty),*) => {$(
        impl PartialEq<$other> for Text {
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }
        impl PartialEq<Text> for $other {
            fn eq(&self, other: &Text) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        }
    )*};
}
eq_with!(str, &str, String);

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text, D::Error> {
        String::deserialize(deserializer).map(Text::from)
    }
}

/// A JSON value in a finding's details or parameters: nearly always a string, a whole number,
/// a boolean or null, held without the size of a general JSON value; anything else is boxed.
///
/// The form is canonical (a number is `Int` whenever it fits an `i64`), so two equal JSON
/// values are equal `Detail`s however they were made.
#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    Null,
    Bool(bool),
    Int(i64),
    Str(Text),
    /// A non-empty array of objects (a rule's list of keys, say), each a [`Fields`].
    Objects(Vec<Fields>),
    Json(Box<Value>),
}

impl Detail {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Detail::Str(s) => Some(s),
            Detail::Json(v) => v.as_str(),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Detail::Int(n) => Some(*n),
            Detail::Json(v) => v.as_i64(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Detail::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Detail::Null)
    }

    /// As a general JSON value.
    pub fn to_value(&self) -> Value {
        match self {
            Detail::Null => Value::Null,
            Detail::Bool(b) => Value::Bool(*b),
            Detail::Int(n) => Value::from(*n),
            Detail::Str(s) => Value::String(s.to_string()),
            Detail::Objects(items) => Value::Array(
                items
                    .iter()
                    .map(|f| {
                        Value::Object(
                            f.iter()
                                .map(|(k, v)| (k.to_string(), v.to_value()))
                                .collect(),
                        )
                    })
                    .collect(),
            ),
            Detail::Json(v) => (**v).clone(),
        }
    }
}

impl From<Value> for Detail {
    fn from(value: Value) -> Detail {
        match value {
            Value::Null => Detail::Null,
            Value::Bool(b) => Detail::Bool(b),
            Value::Number(n) if n.is_i64() => Detail::Int(n.as_i64().expect("an i64")),
            Value::String(s) => Detail::Str(s.into()),
            Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
                Detail::Objects(
                    items
                        .into_iter()
                        .map(|item| match item {
                            Value::Object(map) => Fields::from(map),
                            _ => unreachable!("every item is an object"),
                        })
                        .collect(),
                )
            }
            other => Detail::Json(Box::new(other)),
        }
    }
}

impl From<i64> for Detail {
    fn from(n: i64) -> Detail {
        Detail::Int(n)
    }
}

impl From<u32> for Detail {
    fn from(n: u32) -> Detail {
        Detail::Int(n.into())
    }
}

impl From<usize> for Detail {
    fn from(n: usize) -> Detail {
        i64::try_from(n).map_or_else(|_| Detail::from(Value::from(n)), Detail::Int)
    }
}

impl From<bool> for Detail {
    fn from(b: bool) -> Detail {
        Detail::Bool(b)
    }
}

impl From<String> for Detail {
    fn from(s: String) -> Detail {
        Detail::Str(s.into())
    }
}

impl From<Text> for Detail {
    fn from(s: Text) -> Detail {
        Detail::Str(s)
    }
}

impl From<&'static str> for Detail {
    /// A literal: shared, never copied.
    fn from(s: &'static str) -> Detail {
        Detail::Str(Text::from_static(s))
    }
}

impl Serialize for Detail {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Detail::Null => serializer.serialize_unit(),
            Detail::Bool(b) => serializer.serialize_bool(*b),
            Detail::Int(n) => serializer.serialize_i64(*n),
            Detail::Str(s) => serializer.serialize_str(s),
            Detail::Objects(items) => serializer.collect_seq(items),
            Detail::Json(v) => v.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Detail {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Detail, D::Error> {
        deserializer.deserialize_any(DetailVisitor)
    }
}

/// Reads a [`Detail`] as [`Detail::from`] a `serde_json::Value` would make it: scalars
/// straight into their variant (no `Value` made and taken apart, for each of half a million
/// findings' details), arrays and objects through a `Value`.
struct DetailVisitor;

impl<'de> Visitor<'de> for DetailVisitor {
    type Value = Detail;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        // What `serde_json::Value` expects, so that errors read the same.
        f.write_str("any valid JSON value")
    }

    fn visit_unit<E>(self) -> Result<Detail, E> {
        Ok(Detail::Null)
    }

    fn visit_none<E>(self) -> Result<Detail, E> {
        Ok(Detail::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Detail, D::Error> {
        Detail::deserialize(deserializer)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Detail, E> {
        Ok(Detail::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Detail, E> {
        Ok(Detail::Int(n))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Detail, E> {
        Ok(i64::try_from(n).map_or_else(|_| Detail::from(Value::from(n)), Detail::Int))
    }

    fn visit_i128<E: de::Error>(self, n: i128) -> Result<Detail, E> {
        Value::deserialize(de::value::I128Deserializer::<E>::new(n)).map(Detail::from)
    }

    fn visit_u128<E: de::Error>(self, n: u128) -> Result<Detail, E> {
        Value::deserialize(de::value::U128Deserializer::<E>::new(n)).map(Detail::from)
    }

    fn visit_f64<E>(self, f: f64) -> Result<Detail, E> {
        // As `serde_json::Value`: a number that JSON cannot hold (NaN, infinite) is null.
        Ok(Detail::from(
            serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        ))
    }

    fn visit_str<E>(self, s: &str) -> Result<Detail, E> {
        Ok(Detail::Str(Text::from(s)))
    }

    fn visit_string<E>(self, s: String) -> Result<Detail, E> {
        Ok(Detail::Str(Text::from(s)))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Detail, A::Error> {
        Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Detail::from)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Detail, A::Error> {
        Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(Detail::from)
    }
}

/// A JSON object with its members in a set order: a finding's `details`, or its remediation's
/// `params`. A handful of members, read in order, looked up by a linear scan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields(Vec<(Text, Detail)>);

impl Fields {
    pub fn new() -> Fields {
        Fields(Vec::new())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn get(&self, key: &str) -> Option<&Detail> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Detail)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Set `key` to `value`: in its place if present, else at the end (as a map with its
    /// insertion order preserved does).
    pub fn insert(&mut self, key: impl Into<Text>, value: impl Into<Detail>) {
        let (key, value) = (key.into(), value.into());
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.0.push((key, value)),
        }
    }

    /// Every member of `other`, `other` winning where both have a key.
    pub fn extend(&mut self, other: Fields) {
        self.0.reserve_exact(other.0.len());
        for (k, v) in other.0 {
            self.insert(k, v);
        }
    }

    pub fn sort_keys(&mut self) {
        self.0.sort_by(|a, b| a.0.cmp(&b.0));
    }
}

impl Fields {
    /// Members whose keys are known to be distinct (a rule's literal names), taken as they are.
    pub(crate) fn of_distinct(members: Vec<(Text, Detail)>) -> Fields {
        debug_assert!(
            members
                .iter()
                .enumerate()
                .all(|(i, (k, _))| members[..i].iter().all(|(other, _)| other != k)),
            "distinct keys"
        );
        Fields(members)
    }
}

impl FromIterator<(Text, Detail)> for Fields {
    /// Exactly as long as it needs to be: a finding keeps its fields until the report is out.
    fn from_iter<I: IntoIterator<Item = (Text, Detail)>>(iter: I) -> Fields {
        let members: Vec<(Text, Detail)> = iter.into_iter().collect();
        let mut fields = Fields(Vec::with_capacity(members.len()));
        for (k, v) in members {
            fields.insert(k, v);
        }
        fields
    }
}

impl From<serde_json::Map<String, Value>> for Fields {
    fn from(map: serde_json::Map<String, Value>) -> Fields {
        Fields(
            map.into_iter()
                .map(|(k, v)| (Text::from(k), Detail::from(v)))
                .collect(),
        )
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k.as_str(), v)))
    }
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Fields, D::Error> {
        deserializer.deserialize_map(FieldsVisitor)
    }
}

/// Reads [`Fields`] as [`Fields::from`] a `serde_json::Map` would make them, members in order
/// (a repeated key keeps its first place and takes its last value), without the map's hash
/// table.
struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Fields;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        // What `serde_json::Map` expects, so that errors read the same.
        f.write_str("a map")
    }

    fn visit_unit<E>(self) -> Result<Fields, E> {
        // As `serde_json::Map`: unit is an empty map.
        Ok(Fields::new())
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
        let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some((key, value)) = map.next_entry::<Text, Detail>()? {
            fields.push((key, value));
        }
        let mut fields = Fields(fields);
        if fields.has_repeated_keys() {
            fields = fields.0.into_iter().collect();
        }
        // Exactly as long as it needs to be, as `FromIterator` makes it.
        fields.0.shrink_to_fit();
        Ok(fields)
    }
}

impl Fields {
    /// Whether a key appears twice (only JSON text can do that; a Rego object cannot).
    fn has_repeated_keys(&self) -> bool {
        match self.0.len() {
            0 | 1 => false,
            n if n <= 16 => (1..n).any(|i| self.0[..i].iter().any(|(k, _)| *k == self.0[i].0)),
            _ => {
                let mut seen = std::collections::HashSet::with_capacity(self.0.len());
                !self.0.iter().all(|(k, _)| seen.insert(k.as_str()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_compares_and_serialises_as_its_string() {
        let shared = Text::from("CW101");
        let literal = Text::from_static("CW101");
        assert_eq!(shared, literal);
        let owned = String::from("CW101");
        assert!(shared == "CW101" && "CW101" == literal && shared == owned && owned == literal);
        let (a, b) = (Text::from("a"), Text::from_static("b"));
        assert_eq!(a.cmp(&b), std::cmp::Ordering::Less);
        assert_eq!(serde_json::to_string(&literal).unwrap(), r#""CW101""#);
        assert_eq!(serde_json::from_str::<Text>(r#""x\"y""#).unwrap(), "x\"y");
        assert_eq!(format!("{shared} {literal:?}"), r#"CW101 "CW101""#);
    }

    #[test]
    fn fields_behave_as_an_ordered_map() {
        let mut fields: Fields = [
            (Text::from_static("b"), Detail::from(1i64)),
            (Text::from_static("a"), Detail::from(2i64)),
        ]
        .into_iter()
        .collect();
        fields.insert("b", 3i64);
        fields.insert(String::from("c"), Value::Null);
        assert_eq!(
            serde_json::to_string(&fields).unwrap(),
            r#"{"b":3,"a":2,"c":null}"#
        );
        let mut map: serde_json::Map<String, Value> =
            serde_json::from_str(r#"{"b":3,"a":2,"c":null}"#).unwrap();
        assert_eq!(Fields::from(map.clone()), fields);
        fields.extend(
            [(Text::from("a"), Detail::from(9i64))]
                .into_iter()
                .collect(),
        );
        fields.sort_keys();
        map.insert("a".into(), Value::from(9));
        map.sort_keys();
        assert_eq!(
            serde_json::to_string(&fields).unwrap(),
            serde_json::to_string(&map).unwrap()
        );
        assert_eq!(fields.get("a").and_then(Detail::as_i64), Some(9));
        assert_eq!(fields.get("z"), None);
        let back: Fields = serde_json::from_str(r#"{"x":[1,{"y":"z"}]}"#).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back.iter().next().unwrap().0, "x");
    }

    /// Every JSON value comes back as it went in, in one canonical form.
    #[test]
    fn details_round_trip_any_json() {
        for text in [
            "null",
            "true",
            "false",
            "0",
            "-7",
            "9223372036854775807",
            "-9223372036854775808",
            "18446744073709551615",
            "0.5",
            "1e300",
            r#""a\"b""#,
            "[]",
            "{}",
            r#"[1,{"a":null}]"#,
            r#"[{"b":1,"a":[{"c":"d"}]},{}]"#,
            r#"[{}]"#,
        ] {
            let value: Value = serde_json::from_str(text).unwrap();
            let detail: Detail = serde_json::from_str(text).unwrap();
            assert_eq!(
                serde_json::to_string(&detail).unwrap(),
                serde_json::to_string(&value).unwrap()
            );
            assert_eq!(detail.to_value(), value);
            assert_eq!(Detail::from(value), detail);
        }
        assert_eq!(Detail::from(5i64), Detail::from(Value::from(5u64)));
        assert!(matches!(
            Detail::from(Value::from(u64::MAX)),
            Detail::Json(_)
        ));
    }

    /// Read directly, details are what reading a `serde_json::Value` (or `Map`) and converting
    /// it made, errors included: repeated keys, every kind of number, nesting, wrong types.
    #[test]
    fn details_read_directly_equal_those_read_through_json_values() {
        let through_value = |text: &str| -> Result<Detail, String> {
            serde_json::from_str::<Value>(text)
                .map(Detail::from)
                .map_err(|e| e.to_string())
        };
        let through_map = |text: &str| -> Result<Fields, String> {
            serde_json::from_str::<serde_json::Map<String, Value>>(text)
                .map(Fields::from)
                .map_err(|e| e.to_string())
        };
        let many: String = format!(
            "{{{}}}",
            (0..40)
                .map(|i| format!(r#""k{}": {i}"#, i % 23))
                .collect::<Vec<_>>()
                .join(",")
        );
        for text in [
            "null",
            "true",
            "-1",
            "9223372036854775808",
            "-9223372036854775809",
            "1.0",
            "-0.0",
            "1e400",
            r#""é\u0000""#,
            r#"[1,2,{"a":[null]}]"#,
            r#"{"b":1,"a":2,"b":3}"#,
            r#"{"a":{"x":1,"x":[]},"a":"again"}"#,
            &many,
            "{}",
            "[]",
            "\"text\"",
            "{\"a\":",
            "{1:2}",
        ] {
            let direct = serde_json::from_str::<Detail>(text).map_err(|e| e.to_string());
            assert_eq!(direct, through_value(text), "{text}");
            let direct = serde_json::from_str::<Fields>(text).map_err(|e| e.to_string());
            let expected = through_map(text);
            assert_eq!(direct, expected, "{text}");
            if let Ok(fields) = direct {
                assert_eq!(
                    fields.0.capacity(),
                    fields.0.len(),
                    "{text}: exactly as long"
                );
            }
        }
    }
}
