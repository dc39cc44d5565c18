//! The client and server connection machines together, through the two-party harness of
//! `tests/src/pair.rs`: arbitrary configurations at every protocol level, then an
//! arbitrary sequence of commands (publish both ways at every QoS, subscribe, unsubscribe,
//! acknowledge, disconnect, reconnect), time steps, connections cut at arbitrary points,
//! and arbitrary bytes injected into either machine as if from its peer.
//!
//! After every step: no panic, and the invariants the property test checks on honest
//! traffic hold for each machine's own state and for what it sent: identifiers unique in
//! each direction of the session, never more in flight than the peer's Receive Maximum,
//! never a packet above the peer's Maximum Packet Size; and while no bytes were injected,
//! the wire monitor finds no identifier reused in flight and no Receive Maximum exceeded.
#![no_main]

use std::num::{NonZeroU16, NonZeroU32};

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use mqtt_codec::session::{AckMode, AliasPolicy, ClientOptions, ServerOptions};
use mqtt_codec::{shared, Instant, PacketId, Protocol, QoS};

#[path = "../../tests/src/pair.rs"]
#[allow(dead_code)]
mod pair;
use pair::{Pair, WireMonitor};

const TOPICS: [&str; 4] = ["a", "a/b", "c/d/e", "$SYS/x"];
const FILTERS: [&str; 4] = ["a/#", "+/b", "c/d/e", "#"];

fn qos(u: &mut Unstructured) -> Result<QoS> {
    Ok(match u.int_in_range(0..=2)? {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    })
}

struct Setup {
    pair: Pair,
    /// The Receive Maximum and Maximum Packet Size each side announced: (client, server).
    receive_max: (u16, u16),
    max_packet: (u32, u32),
}

fn setup(u: &mut Unstructured) -> Result<Setup> {
    let protocol = match u.int_in_range(0..=2)? {
        0 => Protocol::V3_1,
        1 => Protocol::V3_1_1,
        _ => Protocol::V5,
    };
    let v5 = protocol.is_v5();
    let id = ["c", "client-1", ""][u.int_in_range(0..=2)?];
    let id = if id.is_empty() && !v5 { "c" } else { id };
    let mut c = shared::Connect::new(protocol, shared::Str::new(id.to_string()).unwrap(), 0);
    c.keep_alive = u.int_in_range(0..=5)?;
    c.clean_start = u.arbitrary()?;
    let client_rm: u16 = u.int_in_range(1..=5)?;
    let client_mp: u32 = u.int_in_range(16..=300)?;
    if v5 {
        c.properties.set_session_expiry_interval(u.int_in_range(0..=100)?);
        c.properties.set_receive_maximum(NonZeroU16::new(client_rm).unwrap());
        c.properties.set_maximum_packet_size(NonZeroU32::new(client_mp).unwrap());
        c.properties.set_topic_alias_maximum(u.int_in_range(0..=3)?);
    }
    if u.arbitrary()? {
        let mut w =
            shared::Will::new(shared::TopicName::new("will").unwrap(), &b"w"[..], qos(u)?).unwrap();
        if v5 {
            w.properties.set_will_delay_interval(u.int_in_range(0..=10)?);
        }
        c.will = Some(w);
    }
    let client = ClientOptions {
        ack_mode: if u.arbitrary()? { AckMode::Manual } else { AckMode::Automatic },
        alias_policy: if u.arbitrary()? {
            AliasPolicy::LeastRecentlyUsed {
                max: u.int_in_range(0..=3)?,
            }
        } else {
            AliasPolicy::None
        },
        response_timeout: std::time::Duration::from_millis(u.int_in_range(100..=10_000)?),
    };
    let server_rm: u16 = u.int_in_range(1..=5)?;
    let server_mp: u32 = u.int_in_range(16..=300)?;
    let server = ServerOptions {
        receive_maximum: NonZeroU16::new(server_rm).unwrap(),
        maximum_packet_size: NonZeroU32::new(server_mp).unwrap(),
        topic_alias_maximum: u.int_in_range(0..=3)?,
        maximum_qos: qos(u)?,
        retain_available: u.arbitrary()?,
        wildcard_subscription_available: u.arbitrary()?,
        shared_subscription_available: u.arbitrary()?,
        subscription_identifiers_available: u.arbitrary()?,
        server_keep_alive: if u.arbitrary()? { Some(u.int_in_range(0..=5)?) } else { None },
        ack_mode: if u.arbitrary()? { AckMode::Manual } else { AckMode::Automatic },
        alias_policy: if u.arbitrary()? {
            AliasPolicy::LeastRecentlyUsed { max: 2 }
        } else {
            AliasPolicy::None
        },
        connect_timeout: std::time::Duration::from_secs(u.int_in_range(1..=30)?),
    };
    let mut pair = Pair::new(c, client, server);
    pair.chunk = [usize::MAX, 1, 2, 3, 7][u.int_in_range(0..=4)?];
    Ok(Setup {
        pair,
        receive_max: if v5 { (client_rm, server_rm) } else { (u16::MAX, u16::MAX) },
        max_packet: if v5 {
            (client_mp, server_mp)
        } else {
            (u32::MAX, mqtt_codec::DEFAULT_MAX_PACKET_SIZE.max(server_mp))
        },
    })
}

