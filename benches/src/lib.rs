//! Workloads shared by the benchmarks (`benches/decode.rs`, `benches/encode.rs`) and the
//! allocation test (`tests/allocations.rs`).
//!
//! Every workload is built once as bytes by `mqtt-codec`, and the same bytes are fed to every
//! implementation in a run. Each implementation also gets its own, already constructed packet
//! value for the encode benchmarks; those are built from the same constants as ours (see
//! `shared/peers.rs`), so every encoder writes the same packet.
//!
//! Decoding is measured as "decode and walk": after decoding, every field a receiver would
//! look at is read ([`checksum`] for ours, the same formula over each peer's types in
//! `shared/peers.rs`). For a lazy, zero-copy decoder such as ours that is the fair
//! comparison, and the checksums let the benchmarks and the test check that every
//! implementation read the same content from the same bytes.
//!
//! # Panics
//!
//! The builders build packets from constants that are valid by construction; they panic
//! (via `expect`) only if those constants were edited into something invalid.
#![allow(clippy::expect_used)]

pub mod session;
pub mod sn;
pub mod sn_session;
pub mod topics;

use mqtt_codec::generic::Packet as AnyPacket;
use mqtt_codec::shared::{
    Bin, Connect, Packet as SharedPacket, Publish as SharedPublish, Str, Subscribe, Subscription,
    TopicFilter, TopicName, Will,
};
use mqtt_codec::{
    Decoded, Decoder, Delivery, Packet, PacketId, Protocol, PubAck, Publish, QoS, Storage,
    StrStorage,
};

/// The topic of every PUBLISH.
pub const TOPIC: &str = "sensors/building-1/floor-2/temp";

/// The packet identifier of the QoS 1 PUBLISH.
pub const QOS1_PACKET_ID: u16 = 42;

/// CONNECT: the client identifier.
pub const CLIENT_ID: &str = "bench-client-0001";
/// CONNECT: the keep alive, in seconds.
pub const KEEP_ALIVE: u16 = 60;
/// CONNECT: the will topic.
pub const WILL_TOPIC: &str = "clients/bench-client-0001/status";
/// CONNECT: the will payload.
pub const WILL_PAYLOAD: &[u8] = b"offline";
/// CONNECT: the will QoS (1) as a number.
pub const WILL_QOS: u8 = 1;
/// CONNECT: the will is retained.
pub const WILL_RETAIN: bool = true;
/// CONNECT: the user name.
pub const USERNAME: &str = "bench-user";
/// CONNECT: the password (ASCII, because mqttbytes and mqtt-protocol hold it as a `String`).
pub const PASSWORD: &str = "s3cret-passw0rd";

/// SUBSCRIBE: the packet identifier.
pub const SUBSCRIBE_PACKET_ID: u16 = 9;
/// SUBSCRIBE: the ten topic filters; filter `i` asks for QoS `i % 3`.
pub const FILTERS: [&str; 10] = [
    "sensors/+/floor-1/temp",
    "sensors/building-1/#",
    "alerts/#",
    "devices/+/status",
    "devices/+/telemetry/+",
    "home/kitchen/light",
    "home/+/temperature",
    "$SYS/broker/load/#",
    "fleet/truck-42/gps",
    "+/+/+/humidity",
];

/// The QoS (as a number) that SUBSCRIBE asks for filter `index`.
pub const fn filter_qos(index: usize) -> u8 {
    (index % 3) as u8
}

/// 5.0 PUBLISH with properties: the Content Type.
pub const CONTENT_TYPE: &str = "application/json";
/// 5.0 PUBLISH with properties: the three User Properties, in order.
pub const USER_PROPERTIES: [(&str, &str); 3] = [
    ("trace-id", "4bf92f3577b34da6a3ce929d0e0e4736"),
    ("device", "thermo-7"),
    ("unit", "celsius"),
];

