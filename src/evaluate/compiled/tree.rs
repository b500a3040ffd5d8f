//! regorus's syntax tree as the compiler reads it: the JSON form of `get_ast_as_json`, made
//! straight from the tree's `Serialize` as a light tree of its own.
//!
//! Made as a `serde_json::Value`, every node of every policy became a map of owned keys in
//! an insertion-ordered hash map: twenty custom rules (1,100 lines) took 18–40 ms to read, as
//! long as scanning 2,000 users with every bundled rule. Here a node is a short list of
//! members, its keys (the tree's few field and variant names) shared, and a member is found
//! by a scan of that list. The shape is serde_json's exactly — a struct or a map is an object,
//! an enum variant with data is `{"Variant": data}`, a unit variant is its name, a number is
//! a `serde_json::Number` — so the compiler reads it as it read the JSON.

use std::collections::HashSet;
use std::rc::Rc;

use serde::Serialize;

use crate::evaluate::serialize::Build;

/// A node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tree {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(Box<str>),
    Array(Vec<Tree>),
    /// Members in the order written, keys distinct.
    Object(Vec<(Rc<str>, Tree)>),
}

/// What [`Tree::get`] finds a member by: a key of an object, a position in an array.
pub(super) trait Index {
    fn find<'t>(&self, tree: &'t Tree) -> Option<&'t Tree>;
}

impl Index for str {
    fn find<'t>(&self, tree: &'t Tree) -> Option<&'t Tree> {
        match tree {
            Tree::Object(members) => members.iter().find(|(k, _)| &**k == self).map(|(_, v)| v),
            _ => None,
        }
    }
}

impl Index for usize {
    fn find<'t>(&self, tree: &'t Tree) -> Option<&'t Tree> {
        match tree {
            Tree::Array(items) => items.get(*self),
            _ => None,
        }
    }
}

impl<I: Index + ?Sized> Index for &I {
    fn find<'t>(&self, tree: &'t Tree) -> Option<&'t Tree> {
        (**self).find(tree)
    }
}

impl Tree {
    /// A member of an object by its key, or an item of an array by its position.
    pub(super) fn get<I: Index>(&self, index: I) -> Option<&Tree> {
        index.find(self)
    }

    pub(super) fn as_str(&self) -> Option<&str> {
        match self {
            Tree::String(s) => Some(s),
            _ => None,
        }
    }

