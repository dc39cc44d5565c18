//! The MQTT-SN peer, the `mqtt-sn` crate (0.2.2), shared by `benches/sn.rs` and the
//! allocation test (included with `#[path]`, since the peer is a dev-dependency of this
//! crate only).
//!
//! Its codec is the `byte` crate's `TryRead` / `TryWrite` on `mqtt_sn::Message`: decoding
//! copies every string and the payload into fixed-capacity `heapless` strings (checking
//! UTF-8, at most 256 bytes), and encoding takes the message by value and writes into a
//! `&mut [u8]`. Its Length field is the one-octet form only: a datagram with the 3-octet
//! form is refused (the octet after `0x01` is read as the message type), and `Publish`
//! cannot hold a payload of more than 256 bytes (248 with a one-octet Length).
#![allow(dead_code)]

use byte::{TryRead, TryWrite};
use mqtt_benches::sn::{qos_num, SnWorkload, ONE_OCTET_LENGTH_MAX};
use mqtt_benches::tag;
use mqtt_sn::{Flags, Message, TopicNameOrId};
use mqtt_sn_codec::TopicRef;

/// The name in benchmark ids and tables.
pub const NAME: &str = "mqtt-sn";

/// Decodes the datagram: the message, or `None` if the peer refused it or did not account
/// for every octet.
#[inline]
pub fn decode(datagram: &[u8]) -> Option<Message> {
    match Message::try_read(datagram, ()) {
        Ok((m, n)) if n == datagram.len() => Some(m),
        _ => None,
    }
}

/// The same formula as `mqtt_benches::sn::checksum`, over the peer's types.
#[inline]
pub fn checksum(m: &Message) -> u64 {
    match m {
        Message::Publish(p) => {
            tag(0x0C)
                + u64::from(p.flags.qos())
                + u64::from(p.flags.retain())
                + u64::from(p.flags.dup())
                + u64::from(p.flags.topic_id_type())
                + u64::from(p.topic_id)
                + u64::from(p.msg_id)
                + p.data.len() as u64
        }
        Message::Connect(c) => {
            tag(0x04)
                + u64::from(c.flags.will())
                + u64::from(c.flags.clean_session())
                + u64::from(c.duration)
                + c.client_id.len() as u64
        }
        Message::Subscribe(s) => {
            let topic = match &s.topic {
                TopicNameOrId::Name(n) => n.len() as u64,
                TopicNameOrId::Id(id) => u64::from(*id),
            };
            tag(0x12)
                + u64::from(s.flags.qos())
                + u64::from(s.flags.dup())
                + u64::from(s.msg_id)
                + u64::from(s.flags.topic_id_type())
                + topic
        }
        Message::SearchGw(_) => tag(0x01),
        Message::GwInfo(_) => tag(0x02),
        Message::ConnAck(_) => tag(0x05),
        Message::Register(_) => tag(0x0A),
        Message::RegAck(_) => tag(0x0B),
        Message::PubAck(_) => tag(0x0D),
        Message::SubAck(_) => tag(0x13),
        Message::Unsubscribe(_) => tag(0x14),
        Message::UnsubAck(_) => tag(0x15),
        Message::PingReq(_) => tag(0x16),
        Message::PingResp(_) => tag(0x17),
    }
}

/// Decodes the datagram and walks the message: its [`checksum`], or `None` if refused.
#[inline]
pub fn decode_walk(datagram: &[u8]) -> Option<u64> {
    // Walked in place, as ours is (see `mqtt_benches::sn::decode_walk`).
    match &Message::try_read(datagram, ()) {
        Ok((m, n)) if *n == datagram.len() => Some(checksum(m)),
        _ => None,
    }
}

/// The peer's value of the workload's message, built from ours; `None` where the peer
/// cannot carry it (a datagram longer than 255 octets, a payload that is not UTF-8).
pub fn build(w: &SnWorkload) -> Option<Message> {
    if w.bytes.len() > ONE_OCTET_LENGTH_MAX {
        return None;
    }
    Some(match &w.message.view() {
        mqtt_sn_codec::Message::Publish(p) => {
            let mut flags = Flags::default();
            flags.set_dup(p.dup);
            flags.set_qos(qos_num(p.delivery.qos()) as u8);
            flags.set_retain(p.retain);
            flags.set_topic_id_type(p.topic.id_type() as u8);
            let data = core::str::from_utf8(p.payload.as_bytes()).ok()?;
            Message::Publish(mqtt_sn::Publish {
                flags,
                topic_id: p.topic.id_field()?,
                msg_id: p.delivery.msg_id().map_or(0, |id| id.get()),
                data: data.into(),
            })
        }
        mqtt_sn_codec::Message::Connect(c) => {
            let mut flags = Flags::default();
            flags.set_will(c.will);
            flags.set_clean_session(c.clean_session);
            Message::Connect(mqtt_sn::Connect {
                flags,
                duration: c.duration,
                client_id: c.client_id.as_str().into(),
            })
        }
        mqtt_sn_codec::Message::Subscribe(s) => {
            let mut flags = Flags::default();
            flags.set_dup(s.dup);
            flags.set_qos(qos_num(s.qos) as u8);
            flags.set_topic_id_type(s.topic.id_type() as u8);
            let topic = match &s.topic {
                TopicRef::Name(f) => TopicNameOrId::Name(f.as_str().into()),
                t => TopicNameOrId::Id(t.id_field()?),
            };
            Message::Subscribe(mqtt_sn::Subscribe {
                flags,
                msg_id: s.msg_id.get(),
                topic,
            })
        }
        _ => return None,
    })
}

/// Encodes `m` (taken by value, as the peer's API requires) at the start of `buf`: the
/// octets written.
#[inline]
pub fn encode(m: Message, buf: &mut [u8]) -> Option<usize> {
    m.try_write(buf, ()).ok()
}
