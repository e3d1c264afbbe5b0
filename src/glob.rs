//! Glob-style pattern matching with the exact semantics of Redis's
//! `stringmatchlen`, as used by `KEYS`, `SCAN MATCH`, `PSUBSCRIBE` and
//! `CONFIG GET`.
//!
//! The pattern language:
//! - `*` matches any run of bytes, `?` matches any single byte;
//! - `[abc]`, `[^abc]` and `[a-z]` match one byte from (or not from) a set;
//!   a range may be written backwards (`[z-a]`), `\` escapes a byte inside
//!   the brackets, and an unterminated `[abc` behaves as if closed at the end;
//! - `\x` matches `x` literally; a trailing lone `\` matches a backslash.
//!
//! Redis matches by recursing once per `*`, which it prunes with its
//! `skipLongerMatches` flag. Here every token other than `*` consumes exactly
//! one byte, so remembering only the most recent `*` and retrying it one byte
//! further on is enough: the match is iterative and takes at most
//! O(pattern length × text length) steps, whatever the pattern.

/// Whether `text` matches the glob `pattern`, byte for byte as Redis decides
/// it; `nocase` folds ASCII letters as Redis's `tolower` does in the C locale.
pub fn glob_match(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
    // Redis only enters its matching loop while both sides have bytes left,
    // so an empty text matches nothing but the empty pattern: `*` does not
    // match "" (KEYS special-cases a lone `*` before matching, we do not).
    if text.is_empty() {
        return pattern.is_empty();
    }
    let mut pattern_at = 0;
    let mut text_at = 0;
    // The pattern position just after the most recent `*`, and the text
    // position where that star's match currently ends.
    let mut last_star: Option<(usize, usize)> = None;
    loop {
        if text_at == text.len() {
            // Only stars may remain; each of them matches the empty run.
            return pattern[pattern_at..].iter().all(|&byte| byte == b'*');
        }
        if pattern.get(pattern_at) == Some(&b'*') {
            pattern_at = skip_stars(pattern, pattern_at);
            if pattern_at == pattern.len() {
                return true;
            }
            last_star = Some((pattern_at, text_at));
            continue;
        }
        if pattern_at < pattern.len() {
            let (matched, next) = match_one_token(pattern, pattern_at, text[text_at], nocase);
            if matched {
                pattern_at = next;
                text_at += 1;
                continue;
            }
        }
        // A mismatch, or pattern left over text: let the last star swallow
        // one more byte and retry what follows it.
        let Some((after_star, star_end)) = last_star else {
            return false;
        };
        debug_assert!(star_end < text.len(), "a star never swallows past the text");
        last_star = Some((after_star, star_end + 1));
        pattern_at = after_star;
        text_at = star_end + 1;
    }
}

/// The position after the run of `*` starting at `at`.
fn skip_stars(pattern: &[u8], mut at: usize) -> usize {
    while pattern.get(at) == Some(&b'*') {
        at += 1;
    }
    at
}

/// Matches the single-byte token (anything but `*`) that starts at
/// `pattern[at]` against `byte`; returns whether it matched and where the
/// next token starts. How far the token reaches never depends on `byte`.
fn match_one_token(pattern: &[u8], at: usize, byte: u8, nocase: bool) -> (bool, usize) {
    debug_assert!(at < pattern.len() && pattern[at] != b'*');
    match pattern[at] {
        b'?' => (true, at + 1),
        b'[' => match_bracket(pattern, at + 1, byte, nocase),
        // An escape makes the next byte literal; a trailing `\` is literal.
        b'\\' if at + 1 < pattern.len() => (bytes_equal(pattern[at + 1], byte, nocase), at + 2),
        literal => (bytes_equal(literal, byte, nocase), at + 1),
    }
}

