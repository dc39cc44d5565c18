//! The MQTT-SN client and gateway machines under faults: random workloads of publishes at
//! QoS 0, 1 and 2 both ways (client → gateway → broker on a predefined id, a short name and
//! a registered name; broker → gateway → client on a predefined id and on wildcard matches
//! the gateway registers first), and sleeps, over a datagram link that loses up to 30% of
//! datagrams, duplicates some and reorders them (`tests/src/sn_net.rs`).
//!
//! Checked after each workload, once every retry budget is spent:
//!
//! - whenever the client did not report the gateway lost, every QoS 1 message it
//!   published reached the broker at least once and every QoS 2 message exactly once, and
//!   each ended with `PublishComplete { Delivered }`;
//! - whenever neither side gave the other up (no `Lost` at the client, no `ClientLost`
//!   at the gateway), every QoS 1 message the broker published after the subscriptions
//!   were answered reached the client at least once and every QoS 2 one exactly once,
//!   those buffered during a sleep included, and the QoS 1 and 2 messages of each
//!   direction came in publish order;
//! - QoS 2 is never delivered twice, lost or not.
//!
//! Case counts: 256 by default; `PROPTEST_CASES` overrides it (100,000 once, in release:
//! `PROPTEST_CASES=100000 cargo test --release -p mqtt-integration-tests --test
//! sn_session_faults`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::time::Duration;

use mqtt_codec::{Bytes, Instant};
use mqtt_integration_tests::sn_net::{Faults, SnNet, GATEWAY};
use mqtt_sn_codec::client::{ClientState, Event, PublishOutcome, Topic};
use mqtt_sn_codec::gateway::GatewayEvent;
use mqtt_sn_codec::generic::TopicRef;
use mqtt_sn_codec::{shared, QoS, ShortTopic, TopicId};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    /// The client publishes at this QoS on topic kind 0 (predefined), 1 (short), 2 (name).
    Up(u8, u8),
    /// The broker publishes at this QoS on `pre/one` (false) or `down/N` (true).
    Down(u8, bool),
    /// The client sleeps this many seconds.
    Sleep(u8),
    /// Time passes (milliseconds).
    Wait(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0u8..3, 0u8..3).prop_map(|(q, k)| Op::Up(q, k)),
        5 => (0u8..3, any::<bool>()).prop_map(|(q, w)| Op::Down(q, w)),
        1 => (5u8..40).prop_map(Op::Sleep),
        3 => (0u16..5000).prop_map(Op::Wait),
    ]
}

