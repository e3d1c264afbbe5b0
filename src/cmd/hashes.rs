//! Hash commands, as Redis's `t_hash.c`.

use super::table::CommandSpec;

/// This family's rows of the command table.
pub const COMMANDS: &[CommandSpec] = &[];
