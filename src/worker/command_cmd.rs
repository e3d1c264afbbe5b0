//! COMMAND: the command table as clients see it, derived from the table and
//! from Redis's description of each command (`cmd::docs`). Only commands
//! Shoal implements appear, with the subcommands it implements.

use crate::client::Client;
use crate::cmd::args::is;
use crate::cmd::docs;
use crate::cmd::table::SubcommandSpec;
use crate::cmd::{self, CommandSpec, COMMANDS};
use crate::glob::glob_match;
use shoal_protocol::ReplyEncoder;

/// A command or subcommand named as `COMMAND INFO` and `COMMAND DOCS` take
/// it: `get` or `config|get`.
#[derive(Clone, Copy)]
enum Named {
    Command(&'static CommandSpec),
    Subcommand(&'static CommandSpec, &'static SubcommandSpec),
}

/// Resolves a name as Redis's `lookupCommandBySds` does: one level of
/// subcommands at most, and only under a container command.
fn find_named(name: &[u8]) -> Option<Named> {
    let mut parts = name.splitn(3, |&byte| byte == b'|');
    let command = cmd::lookup(parts.next()?)?;
    let Some(sub_name) = parts.next() else {
        return Some(Named::Command(command));
    };
    if parts.next().is_some() {
        return None;
    }
    super::dispatch::find_subcommand(command, sub_name).map(|sub| Named::Subcommand(command, sub))
}

fn write_info(out: &mut ReplyEncoder, named: Named) {
    match named {
        Named::Command(spec) => docs::write_info(out, spec),
        Named::Subcommand(spec, sub) => docs::write_subcommand_info(out, spec, sub),
    }
}

fn write_docs(out: &mut ReplyEncoder, named: Named) {
    match named {
        Named::Command(spec) => docs::write_docs(out, spec),
        Named::Subcommand(spec, sub) => docs::write_subcommand_docs(out, spec, sub),
    }
}

/// `COMMAND INFO [name ...]`: every command without names; an unknown
/// name's entry is a null, as Redis's `addReplyNull`.
fn info(client: &mut Client, names: &[&[u8]]) {
    if names.is_empty() {
        return client.reply_now(|out| {
            out.array(COMMANDS.len());
            COMMANDS.iter().for_each(|spec| docs::write_info(out, spec));
        });
    }
    client.reply_now(|out| {
        out.array(names.len());
        for name in names {
            match find_named(name) {
                Some(named) => write_info(out, named),
                None => out.null(),
            }
        }
    });
}

/// `COMMAND DOCS [name ...]`: a map of name to documentation, every command
/// without names; unknown names are left out.
fn docs(client: &mut Client, names: &[&[u8]]) {
    if names.is_empty() {
        return client.reply_now(|out| {
            out.map(COMMANDS.len());
            COMMANDS.iter().for_each(|spec| docs::write_docs(out, spec));
        });
    }
    let found = names.iter().filter_map(|name| find_named(name));
    let count = found.clone().count();
    client.reply_now(|out| {
        out.map(count);
        found.for_each(|named| write_docs(out, named));
    });
}

/// A `COMMAND LIST FILTERBY` condition.
#[derive(Clone, Copy)]
enum ListFilter<'a> {
    /// Commands of a module: Shoal loads none.
    Module,
    /// Commands in an ACL category, named without the `@`.
    AclCategory(&'a [u8]),
    /// Full names (`config|get`) matching a glob, any case.
    Pattern(&'a [u8]),
}

impl ListFilter<'_> {
    fn admits(self, full_name: &str, categories: &[&str]) -> bool {
        match self {
            ListFilter::Module => false,
            ListFilter::AclCategory(wanted) => categories.iter().any(|category| {
                category
                    .strip_prefix('@')
                    .is_some_and(|category| category.as_bytes().eq_ignore_ascii_case(wanted))
            }),
            ListFilter::Pattern(pattern) => glob_match(pattern, full_name.as_bytes(), true),
        }
    }
}

/// `COMMAND LIST [FILTERBY MODULE name|ACLCAT category|PATTERN pattern]`:
/// names of commands and their subcommands (`config|get`).
fn list(client: &mut Client, options: &[&[u8]]) {
    let filter = match options {
        [] => None,
        [filterby, kind, value] if is(filterby, "FILTERBY") => {
            if is(kind, "MODULE") {
                Some(ListFilter::Module)
            } else if is(kind, "ACLCAT") {
                Some(ListFilter::AclCategory(value))
            } else if is(kind, "PATTERN") {
                Some(ListFilter::Pattern(value))
            } else {
                return client.reply_now(|out| out.error(b"ERR syntax error"));
            }
        }
        _ => return client.reply_now(|out| out.error(b"ERR syntax error")),
    };
    let admits =
        |name: &str, categories: &[&str]| filter.is_none_or(|f| f.admits(name, categories));
    let mut names: Vec<String> = Vec::new();
    for spec in COMMANDS {
        if admits(spec.name, spec.categories) {
            names.push(spec.name.to_string());
        }
        for sub in spec.subcommands {
            let name = docs::full_name(spec, sub);
            if admits(&name, docs::sub_docs_of(spec, sub).categories) {
                names.push(name);
            }
        }
    }
    client.reply_now(|out| {
        out.array(names.len());
        names.iter().for_each(|name| out.bulk(name.as_bytes()));
    });
}

/// `COMMAND GETKEYS command [arg ...]`: the keys the table finds.
fn getkeys(client: &mut Client, target: &[&[u8]]) {
    let Some(spec) = target.first().and_then(|name| cmd::lookup(name)) else {
        return client.reply_now(|out| out.error(b"ERR Invalid command specified"));
    };
    if !CommandSpec::arity_ok(spec.arity, target.len()) {
        return client
            .reply_now(|out| out.error(b"ERR Invalid number of arguments specified for command"));
    }
    let positions = super::dispatch::command_key_positions(spec, target);
    if positions.is_empty() {
        return client.reply_now(|out| out.error(b"ERR The command has no key arguments"));
    }
    client.reply_now(|out| {
        out.array(positions.len());
        positions
            .iter()
            .for_each(|&position| out.bulk(target[position]));
    });
}

/// `COMMAND HELP`, word for word Redis 7.0's but for GETKEYSANDFLAGS, which
/// Shoal does not implement.
const HELP_LINES: &[&str] = &[
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "HELP",
    "    Prints this help.",
];

/// `COMMAND [COUNT|LIST|INFO|DOCS|GETKEYS|HELP ...]`; dispatch has checked
/// the subcommand and its arity.
pub fn command(client: &mut Client, args: &[&[u8]]) {
    let Some(&sub) = args.get(1) else {
        return info(client, &[]);
    };
    let rest = &args[2..];
    if is(sub, "COUNT") {
        client.reply_now(|out| out.integer(COMMANDS.len() as i64));
    } else if is(sub, "LIST") {
        list(client, rest);
    } else if is(sub, "INFO") {
        info(client, rest);
    } else if is(sub, "DOCS") {
        docs(client, rest);
    } else if is(sub, "GETKEYS") {
        getkeys(client, rest);
    } else {
        client.reply_help(HELP_LINES);
    }
}
