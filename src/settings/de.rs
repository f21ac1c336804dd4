//! A serde deserializer over `serde_yaml::Value` that remembers where it is,
//! so unknown keys and type errors name their full key path
//! (`runtime.retry.bogus: unknown field, ...`).
//!
//! It is deliberately a little lenient with scalars: strings accept numbers
//! and booleans (`CEH__KAFKA__GROUP_ID=123` parses as a number), numbers and
//! booleans accept strings that parse as such, and a null or empty section
//! deserializes as an empty mapping (all defaults).

use serde::de::{
    self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Unexpected, Visitor,
};
use serde_yaml::{mapping, Value};

use super::collect::DeError;
use super::tree::{key_name, KeyPath};

/// Deserializer for one node of the tree.
pub(super) struct ValueDe<'de> {
    value: &'de Value,
    path: KeyPath,
}

impl<'de> ValueDe<'de> {
    pub(super) fn new(value: &'de Value, path: KeyPath) -> Self {
        Self { value, path }
    }

    fn unexpected(&self) -> Unexpected<'de> {
        match self.value {
            Value::Null => Unexpected::Unit,
            Value::Bool(b) => Unexpected::Bool(*b),
            Value::Number(_) => Unexpected::Other("number"),
            Value::String(s) => Unexpected::Str(s),
            Value::Sequence(_) => Unexpected::Seq,
            Value::Mapping(_) => Unexpected::Map,
            Value::Tagged(_) => Unexpected::Other("tagged value"),
        }
    }

    fn visit_mapping<V: Visitor<'de>>(
        map: &'de mapping::Mapping,
        path: KeyPath,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let mut access = MapDe {
            iter: map.iter(),
            value: None,
            path,
        };
        let result = visitor.visit_map(&mut access)?;
        match access.iter.len() {
            0 => Ok(result),
            rest => Err(de::Error::invalid_length(
                map.len() - rest,
                &"fewer entries",
            )),
        }
    }
}

/// Numbers and booleans also accept strings that parse as such (values
/// from the environment that YAML would have changed, like `0.50`).
macro_rules! parse_strings {
    ($($method:ident => $ty:ty, $visit:ident;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            match self.value {
                Value::String(s) => match s.trim().parse::<$ty>() {
                    Ok(parsed) => visitor.$visit(parsed),
                    Err(_) => Err(de::Error::invalid_type(Unexpected::Str(s), &visitor)),
                },
                _ => self.deserialize_any(visitor),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for ValueDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => visitor.visit_u64(u),
                (_, Some(i), _) => visitor.visit_i64(i),
                (_, _, f) => visitor.visit_f64(f.unwrap_or(f64::NAN)),
            },
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Sequence(items) => {
                let mut access = SeqDe {
                    iter: items.iter().enumerate(),
                    path: self.path,
                };
                let result = visitor.visit_seq(&mut access)?;
                match access.iter.len() {
                    0 => Ok(result),
                    rest => Err(de::Error::invalid_length(
                        items.len() - rest,
                        &"fewer elements",
                    )),
                }
            }
            Value::Mapping(map) => Self::visit_mapping(map, self.path, visitor),
            Value::Tagged(tagged) => Self::new(&tagged.value, self.path).deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Bool(b) => visitor.visit_string(b.to_string()),
            Value::Number(n) => visitor.visit_string(n.to_string()),
            Value::Tagged(tagged) => Self::new(&tagged.value, self.path).deserialize_str(visitor),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        static EMPTY: std::sync::LazyLock<mapping::Mapping> =
            std::sync::LazyLock::new(mapping::Mapping::new);
        match self.value {
            Value::Null => Self::visit_mapping(&EMPTY, self.path, visitor),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.value {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            Value::Mapping(map) if map.len() == 1 => {
                let (variant, value) = map.iter().next().expect("length checked");
                visitor.visit_enum(EnumDe {
                    variant,
                    value,
                    path: self.path,
                })
            }
            Value::Tagged(tagged) => {
                Self::new(&tagged.value, self.path).deserialize_enum(_name, _variants, visitor)
            }
            _ => Err(de::Error::invalid_type(
                self.unexpected(),
                &"an enum variant",
            )),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    parse_strings! {
        deserialize_bool => bool, visit_bool;
        deserialize_i8 => i8, visit_i8;
        deserialize_i16 => i16, visit_i16;
        deserialize_i32 => i32, visit_i32;
        deserialize_i64 => i64, visit_i64;
        deserialize_u8 => u8, visit_u8;
        deserialize_u16 => u16, visit_u16;
        deserialize_u32 => u32, visit_u32;
        deserialize_u64 => u64, visit_u64;
        deserialize_f32 => f32, visit_f32;
        deserialize_f64 => f64, visit_f64;
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char bytes byte_buf seq tuple tuple_struct unit_struct
    }
}

/// Walks a mapping; errors get the path of the entry being read.
struct MapDe<'de> {
    iter: mapping::Iter<'de>,
    value: Option<(&'de Value, KeyPath)>,
    path: KeyPath,
}

impl<'de> MapAccess<'de> for MapDe<'de> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, value)) = self.iter.next() else {
            return Ok(None);
        };
        let path = self.path.key(key_name(key));
        let parsed = seed
            .deserialize(ValueDe::new(key, path.clone()))
            .map_err(|e| e.at(&path))?;
        self.value = Some((value, path));
        Ok(Some(parsed))
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, DeError> {
        let (value, path) = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("value requested before key"))?;
        seed.deserialize(ValueDe::new(value, path.clone()))
            .map_err(|e| e.at(&path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// Walks a sequence; errors get the path of the element being read.
struct SeqDe<'de> {
    iter: std::iter::Enumerate<std::slice::Iter<'de, Value>>,
    path: KeyPath,
}

impl<'de> SeqAccess<'de> for SeqDe<'de> {
    type Error = DeError;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, DeError> {
        let Some((index, value)) = self.iter.next() else {
            return Ok(None);
        };
        let path = self.path.index(index);
        seed.deserialize(ValueDe::new(value, path.clone()))
            .map(Some)
            .map_err(|e| e.at(&path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// An externally tagged enum written as a single-entry mapping.
struct EnumDe<'de> {
    variant: &'de Value,
    value: &'de Value,
    path: KeyPath,
}

impl<'de> de::EnumAccess<'de> for EnumDe<'de> {
    type Error = DeError;
    type Variant = ValueDe<'de>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, ValueDe<'de>), DeError> {
        let path = self.path.key(key_name(self.variant));
        let variant = seed
            .deserialize(ValueDe::new(self.variant, path.clone()))
            .map_err(|e| e.at(&path))?;
        Ok((variant, ValueDe::new(self.value, path)))
    }
}

impl<'de> de::VariantAccess<'de> for ValueDe<'de> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        let path = self.path.clone();
        de::Deserialize::deserialize(self).map_err(|e: DeError| e.at(&path))
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, DeError> {
        let path = self.path.clone();
        seed.deserialize(self).map_err(|e| e.at(&path))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        let path = self.path.clone();
        de::Deserializer::deserialize_seq(self, visitor).map_err(|e| e.at(&path))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let path = self.path.clone();
        de::Deserializer::deserialize_map(self, visitor).map_err(|e| e.at(&path))
    }
}
