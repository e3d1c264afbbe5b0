//! Hashes: field-value pairs in a listpack while small.

use super::listpack::Listpack;

/// A hash value.
#[derive(Debug, Clone, PartialEq)]
pub enum HashValue {
    /// Fields and values alternating, in insertion order.
    Listpack(Listpack),
}

impl HashValue {
    /// The name `OBJECT ENCODING` answers with.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            HashValue::Listpack(_) => "listpack",
        }
    }
}
