//! Values for `__data__`: their sizes (`-d`, `--data-size-range`,
//! `--data-size-list`, `--data-size-pattern`) and their bytes (`x`s, or
//! random letters with `-R`).
//!
//! Every value is a slice of one buffer filled once per thread, so making a
//! value costs no allocation and no copying beyond the socket buffer.

use crate::rng::Rng;

/// The largest value the generator makes: values are slices of one buffer
/// of this size or less per thread.
pub const VALUE_BYTES_MAX: usize = 64 * 1024 * 1024;

/// Random-data values start at one of this many offsets into the buffer,
/// so consecutive values differ.
const RANDOM_OFFSETS: usize = 256;

/// How value sizes are chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSize {
    /// Every value has this size (`-d`).
    Fixed(usize),
    /// Sizes in `min..=max` (`--data-size-range`): random per request, or
    /// by the key's position in the key range with `--data-size-pattern=S`.
    Range {
        /// Smallest size.
        min: usize,
        /// Largest size.
        max: usize,
        /// `true` for `--data-size-pattern=S`.
        by_key: bool,
    },
    /// Sizes drawn from `size:weight` pairs (`--data-size-list`).
    Weighted(Vec<(usize, u32)>),
}

impl DataSize {
    /// The largest size this can produce.
    pub fn max(&self) -> usize {
        match self {
            DataSize::Fixed(size) => *size,
            DataSize::Range { max, .. } => *max,
            DataSize::Weighted(list) => list.iter().map(|&(size, _)| size).max().unwrap_or(0),
        }
    }

    /// Parses `min-max`.
    pub fn parse_range(text: &str) -> Option<(usize, usize)> {
        let (min, max) = text.split_once('-')?;
        let (min, max) = (min.parse().ok()?, max.parse().ok()?);
        (min >= 1 && min <= max).then_some((min, max))
    }

    /// Parses `size1:weight1,size2:weight2,…`.
    pub fn parse_list(text: &str) -> Option<Vec<(usize, u32)>> {
        let list: Option<Vec<(usize, u32)>> = text
            .split(',')
            .map(|pair| {
                let (size, weight) = pair.split_once(':')?;
                Some((size.parse().ok()?, weight.parse().ok()?))
            })
            .collect();
        let list = list?;
        let total: u64 = list.iter().map(|&(_, weight)| u64::from(weight)).sum();
        (total > 0 && list.iter().all(|&(size, _)| size >= 1)).then_some(list)
    }
}

/// One thread's value source.
#[derive(Debug, Clone)]
pub struct Values {
    sizes: DataSize,
    bytes: Vec<u8>,
    random: bool,
    weight_total: u64,
}

impl Values {
    /// Fills the buffer once: `x`s, or random letters and digits.
    pub fn new(sizes: DataSize, random: bool, seed: u64) -> Values {
        let max = sizes.max();
        debug_assert!(max <= VALUE_BYTES_MAX);
        let len = max + if random { RANDOM_OFFSETS } else { 0 };
        let bytes = if random {
            const ALPHABET: &[u8; 62] =
                b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
            let mut rng = Rng::new(seed ^ 0xda7a);
            (0..len)
                .map(|_| ALPHABET[rng.below(ALPHABET.len() as u64) as usize])
                .collect()
        } else {
            vec![b'x'; len]
        };
        let weight_total = match &sizes {
            DataSize::Weighted(list) => list.iter().map(|&(_, w)| u64::from(w)).sum(),
            _ => 0,
        };
        Values {
            sizes,
            bytes,
            random,
            weight_total,
        }
    }

    /// The value for key `key` of the range `key_range`.
    #[inline]
    pub fn value(&self, key: u64, key_range: (u64, u64), rng: &mut Rng) -> &[u8] {
        let len = self.size(key, key_range, rng);
        let start = if self.random {
            rng.below(RANDOM_OFFSETS as u64) as usize
        } else {
            0
        };
        &self.bytes[start..start + len]
    }

    fn size(&self, key: u64, (low, high): (u64, u64), rng: &mut Rng) -> usize {
        match &self.sizes {
            DataSize::Fixed(size) => *size,
            DataSize::Range { min, max, by_key } => {
                if *by_key {
                    let position = if high > low {
                        (key.clamp(low, high) - low) as f64 / (high - low) as f64
                    } else {
                        0.0
                    };
                    min + ((max - min) as f64 * position) as usize
                } else {
                    rng.between(*min as u64, *max as u64) as usize
                }
            }
            DataSize::Weighted(list) => {
                let mut pick = rng.below(self.weight_total);
                for &(size, weight) in list {
                    if pick < u64::from(weight) {
                        return size;
                    }
                    pick -= u64::from(weight);
                }
                list.last().map_or(0, |&(size, _)| size)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_values_are_xs_of_that_size() {
        let values = Values::new(DataSize::Fixed(5), false, 1);
        assert_eq!(values.value(3, (0, 9), &mut Rng::new(1)), b"xxxxx");
    }

    #[test]
    fn ranges_stay_in_range_and_by_key_grows_with_the_key() {
        let values = Values::new(
            DataSize::Range {
                min: 10,
                max: 20,
                by_key: false,
            },
            true,
            1,
        );
        let mut rng = Rng::new(2);
        for _ in 0..1000 {
            let value = values.value(0, (0, 9), &mut rng);
            assert!((10..=20).contains(&value.len()));
            assert!(value.iter().all(u8::is_ascii_alphanumeric));
        }
        let by_key = Values::new(
            DataSize::Range {
                min: 10,
                max: 20,
                by_key: true,
            },
            false,
            1,
        );
        assert_eq!(by_key.value(100, (100, 200), &mut rng).len(), 10);
        assert_eq!(by_key.value(150, (100, 200), &mut rng).len(), 15);
        assert_eq!(by_key.value(200, (100, 200), &mut rng).len(), 20);
    }

    #[test]
    fn weighted_sizes_follow_their_weights() {
        let list = DataSize::parse_list("10:3,100:1").unwrap();
        let values = Values::new(DataSize::Weighted(list), false, 1);
        let mut rng = Rng::new(4);
        let small = (0..40_000)
            .filter(|_| values.value(0, (0, 0), &mut rng).len() == 10)
            .count();
        assert!((29_000..31_000).contains(&small), "{small}");
    }

    #[test]
    fn bad_ranges_and_lists_are_refused() {
        assert_eq!(DataSize::parse_range("5-10"), Some((5, 10)));
        assert_eq!(DataSize::parse_range("0-10"), None);
        assert_eq!(DataSize::parse_range("10-5"), None);
        assert_eq!(DataSize::parse_list("10:0"), None);
        assert_eq!(DataSize::parse_list("10"), None);
    }
}
