//! The MQTT-SN machines' memory and allocations, measured with a counting allocator:
//!
//! - heap allocations per QoS 1 round through client, gateway (with its MQTT client
//!   machine) and broker, in steady state (after warm-up rounds);
//! - a sleeping client's session in the gateway (subscribed to one predefined topic,
//!   nothing buffered): the gateway's heap with 10,000 of them, per client.
//!
//! Heap is counted as the sizes requested from the allocator (its own per-block overhead
//! is not counted). Targets (issue 12): no allocation per round, at most 256 bytes per
//! sleeping client's session.
//!
//! `cargo test --release -p mqtt-benches --test sn_memory -- --nocapture` prints the
//! numbers. The global allocator applies to this whole test binary, so this file holds
//! nothing else.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use mqtt_benches::sn_session::SnConnected;
use mqtt_codec::session::{Client as MqttClient, ClientOptions, Session};
use mqtt_codec::{shared as mshared, Instant};
use mqtt_integration_tests::alloc_count::{allocations, live_bytes, Counting};
use mqtt_sn_codec::gateway::{Gateway, GatewayConfig};
use mqtt_sn_codec::generic::{Message, TopicRef};
use mqtt_sn_codec::{shared, MsgId, QoS, TopicId};

#[global_allocator]
static GLOBAL: Counting = Counting;

const ROUNDS: usize = 1000;
const SLEEPERS: u32 = 10_000;

fn allocations_per_round(mut n: SnConnected) -> f64 {
    for _ in 0..100 {
        black_box(n.round());
    }
    let before = allocations();
    for _ in 0..ROUNDS {
        black_box(n.round());
    }
    (allocations() - before) as f64 / ROUNDS as f64
}

fn enc(m: &shared::Message) -> Vec<u8> {
    let mut v = Vec::new();
    m.encode(&mut v).unwrap();
    v
}

/// The gateway's heap per sleeping client, with `SLEEPERS` of them.
fn sleeping_session_bytes() -> f64 {
    let mut gc = GatewayConfig::new(1);
    gc.advertise_interval = 0;
    gc.max_sessions = SLEEPERS as usize + 1;
    gc.predefined.push((TopicId(1), "pre/one".to_string()));
    let id = mshared::Str::new("gw").unwrap();
    let connect = mshared::Connect::new(mqtt_codec::Protocol::V3_1_1, id, 0);
    let mqtt = MqttClient::new(connect, ClientOptions::default(), Session::new()).unwrap();
    let mut gw: Gateway<u32> = Gateway::new(gc, mqtt);
    let now = Instant::ZERO;
    let subscribe = enc(&Message::Subscribe(shared::Subscribe {
        dup: false,
        qos: QoS::AtLeastOnce,
        msg_id: MsgId::new(1).unwrap(),
        topic: TopicRef::Predefined(TopicId(1)),
    }));
    let sleep = enc(&Message::Disconnect(Some(3600)));
    let one = |gw: &mut Gateway<u32>, addr: u32| {
        let c = enc(&Message::Connect(shared::Connect {
            will: false,
            clean_session: true,
            duration: 60,
            client_id: shared::Str::new(format!("sleeper-{addr:05}")).unwrap(),
        }));
        gw.handle_datagram(now, addr, &c);
        gw.handle_datagram(now, addr, &subscribe);
        gw.handle_datagram(now, addr, &sleep);
        while gw.poll_transmit().is_some() {}
        while gw.poll_event().is_some() {}
        while gw.poll_mqtt_transmit().is_some() {}
    };
    // The first one pays for the shared parts (the broker subscription, the tables).
    one(&mut gw, 0);
    let base = live_bytes();
    for addr in 1..=SLEEPERS {
        one(&mut gw, addr);
    }
    let per = (live_bytes() - base) as f64 / f64::from(SLEEPERS);
    black_box(&gw);
    per
}

#[test]
fn sn_memory_and_allocations() {
    let full = allocations_per_round(SnConnected::new());
    let sim = allocations_per_round(SnConnected::with_simulated_broker());
    let per = sleeping_session_bytes();
    println!("allocations per QoS 1 round (client, gateway, broker): {full:.2}");
    println!("allocations per QoS 1 round (client, gateway, simulated broker): {sim:.2}");
    println!(
        "sleeping client's gateway session: {per:.1} bytes (heap per client, {SLEEPERS} clients)"
    );
    assert_eq!(full, 0.0, "allocations per round");
    assert_eq!(sim, 0.0, "allocations per round");
    assert!(
        per <= 256.0,
        "a sleeping client's session takes {per:.1} bytes"
    );
}
