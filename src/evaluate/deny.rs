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

use super::compiled::Lazy;
use super::finding::RawFinding;
use super::packed::Packed;

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

/// The finding of one member of a `deny` set.
pub(crate) fn finding(item: &Value) -> Result<RawFinding, BadDeny> {
    if let Some(finding) = quick::finding(item) {
        return Ok(finding);
    }
    RawFinding::deserialize(Reader(item)).map_err(|e| {
        let text = serde_json::to_string(item).unwrap_or_default();
        BadDeny(format!(
            "a finding does not have the required shape ({e}); expected {{account_id, resource: {{type, id, arn}}, message}}, got {}",
            truncate(&text, 200)
        ))
    })
}

/// The finding of one member of a `deny` set, packed: [`finding`], then [`Packed::new`], but
/// read straight into its bytes where it has the usual shape (no `RawFinding` made and
/// dropped).
pub(crate) fn packed(item: &Value) -> Result<Packed, BadDeny> {
    if let Some(packed) = quick::packed(item) {
        return Ok(packed);
    }
    finding(item).map(|raw| Packed::new(&raw))
}

/// [`packed`] of a member given as its parts: packed straight from them where it has the
/// usual shape, else made into its value and read as that is (the same bytes or error).
pub(crate) fn packed_lazy(item: Lazy) -> Result<Packed, BadDeny> {
    if let Some(packed) = quick::packed_lazy(&item) {
        return Ok(packed);
    }
    packed(&item.into_value())
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

/// A finding read straight from its value, as the [`Reader`] reads it, where it has the usual
/// shape: string keys, strings where the contract has them, no unknown member. Anything else
/// (and every number, whose reading goes through its decimal text) is left to the
/// [`Reader`], which also words the errors. At 10,000 users the twenty benchmark rules'
/// findings took 0.3 s of CPU to read through serde; this reads them several times faster.
mod quick {
    use regorus::value::Object;
    use regorus::Value;
    use serde::Deserialize;

    use super::Reader;
    use crate::evaluate::compiled::Lazy;
    use crate::evaluate::finding::{Detail, Fields, RawFinding, RawRemediation, Resource, Text};
    use crate::evaluate::packed::{Out, Packed, Parts};

    /// [`finding`] packed as it is read, where `finding` would read it (else `None`): the
    /// same members, the same checks, in the packed order.
    pub(super) fn packed(item: &Value) -> Option<Packed> {
        let Value::Object(object) = item else {
            return None;
        };
        let mut read = Read::default();
        for (key, value) in object.iter_sorted() {
            match key_str(key)? {
                "account_id" => read.account_id = Some(str_of(value)?),
                "resource" => read.resource = Some(resource_parts(value)?),
                "message" => read.message = Some(str_of(value)?),
                "remediation" => {
                    let parts = remediation_parts(value)?;
                    read.remediation = parts.map(|(action, params)| (action, Part::Value(params)));
                }
                "details" => read.details = Part::Value(value),
                _ => return None,
            }
        }
        read.pack()
    }

    /// [`packed`] of a member given as its parts ([`Lazy`]): the same members, the same
    /// checks, the same bytes. A member that is not a plain value where the finding reads a
    /// string or a resource is left to the caller, which makes the value.
    pub(super) fn packed_lazy(item: &Lazy) -> Option<Packed> {
        let members = match item {
            Lazy::Value(value) => return packed(value),
            Lazy::Object(members) => members,
        };
        let mut read = Read::default();
        for (key, value) in members {
            match key_str(key)? {
                "account_id" => read.account_id = Some(str_of(made(value)?)?),
                "resource" => read.resource = Some(lazy_resource_parts(value)?),
                "message" => read.message = Some(str_of(made(value)?)?),
                "remediation" => read.remediation = lazy_remediation_parts(value)?,
                "details" => read.details = part(value),
                _ => return None,
            }
        }
        read.pack()
    }

    /// A finding's members as they are read, from a value or from its parts.
    #[derive(Default)]
    struct Read<'a> {
        account_id: Option<&'a str>,
        resource: Option<ResourceParts<'a>>,
        message: Option<&'a str>,
        /// The action (a string value) and the parameters.
        remediation: Option<(&'a Value, Part<'a>)>,
        details: Part<'a>,
    }

    impl Read<'_> {
        fn pack(self) -> Option<Packed> {
            let (kind, id, arn, user) = self.resource?;
            let remediation = match self.remediation {
                Some((action, params)) => {
                    let write = move |out: &mut Out| write_part(out, params);
                    Some((str_of(action)?, write))
                }
                None => None,
            };
            let details = self.details;
            Packed::of(Parts {
                account_id: self.account_id?,
                kind: str_of(kind)?,
                id,
                arn,
                user,
                message: self.message?,
                remediation,
                details: move |out: &mut Out| write_part(out, details),
            })
        }
    }

    /// Where a finding reads fields (a remediation's parameters, the details): a value, an
    /// object not made, or nothing (as `null`).
    #[derive(Clone, Copy, Default)]
    enum Part<'a> {
        Value(&'a Value),
        Lazy(&'a [(Value, Lazy)]),
        #[default]
        Absent,
    }

    fn part(lazy: &Lazy) -> Part<'_> {
        match lazy {
            Lazy::Value(value) => Part::Value(value),
            Lazy::Object(members) => Part::Lazy(members),
        }
    }

    fn made(lazy: &Lazy) -> Option<&Value> {
        match lazy {
            Lazy::Value(value) => Some(value),
            Lazy::Object(_) => None,
        }
    }

    /// [`remediation_parts`] of a remediation given as its parts.
    fn lazy_remediation_parts(lazy: &Lazy) -> Option<Option<(&Value, Part<'_>)>> {
        let members = match lazy {
            Lazy::Value(value) => {
                let parts = remediation_parts(value)?;
                return Some(parts.map(|(action, params)| (action, Part::Value(params))));
            }
            Lazy::Object(members) => members,
        };
        let (mut action, mut params) = (None, Part::Absent);
        for (key, value) in members {
            match key_str(key)? {
                "action" => action = Some(made(value).filter(|v| str_of(v).is_some())?),
                "params" => params = part(value),
                _ => return None,
            }
        }
        Some(Some((action?, params)))
    }

    /// [`write_fields`] of fields given as their parts.
    fn write_part(out: &mut Out, part: Part<'_>) -> Option<()> {
        let members = match part {
            Part::Value(value) => return write_fields(out, value),
            Part::Absent => return write_fields(out, &Value::Null),
            Part::Lazy(members) => members,
        };
        out.fields_of(members.len());
        for (key, value) in members {
            out.key(key_str(key)?);
            match value {
                Lazy::Value(value) => write_value(out, value)?,
                // An object among the details: made, and read as one.
                Lazy::Object(_) => out.detail(&detail(&value.clone().into_value())?),
            }
        }
        Some(())
    }

    fn str_of(value: &Value) -> Option<&str> {
        match value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A resource's type (a string value, shared by [`resource`]), id, ARN and user.
    fn resource_parts(value: &Value) -> Option<ResourceParts<'_>> {
        let Value::Object(object) = value else {
            return None;
        };
        resource_members(object.iter_sorted())
    }

    /// A resource's type (a string value), id, ARN and user.
    type ResourceParts<'a> = (&'a Value, &'a str, &'a str, Option<&'a str>);

    /// [`resource_parts`] of a resource given as its parts, each a value.
    fn lazy_resource_parts(lazy: &Lazy) -> Option<ResourceParts<'_>> {
        match lazy {
            Lazy::Value(value) => resource_parts(value),
            Lazy::Object(members) => {
                if !members.iter().all(|(_, v)| made(v).is_some()) {
                    return None;
                }
                resource_members(members.iter().filter_map(|(k, v)| Some((k, made(v)?))))
            }
        }
    }

    fn resource_members<'a>(
        members: impl Iterator<Item = (&'a Value, &'a Value)>,
    ) -> Option<ResourceParts<'a>> {
        let (mut kind, mut id, mut arn, mut user) = (None, None, None, None);
        for (key, value) in members {
            match key_str(key)? {
                "type" => kind = Some(str_of(value).map(|_| value)?),
                "id" => id = Some(str_of(value)?),
                "arn" => arn = Some(str_of(value)?),
                "user" => {
                    user = match value {
                        Value::Null => None,
                        other => Some(str_of(other)?),
                    }
                }
                _ => return None,
            }
        }
        Some((kind?, id?, arn?, user))
    }

    /// A remediation's action (a string value) and parameters (`null` when absent):
    /// `Some(None)` for a `null` remediation.
    fn remediation_parts(value: &Value) -> Option<Option<(&Value, &Value)>> {
        let object = match value {
            Value::Null => return Some(None),
            Value::Object(object) => object,
            _ => return None,
        };
        let (mut action, mut params) = (None, &Value::Null);
        for (key, value) in object.iter_sorted() {
            match key_str(key)? {
                "action" => action = Some(str_of(value).map(|_| value)?),
                "params" => params = value,
                _ => return None,
            }
        }
        Some(Some((action?, params)))
    }

    /// An object's members as [`fields`] reads them (a `null` is none), packed.
    fn write_fields(out: &mut Out, value: &Value) -> Option<()> {
        let object = match value {
            Value::Null => {
                out.fields_of(0);
                return Some(());
            }
            Value::Object(object) => object,
            _ => return None,
        };
        out.fields_of(object.len());
        for (key, value) in object.iter_sorted() {
            out.key(key_str(key)?);
            write_value(out, value)?;
        }
        Some(())
    }

    /// A field's value as [`fields`] reads it, packed.
    fn write_value(out: &mut Out, value: &Value) -> Option<()> {
        match value {
            Value::Null => out.null(),
            Value::Bool(b) => out.bool(*b),
            Value::String(s) => out.text(s),
            other => out.detail(&detail(other)?),
        }
        Some(())
    }

    pub(super) fn finding(item: &Value) -> Option<RawFinding> {
        let Value::Object(object) = item else {
            return None;
        };
        let (mut account_id, mut resource, mut message) = (None, None, None);
        let (mut remediation, mut details) = (None, Fields::new());
        for (key, value) in object.iter_sorted() {
            match key_str(key)? {
                "account_id" => account_id = Some(string(value)?),
                "resource" => resource = Some(self::resource(value)?),
                "message" => message = Some(string(value)?),
                "remediation" => remediation = self::remediation(value)?,
                "details" => details = fields(value)?,
                _ => return None,
            }
        }
        Some(RawFinding {
            account_id: account_id?,
            resource: resource?,
            message: message?,
            remediation,
            details,
        })
    }

    fn key_str(key: &Value) -> Option<&str> {
        match key {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    fn string(value: &Value) -> Option<String> {
        match value {
            Value::String(s) => Some(s.to_string()),
            _ => None,
        }
    }

    /// A string, shared with the value rather than copied: a finding's resource type, its
    /// detail names and most of its detail values are the same few strings, made once by the
    /// rule (literals) or the snapshot (names), in every one of its findings.
    fn text(value: &Value) -> Option<Text> {
        match value {
            Value::String(s) => Some(Text::Shared(s.clone())),
            _ => None,
        }
    }

    fn resource(value: &Value) -> Option<Resource> {
        let (kind, id, arn, user) = resource_parts(value)?;
        Some(Resource {
            kind: text(kind)?,
            id: id.to_string(),
            arn: arn.to_string(),
            user: user.map(str::to_string),
        })
    }

    /// `Some(None)` for a `null` remediation.
    fn remediation(value: &Value) -> Option<Option<RawRemediation>> {
        let Some((action, params)) = remediation_parts(value)? else {
            return Some(None);
        };
        Some(Some(RawRemediation {
            action: text(action)?,
            params: fields(params)?,
        }))
    }

    /// An object's members (a `null` is none), in key order.
    fn fields(value: &Value) -> Option<Fields> {
        match value {
            Value::Null => Some(Fields::new()),
            Value::Object(object) => Some(Fields::of_distinct(members(object)?)),
            _ => None,
        }
    }

    /// The members of an object whose keys are all strings (so distinct as text too).
    fn members(object: &Object) -> Option<Vec<(Text, Detail)>> {
        let mut members = Vec::with_capacity(object.len());
        for (key, value) in object.iter_sorted() {
            members.push((text(key)?, detail(value)?));
        }
        Some(members)
    }

    fn detail(value: &Value) -> Option<Detail> {
        Some(match value {
            Value::Null => Detail::Null,
            Value::Bool(b) => Detail::Bool(*b),
            Value::String(_) => Detail::Str(text(value)?),
            Value::Number(_) => Detail::deserialize(Reader(value)).ok()?,
            Value::Array(_) | Value::Set(_) | Value::Object(_) => Detail::from(json(value)?),
            Value::Undefined => return None,
        })
    }

    /// A value as a JSON value, as `serde_json::Value` reads it through the [`Reader`].
    fn json(value: &Value) -> Option<serde_json::Value> {
        use serde_json::Value as Json;
        Some(match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::String(s) => Json::String(s.to_string()),
            Value::Number(_) => Json::deserialize(Reader(value)).ok()?,
            Value::Array(items) => Json::Array(items.iter().map(json).collect::<Option<_>>()?),
            Value::Set(items) => Json::Array(items.iter().map(json).collect::<Option<_>>()?),
            Value::Object(object) => {
                let mut map = serde_json::Map::with_capacity(object.len());
                for (key, value) in object.iter_sorted() {
                    map.insert(key_str(key)?.to_string(), json(value)?);
                }
                Json::Object(map)
            }
            Value::Undefined => return None,
        })
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

    /// Over findings of every shape — good, odd and wrong — the quick reading gives what the
    /// serde reading gives, or leaves it to the serde reading.
    #[test]
    fn the_quick_reading_is_the_serde_reading() {
        let accounts = [r#""111111111111""#, "5", "null"];
        let resources = [
            r#"{"type": "aws_iam_user", "id": "alice", "arn": "arn:aws:iam::1:user/alice"}"#,
            r#"{"type": "aws_iam_access_key", "id": "AKIA", "arn": "a", "user": "alice"}"#,
            r#"{"type": "t", "id": "i", "arn": "a", "user": null}"#,
            r#"{"type": "t", "id": "i", "arn": "a", "user": 3}"#,
            r#"{"type": "t", "id": "i"}"#,
            r#"{"type": "t", "id": "i", "arn": "a", "extra": 1}"#,
            r#"{"type": "t", "id": 7, "arn": "a"}"#,
            r#""not an object""#,
        ];
        let remediations = [
            None,
            Some("null"),
            Some(r#"{"action": "manual", "params": {"user_name": "alice", "slot": 1}}"#),
            Some(r#"{"action": "deactivate_access_key"}"#),
            Some(r#"{"action": "a", "params": null}"#),
            Some(r#"{"params": {}}"#),
            Some(r#"{"action": "a", "params": [1]}"#),
            Some(r#"{"action": "a", "params": {1: "one", "1": "uno"}}"#),
            Some("{1, 2}"),
        ];
        let details = [
            None,
            Some("null"),
            Some("{}"),
            Some(
                r#"{"s": "x", "t": true, "z": null, "n": 1, "neg": -3, "f": 2.5, "whole": 3.0,
                "big": 18446744073709551616, "huge": 10000000000000000000000000,
                "arr": [1, "a", {"k": null, "l": [2.5, {3}]}], "objs": [{"a": 1}, {"b": "c"}],
                "empty": [], "set": {"b", "a"}, "obj": {"k": {"l": 1}}}"#,
            ),
            Some(r#"{"keyed": {1: "one", "k": {}}}"#),
            Some(r#"{"a": [{"b": 1}, {2: 3}]}"#),
            Some(r#""text""#),
            Some("[1]"),
        ];
        let messages = [r#""m""#, "[]"];
        let mut findings = Vec::new();
        for account in accounts {
            for resource in resources {
                for message in messages {
                    for remediation in remediations {
                        for detail in details {
                            let mut members = vec![
                                format!(r#""account_id": {account}"#),
                                format!(r#""resource": {resource}"#),
                                format!(r#""message": {message}"#),
                            ];
                            if let Some(r) = remediation {
                                members.push(format!(r#""remediation": {r}"#));
                            }
                            if let Some(d) = detail {
                                members.push(format!(r#""details": {d}"#));
                            }
                            findings.push(format!("{{{}}}", members.join(", ")));
                        }
                    }
                }
            }
        }
        // Some findings lack a required member, or have one too many.
        findings
            .push(r#"{"resource": {"type": "t", "id": "i", "arn": "a"}, "message": "m"}"#.into());
        findings.push(
            r#"{"account_id": "1", "resource": {"type": "t", "id": "i", "arn": "a"}, "message": "m", "x": 1}"#
                .into(),
        );
        findings.push(r#"[1, 2]"#.into());
        let policy: String = findings
            .iter()
            .map(|f| format!("deny contains {f}\n"))
            .collect();
        let deny = rego(&policy);
        let Value::Set(members) = &deny else {
            panic!("not a set: {deny}")
        };
        assert_eq!(members.len(), findings.len());
        let (mut quick, mut good, mut packed_quick) = (0, 0, 0);
        for member in members.iter() {
            let serde = RawFinding::deserialize(Reader(member));
            good += usize::from(serde.is_ok());
            // Packed straight from the value, or through the finding: the same bytes.
            let through = finding(member).map(|raw| Packed::new(&raw));
            match (packed(member), through) {
                (Ok(a), Ok(b)) => assert!(a == b, "{member}: packed differently"),
                (Err(a), Err(b)) => assert_eq!(a, b, "{member}"),
                (a, b) => panic!("{member}: {:?} against {:?}", a.is_ok(), b.is_ok()),
            }
            packed_quick += usize::from(quick::packed(member).is_some());
            if let Some(read) = quick::finding(member) {
                quick += 1;
                let serde = serde.unwrap_or_else(|e| panic!("{member}: only quick reads it: {e}"));
                assert_eq!(format!("{read:?}"), format!("{serde:?}"), "{member}");
            }
        }
        // Most good findings are read quickly; what is not (non-string keys) is still read.
        assert!(
            good >= 100 && quick > good / 2,
            "{quick} quick of {good} good"
        );
        // Every finding read quickly is packed straight from its value too.
        assert_eq!(packed_quick, quick);
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
