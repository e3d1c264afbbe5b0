#!/usr/bin/env python3
"""Generates src/cmd/docs_data.rs from redis-server 7.0.15.

The file holds what Redis 7.0.15 says about its commands in `COMMAND INFO`
(arity, flags, key positions, ACL categories, tips, key specifications) and
`COMMAND DOCS` (summary, since, group, complexity, history, argument trees),
written as Rust statics in the shapes src/cmd/docs.rs declares. It covers
every command of Shoal's table (the `cmd!` rows of src/cmd/table.rs and the
family files beside it) with the table's subcommands, and every command of
the groups in FAMILIES, so that those families need no regeneration when
they are implemented.

Usage: tools/gen_command_docs.py [--redis-server PATH] [--check]

The script starts its own redis-server on a free local port, talks RESP3 to
it, and stops it by its process id. With --check it writes nothing and exits
with status 1 when the committed file differs from what it would write.
Python 3 standard library only.
"""

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

REDIS_VERSION = "7.0.15"
# Redis groups whose every command is generated, implemented or not.
FAMILIES = ("hash", "list", "set", "sorted-set", "transactions")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLE_DIR = os.path.join(ROOT, "src", "cmd")
OUT_PATH = os.path.join(ROOT, "src", "cmd", "docs_data.rs")
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
LINE_WIDTH_MAX = 100
# A shared argument list of at most this many arguments is named after them;
# a longer one after its first user.
ARGS_NAMED_MAX = 4
# A shared key spec list is named after its contents up to this length, else
# after its first user.
KEY_SPECS_NAME_MAX = 48

# The order in which Redis 7.0 writes the fields of each map; the script
# refuses a reply whose fields are not a subsequence of these, since the
# Rust writers emit exactly this order.
DOC_FIELDS = ("summary", "since", "group", "complexity", "doc_flags", "deprecated_since",
              "replaced_by", "history", "arguments", "subcommands")
ARG_FIELDS = ("name", "type", "key_spec_index", "token", "summary", "since",
              "deprecated_since", "flags", "arguments")
KEY_SPEC_FIELDS = ("notes", "flags", "begin_search", "find_keys")
ARG_TYPES = {"string": "Str", "integer": "Integer", "double": "Double", "key": "Key",
             "pattern": "Pattern", "unix-time": "UnixTime", "pure-token": "PureToken",
             "oneof": "OneOf", "block": "Block"}


