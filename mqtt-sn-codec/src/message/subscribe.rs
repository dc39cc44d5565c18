//! Subscriptions (§5.4.15–5.4.18, §6.9–6.10): SUBSCRIBE, SUBACK, UNSUBSCRIBE.
//! UNSUBACK carries only a MsgId and lives in the message enum.

use bytes::{BufMut, Bytes};
use bytestring::ByteString;
use mqtt_codec::StrStorage;

use crate::error::{DecodeError, EncodeError};
use crate::message::{
    check_qos_outside_publish, msg_id, publish::topic_from_field, qos_outside_publish, Decoder,
};
use crate::types::{Flags, MsgId, MsgType, QoS, ReturnCode, TopicId, TopicIdType, TopicRef};
use crate::wire::Reader;

/// SUBSCRIBE (§5.4.15).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subscribe<T: StrStorage> {
    /// The DUP flag: a retransmission.
    pub dup: bool,
    /// The QoS asked for.
    pub qos: QoS,
    /// The MsgId SUBACK answers.
    pub msg_id: MsgId,
    /// A topic name or filter in full, a predefined topic id or a short topic name.
    pub topic: TopicRef<T>,
}

/// UNSUBSCRIBE (§5.4.17).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Unsubscribe<T: StrStorage> {
    /// The MsgId UNSUBACK answers.
    pub msg_id: MsgId,
    /// A topic name or filter in full, a predefined topic id or a short topic name.
    pub topic: TopicRef<T>,
}

/// Reads Flags and MsgId, then the topic by its TopicIdType: TopicName (the rest of the
/// message) for `0b00`, else the two-octet Topic Id field and nothing after it.
#[inline(always)]
fn decode_common<'a>(
    r: &mut Reader<'a>,
    d: &Decoder,
) -> Result<(Flags, MsgId, TopicRef<&'a str>), DecodeError> {
    let msg = r.msg();
    let flags = Flags(r.u8()?);
    let id = msg_id(msg, r.u16()?)?;
    // §5.3.4: TopicIdType 0b11 is reserved.
    let tit = flags
        .topic_id_type()
        .ok_or(DecodeError::ReservedTopicIdType { msg })?;
    let topic = if tit == TopicIdType::Normal {
        let f = r.topic_filter(d.strict_utf8)?;
        TopicRef::Name(f)
    } else {
        let t = topic_from_field(msg, tit, r.pair()?)?;
        r.end()?;
        t
    };
    Ok((flags, id, topic))
}

fn topic_len<T: StrStorage>(topic: &TopicRef<T>) -> usize {
    match topic {
        TopicRef::Name(f) => f.as_str().len(),
        _ => 2,
    }
}

fn check_topic<T: StrStorage>(msg: MsgType, topic: &TopicRef<T>) -> Result<(), EncodeError> {
    match topic {
        TopicRef::Registered(_) => Err(EncodeError::TopicNotCarried {
            msg,
            form: "registered topic id",
        }),
        _ => Ok(()),
    }
}

fn put_common<T: StrStorage>(buf: &mut impl BufMut, flags: u8, id: MsgId, topic: &TopicRef<T>) {
    buf.put_u8(flags | topic.id_type() as u8);
    buf.put_u16(id.get());
    match topic {
        TopicRef::Name(f) => buf.put_slice(f.as_str().as_bytes()),
        t => buf.put_u16(t.id_field().unwrap_or(0)),
    }
}

impl<'a> Subscribe<&'a str> {
    #[inline]
    pub(crate) fn decode(
        r: &mut Reader<'a>,
        d: &Decoder,
    ) -> Result<Subscribe<&'a str>, DecodeError> {
        let (flags, msg_id, topic) = decode_common(r, d)?;
        Ok(Subscribe {
            dup: flags.has(Flags::DUP),
            qos: qos_outside_publish(MsgType::Subscribe, flags)?,
            msg_id,
            topic,
        })
    }
}

impl<T: StrStorage> Subscribe<T> {
    pub(crate) fn body_len(&self) -> usize {
        3 + topic_len(&self.topic)
    }

    pub(crate) fn check(&self) -> Result<(), EncodeError> {
        check_qos_outside_publish(MsgType::Subscribe, self.qos)?;
        check_topic(MsgType::Subscribe, &self.topic)
    }