/// Matches a bracket set whose body starts at `pattern[at]` (just after the
/// `[`), reproducing Redis's parse: `]` closes the set, `\` escapes the next
/// byte (compared case-sensitively, as Redis does), `a-z` is a range when
/// at least three bytes remain, and the end of the pattern closes the set.
fn match_bracket(pattern: &[u8], mut at: usize, byte: u8, nocase: bool) -> (bool, usize) {
    let negated = pattern.get(at) == Some(&b'^');
    if negated {
        at += 1;
    }
    let mut matched = false;
    loop {
        let remaining = pattern.len().saturating_sub(at);
        if remaining >= 2 && pattern[at] == b'\\' {
            at += 1;
            matched |= pattern[at] == byte;
        } else if remaining >= 1 && pattern[at] == b']' {
            break;
        } else if remaining == 0 {
            // Unterminated: the set ends with the pattern.
            return (matched != negated, at);
        } else if remaining >= 3 && pattern[at + 1] == b'-' {
            matched |= in_range(pattern[at], pattern[at + 2], byte, nocase);
            at += 2;
        } else {
            matched |= bytes_equal(pattern[at], byte, nocase);
        }
        at += 1;
    }
    (matched != negated, at + 1)
}

/// Whether `byte` lies in the range `start-end` as Redis evaluates it: with
/// C `char` signed (x86-64, where Redis is built and where we compare), so
/// bytes from 0x80 sort below 0x00; the ends are swapped if reversed *before*
/// case folding, so under `nocase` `[Z-a]` matches nothing, as in Redis.
fn in_range(start: u8, end: u8, byte: u8, nocase: bool) -> bool {
    let (mut low, mut high) = (start as i8, end as i8);
    if low > high {
        std::mem::swap(&mut low, &mut high);
    }
    let mut value = byte as i8;
    if nocase {
        low = fold(low as u8) as i8;
        high = fold(high as u8) as i8;
        value = fold(value as u8) as i8;
    }
    low <= value && value <= high
}

fn bytes_equal(left: u8, right: u8, nocase: bool) -> bool {
    if nocase {
        fold(left) == fold(right)
    } else {
        left == right
    }
}

