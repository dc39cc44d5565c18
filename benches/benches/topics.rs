//! Topic-matching benchmarks: which subscribers a PUBLISH goes to, in a table of 100,000
//! subscriptions (`mqtt_benches::topics::workload`: about 50% exact filters, 25% with `+`,
//! 20% ending with `#`, 5% `$share/g{n}/…`, 3 to 7 IoT-shaped levels, 20,000 clients).
//!
//! Group `topics_match_100k`, one match per iteration, cycling through the 10,000 topics:
//!
//! - `ours`: `mqtt_codec::broker::SubscriptionTable<u32>::matches` into a reused `Matches`
//!   (one delivery per client at its highest QoS, one member per shared group, round
//!   robin);
//! - `mqtt-topic-engine`: `TopicRouter<u32>::get_subscribers` (a `Vec` of every matching
//!   subscription, not merged per client; `$share/…` filters are stored as literal levels,
//!   it has no shared subscriptions);
//! - `mqtt_topic_tree`: `TopicTree::get_subscriptions` (a `Vec` of every matching
//!   subscription, a random member per shared group). Its lookup keeps at most two trie
//!   nodes per level in a fixed array and panics (index out of bounds) when a topic
//!   reaches more, which this workload does; it is measured on the topics it survives
//!   (`mqtt_topic_tree_subset`), next to `ours_subset`, ours on the same topics;
//! - `linear_scan`: `mqtt_codec::matches(filter, topic)` over all 100,000 filters,
//!   pushing the matching clients into a reused `Vec` (fewer samples: it takes
//!   milliseconds).
//!
//! Group `topics_insert_remove`: one subscribe and one unsubscribe of a filter by a client
//! that holds nothing, into a table of 1,000, 10,000 or 100,000 subscriptions (the first
//! ones of the same workload), cycling through the first 1,000 filters of the workload (so
//! it walks existing paths, as most new subscriptions do); the table is the same after each
//! iteration. Ours at all three sizes, the peers at 100,000; `ours_one_filter` repeats one
//! filter (`site-…` path of the first subscription), which keeps its walk in cache. The peers' costs include what
//! their API makes the caller do: mqtt_topic_tree takes its `TopicFilter` by value (a clone,
//! which allocates), mqtt-topic-engine its `TopicPatternPath` by value (a clone).
//!
//! `cargo bench -p mqtt-benches --bench topics -- --warm-up-time 1 --measurement-time 3`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mqtt_benches::topics::{workload, Sub, Workload};
use mqtt_codec::broker::{Matches, RoundRobin, SubscriptionTable};
use mqtt_codec::{QoS, SubscriptionOptions};
use mqtt_topic_engine::{CacheStrategy, TopicPath, TopicPatternPath, TopicRouter};

