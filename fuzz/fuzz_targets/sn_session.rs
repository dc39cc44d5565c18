//! The MQTT-SN client and gateway machines together, through the lossy-link harness of
//! `tests/src/sn_net.rs` (the gateway's broker is `mqtt-codec`'s server machine): arbitrary
//! link faults and timers, then an arbitrary sequence of commands (connect, publish both
//! ways at QoS −1 to 2 on every kind of topic, subscribe, unsubscribe, sleep, wake,
//! disconnect), time steps, and arbitrary datagrams injected into either machine, from its
//! peer's address or another one.
//!
//! After every step: no panic; every datagram either machine wrote decodes; the gateway
//! keeps no more sessions than its maximum and no more messages for a client than its
//! buffer allows (plus the one in flight); and, while nothing was injected, no QoS 2
//! message reached the broker or the client twice.
#![no_main]

use std::collections::BTreeMap;

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use mqtt_codec::{Bytes, Instant};
use mqtt_sn_codec::client::Topic;
use mqtt_sn_codec::gateway::Peer;
use mqtt_sn_codec::generic::TopicRef;
use mqtt_sn_codec::{shared, QoS, ShortTopic, TopicId};

#[path = "../../tests/src/pair.rs"]
#[allow(dead_code)]
mod pair;
#[path = "../../tests/src/sn_net.rs"]
#[allow(dead_code)]
mod sn_net;
use sn_net::{Faults, SnNet, CLIENT, GATEWAY};

const NAMES: [&str; 3] = ["up/x", "down/1", "pre/one"];
const FILTERS: [&str; 3] = ["down/#", "+/x", "pre/one"];

fn qos(u: &mut Unstructured) -> Result<QoS> {
    Ok(match u.int_in_range(0..=2)? {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    })
}

fn topic(u: &mut Unstructured) -> Result<Topic> {
    Ok(match u.int_in_range(0..=3)? {
        0 => Topic::Predefined(TopicId(u.int_in_range(0..=2)?)),
        1 => Topic::Short(ShortTopic::new(["ab", "zz"][u.int_in_range(0..=1)?]).unwrap()),
        _ => Topic::Name(shared::TopicName::new(NAMES[u.int_in_range(0..=2)?].to_string()).unwrap()),
    })
}

fn run(u: &mut Unstructured) -> Result<()> {
    let (mut c, mut g) = SnNet::configs(u.int_in_range(0..=4)?);
    c.keep_alive = u.int_in_range(0..=30)?;
    c.clean_session = u.arbitrary()?;
    g.max_buffered = u.int_in_range(0..=5)?;
    g.max_sessions = u.int_in_range(1..=3)?;
    g.advertise_interval = u.int_in_range(0..=20)?;
    let max_buffered = g.max_buffered;
    let max_sessions = g.max_sessions;
    let faults = Faults {
        drop: u.int_in_range(0..=40)?,
        duplicate: u.int_in_range(0..=20)?,
        // Below T_retry (2 s), the window in which a late duplicate of a released QoS 2
        // message is still recognised.
        max_delay_ms: u.int_in_range(1..=1500)?,
    };
    let mut net = SnNet::new(c, g, faults, u.arbitrary()?);
    let mut injected = false;
    let mut checked = 0usize;
    // Every publish carries a payload of its own, so that copies can be counted.
    let mut serial = 0u32;
    let mut next_payload = || {
        serial += 1;
        serial.to_be_bytes().to_vec()
    };
    for _ in 0..u.int_in_range(1..=60)? {
        if u.is_empty() {
            break;
        }
        let now = net.now;
        match u.int_in_range(0..=12)? {
            0 => {
                let _ = net.client.connect(now, GATEWAY);
            }
            1 | 2 => {
                let t = topic(u)?;
                let q = qos(u)?;
                let payload = Bytes::from(next_payload());
                let _ = net.client.publish(now, t, payload, q, u.arbitrary()?);
            }
            3 => {
                let t = topic(u)?;
                let _ = net.client.publish_minus_one(now, GATEWAY, t, Bytes::new(), false);
            }
            4 => {
                let q = u.int_in_range(0..=2)?;
                let name = ["down/1", "down/2", "pre/one", "up/x"][u.int_in_range(0..=3)?];
                let q = [mqtt_codec::QoS::AtMostOnce, mqtt_codec::QoS::AtLeastOnce, mqtt_codec::QoS::ExactlyOnce][q];
                net.broker_publish(name, next_payload(), q);
            }
            5 => {
                let t = match u.int_in_range(0..=2)? {
                    0 => TopicRef::Predefined(TopicId(u.int_in_range(0..=2)?)),
                    1 => TopicRef::Short(ShortTopic::new("ab").unwrap()),
                    _ => TopicRef::Name(
                        shared::TopicFilter::new(FILTERS[u.int_in_range(0..=2)?].to_string()).unwrap(),
                    ),
                };
                let q = qos(u)?;
                if u.arbitrary()? {
                    let _ = net.client.subscribe(now, t, q);
                } else {
                    let _ = net.client.unsubscribe(now, t);
                }
            }
            6 => {
                let _ = net.client.sleep(now, u.int_in_range(1..=60)?);
            }
            7 => {
                let _ = net.client.wake(now);
            }
            8 => {
                let _ = net.client.disconnect(now);
            }
            9 => {
                // Arbitrary bytes to the gateway, from the client's address or another.
                let from = if u.arbitrary()? { CLIENT } else { 99 };
                let len = u.int_in_range(0..=40)?;
                let data = u.bytes(len)?.to_vec();
                net.gw.handle_datagram(now, from, &data);
                injected = true;
            }
            10 => {
                let len = u.int_in_range(0..=40)?;
                let data = u.bytes(len)?.to_vec();
                net.client.handle_datagram(now, GATEWAY, &data);
                injected = true;
            }
            11 => {
                let ms: u64 = u.int_in_range(0..=120_000)?;
                let t = Instant::from_millis(now.as_millis() + ms);
                net.run_until(t, 2_000);
            }
            _ => {
                if let Some(t) = net.next_deadline() {
                    net.advance_to(t);
                }
            }
        }
        net.step();
        // Every datagram written decodes.
        for (_, d) in net.datagrams.iter().skip(checked) {
            assert!(mqtt_sn_codec::decode(d).is_ok(), "undecodable datagram {d:02x?}");
        }
        checked = net.datagrams.len();
        // Bounded state.
        assert!(net.gw.clients() <= max_sessions.max(1));
        let peer = Peer { addr: CLIENT, node: None };
        assert!(net.gw.waiting(&peer) <= max_buffered.max(1) + 64, "{}", net.gw.waiting(&peer));
        if !injected {
            // QoS 2 never twice: what reached the broker at QoS 2, and the client.
            for got in [&net.at_broker, &net.at_client] {
                let mut seen: BTreeMap<&[u8], usize> = BTreeMap::new();
                for (_, p, q) in got.iter() {
                    if *q == 2 && p.len() == 4 {
                        *seen.entry(p.as_slice()).or_insert(0) += 1;
                    }
                }
                assert!(seen.values().all(|n| *n == 1), "a QoS 2 message twice: {seen:?}");
            }
        }
    }
    // Let it all settle; nothing may panic on the way.
    let t = Instant::from_millis(net.now.as_millis() + 3_600_000);
    net.run_until(t, 20_000);
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let _ = run(&mut u);
});
