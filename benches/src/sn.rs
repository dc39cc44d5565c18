//! MQTT-SN workloads, shared by `benches/sn.rs` and the allocation test
//! (`tests/allocations.rs`).
//!
//! Every workload is one MQTT-SN 1.2 message, built once as a value of `mqtt-sn-codec` and
//! encoded by it into the datagram every implementation then decodes. MQTT-SN is
//! datagram-first: a decode takes exactly one whole datagram, so the benchmarks decode the
//! same datagram over and over (there is no stream to walk through).
//!
//! Decoding is measured as "decode and walk", as for MQTT: after decoding, every field a
//! receiver would look at is read and folded into one number ([`checksum`] for ours; the
//! same formula over the peer's types in `shared/sn_peer.rs`), which also lets the benchmark
//! and the tests check that the peer read the same content from the same bytes.
//!
//! The peer, the `mqtt-sn` crate (0.2.2), has a one-octet Length field only, so it has no
//! [`publish_qos1_registered`] with a 1,000 B payload (the 3-octet form); it decodes and
//! encodes the four other workloads.
//!
//! # Panics
//!
//! The builders build messages from constants that are valid by construction; they panic
//! (via `expect`) only if those constants were edited into something invalid.

use mqtt_sn_codec::{Delivery, Message, MsgId, QoS, ShortTopic, Subscribe, TopicId, TopicRef};

use crate::{payload, tag, CLIENT_ID, KEEP_ALIVE, QOS1_PACKET_ID, SUBSCRIBE_PACKET_ID, TOPIC};
use mqtt_sn_codec::shared as sh;
use mqtt_sn_codec::shared::Message as SharedMessage;

/// PUBLISH QoS 0: the short topic name (two characters, carried in the Topic Id field).
pub const SHORT_TOPIC: &str = "t1";

/// PUBLISH QoS 1: the registered topic id (as agreed by REGISTER/REGACK).
pub const REGISTERED_TOPIC_ID: u16 = 0x0107;

/// PUBLISH QoS 1: the MsgId (the same number as the MQTT QoS 1 workload's).
pub const PUBLISH_MSG_ID: u16 = QOS1_PACKET_ID;

/// SUBSCRIBE: the MsgId (the same number as the MQTT SUBSCRIBE workload's).
pub const SUBSCRIBE_MSG_ID: u16 = SUBSCRIBE_PACKET_ID;

/// SUBSCRIBE: the topic name, carried in full (TopicIdType `0b00`); the topic of every MQTT
/// PUBLISH workload.
pub const SUBSCRIBE_TOPIC: &str = TOPIC;

/// CONNECT: the ClientId (17 characters, within the specification's 23); the MQTT CONNECT
/// workload's.
pub const SN_CLIENT_ID: &str = CLIENT_ID;

/// CONNECT: the keep-alive Duration, in seconds.
pub const DURATION: u16 = KEEP_ALIVE;

/// The longest message with a one-octet Length field; longer ones take the 3-octet form.
pub const ONE_OCTET_LENGTH_MAX: usize = 255;

fn msg_id(v: u16) -> MsgId {
    MsgId::new(v).expect("message ids here are non-zero")
}

/// PUBLISH QoS 0 on the short topic name [`SHORT_TOPIC`] with a [`payload`] of
/// `payload_len` bytes: header (2) + Flags, Topic Id, MsgId (5) + payload.
pub fn publish_qos0_short(payload_len: usize) -> SharedMessage {
    SharedMessage::Publish(sh::Publish {
        dup: false,
        retain: false,
        delivery: Delivery::AtMostOnce,
        topic: sh::TopicRef::Short(ShortTopic::new(SHORT_TOPIC).expect("two-character topic")),
        payload: sh::Payload::from(payload(payload_len)),
    })
}

