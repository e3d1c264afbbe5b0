//! List commands, as Redis's `t_list.c`.

use super::table::CommandSpec;

/// This family's rows of the command table.
pub const COMMANDS: &[CommandSpec] = &[];