    pub(crate) fn put(&self, buf: &mut impl BufMut) {
        let flags = Flags::bit(self.dup, Flags::DUP) | Flags::qos_bits(self.qos);
        put_common(buf, flags, self.msg_id, &self.topic);
    }

    /// The borrowed form, pointing into this message (no copy).
    pub fn view(&self) -> Subscribe<&str> {
        Subscribe {
            dup: self.dup,
            qos: self.qos,
            msg_id: self.msg_id,
            topic: self.topic.view(),
        }
    }

    pub(crate) fn share(&self, parent: Option<&Bytes>) -> Subscribe<ByteString> {
        Subscribe {
            dup: self.dup,
            qos: self.qos,
            msg_id: self.msg_id,
            topic: self.topic.share(parent),
        }
    }

    /// The shared form: a copy of a borrowed message's fields, a cheap clone of a shared
    /// one.
    pub fn to_shared(&self) -> Subscribe<ByteString> {
        self.share(None)
    }

    /// The shared form, its fields slices of `parent` wherever they lie inside it (no
    /// copy), copies otherwise.
    pub fn to_shared_in(&self, parent: &Bytes) -> Subscribe<ByteString> {
        self.share(Some(parent))
    }
}

impl<'a> Unsubscribe<&'a str> {
    #[inline]
    pub(crate) fn decode(
        r: &mut Reader<'a>,
        d: &Decoder,
    ) -> Result<Unsubscribe<&'a str>, DecodeError> {
        let (_, msg_id, topic) = decode_common(r, d)?;
        Ok(Unsubscribe { msg_id, topic })
    }
}

impl<T: StrStorage> Unsubscribe<T> {
    pub(crate) fn body_len(&self) -> usize {
        3 + topic_len(&self.topic)
    }

    pub(crate) fn check(&self) -> Result<(), EncodeError> {
        check_topic(MsgType::Unsubscribe, &self.topic)
    }

    pub(crate) fn put(&self, buf: &mut impl BufMut) {
        put_common(buf, 0, self.msg_id, &self.topic);
    }

    /// The borrowed form, pointing into this message (no copy).
    pub fn view(&self) -> Unsubscribe<&str> {
        Unsubscribe {
            msg_id: self.msg_id,
            topic: self.topic.view(),
        }
    }

    pub(crate) fn share(&self, parent: Option<&Bytes>) -> Unsubscribe<ByteString> {
        Unsubscribe {
            msg_id: self.msg_id,
            topic: self.topic.share(parent),
        }
    }

    /// The shared form: a copy of a borrowed message's fields, a cheap clone of a shared
    /// one.
    pub fn to_shared(&self) -> Unsubscribe<ByteString> {
        self.share(None)
    }

    /// The shared form, its fields slices of `parent` wherever they lie inside it (no
    /// copy), copies otherwise.
    pub fn to_shared_in(&self, parent: &Bytes) -> Unsubscribe<ByteString> {
        self.share(Some(parent))
    }
}

/// SUBACK (§5.4.16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubAck {
    /// The QoS granted.
    pub qos: QoS,
    /// The topic id to expect in PUBLISH (for a topic name without wildcards);
    /// [`TopicId::NONE`] for a wildcard filter or a short topic name.
    pub topic_id: TopicId,
    /// The SUBSCRIBE's MsgId.
    pub msg_id: MsgId,
    /// Accepted, or why not.
    pub code: ReturnCode,
}

impl SubAck {
    #[inline]
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let flags = Flags(r.u8()?);
        let topic_id = TopicId(r.u16()?);
        let msg_id = msg_id(r.msg(), r.u16()?)?;
        let code = ReturnCode::from(r.u8()?);
        r.end()?;
        Ok(SubAck {
            qos: qos_outside_publish(MsgType::SubAck, flags)?,
            topic_id,
            msg_id,
            code,
        })
    }

    pub(crate) fn put(&self, buf: &mut impl BufMut) {
        buf.put_u8(Flags::qos_bits(self.qos));
        buf.put_u16(self.topic_id.0);
        buf.put_u16(self.msg_id.get());
        buf.put_u8(self.code.into());
    }
}
