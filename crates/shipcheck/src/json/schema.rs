//! JSON Schemas from Rust types: [`Describe`] says what a type serializes to, and the macros
//! build a struct's schema from its fields' types, so a document's schema cannot drift from the
//! struct that prints it.
//!
//! - [`typed!`](crate::typed) declares a struct of the binary (`#[derive(Serialize)]`) and its
//!   schema from one field list; each field's `///` line becomes its description.
//! - [`describe!`](crate::describe) describes a struct of `shipcheck-core` field by field and
//!   destructures it exhaustively, so a field added to the core type does not compile until its
//!   schema says it.
//! - [`describe_enum!`](crate::describe_enum) describes a unit enum serialized as a string, by
//!   serializing every variant (matched exhaustively).
//!
//! The schemas use a small part of JSON Schema 2020-12: `type`, `properties`, `required`,
//! `additionalProperties`, `items`, `prefixItems`, `minItems`, `maxItems`, `enum`, `const`,
//! `anyOf`, `minimum`, `format`, `description`. `{}` (anything) marks a part the document leaves
//! open, such as a check's evidence.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Map, Value, json};

/// A type with a JSON Schema for what it serializes to.
pub trait Describe {
    /// The schema.
    fn schema() -> Value;

    /// Whether a field of this type may be left out of its object (see [`Omit`]).
    const OMITTABLE: bool = false;

    /// Whether this value is left out of its object when serialized.
    fn omitted(&self) -> bool {
        false
    }
}

/// A field present only when it has a value (serialized as the value, left out when `None`).
#[derive(Clone, Debug, Default, serde::Serialize)]
#[serde(transparent)]
pub struct Omit<T>(pub Option<T>);

impl<T: Describe> Describe for Omit<T> {
    fn schema() -> Value {
        T::schema()
    }
    const OMITTABLE: bool = true;
    fn omitted(&self) -> bool {
        self.0.is_none()
    }
}

/// An object with these properties: (name, schema, may be left out, description).
pub fn object(fields: Vec<(&str, Value, bool, &str)>) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (name, mut schema, omittable, description) in fields {
        let description = description.trim();
        if !description.is_empty()
            && let Some(o) = schema.as_object_mut()
        {
            o.insert("description".into(), Value::String(description.into()));
        }
        if !omittable {
            required.push(Value::String(name.into()));
        }
        properties.insert(name.into(), schema);
    }
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// A string with one of these values.
pub fn one_of_strings(values: &[String]) -> Value {
    json!({"type": "string", "enum": values})
}

/// The serialized text of a unit variant.
pub fn variant_name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

impl Describe for String {
    fn schema() -> Value {
        json!({"type": "string"})
    }
}

impl Describe for &str {
    fn schema() -> Value {
        json!({"type": "string"})
    }
}

impl Describe for PathBuf {
    fn schema() -> Value {
        json!({"type": "string"})
    }
}

impl Describe for bool {
    fn schema() -> Value {
        json!({"type": "boolean"})
    }
}

macro_rules! unsigned {
    ($($t:ty),*) => {$(
        impl Describe for $t {
            fn schema() -> Value {
                json!({"type": "integer", "minimum": 0})
            }
        }
    )*};
}
unsigned!(u8, u16, u32, u64, usize);

impl Describe for i64 {
    fn schema() -> Value {
        json!({"type": "integer"})
    }
}

impl Describe for f64 {
    fn schema() -> Value {
        json!({"type": "number"})
    }
}

impl Describe for jiff::Timestamp {
    fn schema() -> Value {
        json!({"type": "string", "format": "date-time"})
    }
}

impl Describe for Value {
    fn schema() -> Value {
        json!({})
    }
}

impl<T: Describe> Describe for Option<T> {
    fn schema() -> Value {
        json!({"anyOf": [T::schema(), {"type": "null"}]})
    }
}

impl<T: Describe> Describe for Vec<T> {
    fn schema() -> Value {
        json!({"type": "array", "items": T::schema()})
    }
}

impl<T: Describe> Describe for BTreeMap<String, T> {
    fn schema() -> Value {
        json!({"type": "object", "additionalProperties": T::schema()})
    }
}

impl<A: Describe, B: Describe> Describe for (A, B) {
    fn schema() -> Value {
        json!({"type": "array", "prefixItems": [A::schema(), B::schema()], "minItems": 2, "maxItems": 2})
    }
}

impl<A: Describe, B: Describe, C: Describe> Describe for (A, B, C) {
    fn schema() -> Value {
        json!({
            "type": "array",
            "prefixItems": [A::schema(), B::schema(), C::schema()],
            "minItems": 3,
            "maxItems": 3,
        })
    }
}

/// Declares a struct of the binary that serializes to JSON, and its schema, from one list of
/// fields. A field of type [`Omit`] is left out when `None` and not required; every other
/// field is always present. The `///` lines of a field become its description.
#[macro_export]
macro_rules! typed {
    (
        $(#[doc = $sd:literal])*
        pub struct $name:ident {
            $( $(#[doc = $d:literal])* $f:ident : $t:ty ),* $(,)?
        }
    ) => {
        $(#[doc = $sd])*
        #[derive(Clone, Debug, serde::Serialize)]
        pub struct $name {
            $(
                $(#[doc = $d])*
                #[serde(skip_serializing_if = "crate::json::schema::Describe::omitted")]
                pub $f: $t,
            )*
        }

        impl $crate::json::schema::Describe for $name {
            fn schema() -> serde_json::Value {
                $crate::json::schema::object(vec![$(
                    (
                        stringify!($f),
                        <$t as $crate::json::schema::Describe>::schema(),
                        <$t as $crate::json::schema::Describe>::OMITTABLE,
                        concat!($($d, " "),*),
                    ),
                )*])
            }
        }
    };
}

/// Describes a struct of `shipcheck-core` by its fields. `name: Type` takes the schema from the
/// type; `name: Type => expr` gives it (for a part left open). Fields listed after `omittable`
/// are left out when empty (the core type's `skip_serializing_if`). The struct is destructured
/// exhaustively, with each field's type checked, so the list cannot drift from the type.
#[macro_export]
macro_rules! describe {
    (
        $name:ident { $( $f:ident : $t:ty $(=> $s:expr)? ),* $(,)? }
        $(omittable [ $($o:ident),* $(,)? ])?
    ) => {
        impl $crate::json::schema::Describe for $name {
            fn schema() -> serde_json::Value {
                let omittable: &[&str] = &[$($(stringify!($o)),*)?];
                $crate::json::schema::object(vec![$(
                    (
                        stringify!($f),
                        $crate::describe!(@schema $t $(, $s)?),
                        omittable.contains(&stringify!($f)),
                        "",
                    ),
                )*])
            }
        }

        const _: fn(&$name) = |x| {
            let $name { $($f),* } = x;
            $( let _: &$t = $f; )*
        };
    };
    (@schema $t:ty) => { <$t as $crate::json::schema::Describe>::schema() };
    (@schema $t:ty, $s:expr) => { $s };
}

/// Describes a unit enum of `shipcheck-core` that serializes to a string: the values are the
/// variants serialized, and a variant added to the type does not compile until it is listed.
#[macro_export]
macro_rules! describe_enum {
    ($name:ident [ $($v:ident),* $(,)? ]) => {
        impl $crate::json::schema::Describe for $name {
            fn schema() -> serde_json::Value {
                $crate::json::schema::one_of_strings(&[
                    $($crate::json::schema::variant_name(&$name::$v)),*
                ])
            }
        }

        const _: fn($name) = |x| match x {
            $($name::$v)|* => {}
        };
    };
}
