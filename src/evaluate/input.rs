//! The snapshot as the Rego engine's `input`: regorus values made straight from the typed
//! snapshot, on every core.
//!
//! The obvious way — `serde_json::to_value`, then `regorus::Value::from` — builds the whole
//! snapshot twice, once as a JSON tree and once as engine values, on one core, with a fresh
//! allocation for every object key of every user. At 100,000 users that took 1.4 s and
//! 330 MB before the first custom rule ran. Here a serde [`Serializer`](serde::Serializer)
//! writes engine values directly, each account on whichever core is free, and the field names
//! of the snapshot's structs (`user_name`, `access_keys`, …) are made once per core and shared
//! by every object that has them.
//!
//! The values are exactly those of the obvious way: the same numbers (a non-negative integer
//! is unsigned, as serde_json makes it; a non-finite float is `null`), the same map keys, the
//! same empty objects. The unit tests compare both ways on the demo and on generated snapshots.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use regorus::Value;
use serde::ser::{self, Serialize};

use super::serialize::Build;

use crate::snapshot::{Account, Snapshot};

/// Why a snapshot could not be made into engine values (a map key that is not a string or a
/// number, a 128-bit integer out of range: nothing a snapshot holds).
#[derive(Debug, thiserror::Error)]
#[error("cannot make the snapshot into Rego input: {0}")]
pub struct InputError(String);

impl ser::Error for InputError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        InputError(msg.to_string())
    }
}

/// How much of each user the input holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Users {
    /// Every user, whole.
    Whole,
    /// Each user as `null`: the account- and organization-scope bundled rules read only how
    /// many users an account has, and converting them is most of the cost.
    Counted,
}

/// The snapshot as `input`, each account converted on whichever core is free.
pub(crate) fn snapshot_input(snapshot: &Snapshot, users: Users) -> Result<Value, InputError> {
    let mut accounts = Vec::with_capacity(snapshot.accounts.len());
    crate::parallel::in_order(
        snapshot.accounts.len(),
        Keys::default,
        |keys, i| account_input(&snapshot.accounts[i], users, keys),
        &mut |account| {
            accounts.push(account);
            Ok(())
        },
    )
    .expect("collecting into memory does not fail");
    let accounts = accounts.into_iter().collect::<Result<Vec<_>, _>>()?;
    let skeleton = Snapshot {
        accounts: Vec::new(),
        organization: snapshot.organization.clone(),
        organization_error: snapshot.organization_error.clone(),
        schema: snapshot.schema.clone(),
        generator: snapshot.generator.clone(),
        collected_at: snapshot.collected_at,
        source: snapshot.source.clone(),
        metadata: snapshot.metadata.clone(),
    };
    let value = to_value(&skeleton, &mut Keys::default())?;
    Ok(with_member(value, "accounts", Value::from(accounts)))
}

/// The input of a shard: `base` (the input, each account's users counted) with the accounts
/// `range` of `snapshot`, their users as `users` says, in place of every account.
pub(crate) fn shard_input(
    snapshot: &Snapshot,
    range: std::ops::Range<usize>,
    users: Users,
    base: &Value,
    keys: &mut Keys,
) -> Result<Value, InputError> {
    let accounts = snapshot.accounts[range]
        .iter()
        .map(|account| account_input(account, users, keys))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(with_member(base.clone(), "accounts", Value::from(accounts)))
}

fn account_input(account: &Account, users: Users, keys: &mut Keys) -> Result<Value, InputError> {
    match users {
        Users::Whole => to_value(account, keys),
        Users::Counted => {
            let skeleton = Account {
                account_id: account.account_id.clone(),
                alias: account.alias.clone(),
                credential_report: account.credential_report.clone(),
                root: account.root.clone(),
                users: Vec::new(),
                error: account.error.clone(),
            };
            let value = to_value(&skeleton, keys)?;
            let nulls = Value::from(vec![Value::Null; account.users.len()]);
            Ok(with_member(value, "users", nulls))
        }
    }
}

/// `value` (an object) with `key` set to `member`.
fn with_member(value: Value, key: &str, member: Value) -> Value {
    let mut map: BTreeMap<Value, Value> = match value.as_object() {
        Ok(object) => object.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        Err(_) => BTreeMap::new(),
    };
    map.insert(Value::from(key), member);
    Value::from(map)
}

/// Any serialisable value as engine values: what `regorus::Value::from(serde_json::to_value(v))`
/// gives, without the JSON tree in between.
pub(crate) fn to_value<T: Serialize + ?Sized>(
    value: &T,
    keys: &mut Keys,
) -> Result<Value, InputError> {
    super::serialize::to_tree(value, keys)
}

/// The field names met so far, each made into an engine string once. Struct field names are
/// `'static`, so a name is found by its address; the same name at another address (another
/// struct) is simply made once more.
#[derive(Default)]
pub(crate) struct Keys {
    made: HashMap<(usize, usize), Value, BuildHasherDefault<AddressHasher>>,
    /// The shapes of the objects made with [`Keys::object`].
    shapes: super::objects::Shapes,
}

impl Keys {
    pub(crate) fn key(&mut self, name: &'static str) -> Value {
        self.made
            .entry((name.as_ptr() as usize, name.len()))
            .or_insert_with(|| Value::from(name))
            .clone()
    }

