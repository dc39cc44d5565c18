//! The topic-matching workload of `benches/topics.rs` and `tests/topics_memory.rs`: a
//! deterministic set of [`FILTERS`] subscriptions and [`TOPICS`] topic names shaped like IoT
//! topics (`site/building/floor/device/sensor/metric/stat`), built by [`workload`].
//!
//! The filters (3 to 7 levels, more often 4 to 6) are, by kind:
//!
//! - about 50% exact (`site-3/bldg-2/floor-7/dev-41/temp`), 1 in 100 of them under `$SYS`;
//! - about 25% with `+` in one or two levels (any level, the first included);
//! - about 20% ending with `#` (`site-3/bldg-2/#`, 2 to 6 levels before the `#`);
//! - about 5% shared (`$share/g{n}/…`, `n` in 0..4) over a pool of 200 filters of the kinds
//!   above, so that each group has several members.
//!
//! Each filter has a client identifier (a `u32`, 20,000 clients, about five filters each;
//! no client has the same filter twice). The topics are 70% instances of a random filter
//! (`+` replaced by a level, `#` by zero to two levels), so that a good share match
//! something, and 30% drawn freely from the same vocabulary; 1 in 100 start with `$SYS`.
//!
//! Everything comes from a fixed-seed xorshift generator: the same workload on every run.

use std::collections::HashSet;

/// How many filters [`workload`] makes.
pub const FILTERS: usize = 100_000;
/// How many topic names [`workload`] makes.
pub const TOPICS: usize = 10_000;
/// How many clients the filters belong to.
pub const CLIENTS: u32 = 20_000;
/// The seed of [`workload`].
pub const SEED: u64 = 0x7091_c5ee_d000_0001;

/// A xorshift64* generator: deterministic, no dependencies.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator starting from `seed` (0 is replaced by a fixed non-zero value).
    pub fn new(seed: u64) -> Self {
        XorShift(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n > 0`; slightly biased, which does not matter here).
    pub fn below(&mut self, n: u32) -> u32 {
        ((self.next_u64() >> 32) % u64::from(n.max(1))) as u32
    }
}

/// The vocabulary of each level: a prefix and how many values it takes (`site-0` to
/// `site-7`, …), or a fixed list.
const LEVELS: [Level; 7] = [
    Level::Numbered("site-", 8),
    Level::Numbered("bldg-", 10),
    Level::Numbered("floor-", 10),
    Level::Numbered("dev-", 50),
    Level::Words(&[
        "temp", "humidity", "co2", "power", "door", "motion", "light", "pressure",
    ]),
    Level::Words(&["value", "status", "config", "alarm"]),
    Level::Words(&["raw", "avg", "min", "max"]),
];

#[derive(Debug, Clone, Copy)]
enum Level {
    Numbered(&'static str, u32),
    Words(&'static [&'static str]),
}

/// A random value of level `depth` (0 to 6).
fn level(rng: &mut XorShift, depth: usize) -> String {
    match LEVELS.get(depth) {
        Some(Level::Numbered(prefix, n)) => format!("{prefix}{}", rng.below(*n)),
        Some(Level::Words(words)) => words
            .get(rng.below(words.len() as u32) as usize)
            .map_or_else(String::new, |w| (*w).to_string()),
        None => String::from("x"),
    }
}

/// A level count from 3 to 7, weighted towards 4 to 6.
fn depth(rng: &mut XorShift) -> usize {
    const WEIGHTS: [(usize, u32); 5] = [(3, 10), (4, 25), (5, 30), (6, 25), (7, 10)];
    let mut roll = rng.below(100);
    for (d, w) in WEIGHTS {
        if roll < w {
            return d;
        }
        roll -= w;
    }
    5
}

/// `n` random levels; with probability 1/100 the first is `$SYS`.
fn path(rng: &mut XorShift, n: usize) -> Vec<String> {
    let mut levels: Vec<String> = (0..n).map(|d| level(rng, d)).collect();
    if rng.below(100) == 0 {
        if let Some(first) = levels.first_mut() {
            *first = String::from("$SYS");
        }
    }
    levels
}

/// A filter of one of the non-shared kinds: 50 exact, 25 `+`, 20 `#` (out of 95).
fn plain_filter(rng: &mut XorShift) -> String {
    let roll = rng.below(95);
    let n = depth(rng);
    if roll < 50 {
        path(rng, n).join("/")
    } else if roll < 75 {
        let mut levels: Vec<String> = (0..n).map(|d| level(rng, d)).collect();
        let pluses = 1 + rng.below(2) as usize;
        for _ in 0..pluses {
            let at = rng.below(n as u32) as usize;
            if let Some(l) = levels.get_mut(at) {
                *l = String::from("+");
            }
        }
        levels.join("/")
    } else {
        // 2 to 6 levels before the `#`.
        let before = n.clamp(3, 7) - 1;
        let mut levels: Vec<String> = (0..before).map(|d| level(rng, d)).collect();
        levels.push(String::from("#"));
        levels.join("/")
    }
}

/// The kind of a filter, as [`Workload::kind_counts`] counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// No wildcard.
    Exact,
    /// `+` in one or more levels, no `#`.
    Plus,
    /// Ends with `#`.
    Hash,
    /// `$share/{group}/…`.
    Shared,
}

/// One subscription of the workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sub {
    /// The subscribing client.
    pub client: u32,
    /// The filter, `$share/g{n}/…` for a shared one.
    pub filter: String,
}

impl Sub {
    /// The share name and the filter proper.
    pub fn split(&self) -> (Option<&str>, &str) {
        match self.filter.strip_prefix("$share/") {
            Some(rest) => match rest.split_once('/') {
                Some((group, f)) => (Some(group), f),
                None => (None, &self.filter),
            },
            None => (None, &self.filter),
        }
    }

