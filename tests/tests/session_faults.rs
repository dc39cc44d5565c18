//! The connection machines under faults: random workloads of publishes at random QoS in
//! both directions, the network connection cut at random points (everything after the cut
//! is lost, both ways, as when a TCP connection dies) and the session resumed on a new one.
//!
//! Checked after every workload, once everything has settled on a last good connection:
//!
//! - every QoS 1 message reached the other side's application at least once, every QoS 2
//!   message exactly once, no QoS 0 message more than once;
//! - within each direction the first deliveries of QoS 1 and 2 messages come in publish
//!   order;
//! - on the wire, no packet identifier was used for a new PUBLISH while a message with it
//!   was in flight ([MQTT-2.3.1-2]), and no side ever had more unacknowledged QoS 1 and 2
//!   PUBLISH packets on one connection than the other's Receive Maximum
//!   ([MQTT-3.3.4-7], [MQTT-3.3.4-9]);
//! - neither machine ever closed for a protocol error, and both end with nothing in flight.
//!
//! Case counts: 256 by default; `PROPTEST_CASES` overrides it (100,000 once, in release:
//! `PROPTEST_CASES=100000 cargo test --release -p mqtt-integration-tests --test session_faults`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::cell::Cell;
use std::rc::Rc;

use mqtt_codec::session::{ClientOptions, Event, ServerOptions};
use mqtt_codec::{shared, Protocol, QoS};
use mqtt_integration_tests::pair::{Pair, WireMonitor};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    /// A publish by the client (`true`) or the server.
    Publish(bool, QoS),
    /// Let everything in transit arrive.
    Settle,
    /// Deliver `n` more packets, then the connection dies; a new one resumes the session.
    Cut(u8),
    /// Time passes (keep-alive pings go both ways meanwhile).
    Tick(u16),
}

fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (any::<bool>(), qos()).prop_map(|(c, q)| Op::Publish(c, q)),
        2 => Just(Op::Settle),
        2 => (0u8..12).prop_map(Op::Cut),
        1 => (0u16..5000).prop_map(Op::Tick),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    protocol: Protocol,
    client_receive_max: u16,
    server_receive_max: u16,
    chunk: usize,
    keep_alive: u16,
    ops: Vec<Op>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![Just(Protocol::V3_1_1), Just(Protocol::V5)],
        1u16..5,
        1u16..5,
        prop_oneof![Just(usize::MAX), 1usize..7],
        0u16..4,
        proptest::collection::vec(op(), 1..40),
    )
        .prop_map(
            |(protocol, client_receive_max, server_receive_max, chunk, keep_alive, ops)| Case {
                protocol,
                client_receive_max,
                server_receive_max,
                chunk,
                keep_alive,
                ops,
            },
        )
}

fn run(case: &Case) -> Result<(), TestCaseError> {
    let mut connect = shared::Connect::new(
        case.protocol,
        shared::Str::new("fault").unwrap(),
        case.keep_alive,
    );
    connect.clean_start = false;
    if case.protocol.is_v5() {
        connect.properties.set_session_expiry_interval(u32::MAX);
        connect
            .properties
            .set_receive_maximum(std::num::NonZeroU16::new(case.client_receive_max).unwrap());
    }
    let server = ServerOptions {
        receive_maximum: std::num::NonZeroU16::new(case.server_receive_max).unwrap(),
        ..Default::default()
    };
    let mut p = Pair::new(connect, ClientOptions::default(), server);
    p.chunk = case.chunk;
    p.connect();
    // At 3.1.1 there is no Receive Maximum: the limit is the identifier space.
    let limits = if case.protocol.is_v5() {
        (
            usize::from(case.client_receive_max),
            usize::from(case.server_receive_max),
        )
    } else {
        (usize::MAX, usize::MAX)
    };

    let mut sent: Vec<(bool, QoS, String)> = Vec::new();
    for (i, op) in case.ops.iter().enumerate() {
        match op {
            Op::Publish(from_client, qos) => {
                let payload = format!("{}{i}", if *from_client { 'c' } else { 's' });
                let m = shared::Publish::new(
                    shared::TopicName::new("t").unwrap(),
                    payload.clone().into_bytes(),
                );
                let r = if *from_client {
                    p.client.publish(m, *qos)
                } else {
                    p.server.publish(m, *qos)
                };
                // QoS 0 needs a connection; a closed one refuses it.
                match r {
                    Ok(_) => sent.push((*from_client, *qos, payload)),
                    Err(e) => prop_assert_eq!(*qos, QoS::AtMostOnce, "{}", e),
                }
            }
            Op::Settle => p.settle(),
            Op::Tick(ms) => {
                // What is in flight arrives first (a real link does not wait for time to
                // pass); then through every deadline on the way, as an event loop wakes.
                p.settle();
                let end = mqtt_codec::Instant::from_millis(p.now.as_millis() + u64::from(*ms));
                while p.next_deadline().is_some_and(|t| t <= end) {
                    p.advance();
                }
                p.advance_to(end);
            }
            Op::Cut(n) => {
                let left = Rc::new(Cell::new(*n));
                p.settle_until(move |_| {
                    let v = left.get();
                    left.set(v.saturating_sub(1));
                    v == 0
                });
                p.drop_link();
                p.reconnect();
            }
        }
    }
    p.settle();

    let mut monitor = WireMonitor::default();
    for line in &p.log {
        monitor.see(line, limits);
    }
    prop_assert!(
        monitor.errors.is_empty(),
        "{:?}\n{:#?}",
        monitor.errors,
        p.log
    );
    prop_assert!(
        !p.log.iter().any(|l| l.contains("protocol-error")),
        "{:#?}",
        p.log
    );
    prop_assert_eq!(p.client.session().outgoing().len(), 0, "{:#?}", p.log);
    prop_assert_eq!(p.server.session().outgoing().len(), 0, "{:#?}", p.log);

    for (side_is_client, events) in [(true, &p.server_events), (false, &p.client_events)] {
        let got: Vec<String> = events
            .iter()
            .filter_map(|e| match e {
                Event::Message(m) => {
                    Some(String::from_utf8_lossy(m.payload.as_bytes()).into_owned())
                }
                _ => None,
            })
            .collect();
        let mut first_seen: Vec<&str> = Vec::new();
        for (from_client, qos, payload) in sent.iter().filter(|s| s.0 == side_is_client) {
            let copies = got.iter().filter(|g| *g == payload).count();
            match qos {
                QoS::AtMostOnce => prop_assert!(copies <= 1, "{payload} x{copies}"),
                QoS::AtLeastOnce => prop_assert!(copies >= 1, "{payload} lost\n{:#?}", p.log),
                QoS::ExactlyOnce => {
                    prop_assert_eq!(copies, 1, "{} x{}\n{:#?}", payload, copies, p.log)
                }
            }
            let _ = from_client;
            if *qos != QoS::AtMostOnce {
                first_seen.push(payload);
            }
        }
        // Publish order against the order of first deliveries.
        let mut delivered: Vec<&str> = Vec::new();
        for g in &got {
            if first_seen.contains(&g.as_str()) && !delivered.contains(&g.as_str()) {
                delivered.push(g);
            }
        }
        prop_assert_eq!(delivered, first_seen, "{:#?}", p.log);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn qos_guarantees_hold_across_dropped_connections(c in case()) {
        run(&c)?;
    }
}
