//! Command templates (`--command "HSET __key__ f __data__"`) and the
//! workload they make: which command each request is, in which order, and
//! which row of the report it counts in.
//!
//! A template is parsed once into pre-encoded RESP pieces: arguments with
//! no placeholder are stored already framed (`$3\r\nSET\r\n`), so expanding
//! a request writes the array header, copies those, and frames only the
//! key and value. `__key__` and `__data__` may also sit inside an argument
//! (`user:__key__`). One key is drawn per request, used by every
//! `__key__` in it.
//!
//! Commands run in memtier's order: each command `ratio` times in a row,
//! then the next, cycling; `--ratio 1:10` is the template list
//! `SET __key__ __data__` ×1, `GET __key__` ×10.

use crate::error::{BenchError, Result};
use crate::keys::KeyPattern;
use crate::words;

/// One piece of an argument that has a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(Vec<u8>),
    Key,
    Data,
}

/// One argument of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Arg {
    /// Already framed as a RESP bulk string.
    Encoded(Vec<u8>),
    /// Framed at expansion time.
    Dynamic(Vec<Segment>),
}

/// A parsed command template.
#[derive(Debug, Clone)]
pub struct Template {
    /// The command name, upper case (`HSET`).
    pub name: String,
    /// The template as given.
    pub line: String,
    /// How this command picks keys.
    pub key_pattern: KeyPattern,
    /// How many times in a row this command is sent.
    pub ratio: u32,
    /// Whether the command has `__key__`.
    pub uses_key: bool,
    /// Whether the command has `__data__`.
    pub uses_data: bool,
    header: Vec<u8>,
    args: Vec<Arg>,
}

impl Template {
    /// Parses `line`, split into words as a shell would.
    pub fn parse(line: &str, key_pattern: KeyPattern, ratio: u32) -> Result<Template> {
        let words = words::split(line)?;
        let Some(first) = words.first() else {
            return Err(BenchError::usage(format!("empty command {line:?}")));
        };
        let name = String::from_utf8_lossy(first).to_ascii_uppercase();
        let mut args = Vec::with_capacity(words.len());
        let (mut uses_key, mut uses_data) = (false, false);
        for word in &words {
            let segments = segments(word);
            uses_key |= segments.contains(&Segment::Key);
            uses_data |= segments.contains(&Segment::Data);
            args.push(match segments.as_slice() {
                [Segment::Literal(text)] => Arg::Encoded(frame(text)),
                [] => Arg::Encoded(frame(b"")),
                _ => Arg::Dynamic(segments),
            });
        }
        let mut header = Vec::new();
        header.push(b'*');
        header.extend_from_slice(itoa::Buffer::new().format(words.len()).as_bytes());
        header.extend_from_slice(b"\r\n");
        Ok(Template {
            name,
            line: line.to_string(),
            key_pattern,
            ratio,
            uses_key,
            uses_data,
            header,
            args,
        })
    }

    /// Appends the request for key `prefix` + `key` and value `data` to
    /// `out`; returns the bytes appended.
    #[inline]
    pub fn expand(&self, prefix: &[u8], key: u64, data: &[u8], out: &mut Vec<u8>) -> usize {
        let start = out.len();
        let mut digits = itoa::Buffer::new();
        let key_digits = digits.format(key).as_bytes();
        let mut lengths = itoa::Buffer::new();
        out.extend_from_slice(&self.header);
        for arg in &self.args {
            match arg {
                Arg::Encoded(bytes) => out.extend_from_slice(bytes),
                Arg::Dynamic(segments) => {
                    let len: usize = segments
                        .iter()
                        .map(|segment| match segment {
                            Segment::Literal(text) => text.len(),
                            Segment::Key => prefix.len() + key_digits.len(),
                            Segment::Data => data.len(),
                        })
                        .sum();
                    out.push(b'$');
                    out.extend_from_slice(lengths.format(len).as_bytes());
                    out.extend_from_slice(b"\r\n");
                    for segment in segments {
                        match segment {
                            Segment::Literal(text) => out.extend_from_slice(text),
                            Segment::Key => {
                                out.extend_from_slice(prefix);
                                out.extend_from_slice(key_digits);
                            }
                            Segment::Data => out.extend_from_slice(data),
                        }
                    }
                    out.extend_from_slice(b"\r\n");
                }
            }
        }
        out.len() - start
    }