fn qos_of(i: usize) -> QoS {
    match i % 3 {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

fn ours(subs: &[Sub]) -> SubscriptionTable<u32> {
    let mut t = SubscriptionTable::new();
    for (i, s) in subs.iter().enumerate() {
        t.subscribe(
            s.client,
            &s.filter,
            SubscriptionOptions::qos(qos_of(i)),
            None,
        );
    }
    t
}

fn tree_qos(i: usize) -> mqtt_topic_tree::QoS {
    match i % 3 {
        0 => mqtt_topic_tree::QoS::Level0,
        1 => mqtt_topic_tree::QoS::Level1,
        _ => mqtt_topic_tree::QoS::Level2,
    }
}

fn tree_filter(f: &str) -> mqtt_topic_tree::TopicFilter {
    mqtt_topic_tree::TopicFilter::try_from(f.to_string()).unwrap()
}

fn topic_tree(subs: &[Sub]) -> mqtt_topic_tree::TopicTree {
    let mut t = mqtt_topic_tree::TopicTree::default();
    for (i, s) in subs.iter().enumerate() {
        t.add_subscription(tree_filter(&s.filter), u64::from(s.client), tree_qos(i));
    }
    t
}

fn engine_qos(i: usize) -> mqtt_topic_engine::QoS {
    match i % 3 {
        0 => mqtt_topic_engine::QoS::AtMostOnce,
        1 => mqtt_topic_engine::QoS::AtLeastOnce,
        _ => mqtt_topic_engine::QoS::ExactlyOnce,
    }
}

fn engine_pattern(f: &str) -> TopicPatternPath {
    TopicPatternPath::new_from_string(f, CacheStrategy::NoCache).unwrap()
}

fn engine(subs: &[Sub]) -> TopicRouter<u32> {
    let mut r = TopicRouter::new();
    for (i, s) in subs.iter().enumerate() {
        r.add_subscription(engine_pattern(&s.filter), engine_qos(i), s.client);
    }
    r
}

/// The topics on which mqtt_topic_tree's lookup does not panic (the panic message is
/// silenced while probing).
fn tree_survivors(t: &mqtt_topic_tree::TopicTree, topics: &[String]) -> Vec<usize> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let ok = topics
        .iter()
        .enumerate()
        .filter(|(_, topic)| {
            let name = mqtt_topic_tree::TopicName::try_from((*topic).clone()).unwrap();
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                t.get_subscriptions(&name).len()
            }))
            .is_ok()
        })
        .map(|(i, _)| i)
        .collect();
    std::panic::set_hook(hook);
    ok
}

/// Cycles through `0..n`.
struct Cycle {
    i: usize,
    n: usize,
}

impl Cycle {
    fn new(n: usize) -> Self {
        Cycle { i: 0, n }
    }
    #[inline]
    fn next(&mut self) -> usize {
        let i = self.i;
        self.i = if i + 1 == self.n { 0 } else { i + 1 };
        i
    }
}

fn match_group(c: &mut Criterion, w: &Workload) {
    let topics = &w.topics;
    let mut g = c.benchmark_group("topics_match_100k");
    g.throughput(Throughput::Elements(1));

    let table = ours(&w.subs);
    let mut out = Matches::new();
    let mut policy = RoundRobin::default();
    g.bench_function("ours", |b| {
        let mut cy = Cycle::new(topics.len());
        b.iter(|| {
            let t = &topics[cy.next()];
            table.matches(black_box(t), None, &mut policy, &mut out);
            black_box(out.deliveries.len())
        })
    });

    let router = engine(&w.subs);
    let paths: Vec<TopicPath> = topics
        .iter()
        .map(|t| TopicPath::new(t.as_str()).unwrap())
        .collect();
    g.bench_function("mqtt-topic-engine", |b| {
        let mut cy = Cycle::new(paths.len());
        b.iter(|| black_box(router.get_subscribers(black_box(&paths[cy.next()])).len()))
    });
    drop(paths);
    drop(router);

    let tree = topic_tree(&w.subs);
    let survivors = tree_survivors(&tree, topics);
    eprintln!(
        "mqtt_topic_tree: its lookup panics on {} of {} topics; the subset benchmarks use \
         the other {}",
        topics.len() - survivors.len(),
        topics.len(),
        survivors.len()
    );
    if !survivors.is_empty() {
        let names: Vec<mqtt_topic_tree::TopicName> = survivors
            .iter()
            .map(|&i| mqtt_topic_tree::TopicName::try_from(topics[i].clone()).unwrap())
            .collect();
        g.bench_function("mqtt_topic_tree_subset", |b| {
            let mut cy = Cycle::new(names.len());
            b.iter(|| black_box(tree.get_subscriptions(black_box(&names[cy.next()])).len()))
        });
        let subset: Vec<&str> = survivors.iter().map(|&i| topics[i].as_str()).collect();
        g.bench_function("ours_subset", |b| {
            let mut cy = Cycle::new(subset.len());
            b.iter(|| {
                table.matches(black_box(subset[cy.next()]), None, &mut policy, &mut out);
                black_box(out.deliveries.len())
            })
        });
    }
    drop(tree);

    let filters: Vec<(u32, &str)> = w.subs.iter().map(|s| (s.client, s.split().1)).collect();
    let mut hits: Vec<u32> = Vec::new();
    g.sample_size(10);
    g.bench_function("linear_scan", |b| {
        let mut cy = Cycle::new(topics.len());
        b.iter(|| {
            let t = black_box(topics[cy.next()].as_str());
            hits.clear();
            for (client, f) in &filters {
                if mqtt_codec::matches(f, t) {
                    hits.push(*client);
                }
            }
            black_box(hits.len())
        })
    });
    g.finish();
}