fn message(u: &mut Unstructured) -> Result<shared::Publish> {
    let topic = TOPICS[u.int_in_range(0..=3)?];
    let len = u.int_in_range(0..=120)?;
    let mut m = shared::Publish::new(shared::TopicName::new(topic).unwrap(), vec![b'x'; len]);
    m.retain = u.int_in_range(0..=3)? == 0;
    Ok(m)
}

fn step(s: &mut Setup, u: &mut Unstructured, injected: &mut bool) -> Result<()> {
    let p = &mut s.pair;
    match u.int_in_range(0..=15)? {
        0 | 1 => {
            let m = message(u)?;
            let _ = p.client.publish(m, qos(u)?);
        }
        2 | 3 => {
            let m = message(u)?;
            let _ = p.server.publish(m, qos(u)?);
        }
        4 => p.settle(),
        5 => {
            let k: u8 = u.int_in_range(0..=10)?;
            let left = std::rc::Rc::new(std::cell::Cell::new(k));
            p.settle_until(move |_| {
                let v = left.get();
                left.set(v.saturating_sub(1));
                v == 0
            });
            p.drop_link();
            p.reconnect();
        }
        6 => {
            p.advance();
        }
        7 => {
            let ms: u64 = u.int_in_range(0..=20_000)?;
            let t = Instant::from_millis(p.now.as_millis().saturating_add(ms));
            p.advance_to(t);
        }
        8 | 9 => {
            *injected = true;
            let bytes: Vec<u8> = u.arbitrary()?;
            let now = p.now;
            if u.arbitrary()? {
                p.client.handle_bytes(now, &bytes);
            } else {
                p.server.handle_bytes(now, &bytes);
            }
            p.settle();
        }
        10 => {
            let f = shared::TopicFilter::new(FILTERS[u.int_in_range(0..=3)?]).unwrap();
            let _ = p
                .client
                .subscribe(vec![shared::Subscription::new(f, qos(u)?)], Default::default());
        }
        11 => {
            let f = shared::TopicFilter::new(FILTERS[u.int_in_range(0..=3)?]).unwrap();
            let _ = p.client.unsubscribe(vec![f], Default::default());
        }
        12 => {
            if let Some(id) = PacketId::new(u.int_in_range(1..=8)?) {
                let reason = [0u8, 0x10, 0x80, 0x97][u.int_in_range(0..=3)?];
                if u.arbitrary()? {
                    let _ = p.client.ack_with(id, reason, Default::default());
                } else {
                    let _ = p.server.ack_with(id, reason, Default::default());
                }
            }
        }
        13 => {
            let r = mqtt_codec::DisconnectReason::NormalDisconnection;
            if u.arbitrary()? {
                let _ = p.client.disconnect(r);
            } else {
                let _ = p.server.disconnect(r);
            }
        }
        14 => p.drop_link(),
        _ => p.reconnect(),
    }
    Ok(())
}

fn check(s: &Setup, injected: bool) {
    let p = &s.pair;
    for (name, session) in [("client", p.client.session()), ("server", p.server.session())] {
        let mut ids: Vec<u16> = session.outgoing().map(|o| o.packet_id().get()).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "{name}: an outgoing identifier twice");
        let mut ids: Vec<u16> = session.incoming().iter().map(|i| i.packet_id.get()).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "{name}: an incoming identifier twice");
    }
    assert!(p.client.in_flight() <= usize::from(s.receive_max.1), "client over the server's Receive Maximum");
    assert!(p.server.in_flight() <= usize::from(s.receive_max.0), "server over the client's Receive Maximum");
    assert!(
        p.largest.0 as u64 <= u64::from(s.max_packet.1),
        "client sent {} bytes, server's maximum {}",
        p.largest.0,
        s.max_packet.1
    );
    assert!(
        p.largest.1 as u64 <= u64::from(s.max_packet.0),
        "server sent {} bytes, client's maximum {}",
        p.largest.1,
        s.max_packet.0
    );
    if !injected {
        let mut m = WireMonitor::default();
        for line in &p.log {
            m.see(line, (usize::from(s.receive_max.0), usize::from(s.receive_max.1)));
        }
        assert!(m.errors.is_empty(), "{:?}\n{:#?}", m.errors, p.log);
    }
}

fn run(u: &mut Unstructured) -> Result<()> {
    let mut s = setup(u)?;
    s.pair.connect();
    let mut injected = false;
    check(&s, injected);
    let steps = u.int_in_range(0..=64)?;
    for _ in 0..steps {
        step(&mut s, u, &mut injected)?;
        check(&s, injected);
        // Keep the transcript bounded: the monitor only needs this connection's lines and
        // the identifiers in flight, which a cleared log would forget, so stop early.
        if s.pair.log.len() > 20_000 {
            break;
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let _ = run(&mut u);
});
