//! The kernel's CPU list syntax (`0-3,8,10-11`), read and written.
//!
//! Linux prints CPU sets this way in `/sys` (`cpulist`, `cpu/online`) and
//! `taskset -c` reads it, so `--cpus` takes the same syntax: one parser serves
//! both, and one formatter renders the placement plan.

use std::fmt::Write as _;

use crate::error::{Error, ErrorKind};

/// One more than the highest CPU number accepted anywhere in this crate.
///
/// 8192 is the largest `NR_CPUS` a Linux x86-64 kernel can be built with. The
/// bound keeps a typo such as `0-4000000000` from allocating gigabytes: the
/// parser holds its set in a fixed bitmap of this many bits.
pub const CPUS_MAX: usize = 8192;

/// Bits per word of the parser's bitmap.
const WORD_BITS: usize = u64::BITS as usize;
const _: () = assert!(CPUS_MAX % WORD_BITS == 0);

/// Parses a CPU list such as `0-3,8` into sorted, distinct CPU numbers.
///
/// Entries are single CPUs (`8`) or inclusive ranges (`0-3`), separated by
/// commas; spaces around entries and a trailing newline (as `/sys` files end)
/// are ignored. An empty or all-blank text is the empty set, because that is
/// how `/sys` writes a NUMA node without CPUs. Every error names the entry at
/// fault and says what is wrong with it.
pub fn parse_cpu_list(text: &str) -> Result<Vec<usize>, Error> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut set = [0u64; CPUS_MAX / WORD_BITS];
    for entry in text.split(',') {
        let (first, last) = parse_entry(entry.trim(), text)?;
        for cpu in first..=last {
            set[cpu / WORD_BITS] |= 1 << (cpu % WORD_BITS);
        }
    }
    Ok(bitmap_to_cpus(&set))
}

/// Parses one entry, `N` or `N-M`, into an inclusive range; `whole` is the
/// full list, quoted when the entry itself is empty and so cannot be shown.
fn parse_entry(entry: &str, whole: &str) -> Result<(usize, usize), Error> {
    if entry.is_empty() {
        return Err(Error::new(
            ErrorKind::CpuList,
            whole,
            "empty entry (a comma at an end, or two in a row)",
        ));
    }
    let (first, last) = match entry.split_once('-') {
        Some((first, last)) => (
            parse_cpu(first.trim(), entry)?,
            parse_cpu(last.trim(), entry)?,
        ),
        None => {
            let cpu = parse_cpu(entry, entry)?;
            (cpu, cpu)
        }
    };
    if first > last {
        return Err(Error::new(
            ErrorKind::CpuList,
            entry,
            "the range ends before it starts",
        ));
    }
    Ok((first, last))
}

/// Parses one CPU number of `entry`. Only ASCII digits are accepted, because
/// `usize::from_str` would also take a sign (`+3`), which no CPU list uses.
fn parse_cpu(digits: &str, entry: &str) -> Result<usize, Error> {
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        let detail = if digits.is_empty() {
            "a range needs a CPU number on each side of `-`".to_string()
        } else {
            format!("`{digits}` is not a CPU number")
        };
        return Err(Error::new(ErrorKind::CpuList, entry, detail));
    }
    match digits.parse::<usize>() {
        Ok(cpu) if cpu < CPUS_MAX => Ok(cpu),
        // Too long to parse is also above the bound; say the same thing.
        _ => Err(Error::new(
            ErrorKind::CpuList,
            entry,
            format!(
                "CPU `{digits}` is above the highest supported, {}",
                CPUS_MAX - 1
            ),
        )),
    }
}

/// The CPUs whose bits are set, in increasing order.
fn bitmap_to_cpus(set: &[u64]) -> Vec<usize> {
    let mut cpus = Vec::new();
    for (index, &word) in set.iter().enumerate() {
        let mut rest = word;
        while rest != 0 {
            let bit = rest.trailing_zeros() as usize;
            cpus.push(index * WORD_BITS + bit);
            rest &= rest - 1;
        }
    }
    cpus
}

