//! Findings held as bytes between the rules that make them and the stream that reports them.
//!
//! The rules that run in the interpreter or compiled (custom rules) run before the stream, and
//! their findings wait for it: 578,000 at 100,000 users with the twenty benchmark rules. As
//! [`RawFinding`]s each is a struct of 240 bytes and a dozen small allocations, about 1 KB; and
//! on a virtual machine every gigabyte of peak memory costs the kernel 0.5–2 s to hand over
//! (`docs/performance.md`). Packed, a finding is one allocation of its strings, each after its
//! length, and is unpacked by the core that reports its section.
//!
//! Unpacking gives back exactly the finding packed: every string, every field in its order,
//! every JSON number in its form (unsigned, negative or floating, by its bits).

use serde_json::{Map, Number, Value};

use super::finding::{RawFinding, RawRemediation, Resource};
use super::text::{Detail, Fields, Text};

/// A [`RawFinding`]'s bytes: two findings are equal exactly when their bytes are.
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct Packed(Box<[u8]>);

/// A finding's parts, to be packed in one order whatever they are read from: a `RawFinding`,
/// or a rule's value read in place (`deny::packed`). `remediation` is its action and the
/// writer of its parameters; the writers of fields give up (`None`) on what they cannot write,
/// and the packing with them.
pub(crate) struct Parts<'a, P, D> {
    pub(crate) account_id: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) id: &'a str,
    pub(crate) arn: &'a str,
    pub(crate) user: Option<&'a str>,
    pub(crate) message: &'a str,
    pub(crate) remediation: Option<(&'a str, P)>,
    pub(crate) details: D,
}

impl Packed {
    pub(crate) fn new(raw: &RawFinding) -> Packed {
        let params = raw.remediation.as_ref().map(|r| {
            let write = |out: &mut Out| {
                out.fields(&r.params);
                Some(())
            };
            (r.action.as_str(), write)
        });
        let parts = Parts {
            account_id: &raw.account_id,
            kind: &raw.resource.kind,
            id: &raw.resource.id,
            arn: &raw.resource.arn,
            user: raw.resource.user.as_deref(),
            message: &raw.message,
            remediation: params,
            details: |out: &mut Out| {
                out.fields(&raw.details);
                Some(())
            },
        };
        Packed::of(parts).expect("a finding's fields are written")
    }

    /// The finding of `parts`; `None` when a writer of fields gives up.
    pub(crate) fn of<P, D>(parts: Parts<'_, P, D>) -> Option<Packed>
    where
        P: FnOnce(&mut Out) -> Option<()>,
        D: FnOnce(&mut Out) -> Option<()>,
    {
        // Written into this thread's scratch buffer, then copied once into a box of its size: no
        // growing, no shrinking, no fresh memory but the finding's own.
        let mut out = Out(SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut())));
        out.0.clear();
        let packed = Self::write(parts, &mut out).map(|()| Packed(Box::from(out.0.as_slice())));
        SCRATCH.with(|s| *s.borrow_mut() = out.0);
        packed
    }

    fn write<P, D>(parts: Parts<'_, P, D>, out: &mut Out) -> Option<()>
    where
        P: FnOnce(&mut Out) -> Option<()>,
        D: FnOnce(&mut Out) -> Option<()>,
    {
        // The account id first: the stream groups by it without unpacking the rest.
        out.str(parts.account_id);
        out.str(parts.kind);
        out.str(parts.id);
        out.str(parts.arn);
        match parts.user {
            None => out.byte(0),
            Some(user) => {
                out.byte(1);
                out.str(user);
            }
        }
        out.str(parts.message);
        match parts.remediation {
            None => out.byte(0),
            Some((action, params)) => {
                out.byte(1);
                out.str(action);
                params(out)?;
            }
        }
        (parts.details)(out)
    }

    /// The finding's account id, read in place.
    pub(crate) fn account_id(&self) -> &str {
        In(&self.0).str()
    }

    pub(crate) fn unpack(&self) -> RawFinding {
        let mut input = In(&self.0);
        let account_id = input.str().to_string();
        let kind = Text::from(input.str());
        let id = input.str().to_string();
        let arn = input.str().to_string();
        let user = match input.byte() {
            0 => None,
            _ => Some(input.str().to_string()),
        };
        let message = input.str().to_string();
        let remediation = match input.byte() {
            0 => None,
            _ => Some(RawRemediation {
                action: Text::from(input.str()),
                params: input.fields(),
            }),
        };
        let details = input.fields();
        debug_assert!(input.0.is_empty(), "every byte read");
        RawFinding {
            account_id,
            resource: Resource {
                kind,
                id,
                arn,
                user,
            },
            message,
            remediation,
            details,
        }
    }
}

