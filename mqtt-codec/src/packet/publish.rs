//! PUBLISH (MQTT 5.0 §3.3, MQTT 3.1.1 §3.3).

use bytes::BufMut;

use crate::error::{DecodeError, EncodeError};
use crate::packet::properties::{v5_block_len, PayloadFormat, PublishProperties};
use crate::packet::{read_packet_id, Decoder, PacketType};
use crate::topic::TopicName;
use crate::types::{PacketId, Payload, Protocol, QoS};
use crate::wire::reader::Reader;
use crate::wire::writer::{bin_len, put_bin};

/// QoS with what travels with it: QoS 0 has no Packet Identifier and no DUP flag
/// ([MQTT-2.3.1-5], [MQTT-3.3.1-2]); QoS 1 and 2 have a non-zero identifier
/// ([MQTT-2.3.1-1]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// QoS 0.
    AtMostOnce,
    /// QoS 1.
    AtLeastOnce {
        /// Packet Identifier.
        packet_id: PacketId,
        /// DUP: a re-delivery.
        dup: bool,
    },
    /// QoS 2.
    ExactlyOnce {
        /// Packet Identifier.
        packet_id: PacketId,
        /// DUP: a re-delivery.
        dup: bool,
    },
}

impl Delivery {
    /// The QoS.
    #[inline]
    pub const fn qos(&self) -> QoS {
        match self {
            Delivery::AtMostOnce => QoS::AtMostOnce,
            Delivery::AtLeastOnce { .. } => QoS::AtLeastOnce,
            Delivery::ExactlyOnce { .. } => QoS::ExactlyOnce,
        }
    }

    /// The Packet Identifier, for QoS 1 and 2.
    #[inline]
    pub const fn packet_id(&self) -> Option<PacketId> {
        match self {
            Delivery::AtMostOnce => None,
            Delivery::AtLeastOnce { packet_id, .. } | Delivery::ExactlyOnce { packet_id, .. } => {
                Some(*packet_id)
            }
        }
    }

    /// The DUP flag.
    #[inline]
    pub const fn dup(&self) -> bool {
        match self {
            Delivery::AtMostOnce => false,
            Delivery::AtLeastOnce { dup, .. } | Delivery::ExactlyOnce { dup, .. } => *dup,
        }
    }

    /// `qos` with `packet_id`, which QoS 0 ignores; `None` for QoS 1 or 2 without one.
    pub const fn new(qos: QoS, packet_id: Option<PacketId>, dup: bool) -> Option<Self> {
        match (qos, packet_id) {
            (QoS::AtMostOnce, _) => Some(Delivery::AtMostOnce),
            (QoS::AtLeastOnce, Some(packet_id)) => Some(Delivery::AtLeastOnce { packet_id, dup }),
            (QoS::ExactlyOnce, Some(packet_id)) => Some(Delivery::ExactlyOnce { packet_id, dup }),
            _ => None,
        }
    }
}

/// PUBLISH: an application message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish<'a> {
    /// QoS, Packet Identifier and DUP.
    pub delivery: Delivery,
    /// RETAIN.
    pub retain: bool,
    /// Topic Name ([MQTT-3.3.2-1], [MQTT-3.3.2-2]); empty only with a Topic Alias (5.0).
    pub topic: TopicName<'a>,
    /// The application message.
    pub payload: Payload<'a>,
    /// PUBLISH properties (MQTT 5.0).
    pub properties: PublishProperties<'a>,
}

/// Reads a topic name ([MQTT-3.3.2-1], [MQTT-3.3.2-2], [MQTT-4.7.3-2]); `allow_empty` for
/// a 5.0 PUBLISH, which checks the Topic Alias afterwards.
#[inline]
pub(crate) fn read_topic<'a>(
    r: &mut Reader<'a>,
    strict: bool,
    allow_empty: bool,
) -> Result<TopicName<'a>, DecodeError> {
    let at = r.offset() + 2;
    let b = r.binary()?;
    if b.is_empty() {
        return if allow_empty {
            Ok(TopicName::from_checked(""))
        } else {
            Err(DecodeError::EmptyTopicWithoutAlias)
        };
    }
    let invalid = |error| DecodeError::Invalid {
        packet: r.packet(),
        offset: at as u32,
        error,
    };
    let s = crate::topic::check_bytes(b, strict).map_err(invalid)?;
    crate::topic::check_name(s).map_err(invalid)?;
    Ok(TopicName::from_checked(s))
}

