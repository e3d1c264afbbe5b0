//! Values stored under keys.

use crate::types::hash::HashValue;
use crate::types::list::ListValue;
use crate::types::set::SetValue;
use crate::types::zset::ZSetValue;

/// A stored value, 24 bytes: collections larger than 16 bytes are boxed.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string, kept as an integer when it is the canonical text of one
    /// (Redis's `int` encoding).
    Str(StrValue),
    /// A hash, unboxed: its 16 bytes fit beside the string variant's tag,
    /// so a small hash costs one allocation (its listpack), not two.
    Hash(HashValue),
    /// A list.
    List(Box<ListValue>),
    /// A set.
    Set(Box<SetValue>),
    /// A sorted set.
    ZSet(Box<ZSetValue>),
}

impl Value {
    /// The name `TYPE` answers with.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Hash(_) => "hash",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }

    /// The name `OBJECT ENCODING` answers with.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Value::Str(StrValue::Int(_)) => "int",
            Value::Str(StrValue::Raw(bytes)) if bytes.len() <= EMBSTR_MAX_BYTES => "embstr",
            Value::Str(StrValue::Raw(_) | StrValue::Edited(_)) => "raw",
            Value::Hash(hash) => hash.encoding_name(),
            Value::List(list) => list.encoding_name(),
            Value::Set(set) => set.encoding_name(),
            Value::ZSet(zset) => zset.encoding_name(),
        }
    }

    /// A string value from client bytes, integer-encoded when possible.
    pub fn string(bytes: &[u8]) -> Value {
        Value::Str(StrValue::from_bytes(bytes))
    }
}

/// Redis stores strings up to 44 bytes as `embstr`.
const EMBSTR_MAX_BYTES: usize = 44;
/// Longest text Redis considers for the integer encoding.
const INT_TEXT_MAX_BYTES: usize = 20;

/// A string value.
#[derive(Debug, Clone, PartialEq)]
pub enum StrValue {
    /// The string is the decimal text of this integer.
    Int(i64),
    /// Any other bytes, exactly sized: a boxed slice rather than a Vec
    /// keeps every entry 8 bytes smaller (1,000,000 keys: 8 MB).
    Raw(Box<[u8]>),
    /// Bytes built or changed in place (APPEND, SETRANGE), which Redis
    /// keeps in its `raw` encoding whatever their length; growable, and
    /// boxed so this rarer case does not widen every value.
    #[allow(clippy::box_collection)] // the box is the point: 8 bytes, not 24
    Edited(Box<Vec<u8>>),
}

impl StrValue {
    /// Stores `bytes`, as an integer when it is canonical decimal text.
    pub fn from_bytes(bytes: &[u8]) -> StrValue {
        if bytes.len() <= INT_TEXT_MAX_BYTES {
            if let Some(value) = shoal_protocol::parse_i64(bytes) {
                return StrValue::Int(value);
            }
        }
        StrValue::Raw(bytes.into())
    }

    /// The length of the string's text.
    pub fn len(&self) -> usize {
        match self {
            StrValue::Int(value) => itoa::Buffer::new().format(*value).len(),
            StrValue::Raw(bytes) => bytes.len(),
            StrValue::Edited(bytes) => bytes.len(),
        }
    }

    /// Calls `f` with the string's bytes, formatting an integer on the stack.
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            StrValue::Int(value) => f(itoa::Buffer::new().format(*value).as_bytes()),
            StrValue::Raw(bytes) => f(bytes),
            StrValue::Edited(bytes) => f(bytes),
        }
    }

    /// The string's bytes, copied.
    pub fn to_vec(&self) -> Vec<u8> {
        self.with_bytes(<[u8]>::to_vec)
    }

    /// The string as raw bytes for in-place edits (APPEND, SETRANGE).
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        let bytes = match std::mem::replace(self, StrValue::Int(0)) {
            StrValue::Int(value) => Box::new(itoa::Buffer::new().format(value).as_bytes().to_vec()),
            StrValue::Raw(bytes) => Box::new(bytes.into_vec()),
            StrValue::Edited(bytes) => bytes,
        };
        *self = StrValue::Edited(bytes);
        match self {
            StrValue::Edited(bytes) => bytes,
            _ => unreachable!("set to Edited above"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Value;
    use crate::shard::Entry;

    #[test]
    fn entries_stay_within_their_memory_budget() {
        // Each byte here is a megabyte per million keys.
        assert!(
            std::mem::size_of::<Value>() <= 24,
            "{}",
            std::mem::size_of::<Value>()
        );
        assert!(
            std::mem::size_of::<Entry>() <= 32,
            "{}",
            std::mem::size_of::<Entry>()
        );
    }
}
