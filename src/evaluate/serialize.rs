//! One serde [`Serializer`](serde::Serializer) for the trees credwarden makes straight from Rust
//! values, with no JSON in between: the engine's input values (`input.rs`) and the custom-rule
//! compiler's syntax tree (`compiled/tree.rs`). A [`Build`] says how the tree makes each kind
//! of node; the shape is serde_json's in both: a struct or a map is an object, an enum variant
//! with data is `{"Variant": data}` and a unit variant is its name, a non-negative integer is
//! unsigned, a float that is not finite is `null`, a map key is a string (a whole number or a
//! boolean becomes one), and the same key twice keeps the later value.

use serde::ser::{self, Serialize};

/// How a tree makes its nodes.
pub(crate) trait Build {
    type Node;
    /// An object's key.
    type Key;
    /// An object's members while it is made.
    type Members;
    type Error: ser::Error;

    fn null(&mut self) -> Self::Node;
    fn bool(&mut self, v: bool) -> Self::Node;
    fn unsigned(&mut self, v: u64) -> Self::Node;
    /// Only for `v < 0`.
    fn negative(&mut self, v: i64) -> Self::Node;
    /// Only for a finite `v`.
    fn float(&mut self, v: f64) -> Self::Node;
    fn string(&mut self, v: &str) -> Self::Node;
    /// A unit variant, written as its name (a key's `Active`, `Inactive`): a string that
    /// a tree may share, as it shares its field names.
    fn variant_name(&mut self, name: &'static str) -> Self::Node {
        self.string(name)
    }
    fn array(&mut self, items: Vec<Self::Node>) -> Self::Node;
    /// A struct's field name or a variant's name.
    fn name(&mut self, name: &'static str) -> Self::Key;
    /// A map key made as a node: a string, or a whole number or boolean written as one.
    fn map_key(&mut self, key: Self::Node) -> Result<Self::Key, Self::Error>;
    fn members(&mut self, len: usize) -> Self::Members;
    /// Add a member; one of an equal key replaces that key's value.
    fn put(&mut self, members: &mut Self::Members, key: Self::Key, value: Self::Node);
    fn object(&mut self, members: Self::Members) -> Self::Node;
}

/// `value` made into `build`'s tree.
pub(crate) fn to_tree<B: Build, T: Serialize + ?Sized>(
    value: &T,
    build: &mut B,
) -> Result<B::Node, B::Error> {
    value.serialize(Serializer { build })
}

fn error<E: ser::Error>(message: String) -> E {
    E::custom(message)
}

/// `{name: value}`, as serde_json writes an enum variant with data.
fn variant<B: Build>(build: &mut B, name: &'static str, value: B::Node) -> B::Node {
    let mut members = build.members(1);
    let key = build.name(name);
    build.put(&mut members, key, value);
    build.object(members)
}

struct Serializer<'b, B> {
    build: &'b mut B,
}

impl<B: Build> Serializer<'_, B> {
    fn signed(self, v: i64) -> Result<B::Node, B::Error> {
        Ok(match u64::try_from(v) {
            Ok(u) => self.build.unsigned(u),
            Err(_) => self.build.negative(v),
        })
    }

    fn float(self, v: f64) -> Result<B::Node, B::Error> {
        Ok(if v.is_finite() {
            self.build.float(v)
        } else {
            self.build.null()
        })
    }
}

impl<'b, B: Build> ser::Serializer for Serializer<'b, B> {
    type Ok = B::Node;
    type Error = B::Error;
    type SerializeSeq = Seq<'b, B>;
    type SerializeTuple = Seq<'b, B>;
    type SerializeTupleStruct = Seq<'b, B>;
    type SerializeTupleVariant = Seq<'b, B>;
    type SerializeMap = Map<'b, B>;
    type SerializeStruct = Map<'b, B>;
    type SerializeStructVariant = Map<'b, B>;