impl<'a> Publish<'a> {
    /// A QoS 0 PUBLISH without retain or properties.
    pub fn new(topic: TopicName<'a>, payload: impl Into<Payload<'a>>) -> Self {
        Publish {
            delivery: Delivery::AtMostOnce,
            retain: false,
            topic,
            payload: payload.into(),
            properties: PublishProperties::default(),
        }
    }

    /// The QoS.
    #[inline]
    pub fn qos(&self) -> QoS {
        self.delivery.qos()
    }

    /// The Packet Identifier, for QoS 1 and 2.
    #[inline]
    pub fn packet_id(&self) -> Option<PacketId> {
        self.delivery.packet_id()
    }

    pub(crate) fn flags(&self) -> u8 {
        (u8::from(self.delivery.dup()) << 3)
            | ((self.delivery.qos() as u8) << 1)
            | u8::from(self.retain)
    }

    #[inline]
    pub(crate) fn decode(flags: u8, r: &mut Reader<'a>, d: &Decoder) -> Result<Self, DecodeError> {
        let v5 = d.protocol().is_v5();
        let dup = flags & 0b1000 != 0;
        let retain = flags & 1 != 0;
        // [MQTT-3.3.1-4]
        let qos = QoS::try_from((flags >> 1) & 0b11).map_err(|_| DecodeError::InvalidQos {
            packet: PacketType::Publish,
        })?;
        // [MQTT-3.3.1-2]
        if dup && qos == QoS::AtMostOnce {
            return Err(DecodeError::DupWithQos0);
        }
        let topic = read_topic(r, d.strict(), v5)?;
        let delivery = match qos {
            QoS::AtMostOnce => Delivery::AtMostOnce,
            QoS::AtLeastOnce => Delivery::AtLeastOnce {
                packet_id: read_packet_id(r)?,
                dup,
            },
            QoS::ExactlyOnce => Delivery::ExactlyOnce {
                packet_id: read_packet_id(r)?,
                dup,
            },
        };
        let properties = if v5 {
            PublishProperties::decode(r, d.strict())?
        } else {
            PublishProperties::default()
        };
        if topic.is_empty() && properties.topic_alias.is_none() {
            return Err(DecodeError::EmptyTopicWithoutAlias);
        }
        let payload = r.rest();
        if d.payload_format_checked()
            && properties.payload_format_indicator == Some(PayloadFormat::Utf8)
            && core::str::from_utf8(payload).is_err()
        {
            return Err(DecodeError::PayloadFormatInvalid {
                packet: PacketType::Publish,
                packet_id: delivery.packet_id(),
            });
        }
        Ok(Publish {
            delivery,
            retain,
            topic,
            payload: Payload::from(payload),
            properties,
        })
    }

    pub(crate) fn body_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        let v5 = protocol.is_v5();
        if self.topic.is_empty() && (!v5 || self.properties.topic_alias.is_none()) {
            return Err(EncodeError::EmptyTopicWithoutAlias);
        }
        let mut n = bin_len(self.topic.as_bytes()) + self.payload.len();
        if self.delivery.packet_id().is_some() {
            n += 2;
        }
        Ok(n + v5_block_len(
            &self.properties,
            protocol,
            PacketType::Publish,
            "properties",
        )?)
    }

    pub(crate) fn write_body(&self, protocol: Protocol, buf: &mut impl BufMut) {
        put_bin(buf, self.topic.as_bytes());
        if let Some(id) = self.delivery.packet_id() {
            buf.put_u16(id.get());
        }
        if protocol.is_v5() {
            self.properties.write(buf);
        }
        buf.put_slice(self.payload.as_bytes());
    }

    /// Copies borrowed contents so that the value no longer borrows.
    pub fn into_owned(self) -> Publish<'static> {
        Publish {
            delivery: self.delivery,
            retain: self.retain,
            topic: self.topic.into_owned(),
            payload: self.payload.into_owned(),
            properties: self.properties.into_owned(),
        }
    }
}