/// PUBLISH QoS 1 (MsgId [`PUBLISH_MSG_ID`]) on the registered topic id
/// [`REGISTERED_TOPIC_ID`] with a [`payload`] of `payload_len` bytes. Up to 248 bytes of
/// payload the message has the one-octet Length; beyond, the 3-octet form.
pub fn publish_qos1_registered(payload_len: usize) -> SharedMessage {
    SharedMessage::Publish(sh::Publish {
        dup: false,
        retain: false,
        delivery: Delivery::AtLeastOnce(msg_id(PUBLISH_MSG_ID)),
        topic: sh::TopicRef::Registered(TopicId(REGISTERED_TOPIC_ID)),
        payload: sh::Payload::from(payload(payload_len)),
    })
}

/// CONNECT with CleanSession, no will, the keep-alive [`DURATION`] and the ClientId
/// [`SN_CLIENT_ID`].
pub fn connect() -> SharedMessage {
    SharedMessage::Connect(sh::Connect {
        will: false,
        clean_session: true,
        duration: DURATION,
        client_id: sh::Str::new(SN_CLIENT_ID).expect("valid client id"),
    })
}

/// SUBSCRIBE QoS 1 (MsgId [`SUBSCRIBE_MSG_ID`]) to the topic name [`SUBSCRIBE_TOPIC`],
/// carried in full.
pub fn subscribe() -> SharedMessage {
    SharedMessage::Subscribe(sh::Subscribe {
        dup: false,
        qos: QoS::AtLeastOnce,
        msg_id: msg_id(SUBSCRIBE_MSG_ID),
        topic: sh::TopicRef::Name(sh::TopicFilter::new(SUBSCRIBE_TOPIC).expect("valid topic name")),
    })
}

/// Encodes `message` with `mqtt-sn-codec`.
pub fn encode<B: mqtt_codec::Storage, T: mqtt_codec::StrStorage>(
    message: &mqtt_sn_codec::generic::Message<B, T>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.encoded_len());
    let n = message.encode(&mut out).expect("workload messages encode");
    assert_eq!(n, out.len(), "encode returned the octets written");
    out
}

/// One MQTT-SN message, built once as a datagram.
#[derive(Debug, Clone)]
pub struct SnWorkload {
    /// The benchmark name: `sn_decode/<name>` and `sn_encode/<name>`.
    pub name: &'static str,
    /// Our message value (what `bytes` encodes).
    pub message: SharedMessage,
    /// The datagram.
    pub bytes: Vec<u8>,
}

impl SnWorkload {
    fn new(name: &'static str, message: SharedMessage) -> Self {
        let bytes = encode(&message);
        SnWorkload {
            name,
            message,
            bytes,
        }
    }

    /// The octets of the UTF-8 string the message carries (the ClientId of CONNECT, the
    /// topic name of SUBSCRIBE), which a decoder must check before handing out a `&str`;
    /// `None` for the messages without one. In both, the string is the last field.
    pub fn text(&self) -> Option<&[u8]> {
        let len = match &self.message.view() {
            Message::Connect(c) => c.client_id.len(),
            Message::Subscribe(Subscribe {
                topic: TopicRef::Name(f),
                ..
            }) => f.len(),
            _ => return None,
        };
        self.bytes.get(self.bytes.len() - len..)
    }

    /// Whether the datagram has the 3-octet Length form (longer than 255 octets).
    pub fn long_length(&self) -> bool {
        self.bytes.len() > ONE_OCTET_LENGTH_MAX
    }
}

/// The MQTT-SN workloads, in report order:
///
/// - `publish_qos0_short_16B`: [`publish_qos0_short`] with 16 B (23-octet datagram);
/// - `publish_qos1_registered_200B`: [`publish_qos1_registered`] with 200 B (207 octets);
/// - `publish_qos1_registered_1000B_3octet`: [`publish_qos1_registered`] with 1,000 B
///   (1,009 octets, 3-octet Length);
/// - `connect_clean`: [`connect`] (23 octets);
/// - `subscribe_topic_name`: [`subscribe`] (36 octets).
pub fn workloads() -> Vec<SnWorkload> {
    vec![
        SnWorkload::new("publish_qos0_short_16B", publish_qos0_short(16)),
        SnWorkload::new("publish_qos1_registered_200B", publish_qos1_registered(200)),
        SnWorkload::new(
            "publish_qos1_registered_1000B_3octet",
            publish_qos1_registered(1000),
        ),
        SnWorkload::new("connect_clean", connect()),
        SnWorkload::new("subscribe_topic_name", subscribe()),
    ]
}

