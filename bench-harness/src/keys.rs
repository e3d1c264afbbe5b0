//! Key patterns as memtier names them: which key index a request uses.
//!
//! - `R` uniform random over the key range;
//! - `S` sequential from the minimum, wrapping at the maximum, per connection;
//! - `G` gaussian around `--key-median` (default the middle of the range)
//!   with `--key-stddev` (default a sixth of the range), redrawn until in range;
//! - `Z` zipf with exponent `--key-zipf-exp`, rank 1 being the minimum key;
//! - `P` parallel: the range is cut into one slice per connection and each
//!   connection walks its own slice sequentially, so together they touch
//!   every key once per pass (what a prefill wants).
//!
//! Keys are `--key-prefix` followed by the decimal index.

use crate::rng::Rng;

/// How a command picks its key index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPattern {
    /// `R`: uniform random.
    Random,
    /// `S`: sequential per connection.
    Sequential,
    /// `G`: gaussian.
    Gaussian,
    /// `Z`: zipf.
    Zipf,
    /// `P`: sequential over this connection's slice of the range.
    Parallel,
}

impl KeyPattern {
    /// The pattern memtier names by `letter`.
    pub fn from_letter(letter: &str) -> Option<KeyPattern> {
        match letter {
            "R" => Some(KeyPattern::Random),
            "S" => Some(KeyPattern::Sequential),
            "G" => Some(KeyPattern::Gaussian),
            "Z" => Some(KeyPattern::Zipf),
            "P" => Some(KeyPattern::Parallel),
            _ => None,
        }
    }

    /// The pattern's letter.
    pub fn letter(self) -> char {
        match self {
            KeyPattern::Random => 'R',
            KeyPattern::Sequential => 'S',
            KeyPattern::Gaussian => 'G',
            KeyPattern::Zipf => 'Z',
            KeyPattern::Parallel => 'P',
        }
    }
}

/// Parses memtier's `--key-pattern` value, `SET:GET` such as `R:R` or `P:P`.
pub fn parse_pair(text: &str) -> Option<(KeyPattern, KeyPattern)> {
    let (set, get) = text.split_once(':')?;
    Some((KeyPattern::from_letter(set)?, KeyPattern::from_letter(get)?))
}

/// The key range and distribution parameters shared by all connections.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeySpace {
    /// `--key-minimum`.
    pub min: u64,
    /// `--key-maximum` (inclusive).
    pub max: u64,
    /// `--key-stddev`, if given.
    pub stddev: Option<f64>,
    /// `--key-median`, if given.
    pub median: Option<f64>,
    /// `--key-zipf-exp`.
    pub zipf_exp: f64,
}

impl KeySpace {
    /// How many keys the range holds (saturating at `u64::MAX`).
    pub fn len(&self) -> u64 {
        (self.max - self.min).saturating_add(1)
    }

    /// A range always holds at least one key.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// The slice of `min..=max` that connection `client` of `clients` owns
/// under `P`: equal slices, the last one taking the leftover. Needs at
/// least as many keys as connections (checked when flags are read).
pub fn client_slice(min: u64, max: u64, client: u64, clients: u64) -> (u64, u64) {
    debug_assert!(client < clients);
    let width = (max - min) / clients + 1;
    let low = min.saturating_add(width.saturating_mul(client)).min(max);
    let high = if client + 1 == clients {
        max
    } else {
        low.saturating_add(width - 1).min(max)
    };
    (low, high)
}

/// One connection's key source for one command.
#[derive(Debug, Clone)]
pub struct KeyGen {
    pattern: KeyPattern,
    low: u64,
    high: u64,
    next: u64,
    median: f64,
    stddev: f64,
    spare_normal: Option<f64>,
    zipf: Option<Zipf>,
}

impl KeyGen {
    /// The key source of connection `client` (of `clients`) for `pattern`.
    pub fn new(pattern: KeyPattern, space: &KeySpace, client: u64, clients: u64) -> KeyGen {
        let (low, high) = if pattern == KeyPattern::Parallel {
            client_slice(space.min, space.max, client, clients)
        } else {
            (space.min, space.max)
        };
        let span = (high - low) as f64;
        KeyGen {
            pattern,
            low,
            high,
            next: low,
            median: space.median.unwrap_or(low as f64 + span / 2.0 + 0.5),
            stddev: space.stddev.unwrap_or(span / 6.0),
            spare_normal: None,
            zipf: (pattern == KeyPattern::Zipf).then(|| Zipf::new(high - low + 1, space.zipf_exp)),
        }
    }

    /// The inclusive range of indices this source draws from.
    pub fn range(&self) -> (u64, u64) {
        (self.low, self.high)
    }