    pub(super) fn as_bool(&self) -> Option<bool> {
        match self {
            Tree::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub(super) fn as_u64(&self) -> Option<u64> {
        match self {
            Tree::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    pub(super) fn as_i64(&self) -> Option<i64> {
        match self {
            Tree::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    pub(super) fn as_array(&self) -> Option<&Vec<Tree>> {
        match self {
            Tree::Array(items) => Some(items),
            _ => None,
        }
    }

    pub(super) fn as_object(&self) -> Option<&[(Rc<str>, Tree)]> {
        match self {
            Tree::Object(members) => Some(members),
            _ => None,
        }
    }

    pub(super) fn is_null(&self) -> bool {
        matches!(self, Tree::Null)
    }

    pub(super) fn is_number(&self) -> bool {
        matches!(self, Tree::Number(_))
    }

    /// A scalar as the engine's value, as `regorus::Value::from(serde_json::Value)` makes it;
    /// `None` for an array or an object.
    pub(super) fn scalar(&self) -> Option<regorus::Value> {
        let json = match self {
            Tree::Null => serde_json::Value::Null,
            Tree::Bool(b) => serde_json::Value::Bool(*b),
            Tree::Number(n) => serde_json::Value::Number(n.clone()),
            Tree::String(s) => serde_json::Value::String(s.to_string()),
            Tree::Array(_) | Tree::Object(_) => return None,
        };
        Some(regorus::Value::from(json))
    }
}

/// Why a value could not be made into a tree (a map key that is not a string, a number out
/// of JSON's range: nothing regorus's syntax tree holds).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct TreeError(String);

impl serde::ser::Error for TreeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        TreeError(msg.to_string())
    }
}

/// The keys met so far, each allocated once.
#[derive(Default)]
pub(super) struct Keys(HashSet<Rc<str>, foldhash::fast::FixedState>);

impl Keys {
    pub(super) fn key(&mut self, name: &str) -> Rc<str> {
        if let Some(key) = self.0.get(name) {
            return key.clone();
        }
        let key: Rc<str> = Rc::from(name);
        self.0.insert(key.clone());
        key
    }
}

/// `value` as a tree, keys shared through `keys`.
pub(super) fn to_tree<T: Serialize + ?Sized>(
    value: &T,
    keys: &mut Keys,
) -> Result<Tree, TreeError> {
    crate::evaluate::serialize::to_tree(value, keys)
}

impl Build for Keys {
    type Node = Tree;
    type Key = Rc<str>;
    type Members = Vec<(Rc<str>, Tree)>;
    type Error = TreeError;

    fn null(&mut self) -> Tree {
        Tree::Null
    }
    fn bool(&mut self, v: bool) -> Tree {
        Tree::Bool(v)
    }
    fn unsigned(&mut self, v: u64) -> Tree {
        Tree::Number(v.into())
    }
    fn negative(&mut self, v: i64) -> Tree {
        Tree::Number(v.into())
    }
    fn float(&mut self, v: f64) -> Tree {
        serde_json::Number::from_f64(v).map_or(Tree::Null, Tree::Number)
    }
    fn string(&mut self, v: &str) -> Tree {
        Tree::String(v.into())
    }
    fn array(&mut self, items: Vec<Tree>) -> Tree {
        Tree::Array(items)
    }
    fn name(&mut self, name: &'static str) -> Rc<str> {
        self.key(name)
    }
    fn map_key(&mut self, key: Tree) -> Result<Rc<str>, TreeError> {
        match key {
            Tree::String(s) => Ok(self.key(&s)),
            Tree::Number(n) if !n.is_f64() => Ok(self.key(&n.to_string())),
            Tree::Bool(b) => Ok(self.key(if b { "true" } else { "false" })),
            _ => Err(TreeError("a map key must be a string".into())),
        }
    }
    fn members(&mut self, len: usize) -> Vec<(Rc<str>, Tree)> {
        Vec::with_capacity(len)
    }
    fn put(&mut self, members: &mut Vec<(Rc<str>, Tree)>, key: Rc<str>, value: Tree) {
        match members.iter_mut().find(|(k, _)| *k == key) {
            Some((_, old)) => *old = value,
            None => members.push((key, value)),
        }
    }
    fn object(&mut self, members: Vec<(Rc<str>, Tree)>) -> Tree {
        Tree::Object(members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree as serde_json's value, to compare the two forms.
    fn json(tree: &Tree) -> serde_json::Value {
        match tree {
            Tree::Null => serde_json::Value::Null,
            Tree::Bool(b) => serde_json::Value::Bool(*b),
            Tree::Number(n) => serde_json::Value::Number(n.clone()),
            Tree::String(s) => serde_json::Value::String(s.to_string()),
            Tree::Array(items) => serde_json::Value::Array(items.iter().map(json).collect()),
            Tree::Object(members) => serde_json::Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.to_string(), json(v)))
                    .collect(),
            ),
        }
    }

    /// Every policy of the repository (bundled and benchmark), and a few forms that are not in
    /// it: regorus's syntax tree made into this tree, through its `Serialize` and walked node
    /// by node, is what serde_json makes of it, member order included.
    #[test]
    fn the_tree_is_serde_jsons() {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(false);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<_> = ["policies", "benches"]
            .iter()
            .flat_map(|dir| walk(&root.join(dir)))
            .collect();
        files.sort();
        assert!(files.len() > 30, "the repository's policies are found");
        for path in &files {
            let text = std::fs::read_to_string(path).expect("a policy is read");
            engine
                .add_policy(path.display().to_string(), text)
                .expect("a policy of the repository parses");
        }
        engine
            .add_policy(
                "forms.rego".into(),
                r#"package forms
import rego.v1
import data.forms.x as ex
x := {"a": 1.5, "b": [1, -2, 30000000000], "c": {1, "two"}, `raw`: null} if { true }
y[k] := v if { some k, v in {"a": true} }
z contains n if { n := 1 + 2 * 3 / 4 % 5; n != 0; not false }
f(a, _) := a if { every i in [1] { i > 0 } } else := 0
default d := -1
w if { some k, v in {"a": 1}; k == "a"; v >= 1; v <= 2; v < 3; v > 0 }
o := {k: v | some k in ["a"]; v := count(k) - 1 * 2 % 3} if { true }
u := ({1} | {2}) & {1}
g := q if { some i; q := [i | i := 1]; every j, l in ["x"] { j == 0; l == "x" } }
h if { x with input.a as 1; not false; 1 in [1]; 0, 1 in [1] }
m := input.a[b].c if { b := "b"; x = y; y := 2 }
"#
                .into(),
            )
            .expect("the forms parse");
        let modules = engine.get_modules();
        let mut keys = Keys::default();
        let walked = super::super::from_ast::modules(modules, &mut keys);
        assert_eq!(walked.len(), modules.len());
        for (module, walked) in modules.iter().zip(&walked) {
            let serialized = to_tree(module, &mut keys).expect("a tree");
            let expected = serde_json::to_value(module).expect("a JSON value");
            for tree in [&serialized, walked] {
                assert_eq!(json(tree), expected);
                let text = serde_json::to_string(&json(tree)).expect("text");
                assert_eq!(text, serde_json::to_string(&expected).expect("text"));
            }
        }
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).expect("a directory").flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(walk(&path));
            } else if path.extension().is_some_and(|e| e == "rego") {
                found.push(path);
            }
        }
        found
    }

    #[test]
    fn every_serde_shape_is_serde_jsons() {
        let all = crate::evaluate::serialize::every_shape();
        let tree = to_tree(&all, &mut Keys::default()).expect("a tree");
        let expected = serde_json::to_value(&all).expect("a JSON value");
        assert_eq!(json(&tree), expected);
        assert_eq!(
            serde_json::to_string(&json(&tree)).expect("text"),
            serde_json::to_string(&expected).expect("text")
        );
        let pair_keyed = std::collections::BTreeMap::from([((1, 2), "pair")]);
        let err = to_tree(&pair_keyed, &mut Keys::default()).unwrap_err();
        assert!(
            err.to_string().contains("map key must be a string"),
            "{err}"
        );
    }

    #[test]
    fn members_are_found_by_key_or_position() {
        let mut keys = Keys::default();
        let tree = to_tree(
            &serde_json::json!({"a": [1, "x"], "b": null, "c": -3}),
            &mut keys,
        )
        .expect("a tree");
        assert_eq!(
            tree.get("a").and_then(|a| a.get(1)).and_then(Tree::as_str),
            Some("x")
        );
        assert!(tree.get("b").is_some_and(Tree::is_null));
        assert_eq!(tree.get("c").and_then(Tree::as_i64), Some(-3));
        assert_eq!(tree.get("c").and_then(Tree::as_u64), None);
        assert!(tree.get("d").is_none());
        assert_eq!(
            tree.get("a").and_then(|a| a.get(0)).and_then(Tree::as_u64),
            Some(1)
        );
        let scalar = tree.get("c").and_then(Tree::scalar);
        assert_eq!(scalar, Some(regorus::Value::from(-3i64)));
    }
}
