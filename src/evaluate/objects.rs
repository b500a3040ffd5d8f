//! Engine objects made from a copy of their keys.
//!
//! regorus keeps an object as a sorted slice of its members. Made member by member, it is
//! first a B-tree (a node allocated, each key compared into place), then flattened into the
//! slice (another allocation), and each key is a string allocated anew unless the caller shares
//! one. The library's native functions make objects of a few shapes again and again — every
//! resource `{type, id, arn}`, every remediation `{action, params}` — so the sorted slice of
//! keys is made once, with placeholders, and each object is a copy of it with its values put
//! in place: one allocation for the slice, keys shared, no tree.
//!
//! Not for the input: a user's fifteen fields cost more put into a copy (each a binary search
//! and two reference counts) than inserted into a tree (measured: the input took a quarter
//! longer).

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use regorus::value::Object;
use regorus::Value;

use super::input::AddressHasher;

/// The keys of one shape: a frozen object of placeholders, and the keys in the order the
/// members come in.
struct Shape {
    object: Object,
    keys: Vec<Value>,
}

impl Shape {
    /// `None` when a key comes twice (a member then replaces another: made the long way).
    fn new(keys: Vec<Value>) -> Option<Shape> {
        let object: Object = keys.iter().map(|k| (k.clone(), Value::Null)).collect();
        if object.len() != keys.len() {
            return None;
        }
        let Value::Object(frozen) = Value::from(object) else {
            unreachable!("an object is made from an object");
        };
        Some(Shape {
            object: (*frozen).clone(),
            keys,
        })
    }

    /// Whether `members` have this shape's keys, the same strings in the same order.
    fn fits(&self, members: &[(Value, Value)]) -> bool {
        self.keys.len() == members.len()
            && self
                .keys
                .iter()
                .zip(members)
                .all(|(k, (m, _))| identity(k) == identity(m))
    }

    fn fill(&self, members: Vec<(Value, Value)>) -> Value {
        let mut object = self.object.clone();
        for (key, value) in members {
            // A key of the shape: the value is put in place, the slice is not rebuilt.
            object.insert(key, value);
        }
        Value::from(object)
    }
}

/// A string key by its address: shared strings (field names, the library's keys) are the
/// same string wherever they are used.
fn identity(key: &Value) -> Option<usize> {
    match key {
        Value::String(s) => Some(s.as_ptr() as usize),
        _ => None,
    }
}

/// The shapes met so far, found by the addresses of their keys.
#[derive(Default)]
pub(crate) struct Shapes {
    by_keys: HashMap<u64, Shape, BuildHasherDefault<AddressHasher>>,
}

impl Shapes {
    /// The object of `members` (keys in the order given; later members replace earlier ones
    /// of an equal key, as in a map).
    pub(crate) fn object(&mut self, members: Vec<(Value, Value)>) -> Value {
        let Some(fingerprint) = fingerprint(&members) else {
            return the_long_way(members);
        };
        if let Some(shape) = self.by_keys.get(&fingerprint) {
            if shape.fits(&members) {
                return shape.fill(members);
            }
            // Another shape with the same fingerprint: rare, and made the long way.
            return the_long_way(members);
        }
        match Shape::new(members.iter().map(|(k, _)| k.clone()).collect()) {
            Some(shape) => {
                let value = shape.fill(members);
                self.by_keys.insert(fingerprint, shape);
                value
            }
            None => the_long_way(members),
        }
    }
}

/// The addresses of the keys, folded; `None` for an empty object or a key that is not a
/// string.
fn fingerprint(members: &[(Value, Value)]) -> Option<u64> {
    if members.is_empty() {
        return None;
    }
    let mut hash = AddressHasher::default();
    hash.write_usize(members.len());
    for (key, _) in members {
        hash.write_usize(identity(key)?);
    }
    Some(hash.finish())
}

fn the_long_way(members: Vec<(Value, Value)>) -> Value {
    if members.is_empty() {
        return Value::new_object();
    }
    Value::from(members.into_iter().collect::<BTreeMap<_, _>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn long(members: &[(Value, Value)]) -> Value {
        the_long_way(members.to_vec())
    }

    #[test]
    fn objects_from_a_shape_are_the_objects_made_the_long_way() {
        let k = |s: &str| Value::from(s);
        let (a, b, c) = (k("b_field"), k("a_field"), k("c"));
        let n = |i: u64| Value::from(i);
        let mut shapes = Shapes::default();
        let cases: Vec<Vec<(Value, Value)>> = vec![
            vec![(a.clone(), n(1)), (b.clone(), n(2)), (c.clone(), n(3))],
            // The same shape again, other values: from the cache.
            vec![
                (a.clone(), k("x")),
                (b.clone(), Value::Null),
                (c.clone(), n(0)),
            ],
            // The same key names in another order: another shape.
            vec![(c.clone(), n(3)), (a.clone(), n(1)), (b.clone(), n(2))],
            // Equal names at other addresses: another shape, the same object.
            vec![(k("b_field"), n(1)), (k("a_field"), n(2)), (k("c"), n(3))],
            // A key twice: the later value, as in a map.
            vec![(a.clone(), n(1)), (a.clone(), n(2))],
            vec![(Value::from(1u64), n(1)), (a.clone(), n(2))],
            vec![],
            vec![(a.clone(), n(1))],
        ];
        for _ in 0..2 {
            for members in &cases {
                let made = shapes.object(members.clone());
                assert_eq!(made, long(members), "{members:?}");
                assert_eq!(
                    made.to_json_str().unwrap(),
                    long(members).to_json_str().unwrap()
                );
            }
        }
        // A key twice is never cached as a shape.
        assert_eq!(shapes.by_keys.len(), 4);
    }
}
