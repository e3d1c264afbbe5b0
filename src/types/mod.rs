//! The collection types' data structures, apart from the commands over them
//! (those live in `cmd/`): each file is one type's API, as the "type API"
//! half of Redis's `t_*.c` files.

// The collection families are being built on top of these types; until
// their commands construct every variant, some items are unused.
#![allow(dead_code)]

pub mod hash;
pub mod list;
pub mod listpack;
pub mod set;
pub mod zset;
