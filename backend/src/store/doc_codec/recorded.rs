//! A finding serialized with the bookkeeping a store records on it — the workflow
//! status, whether a person set it, the revision — without copying the finding.
//!
//! A store decides those three values when it writes, and the stored document must
//! carry them. Cloning the finding to set them copied its raw provider document, a
//! tree of small maps: 4 % of a DynamoDB first insert's client CPU (`perf`), with
//! the matching frees. [`Recorded`] instead wraps the JSON serializer and swaps the
//! three fields as the derived `Serialize` of `Finding` passes them; the test holds
//! the bytes equal to serializing a modified clone.

use serde::ser::{Error, Impossible, Serialize, SerializeStruct, Serializer};
use shared_types::{Finding, WorkflowStatus};

/// The values a store writes over the finding's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// The status stored.
    pub workflow_status: WorkflowStatus,
    /// Whether a person set it.
    pub workflow_by_person: bool,
    /// The record's revision.
    pub revision: u64,
}

impl Recorded {
    /// `f` as JSON, with these values in place of its own.
    pub fn to_json(&self, f: &Finding) -> Result<Vec<u8>, serde_json::Error> {
        let mut out = Vec::with_capacity(4096);
        f.serialize(Overlay {
            inner: &mut serde_json::Serializer::new(&mut out),
            with: self,
        })?;
        Ok(out)
    }
}

/// The serializer `Finding` is handed: only its top-level struct is expected.
struct Overlay<'a, S> {
    inner: S,
    with: &'a Recorded,
}

/// The struct state: forwards every field but the three recorded ones.
struct OverlayStruct<'a, S> {
    inner: S,
    with: &'a Recorded,
}

impl<S: SerializeStruct> SerializeStruct for OverlayStruct<'_, S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), S::Error> {
        match key {
            "workflow_status" => self.inner.serialize_field(key, &self.with.workflow_status),
            "workflow_by_person" => self.by_person(key),
            "revision" => self.inner.serialize_field(key, &self.with.revision),
            _ => self.inner.serialize_field(key, value),
        }
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), S::Error> {
        match key {
            "workflow_by_person" => self.by_person(key),
            _ => self.inner.skip_field(key),
        }
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.inner.end()
    }
}

impl<S: SerializeStruct> OverlayStruct<'_, S> {
    /// `workflow_by_person` as `Finding` writes it: left out when false.
    fn by_person(&mut self, key: &'static str) -> Result<(), S::Error> {
        if self.with.workflow_by_person {
            self.inner.serialize_field(key, &true)
        } else {
            self.inner.skip_field(key)
        }
    }
}

fn not_a_struct<E: Error>() -> E {
    E::custom("a finding serializes as a struct")
}

/// Serializer methods a finding's top level never calls.
macro_rules! refuse {
    ($($name:ident($($arg:ty),*) -> $ok:ty;)*) => {
        $(fn $name(self, $(_: $arg),*) -> Result<$ok, S::Error> { Err(not_a_struct()) })*
    };
}

impl<'a, S: Serializer> Serializer for Overlay<'a, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Impossible<S::Ok, S::Error>;
    type SerializeTuple = Impossible<S::Ok, S::Error>;
    type SerializeTupleStruct = Impossible<S::Ok, S::Error>;
    type SerializeTupleVariant = Impossible<S::Ok, S::Error>;
    type SerializeMap = Impossible<S::Ok, S::Error>;
    type SerializeStruct = OverlayStruct<'a, S::SerializeStruct>;
    type SerializeStructVariant = Impossible<S::Ok, S::Error>;

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        Ok(OverlayStruct {
            inner: self.inner.serialize_struct(name, len)?,
            with: self.with,
        })
    }

    refuse! {
        serialize_bool(bool) -> S::Ok;
        serialize_i8(i8) -> S::Ok;
        serialize_i16(i16) -> S::Ok;
        serialize_i32(i32) -> S::Ok;
        serialize_i64(i64) -> S::Ok;
        serialize_u8(u8) -> S::Ok;
        serialize_u16(u16) -> S::Ok;
        serialize_u32(u32) -> S::Ok;
        serialize_u64(u64) -> S::Ok;
        serialize_f32(f32) -> S::Ok;
        serialize_f64(f64) -> S::Ok;
        serialize_char(char) -> S::Ok;
        serialize_str(&str) -> S::Ok;
        serialize_bytes(&[u8]) -> S::Ok;
        serialize_none() -> S::Ok;
        serialize_unit() -> S::Ok;
        serialize_unit_struct(&'static str) -> S::Ok;
        serialize_unit_variant(&'static str, u32, &'static str) -> S::Ok;
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }

    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<S::Ok, S::Error> {
        Err(not_a_struct())
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<S::Ok, S::Error> {
        Err(not_a_struct())
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<S::Ok, S::Error> {
        Err(not_a_struct())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_equals_a_modified_copy_for_every_combination_of_values() {
        let anchor = crate::demo::default_anchor();
        for (n, mut f) in crate::demo::generate(24, anchor, 5).enumerate() {
            // The incoming side varies too: a person's status already on it, or not.
            f.workflow_by_person = n % 3 == 0;
            f.revision = (n % 4) as u64;
            for (k, status) in WorkflowStatus::ALL.into_iter().enumerate() {
                for by_person in [false, true] {
                    let with = Recorded {
                        workflow_status: status,
                        workflow_by_person: by_person,
                        revision: (n * 7 + k) as u64 + 1,
                    };
                    let mut copy = f.clone();
                    copy.workflow_status = status;
                    copy.workflow_by_person = by_person;
                    copy.revision = with.revision;
                    assert_eq!(
                        String::from_utf8(with.to_json(&f).unwrap()).unwrap(),
                        serde_json::to_string(&copy).unwrap()
                    );
                }
            }
        }
    }
}
