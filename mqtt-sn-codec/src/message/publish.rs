//! Publishing (§5.4.12–5.4.14, §6.6–6.8): PUBLISH and PUBACK. PUBREC, PUBREL and PUBCOMP
//! carry only a MsgId and live in the message enum.

use bytes::{BufMut, Bytes};
use bytestring::ByteString;
use mqtt_codec::generic::Payload;
use mqtt_codec::{Storage, StrStorage};

use crate::error::{DecodeError, EncodeError};
use crate::message::msg_id;
use crate::types::{
    Flags, MsgId, MsgType, QoS, ReturnCode, ShortTopic, TopicId, TopicIdType, TopicRef,
};
use crate::wire::{invalid, Reader};

/// How a PUBLISH is delivered: its QoS, with the MsgId the QoS 1 and 2 flows need
/// (§5.3.6). QoS 0 and −1 carry MsgId 0x0000; the decoder ignores that field for them,
/// as the specification makes it relevant only for QoS 1 and 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Delivery {
    /// QoS 0.
    #[default]
    AtMostOnce,
    /// QoS 1, acknowledged by PUBACK.
    AtLeastOnce(MsgId),
    /// QoS 2, the PUBREC / PUBREL / PUBCOMP exchange.
    ExactlyOnce(MsgId),
    /// QoS −1: sent without a connection, on a predefined topic id or a short topic name
    /// (§6.8).
    MinusOne,
}

impl Delivery {
    /// The QoS.
    pub const fn qos(self) -> QoS {
        match self {
            Delivery::AtMostOnce => QoS::AtMostOnce,
            Delivery::AtLeastOnce(_) => QoS::AtLeastOnce,
            Delivery::ExactlyOnce(_) => QoS::ExactlyOnce,
            Delivery::MinusOne => QoS::MinusOne,
        }
    }

    /// The MsgId, for QoS 1 and 2.
    pub const fn msg_id(self) -> Option<MsgId> {
        match self {
            Delivery::AtLeastOnce(id) | Delivery::ExactlyOnce(id) => Some(id),
            Delivery::AtMostOnce | Delivery::MinusOne => None,
        }
    }
}

/// PUBLISH (§5.4.12).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Publish<B: Storage, T: StrStorage> {
    /// The DUP flag: a retransmission.
    pub dup: bool,
    /// The Retain flag.
    pub retain: bool,
    /// QoS and MsgId.
    pub delivery: Delivery,
    /// A registered or predefined topic id, or a short topic name; never a topic name in
    /// full (PUBLISH has no field for one).
    pub topic: TopicRef<T>,
    /// The published data.
    pub payload: Payload<B>,
}

/// The Topic Id field read according to the TopicIdType flag, for PUBLISH (§5.3.11).
#[inline]
pub(crate) fn topic_from_field(
    msg: MsgType,
    tit: TopicIdType,
    field: [u8; 2],
) -> Result<TopicRef<&'static str>, DecodeError> {
    Ok(match tit {
        TopicIdType::Normal => TopicRef::Registered(TopicId(u16::from_be_bytes(field))),
        TopicIdType::Predefined => TopicRef::Predefined(TopicId(u16::from_be_bytes(field))),
        TopicIdType::Short => TopicRef::Short(
            ShortTopic::from_octets(&field).map_err(|e| invalid(msg, "short topic name", e))?,
        ),
    })
}

impl<'a> Publish<&'a [u8], &'a str> {
    #[inline]
    pub(crate) fn decode(r: &mut Reader<'a>) -> Result<Publish<&'a [u8], &'a str>, DecodeError> {
        let flags = Flags(r.u8()?);
        let field = r.pair()?;
        let id = r.u16()?;
        let payload = Payload::from(r.rest());
        let msg = MsgType::Publish;
        // §5.3.4: TopicIdType 0b11 is reserved.
        let tit = flags
            .topic_id_type()
            .ok_or(DecodeError::ReservedTopicIdType { msg })?;
        let topic = topic_from_field(msg, tit, field)?;
        let delivery = match flags.qos() {
            QoS::AtMostOnce => Delivery::AtMostOnce,
            QoS::AtLeastOnce => Delivery::AtLeastOnce(msg_id(msg, id)?),
            QoS::ExactlyOnce => Delivery::ExactlyOnce(msg_id(msg, id)?),
            // §6.8: QoS -1 only on predefined topic ids and short topic names.
            QoS::MinusOne if tit == TopicIdType::Normal => {
                return Err(DecodeError::MinusOneOnNormalTopic)
            }
            QoS::MinusOne => Delivery::MinusOne,
        };
        Ok(Publish {
            dup: flags.has(Flags::DUP),
            retain: flags.has(Flags::RETAIN),
            delivery,
            topic,
            payload,
        })
    }
}

impl<B: Storage, T: StrStorage> Publish<B, T> {
    #[inline]
    pub(crate) fn body_len(&self) -> usize {
        5 + self.payload.len()
    }