    /// An upper bound on one expanded request's size.
    pub fn max_len(&self, prefix_len: usize, data_len_max: usize) -> usize {
        let key_len_max = prefix_len + 20;
        self.header.len()
            + self
                .args
                .iter()
                .map(|arg| match arg {
                    Arg::Encoded(bytes) => bytes.len(),
                    Arg::Dynamic(segments) => {
                        let body: usize = segments
                            .iter()
                            .map(|segment| match segment {
                                Segment::Literal(text) => text.len(),
                                Segment::Key => key_len_max,
                                Segment::Data => data_len_max,
                            })
                            .sum();
                        body + 1 + 20 + 4
                    }
                })
                .sum::<usize>()
    }
}

/// Cuts one word at its placeholders.
fn segments(word: &[u8]) -> Vec<Segment> {
    const KEY: &[u8] = b"__key__";
    const DATA: &[u8] = b"__data__";
    let mut segments = Vec::new();
    let mut literal = Vec::new();
    let mut at = 0;
    while at < word.len() {
        let rest = &word[at..];
        let placeholder = if rest.starts_with(KEY) {
            Some((Segment::Key, KEY.len()))
        } else if rest.starts_with(DATA) {
            Some((Segment::Data, DATA.len()))
        } else {
            None
        };
        match placeholder {
            Some((segment, len)) => {
                if !literal.is_empty() {
                    segments.push(Segment::Literal(std::mem::take(&mut literal)));
                }
                segments.push(segment);
                at += len;
            }
            None => {
                literal.push(word[at]);
                at += 1;
            }
        }
    }
    if !literal.is_empty() || segments.is_empty() {
        segments.push(Segment::Literal(literal));
    }
    segments
}

/// Frames `text` as a RESP bulk string.
fn frame(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 16);
    out.push(b'$');
    out.extend_from_slice(itoa::Buffer::new().format(text.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(text);
    out.extend_from_slice(b"\r\n");
    out
}

/// How rows of the report group commands (`--command-stats-breakdown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakdown {
    /// One row per command name (`Hsets`, `Gets`).
    Command,
    /// One row per template line.
    Line,
}

/// The commands of a run and the rows they report in.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The templates, in the order they run.
    pub templates: Vec<Template>,
    /// The report's rows, in order (`Sets`, `Gets`, `Waits` for SET/GET runs).
    pub rows: Vec<String>,
    /// For each template, the index of its row.
    pub row_of: Vec<usize>,
    /// For each template, whether hits and misses are counted (GETs of a
    /// SET/GET run, as memtier does).
    pub counts_hits: Vec<bool>,
    /// `true` for `--command` runs: memtier then prints no hit/miss columns.
    pub arbitrary: bool,
}

impl Workload {
    /// memtier's default workload: SET and GET in `set:get` ratio.
    pub fn set_get(set: u32, get: u32, patterns: (KeyPattern, KeyPattern)) -> Result<Workload> {
        if set == 0 && get == 0 {
            return Err(BenchError::usage("--ratio 0:0 sends nothing"));
        }
        let templates = vec![
            Template::parse("SET __key__ __data__", patterns.0, set)?,
            Template::parse("GET __key__", patterns.1, get)?,
        ];
        Ok(Workload {
            templates,
            rows: vec!["Sets".into(), "Gets".into(), "Waits".into()],
            row_of: vec![0, 1],
            counts_hits: vec![false, true],
            arbitrary: false,
        })
    }

    /// A `--command` workload, rows grouped by `breakdown`.
    pub fn arbitrary(templates: Vec<Template>, breakdown: Breakdown) -> Result<Workload> {
        if templates.iter().all(|t| t.ratio == 0) {
            return Err(BenchError::usage(
                "every --command-ratio is 0: nothing to send",
            ));
        }
        let mut rows: Vec<String> = Vec::new();
        let mut row_of = Vec::with_capacity(templates.len());
        for template in &templates {
            let label = match breakdown {
                Breakdown::Command => row_label(&template.name),
                Breakdown::Line => template.line.clone(),
            };
            let row = rows.iter().position(|r| *r == label).unwrap_or_else(|| {
                rows.push(label);
                rows.len() - 1
            });
            row_of.push(row);
        }
        let counts_hits = vec![false; templates.len()];
        Ok(Workload {
            templates,
            rows,
            row_of,
            counts_hits,
            arbitrary: true,
        })
    }
}

