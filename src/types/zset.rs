//! Sorted sets: member-score pairs in a listpack while small.

use super::listpack::Listpack;

/// A sorted set value.
#[derive(Debug, Clone, PartialEq)]
pub enum ZSetValue {
    /// Members and scores alternating, ordered by score then member.
    Listpack(Listpack),
}

impl ZSetValue {
    /// The name `OBJECT ENCODING` answers with.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            ZSetValue::Listpack(_) => "listpack",
        }
    }
}
