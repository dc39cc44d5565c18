//! The subscription table's memory at 100,000 subscriptions, and its matches checked
//! against a linear scan, on the workload of the topic benchmarks
//! (`mqtt_benches::topics::workload`).
//!
//! - Heap bytes per stored filter: the live heap after subscribing the 100,000 filters
//!   (sizes requested from the allocator, its own per-block overhead not counted), divided
//!   by 100,000; printed, with the peers' figures for comparison (nothing is asserted about
//!   them).
//! - On every one of the 10,000 topics, ours delivers to exactly the clients whose
//!   non-shared filters match by `mqtt_codec::matches` (one delivery per client), plus one
//!   delivery per shared subscription (share name and filter, MQTT 5.0 §4.8.2) with a
//!   matching member, to a member whose filter matches. A debug build checks the first
//!   500 topics, a release build all of them.
//!
//! `cargo test --release -p mqtt-benches --test topics_memory -- --nocapture` prints the
//! numbers. The global allocator applies to this whole test binary, so this file holds
//! nothing else.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;

use mqtt_benches::topics::{linear_match, workload, Sub};
use mqtt_codec::broker::{Matches, RoundRobin, SubscriptionTable};
use mqtt_codec::{QoS, SubscriptionOptions};
use mqtt_integration_tests::alloc_count::{live_bytes, Counting};
use mqtt_topic_engine::{CacheStrategy, TopicPatternPath, TopicRouter};

#[global_allocator]
static GLOBAL: Counting = Counting;

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

/// The live heap `build` leaves behind, per subscription.
fn bytes_per_filter<T>(n: usize, build: impl FnOnce() -> T) -> (f64, T) {
    let before = live_bytes();
    let t = build();
    let after = live_bytes();
    ((after - before) as f64 / n as f64, t)
}

#[test]
fn memory_and_matches() {
    let w = workload();
    let n = w.subs.len();
    let (e, p, h, s) = w.kind_counts();
    println!(
        "workload: {n} subscriptions ({e} exact, {p} `+`, {h} `#`, {s} shared), {} topics",
        w.topics.len()
    );
    let filter_text: usize = w.subs.iter().map(|s| s.filter.len()).sum();
    println!(
        "filter text alone: {:.1} bytes per filter on average",
        filter_text as f64 / n as f64
    );

    let (ours_bytes, table) = bytes_per_filter(n, || ours(&w.subs));
    assert_eq!(table.len(), n);
    println!(
        "ours (SubscriptionTable<u32>): {ours_bytes:.1} heap bytes per filter ({:.1} MB in all)",
        ours_bytes * n as f64 / 1e6
    );

    let (engine_bytes, router) = bytes_per_filter(n, || {
        let mut r = TopicRouter::<u32>::new();
        for s in &w.subs {
            let p = TopicPatternPath::new_from_string(s.filter.as_str(), CacheStrategy::NoCache)
                .unwrap();
            r.add_subscription(p, mqtt_topic_engine::QoS::AtLeastOnce, s.client);
        }
        r
    });
    println!("mqtt-topic-engine (TopicRouter<u32>): {engine_bytes:.1} heap bytes per filter");

    let (tree_bytes, tree) = bytes_per_filter(n, || {
        let mut t = mqtt_topic_tree::TopicTree::default();
        for s in &w.subs {
            let f = mqtt_topic_tree::TopicFilter::try_from(s.filter.clone()).unwrap();
            t.add_subscription(f, u64::from(s.client), mqtt_topic_tree::QoS::Level1);
        }
        t
    });
    println!("mqtt_topic_tree (TopicTree): {tree_bytes:.1} heap bytes per filter");
    drop(tree);

    // What the insert+remove benchmark's filters share their list with: the mean number of
    // subscriptions to the same filter among the first n, over the first 1,000 filters.
    for size in [1_000usize, 10_000, 100_000] {
        let mut count: std::collections::HashMap<&str, usize> = Default::default();
        for s in &w.subs[..size] {
            *count.entry(s.filter.as_str()).or_default() += 1;
        }
        let mean = w.subs[..1000]
            .iter()
            .map(|s| count.get(s.filter.as_str()).copied().unwrap_or(0))
            .sum::<usize>() as f64
            / 1000.0;
        println!("insert+remove filters at {size}: {mean:.1} subscribers per filter on average");
    }

    // Ours against the linear scan, on every topic.
    let mut out = Matches::new();
    let mut policy = RoundRobin::default();
    let (mut matched_topics, mut deliveries, mut shared_deliveries) = (0usize, 0usize, 0usize);
    let mut per_name_only = 0usize;
    // mqtt-topic-engine's non-shared clients (it stores `$share/…` as literal levels, so
    // they never match), compared and counted, not asserted.
    let mut engine_differs = 0usize;
    // A debug build (the workspace's test run) checks the first 500 topics; a release
    // build all 10,000 (100,000 filters scanned for each).
    let checked = if cfg!(debug_assertions) {
        500
    } else {
        w.topics.len()
    };
    for topic in w.topics.iter().take(checked) {
        table.matches(topic, None, &mut policy, &mut out);
        let clients: Vec<u32> = out
            .deliveries
            .iter()
            .filter(|d| !d.shared)
            .map(|d| d.client)
            .collect();
        let mut sorted = clients.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(
            sorted.len(),
            clients.len(),
            "one delivery per client: {topic}"
        );
        let linear = linear_match(&w.subs, topic);
        assert_eq!(sorted, linear.clients, "{topic}");
        let path = mqtt_topic_engine::TopicPath::new(topic.as_str()).unwrap();
        let mut engine_clients: Vec<u32> = router
            .get_subscribers(&path)
            .into_iter()
            .map(|(_, _, c)| *c)
            .collect();
        engine_clients.sort_unstable();
        engine_clients.dedup();
        engine_differs += usize::from(engine_clients != linear.clients);

        // One delivery per matching shared group, to a member whose filter matches.
        let groups = &linear.groups;
        let shared: Vec<u32> = out
            .deliveries
            .iter()
            .filter(|d| d.shared)
            .map(|d| d.client)
            .collect();
        // MQTT 5.0 §4.8.2: `$share/g/a/#` and `$share/g/a/+` are two shared
        // subscriptions: one delivery per (share name, filter).
        let names: BTreeSet<&str> = groups.iter().map(|g| g.0).collect();
        assert_eq!(
            shared.len(),
            groups.len(),
            "{} deliveries for {} share names, {} (name, filter) pairs: {topic}",
            shared.len(),
            names.len(),
            groups.len()
        );
        if names.len() != groups.len() {
            per_name_only += 1;
        }
        for c in &shared {
            assert!(
                linear.members.binary_search(c).is_ok(),
                "{c} is in no matching group: {topic}"
            );
        }

        matched_topics += usize::from(!out.deliveries.is_empty());
        deliveries += clients.len();
        shared_deliveries += shared.len();
    }
    println!(
        "matches: {matched_topics} of {checked} topics match something; {:.1} client \
         deliveries and {:.2} shared-group deliveries per topic on average; all equal to \
         the linear scan",
        deliveries as f64 / checked as f64,
        shared_deliveries as f64 / checked as f64
    );
    println!(
        "mqtt-topic-engine: its non-shared clients differ from the linear scan's on \
         {engine_differs} of {} topics",
        w.topics.len()
    );
    println!(
        "shared groups: on {per_name_only} topics two filters of one share name matched, and \
         each got its own delivery"
    );
}
