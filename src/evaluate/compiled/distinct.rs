//! Which values have been seen, by regorus's equality, without keeping the values.
//!
//! A `deny` rule's value is a set, which regorus keeps sorted: every new finding is compared
//! with a dozen others, and the set holds ten thousand trees of small allocations until the
//! findings are read out of it, long after the trees left the cache. The findings are sorted
//! into report order afterwards anyway, so the set's order is of no use there; what must hold
//! is that equal members are kept once, the first one made (as a set keeps it). So each member
//! is read while it is fresh, and only a flat encoding of it is kept to recognise an equal one
//! later.

use std::collections::HashSet;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};

use regorus::Value;

/// Flat encodings of the values seen so far.
#[derive(Default)]
pub(super) struct Distinct(HashSet<Key, BuildHasherDefault<Prehashed>>);

impl Distinct {
    /// Whether `value` is the first of its equals to be seen (and is now seen).
    pub(super) fn first(&mut self, value: &Value) -> bool {
        let mut key = Key::default();
        key.encode(value);
        key.hash = foldhash::fast::FixedState::default().hash_one(&key.tree[..]);
        self.0.insert(key)
    }
}

/// A value's tree written out — each node's kind, each string's length and bytes, each
/// collection's length before its members (objects' members in key order) — except its
/// numbers, which are kept aside: numbers equal in value can differ in form (`1` and `1.0`),
/// so they are compared as regorus compares them. Two values are equal exactly when their
/// trees are written alike and their numbers are equal pair by pair.
#[derive(Default)]
struct Key {
    /// The hash of `tree`, made once (a growing set would hash every key again).
    hash: u64,
    tree: Vec<u8>,
    /// Each number, as a value (regorus does not name its number type).
    numbers: Vec<Value>,
}

impl Key {
    fn encode(&mut self, value: &Value) {
        match value {
            Value::Null => self.tree.push(0),
            Value::Bool(b) => self.tree.extend([1, u8::from(*b)]),
            Value::Number(_) => {
                self.tree.push(2);
                self.numbers.push(value.clone());
            }
            Value::String(s) => {
                self.tree.push(3);
                self.length(s.len());
                self.tree.extend_from_slice(s.as_bytes());
            }
            Value::Array(items) => {
                self.tree.push(4);
                self.length(items.len());
                for item in items.iter() {
                    self.encode(item);
                }
            }
            Value::Set(items) => {
                self.tree.push(5);
                self.length(items.len());
                for item in items.iter() {
                    self.encode(item);
                }
            }
            Value::Object(object) => {
                self.tree.push(6);
                self.length(object.len());
                for (k, v) in object.iter_sorted() {
                    self.encode(k);
                    self.encode(v);
                }
            }
            Value::Undefined => self.tree.push(7),
        }
    }

    /// A length, seven bits to a byte, the high bit set on all but the last (LEB128): one
    /// byte for most, where eight held a finding's twenty-odd lengths (its encoding kept for
    /// every finding until the rule is done), and still read back one way only.
    fn length(&mut self, mut n: usize) {
        while n >= 0x80 {
            self.tree.push((n & 0x7f) as u8 | 0x80);
            n >>= 7;
        }
        self.tree.push(n as u8);
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.hash == other.hash && self.tree == other.tree && self.numbers == other.numbers
    }
}

impl Eq for Key {}

impl Hash for Key {
    /// The tree's only: equal numbers of different forms must hash alike.
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// The hasher of a [`Key`], whose hash is made already.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // A key writes only its hash, as a `u64`; anything else still hashes.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(json: &str) -> Value {
        Value::from_json_str(json).unwrap()
    }

    #[test]
    fn equal_values_are_seen_once() {
        let mut distinct = Distinct::default();
        let one = value(r#"{"a": [1, "x"], "b": {"c": null}}"#);
        let float = value(r#"{"a": [1.0, "x"], "b": {"c": null}}"#);
        assert_eq!(one, float, "regorus holds 1 and 1.0 equal");
        assert!(distinct.first(&one));
        assert!(!distinct.first(&float));
        assert!(!distinct.first(&value(r#"{"b": {"c": null}, "a": [1, "x"]}"#)));
        assert!(distinct.first(&value(r#"{"a": [2, "x"], "b": {"c": null}}"#)));
        assert!(distinct.first(&value(r#"{"a": ["x", 1], "b": {"c": null}}"#)));
        assert!(distinct.first(&value(r#"{"a": ["x1"], "b": {"c": null}}"#)));
    }

    /// Lengths of one, two and three bytes: equal values are still seen once, and values
    /// whose lengths and contents could run into each other are still told apart.
    #[test]
    fn long_strings_and_collections_are_told_apart() {
        let mut distinct = Distinct::default();
        let mut values = Vec::new();
        for n in [0, 1, 127, 128, 129, 255, 256, 300, 16_383, 16_384, 20_000] {
            values.push(Value::from("a".repeat(n)));
            values.push(Value::from(vec![Value::Null; n]));
            // A string that starts with what the length's next byte would be, after a shorter
            // string: ["a"*n, "\u{1}a"] against ["a"*(n+1), "a"].
            values.push(Value::from(vec![
                Value::from("a".repeat(n)),
                Value::from("\u{1}a"),
            ]));
            values.push(Value::from(vec![
                Value::from("a".repeat(n + 1)),
                Value::from("a"),
            ]));
        }
        for v in &values {
            assert!(
                distinct.first(v),
                "{} first",
                v.to_json_str().unwrap().len()
            );
        }
        for v in &values {
            assert!(!distinct.first(&v.clone()), "seen");
        }
    }

    /// Over many values of few shapes (so that many are equal), exactly what a sorted set
    /// keeps is kept, each in the form first seen.
    #[test]
    fn it_keeps_what_a_set_keeps() {
        let parts = [
            "1",
            "1.0",
            "2",
            "\"1\"",
            "\"\"",
            "null",
            "true",
            "false",
            "[1]",
            "[]",
            "{}",
            "[\"a\", \"b\"]",
            "[\"ab\"]",
            "{\"k\": 1}",
        ];
        let mut distinct = Distinct::default();
        let mut kept = Vec::new();
        let mut set = std::collections::BTreeSet::new();
        let mut sets = Vec::new();
        let mut add = |v: Value| {
            if distinct.first(&v) {
                kept.push(v.clone());
            }
            set.insert(v);
        };
        for a in parts {
            for b in parts {
                for text in [
                    format!("[{a}, {b}]"),
                    format!("{{\"k\": {a}, \"l\": {b}}}"),
                    format!("{{\"k\": [{a}], \"m\": {{\"n\": {b}}}}}"),
                ] {
                    add(value(&text));
                }
                // Sets and arrays of the same members differ.
                let (x, y) = (value(a), value(b));
                let members: std::collections::BTreeSet<Value> = [x, y].into_iter().collect();
                sets.push(Value::from(members));
            }
        }
        for s in sets {
            add(s.clone());
            if let Value::Set(members) = &s {
                add(Value::from(members.iter().cloned().collect::<Vec<_>>()));
            }
        }
        kept.sort();
        let set: Vec<Value> = set.into_iter().collect();
        assert_eq!(kept, set);
        let texts = |v: &[Value]| serde_json::to_string(v).unwrap();
        assert_eq!(
            texts(&kept),
            texts(&set),
            "each kept in the form first seen"
        );
    }
}