/// Mixed stream: its size limit (packets are added while they fit).
pub const STREAM_LEN: usize = 1 << 20;
/// Mixed stream: the payload size of its PUBLISH packets.
pub const STREAM_PAYLOAD_LEN: usize = 64;
/// Mixed stream: the seed of the generator that picks each packet.
pub const STREAM_SEED: u64 = 0x5eed_1234_abcd_0001;

/// A decoder limit high enough for every workload (the largest is a 64 KiB payload).
pub const MAX_PACKET_SIZE: u32 = 1 << 20;

/// A deterministic payload of `len` bytes (`0123456789012…`).
pub fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| b'0' + (i % 10) as u8).collect()
}

fn pid(v: u16) -> PacketId {
    PacketId::new(v).expect("packet identifiers here are non-zero")
}

fn topic() -> TopicName {
    TopicName::new(TOPIC).expect("valid topic")
}

fn str(s: &'static str) -> Str {
    Str::new(s).expect("valid string")
}

fn qos(n: u8) -> QoS {
    QoS::try_from(n).expect("QoS 0, 1 or 2")
}

/// PUBLISH QoS 0 on [`TOPIC`] with a [`payload`] of `payload_len` bytes.
pub fn publish_qos0(payload_len: usize) -> SharedPacket {
    SharedPacket::Publish(SharedPublish::new(topic(), payload(payload_len)))
}

/// PUBLISH QoS 1 (packet identifier [`QOS1_PACKET_ID`]) on [`TOPIC`] with a [`payload`] of
/// `payload_len` bytes.
pub fn publish_qos1(payload_len: usize) -> SharedPacket {
    let mut p = SharedPublish::new(topic(), payload(payload_len));
    p.delivery = Delivery::AtLeastOnce {
        packet_id: pid(QOS1_PACKET_ID),
        dup: false,
    };
    SharedPacket::Publish(p)
}

/// A 5.0 PUBLISH QoS 0 on [`TOPIC`] with a 16-byte [`payload`], a Content Type
/// ([`CONTENT_TYPE`]) and three User Properties ([`USER_PROPERTIES`]).
pub fn publish_v5_properties() -> SharedPacket {
    let mut p = SharedPublish::new(topic(), payload(16));
    p.properties.set_content_type(str(CONTENT_TYPE).view());
    for (k, v) in USER_PROPERTIES {
        p.properties
            .add_user_property(k, v)
            .expect("the user properties are valid strings");
    }
    SharedPacket::Publish(p)
}

/// A 3.1.1 CONNECT with a clean session, a will (QoS 1, retained) and a user name and
/// password.
pub fn connect() -> SharedPacket {
    let mut c = Connect::new(Protocol::V3_1_1, str(CLIENT_ID), KEEP_ALIVE);
    c.clean_start = true;
    c.will = Some(Will {
        topic: TopicName::new(WILL_TOPIC).expect("valid will topic"),
        payload: Bin::new(WILL_PAYLOAD).expect("short will payload"),
        qos: qos(WILL_QOS),
        retain: WILL_RETAIN,
        properties: Default::default(),
    });
    c.username = Some(str(USERNAME));
    c.password = Some(Bin::new(PASSWORD.as_bytes()).expect("short password"));
    SharedPacket::Connect(c)
}

/// SUBSCRIBE (packet identifier [`SUBSCRIBE_PACKET_ID`]) with the ten [`FILTERS`].
pub fn subscribe() -> SharedPacket {
    let subs: Vec<Subscription> = FILTERS
        .iter()
        .enumerate()
        .map(|(i, f)| {
            Subscription::new(
                TopicFilter::new(*f).expect("valid filter"),
                qos(filter_qos(i)),
            )
        })
        .collect();
    SharedPacket::Subscribe(Subscribe::new(pid(SUBSCRIBE_PACKET_ID), subs))
}

/// Encodes `packet` at `protocol` with `mqtt-codec`.
pub fn encode<B: Storage, T: StrStorage>(packet: &AnyPacket<B, T>, protocol: Protocol) -> Vec<u8> {
    let mut out = Vec::with_capacity(packet.encoded_len(protocol).unwrap_or(0));
    packet
        .encode(protocol, &mut out)
        .expect("workload packets encode");
    out
}

