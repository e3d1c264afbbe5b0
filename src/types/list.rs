//! Lists: a quicklist of listpack nodes.

use super::listpack::Listpack;

/// A list value.
#[derive(Debug, Clone, PartialEq)]
pub enum ListValue {
    /// Nodes of elements, in order.
    Quicklist(Vec<Listpack>),
}

impl ListValue {
    /// The name `OBJECT ENCODING` answers with (Redis 7.0 has no other).
    pub fn encoding_name(&self) -> &'static str {
        match self {
            ListValue::Quicklist(_) => "quicklist",
        }
    }
}
