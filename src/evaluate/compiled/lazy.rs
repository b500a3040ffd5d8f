//! A set rule's member given as the parts it would be made of.
//!
//! A custom rule's finding is an object literal (`finding := {"account_id": …, "resource": …,
//! "details": {…}}`) whose value is read once, packed into bytes and dropped. Made as an engine
//! object, each literal is a copy of its keys filled in (an allocation, a reference count per
//! key, a binary search per member), then walked by the packing and freed member by member;
//! `lib.manual(params, task)` adds two objects more and the union of them. Given as its parts,
//! the same members in the same order are packed straight from them. What the packing does
//! not read quickly is made into the value after all, and read as before
//! (`deny::packed_lazy`), so the findings and errors are those of the value.

use std::collections::BTreeMap;

use regorus::Value;

/// A value, or an object not yet made.
#[derive(Debug, Clone)]
pub(crate) enum Lazy {
    Value(Value),
    /// An object's members sorted by key as the object keeps them, the keys distinct, each
    /// member defined.
    Object(Vec<(Value, Lazy)>),
}

impl Lazy {
    pub(crate) fn is_undefined(&self) -> bool {
        matches!(self, Lazy::Value(Value::Undefined))
    }

    /// The value this stands for.
    pub(crate) fn into_value(self) -> Value {
        match self {
            Lazy::Value(v) => v,
            Lazy::Object(members) => {
                let object: BTreeMap<Value, Value> = members
                    .into_iter()
                    .map(|(k, v)| (k, v.into_value()))
                    .collect();
                Value::from(object)
            }
        }
    }

    /// An object's members, lazily: those of an object not yet made, or of a made one.
    /// Anything else is given back.
    pub(crate) fn into_members(self) -> Result<Vec<(Value, Lazy)>, Lazy> {
        match self {
            Lazy::Object(members) => Ok(members),
            Lazy::Value(Value::Object(object)) => Ok(object
                .iter_sorted()
                .map(|(k, v)| (k.clone(), Lazy::Value(v.clone())))
                .collect()),
            other => Err(other),
        }
    }

    /// Every object of `value`, at any depth, not made: for tests of the packing.
    #[cfg(test)]
    pub(crate) fn unmade(value: &Value) -> Lazy {
        match value {
            Value::Object(object) => Lazy::Object(
                object
                    .iter_sorted()
                    .map(|(k, v)| (k.clone(), Lazy::unmade(v)))
                    .collect(),
            ),
            other => Lazy::Value(other.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_unmade_is_made_as_it_was() {
        let value = Value::from_json_str(
            r#"{"b": {"y": [1, {"z": null}], "x": "s"}, "a": 1.5, "c": {}, "d": true}"#,
        )
        .unwrap();
        let lazy = Lazy::unmade(&value);
        assert!(matches!(&lazy, Lazy::Object(m) if m.len() == 4));
        assert_eq!(lazy.clone().into_value(), value);
        let members = lazy.into_members().unwrap();
        let keys: Vec<&str> = members
            .iter()
            .map(|(k, _)| match k {
                Value::String(s) => &**s,
                _ => "",
            })
            .collect();
        assert_eq!(keys, ["a", "b", "c", "d"]);
        assert_eq!(Lazy::Value(value.clone()).into_members().unwrap().len(), 4);
        assert!(Lazy::Value(Value::from(1u64)).into_members().is_err());
        assert!(Lazy::Value(Value::Undefined).is_undefined());
    }
}