    /// The object of `members`, named by static names, made from a copy of its shape.
    pub(crate) fn object(&mut self, members: Vec<(&'static str, Value)>) -> Value {
        let members = members
            .into_iter()
            .map(|(name, value)| (self.key(name), value))
            .collect();
        self.shapes.object(members)
    }
}

/// A hasher for (address, length) pairs: one multiply per word. Addresses are distinct and
/// few, so nothing stronger is needed.
#[derive(Default)]
pub(crate) struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Build for Keys {
    type Node = Value;
    type Key = Value;
    type Members = BTreeMap<Value, Value>;
    type Error = InputError;

    fn null(&mut self) -> Value {
        Value::Null
    }
    fn bool(&mut self, v: bool) -> Value {
        Value::Bool(v)
    }
    fn unsigned(&mut self, v: u64) -> Value {
        Value::from(v)
    }
    fn negative(&mut self, v: i64) -> Value {
        Value::from(v)
    }
    fn float(&mut self, v: f64) -> Value {
        Value::from(v)
    }
    fn string(&mut self, v: &str) -> Value {
        Value::from(v)
    }
    fn variant_name(&mut self, name: &'static str) -> Value {
        self.key(name)
    }
    fn array(&mut self, items: Vec<Value>) -> Value {
        Value::from(items)
    }
    fn name(&mut self, name: &'static str) -> Value {
        self.key(name)
    }
    fn map_key(&mut self, key: Value) -> Result<Value, InputError> {
        let text = match &key {
            Value::String(_) => return Ok(key),
            Value::Bool(b) => b.to_string(),
            Value::Number(_) => match (key.as_u64(), key.as_i64()) {
                (Ok(u), _) => u.to_string(),
                (_, Ok(i)) => i.to_string(),
                _ => return Err(key_error()),
            },
            _ => return Err(key_error()),
        };
        Ok(Value::from(text))
    }
    fn members(&mut self, _len: usize) -> BTreeMap<Value, Value> {
        BTreeMap::new()
    }
    fn put(&mut self, members: &mut BTreeMap<Value, Value>, key: Value, value: Value) {
        members.insert(key, value);
    }
    fn object(&mut self, members: BTreeMap<Value, Value>) -> Value {
        if members.is_empty() {
            Value::new_object()
        } else {
            Value::from(members)
        }
    }
}

fn key_error() -> InputError {
    InputError("a map key must be a string".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious way: a JSON tree, then engine values.
    fn via_json<T: Serialize>(value: &T) -> Value {
        Value::from(serde_json::to_value(value).unwrap())
    }

    fn direct<T: Serialize>(value: &T) -> Value {
        to_value(value, &mut Keys::default()).unwrap()
    }

    /// Equal as values and in their JSON text.
    fn assert_same(made: &Value, expected: &Value) {
        assert_eq!(made, expected);
        assert_eq!(made.to_json_str().unwrap(), expected.to_json_str().unwrap());
    }

    fn demo() -> Snapshot {
        let text = include_str!("../../fixtures/demo/snapshot.json");
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn the_whole_snapshot_is_what_the_json_tree_gives() {
        let mut snapshots = vec![demo()];
        for seed in [1, 7, 42] {
            snapshots.push(crate::synthetic::generate(crate::synthetic::Spec {
                accounts: 4,
                users: 300,
                seed,
            }));
        }
        for snapshot in &snapshots {
            let expected = via_json(snapshot);
            let made = snapshot_input(snapshot, Users::Whole).unwrap();
            assert_eq!(made, expected);
            assert_same(&made, &expected);
        }
    }

    #[test]
    fn counted_users_are_nulls_and_the_rest_is_whole() {
        let snapshot = demo();
        let made = snapshot_input(&snapshot, Users::Counted).unwrap();
        let mut json = serde_json::to_value(&snapshot).unwrap();
        for account in json["accounts"].as_array_mut().unwrap() {
            let n = account["users"].as_array().unwrap().len();
            account["users"] = serde_json::Value::Array(vec![serde_json::Value::Null; n]);
        }
        assert_same(&made, &Value::from(json));
    }

    #[test]
    fn every_serde_shape_is_what_the_json_tree_gives() {
        let all = crate::evaluate::serialize::every_shape();
        assert_same(&direct(&all), &via_json(&all));
    }

    #[test]
    fn a_map_key_that_is_not_a_string_is_an_error_not_a_panic() {
        let map = BTreeMap::from([((1, 2), "pair")]);
        let err = to_value(&map, &mut Keys::default()).unwrap_err();
        assert!(
            err.to_string().contains("map key must be a string"),
            "{err}"
        );
    }

    #[test]
    fn field_names_are_shared() {
        let snapshot = demo();
        let made = snapshot_input(&snapshot, Users::Whole).unwrap();
        let users = made["accounts"][0]["users"].as_array().unwrap();
        assert!(users.len() >= 2);
        let name_key = |user: &Value| {
            user.as_object()
                .unwrap()
                .iter()
                .find(|(k, _)| {
                    k.as_string()
                        .map(|s| s.as_ref() == "user_name")
                        .unwrap_or(false)
                })
                .map(|(k, _)| match k {
                    Value::String(s) => s.clone(),
                    _ => unreachable!(),
                })
                .unwrap()
        };
        assert!(regorus::Rc::ptr_eq(
            &name_key(&users[0]),
            &name_key(&users[1])
        ));
        // Unit variants (a key's status) are shared as the field names are, within an account:
        // accounts are made on every core, each core with its own names.
        let accounts = made["accounts"].as_array().unwrap();
        let statuses = |account: &Value| -> Vec<regorus::Rc<str>> {
            account["users"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|u| u["access_keys"].as_array().unwrap().iter())
                .filter_map(|k| match &k["status"] {
                    Value::String(s) if s.as_ref() == "Active" => Some(s.clone()),
                    _ => None,
                })
                .collect()
        };
        assert!(accounts.iter().any(|a| statuses(a).len() >= 2));
        for account in accounts {
            assert!(statuses(account)
                .windows(2)
                .all(|w| regorus::Rc::ptr_eq(&w[0], &w[1])));
        }
    }
}
