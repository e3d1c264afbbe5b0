//! COMMAND: the command table as clients see it, derived from the table.

use crate::client::Client;
use crate::cmd::args::is;
use crate::cmd::{self, CommandSpec, COMMANDS};
use shoal_protocol::ReplyEncoder;

fn write_info(out: &mut ReplyEncoder, spec: &CommandSpec) {
    out.array(10);
    out.bulk(spec.name.as_bytes());
    out.integer(i64::from(spec.arity));
    out.set(spec.flags.len());
    spec.flags
        .iter()
        .for_each(|flag| out.simple_string(flag.as_bytes()));
    out.integer(i64::from(spec.first_key));
    out.integer(i64::from(spec.last_key));
    out.integer(i64::from(spec.key_step));
    out.set(spec.categories.len());
    spec.categories
        .iter()
        .for_each(|category| out.simple_string(category.as_bytes()));
    out.set(0);
    out.array(0);
    out.array(spec.subcommands.len());
    for sub in spec.subcommands {
        out.array(10);
        out.bulk(format!("{}|{}", spec.name, sub.name).as_bytes());
        out.integer(i64::from(sub.arity));
        out.set(0);
        out.integer(i64::from(sub.first_key));
        out.integer(i64::from(sub.first_key));
        out.integer(i64::from(sub.first_key.min(1)));
        out.set(0);
        out.set(0);
        out.array(0);
        out.array(0);
    }
}

fn write_docs(out: &mut ReplyEncoder, spec: &CommandSpec) {
    out.bulk(spec.name.as_bytes());
    out.map(3);
    out.bulk(b"summary");
    out.bulk(spec.summary.as_bytes());
    out.bulk(b"group");
    out.bulk(spec.group.as_bytes());
    out.bulk(b"complexity");
    out.bulk(b"");
}

/// `COMMAND [COUNT|LIST|INFO|DOCS|GETKEYS ...]`
pub fn command(client: &mut Client, args: &[&[u8]]) {
    if args.len() == 1 {
        return client.reply_now(|out| {
            out.array(COMMANDS.len());
            COMMANDS.iter().for_each(|spec| write_info(out, spec));
        });
    }
    let sub = args[1];
    if is(sub, "COUNT") {
        client.reply_now(|out| out.integer(COMMANDS.len() as i64));
    } else if is(sub, "LIST") {
        client.reply_now(|out| {
            out.array(COMMANDS.len());
            COMMANDS
                .iter()
                .for_each(|spec| out.bulk(spec.name.as_bytes()));
        });
    } else if is(sub, "INFO") {
        let wanted: Vec<Option<&CommandSpec>> = if args.len() == 2 {
            COMMANDS.iter().map(Some).collect()
        } else {
            args[2..].iter().map(|name| cmd::lookup(name)).collect()
        };
        client.reply_now(|out| {
            out.array(wanted.len());
            for spec in &wanted {
                match spec {
                    Some(spec) => write_info(out, spec),
                    None => out.null_array(),
                }
            }
        });
    } else if is(sub, "DOCS") {
        let wanted: Vec<&CommandSpec> = if args.len() == 2 {
            COMMANDS.iter().collect()
        } else {
            args[2..]
                .iter()
                .filter_map(|name| cmd::lookup(name))
                .collect()
        };
        client.reply_now(|out| {
            out.map(wanted.len());
            wanted.iter().for_each(|spec| write_docs(out, spec));
        });
    } else if is(sub, "GETKEYS") {
        let target = &args[2..];
        let Some(spec) = cmd::lookup(target[0]) else {
            return client.reply_now(|out| out.error(b"ERR Invalid command specified"));
        };
        if !CommandSpec::arity_ok(spec.arity, target.len()) {
            return client.reply_now(|out| {
                out.error(b"ERR Invalid number of arguments specified for command")
            });
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
    } else {
        let lines: &[&str] = &[
            "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "HELP",
            "    Prints this help.",
        ];
        client.reply_help(lines);
    }
}
