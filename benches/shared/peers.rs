//! One adapter per implementation, shared by the benchmarks and the allocation test
//! (included with `#[path]`, since the peer crates are dev-dependencies of this crate only).
//!
//! Decoding goes through [`Peer`]: `load` copies the workload bytes into the input buffer
//! the implementation reads from (a `Vec<u8>`, a `bytes::BytesMut`, an `ntex_bytes::BytesMut`)
//! outside any measurement, and `next` decodes the packet at the front, walks it (the same
//! formula as `mqtt_benches::checksum`), drops it and advances. Every implementation
//! therefore reads the same bytes laid out the same way, and pays for dropping what it
//! decoded.
//!
//! Encoding: each module has `build` (its own packet value for a workload, constructed once)
//! and `encode` (that value into a reused buffer).
//!
//! ntex-mqtt: decode only. Its encoder takes the packet by value (`Encoder::encodev(Encoded,
//! &mut BytePages)`), so an encode benchmark would measure a clone of the packet and
//! ntex's page management as much as encoding.
#![allow(dead_code)]

use mqtt_benches::{
    filter_qos, frame_len, payload, tag, MixedStream, Shape, StreamItem, Workload, CLIENT_ID,
    CONTENT_TYPE, FILTERS, KEEP_ALIVE, MAX_PACKET_SIZE, PASSWORD, QOS1_PACKET_ID,
    SUBSCRIBE_PACKET_ID, TOPIC, USERNAME, USER_PROPERTIES, WILL_PAYLOAD, WILL_QOS, WILL_RETAIN,
    WILL_TOPIC,
};
use mqtt_codec::{Decoder, Protocol};

/// A decoder under test.
pub trait Peer {
    /// The input buffer this implementation decodes from.
    type Buf;
    /// The name in benchmark ids and tables.
    fn name(&self) -> &'static str;
    /// `copies` back-to-back copies of `bytes`, in this implementation's input buffer.
    fn load(&self, bytes: &[u8], copies: usize) -> Self::Buf;
    /// Decodes the packet at the front of `buf`, walks it and advances past it: its checksum,
    /// or `None` at the end of the buffer or if the implementation refused the packet.
    fn next(&self, buf: &mut Self::Buf) -> Option<u64>;
}

/// A byte vector and a read position.
#[derive(Debug)]
pub struct Cursor {
    bytes: Vec<u8>,
    pos: usize,
}

fn copies_vec(bytes: &[u8], copies: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(bytes.len() * copies);
    for _ in 0..copies {
        v.extend_from_slice(bytes);
    }
    v
}

impl Cursor {
    fn new(bytes: &[u8], copies: usize) -> Self {
        Cursor {
            bytes: copies_vec(bytes, copies),
            pos: 0,
        }
    }

    fn rest(&self) -> Option<&[u8]> {
        self.bytes.get(self.pos..).filter(|r| !r.is_empty())
    }
}

/// `mqtt-codec`.
#[derive(Debug, Clone, Copy)]
pub struct Ours(pub Decoder);

impl Ours {
    /// Ours at `protocol`.
    pub fn new(protocol: Protocol) -> Self {
        Ours(mqtt_benches::decoder(protocol))
    }
}

impl Peer for Ours {
    type Buf = Cursor;
    fn name(&self) -> &'static str {
        "ours"
    }
    fn load(&self, bytes: &[u8], copies: usize) -> Cursor {
        Cursor::new(bytes, copies)
    }
    #[inline]
    fn next(&self, buf: &mut Cursor) -> Option<u64> {
        let (n, c) = mqtt_benches::decode_walk(&self.0, buf.rest()?)?;
        buf.pos += n;
        Some(c)
    }
}

/// `mqttbytes` 0.6 (`v4` for 3.1.1, `v5` for 5.0): decodes from a `bytes::BytesMut`,
/// splitting each packet off the front; strings become `String`s, payloads `Bytes` views.
pub mod peer_mqttbytes {
    use super::*;
    use bytes::{Bytes, BytesMut};
    use mqttbytes::{v4, v5, QoS};

    /// The decoder, at 3.1.1 (`v4`) or 5.0 (`v5`).
    #[derive(Debug, Clone, Copy)]
    pub struct MqttBytes {
        /// Whether to use the `v5` module.
        pub v5: bool,
    }

