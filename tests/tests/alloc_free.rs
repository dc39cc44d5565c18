//! Decoding allocates nothing: a counting global allocator (per thread, since the test
//! harness runs tests on several threads) shows zero heap allocations while decoding
//! PUBLISH (QoS 0, QoS 1, and 5.0 with properties), SUBSCRIBE, CONNECT with a will and
//! credentials and SUBACK, and while iterating their lists.
//!
//! The global allocator applies to this whole test binary, so this file holds nothing
//! else.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mqtt_integration_tests::alloc_count::Counting;
use std::hint::black_box;
use std::num::NonZeroU16;

use mqtt_codec::{
    Bin, Connect, Decoded, Decoder, Delivery, Packet, PacketId, PayloadFormat, Protocol, QoS, Str,
    SubAck, SubAckReason, Subscribe, Subscription, SubscriptionId, TopicFilter, TopicName, Will,
};

#[global_allocator]
static GLOBAL: Counting = Counting;

use mqtt_integration_tests::alloc_count::count;

fn encode(p: &Packet<'_>, level: Protocol) -> Vec<u8> {
    let mut out = Vec::new();
    p.encode(level, &mut out).expect("valid packet encodes");
    out
}

fn pid(v: u16) -> PacketId {
    PacketId::new(v).expect("non-zero")
}

fn publish_qos0() -> Packet<'static> {
    let p = mqtt_codec::Publish::new(
        TopicName::new("sensors/kitchen/temperature").unwrap(),
        &b"21.5"[..],
    );
    Packet::Publish(p)
}

fn publish_qos1() -> Packet<'static> {
    let mut p = mqtt_codec::Publish::new(
        TopicName::new("sensors/kitchen/humidity").unwrap(),
        &*Vec::leak(vec![7u8; 300]),
    );
    p.delivery = Delivery::AtLeastOnce {
        packet_id: pid(42),
        dup: true,
    };
    p.retain = true;
    Packet::Publish(p)
}

fn publish_v5() -> Packet<'static> {
    let mut p = mqtt_codec::Publish::new(
        TopicName::new("devices/d1/events").unwrap(),
        &b"{\"on\":true}"[..],
    );
    p.delivery = Delivery::ExactlyOnce {
        packet_id: pid(7),
        dup: false,
    };
    mqtt_integration_tests::set_props!(p.properties, |q| q
        .set_content_type(Str::new("application/json").unwrap())
        .set_payload_format_indicator(PayloadFormat::Utf8)
        .set_topic_alias(NonZeroU16::new(3).unwrap())
        .add_subscription_identifier(SubscriptionId::new(1).unwrap())
        .add_subscription_identifier(SubscriptionId::new(200_000).unwrap())
        .add_user_property("trace", "abc")
        .unwrap()
        .add_user_property("trace", "")
        .unwrap()
        .add_user_property("région", "Île-de-France")
        .unwrap());
    Packet::Publish(p)
}

/// A checked string.
fn s(x: &str) -> Str<'_> {
    Str::new(x).unwrap()
}

fn subscribe(level: Protocol) -> Packet<'static> {
    let filters = [
        "a/b",
        "a/+",
        "a/#",
        "+/+/+",
        "#",
        "$SYS/broker/#",
        "温度/+",
        "x",
        "/",
        "sport/tennis/+/score",
    ];
    let subs: Vec<Subscription<'static>> = filters
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let qos = [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce][i % 3];
            Subscription::new(TopicFilter::new(f).unwrap(), qos)
        })
        .collect();
    let mut s = Subscribe::new(pid(9), mqtt_integration_tests::seq(subs));
    if level.is_v5() {
        mqtt_integration_tests::set_props!(s.properties, |q| q
            .set_subscription_identifier(SubscriptionId::new(5).unwrap())
            .add_user_property("k", "v")
            .unwrap());
    }
    Packet::Subscribe(s)
}

