//! The bounds a request must stay within, each with Redis's default.

/// Protocol limits for one connection. Past any of them the parser returns a
/// [`crate::ProtocolError`] and the connection is to be closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest bulk string argument (`proto-max-bulk-len`, 512 MiB).
    pub max_bulk_len_bytes: usize,
    /// Most arguments in one RESP array request (Redis allows `INT_MAX`).
    pub max_args: usize,
    /// Longest inline request or RESP length line searched for its end
    /// (Redis's `PROTO_INLINE_MAX_SIZE`, 64 KiB).
    pub max_inline_len_bytes: usize,
    /// Most unparsed bytes a client may leave buffered
    /// (`client-query-buffer-limit`, 1 GiB).
    pub max_query_buffer_bytes: usize,
    /// Most arguments per request before the client has authenticated, when
    /// a password is required (Redis: 10).
    pub unauthenticated_max_args: usize,
    /// Largest bulk argument before the client has authenticated, when a
    /// password is required (Redis: 16 KiB).
    pub unauthenticated_max_bulk_len_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len_bytes: 512 * 1024 * 1024,
            max_args: i32::MAX as usize,
            max_inline_len_bytes: 64 * 1024,
            max_query_buffer_bytes: 1024 * 1024 * 1024,
            unauthenticated_max_args: 10,
            unauthenticated_max_bulk_len_bytes: 16 * 1024,
        }
    }
}