    /// The next key index.
    #[inline]
    pub fn next_index(&mut self, rng: &mut Rng) -> u64 {
        match self.pattern {
            KeyPattern::Random => rng.between(self.low, self.high),
            KeyPattern::Sequential | KeyPattern::Parallel => {
                let index = self.next;
                self.next = if index >= self.high {
                    self.low
                } else {
                    index + 1
                };
                index
            }
            KeyPattern::Gaussian => self.gaussian(rng),
            KeyPattern::Zipf => {
                let rank = self.zipf.as_ref().map_or(1, |zipf| zipf.sample(rng));
                self.low + (rank - 1)
            }
        }
    }

    fn gaussian(&mut self, rng: &mut Rng) -> u64 {
        if self.low == self.high {
            return self.low;
        }
        loop {
            let value = self.median + self.stddev * self.standard_normal(rng);
            // The upper bound is one past the maximum, so that flooring keeps
            // the maximum as likely as its neighbours.
            if value >= self.low as f64 && value < self.high as f64 + 1.0 {
                return (value as u64).min(self.high);
            }
        }
    }

    /// A standard normal deviate by the Marsaglia polar method, which makes
    /// two at a time; the second is kept for the next call.
    fn standard_normal(&mut self, rng: &mut Rng) -> f64 {
        if let Some(spare) = self.spare_normal.take() {
            return spare;
        }
        loop {
            let u = rng.unit() * 2.0 - 1.0;
            let v = rng.unit() * 2.0 - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let factor = (-2.0 * s.ln() / s).sqrt();
                self.spare_normal = Some(v * factor);
                return u * factor;
            }
        }
    }
}

/// Zipf ranks `1..=n` with probability ∝ rank^-exponent, sampled by
/// rejection-inversion (Hörmann and Derflinger, 1996): invert the integral
/// of the continuous density, round, and accept unless the rounded rank
/// falls outside the discrete mass. Constant memory and time for any `n`.
#[derive(Debug, Clone)]
struct Zipf {
    n: f64,
    exponent: f64,
    h_x1: f64,
    h_n: f64,
    s: f64,
}

impl Zipf {
    fn new(n: u64, exponent: f64) -> Zipf {
        let mut zipf = Zipf {
            n: n as f64,
            exponent,
            h_x1: 0.0,
            h_n: 0.0,
            s: 0.0,
        };
        zipf.h_x1 = zipf.h_integral(1.5) - 1.0;
        zipf.h_n = zipf.h_integral(zipf.n + 0.5);
        zipf.s = 2.0 - zipf.h_integral_inverse(zipf.h_integral(2.5) - zipf.h(2.0));
        zipf
    }

    fn sample(&self, rng: &mut Rng) -> u64 {
        loop {
            let u = self.h_n + rng.unit() * (self.h_x1 - self.h_n);
            let x = self.h_integral_inverse(u);
            let k = x.round().clamp(1.0, self.n);
            if k - x <= self.s || u >= self.h_integral(k + 0.5) - self.h(k) {
                return k as u64;
            }
        }
    }

    /// The density, x^-exponent.
    fn h(&self, x: f64) -> f64 {
        (-self.exponent * x.ln()).exp()
    }

    /// An antiderivative of the density: (x^(1-e) - 1) / (1-e), ln x at e = 1.
    fn h_integral(&self, x: f64) -> f64 {
        let log_x = x.ln();
        helper2((1.0 - self.exponent) * log_x) * log_x
    }

    fn h_integral_inverse(&self, x: f64) -> f64 {
        let t = (x * (1.0 - self.exponent)).max(-1.0);
        (helper1(t) * x).exp()
    }
}

/// ln(1+x)/x, accurate near 0.
fn helper1(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        x.ln_1p() / x
    } else {
        1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x))
    }
}