thread_local! {
    /// Where [`Packed::of`] writes a finding before it knows its size.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

// A detail's kind.
const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INT: u8 = 3;
const STR: u8 = 4;
const OBJECTS: u8 = 5;
const JSON: u8 = 6;

// A JSON value's kind, after `JSON`: null and the booleans as a detail's.
const UNSIGNED: u8 = 3;
const NEGATIVE: u8 = 4;
const FLOAT: u8 = 5;
const STRING: u8 = 6;
const ARRAY: u8 = 7;
const OBJECT: u8 = 8;

/// Where a finding is packed.
pub(crate) struct Out(Vec<u8>);

impl Out {
    /// The start of an object's fields: how many follow (each a [`Out::key`] and a detail).
    pub(crate) fn fields_of(&mut self, count: usize) {
        self.number(count as u64);
    }

    pub(crate) fn key(&mut self, key: &str) {
        self.str(key);
    }

    pub(crate) fn null(&mut self) {
        self.byte(NULL);
    }

    pub(crate) fn bool(&mut self, b: bool) {
        self.byte(if b { TRUE } else { FALSE });
    }

    /// A string detail, as [`Detail::Str`] is packed.
    pub(crate) fn text(&mut self, s: &str) {
        self.byte(STR);
        self.str(s);
    }

    fn byte(&mut self, b: u8) {
        self.0.push(b);
    }

    /// Seven bits to a byte, the high bit set on all but the last (LEB128).
    fn number(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.0.push((n & 0x7f) as u8 | 0x80);
            n >>= 7;
        }
        self.0.push(n as u8);
    }

    fn str(&mut self, s: &str) {
        self.number(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    fn fields(&mut self, fields: &Fields) {
        self.fields_of(fields.len());
        for (key, detail) in fields.iter() {
            self.key(key);
            self.detail(detail);
        }
    }

    pub(crate) fn detail(&mut self, detail: &Detail) {
        match detail {
            Detail::Null => self.null(),
            Detail::Bool(b) => self.bool(*b),
            Detail::Int(n) => {
                self.byte(INT);
                self.0.extend_from_slice(&n.to_le_bytes());
            }
            Detail::Str(s) => self.text(s),
            Detail::Objects(items) => {
                self.byte(OBJECTS);
                self.number(items.len() as u64);
                for item in items {
                    self.fields(item);
                }
            }
            Detail::Json(value) => {
                self.byte(JSON);
                self.json(value);
            }
        }
    }

    fn json(&mut self, value: &Value) {
        match value {
            Value::Null => self.null(),
            Value::Bool(b) => self.bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    self.byte(UNSIGNED);
                    self.0.extend_from_slice(&u.to_le_bytes());
                } else if let Some(i) = n.as_i64() {
                    self.byte(NEGATIVE);
                    self.0.extend_from_slice(&i.to_le_bytes());
                } else {
                    let f = n.as_f64().expect("a JSON number is an integer or a float");
                    self.byte(FLOAT);
                    self.0.extend_from_slice(&f.to_bits().to_le_bytes());
                }
            }
            Value::String(s) => {
                self.byte(STRING);
                self.str(s);
            }
            Value::Array(items) => {
                self.byte(ARRAY);
                self.number(items.len() as u64);
                for item in items {
                    self.json(item);
                }
            }
            Value::Object(map) => {
                self.byte(OBJECT);
                self.number(map.len() as u64);
                for (key, value) in map {
                    self.str(key);
                    self.json(value);
                }
            }
        }
    }
}