/// What a per-packet workload holds, so that each peer can build the same packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// [`publish_qos0`] with this payload size.
    PublishQos0 {
        /// Payload size in bytes.
        payload_len: usize,
    },
    /// [`publish_qos1`] with this payload size.
    PublishQos1 {
        /// Payload size in bytes.
        payload_len: usize,
    },
    /// [`publish_v5_properties`] (5.0 only).
    PublishV5Properties,
    /// [`connect`] (3.1.1).
    Connect,
    /// [`subscribe`].
    Subscribe,
}

impl Shape {
    /// The payload size, for the PUBLISH shapes.
    pub fn payload_len(self) -> Option<usize> {
        match self {
            Shape::PublishQos0 { payload_len } | Shape::PublishQos1 { payload_len } => {
                Some(payload_len)
            }
            Shape::PublishV5Properties => Some(16),
            Shape::Connect | Shape::Subscribe => None,
        }
    }

    /// Our packet value of this shape.
    pub fn packet(self) -> SharedPacket {
        match self {
            Shape::PublishQos0 { payload_len } => publish_qos0(payload_len),
            Shape::PublishQos1 { payload_len } => publish_qos1(payload_len),
            Shape::PublishV5Properties => publish_v5_properties(),
            Shape::Connect => connect(),
            Shape::Subscribe => subscribe(),
        }
    }
}

/// One packet, built once as bytes.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The benchmark name: `decode/<name>` and `encode/<name>`.
    pub name: &'static str,
    /// The protocol level of the bytes.
    pub protocol: Protocol,
    /// What the packet is.
    pub shape: Shape,
    /// Our packet value (what `bytes` encodes).
    pub packet: SharedPacket,
    /// The encoded packet.
    pub bytes: Vec<u8>,
}

impl Workload {
    fn new(name: &'static str, protocol: Protocol, shape: Shape) -> Self {
        let packet = shape.packet();
        let bytes = encode(&packet, protocol);
        Workload {
            name,
            protocol,
            shape,
            packet,
            bytes,
        }
    }

    /// Whether the bytes are MQTT 5.0.
    pub fn is_v5(&self) -> bool {
        self.protocol.is_v5()
    }
}

/// The per-packet workloads, in report order: PUBLISH QoS 0 with 16 B, 1 KiB and 64 KiB
/// payloads at 3.1.1 and at 5.0, PUBLISH QoS 1 (16 B), CONNECT with will and credentials,
/// SUBSCRIBE with ten filters, and a 5.0 PUBLISH with a Content Type and three User
/// Properties.
pub fn workloads() -> Vec<Workload> {
    use Protocol::{V3_1_1, V5};
    let q0 = |payload_len| Shape::PublishQos0 { payload_len };
    vec![
        Workload::new("publish_qos0_16B_v3.1.1", V3_1_1, q0(16)),
        Workload::new("publish_qos0_1KiB_v3.1.1", V3_1_1, q0(1024)),
        Workload::new("publish_qos0_64KiB_v3.1.1", V3_1_1, q0(64 * 1024)),
        Workload::new("publish_qos0_16B_v5", V5, q0(16)),
        Workload::new("publish_qos0_1KiB_v5", V5, q0(1024)),
        Workload::new("publish_qos0_64KiB_v5", V5, q0(64 * 1024)),
        Workload::new(
            "publish_qos1_16B_v3.1.1",
            V3_1_1,
            Shape::PublishQos1 { payload_len: 16 },
        ),
        Workload::new("connect_will_login_v3.1.1", V3_1_1, Shape::Connect),
        Workload::new("subscribe_10_v3.1.1", V3_1_1, Shape::Subscribe),
        Workload::new("publish_props_v5", V5, Shape::PublishV5Properties),
    ]
}

/// The name of the mixed-stream workload.
pub const STREAM_NAME: &str = "mixed_1MiB_v3.1.1";

