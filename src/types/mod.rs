//! The collection types' data structures, apart from the commands over them
//! (those live in `cmd/`): each file is one type's API, as the "type API"
//! half of Redis's `t_*.c` files.

pub mod hash;
pub mod list;
pub mod listpack;
pub mod set;
pub mod zset;
