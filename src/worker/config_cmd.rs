//! CONFIG GET / SET / RESETSTAT over the shared configuration.

use std::sync::atomic::Ordering;

use super::shared::Shared;
use crate::client::Client;
use crate::cmd::args::is;
use crate::config::Config;
use crate::fd_limit::Fit;

/// A raised `maxclients` needs the descriptors for it: the limit is raised
/// where it may be, and otherwise the whole CONFIG SET fails with Redis's
/// error naming what fits.
fn fit_raised_max_clients(before: &Config, after: &Config, workers: usize) -> Result<(), String> {
    if after.max_clients() <= before.max_clients() {
        return Ok(());
    }
    let fit = crate::fd_limit::fit_max_clients(after.max_clients(), workers);
    fit.log();
    match fit {
        Fit::Fits(_) => Ok(()),
        Fit::Reduced { max_clients, .. } => Err(format!(
            "ERR CONFIG SET failed (possibly related to argument 'maxclients') - The operating system is not able to handle the specified number of clients, try with {max_clients}"
        )),
        Fit::TooFew(why) => Err(format!(
            "ERR CONFIG SET failed (possibly related to argument 'maxclients') - {why}"
        )),
    }
}

/// `CONFIG GET pattern [pattern ...] | SET name value [name value ...] | RESETSTAT`
pub fn config(client: &mut Client, args: &[&[u8]], shared: &Shared) {
    let sub = args[1];
    let Ok(mut config) = shared.config.lock() else {
        return client.reply_now(|out| out.error(b"ERR configuration unavailable"));
    };
    if is(sub, "GET") {
        let pairs = config.get_many(&args[2..]);
        client.reply_now(|out| {
            out.map(pairs.len());
            for (name, value) in &pairs {
                out.bulk(name.as_bytes());
                out.bulk(value.as_bytes());
            }
        });
    } else if is(sub, "SET") {
        if args.len() % 2 != 0 {
            return client.reply_now(|out| out.error(crate::cmd::errors::SYNTAX));
        }
        let pairs: Vec<(&[u8], &[u8])> = args[2..]
            .chunks_exact(2)
            .map(|pair| (pair[0], pair[1]))
            .collect();
        let before = config.clone();
        if let Err(message) = config.set_many(&pairs) {
            return client.reply_now(|out| out.error(message.as_bytes()));
        }
        if let Err(message) = fit_raised_max_clients(&before, &config, shared.workers) {
            *config = before;
            return client.reply_now(|out| out.error(message.as_bytes()));
        }
        drop(config);
        shared.refresh_cached_settings();
        client.reply_now(|out| out.ok());
    } else if is(sub, "RESETSTAT") {
        for stats in &shared.stats {
            for counter in [
                &stats.commands,
                &stats.connections,
                &stats.rejected,
                &stats.errors,
                &stats.net_input_bytes,
                &stats.net_output_bytes,
            ] {
                counter.store(0, Ordering::Relaxed);
            }
            for counters in stats.per_command.iter() {
                counters.calls.store(0, Ordering::Relaxed);
                counters.usec.store(0, Ordering::Relaxed);
            }
            stats.keyspace.reset();
        }
        client.reply_now(|out| out.ok());
    } else {
        let lines: &[&str] = &[
            "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "HELP",
            "    Prints this help.",
        ];
        client.reply_help(lines);
    }
}