    impl Peer for MqttBytes {
        type Buf = BytesMut;
        fn name(&self) -> &'static str {
            "mqttbytes"
        }
        fn load(&self, bytes: &[u8], copies: usize) -> BytesMut {
            BytesMut::from(&copies_vec(bytes, copies)[..])
        }
        #[inline]
        fn next(&self, buf: &mut BytesMut) -> Option<u64> {
            if buf.is_empty() {
                return None;
            }
            let max = MAX_PACKET_SIZE as usize;
            if self.v5 {
                v5::read(buf, max).ok().map(|p| walk_v5(&p))
            } else {
                v4::read(buf, max).ok().map(|p| walk_v4(&p))
            }
        }
    }

    fn qos_num(q: QoS) -> u64 {
        q as u64
    }

    fn walk_v4(p: &v4::Packet) -> u64 {
        match p {
            v4::Packet::Publish(p) => {
                tag(3)
                    + (p.topic.len() + p.payload.len()) as u64
                    + qos_num(p.qos)
                    + u64::from(p.retain)
                    + u64::from(p.dup)
                    + u64::from(p.pkid)
            }
            v4::Packet::PubAck(a) => tag(4) + u64::from(a.pkid),
            v4::Packet::PingReq => tag(12),
            v4::Packet::Connect(c) => {
                let mut sum = tag(1)
                    + c.client_id.len() as u64
                    + u64::from(c.keep_alive)
                    + u64::from(c.clean_session);
                if let Some(w) = &c.last_will {
                    sum += (w.topic.len() + w.message.len()) as u64
                        + qos_num(w.qos)
                        + u64::from(w.retain);
                }
                if let Some(l) = &c.login {
                    sum += (l.username.len() + l.password.len()) as u64;
                }
                sum
            }
            v4::Packet::Subscribe(s) => {
                let mut sum = tag(8) + u64::from(s.pkid);
                for f in &s.filters {
                    sum += (f.path.len() + 1) as u64 + qos_num(f.qos);
                }
                sum
            }
            other => other_tag_v4(other),
        }
    }

    fn other_tag_v4(p: &v4::Packet) -> u64 {
        match p {
            v4::Packet::Connect(_) => tag(1),
            v4::Packet::ConnAck(_) => tag(2),
            v4::Packet::Publish(_) => tag(3),
            v4::Packet::PubAck(_) => tag(4),
            v4::Packet::PubRec(_) => tag(5),
            v4::Packet::PubRel(_) => tag(6),
            v4::Packet::PubComp(_) => tag(7),
            v4::Packet::Subscribe(_) => tag(8),
            v4::Packet::SubAck(_) => tag(9),
            v4::Packet::Unsubscribe(_) => tag(10),
            v4::Packet::UnsubAck(_) => tag(11),
            v4::Packet::PingReq => tag(12),
            v4::Packet::PingResp => tag(13),
            v4::Packet::Disconnect => tag(14),
        }
    }

    fn walk_v5(p: &v5::Packet) -> u64 {
        match p {
            v5::Packet::Publish(p) => {
                let mut sum = tag(3)
                    + (p.topic.len() + p.payload.len()) as u64
                    + qos_num(p.qos)
                    + u64::from(p.retain)
                    + u64::from(p.dup)
                    + u64::from(p.pkid);
                if let Some(props) = &p.properties {
                    sum += props.content_type.as_ref().map_or(0, |s| s.len() as u64);
                    for (k, v) in &props.user_properties {
                        sum += (k.len() + v.len() + 1) as u64;
                    }
                }
                sum
            }
            v5::Packet::PubAck(a) => tag(4) + u64::from(a.pkid),
            v5::Packet::PingReq => tag(12),
            v5::Packet::Connect(_) => tag(1),
            v5::Packet::Subscribe(_) => tag(8),
            _ => 0,
        }
    }

    /// mqttbytes' packet value, at 3.1.1 or 5.0 (not boxed: encoding reads it in place).
    #[derive(Debug, Clone)]
    #[allow(clippy::large_enum_variant)]
    pub enum Value {
        /// 3.1.1.
        V4(v4::Packet),
        /// 5.0.
        V5(v5::Packet),
    }

    fn qos(n: u8) -> QoS {
        match n {
            0 => QoS::AtMostOnce,
            1 => QoS::AtLeastOnce,
            _ => QoS::ExactlyOnce,
        }
    }

    /// mqttbytes' value for the workload.
    pub fn build(w: &Workload) -> Option<Value> {
        let pl = w.shape.payload_len().map(payload).unwrap_or_default();
        if w.is_v5() {
            let mut p = match w.shape {
                Shape::PublishQos0 { .. } | Shape::PublishV5Properties => {
                    v5::Publish::new(TOPIC, QoS::AtMostOnce, pl)
                }
                Shape::PublishQos1 { .. } => {
                    let mut p = v5::Publish::new(TOPIC, QoS::AtLeastOnce, pl);
                    p.pkid = QOS1_PACKET_ID;
                    p
                }
                Shape::Connect | Shape::Subscribe => return None,
            };
            if w.shape == Shape::PublishV5Properties {
                p.properties = Some(v5::PublishProperties {
                    payload_format_indicator: None,
                    message_expiry_interval: None,
                    topic_alias: None,
                    response_topic: None,
                    correlation_data: None,
                    user_properties: USER_PROPERTIES
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    subscription_identifiers: Vec::new(),
                    content_type: Some(CONTENT_TYPE.to_string()),
                });
            }
            return Some(Value::V5(v5::Packet::Publish(p)));
        }
        Some(Value::V4(match w.shape {
            Shape::PublishQos0 { .. } => {
                v4::Packet::Publish(v4::Publish::new(TOPIC, QoS::AtMostOnce, pl))
            }
            Shape::PublishQos1 { .. } => {
                let mut p = v4::Publish::new(TOPIC, QoS::AtLeastOnce, pl);
                p.pkid = QOS1_PACKET_ID;
                v4::Packet::Publish(p)
            }
            Shape::PublishV5Properties => return None,
            Shape::Connect => v4::Packet::Connect(v4::Connect {
                protocol: mqttbytes::Protocol::V4,
                keep_alive: KEEP_ALIVE,
                client_id: CLIENT_ID.to_string(),
                clean_session: true,
                last_will: Some(v4::LastWill::new(
                    WILL_TOPIC,
                    WILL_PAYLOAD,
                    qos(WILL_QOS),
                    WILL_RETAIN,
                )),
                login: Some(v4::Login::new(USERNAME, PASSWORD)),
            }),
            Shape::Subscribe => v4::Packet::Subscribe(v4::Subscribe {
                pkid: SUBSCRIBE_PACKET_ID,
                filters: FILTERS
                    .iter()
                    .enumerate()
                    .map(|(i, f)| v4::SubscribeFilter::new(f.to_string(), qos(filter_qos(i))))
                    .collect(),
            }),
        }))
    }

    /// mqttbytes' values for the mixed stream (the payload shared, as `Bytes`).
    pub fn build_stream(s: &MixedStream) -> Vec<v4::Packet> {
        let payload = Bytes::from(s.payload.clone());
        s.items
            .iter()
            .map(|item| match *item {
                StreamItem::Publish => v4::Packet::Publish(v4::Publish::from_bytes(
                    TOPIC,
                    QoS::AtMostOnce,
                    payload.clone(),
                )),
                StreamItem::PubAck(id) => v4::Packet::PubAck(v4::PubAck::new(id)),
                StreamItem::PingReq => v4::Packet::PingReq,
            })
            .collect()
    }

    /// Writes `p` (the packets the workloads use) at 3.1.1.
    #[inline]
    pub fn encode_v4(p: &v4::Packet, buf: &mut BytesMut) -> Result<usize, mqttbytes::Error> {
        match p {
            v4::Packet::Publish(p) => p.write(buf),
            v4::Packet::PubAck(p) => p.write(buf),
            v4::Packet::PingReq => v4::PingReq.write(buf),
            v4::Packet::Connect(p) => p.write(buf),
            v4::Packet::Subscribe(p) => p.write(buf),
            _ => Err(mqttbytes::Error::InvalidPacketType(0)),
        }
    }

    /// Writes `v` into `buf`.
    #[inline]
    pub fn encode(v: &Value, buf: &mut BytesMut) -> Result<usize, mqttbytes::Error> {
        match v {
            Value::V4(p) => encode_v4(p, buf),
            Value::V5(v5::Packet::Publish(p)) => p.write(buf),
            Value::V5(_) => Err(mqttbytes::Error::InvalidPacketType(0)),
        }
    }
}