/// memtier's row label for a command: `HSET` → `Hsets`.
pub fn row_label(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => format!("{}{}s", first.to_ascii_uppercase(), chars.as_str()),
        None => "s".into(),
    }
}

/// Walks the templates in ratio order: each `ratio` times, then the next.
#[derive(Debug, Clone, Default)]
pub struct Sequencer {
    index: usize,
    used: u32,
}

impl Sequencer {
    /// The index of the next template to send. At least one template has a
    /// non-zero ratio (checked when the workload is built).
    #[inline]
    pub fn next(&mut self, templates: &[Template]) -> usize {
        loop {
            if self.used < templates[self.index].ratio {
                self.used += 1;
                return self.index;
            }
            self.used = 0;
            self.index = (self.index + 1) % templates.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shoal_protocol::{Limits, RequestParser};

    fn parsed_args(bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut buf = bytes.to_vec();
        let mut parser = RequestParser::new(Limits::default());
        let mut requests = parser.parse(&mut buf);
        let command = requests.next_command().unwrap().unwrap();
        command.args().iter().map(|a| a.to_vec()).collect()
    }

    #[test]
    fn expansion_fills_key_and_data_into_valid_resp() {
        let template = Template::parse("HSET __key__ f __data__", KeyPattern::Random, 1).unwrap();
        assert_eq!(template.name, "HSET");
        assert!(template.uses_key && template.uses_data);
        let mut out = Vec::new();
        let len = template.expand(b"memtier-", 42, b"vvv", &mut out);
        assert_eq!(len, out.len());
        assert_eq!(
            out,
            b"*4\r\n$4\r\nHSET\r\n$10\r\nmemtier-42\r\n$1\r\nf\r\n$3\r\nvvv\r\n"
        );
        assert_eq!(
            parsed_args(&out),
            [&b"HSET"[..], b"memtier-42", b"f", b"vvv"]
        );
    }

    #[test]
    fn placeholders_inside_words_and_quoted_words_expand() {
        let template = Template::parse(
            r#"SET "user:__key__:x" '' __data____key__"#,
            KeyPattern::Random,
            1,
        )
        .unwrap();
        let mut out = Vec::new();
        template.expand(b"k", 7, b"D", &mut out);
        assert_eq!(parsed_args(&out), [&b"SET"[..], b"user:k7:x", b"", b"Dk7"]);
    }

    #[test]
    fn max_len_bounds_every_expansion() {
        let template = Template::parse("SET __key__ __data__", KeyPattern::Random, 1).unwrap();
        let mut out = Vec::new();
        template.expand(b"memtier-", u64::MAX, &[b'x'; 100], &mut out);
        assert!(out.len() <= template.max_len(8, 100));
    }

    #[test]
    fn ratio_order_is_each_command_ratio_times_in_turn() {
        let workload = Workload::set_get(1, 3, (KeyPattern::Random, KeyPattern::Random)).unwrap();
        let mut sequencer = Sequencer::default();
        let order: Vec<usize> = (0..8)
            .map(|_| sequencer.next(&workload.templates))
            .collect();
        assert_eq!(order, [0, 1, 1, 1, 0, 1, 1, 1]);
    }

    #[test]
    fn zero_ratios_are_skipped_and_all_zero_is_refused() {
        let workload = Workload::set_get(0, 1, (KeyPattern::Random, KeyPattern::Random)).unwrap();
        let mut sequencer = Sequencer::default();
        assert!((0..5).all(|_| sequencer.next(&workload.templates) == 1));
        assert!(Workload::set_get(0, 0, (KeyPattern::Random, KeyPattern::Random)).is_err());
    }

    #[test]
    fn rows_group_by_command_name_or_by_line() {
        let templates = vec![
            Template::parse("SET a __data__", KeyPattern::Random, 2).unwrap(),
            Template::parse("set b __data__", KeyPattern::Random, 1).unwrap(),
            Template::parse("GET a", KeyPattern::Random, 1).unwrap(),
        ];
        let by_name = Workload::arbitrary(templates.clone(), Breakdown::Command).unwrap();
        assert_eq!(by_name.rows, ["Sets", "Gets"]);
        assert_eq!(by_name.row_of, [0, 0, 1]);
        let by_line = Workload::arbitrary(templates, Breakdown::Line).unwrap();
        assert_eq!(by_line.rows.len(), 3);
        assert_eq!(row_label("HSET"), "Hsets");
    }
}