    /// Its kind.
    pub fn kind(&self) -> Kind {
        let (group, f) = self.split();
        if group.is_some() {
            Kind::Shared
        } else if f.ends_with('#') {
            Kind::Hash
        } else if f.split('/').any(|l| l == "+") {
            Kind::Plus
        } else {
            Kind::Exact
        }
    }
}

/// The filters and topics.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The subscriptions, in subscription order.
    pub subs: Vec<Sub>,
    /// The topic names.
    pub topics: Vec<String>,
}

impl Workload {
    /// (exact, `+`, `#`, shared) filter counts.
    pub fn kind_counts(&self) -> (usize, usize, usize, usize) {
        let mut c = (0, 0, 0, 0);
        for s in &self.subs {
            match s.kind() {
                Kind::Exact => c.0 += 1,
                Kind::Plus => c.1 += 1,
                Kind::Hash => c.2 += 1,
                Kind::Shared => c.3 += 1,
            }
        }
        c
    }
}

/// An instance of `filter` (no `$share` prefix): `+` replaced by a level, `#` by zero to
/// two levels (within seven levels in all).
fn instance(rng: &mut XorShift, filter: &str) -> String {
    let mut levels: Vec<String> = Vec::new();
    for (d, l) in filter.split('/').enumerate() {
        match l {
            "+" => levels.push(level(rng, d)),
            "#" => {
                let extra = rng.below(3) as usize;
                for e in 0..extra {
                    if d + e < 7 {
                        levels.push(level(rng, d + e));
                    }
                }
            }
            _ => levels.push(l.to_string()),
        }
    }
    if levels.is_empty() {
        levels.push(level(rng, 0));
    }
    levels.join("/")
}

/// The first `filters` subscriptions and `topics` topics of the workload from `seed` (see
/// the module documentation).
pub fn workload_sized(filters: usize, topics: usize, seed: u64) -> Workload {
    let mut rng = XorShift::new(seed);
    // The pool the shared subscriptions draw from.
    let pool: Vec<String> = (0..200).map(|_| plain_filter(&mut rng)).collect();
    let mut seen: HashSet<(u32, String)> = HashSet::with_capacity(filters);
    let mut subs = Vec::with_capacity(filters);
    let mut i = 0u32;
    while subs.len() < filters {
        let client = (i / 5) % CLIENTS;
        i = i.wrapping_add(1);
        let filter = if rng.below(100) < 5 {
            let base = pool
                .get(rng.below(pool.len() as u32) as usize)
                .cloned()
                .unwrap_or_default();
            format!("$share/g{}/{base}", rng.below(4))
        } else {
            plain_filter(&mut rng)
        };
        if seen.insert((client, filter.clone())) {
            subs.push(Sub { client, filter });
        }
    }
    let mut names = Vec::with_capacity(topics);
    while names.len() < topics {
        let t = if rng.below(100) < 70 {
            let s = subs
                .get(rng.below(subs.len() as u32) as usize)
                .map(|s| s.split().1.to_string())
                .unwrap_or_default();
            instance(&mut rng, &s)
        } else {
            let n = depth(&mut rng);
            path(&mut rng, n).join("/")
        };
        names.push(t);
    }
    Workload {
        subs,
        topics: names,
    }
}

/// The workload of the benchmarks: [`FILTERS`] subscriptions and [`TOPICS`] topics from
/// [`SEED`].
pub fn workload() -> Workload {
    workload_sized(FILTERS, TOPICS, SEED)
}

/// What a linear scan with `mqtt_codec::matches` finds for one topic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinearMatch<'a> {
    /// The clients of the matching non-shared subscriptions, sorted, deduplicated.
    pub clients: Vec<u32>,
    /// The matching shared subscriptions as `(share name, filter)`, sorted, deduplicated.
    pub groups: Vec<(&'a str, &'a str)>,
    /// The clients of the matching shared subscriptions, sorted, deduplicated.
    pub members: Vec<u32>,
}

/// Scans every subscription of `subs` for `topic`, once.
pub fn linear_match<'a>(subs: &'a [Sub], topic: &str) -> LinearMatch<'a> {
    let mut m = LinearMatch::default();
    for s in subs {
        match s.split() {
            (Some(g), f) => {
                if mqtt_codec::matches(f, topic) {
                    m.groups.push((g, f));
                    m.members.push(s.client);
                }
            }
            (None, f) => {
                if mqtt_codec::matches(f, topic) {
                    m.clients.push(s.client);
                }
            }
        }
    }
    for v in [&mut m.clients, &mut m.members] {
        v.sort_unstable();
        v.dedup();
    }
    m.groups.sort_unstable();
    m.groups.dedup();
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_and_validity() {
        let w = workload_sized(20_000, 1_000, SEED);
        let (e, p, h, s) = w.kind_counts();
        let n = w.subs.len() as f64;
        assert!((e as f64 / n - 0.50).abs() < 0.03, "{e} exact");
        assert!((p as f64 / n - 0.25).abs() < 0.03, "{p} plus");
        assert!((h as f64 / n - 0.20).abs() < 0.03, "{h} hash");
        assert!((s as f64 / n - 0.05).abs() < 0.01, "{s} shared");
        for sub in &w.subs {
            assert!(
                mqtt_codec::TopicFilter::new(sub.filter.as_str()).is_ok(),
                "{sub:?}"
            );
        }
        for t in &w.topics {
            assert!(mqtt_codec::TopicName::new(t.as_str()).is_ok(), "{t}");
        }
    }
}