/// A tiny linear congruential generator (Knuth's MMIX constants): deterministic, no
/// dependencies.
#[derive(Debug, Clone)]
pub struct Lcg(u64);

impl Lcg {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Lcg(seed)
    }

    /// The next 32 pseudo-random bits (the high half of the state).
    pub fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 32) as u32
    }

    /// A number in `0..n` (`n > 0`; slightly biased, which does not matter here).
    pub fn below(&mut self, n: u32) -> u32 {
        self.next_u32() % n.max(1)
    }
}

/// One packet of the mixed stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamItem {
    /// PUBLISH QoS 0 on [`TOPIC`] with a [`STREAM_PAYLOAD_LEN`]-byte [`payload`].
    Publish,
    /// PUBACK with this (non-zero) packet identifier.
    PubAck(u16),
    /// PINGREQ.
    PingReq,
}

/// The mixed stream: 70% PUBLISH QoS 0 (64-byte payload), 20% PUBACK, 10% PINGREQ, in a
/// pseudo-random order fixed by the seed, at 3.1.1.
#[derive(Debug, Clone)]
pub struct MixedStream {
    /// The encoded packets, back to back (at most [`STREAM_LEN`] bytes).
    pub bytes: Vec<u8>,
    /// The packets, in order.
    pub items: Vec<StreamItem>,
    /// The payload of every PUBLISH.
    pub payload: Vec<u8>,
}

impl MixedStream {
    /// How many packets the stream holds.
    pub fn packets(&self) -> usize {
        self.items.len()
    }

    /// Our packet values, in order (borrowing the payload).
    pub fn our_packets(&self) -> Vec<Packet<'_>> {
        self.items
            .iter()
            .map(|item| match *item {
                StreamItem::Publish => Packet::Publish(Publish::new(
                    mqtt_codec::TopicName::new(TOPIC).expect("valid topic"),
                    &self.payload[..],
                )),
                StreamItem::PubAck(id) => Packet::PubAck(PubAck::new(pid(id))),
                StreamItem::PingReq => Packet::PingReq,
            })
            .collect()
    }

    /// How many packets of each kind: (PUBLISH, PUBACK, PINGREQ).
    pub fn mix(&self) -> (usize, usize, usize) {
        let mut m = (0, 0, 0);
        for item in &self.items {
            match item {
                StreamItem::Publish => m.0 += 1,
                StreamItem::PubAck(_) => m.1 += 1,
                StreamItem::PingReq => m.2 += 1,
            }
        }
        m
    }

    /// The sum of [`checksum`] over every packet, as every decoder should compute it.
    pub fn expected_checksum(&self) -> u64 {
        let d = decoder(Protocol::V3_1_1);
        let mut rest = &self.bytes[..];
        let mut sum = 0u64;
        while let Some((n, c)) = decode_walk(&d, rest) {
            sum = sum.wrapping_add(c);
            rest = rest.get(n..).unwrap_or_default();
        }
        sum
    }
}

/// Builds the mixed stream: packets picked by [`Lcg`] from `seed` (70% PUBLISH, 20% PUBACK
/// with a pseudo-random non-zero packet identifier, 10% PINGREQ), appended while they fit
/// in `limit` bytes.
pub fn mixed_stream(limit: usize, seed: u64) -> MixedStream {
    let mut rng = Lcg::new(seed);
    let payload = payload(STREAM_PAYLOAD_LEN);
    let publish = encode(
        &Packet::Publish(Publish::new(
            mqtt_codec::TopicName::new(TOPIC).expect("valid topic"),
            &payload[..],
        )),
        Protocol::V3_1_1,
    );
    let mut bytes = Vec::with_capacity(limit);
    let mut items = Vec::new();
    loop {
        let roll = rng.below(100);
        let (item, len) = if roll < 70 {
            (StreamItem::Publish, publish.len())
        } else if roll < 90 {
            let id = (rng.below(u32::from(u16::MAX)) + 1) as u16;
            (StreamItem::PubAck(id), 4)
        } else {
            (StreamItem::PingReq, 2)
        };
        if bytes.len() + len > limit {
            break;
        }
        match item {
            StreamItem::Publish => bytes.extend_from_slice(&publish),
            StreamItem::PubAck(id) => {
                let [hi, lo] = id.to_be_bytes();
                bytes.extend_from_slice(&[0x40, 0x02, hi, lo]);
            }
            StreamItem::PingReq => bytes.extend_from_slice(&[0xc0, 0x00]),
        }
        items.push(item);
    }
    MixedStream {
        bytes,
        items,
        payload,
    }
}