    fn serialize_bool(self, v: bool) -> Result<B::Node, B::Error> {
        Ok(self.build.bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<B::Node, B::Error> {
        self.signed(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<B::Node, B::Error> {
        self.signed(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<B::Node, B::Error> {
        self.signed(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<B::Node, B::Error> {
        self.signed(v)
    }
    fn serialize_i128(self, v: i128) -> Result<B::Node, B::Error> {
        if let Ok(u) = u64::try_from(v) {
            Ok(self.build.unsigned(u))
        } else if let Ok(i) = i64::try_from(v) {
            Ok(self.build.negative(i))
        } else {
            Err(error(format!("the number {v} is out of range")))
        }
    }
    fn serialize_u8(self, v: u8) -> Result<B::Node, B::Error> {
        Ok(self.build.unsigned(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<B::Node, B::Error> {
        Ok(self.build.unsigned(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<B::Node, B::Error> {
        Ok(self.build.unsigned(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<B::Node, B::Error> {
        Ok(self.build.unsigned(v))
    }
    fn serialize_u128(self, v: u128) -> Result<B::Node, B::Error> {
        match u64::try_from(v) {
            Ok(u) => Ok(self.build.unsigned(u)),
            Err(_) => Err(error(format!("the number {v} is out of range"))),
        }
    }
    fn serialize_f32(self, v: f32) -> Result<B::Node, B::Error> {
        self.float(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result<B::Node, B::Error> {
        self.float(v)
    }
    fn serialize_char(self, v: char) -> Result<B::Node, B::Error> {
        Ok(self.build.string(v.encode_utf8(&mut [0; 4])))
    }
    fn serialize_str(self, v: &str) -> Result<B::Node, B::Error> {
        Ok(self.build.string(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<B::Node, B::Error> {
        let items = v.iter().map(|b| self.build.unsigned((*b).into())).collect();
        Ok(self.build.array(items))
    }
    fn serialize_none(self) -> Result<B::Node, B::Error> {
        Ok(self.build.null())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<B::Node, B::Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<B::Node, B::Error> {
        Ok(self.build.null())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<B::Node, B::Error> {
        Ok(self.build.null())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<B::Node, B::Error> {
        Ok(self.build.variant_name(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<B::Node, B::Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        name: &'static str,
        value: &T,
    ) -> Result<B::Node, B::Error> {
        let value = to_tree(value, self.build)?;
        Ok(variant(self.build, name, value))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq<'b, B>, B::Error> {
        Ok(Seq {
            build: self.build,
            items: Vec::with_capacity(len.unwrap_or(0)),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'b, B>, B::Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Seq<'b, B>, B::Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        name: &'static str,
        len: usize,
    ) -> Result<Seq<'b, B>, B::Error> {
        let mut seq = self.serialize_seq(Some(len))?;
        seq.variant = Some(name);
        Ok(seq)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Map<'b, B>, B::Error> {
        let members = self.build.members(len.unwrap_or(0));
        Ok(Map {
            build: self.build,
            members,
            next_key: None,
            variant: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Map<'b, B>, B::Error> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        name: &'static str,
        len: usize,
    ) -> Result<Map<'b, B>, B::Error> {
        let mut map = self.serialize_map(Some(len))?;
        map.variant = Some(name);
        Ok(map)
    }
}

/// An array (or a tuple variant's `{"Variant": [...]}`) being made.
pub(crate) struct Seq<'b, B: Build> {
    build: &'b mut B,
    items: Vec<B::Node>,
    variant: Option<&'static str>,
}

impl<B: Build> Seq<'_, B> {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), B::Error> {
        let item = to_tree(value, &mut *self.build)?;
        self.items.push(item);
        Ok(())
    }

    fn finish(self) -> B::Node {
        let array = self.build.array(self.items);
        match self.variant {
            Some(name) => variant(self.build, name, array),
            None => array,
        }
    }
}

/// The four serde traits of a sequence differ only in name.
macro_rules! sequence {
    ($($kind:ident :: $add:ident),*) => {$(
        impl<B: Build> ser::$kind for Seq<'_, B> {
            type Ok = B::Node;
            type Error = B::Error;
            fn $add<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), B::Error> {
                self.push(value)
            }
            fn end(self) -> Result<B::Node, B::Error> {
                Ok(self.finish())
            }
        }
    )*};
}

sequence!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// An object (or a struct variant's `{"Variant": {...}}`) being made.
pub(crate) struct Map<'b, B: Build> {
    build: &'b mut B,
    members: B::Members,
    next_key: Option<B::Key>,
    variant: Option<&'static str>,
}

impl<B: Build> Map<'_, B> {
    fn member<T: Serialize + ?Sized>(&mut self, key: B::Key, value: &T) -> Result<(), B::Error> {
        let value = to_tree(value, &mut *self.build)?;
        self.build.put(&mut self.members, key, value);
        Ok(())
    }

    fn finish(self) -> B::Node {
        let object = self.build.object(self.members);
        match self.variant {
            Some(name) => variant(self.build, name, object),
            None => object,
        }
    }
}

impl<B: Build> ser::SerializeMap for Map<'_, B> {
    type Ok = B::Node;
    type Error = B::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), B::Error> {
        let key = to_tree(key, &mut *self.build)?;
        self.next_key = Some(self.build.map_key(key)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), B::Error> {
        let key = self
            .next_key
            .take()
            .ok_or_else(|| error("a map value without its key".into()))?;
        self.member(key, value)
    }
    fn end(self) -> Result<B::Node, B::Error> {
        Ok(self.finish())
    }
}

/// A struct and a struct variant differ only in name.
macro_rules! structure {
    ($($kind:ident),*) => {$(
        impl<B: Build> ser::$kind for Map<'_, B> {
            type Ok = B::Node;
            type Error = B::Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                name: &'static str,
                value: &T,
            ) -> Result<(), B::Error> {
                let key = self.build.name(name);
                self.member(key, value)
            }
            fn end(self) -> Result<B::Node, B::Error> {
                Ok(self.finish())
            }
        }
    )*};
}

structure!(SerializeStruct, SerializeStructVariant);

/// A value of every shape serde can give a serializer, to compare a [`Build`] with serde_json.
#[cfg(test)]
pub(crate) fn every_shape() -> impl Serialize {
    use std::collections::BTreeMap;

    #[derive(serde::Serialize)]
    enum Shape {
        Unit,
        Newtype(i32),
        Tuple(u8, String),
        Struct { a: Option<f64>, b: Vec<i64> },
    }
    #[derive(serde::Serialize)]
    struct Unit;
    #[derive(serde::Serialize)]
    struct Wrapper(u16);
    #[derive(serde::Serialize)]
    struct All {
        negative: i64,
        positive: i64,
        unsigned: u64,
        big: i128,
        float: f64,
        whole_float: f64,
        infinite: f64,
        nan: f32,
        flag: bool,
        letter: char,
        none: Option<String>,
        unit: (),
        unit_struct: Unit,
        wrapper: Wrapper,
        pair: (i8, &'static str),
        shapes: Vec<Shape>,
        by_number: BTreeMap<u32, bool>,
        by_flag: BTreeMap<bool, u8>,
        empty: BTreeMap<String, String>,
        nested: serde_json::Value,
    }
    All {
        negative: -5,
        positive: 5,
        unsigned: u64::MAX,
        big: -(1 << 40),
        float: 2.5,
        whole_float: 3.0,
        infinite: f64::INFINITY,
        nan: f32::NAN,
        flag: true,
        letter: 'é',
        none: None,
        unit: (),
        unit_struct: Unit,
        wrapper: Wrapper(7),
        pair: (-1, "x"),
        shapes: vec![
            Shape::Unit,
            Shape::Newtype(-3),
            Shape::Tuple(1, "t".into()),
            Shape::Struct {
                a: Some(0.1),
                b: vec![1, -1],
            },
        ],
        by_number: BTreeMap::from([(3, true), (10, false)]),
        by_flag: BTreeMap::from([(false, 1)]),
        empty: BTreeMap::new(),
        nested: serde_json::json!({"a": [1, -2, 3.5, null, {"b": {}}], "c": ""}),
    }
}
