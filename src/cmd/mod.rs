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
    if let Some(find_keys) = spec.find_keys {
        return find_keys(args);
    }
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

/// The keys that follow a key count at `numkeys_at` (`LMPOP numkeys key
/// ...`, `ZUNION numkeys key ...`). A count that is not a positive integer,
/// or that runs past the arguments, gives no keys: the handler then replies
/// with Redis's error.
#[allow(dead_code)] // for the family tables, as they gain rows
pub fn keys_after_numkeys(args: &[&[u8]], numkeys_at: usize) -> smallvec::SmallVec<[usize; 8]> {
    let first = numkeys_at + 1;
    match args
        .get(numkeys_at)
        .and_then(|count| shoal_protocol::parse_i64(count))
    {
        Some(count) if count > 0 && (count as u64) <= (args.len().saturating_sub(first)) as u64 => {
            (first..first + count as usize).collect()
        }
        _ => smallvec::SmallVec::new(),
    }
}

/// A destination key at 1, then the keys after a count at 2
/// (`ZUNIONSTORE destination numkeys key ...`).
#[allow(dead_code)] // for the family tables, as they gain rows
pub fn destination_and_keys_after_numkeys(args: &[&[u8]]) -> smallvec::SmallVec<[usize; 8]> {
    let mut positions = keys_after_numkeys(args, 2);
    if args.len() > 1 {
        positions.insert(0, 1);
    }
    positions
}

#[cfg(test)]
mod key_tests {
    use super::*;

    #[test]
    fn keys_follow_their_count() {
        let args: Vec<&[u8]> = vec![b"LMPOP", b"2", b"a", b"b", b"LEFT"];
        assert_eq!(keys_after_numkeys(&args, 1).as_slice(), [2, 3]);
        let args: Vec<&[u8]> = vec![b"LMPOP", b"5", b"a", b"LEFT"];
        assert!(keys_after_numkeys(&args, 1).is_empty());
        let args: Vec<&[u8]> = vec![b"LMPOP", b"x", b"a"];
        assert!(keys_after_numkeys(&args, 1).is_empty());
        let args: Vec<&[u8]> = vec![
            b"ZUNIONSTORE",
            b"d",
            b"2",
            b"a",
            b"b",
            b"WEIGHTS",
            b"1",
            b"2",
        ];
        assert_eq!(
            destination_and_keys_after_numkeys(&args).as_slice(),
            [1, 3, 4]
        );
    }
}