fn sn_qos(q: u8) -> QoS {
    match q {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

fn mqtt_qos(q: u8) -> mqtt_codec::QoS {
    match q {
        0 => mqtt_codec::QoS::AtMostOnce,
        1 => mqtt_codec::QoS::AtLeastOnce,
        _ => mqtt_codec::QoS::ExactlyOnce,
    }
}

fn after(t: Instant, ms: u64) -> Instant {
    Instant::from_millis(t.as_millis() + ms)
}

/// Counts of each payload in `got`.
fn counts(got: &[(String, Vec<u8>, u8)]) -> BTreeMap<Vec<u8>, usize> {
    let mut m = BTreeMap::new();
    for (_, p, _) in got {
        *m.entry(p.clone()).or_insert(0) += 1;
    }
    m
}

/// The order of first arrivals of `wanted` payloads in `got`.
fn first_order(got: &[(String, Vec<u8>, u8)], wanted: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut seen = Vec::new();
    for (_, p, _) in got {
        if wanted.contains(p) && !seen.contains(p) {
            seen.push(p.clone());
        }
    }
    seen
}

fn run(faults: Faults, n_retry: u8, seed: u64, ops: &[Op]) -> Result<(), TestCaseError> {
    let (c, g) = SnNet::configs(n_retry);
    let mut net = SnNet::new(c, g, faults, seed);
    net.client.connect(net.now, GATEWAY).unwrap();
    let t = after(net.now, 120_000);
    net.run_until(t, 10_000);
    if net.client.state() != ClientState::Active {
        // Never connected: the client must say why.
        prop_assert!(
            net.client_events
                .iter()
                .any(|e| matches!(e, Event::Lost | Event::ConnectRefused(_))),
            "not connected and not reported: {:?}",
            net.client_events
        );
        return Ok(());
    }
    // Subscriptions: the predefined topic and a wildcard (matches registered first).
    let sub_pre = net
        .client
        .subscribe(net.now, TopicRef::Predefined(TopicId(1)), QoS::ExactlyOnce)
        .unwrap();
    let f = shared::TopicFilter::new("down/#".to_string()).unwrap();
    let sub_wild = net
        .client
        .subscribe(net.now, TopicRef::Name(f), QoS::ExactlyOnce)
        .unwrap();
    let t = after(net.now, 120_000);
    net.run_until(t, 10_000);
    let subscribed = [sub_pre, sub_wild].iter().all(|id| {
        net.client_events.iter().any(|e| {
            matches!(e, Event::SubAck { msg_id, code, .. } if msg_id == id && code.is_accepted())
        })
    });
    // What was published: (payload, qos).
    let mut up: Vec<(Vec<u8>, u8, Option<mqtt_sn_codec::MsgId>)> = Vec::new();
    let mut down: Vec<(Vec<u8>, u8)> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::Up(q, kind) => {
                let topic = match kind {
                    0 => Topic::Predefined(TopicId(1)),
                    1 => Topic::Short(ShortTopic::new("ab").unwrap()),
                    _ => Topic::Name(shared::TopicName::new("up/x".to_string()).unwrap()),
                };
                let payload = format!("up-{i}").into_bytes();
                if let Ok(id) = net.client.publish(
                    net.now,
                    topic,
                    Bytes::from(payload.clone()),
                    sn_qos(*q),
                    false,
                ) {
                    up.push((payload, *q, id));
                }
            }
            Op::Down(q, wild) => {
                let topic = if *wild {
                    format!("down/{}", i % 3)
                } else {
                    "pre/one".to_string()
                };
                let payload = format!("down-{i}").into_bytes();
                net.broker_publish(&topic, payload.clone(), mqtt_qos(*q));
                if subscribed {
                    down.push((payload, *q));
                }
            }
            Op::Sleep(s) => {
                let _ = net.client.sleep(net.now, u16::from(*s));
            }
            Op::Wait(ms) => {
                let t = after(net.now, u64::from(*ms));
                net.run_until(t, 10_000);
            }
        }
        net.step();
    }
    // Everything settles: far more than every retry budget, every sleep and wake-up.
    let t = after(net.now, 3_600_000);
    net.run_until(t, 200_000);

    let client_lost = net
        .client_events
        .iter()
        .any(|e| matches!(e, Event::Lost | Event::Disconnected { .. }));
    let gateway_gave_up = net.gateway_events.iter().any(|e| {
        matches!(
            e,
            GatewayEvent::ClientLost { .. } | GatewayEvent::BufferFull { .. }
        )
    });

    // QoS 2 never twice, either way.
    let at_broker = counts(&net.at_broker);
    let at_client = counts(&net.at_client);
    for (p, q, _) in &up {
        if *q == 2 {
            prop_assert!(
                at_broker.get(p).copied().unwrap_or(0) <= 1,
                "QoS 2 up twice: {p:?}"
            );
        }
    }
    for (p, q) in &down {
        if *q == 2 {
            prop_assert!(
                at_client.get(p).copied().unwrap_or(0) <= 1,
                "QoS 2 down twice: {p:?}"
            );
        }
    }
    if !client_lost {
        for (p, q, id) in &up {
            let n = at_broker.get(p).copied().unwrap_or(0);
            match q {
                1 => prop_assert!(n >= 1, "QoS 1 up lost: {:?}", String::from_utf8_lossy(p)),
                2 => prop_assert!(
                    n == 1,
                    "QoS 2 up {} times: {:?}",
                    n,
                    String::from_utf8_lossy(p)
                ),
                _ => {}
            }
            if let Some(id) = id {
                prop_assert!(
                    net.client_events.iter().any(|e| matches!(
                        e,
                        Event::PublishComplete { msg_id, outcome: PublishOutcome::Delivered }
                            if msg_id == id
                    )),
                    "no Delivered for {:?}",
                    String::from_utf8_lossy(p)
                );
            }
        }
        let wanted: Vec<Vec<u8>> = up.iter().filter(|u| u.1 > 0).map(|u| u.0.clone()).collect();
        let order = first_order(&net.at_broker, &wanted);
        prop_assert_eq!(order, wanted, "up order");
    }
    if !client_lost && !gateway_gave_up && subscribed {
        for (p, q) in &down {
            let n = at_client.get(p).copied().unwrap_or(0);
            match q {
                1 => prop_assert!(n >= 1, "QoS 1 down lost: {:?}", String::from_utf8_lossy(p)),
                2 => prop_assert!(
                    n == 1,
                    "QoS 2 down {} times: {:?}",
                    n,
                    String::from_utf8_lossy(p)
                ),
                _ => {}
            }
        }
        let wanted: Vec<Vec<u8>> = down
            .iter()
            .filter(|d| d.1 > 0)
            .map(|d| d.0.clone())
            .collect();
        let order = first_order(&net.at_client, &wanted);
        prop_assert_eq!(order, wanted, "down order");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn sn_6_13_qos_guarantees_hold_or_the_loss_is_reported(
        drop in 0u8..=30,
        duplicate in 0u8..=10,
        max_delay_ms in 1u64..800,
        n_retry in 3u8..=8,
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(), 1..30),
    ) {
        run(Faults { drop, duplicate, max_delay_ms }, n_retry, seed, &ops)?;
    }
}

/// The harness can fail: on a clean link everything arrives, so a machine that dropped
/// messages would be caught here.
#[test]
fn on_a_clean_link_everything_arrives() {
    let ops: Vec<Op> = (0..12)
        .map(|i| {
            if i % 2 == 0 {
                Op::Up(i % 3, i % 3)
            } else {
                Op::Down(i % 3, i % 4 == 1)
            }
        })
        .chain([
            Op::Sleep(10),
            Op::Down(1, true),
            Op::Down(2, false),
            Op::Wait(30_000),
        ])
        .collect();
    run(
        Faults {
            drop: 0,
            duplicate: 0,
            max_delay_ms: 1,
        },
        3,
        7,
        &ops,
    )
    .unwrap();
    let _ = Duration::ZERO;
}