fn connect(level: Protocol) -> Packet<'static> {
    let mut c = Connect::new(level, Str::new("client-1").unwrap(), 60);
    c.clean_start = false;
    let mut will = Will {
        topic: TopicName::new("clients/client-1/status").unwrap(),
        payload: Bin::new(&b"offline"[..]).unwrap(),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: Default::default(),
    };
    if level.is_v5() {
        mqtt_integration_tests::set_props!(will.properties, |q| q
            .set_will_delay_interval(30)
            .add_user_property("why", "gone")
            .unwrap());
        mqtt_integration_tests::set_props!(c.properties, |q| q
            .set_session_expiry_interval(3600)
            .set_authentication_method(s("SCRAM-SHA-1"))
            .add_user_property("a", "1")
            .unwrap()
            .add_user_property("a", "2")
            .unwrap());
    }
    c.will = Some(will);
    c.username = Some(Str::new("user").unwrap());
    c.password = Some(Bin::new(&b"secret"[..]).unwrap());
    Packet::Connect(c)
}

fn suback(level: Protocol) -> Packet<'static> {
    let mut s = SubAck::new(
        pid(9),
        mqtt_integration_tests::seq(vec![
            SubAckReason::GrantedQoS0,
            SubAckReason::GrantedQoS1,
            SubAckReason::GrantedQoS2,
            SubAckReason::UnspecifiedError,
        ]),
    );
    if level.is_v5() {
        mqtt_integration_tests::set_props!(s.properties, |q| q
            .set_reason_string(self::s("partly"))
            .add_user_property("x", "y")
            .unwrap());
    }
    Packet::SubAck(s)
}

/// Decodes `bytes` and walks everything the packet holds, lists included; returns a
/// checksum so that nothing is optimised away, or `None` if decoding failed.
fn decode_and_walk(d: &Decoder, bytes: &[u8]) -> Option<usize> {
    let Ok(Decoded::Complete(p, n)) = d.decode(bytes) else {
        return None;
    };
    let mut sum = n;
    match &p {
        Packet::Publish(p) => {
            sum += p.topic.len() + p.payload.len() + usize::from(p.retain);
            sum += p.packet_id().map_or(0, |id| usize::from(id.get()));
            sum += p.properties.content_type().map_or(0, |s| s.len());
            for u in p.properties.user_properties() {
                sum += u.key.as_str().len() + u.value.as_str().len();
            }
            for id in p.properties.subscription_identifiers() {
                sum += id.get() as usize;
            }
            sum += p.properties.user_properties().count();
            sum += p.properties.iter().count();
        }
        Packet::Subscribe(s) => {
            for sub in s.subscriptions.iter() {
                sum += sub.filter.as_str().len() + sub.options.to_byte() as usize;
                sum += usize::from(sub.filter.has_wildcards());
                sum += sub.filter.shared().map_or(0, |sh| sh.group.len());
            }
            sum += s.subscriptions.len();
            for u in s.properties.user_properties() {
                sum += u.key.len() + u.value.len();
            }
        }
        Packet::Connect(c) => {
            sum += c.client_id.len() + usize::from(c.keep_alive);
            if let Some(w) = &c.will {
                sum += w.topic.len() + w.payload.len() + w.qos as usize;
                for u in w.properties.user_properties() {
                    sum += u.key.len() + u.value.len();
                }
            }
            sum += c.username.as_ref().map_or(0, |u| u.len());
            sum += c.password.as_ref().map_or(0, |p| p.len());
            for u in c.properties.user_properties() {
                sum += u.key.len() + u.value.len();
            }
        }
        Packet::SubAck(s) => {
            for r in s.reasons.iter() {
                sum += usize::from(r.code()) + r.granted_qos().map_or(0, |q| q as usize);
            }
            sum += s.reasons.len();
            for u in s.properties.user_properties() {
                sum += u.key.len() + u.value.len();
            }
        }
        _ => {}
    }
    Some(sum)
}