/// The filters the insert+remove benchmarks cycle through, and the client that adds them.
const CYCLED: usize = 1000;
const NEW_CLIENT: u32 = u32::MAX;

fn insert_remove_group(c: &mut Criterion, w: &Workload) {
    let mut g = c.benchmark_group("topics_insert_remove");
    g.throughput(Throughput::Elements(1));
    let cycled: Vec<&str> = w.subs[..CYCLED].iter().map(|s| s.filter.as_str()).collect();
    let opts = SubscriptionOptions::qos(QoS::AtLeastOnce);

    for n in [1_000, 10_000, 100_000] {
        let mut table = ours(&w.subs[..n]);
        let before = table.len();
        g.bench_with_input(BenchmarkId::new("ours", n), &n, |b, _| {
            let mut cy = Cycle::new(cycled.len());
            b.iter(|| {
                let f = cycled[cy.next()];
                table.subscribe(NEW_CLIENT, black_box(f), opts, None);
                black_box(table.unsubscribe(&NEW_CLIENT, black_box(f)))
            })
        });
        // The same filter every time: the walk stays in cache, so what grows with the
        // table in `ours` above is mostly cache misses.
        let one = cycled[0];
        g.bench_with_input(BenchmarkId::new("ours_one_filter", n), &n, |b, _| {
            b.iter(|| {
                table.subscribe(NEW_CLIENT, black_box(one), opts, None);
                black_box(table.unsubscribe(&NEW_CLIENT, black_box(one)))
            })
        });
        assert_eq!(table.len(), before);
    }

    let n = w.subs.len();
    let mut router = engine(&w.subs);
    let patterns: Vec<TopicPatternPath> = cycled.iter().map(|f| engine_pattern(f)).collect();
    g.bench_with_input(BenchmarkId::new("mqtt-topic-engine", n), &n, |b, _| {
        let mut cy = Cycle::new(patterns.len());
        b.iter(|| {
            let p = patterns[cy.next()].clone();
            let (_, id) = router.add_subscription(p, engine_qos(1), NEW_CLIENT);
            black_box(router.unsubscribe(&id).is_ok())
        })
    });
    drop(router);

    let mut tree = topic_tree(&w.subs);
    let tree_filters: Vec<mqtt_topic_tree::TopicFilter> =
        cycled.iter().map(|f| tree_filter(f)).collect();
    g.bench_with_input(BenchmarkId::new("mqtt_topic_tree", n), &n, |b, _| {
        let mut cy = Cycle::new(tree_filters.len());
        b.iter(|| {
            let f = &tree_filters[cy.next()];
            tree.add_subscription(f.clone(), u64::from(NEW_CLIENT), tree_qos(1));
            tree.remove_subscription(f.clone(), u64::from(NEW_CLIENT));
        })
    });
    g.finish();
}

fn topics(c: &mut Criterion) {
    let w = workload();
    let (e, p, h, s) = w.kind_counts();
    eprintln!(
        "workload: {} subscriptions ({e} exact, {p} `+`, {h} `#`, {s} shared), {} topics",
        w.subs.len(),
        w.topics.len()
    );
    match_group(c, &w);
    insert_remove_group(c, &w);
}

criterion_group!(benches, topics);
criterion_main!(benches);