/// (e^x - 1)/x, accurate near 0.
fn helper2(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        x.exp_m1() / x
    } else {
        1.0 + x * 0.5 * (1.0 + x * (1.0 / 3.0) * (1.0 + 0.25 * x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(min: u64, max: u64) -> KeySpace {
        KeySpace {
            min,
            max,
            stddev: None,
            median: None,
            zipf_exp: 1.0,
        }
    }

    #[test]
    fn key_pattern_pairs_parse_as_memtier_writes_them() {
        assert_eq!(
            parse_pair("S:R"),
            Some((KeyPattern::Sequential, KeyPattern::Random))
        );
        assert_eq!(parse_pair("P:P").map(|p| p.0), Some(KeyPattern::Parallel));
        assert_eq!(parse_pair("R"), None);
        assert_eq!(parse_pair("X:R"), None);
    }

    #[test]
    fn sequential_walks_the_range_and_wraps() {
        let mut rng = Rng::new(1);
        let mut keys = KeyGen::new(KeyPattern::Sequential, &space(5, 7), 3, 4);
        let drawn: Vec<u64> = (0..7).map(|_| keys.next_index(&mut rng)).collect();
        assert_eq!(drawn, [5, 6, 7, 5, 6, 7, 5]);
    }

    #[test]
    fn parallel_slices_cover_the_range_once_without_overlap() {
        let clients = 7;
        let mut seen = vec![0u32; 101];
        for client in 0..clients {
            let mut keys = KeyGen::new(KeyPattern::Parallel, &space(0, 100), client, clients);
            let (low, high) = keys.range();
            let mut rng = Rng::new(1);
            for _ in low..=high {
                seen[keys.next_index(&mut rng) as usize] += 1;
            }
        }
        assert!(seen.iter().all(|&count| count == 1), "{seen:?}");
    }

    #[test]
    fn parallel_last_client_takes_the_leftover() {
        assert_eq!(client_slice(1, 10, 0, 3), (1, 4));
        assert_eq!(client_slice(1, 10, 1, 3), (5, 8));
        assert_eq!(client_slice(1, 10, 2, 3), (9, 10));
    }

    #[test]
    fn random_is_uniform_over_the_range() {
        let mut rng = Rng::new(9);
        let mut keys = KeyGen::new(KeyPattern::Random, &space(0, 9), 0, 1);
        let mut counts = [0u32; 10];
        for _ in 0..100_000 {
            counts[keys.next_index(&mut rng) as usize] += 1;
        }
        for count in counts {
            assert!((9_000..11_000).contains(&count), "{counts:?}");
        }
    }

    #[test]
    fn gaussian_centres_on_the_median_with_the_stddev() {
        let mut rng = Rng::new(5);
        let mut keys = KeyGen::new(KeyPattern::Gaussian, &space(0, 6_000), 0, 1);
        let draws: Vec<f64> = (0..200_000)
            .map(|_| keys.next_index(&mut rng) as f64)
            .collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        let var = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / draws.len() as f64;
        assert!((mean - 3_000.0).abs() < 10.0, "mean {mean}");
        // Truncation at ±3σ shrinks the deviation by about 1.4%.
        assert!((var.sqrt() - 1_000.0).abs() < 30.0, "stddev {}", var.sqrt());
        assert!(draws.iter().all(|&d| (0.0..=6_000.0).contains(&d)));
    }

    #[test]
    fn gaussian_honours_an_explicit_median() {
        let mut rng = Rng::new(5);
        let mut keyspace = space(0, 1_000);
        keyspace.median = Some(100.0);
        keyspace.stddev = Some(10.0);
        let mut keys = KeyGen::new(KeyPattern::Gaussian, &keyspace, 0, 1);
        let mean = (0..10_000)
            .map(|_| keys.next_index(&mut rng) as f64)
            .sum::<f64>()
            / 10_000.0;
        assert!((mean - 100.0).abs() < 1.0, "mean {mean}");
    }

    #[test]
    fn zipf_rank_frequencies_follow_the_power_law() {
        let mut rng = Rng::new(11);
        let mut keys = KeyGen::new(KeyPattern::Zipf, &space(10, 1_009), 0, 1);
        let mut counts = vec![0u32; 1_000];
        let draws = 400_000;
        for _ in 0..draws {
            let index = keys.next_index(&mut rng);
            assert!((10..=1_009).contains(&index));
            counts[(index - 10) as usize] += 1;
        }
        // With exponent 1, p(k) = 1 / (k · H_n): rank 1 about 13.4%, rank 2 half of it.
        let harmonic: f64 = (1..=1_000).map(|k| 1.0 / f64::from(k)).sum();
        let expected_first = f64::from(draws) / harmonic;
        let first = f64::from(counts[0]);
        assert!(
            (first / expected_first - 1.0).abs() < 0.03,
            "{first} vs {expected_first}"
        );
        let ratio = first / f64::from(counts[1]);
        assert!((ratio - 2.0).abs() < 0.1, "rank1/rank2 {ratio}");
    }

    #[test]
    fn one_key_ranges_always_give_that_key() {
        let mut rng = Rng::new(1);
        for pattern in [
            KeyPattern::Random,
            KeyPattern::Sequential,
            KeyPattern::Gaussian,
            KeyPattern::Zipf,
            KeyPattern::Parallel,
        ] {
            let mut keys = KeyGen::new(pattern, &space(42, 42), 0, 1);
            assert_eq!(keys.next_index(&mut rng), 42, "{pattern:?}");
            assert_eq!(keys.next_index(&mut rng), 42, "{pattern:?}");
        }
    }
}