/// The mixed stream of the benchmarks: [`mixed_stream`]`(`[`STREAM_LEN`]`, `[`STREAM_SEED`]`)`.
pub fn stream() -> MixedStream {
    mixed_stream(STREAM_LEN, STREAM_SEED)
}

/// The length of the packet at the start of `buf` (fixed header included), read from the
/// first byte and the Remaining Length alone; `None` if the header is incomplete or the
/// Remaining Length takes more than four bytes. Nothing else is checked.
#[inline]
pub fn frame_len(buf: &[u8]) -> Option<usize> {
    let mut len = 0usize;
    for i in 0..4 {
        let byte = *buf.get(1 + i)?;
        len |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some(1 + (i + 1) + len);
        }
    }
    None
}

/// The header-scan floor: walks `buf` packet by packet with [`frame_len`], reading only the
/// first byte and the Remaining Length of each. Returns the packet count and the sum of the
/// first bytes (so that the loop is not optimised away).
#[inline]
pub fn header_scan(buf: &[u8]) -> (usize, u64) {
    let mut rest = buf;
    let mut count = 0;
    let mut sum = 0u64;
    while let (Some(&first), Some(n)) = (rest.first(), frame_len(rest)) {
        sum += u64::from(first);
        count += 1;
        rest = rest.get(n..).unwrap_or_default();
    }
    (count, sum)
}

/// Our decoder at `protocol` with [`MAX_PACKET_SIZE`].
pub fn decoder(protocol: Protocol) -> Decoder {
    Decoder::new(protocol).max_packet_size(MAX_PACKET_SIZE)
}

/// The tag that [`checksum`] adds for a packet type (its type nibble, shifted well above
/// any field sum).
#[inline]
pub const fn tag(packet_type: u8) -> u64 {
    (packet_type as u64) << 40
}

/// Reads every field a receiver would look at and folds them into one number; each peer
/// adapter computes the same formula over its own types:
///
/// - PUBLISH: `tag(3)` + topic length + payload length + QoS + retain + DUP + packet
///   identifier (0 at QoS 0) + Content Type length + for each User Property
///   (key length + value length + 1);
/// - PUBACK: `tag(4)` + packet identifier;
/// - PINGREQ: `tag(12)`;
/// - CONNECT: `tag(1)` + client identifier length + keep alive + clean session + will
///   (topic length + payload length + QoS + retain) + user name length + password length;
/// - SUBSCRIBE: `tag(8)` + packet identifier + for each filter (length + QoS + 1).
///
/// Other packets give their tag alone.
#[inline]
pub fn checksum(packet: &Packet<'_>) -> u64 {
    match packet {
        Packet::Publish(p) => {
            let (dup, id) = match p.delivery {
                Delivery::AtMostOnce => (false, 0),
                Delivery::AtLeastOnce { packet_id, dup }
                | Delivery::ExactlyOnce { packet_id, dup } => (dup, packet_id.get()),
            };
            let mut sum = tag(3)
                + p.topic.len() as u64
                + p.payload.len() as u64
                + p.qos() as u64
                + u64::from(p.retain)
                + u64::from(dup)
                + u64::from(id);
            sum += p.properties.content_type().map_or(0, |s| s.len() as u64);
            for u in p.properties.user_properties() {
                sum += (u.key.len() + u.value.len() + 1) as u64;
            }
            sum
        }
        Packet::PubAck(a) => tag(4) + u64::from(a.packet_id.get()),
        Packet::PingReq => tag(12),
        Packet::Connect(c) => {
            let mut sum = tag(1)
                + c.client_id.len() as u64
                + u64::from(c.keep_alive)
                + u64::from(c.clean_start);
            if let Some(w) = &c.will {
                sum +=
                    (w.topic.len() + w.payload.len()) as u64 + w.qos as u64 + u64::from(w.retain);
            }
            sum += c.username.as_ref().map_or(0, |u| u.len() as u64);
            sum += c.password.as_ref().map_or(0, |p| p.len() as u64);
            sum
        }
        Packet::Subscribe(s) => {
            let mut sum = tag(8) + u64::from(s.packet_id.get());
            for sub in s.subscriptions.iter() {
                sum += (sub.filter.len() + 1) as u64 + sub.options.qos as u64;
            }
            sum
        }
        Packet::ConnAck(_) => tag(2),
        Packet::PubRec(_) => tag(5),
        Packet::PubRel(_) => tag(6),
        Packet::PubComp(_) => tag(7),
        Packet::SubAck(_) => tag(9),
        Packet::Unsubscribe(_) => tag(10),
        Packet::UnsubAck(_) => tag(11),
        Packet::PingResp => tag(13),
        Packet::Disconnect(_) => tag(14),
        Packet::Auth(_) => tag(15),
    }
}

