//! The command table and the command families.
//!
//! One declarative table states each command's name, arity, flags and key
//! positions, and how it executes; lookup, arity checks, routing to shards,
//! key locking and `COMMAND` output are all derived from it.

pub mod args;
pub mod ctx;
pub mod hashes;
pub mod keys;
pub mod lists;
pub mod sets;
pub mod strings;
pub mod table;
pub mod zsets;

pub use ctx::{errors, ShardCtx};
pub use table::{lookup, CommandSpec, Exec, FanOut, Local, COMMANDS};

/// The keys a command touches: (argument index, database override). The
/// database override is COPY's `DB n` target; everything else uses the
/// client's selected database.
pub fn key_positions(spec: &CommandSpec, args: &[&[u8]]) -> smallvec::SmallVec<[usize; 8]> {
    let mut positions = smallvec::SmallVec::new();
    if spec.first_key <= 0 {
        return positions;
    }
    let argc = args.len() as i32;
    let last = if spec.last_key < 0 {
        argc + spec.last_key
    } else {
        spec.last_key.min(argc - 1)
    };
    let mut index = spec.first_key;
    while index <= last {
        positions.push(index as usize);
        index += spec.key_step.max(1);
    }
    positions
}