/// `mqttrs` 0.4 (3.1.1 only): zero-copy `decode_slice` over a `&[u8]`. Its packets do not
/// say how many bytes they took, so the adapter frames with `mqtt_benches::frame_len` (as a
/// user of mqttrs must). SUBSCRIBE filters become `String`s in a `Vec` (with its `std`
/// feature).
pub mod peer_mqttrs {
    use super::*;
    use mqttrs::{Packet, Pid, QoS, QosPid};

    /// The decoder.
    #[derive(Debug, Clone, Copy)]
    pub struct MqttRs;

    impl Peer for MqttRs {
        type Buf = Cursor;
        fn name(&self) -> &'static str {
            "mqttrs"
        }
        fn load(&self, bytes: &[u8], copies: usize) -> Cursor {
            Cursor::new(bytes, copies)
        }
        #[inline]
        fn next(&self, buf: &mut Cursor) -> Option<u64> {
            let rest = buf.rest()?;
            let n = frame_len(rest)?;
            let c = walk(&mqttrs::decode_slice(rest).ok()??);
            buf.pos += n;
            Some(c)
        }
    }

    fn qos_num(q: QoS) -> u64 {
        match q {
            QoS::AtMostOnce => 0,
            QoS::AtLeastOnce => 1,
            QoS::ExactlyOnce => 2,
        }
    }

    fn walk(p: &Packet<'_>) -> u64 {
        match p {
            Packet::Publish(p) => {
                tag(3)
                    + (p.topic_name.len() + p.payload.len()) as u64
                    + qos_num(p.qospid.qos())
                    + u64::from(p.retain)
                    + u64::from(p.dup)
                    + p.qospid.pid().map_or(0, |id| u64::from(id.get()))
            }
            Packet::Puback(id) => tag(4) + u64::from(id.get()),
            Packet::Pingreq => tag(12),
            Packet::Connect(c) => {
                let mut sum = tag(1)
                    + c.client_id.len() as u64
                    + u64::from(c.keep_alive)
                    + u64::from(c.clean_session);
                if let Some(w) = &c.last_will {
                    sum += (w.topic.len() + w.message.len()) as u64
                        + qos_num(w.qos)
                        + u64::from(w.retain);
                }
                sum += c.username.map_or(0, |u| u.len() as u64);
                sum += c.password.map_or(0, |p| p.len() as u64);
                sum
            }
            Packet::Subscribe(s) => {
                let mut sum = tag(8) + u64::from(s.pid.get());
                for t in &s.topics {
                    sum += (t.topic_path.len() + 1) as u64 + qos_num(t.qos);
                }
                sum
            }
            _ => 0,
        }
    }

    fn qos(n: u8) -> QoS {
        match n {
            0 => QoS::AtMostOnce,
            1 => QoS::AtLeastOnce,
            _ => QoS::ExactlyOnce,
        }
    }

    fn pid(n: u16) -> Pid {
        Pid::try_from(n).unwrap_or_default()
    }

    /// mqttrs' value for a 3.1.1 workload, borrowing `payload` (the workload's payload).
    pub fn build<'a>(w: &Workload, payload: &'a [u8]) -> Option<Packet<'a>> {
        if w.is_v5() {
            return None;
        }
        let publish = |qospid| {
            Packet::Publish(mqttrs::Publish {
                dup: false,
                qospid,
                retain: false,
                topic_name: TOPIC,
                payload,
            })
        };
        Some(match w.shape {
            Shape::PublishQos0 { .. } => publish(QosPid::AtMostOnce),
            Shape::PublishQos1 { .. } => publish(QosPid::AtLeastOnce(pid(QOS1_PACKET_ID))),
            Shape::PublishV5Properties => return None,
            Shape::Connect => Packet::Connect(mqttrs::Connect {
                protocol: mqttrs::Protocol::MQTT311,
                keep_alive: KEEP_ALIVE,
                client_id: CLIENT_ID,
                clean_session: true,
                last_will: Some(mqttrs::LastWill {
                    topic: WILL_TOPIC,
                    message: WILL_PAYLOAD,
                    qos: qos(WILL_QOS),
                    retain: WILL_RETAIN,
                }),
                username: Some(USERNAME),
                password: Some(PASSWORD.as_bytes()),
            }),
            Shape::Subscribe => Packet::Subscribe(mqttrs::Subscribe::new(
                pid(SUBSCRIBE_PACKET_ID),
                FILTERS
                    .iter()
                    .enumerate()
                    .map(|(i, f)| mqttrs::SubscribeTopic {
                        topic_path: f.to_string(),
                        qos: qos(filter_qos(i)),
                    })
                    .collect(),
            )),
        })
    }

    /// mqttrs' values for the mixed stream, borrowing its payload.
    pub fn build_stream(s: &MixedStream) -> Vec<Packet<'_>> {
        s.items
            .iter()
            .map(|item| match *item {
                StreamItem::Publish => Packet::Publish(mqttrs::Publish {
                    dup: false,
                    qospid: QosPid::AtMostOnce,
                    retain: false,
                    topic_name: TOPIC,
                    payload: &s.payload,
                }),
                StreamItem::PubAck(id) => Packet::Puback(pid(id)),
                StreamItem::PingReq => Packet::Pingreq,
            })
            .collect()
    }

    /// Encodes `p` into `buf` (a slice: mqttrs writes into `&mut [u8]`), returning the length.
    #[inline]
    pub fn encode(p: &Packet<'_>, buf: &mut [u8]) -> Result<usize, mqttrs::Error> {
        mqttrs::encode_slice(p, buf)
    }
}