/// Decodes the packet at the start of `buf` with ours and walks it: `(consumed, checksum)`,
/// or `None` if `buf` does not start with a whole, valid packet.
#[inline]
pub fn decode_walk(decoder: &Decoder, buf: &[u8]) -> Option<(usize, u64)> {
    match &decoder.decode(buf) {
        Ok(Decoded::Complete(packet, n)) => Some((*n, checksum(packet))),
        Ok(Decoded::Partial(_)) | Err(_) => None,
    }
}

/// Decodes the whole stream with ours (decode at the front, advance by what was consumed)
/// and walks every packet: `(packets, sum of checksums)`; stops at the first error or
/// incomplete packet.
#[inline]
pub fn decode_stream(decoder: &Decoder, buf: &[u8]) -> (usize, u64) {
    let mut rest = buf;
    let mut count = 0;
    let mut sum = 0u64;
    while let Some((n, c)) = decode_walk(decoder, rest) {
        count += 1;
        sum = sum.wrapping_add(c);
        rest = rest.get(n..).unwrap_or_default();
    }
    (count, sum)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn stream_mix_and_framing() {
        let s = stream();
        assert!(s.bytes.len() <= STREAM_LEN && s.bytes.len() > STREAM_LEN - 200);
        let (p, a, g) = s.mix();
        let n = s.packets() as f64;
        assert!((p as f64 / n - 0.7).abs() < 0.02, "{p} publishes of {n}");
        assert!((a as f64 / n - 0.2).abs() < 0.02, "{a} pubacks of {n}");
        assert!((g as f64 / n - 0.1).abs() < 0.02, "{g} pingreqs of {n}");
        assert_eq!(header_scan(&s.bytes).0, s.packets());
        let (count, sum) = decode_stream(&decoder(Protocol::V3_1_1), &s.bytes);
        assert_eq!(count, s.packets());
        assert_eq!(sum, s.expected_checksum());
        // Our packet values re-encode to the same bytes.
        let mut out = Vec::new();
        for p in s.our_packets() {
            p.encode(Protocol::V3_1_1, &mut out).unwrap();
        }
        assert_eq!(out, s.bytes);
    }

    #[test]
    fn workloads_decode_and_frame() {
        for w in workloads() {
            let (n, c) = decode_walk(&decoder(w.protocol), &w.bytes).unwrap();
            assert_eq!(n, w.bytes.len(), "{}", w.name);
            assert_eq!(frame_len(&w.bytes), Some(n), "{}", w.name);
            assert_eq!(c, checksum(&w.packet.view()), "{}", w.name);
        }
    }
}