/// Writes CPUs in the same syntax, runs compressed into ranges: `[0, 1, 2, 3,
/// 8]` becomes `0-3,8`. The input is sorted and deduplicated first, so any
/// order works; the empty set is the empty string.
pub fn format_cpu_list(cpus: &[usize]) -> String {
    let mut sorted = cpus.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut text = String::new();
    let mut index = 0;
    while index < sorted.len() {
        let first = sorted[index];
        // Extend the run while each next CPU is one more than the last.
        let mut last = first;
        while index + 1 < sorted.len() && sorted[index + 1] == last + 1 {
            index += 1;
            last = sorted[index];
        }
        if !text.is_empty() {
            text.push(',');
        }
        // Writing to a String cannot fail.
        let _ = if first == last {
            write!(text, "{first}")
        } else {
            write!(text, "{first}-{last}")
        };
        index += 1;
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> Error {
        match parse_cpu_list(text) {
            Ok(cpus) => panic!("{text:?} parsed as {cpus:?}, expected an error"),
            Err(error) => error,
        }
    }

    #[test]
    fn parses_single_cpus_and_ranges() {
        assert_eq!(parse_cpu_list("0-3,8").unwrap(), vec![0, 1, 2, 3, 8]);
        assert_eq!(parse_cpu_list("5").unwrap(), vec![5]);
        assert_eq!(parse_cpu_list("7-7").unwrap(), vec![7]);
    }

    #[test]
    fn parses_sysfs_text_with_trailing_newline() {
        assert_eq!(
            parse_cpu_list("0-15,32-47\n").unwrap(),
            (0..16).chain(32..48).collect::<Vec<_>>()
        );
    }

    #[test]
    fn empty_text_is_the_empty_set() {
        assert_eq!(parse_cpu_list("").unwrap(), Vec::<usize>::new());
        assert_eq!(parse_cpu_list("\n").unwrap(), Vec::<usize>::new());
    }

    #[test]
    fn output_is_sorted_and_distinct() {
        assert_eq!(
            parse_cpu_list("8,0-3,2,3-4").unwrap(),
            vec![0, 1, 2, 3, 4, 8]
        );
    }

    #[test]
    fn spaces_around_entries_are_ignored() {
        assert_eq!(parse_cpu_list(" 0 - 1 , 4 ").unwrap(), vec![0, 1, 4]);
    }

    #[test]
    fn highest_cpu_is_accepted() {
        assert_eq!(parse_cpu_list("8191").unwrap(), vec![CPUS_MAX - 1]);
    }

    #[test]
    fn non_number_is_named() {
        let error = error_of("0-3,x");
        assert_eq!(error.kind(), ErrorKind::CpuList);
        assert_eq!(error.value(), "x");
        assert_eq!(
            error.to_string(),
            "invalid CPU list entry `x`: `x` is not a CPU number"
        );
    }

    #[test]
    fn bad_half_of_a_range_is_named() {
        let error = error_of("0-3,4-y");
        assert_eq!(error.value(), "4-y");
        assert!(
            error.to_string().contains("`y` is not a CPU number"),
            "{error}"
        );
    }

    #[test]
    fn signs_are_rejected() {
        assert_eq!(error_of("+3").value(), "+3");
        assert_eq!(error_of("-3").value(), "-3");
    }

    #[test]
    fn open_range_is_rejected() {
        let error = error_of("2-");
        assert_eq!(error.value(), "2-");
        assert!(error.to_string().contains("each side of `-`"), "{error}");
    }

    #[test]
    fn reversed_range_is_rejected() {
        let error = error_of("0,5-3");
        assert_eq!(error.value(), "5-3");
        assert_eq!(
            error.to_string(),
            "invalid CPU list entry `5-3`: the range ends before it starts"
        );
    }

    #[test]
    fn empty_entries_are_rejected() {
        assert_eq!(error_of("0,,1").value(), "0,,1");
        assert_eq!(error_of("0,").value(), "0,");
        assert!(error_of(",0").to_string().contains("empty entry"));
    }

    #[test]
    fn cpu_above_the_bound_is_rejected() {
        let error = error_of("0-8192");
        assert_eq!(error.value(), "0-8192");
        assert!(error
            .to_string()
            .contains("above the highest supported, 8191"));
        // Too many digits for a usize is the same error, not a panic.
        assert_eq!(
            error_of("99999999999999999999999").kind(),
            ErrorKind::CpuList
        );
    }

    #[test]
    fn formats_runs_as_ranges() {
        assert_eq!(format_cpu_list(&[0, 1, 2, 3, 8]), "0-3,8");
        assert_eq!(format_cpu_list(&[8, 3, 2, 1, 0, 3]), "0-3,8");
        assert_eq!(format_cpu_list(&[5]), "5");
        assert_eq!(format_cpu_list(&[1, 3, 5]), "1,3,5");
        assert_eq!(format_cpu_list(&[]), "");
    }

    #[test]
    fn format_and_parse_round_trip() {
        let cpus: Vec<usize> = (0..16).chain(32..48).chain([60, 62, 63]).collect();
        let text = format_cpu_list(&cpus);
        assert_eq!(text, "0-15,32-47,60,62-63");
        assert_eq!(parse_cpu_list(&text).unwrap(), cpus);
    }
}
