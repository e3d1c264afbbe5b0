//! Splitting a command line into words, the way a shell (or `redis-cli`)
//! would: blanks separate words, `'…'` keeps text as it is, `"…"` allows
//! `\n \r \t \" \\ \xHH` escapes, and `''` is an empty word.
//!
//! Used for `--command` templates and for the server and workload command
//! lines of `compare`, so `redis-server --save ''` means what it says.

use crate::error::{BenchError, Result};

/// Splits `line` into words of bytes.
pub fn split(line: &str) -> Result<Vec<Vec<u8>>> {
    let bytes = line.as_bytes();
    let mut words = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at].is_ascii_whitespace() {
            at += 1;
            continue;
        }
        let (word, next) = word(bytes, at, line)?;
        words.push(word);
        at = next;
    }
    Ok(words)
}

/// Splits `line` into words that must be UTF-8 (program arguments).
pub fn split_strings(line: &str) -> Result<Vec<String>> {
    split(line)?
        .into_iter()
        .map(|word| {
            String::from_utf8(word)
                .map_err(|_| BenchError::usage(format!("{line:?}: a word is not UTF-8")))
        })
        .collect()
}

/// Joins words back into a line a shell reads the same way: words with
/// blanks, quotes or backslashes, and empty words, are single-quoted.
pub fn join(words: &[String]) -> String {
    let quoted: Vec<String> = words
        .iter()
        .map(|word| {
            let plain = !word.is_empty()
                && word
                    .bytes()
                    .all(|b| !b.is_ascii_whitespace() && !b"'\"\\$`".contains(&b));
            if plain {
                word.clone()
            } else {
                format!("'{}'", word.replace('\'', r#"'\''"#))
            }
        })
        .collect();
    quoted.join(" ")
}

/// Reads one word starting at `at`; returns it and the index after it.
fn word(bytes: &[u8], mut at: usize, line: &str) -> Result<(Vec<u8>, usize)> {
    let mut word = Vec::new();
    while at < bytes.len() && !bytes[at].is_ascii_whitespace() {
        match bytes[at] {
            b'\'' => {
                let Some(close) = bytes[at + 1..].iter().position(|&b| b == b'\'') else {
                    return Err(unterminated(line));
                };
                word.extend_from_slice(&bytes[at + 1..at + 1 + close]);
                at += close + 2;
            }
            b'"' => at = double_quoted(bytes, at + 1, &mut word, line)?,
            b'\\' if at + 1 < bytes.len() => {
                word.push(bytes[at + 1]);
                at += 2;
            }
            byte => {
                word.push(byte);
                at += 1;
            }
        }
    }
    Ok((word, at))
}

/// Appends the inside of a `"…"` starting after the quote; returns the
/// index after the closing quote.
fn double_quoted(bytes: &[u8], mut at: usize, word: &mut Vec<u8>, line: &str) -> Result<usize> {
    loop {
        match bytes.get(at) {
            None => return Err(unterminated(line)),
            Some(b'"') => return Ok(at + 1),
            Some(b'\\') => {
                let Some(&escaped) = bytes.get(at + 1) else {
                    return Err(unterminated(line));
                };
                match escaped {
                    b'n' => word.push(b'\n'),
                    b'r' => word.push(b'\r'),
                    b't' => word.push(b'\t'),
                    b'x' => {
                        let hex = bytes
                            .get(at + 2..at + 4)
                            .and_then(|h| std::str::from_utf8(h).ok())
                            .and_then(|h| u8::from_str_radix(h, 16).ok());
                        if let Some(value) = hex {
                            word.push(value);
                            at += 2;
                        } else {
                            word.push(b'x');
                        }
                    }
                    other => word.push(other),
                }
                at += 2;
            }
            Some(&byte) => {
                word.push(byte);
                at += 1;
            }
        }
    }
}

fn unterminated(line: &str) -> BenchError {
    BenchError::usage(format!("unbalanced quotes in {line:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        split(line)
            .unwrap()
            .into_iter()
            .map(|w| String::from_utf8(w).unwrap())
            .collect()
    }

    #[test]
    fn blanks_separate_and_quotes_group() {
        assert_eq!(words("  SET  a   b "), ["SET", "a", "b"]);
        assert_eq!(
            words("redis-server --save ''"),
            ["redis-server", "--save", ""]
        );
        assert_eq!(
            words(r#"SET "two words" x'y z'"#),
            ["SET", "two words", "xy z"]
        );
    }

    #[test]
    fn double_quotes_take_escapes() {
        assert_eq!(split(r#""a\n\x41\"""#).unwrap(), [b"a\nA\"".to_vec()]);
    }

    #[test]
    fn joined_words_split_back_the_same() {
        let words: Vec<String> = ["redis-server", "--save", "", "two words", "it's"]
            .iter()
            .map(|w| w.to_string())
            .collect();
        let line = join(&words);
        assert_eq!(line, r#"redis-server --save '' 'two words' 'it'\''s'"#);
        assert_eq!(split_strings(&line).unwrap(), words);
    }

    #[test]
    fn unbalanced_quotes_are_refused() {
        assert!(split("SET 'a").is_err());
        assert!(split("SET \"a").is_err());
    }
}