/// The QoS bits of a Flags octet, as a number (QoS −1 is 3).
#[inline]
pub const fn qos_num(q: QoS) -> u64 {
    match q {
        QoS::AtMostOnce => 0,
        QoS::AtLeastOnce => 1,
        QoS::ExactlyOnce => 2,
        QoS::MinusOne => 3,
    }
}

/// The TopicIdType bits and the Topic Id field (0 for a name carried in full) of a topic
/// reference, as numbers.
#[inline]
fn topic_nums(t: &TopicRef<'_>) -> u64 {
    t.id_type() as u64 + u64::from(t.id_field().unwrap_or(0))
}

/// Reads every field a receiver would look at and folds them into one number; the peer
/// adapter computes the same formula over its own types:
///
/// - PUBLISH: `tag(0x0C)` + QoS + retain + DUP + TopicIdType + Topic Id field + MsgId (0 at
///   QoS 0 and −1) + payload length;
/// - CONNECT: `tag(0x04)` + will + CleanSession + Duration + ClientId length;
/// - SUBSCRIBE: `tag(0x12)` + QoS + DUP + MsgId + TopicIdType + Topic Id field (0 for a
///   name) + topic name length (0 for an id).
///
/// Other messages give their tag alone (`tag(code)`).
#[inline]
pub fn checksum(message: &Message<'_>) -> u64 {
    match message {
        Message::Publish(p) => {
            tag(0x0C)
                + qos_num(p.delivery.qos())
                + u64::from(p.retain)
                + u64::from(p.dup)
                + topic_nums(&p.topic)
                + u64::from(p.delivery.msg_id().map_or(0, MsgId::get))
                + p.payload.len() as u64
        }
        Message::Connect(c) => {
            tag(0x04)
                + u64::from(c.will)
                + u64::from(c.clean_session)
                + u64::from(c.duration)
                + c.client_id.len() as u64
        }
        Message::Subscribe(s) => {
            let name = match &s.topic {
                TopicRef::Name(f) => f.len() as u64,
                _ => 0,
            };
            tag(0x12)
                + qos_num(s.qos)
                + u64::from(s.dup)
                + u64::from(s.msg_id.get())
                + topic_nums(&s.topic)
                + name
        }
        other => tag(other.msg_type().code()),
    }
}