#[test]
fn decoding_and_iterating_allocates_nothing() {
    // Build and encode everything first: that may allocate.
    let mut cases: Vec<(&'static str, Protocol, Vec<u8>)> = Vec::new();
    for level in [Protocol::V3_1, Protocol::V3_1_1, Protocol::V5] {
        cases.push(("PUBLISH QoS 0", level, encode(&publish_qos0(), level)));
        cases.push(("PUBLISH QoS 1", level, encode(&publish_qos1(), level)));
        cases.push(("SUBSCRIBE x10", level, encode(&subscribe(level), level)));
        cases.push(("CONNECT", level, encode(&connect(level), level)));
        cases.push(("SUBACK", level, encode(&suback(level), level)));
    }
    cases.push((
        "PUBLISH 5.0 with properties",
        Protocol::V5,
        encode(&publish_v5(), Protocol::V5),
    ));

    // The counter works: an allocation on this thread is seen.
    let (n, v) = count(|| black_box(vec![1u8; 16]));
    assert!(n >= 1, "the counting allocator saw no allocation");
    drop(v);

    let mut results = Vec::with_capacity(cases.len());
    for (what, level, bytes) in &cases {
        let d = Decoder::new(*level).strict_utf8(true);
        let (n, sum) = count(|| decode_and_walk(black_box(&d), black_box(bytes)));
        results.push((*what, *level, n, sum));
    }
    for (what, level, n, sum) in results {
        assert!(sum.is_some(), "{what} at {level:?} did not decode");
        assert_eq!(n, 0, "{what} at {level:?}: {n} allocations while decoding");
    }
}

/// The shared decoder: a buffer holding every case back to back, decoded packet by packet
/// into the shared form (fields sliced from the buffer, walked as above). `bytes` may
/// allocate once per buffer (the first slice of a `Bytes` made from a `Vec` moves its
/// bookkeeping to the heap); each packet after that allocates nothing, whatever its size
/// and whether it came from a frozen `Bytes` or a `BytesMut` read buffer.
#[test]
fn shared_decoding_allocates_nothing_per_packet() {
    use mqtt_codec::{shared, Bytes, BytesMut};
    for level in [Protocol::V3_1, Protocol::V3_1_1, Protocol::V5] {
        let mut stream = Vec::new();
        let mut packets = 0;
        for _ in 0..50 {
            for p in [
                publish_qos0(),
                publish_qos1(),
                subscribe(level),
                connect(level),
                suback(level),
            ] {
                stream.extend(encode(&p, level));
                packets += 1;
            }
            if level.is_v5() {
                stream.extend(encode(&publish_v5(), level));
                packets += 1;
            }
        }
        let d = Decoder::new(level).strict_utf8(true);

        // From a frozen `Bytes`.
        let frozen = Bytes::from(stream.clone());
        let mut kept: Vec<shared::Packet> = Vec::with_capacity(packets);
        let (n, sum) = count(|| {
            let mut at = 0;
            let mut sum = 0;
            while at < frozen.len() {
                let rest = frozen.slice(at..);
                match d.decode_bytes(&rest) {
                    Ok(shared::Decoded::Complete(p, used)) => {
                        sum += decode_and_walk(&d, &frozen[at..at + used]).unwrap_or(0);
                        kept.push(p);
                        at += used;
                    }
                    other => panic!("{other:?}"),
                }
            }
            sum
        });
        assert!(sum > 0);
        assert_eq!(kept.len(), packets);
        assert!(
            n <= 1,
            "{level:?}: {n} allocations for {packets} packets decoded from one Bytes"
        );

        // From a `BytesMut` read buffer, packets split off as they complete.
        let mut buf = BytesMut::with_capacity(stream.len());
        buf.extend_from_slice(&stream);
        kept.clear();
        let (n, ()) = count(|| {
            while let Some(p) = d.decode_bytes_mut(&mut buf).unwrap() {
                kept.push(p);
            }
        });
        assert_eq!(kept.len(), packets);
        assert!(buf.is_empty());
        assert!(
            n <= 1,
            "{level:?}: {n} allocations for {packets} packets split off one BytesMut"
        );
        // The packets live on after the buffer is gone, and equal what was encoded.
        drop(buf);
        drop(frozen);
        assert_eq!(kept[0], publish_qos0());
    }
}
