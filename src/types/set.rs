//! Sets: sorted integers while small and all integers.

/// A set value.
#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    /// Sorted distinct integers (Redis's intset).
    Intset(Vec<i64>),
}

impl SetValue {
    /// The name `OBJECT ENCODING` answers with.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            SetValue::Intset(_) => "intset",
        }
    }
}