/// `mqtt-protocol` 0.12 (crate `mqtt`; 3.1.1 only): decodes from any `std::io::Read` (here a
/// `&[u8]`, which advances as it is read); strings become `String`s and payloads `Vec<u8>`s.
pub mod peer_mqtt_protocol {
    use super::*;
    use mqtt::packet::{
        ConnectPacket, PingreqPacket, PubackPacket, PublishPacket, QoSWithPacketIdentifier,
        SubscribePacket, VariablePacket,
    };
    use mqtt::{Decodable, Encodable, QualityOfService, TopicFilter, TopicName};

    /// The decoder.
    #[derive(Debug, Clone, Copy)]
    pub struct MqttProtocol;

    impl Peer for MqttProtocol {
        type Buf = Cursor;
        fn name(&self) -> &'static str {
            "mqtt-protocol"
        }
        fn load(&self, bytes: &[u8], copies: usize) -> Cursor {
            Cursor::new(bytes, copies)
        }
        #[inline]
        fn next(&self, buf: &mut Cursor) -> Option<u64> {
            let mut rest = buf.rest()?;
            let before = rest.len();
            let c = walk(&VariablePacket::decode(&mut rest).ok()?);
            buf.pos += before - rest.len();
            Some(c)
        }
    }

    fn walk(p: &VariablePacket) -> u64 {
        match p {
            VariablePacket::PublishPacket(p) => {
                let (q, id) = match p.qos() {
                    QoSWithPacketIdentifier::Level0 => (0, 0),
                    QoSWithPacketIdentifier::Level1(id) => (1, id),
                    QoSWithPacketIdentifier::Level2(id) => (2, id),
                };
                tag(3)
                    + (p.topic_name().len() + p.payload().len()) as u64
                    + q
                    + u64::from(p.retain())
                    + u64::from(p.dup())
                    + u64::from(id)
            }
            VariablePacket::PubackPacket(a) => tag(4) + u64::from(a.packet_identifier()),
            VariablePacket::PingreqPacket(_) => tag(12),
            VariablePacket::ConnectPacket(c) => {
                let mut sum = tag(1)
                    + c.client_identifier().len() as u64
                    + u64::from(c.keep_alive())
                    + u64::from(c.clean_session());
                if let Some((topic, message)) = c.will() {
                    sum += (topic.len() + message.len()) as u64
                        + u64::from(c.will_qos())
                        + u64::from(c.will_retain());
                }
                sum += c.user_name().map_or(0, |u| u.len() as u64);
                sum += c.password().map_or(0, |p| p.len() as u64);
                sum
            }
            VariablePacket::SubscribePacket(s) => {
                let mut sum = tag(8) + u64::from(s.packet_identifier());
                for (f, q) in s.subscribes() {
                    sum += (f.len() + 1) as u64 + *q as u64;
                }
                sum
            }
            _ => 0,
        }
    }

    fn qos(n: u8) -> QualityOfService {
        match n {
            0 => QualityOfService::Level0,
            1 => QualityOfService::Level1,
            _ => QualityOfService::Level2,
        }
    }

    fn topic(s: &str) -> Option<TopicName> {
        TopicName::new(s).ok()
    }

    /// mqtt-protocol's value for a 3.1.1 workload.
    pub fn build(w: &Workload) -> Option<VariablePacket> {
        if w.is_v5() {
            return None;
        }
        let pl = w.shape.payload_len().map(payload).unwrap_or_default();
        Some(match w.shape {
            Shape::PublishQos0 { .. } => {
                PublishPacket::new(topic(TOPIC)?, QoSWithPacketIdentifier::Level0, pl).into()
            }
            Shape::PublishQos1 { .. } => PublishPacket::new(
                topic(TOPIC)?,
                QoSWithPacketIdentifier::Level1(QOS1_PACKET_ID),
                pl,
            )
            .into(),
            Shape::PublishV5Properties => return None,
            Shape::Connect => {
                let mut c = ConnectPacket::new(CLIENT_ID);
                c.set_keep_alive(KEEP_ALIVE);
                c.set_clean_session(true);
                c.set_will(Some((topic(WILL_TOPIC)?, WILL_PAYLOAD.to_vec())));
                c.set_will_qos(WILL_QOS);
                c.set_will_retain(WILL_RETAIN);
                c.set_user_name(Some(USERNAME.to_string()));
                c.set_password(Some(PASSWORD.to_string()));
                c.into()
            }
            Shape::Subscribe => {
                let mut subs = Vec::new();
                for (i, f) in FILTERS.iter().enumerate() {
                    subs.push((TopicFilter::new(*f).ok()?, qos(filter_qos(i))));
                }
                SubscribePacket::new(SUBSCRIBE_PACKET_ID, subs).into()
            }
        })
    }

    /// mqtt-protocol's values for the mixed stream (each PUBLISH owns its payload).
    pub fn build_stream(s: &MixedStream) -> Option<Vec<VariablePacket>> {
        let mut out = Vec::with_capacity(s.items.len());
        for item in &s.items {
            out.push(match *item {
                StreamItem::Publish => PublishPacket::new(
                    topic(TOPIC)?,
                    QoSWithPacketIdentifier::Level0,
                    s.payload.clone(),
                )
                .into(),
                StreamItem::PubAck(id) => PubackPacket::new(id).into(),
                StreamItem::PingReq => PingreqPacket::new().into(),
            });
        }
        Some(out)
    }

    /// Encodes `p` at the end of `buf`.
    #[inline]
    pub fn encode(p: &VariablePacket, buf: &mut Vec<u8>) -> std::io::Result<()> {
        p.encode(buf)
    }
}

