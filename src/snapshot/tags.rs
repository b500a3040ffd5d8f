//! A user's tags: a small map kept as one sorted vector.
//!
//! A user has a few tags, often one. A `BTreeMap<String, String>` gives even one tag a node with
//! room for eleven: over 500 bytes of fresh memory a user, which the kernel must zero first —
//! a tenth of a 100,000-user scan on the virtual machines CI gates run on (perf). One vector of
//! exactly the tags read holds the same map in a tenth of that. It reads and writes as a JSON
//! object, as the map did, and iterates in key order; a key given twice keeps its last value,
//! as a map's insert does.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Tag key → value, in key order, each key once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags(Vec<(String, String)>);

impl Tags {
    pub fn new() -> Tags {
        Tags::default()
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&String> {
        self.position(key).ok().map(|i| &self.0[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// Set `key` to `value`; returns the value it replaces.
    pub fn insert(&mut self, key: String, value: String) -> Option<String> {
        match self.position(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every tag, in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&String, &String)> {
        self.into_iter()
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// `pairs` in key order, the last value of a key given twice kept; a vector of exactly the
    /// pairs kept. Tags as AWS and the collector give them are in order already: nothing moves.
    fn from_pairs(mut pairs: Vec<(String, String)>) -> Tags {
        let ordered = pairs.windows(2).all(|w| w[0].0 < w[1].0);
        if !ordered {
            // Stable: of equal keys, the one given last stays last.
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            let mut kept: Vec<(String, String)> = Vec::with_capacity(pairs.len());
            for pair in pairs {
                match kept.last_mut() {
                    Some(last) if last.0 == pair.0 => *last = pair,
                    _ => kept.push(pair),
                }
            }
            pairs = kept;
        }
        pairs.shrink_to_fit();
        Tags(pairs)
    }
}

impl FromIterator<(String, String)> for Tags {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Tags {
        Tags::from_pairs(pairs.into_iter().collect())
    }
}

impl<const N: usize> From<[(String, String); N]> for Tags {
    fn from(pairs: [(String, String); N]) -> Tags {
        pairs.into_iter().collect()
    }
}

impl From<BTreeMap<String, String>> for Tags {
    fn from(map: BTreeMap<String, String>) -> Tags {
        Tags(map.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a Tags {
    type Item = (&'a String, &'a String);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, String)>,
        fn(&'a (String, String)) -> (&'a String, &'a String),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl Serialize for Tags {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Tags, D::Error> {
        deserializer.deserialize_map(TagsVisitor)
    }
}

struct TagsVisitor;

impl<'de> Visitor<'de> for TagsVisitor {
    type Value = Tags;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        // What a map says, so that errors read as they did.
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tags, A::Error> {
        // Read through the thread's buffer into exactly the tags' room (not grown, then shrunk).
        let pairs = super::exact::through_buffer(&TAG_BUFFER, |pairs| {
            while let Some(pair) = map.next_entry()? {
                pairs.push(pair);
            }
            Ok(())
        })?;
        Ok(Tags::from_pairs(pairs))
    }
}

thread_local! {
    static TAG_BUFFER: std::cell::RefCell<Vec<(String, String)>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The map these pairs make, as the type this replaces made it.
    fn as_map(list: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs(list).into_iter().collect()
    }

    #[test]
    fn reads_and_writes_as_the_map_did() {
        for list in [
            &[][..],
            &[("team", "a")][..],
            &[("z", "1"), ("a", "2"), ("m", "3")][..],
            &[
                ("k", "first"),
                ("a", "x"),
                ("k", "last"),
                ("a", "y"),
                ("b", ""),
            ][..],
        ] {
            let json = format!(
                "{{{}}}",
                list.iter()
                    .map(|(k, v)| format!("{k:?}: {v:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let tags: Tags = serde_json::from_str(&json).unwrap();
            let map: BTreeMap<String, String> = serde_json::from_str(&json).unwrap();
            assert_eq!(
                serde_json::to_string(&tags).unwrap(),
                serde_json::to_string(&map).unwrap()
            );
            assert_eq!(tags, Tags::from(map.clone()));
            assert_eq!(tags, pairs(list).into_iter().collect::<Tags>());
            assert_eq!(
                tags.iter().collect::<Vec<_>>(),
                map.iter().collect::<Vec<_>>()
            );
            assert_eq!(tags.len(), map.len());
            for (k, _) in list {
                assert_eq!(tags.get(k), map.get(*k));
                assert!(tags.contains_key(k));
            }
            assert_eq!(tags.get("absent"), None);
            assert_eq!(tags.0.capacity(), tags.len(), "exactly the tags kept");
        }
        assert_eq!(as_map(&[("k", "1"), ("k", "2")])["k"], "2");
    }

    #[test]
    fn insert_keeps_the_order_and_replaces() {
        let mut tags = Tags::new();
        assert_eq!(tags.insert("b".into(), "1".into()), None);
        assert_eq!(tags.insert("a".into(), "2".into()), None);
        assert_eq!(tags.insert("b".into(), "3".into()), Some("1".into()));
        assert_eq!(tags, Tags::from(as_map(&[("a", "2"), ("b", "3")])));
        assert!(!tags.is_empty());
    }

    #[test]
    fn errors_are_the_maps() {
        for bad in ["[]", "{\"a\": 1}", "null", "{\"a\": \"b\""] {
            let tags = serde_json::from_str::<Tags>(bad).unwrap_err().to_string();
            let map = serde_json::from_str::<BTreeMap<String, String>>(bad)
                .unwrap_err()
                .to_string();
            assert_eq!(tags, map, "{bad}");
        }
    }
}