class Resp:
    """A minimal RESP3 client: replies come back as (kind, value) pairs."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.file = self.sock.makefile("rb")

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for arg in args:
            arg = arg.encode()
            out += b"$%d\r\n%s\r\n" % (len(arg), arg)
        self.sock.sendall(out)
        reply = self.read()
        if reply[0] == "error":
            raise RuntimeError("%s: %s" % (" ".join(args), reply[1]))
        return reply

    def read(self):
        line = self.file.readline()
        if not line.endswith(b"\r\n"):
            raise RuntimeError("connection closed mid-reply")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return ("simple", rest.decode())
        if kind == b"-":
            return ("error", rest.decode())
        if kind == b":":
            return ("integer", int(rest))
        if kind == b"$":
            body = self.file.read(int(rest) + 2)
            return ("bulk", body[:-2].decode())
        if kind == b"=":
            body = self.file.read(int(rest) + 2)
            return ("verbatim", body[4:-2].decode())
        if kind == b"_":
            return ("null", None)
        if kind in (b"*", b"~"):
            items = [self.read() for _ in range(int(rest))]
            return ("array" if kind == b"*" else "set", items)
        if kind == b"%":
            return ("map", [(self.read(), self.read()) for _ in range(int(rest))])
        raise RuntimeError("unexpected reply line %r" % line)

    def close(self):
        self.file.close()
        self.sock.close()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def query_redis(server):
    """Starts redis-server, returns (COMMAND INFO, COMMAND DOCS) as RESP3."""
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        process = subprocess.Popen(
            [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", scratch],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            conn = connect(port, process)
            try:
                conn.call("HELLO", "3")
                version = info_field(conn.call("INFO", "server"), "redis_version")
                if version != REDIS_VERSION:
                    sys.exit("redis-server is %s; this data is %s's" % (version, REDIS_VERSION))
                return conn.call("COMMAND", "INFO"), conn.call("COMMAND", "DOCS")
            finally:
                conn.close()
        finally:
            stop(process)


def connect(port, process):
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            sys.exit("redis-server exited at start with status %d" % process.returncode)
        try:
            return Resp(port)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def stop(process):
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


def info_field(reply, field):
    for line in reply[1].splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1]
    return None


def table_commands():
    """Shoal's table: {command name: [subcommand names]}, from every
    `cmd!("name", ...)` row in src/cmd/ (the core table and each family's)."""
    commands = {}
    for file_name in sorted(os.listdir(TABLE_DIR)):
        if not file_name.endswith(".rs") or file_name == os.path.basename(OUT_PATH):
            continue
        with open(os.path.join(TABLE_DIR, file_name), encoding="utf-8") as source:
            text = source.read()
        heads = list(re.finditer(r'\bcmd!\(\s*"([^"]+)"', text))
        for index, head in enumerate(heads):
            row_end = heads[index + 1].start() if index + 1 < len(heads) else len(text)
            table_end = text.find("\n];", head.end())
            if table_end != -1:
                row_end = min(row_end, table_end)
            row = text[head.end():row_end]
            commands[head.group(1)] = re.findall(r'\bsub(?:_key)?\(\s*"([^"]+)"', row)
    if not commands:
        sys.exit("found no cmd!(...) rows in %s" % TABLE_DIR)
    return commands


# --- Turning RESP3 replies into plain Python values -------------------------

def fields(reply, order, what):
    """A RESP3 map as a dict, checked to list its fields in `order`."""
    assert reply[0] == "map", (what, reply)
    names = [key[1] for key, _ in reply[1]]
    known = [name for name in order if name in names]
    if names != known:
        sys.exit("%s: fields %s are not in the order %s" % (what, names, order))
    return {key[1]: value for key, value in reply[1]}


def strings(reply, kind, element, what):
    assert reply[0] == kind, (what, reply)
    assert all(item[0] == element for item in reply[1]), (what, reply)
    return tuple(item[1] for item in reply[1])


def integer(reply):
    assert reply[0] == "integer", reply
    return reply[1]


def bulk(reply):
    assert reply[0] == "bulk", reply
    return reply[1]


def parse_info(reply):
    items = reply[1]
    assert reply[0] == "array" and len(items) == 10, reply
    name = bulk(items[0])
    subcommands = items[9]
    if subcommands[0] == "set":
        assert not subcommands[1], name
        subs = {}
    else:
        assert subcommands[0] == "array", name
        subs = {entry["name"]: entry for entry in map(parse_info, subcommands[1])}
    return {
        "name": name,
        "arity": integer(items[1]),
        "flags": strings(items[2], "set", "simple", name),
        "first": integer(items[3]),
        "last": integer(items[4]),
        "step": integer(items[5]),
        "categories": strings(items[6], "set", "simple", name),
        "tips": strings(items[7], "set", "bulk", name),
        "key_specs": tuple(parse_key_spec(spec, name) for spec in set_items(items[8])),
        "subs": subs,
    }


def set_items(reply):
    assert reply[0] == "set", reply
    return reply[1]


def parse_key_spec(reply, name):
    spec = fields(reply, KEY_SPEC_FIELDS, name + " key spec")
    begin = fields(spec["begin_search"], ("type", "spec"), name + " begin_search")
    find = fields(spec["find_keys"], ("type", "spec"), name + " find_keys")
    begin_kind, find_kind = bulk(begin["type"]), bulk(find["type"])
    begin_args = spec_values(begin["spec"], {"index": ("index",), "unknown": (),
                                             "keyword": ("keyword", "startfrom")}[begin_kind])
    find_args = spec_values(find["spec"], {"range": ("lastkey", "keystep", "limit"), "unknown": (),
                                           "keynum": ("keynumidx", "firstkey", "keystep")}[find_kind])
    return {
        "notes": bulk(spec["notes"]) if "notes" in spec else None,
        "flags": strings(spec["flags"], "set", "simple", name),
        "begin": (begin_kind, begin_args),
        "find": (find_kind, find_args),
    }


def spec_values(reply, names):
    values = fields(reply, names, "key spec")
    assert list(values) == list(names), (values, names)
    return tuple(value[1] for value in values.values())


def parse_docs(name, reply):
    docs = fields(reply, DOC_FIELDS, name)
    for required in ("summary", "since", "group"):
        assert required in docs, (name, required)
    history = ()
    if "history" in docs:
        history = tuple(strings(entry, "array", "bulk", name) for entry in set_items(docs["history"]))
        assert history and all(len(entry) == 2 for entry in history), name
    subs = {}
    if "subcommands" in docs:
        assert docs["subcommands"][0] == "map", name
        subs = {bulk(key): parse_docs(bulk(key), value) for key, value in docs["subcommands"][1]}
    parsed = {
        "summary": bulk(docs["summary"]),
        "since": bulk(docs["since"]),
        "group": bulk(docs["group"]),
        "complexity": bulk(docs["complexity"]) if "complexity" in docs else None,
        "doc_flags": strings(docs["doc_flags"], "set", "simple", name) if "doc_flags" in docs else (),
        "deprecated_since": bulk(docs["deprecated_since"]) if "deprecated_since" in docs else None,
        "replaced_by": bulk(docs["replaced_by"]) if "replaced_by" in docs else None,
        "history": history,
        "arguments": parse_args(docs["arguments"], name) if "arguments" in docs else (),
        "subs": subs,
    }
    # Empty lists are written as absent: check Redis never sends them.
    assert "doc_flags" not in docs or parsed["doc_flags"], name
    assert "arguments" not in docs or parsed["arguments"], name
    return parsed


def parse_args(reply, name):
    assert reply[0] == "array", (name, reply)
    parsed = []
    for item in reply[1]:
        arg = fields(item, ARG_FIELDS, name + " argument")
        kind = bulk(arg["type"])
        assert kind in ARG_TYPES, (name, kind)
        has_children = kind in ("oneof", "block")
        assert has_children == ("arguments" in arg), (name, arg)
        entry = {
            "name": bulk(arg["name"]),
            "type": kind,
            "key_spec_index": integer(arg["key_spec_index"]) if "key_spec_index" in arg else None,
            "flags": strings(arg["flags"], "set", "simple", name) if "flags" in arg else (),
            "arguments": parse_args(arg["arguments"], name) if has_children else (),
        }
        for optional in ("token", "summary", "since", "deprecated_since"):
            entry[optional] = bulk(arg[optional]) if optional in arg else None
        assert "flags" not in arg or entry["flags"], name
        assert not has_children or entry["arguments"], name
        parsed.append(entry)
    return tuple(parsed)


def selected(info_reply, docs_reply):
    """Joins INFO and DOCS for the table's commands and FAMILIES."""
    infos = {entry["name"]: entry for entry in map(parse_info, info_reply[1])}
    assert docs_reply[0] == "map"
    docs = {bulk(key): parse_docs(bulk(key), value) for key, value in docs_reply[1]}
    table = table_commands()
    wanted = {name: subs for name, subs in table.items()}
    for name, entry in docs.items():
        if entry["group"] in FAMILIES and name not in wanted:
            wanted[name] = sorted(sub.split("|", 1)[1] for sub in entry["subs"])
    commands = []
    for name in sorted(wanted):
        if name not in infos or name not in docs:
            sys.exit("redis-server %s has no command %r" % (REDIS_VERSION, name))
        commands.append(join(infos[name], docs[name], wanted[name]))
    return commands


def join(info, docs, sub_names):
    entry = dict(info)
    entry.update(docs)
    subs = []
    for sub in sorted(sub_names):
        full = "%s|%s" % (info["name"], sub)
        if full not in info["subs"] or full not in docs["subs"]:
            sys.exit("redis-server %s has no subcommand %r" % (REDIS_VERSION, full))
        subs.append(join(info["subs"][full], docs["subs"][full], []))
    entry["subs"] = subs
    return entry


# --- Writing Rust ------------------------------------------------------------

def rust_str(text):
    out = ['"']
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif " " <= char <= "~":
            out.append(char)
        else:
            out.append("\\u{%x}" % ord(char))
    out.append('"')
    return "".join(out)


def const_name(prefix, words):
    joined = "_".join(re.sub(r"[^A-Za-z0-9]+", "_", word).strip("_") for word in words)
    return (prefix + "_" + joined.upper()) if words else prefix + "_NONE"


def key_specs_name(specs):
    """A name saying what the key specs are, when that name is short: flags,
    then where keys start, and `ON` when every argument from there on is a
    key (`KEY_SPECS_RO_ACCESS_1` is one key at argument 1 that is read,
    `KEY_SPECS_RM_DELETE_1_ON` keys from argument 1 to the last)."""
    parts = []
    for spec in specs:
        if spec["notes"] is not None:
            return None
        words = list(spec["flags"])
        begin_kind, begin_args = spec["begin"]
        find_kind, find_args = spec["find"]
        if begin_kind != "index" or find_kind != "range" or find_args[1:] != (1, 0):
            return None
        words.append(str(begin_args[0]))
        if find_args[0] == -1:
            words.append("on")
        elif find_args[0] != 0:
            return None
        parts.append("_".join(words))
    name = const_name("KEY_SPECS", ["_AND_".join(parts)])
    return name if len(name) <= KEY_SPECS_NAME_MAX else None


def canonical(value):
    """A hashable, order-preserving form of parsed data, for sharing."""
    if isinstance(value, dict):
        return tuple((key, canonical(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(canonical(item) for item in value)
    return value


class Writer:
    """Renders the data; slices that occur more than once become constants."""

    def __init__(self, commands):
        self.uses = {}
        self.consts = {}
        self.const_lines = []
        for entry in commands:
            self.count_command(entry)

    def count(self, kind, value):
        if value:
            key = (kind, canonical(value))
            self.uses[key] = self.uses.get(key, 0) + 1

    def count_command(self, entry):
        for kind in ("flags", "categories", "tips", "doc_flags"):
            self.count("words", entry[kind])
        self.count("key_specs", entry["key_specs"])
        for spec in entry["key_specs"]:
            self.count("words", spec["flags"])
        self.count_args(entry["arguments"])
        for sub in entry["subs"]:
            self.count_command(sub)

    def count_args(self, args):
        self.count("args", args)
        for arg in args:
            self.count("words", arg["flags"])
            self.count_args(arg["arguments"])

    def shared(self, kind, value, name, type_name, render):
        """`render(indent)` inline, or the constant it becomes when it recurs."""
        key = (kind, canonical(value))
        if self.uses.get(key, 0) < 2:
            return None
        if key not in self.consts:
            taken = set(self.consts.values())
            unique, suffix = name, 2
            while unique in taken:
                unique, suffix = "%s_%d" % (name, suffix), suffix + 1
            self.consts[key] = unique
            self.const_lines.append("const %s: %s = %s;" % (unique, type_name, render(0)))
        return self.consts[key]

    def words(self, prefix, words):
        if not words:
            return "&[]"
        text = "&[" + ", ".join(map(rust_str, words)) + "]"
        name = const_name(prefix, [word.lstrip("@") for word in words])
        return self.shared("words", words, name, "&[&str]", lambda _: text) or text

    def key_specs(self, specs, owner):
        def render(_indent):
            return "&[" + ", ".join(self.key_spec(spec) for spec in specs) + "]"
        name = key_specs_name(specs) or const_name("KEY_SPECS", [owner])
        return self.shared("key_specs", specs, name, "&[KeySpec]", render) or render(0)

    def key_spec(self, spec):
        begin_kind, begin_args = spec["begin"]
        find_kind, find_args = spec["find"]
        if begin_kind == "index":
            begin = "B::Index(%d)" % begin_args
        elif begin_kind == "keyword":
            begin = "B::Keyword(%s, %d)" % (rust_str(begin_args[0]), begin_args[1])
        else:
            begin = "B::Unknown"
        if find_kind == "range":
            find = "F::Range(%d, %d, %d)" % find_args
        elif find_kind == "keynum":
            find = "F::Keynum(%d, %d, %d)" % find_args
        else:
            find = "F::Unknown"
        text = "ks(%s, %s, %s)" % (self.words("KS", spec["flags"]), begin, find)
        if spec["notes"] is not None:
            text += ".notes(%s)" % rust_str(spec["notes"])
        return text

    def args(self, args, owner, indent):
        """An argument list: on one line when it fits, else one per line."""
        def render(indent):
            items = [self.arg(arg, owner + [arg["name"]], indent + 1) for arg in args]
            flat = "&[" + ", ".join(items) + "]"
            if "\n" not in flat and len(flat) + 4 * indent <= LINE_WIDTH_MAX:
                return flat
            pad = "    " * (indent + 1)
            return "&[\n" + "".join(pad + item + ",\n" for item in items) + "    " * indent + "]"
        names = [arg["name"] for arg in args]
        name = const_name("ARGS", names if len(names) <= ARGS_NAMED_MAX else owner)
        return self.shared("args", args, name, "&[ArgDoc]", render) or render(indent)

    def arg(self, arg, owner, indent):
        text = "arg(%s, %s)" % (rust_str(arg["name"]), "T::" + ARG_TYPES[arg["type"]])
        if arg["key_spec_index"] is not None:
            text += ".key_spec(%d)" % arg["key_spec_index"]
        for field in ("token", "summary", "since", "deprecated_since"):
            if arg[field] is not None:
                text += ".%s(%s)" % (field, rust_str(arg[field]))
        if arg["flags"]:
            text += ".flags(%s)" % self.words("ARG", arg["flags"])
        if arg["arguments"]:
            text += ".args(%s)" % self.args(arg["arguments"], owner, indent)
        return text

    def command(self, entry, indent):
        pad = "    " * indent
        name = entry["name"]
        owner = name.replace("|", "_")
        lines = ["cmd(%s, %d, %s, %d, %d, %d, %s)" % (
            rust_str(name), entry["arity"], self.words("FLAGS", entry["flags"]), entry["first"],
            entry["last"], entry["step"], self.words("CATS", entry["categories"]))]
        if entry["tips"]:
            lines.append(".tips(%s)" % self.words("TIPS", entry["tips"]))
        if entry["key_specs"]:
            lines.append(".key_specs(%s)" % self.key_specs(entry["key_specs"], owner))
        lines.append(".docs(%s, %s, %s)" % (
            rust_str(entry["summary"]), rust_str(entry["since"]), rust_str(entry["group"])))
        if entry["complexity"] is not None:
            lines.append(".complexity(%s)" % rust_str(entry["complexity"]))
        if entry["doc_flags"]:
            lines.append(".doc_flags(%s)" % self.words("DOC", entry["doc_flags"]))
        for field in ("deprecated_since", "replaced_by"):
            if entry[field] is not None:
                lines.append(".%s(%s)" % (field, rust_str(entry[field])))
        if entry["history"]:
            history = ", ".join("(%s, %s)" % (rust_str(v), rust_str(t)) for v, t in entry["history"])
            lines.append(".history(&[%s])" % history)
        if entry["arguments"]:
            lines.append(".args(%s)" % self.args(entry["arguments"], [owner], indent + 1))
        if entry["subs"]:
            subs = "".join(pad + "        " + self.command(sub, indent + 2) + ",\n"
                           for sub in entry["subs"])
            lines.append(".subcommands(&[\n%s%s    ])" % (subs, pad))
        return ("\n" + pad + "    ").join(lines)


HEADER = """\
//! Redis {version}'s description of its commands: `COMMAND INFO` (arity,
//! flags, key positions, ACL categories, tips, key specifications) and
//! `COMMAND DOCS` (summary, since, group, complexity, history, arguments), as
//! facts about the interface Shoal implements. The types are in `docs.rs`.
//!
//! GENERATED by tools/gen_command_docs.py from redis-server {version}'s
//! `COMMAND INFO` and `COMMAND DOCS`: do not edit by hand. It covers every
//! command of Shoal's table (the `cmd!` rows under src/cmd/) with the table's
//! subcommands, and every command of the Redis groups{families}.
//! Run `python3 tools/gen_command_docs.py` after adding a command outside those
//! groups or a subcommand.

use super::docs::{{arg, cmd, ks, ArgDoc, ArgType as T, CommandDocs, KeySpec}};
use super::docs::{{BeginSearch as B, FindKeys as F}};

"""


def render(commands):
    writer = Writer(commands)
    body = "".join("    " + writer.command(entry, 1) + ",\n" for entry in commands)
    families = ", ".join(FAMILIES[:-1]) + " and " + FAMILIES[-1]
    out = [HEADER.format(version=REDIS_VERSION, families="\n//! " + families)]
    # Constants may refer to later ones: group them by kind, sorted by name.
    kinds = ("&[&str]", "&[KeySpec]", "&[ArgDoc]")
    for kind in kinds:
        lines = sorted(line for line in writer.const_lines if line.split(": ", 1)[1].startswith(kind + " ="))
        out.extend(line + "\n" for line in lines)
        out.append("\n")
    assert sum(1 for line in writer.const_lines if line.split(": ", 1)[1].split(" =")[0] in kinds) \
        == len(writer.const_lines)
    out.append("/// Every documented command, sorted by name; subcommands sorted within.\n")
    out.append("pub static DOCS: &[CommandDocs] = &[\n")
    out.append(body)
    out.append("];\n")
    return "".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-server", default="redis-server")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the committed file is not what would be written")
    options = parser.parse_args()
    info_reply, docs_reply = query_redis(options.redis_server)
    text = render(selected(info_reply, docs_reply))
    if options.check:
        with open(OUT_PATH, encoding="utf-8") as current:
            if current.read() != text:
                sys.exit("%s is out of date: run %s" % (OUT_PATH, sys.argv[0]))
        return
    with open(OUT_PATH, "w", encoding="utf-8") as out:
        out.write(text)
    print("wrote %s (%d bytes)" % (OUT_PATH, len(text.encode())))


if __name__ == "__main__":
    main()