/// `ntex-mqtt` 9.0's codecs (`v3::codec::Codec`, `v5::codec::Codec`), decode only: they decode
/// from an `ntex_bytes::BytesMut`, splitting each packet off the front; strings become
/// `ByteString`s (views), a PUBLISH payload comes back as a separate `Bytes`. No runtime is
/// started: the codecs are plain structs.
pub mod peer_ntex {
    use super::*;
    use ntex_bytes::BytesMut;
    use ntex_codec::Decoder as _;
    use ntex_mqtt::{v3, v5, QoS};

    /// The v3.1.1 codec.
    #[derive(Debug, Default)]
    pub struct NtexV3(pub v3::codec::Codec);

    /// The 5.0 codec.
    #[derive(Debug, Default)]
    pub struct NtexV5(pub v5::codec::Codec);

    /// Spare capacity left in ntex's input buffer. After each PUBLISH, ntex's v3 codec calls
    /// `reserve(5)` on its input; on a buffer filled to capacity that moves everything still
    /// unread to a new allocation (once per buffer, about one payload's worth of copying per
    /// packet here), which a socket read buffer, with room to read into, would not do.
    const SPARE: usize = 4096;

    fn load(bytes: &[u8], copies: usize) -> BytesMut {
        let mut b = BytesMut::with_capacity(bytes.len() * copies + SPARE);
        for _ in 0..copies {
            b.extend_from_slice(bytes);
        }
        b
    }