/// `tolower` in the C locale Redis runs under: ASCII letters only.
fn fold(byte: u8) -> u8 {
    byte.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn matches(pattern: &str, text: &str) -> bool {
        glob_match(pattern.as_bytes(), text.as_bytes(), false)
    }

    #[test]
    fn literal_patterns_match_only_themselves() {
        assert!(matches("hello", "hello"));
        assert!(!matches("hello", "hell"));
        assert!(!matches("hell", "hello"));
        assert!(!matches("hello", "Hello"));
        assert!(matches("", ""));
        assert!(!matches("", "a"));
    }

    #[test]
    fn star_matches_any_run_including_an_empty_one() {
        assert!(matches("*", "anything"));
        assert!(matches("h*o", "hello"));
        assert!(matches("h*o", "ho"));
        assert!(matches("h*llo*", "hello"));
        assert!(matches("*llo", "hello"));
        assert!(matches("a**b", "ab"));
        assert!(matches("a*b*c", "aXbYc"));
        assert!(matches("a*b*c", "abbbc"));
        assert!(!matches("a*b*c", "acb"));
        assert!(!matches("h*x", "hello"));
    }

    #[test]
    fn no_pattern_but_the_empty_one_matches_an_empty_text() {
        // Redis: KEYS "**" does not return the key "", only a lone "*" does
        // because KEYS special-cases it before matching.
        assert!(!matches("*", ""));
        assert!(!matches("**", ""));
        assert!(!matches("?", ""));
        assert!(matches("", ""));
    }

    #[test]
    fn question_mark_matches_exactly_one_byte() {
        assert!(matches("h?llo", "hello"));
        assert!(matches("h?llo", "hallo"));
        assert!(!matches("h?llo", "hllo"));
        assert!(matches("???", "abc"));
        assert!(!matches("???", "ab"));
        assert!(glob_match(b"a?c", b"a\xffc", false));
    }

    #[test]
    fn bracket_sets_ranges_and_negation() {
        assert!(matches("h[ae]llo", "hello"));
        assert!(matches("h[ae]llo", "hallo"));
        assert!(!matches("h[ae]llo", "hillo"));
        assert!(matches("h[^e]llo", "hallo"));
        assert!(!matches("h[^e]llo", "hello"));
        assert!(matches("h[a-b]llo", "hbllo"));
        assert!(!matches("h[a-b]llo", "hcllo"));
        assert!(matches("[0-9a-f][0-9a-f]", "3e"));
        assert!(matches("[-a]", "-"));
    }

    #[test]
    fn a_dash_before_the_closing_bracket_still_forms_a_range() {
        // Redis reads "[a-]" as the range from 'a' to ']' with the set left
        // unterminated; redis-server 7.0.15 agrees: KEYS "[a-]" finds "_".
        assert!(matches("[a-]", "_"));
        assert!(!matches("[a-]", "-"));
    }

    #[test]
    fn reversed_ranges_match_like_forward_ones() {
        assert!(matches("[z-a]", "m"));
        assert!(matches("[9-0]", "5"));
        assert!(!matches("[z-a]", "A"));
    }

    #[test]
    fn backslash_escapes_the_next_byte() {
        assert!(matches("\\*", "*"));
        assert!(!matches("\\*", "a"));
        assert!(matches("a\\?c", "a?c"));
        assert!(!matches("a\\?c", "abc"));
        assert!(matches("[\\]]", "]"));
        assert!(matches("[\\-a]", "-"));
        assert!(matches("\\\\", "\\"));
    }

    #[test]
    fn a_trailing_backslash_is_a_literal_backslash() {
        assert!(matches("a\\", "a\\"));
        assert!(!matches("a\\", "a"));
        assert!(matches("[a\\", "\\"));
    }

    #[test]
    fn an_unterminated_bracket_set_closes_at_the_end_of_the_pattern() {
        assert!(matches("[abc", "b"));
        assert!(!matches("[abc", "d"));
        assert!(matches("x[ab", "xa"));
        // A lone "[" is an empty set, "[^" the set of every byte.
        assert!(!matches("[", "["));
        assert!(matches("[^", "q"));
        // "[]" is an empty set followed by nothing: it matches nothing.
        assert!(!matches("[]", "]"));
        assert!(!matches("[]a]", "]"));
        assert!(!matches("[]a]", "a]"));
    }

    #[test]
    fn nocase_folds_ascii_letters_only() {
        assert!(glob_match(b"HeLLo", b"hello", true));
        assert!(glob_match(b"h[A-Z]llo", b"hello", true));
        assert!(glob_match(b"h[E]llo", b"hello", true));
        assert!(!glob_match(b"\xc9", b"\xe9", true));
        // Redis swaps a reversed range before folding it.
        assert!(!glob_match(b"[Z-a]", b"m", true));
        assert!(!glob_match(b"[a-Z]", b"m", true));
        // An escaped byte inside brackets is compared case-sensitively.
        assert!(!glob_match(b"[\\A]", b"a", true));
        assert!(glob_match(b"\\A", b"a", true));
    }

    #[test]
    fn ranges_compare_bytes_as_signed_chars_like_redis_on_x86() {
        // Checked against redis-server 7.0.15: KEYS "[a-\xe9]" returns the
        // keys "\xe9" and "\x10" but not "b": 0xe9 is -23 as a C char.
        assert!(glob_match(b"[a-\xe9]", b"\xe9", false));
        assert!(glob_match(b"[a-\xe9]", b"\x10", false));
        assert!(!glob_match(b"[a-\xe9]", b"b", false));
        assert!(glob_match(b"[\x80-\xff]", b"\x90", false));
    }

    #[test]
    fn binary_bytes_including_nul_match_exactly() {
        assert!(glob_match(b"a\0*", b"a\0bc", false));
        assert!(!glob_match(b"a\0", b"a", false));
        assert!(glob_match(b"[\0]", b"\0", false));
    }

    /// A direct transcription of Redis 7's recursive `stringmatchlen_impl`,
    /// reading a 0 past the end as C reads the terminator, to compare with.
    fn redis_reference(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
        let mut skip_longer = false;
        reference_impl(pattern, text, nocase, &mut skip_longer)
    }

    fn reference_impl(pat: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool) -> bool {
        let at = |i: usize| pat.get(i).copied().unwrap_or(0);
        let lower = |b: u8| b.to_ascii_lowercase();
        let (mut p, mut plen, mut t, mut slen) = (0usize, pat.len() as isize, 0usize, s.len());
        while plen > 0 && slen > 0 {
            match at(p) {
                b'*' => {
                    while plen > 0 && at(p + 1) == b'*' {
                        p += 1;
                        plen -= 1;
                    }
                    if plen == 1 {
                        return true;
                    }
                    while slen > 0 {
                        if reference_impl(&pat[p + 1..], &s[t..], nocase, skip_longer) {
                            return true;
                        }
                        if *skip_longer {
                            return false;
                        }
                        t += 1;
                        slen -= 1;
                    }
                    *skip_longer = true;
                    return false;
                }
                b'?' => {
                    t += 1;
                    slen -= 1;
                }
                b'[' => {
                    p += 1;
                    plen -= 1;
                    let not = at(p) == b'^';
                    if not {
                        p += 1;
                        plen -= 1;
                    }
                    let mut matched = false;
                    loop {
                        if at(p) == b'\\' && plen >= 2 {
                            p += 1;
                            plen -= 1;
                            if at(p) == s[t] {
                                matched = true;
                            }
                        } else if at(p) == b']' {
                            break;
                        } else if plen == 0 {
                            p -= 1;
                            plen += 1;
                            break;
                        } else if plen >= 3 && at(p + 1) == b'-' {
                            let (mut start, mut end) = (at(p) as i8 as i32, at(p + 2) as i8 as i32);
                            let mut c = s[t] as i8 as i32;
                            if start > end {
                                std::mem::swap(&mut start, &mut end);
                            }
                            if nocase {
                                start = lower(start as u8) as i8 as i32;
                                end = lower(end as u8) as i8 as i32;
                                c = lower(c as u8) as i8 as i32;
                            }
                            p += 2;
                            plen -= 2;
                            if c >= start && c <= end {
                                matched = true;
                            }
                        } else if (!nocase && at(p) == s[t])
                            || (nocase && lower(at(p)) == lower(s[t]))
                        {
                            matched = true;
                        }
                        p += 1;
                        plen -= 1;
                    }
                    if not {
                        matched = !matched;
                    }
                    if !matched {
                        return false;
                    }
                    t += 1;
                    slen -= 1;
                }
                first => {
                    let mut literal = first;
                    if first == b'\\' && plen >= 2 {
                        p += 1;
                        plen -= 1;
                        literal = at(p);
                    }
                    let equal = if nocase {
                        lower(literal) == lower(s[t])
                    } else {
                        literal == s[t]
                    };
                    if !equal {
                        return false;
                    }
                    t += 1;
                    slen -= 1;
                }
            }
            p += 1;
            plen -= 1;
            if slen == 0 {
                while at(p) == b'*' {
                    p += 1;
                    plen -= 1;
                }
                break;
            }
        }
        plen == 0 && slen == 0
    }

    /// xorshift64: deterministic pseudo-random bytes without a dependency.
    fn next_random(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn agrees_with_a_transcription_of_redis_on_random_inputs() {
        const PATTERN_BYTES: &[u8] = b"ab*?[]^-\\Az\xe9";
        const TEXT_BYTES: &[u8] = b"abAz-]^\\\xe9\x10";
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..200_000 {
            let pattern_len = (next_random(&mut state) % 8) as usize;
            let text_len = (next_random(&mut state) % 7) as usize;
            let pick = |state: &mut u64, from: &[u8]| {
                from[(next_random(state) % from.len() as u64) as usize]
            };
            let pattern: Vec<u8> = (0..pattern_len)
                .map(|_| pick(&mut state, PATTERN_BYTES))
                .collect();
            let text: Vec<u8> = (0..text_len)
                .map(|_| pick(&mut state, TEXT_BYTES))
                .collect();
            for nocase in [false, true] {
                assert_eq!(
                    glob_match(&pattern, &text, nocase),
                    redis_reference(&pattern, &text, nocase),
                    "pattern {:?} text {:?} nocase {nocase}",
                    String::from_utf8_lossy(&pattern),
                    String::from_utf8_lossy(&text),
                );
            }
        }
    }

    #[test]
    fn pathological_star_patterns_finish_quickly() {
        // Redis's recursive matcher needs `skipLongerMatches` here; a naive
        // backtracking one takes exponential time.
        let mut pattern = b"a*".repeat(60);
        pattern.push(b'b');
        let text = vec![b'a'; 5_000];
        let started = std::time::Instant::now();
        assert!(!glob_match(&pattern, &text, false));
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn huge_patterns_do_not_overflow_the_stack() {
        let pattern = b"*a".repeat(200_000);
        let text = vec![b'a'; 200_000];
        assert!(glob_match(&pattern, &text, false));
        let mut no_match = text.clone();
        no_match[100] = b'b';
        assert!(glob_match(&pattern[..pattern.len() - 2], &no_match, false));
    }
}