    pub(crate) fn check(&self) -> Result<(), EncodeError> {
        match (&self.topic, self.delivery) {
            (TopicRef::Name(_), _) => Err(EncodeError::TopicNotCarried {
                msg: MsgType::Publish,
                form: "topic name",
            }),
            (TopicRef::Registered(_), Delivery::MinusOne) => {
                Err(EncodeError::MinusOneOnNormalTopic)
            }
            _ => Ok(()),
        }
    }

    /// The whole PUBLISH message, header included, in one straight path: the message that
    /// matters for speed. The same checks and bytes as the general path.
    #[inline]
    pub(crate) fn encode_message(&self, buf: &mut impl BufMut) -> Result<usize, EncodeError> {
        self.check()?;
        let body = 5 + self.payload.len();
        let len = crate::wire::header_len(body) + body;
        if len > crate::wire::MAX_MESSAGE_LEN {
            return Err(EncodeError::TooLong {
                msg: MsgType::Publish,
                len,
            });
        }
        if buf.remaining_mut() < len {
            return Err(EncodeError::BufferTooSmall {
                needed: len,
                available: buf.remaining_mut(),
            });
        }
        let flags = Flags::bit(self.dup, Flags::DUP)
            | Flags::qos_bits(self.delivery.qos())
            | Flags::bit(self.retain, Flags::RETAIN)
            | self.topic.id_type() as u8;
        let [t0, t1] = self.topic.id_field().unwrap_or(0).to_be_bytes();
        let [m0, m1] = self.delivery.msg_id().map_or(0, MsgId::get).to_be_bytes();
        let code = MsgType::Publish.code();
        if len <= 255 {
            buf.put_slice(&[len as u8, code, flags, t0, t1, m0, m1]);
        } else {
            let [hi, lo] = (len as u16).to_be_bytes();
            buf.put_slice(&[1, hi, lo, code, flags, t0, t1, m0, m1]);
        }
        buf.put_slice(self.payload.as_bytes());
        Ok(len)
    }

    #[inline]
    pub(crate) fn put(&self, buf: &mut impl BufMut) {
        let flags = Flags::bit(self.dup, Flags::DUP)
            | Flags::qos_bits(self.delivery.qos())
            | Flags::bit(self.retain, Flags::RETAIN)
            | self.topic.id_type() as u8;
        let [t0, t1] = self.topic.id_field().unwrap_or(0).to_be_bytes();
        let [m0, m1] = self.delivery.msg_id().map_or(0, MsgId::get).to_be_bytes();
        buf.put_slice(&[flags, t0, t1, m0, m1]);
        buf.put_slice(self.payload.as_bytes());
    }

    /// The borrowed form, pointing into this message (no copy).
    pub fn view(&self) -> Publish<&[u8], &str> {
        Publish {
            dup: self.dup,
            retain: self.retain,
            delivery: self.delivery,
            topic: self.topic.view(),
            payload: self.payload.view(),
        }
    }

    pub(crate) fn share(&self, parent: Option<&Bytes>) -> Publish<Bytes, ByteString> {
        Publish {
            dup: self.dup,
            retain: self.retain,
            delivery: self.delivery,
            topic: self.topic.share(parent),
            payload: sh!(self.payload, parent),
        }
    }

    /// The shared form: a copy of a borrowed message's fields, a cheap clone of a shared
    /// one.
    pub fn to_shared(&self) -> Publish<Bytes, ByteString> {
        self.share(None)
    }

    /// The shared form, its fields slices of `parent` wherever they lie inside it (no
    /// copy), copies otherwise.
    pub fn to_shared_in(&self, parent: &Bytes) -> Publish<Bytes, ByteString> {
        self.share(Some(parent))
    }
}

/// PUBACK (§5.4.13): acknowledges a QoS 1 PUBLISH, or refuses any PUBLISH (for instance
/// with [`ReturnCode::InvalidTopicId`], after which the client registers again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PubAck {
    /// The Topic Id field of the PUBLISH, echoed (a short topic name's two octets too).
    pub topic_id: TopicId,
    /// The PUBLISH's MsgId; `None` (0x0000 on the wire) when refusing a QoS 0 or −1
    /// PUBLISH, which has none.
    pub msg_id: Option<MsgId>,
    /// Accepted, or why not.
    pub code: ReturnCode,
}

impl PubAck {
    #[inline]
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let topic_id = TopicId(r.u16()?);
        let msg_id = MsgId::new(r.u16()?);
        let code = ReturnCode::from(r.u8()?);
        r.end()?;
        Ok(PubAck {
            topic_id,
            msg_id,
            code,
        })
    }

    pub(crate) fn put(&self, buf: &mut impl BufMut) {
        buf.put_u16(self.topic_id.0);
        buf.put_u16(self.msg_id.map_or(0, MsgId::get));
        buf.put_u8(self.code.into());
    }
}