    fn qos_num(q: QoS) -> u64 {
        u64::from(u8::from(q))
    }

    impl Peer for NtexV3 {
        type Buf = BytesMut;
        fn name(&self) -> &'static str {
            "ntex"
        }
        fn load(&self, bytes: &[u8], copies: usize) -> BytesMut {
            load(bytes, copies)
        }
        #[inline]
        fn next(&self, buf: &mut BytesMut) -> Option<u64> {
            if buf.is_empty() {
                return None;
            }
            Some(match self.0.decode(buf).ok()?? {
                v3::codec::Decoded::Publish(p, payload, _) => {
                    tag(3)
                        + (p.topic.len() + payload.len()) as u64
                        + qos_num(p.qos)
                        + u64::from(p.retain)
                        + u64::from(p.dup)
                        + p.packet_id.map_or(0, |id| u64::from(id.get()))
                }
                v3::codec::Decoded::Packet(p, _) => walk_v3(&p),
                v3::codec::Decoded::PayloadChunk(..) => return None,
            })
        }
    }

    fn walk_v3(p: &v3::codec::Packet) -> u64 {
        use v3::codec::Packet;
        match p {
            Packet::PublishAck { packet_id } => tag(4) + u64::from(packet_id.get()),
            Packet::PingRequest => tag(12),
            Packet::Connect(c) => {
                let mut sum = tag(1)
                    + c.client_id.len() as u64
                    + u64::from(c.keep_alive)
                    + u64::from(c.clean_session);
                if let Some(w) = &c.last_will {
                    sum += (w.topic.len() + w.message.len()) as u64
                        + qos_num(w.qos)
                        + u64::from(w.retain);
                }
                sum += c.username.as_ref().map_or(0, |u| u.len() as u64);
                sum += c.password.as_ref().map_or(0, |p| p.len() as u64);
                sum
            }
            Packet::Subscribe {
                packet_id,
                topic_filters,
            } => {
                let mut sum = tag(8) + u64::from(packet_id.get());
                for (f, q) in topic_filters {
                    sum += (f.len() + 1) as u64 + qos_num(*q);
                }
                sum
            }
            _ => 0,
        }
    }

    impl Peer for NtexV5 {
        type Buf = BytesMut;
        fn name(&self) -> &'static str {
            "ntex"
        }
        fn load(&self, bytes: &[u8], copies: usize) -> BytesMut {
            load(bytes, copies)
        }
        #[inline]
        fn next(&self, buf: &mut BytesMut) -> Option<u64> {
            if buf.is_empty() {
                return None;
            }
            Some(match self.0.decode(buf).ok()?? {
                v5::codec::Decoded::Publish(p, payload, _) => {
                    let mut sum = tag(3)
                        + (p.topic.len() + payload.len()) as u64
                        + qos_num(p.qos)
                        + u64::from(p.retain)
                        + u64::from(p.dup)
                        + p.packet_id.map_or(0, |id| u64::from(id.get()));
                    let props = &p.properties;
                    sum += props.content_type.as_ref().map_or(0, |s| s.len() as u64);
                    for (k, v) in &props.user_properties {
                        sum += (k.len() + v.len() + 1) as u64;
                    }
                    sum
                }
                v5::codec::Decoded::Packet(p, _) => match p {
                    v5::codec::Packet::PublishAck(a) => tag(4) + u64::from(a.packet_id.get()),
                    v5::codec::Packet::PingRequest => tag(12),
                    _ => 0,
                },
                v5::codec::Decoded::PayloadChunk(..) => return None,
            })
        }
    }
}