/// Decodes the datagram with ours (`mqtt_sn_codec::decode`) and walks the message: its
/// [`checksum`], or `None` if ours refused the datagram.
#[inline]
pub fn decode_walk(datagram: &[u8]) -> Option<u64> {
    // Walked where the decoder put it: binding the message by value (`Ok(m)`, `.ok()`)
    // would copy it out of the `Result` first. The peer's adapter does the same.
    match &mqtt_sn_codec::decode(datagram) {
        Ok(m) => Some(checksum(m)),
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    use byte::{TryRead, TryWrite};
    use mqtt_sn::{Flags, TopicNameOrId};

    #[test]
    fn workloads_round_trip_with_ours() {
        let ws = workloads();
        let lens: Vec<_> = ws.iter().map(|w| w.bytes.len()).collect();
        assert_eq!(lens, [23, 207, 1009, 23, 36]);
        for w in &ws {
            assert_eq!(w.bytes.len(), w.message.encoded_len(), "{}", w.name);
            let m = mqtt_sn_codec::decode(&w.bytes).unwrap();
            assert_eq!(m, w.message.view(), "{}", w.name);
            assert_eq!(decode_walk(&w.bytes), Some(checksum(&w.message.view())));
            // The string field, where there is one, is the string of the message.
            let text = w.text().map(|t| core::str::from_utf8(t).unwrap());
            let view = w.message.view();
            let expected = match &view {
                Message::Connect(c) => Some(c.client_id.as_str()),
                Message::Subscribe(s) => match &s.topic {
                    TopicRef::Name(f) => Some(f.as_str()),
                    _ => None,
                },
                _ => None,
            };
            assert_eq!(text, expected, "{}", w.name);
            // The Length form: one octet up to 255, else 0x01 and two octets.
            if w.long_length() {
                assert_eq!(w.bytes.first(), Some(&1), "{}", w.name);
            } else {
                assert_eq!(
                    w.bytes.first().map(|&b| usize::from(b)),
                    Some(w.bytes.len())
                );
            }
        }
        assert!(ws.iter().filter(|w| w.long_length()).count() == 1);
    }

    /// The peer decodes each workload it supports to the same fields, and refuses the one
    /// with the 3-octet Length; and it encodes the same message to the same bytes.
    #[test]
    fn peer_decodes_and_encodes_the_same_bytes() {
        for w in workloads() {
            let peer = mqtt_sn::Message::try_read(&w.bytes, ());
            if w.long_length() {
                assert!(peer.is_err(), "{}: {peer:?}", w.name);
                continue;
            }
            let (m, n) = peer.unwrap_or_else(|e| panic!("{}: {e:?}", w.name));
            assert_eq!(n, w.bytes.len(), "{}", w.name);
            let expected = match (&w.message.view(), &m) {
                (Message::Publish(ours), mqtt_sn::Message::Publish(p)) => {
                    assert_eq!(p.flags.qos(), qos_num(ours.delivery.qos()) as u8);
                    assert_eq!(p.flags.topic_id_type(), ours.topic.id_type() as u8);
                    assert_eq!(Some(p.topic_id), ours.topic.id_field());
                    assert_eq!(p.msg_id, ours.delivery.msg_id().map_or(0, MsgId::get));
                    assert_eq!(p.data.as_bytes(), ours.payload.as_bytes());
                    let mut flags = Flags::default();
                    flags.set_qos(p.flags.qos());
                    flags.set_topic_id_type(p.flags.topic_id_type());
                    mqtt_sn::Message::Publish(mqtt_sn::Publish {
                        flags,
                        topic_id: p.topic_id,
                        msg_id: p.msg_id,
                        data: mqtt_sn::PublishData::from(
                            core::str::from_utf8(ours.payload.as_bytes()).unwrap(),
                        ),
                    })
                }
                (Message::Connect(ours), mqtt_sn::Message::Connect(c)) => {
                    assert_eq!(c.flags.clean_session(), ours.clean_session);
                    assert_eq!(c.flags.will(), ours.will);
                    assert_eq!(c.duration, ours.duration);
                    assert_eq!(c.client_id.as_str(), ours.client_id.as_str());
                    let mut flags = Flags::default();
                    flags.set_clean_session(true);
                    mqtt_sn::Message::Connect(mqtt_sn::Connect {
                        flags,
                        duration: DURATION,
                        client_id: SN_CLIENT_ID.into(),
                    })
                }
                (Message::Subscribe(ours), mqtt_sn::Message::Subscribe(s)) => {
                    assert_eq!(s.flags.qos(), qos_num(ours.qos) as u8);
                    assert_eq!(s.msg_id, ours.msg_id.get());
                    let TopicRef::Name(f) = &ours.topic else {
                        panic!("{}: not a name", w.name)
                    };
                    assert_eq!(s.topic, TopicNameOrId::Name(f.as_str().into()));
                    let mut flags = Flags::default();
                    flags.set_qos(1);
                    mqtt_sn::Message::Subscribe(mqtt_sn::Subscribe {
                        flags,
                        msg_id: SUBSCRIBE_MSG_ID,
                        topic: TopicNameOrId::Name(SUBSCRIBE_TOPIC.into()),
                    })
                }
                (ours, theirs) => panic!("{}: {ours:?} decoded as {theirs:?}", w.name),
            };
            assert_eq!(expected, m, "{}", w.name);
            let mut buf = [0u8; 512];
            let n = expected.try_write(&mut buf, ()).unwrap();
            assert_eq!(buf.get(..n), Some(w.bytes.as_slice()), "{}", w.name);
        }
    }
}