/// What is left to read. The bytes were written by [`Out`], so they are read without checks
/// beyond those `str` and slices make: a wrong byte here is a bug, and panics.
struct In<'b>(&'b [u8]);

impl<'b> In<'b> {
    fn byte(&mut self) -> u8 {
        let (b, rest) = self.0.split_first().expect("a packed byte");
        self.0 = rest;
        *b
    }

    fn number(&mut self) -> u64 {
        let mut n = 0u64;
        let mut shift = 0;
        loop {
            let b = self.byte();
            n |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return n;
            }
            shift += 7;
        }
    }

    fn eight(&mut self) -> [u8; 8] {
        let (bytes, rest) = self.0.split_at(8);
        self.0 = rest;
        bytes.try_into().expect("eight bytes")
    }

    fn str(&mut self) -> &'b str {
        let n = usize::try_from(self.number()).expect("a length that fits in memory");
        let (bytes, rest) = self.0.split_at(n);
        self.0 = rest;
        std::str::from_utf8(bytes).expect("packed from a str")
    }

    fn count(&mut self) -> usize {
        usize::try_from(self.number()).expect("a count that fits in memory")
    }

    fn fields(&mut self) -> Fields {
        let n = self.count();
        let mut members = Vec::with_capacity(n);
        for _ in 0..n {
            let key = Text::from(self.str());
            members.push((key, self.detail()));
        }
        // Packed from fields, whose keys are distinct.
        Fields::of_distinct(members)
    }

    fn detail(&mut self) -> Detail {
        match self.byte() {
            NULL => Detail::Null,
            FALSE => Detail::Bool(false),
            TRUE => Detail::Bool(true),
            INT => Detail::Int(i64::from_le_bytes(self.eight())),
            STR => Detail::Str(Text::from(self.str())),
            OBJECTS => {
                let n = self.count();
                Detail::Objects((0..n).map(|_| self.fields()).collect())
            }
            JSON => Detail::Json(Box::new(self.json())),
            other => unreachable!("a detail's kind, not {other}"),
        }
    }

    fn json(&mut self) -> Value {
        match self.byte() {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            UNSIGNED => Value::from(u64::from_le_bytes(self.eight())),
            NEGATIVE => Value::from(i64::from_le_bytes(self.eight())),
            FLOAT => {
                let f = f64::from_bits(u64::from_le_bytes(self.eight()));
                Value::Number(Number::from_f64(f).expect("packed from a finite float"))
            }
            STRING => Value::String(self.str().to_string()),
            ARRAY => {
                let n = self.count();
                Value::Array((0..n).map(|_| self.json()).collect())
            }
            OBJECT => {
                let n = self.count();
                let mut map = Map::with_capacity(n);
                for _ in 0..n {
                    let key = self.str().to_string();
                    map.insert(key, self.json());
                }
                Value::Object(map)
            }
            other => unreachable!("a JSON value's kind, not {other}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::Rng;
    use serde_json::json;

    fn pick<T: Clone>(rng: &mut Rng, items: &[T]) -> T {
        items[rng.below(items.len() as u64) as usize].clone()
    }

    fn string(rng: &mut Rng) -> String {
        pick(
            rng,
            &[
                String::new(),
                "a".into(),
                "123456789012".into(),
                "arn:aws:iam::123456789012:user/ops/alice".into(),
                "Ünïcödé ✓ \u{1F510} \"quoted\" \\ \n\t\u{0}".into(),
                "x".repeat(127),
                "y".repeat(128),
                "z".repeat(20_000),
            ],
        )
    }

    fn json_value(rng: &mut Rng, depth: u32) -> Value {
        match rng.below(if depth > 2 { 6 } else { 8 }) {
            0 => Value::Null,
            1 => json!(rng.chance(50)),
            2 => pick(rng, &[json!(0), json!(1), json!(u64::MAX), json!(i64::MAX)]),
            3 => pick(rng, &[json!(-1), json!(i64::MIN), json!(-42)]),
            4 => pick(
                rng,
                &[
                    json!(1.0),
                    json!(-0.0),
                    json!(0.1),
                    json!(1e300),
                    json!(-2.5e-300),
                    json!(f64::MAX),
                    json!(f64::MIN_POSITIVE),
                ],
            ),
            5 => json!(string(rng)),
            6 => Value::Array(
                (0..rng.below(4))
                    .map(|_| json_value(rng, depth + 1))
                    .collect(),
            ),
            _ => {
                let mut map = Map::new();
                // Keys out of order, to check that the order is kept.
                for key in ["z", "a", "m", ""].into_iter().take(rng.below(5) as usize) {
                    map.insert(key.to_string(), json_value(rng, depth + 1));
                }
                Value::Object(map)
            }
        }
    }

    fn fields(rng: &mut Rng, depth: u32) -> Fields {
        let mut fields = Fields::new();
        for key in ["user_name", "zeta", "alpha", "büro", ""]
            .into_iter()
            .take(rng.below(6) as usize)
        {
            fields.insert(key, detail(rng, depth));
        }
        fields
    }

    fn detail(rng: &mut Rng, depth: u32) -> Detail {
        match rng.below(if depth > 1 { 5 } else { 7 }) {
            0 => Detail::Null,
            1 => Detail::Bool(rng.chance(50)),
            2 => Detail::Int(pick(rng, &[0, 1, -1, i64::MAX, i64::MIN, 90])),
            3 => Detail::Str(string(rng).into()),
            4 => Detail::Json(Box::new(json_value(rng, depth))),
            5 => Detail::Objects(
                (0..1 + rng.below(3))
                    .map(|_| fields(rng, depth + 1))
                    .collect(),
            ),
            _ => Detail::from(json_value(rng, depth)),
        }
    }

    fn finding(rng: &mut Rng) -> RawFinding {
        RawFinding {
            account_id: string(rng),
            resource: Resource {
                kind: string(rng).into(),
                id: string(rng),
                arn: string(rng),
                user: rng.chance(50).then(|| string(rng)),
            },
            message: string(rng),
            remediation: rng.chance(70).then(|| RawRemediation {
                action: string(rng).into(),
                params: fields(rng, 0),
            }),
            details: fields(rng, 0),
        }
    }

    /// Everything a finding holds, numbers by their form (`1` and `1.0` differ).
    fn shown(raw: &RawFinding) -> String {
        format!("{raw:?}")
    }

    #[test]
    fn a_finding_unpacks_as_it_was_packed() {
        let mut rng = Rng::new(7);
        let mut kinds = std::collections::HashSet::new();
        for _ in 0..3000 {
            let raw = finding(&mut rng);
            for (_, d) in raw.details.iter() {
                kinds.insert(std::mem::discriminant(d));
            }
            let packed = Packed::new(&raw);
            assert_eq!(packed.account_id(), raw.account_id);
            let back = packed.unpack();
            assert_eq!(shown(&back), shown(&raw));
            // The report's text too: what the reporters make of it.
            assert_eq!(
                serde_json::to_string(&back.details).unwrap(),
                serde_json::to_string(&raw.details).unwrap()
            );
        }
        assert_eq!(kinds.len(), 6, "every kind of detail was packed");
    }

    #[test]
    fn numbers_keep_their_form() {
        for value in [
            json!(1),
            json!(1.0),
            json!(-0.0),
            json!(u64::MAX),
            json!(-1),
        ] {
            let mut details = Fields::new();
            details.insert("n", Detail::Json(Box::new(value.clone())));
            let raw = RawFinding {
                account_id: "1".into(),
                resource: Resource {
                    kind: "k".into(),
                    id: "i".into(),
                    arn: "a".into(),
                    user: None,
                },
                message: "m".into(),
                remediation: None,
                details,
            };
            let back = Packed::new(&raw).unpack();
            let Some(Detail::Json(n)) = back.details.get("n") else {
                panic!("a JSON detail");
            };
            assert_eq!(n.to_string(), value.to_string());
        }
    }
}
