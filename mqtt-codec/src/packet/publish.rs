//! PUBLISH (MQTT 5.0 §3.3, MQTT 3.1.1 §3.3).

use bytes::{BufMut, Bytes};
use bytestring::ByteString;

use crate::error::{DecodeError, EncodeError};
use crate::packet::properties::{read_v5, v5_block_len, PayloadFormat, PublishProperties};
use crate::packet::{read_packet_id, Decoder, PacketType};
use crate::storage::{Source, Storage, StrStorage};
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

    /// The same delivery with DUP set to `dup`; QoS 0 has no DUP and stays as it is.
    #[inline]
    pub const fn with_dup(self, dup: bool) -> Self {
        match self {
            Delivery::AtMostOnce => Delivery::AtMostOnce,
            Delivery::AtLeastOnce { packet_id, .. } => Delivery::AtLeastOnce { packet_id, dup },
            Delivery::ExactlyOnce { packet_id, .. } => Delivery::ExactlyOnce { packet_id, dup },
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
///
/// `B` and `T` are the storage of byte fields and strings: [`crate::Publish<'a>`] is the
/// borrowed form, [`crate::shared::Publish`] the shared one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Publish<B: Storage, T: StrStorage> {
    /// QoS, Packet Identifier and DUP.
    pub delivery: Delivery,
    /// RETAIN.
    pub retain: bool,
    /// Topic Name ([MQTT-3.3.2-1], [MQTT-3.3.2-2]); empty only with a Topic Alias (5.0).
    pub topic: TopicName<T>,
    /// The application message.
    pub payload: Payload<B>,
    /// PUBLISH properties (MQTT 5.0).
    pub properties: PublishProperties<B>,
}

/// Reads a topic name ([MQTT-3.3.2-1], [MQTT-3.3.2-2], [MQTT-4.7.3-2]) into the source's
/// string type, checking its UTF-8 once; `allow_empty` for a 5.0 PUBLISH, which checks the
/// Topic Alias afterwards.
#[inline]
pub(crate) fn read_topic<'a, S: Source<'a>>(
    r: &mut Reader<'a>,
    strict: bool,
    allow_empty: bool,
    src: S,
) -> Result<TopicName<S::T>, DecodeError> {
    let at = r.offset() + 2;
    let b = r.binary()?;
    if b.is_empty() {
        return if allow_empty {
            Ok(TopicName::default())
        } else {
            Err(DecodeError::Invalid {
                packet: r.packet(),
                offset: at as u32,
                error: crate::ValueError::EmptyTopic,
            })
        };
    }
    // One pass for U+0000 and the wildcards ([MQTT-4.7.3-2], [MQTT-3.3.2-2]), then UTF-8
    // ([MQTT-1.5.4-1]); a two-byte length cannot exceed 65,535 ([MQTT-4.7.3-3]).
    crate::topic::from_wire(b, strict, src).map_err(|error| DecodeError::Invalid {
        packet: r.packet(),
        offset: at as u32,
        error,
    })
}

impl<B: Storage, T: StrStorage> Publish<B, T> {
    /// A QoS 0 PUBLISH without retain or properties.
    pub fn new(topic: TopicName<T>, payload: impl Into<Payload<B>>) -> Self {
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

    /// The same message marked as a re-delivery: DUP set at QoS 1 and 2
    /// ([MQTT-3.3.1-1]); a QoS 0 message, which is never resent, is returned as it is
    /// ([MQTT-3.3.1-2]).
    pub fn into_resend(mut self) -> Self {
        self.delivery = self.delivery.with_dup(true);
        self
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

    #[inline(always)]
    pub(crate) fn decode<'a, S: Source<'a, B = B, T = T>>(
        flags: u8,
        r: &mut Reader<'a>,
        d: &Decoder,
        src: S,
    ) -> Result<Self, DecodeError> {
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
        let topic = read_topic(r, d.strict(), v5, src)?;
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
        let properties: PublishProperties<B> = read_v5(r, d, src)?;
        if topic.is_empty() && properties.topic_alias().is_none() {
            return Err(DecodeError::EmptyTopicWithoutAlias);
        }
        let payload = r.rest();
        if d.payload_format_checked()
            && properties.payload_format_indicator() == Some(PayloadFormat::Utf8)
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
            payload: Payload::new(src.bytes(payload)),
            properties,
        })
    }

    pub(crate) fn body_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        let v5 = protocol.is_v5();
        if self.topic.is_empty() && (!v5 || self.properties.topic_alias().is_none()) {
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
        self.write_head(protocol, buf);
        buf.put_slice(self.payload.as_bytes());
    }

    /// The variable header: topic, packet identifier, properties.
    #[inline]
    pub(crate) fn write_head(&self, protocol: Protocol, buf: &mut impl BufMut) {
        put_bin(buf, self.topic.as_bytes());
        if let Some(id) = self.delivery.packet_id() {
            buf.put_u16(id.get());
        }
        if protocol.is_v5() {
            self.properties.write(buf);
        }
    }

    /// The borrowed form, pointing into this packet (no copy).
    pub fn view(&self) -> Publish<&[u8], &str> {
        Publish {
            delivery: self.delivery,
            retain: self.retain,
            topic: self.topic.view(),
            payload: self.payload.view(),
            properties: self.properties.view(),
        }
    }

    pub(crate) fn share(&self, parent: Option<&Bytes>) -> Publish<Bytes, ByteString> {
        Publish {
            delivery: self.delivery,
            retain: self.retain,
            topic: self.topic.share(parent),
            payload: self.payload.share(parent),
            properties: self.properties.share(parent),
        }
    }

    /// The shared form: a cheap clone of a shared packet, a copy of a borrowed one.
    pub fn to_shared(&self) -> Publish<Bytes, ByteString> {
        self.share(None)
    }

    /// The shared form, its fields slices of `parent` wherever they lie inside it (no
    /// copy), copies otherwise.
    pub fn to_shared_in(&self, parent: &Bytes) -> Publish<Bytes, ByteString> {
        self.share(Some(parent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::testutil::*;
    use crate::Protocol::{V3_1, V3_1_1, V5};
    use crate::{Packet, Publish, TopicName};
    use crate::{PropertyId, ValueError};
    use alloc::vec::Vec;

    fn publish<'a>(p: &Packet<'a>) -> Publish<'a> {
        match p {
            Packet::Publish(p) => *p,
            other => panic!("not a publish: {other:?}"),
        }
    }

    #[test]
    fn encode_writes_the_same_bytes_whatever_the_topic_length_and_properties() {
        // Short topics without properties take a one-piece path, the others another: both
        // write what decodes back, and the header-only path writes the same header.
        let long = "t".repeat(300);
        for level in [V3_1, V3_1_1, V5] {
            for len in [1usize, 47, 48, 49, 64, 300] {
                for qos1 in [false, true] {
                    for with_props in [false, true] {
                        if with_props && !level.is_v5() {
                            continue;
                        }
                        let topic = TopicName::new(&long[..len]).unwrap();
                        let mut p = crate::shared::Publish::new(
                            crate::shared::TopicName::new(topic.as_str()).unwrap(),
                            &b"payload"[..],
                        );
                        if qos1 {
                            p.delivery = Delivery::AtLeastOnce {
                                packet_id: PacketId::new(0x1234).unwrap(),
                                dup: false,
                            };
                        }
                        if with_props {
                            p.properties.set_message_expiry_interval(9);
                        }
                        let packet = crate::shared::Packet::Publish(p.clone());
                        let bytes = encode(level, &packet.view()).unwrap();
                        assert_eq!(decode(level, &bytes).unwrap(), packet);
                        let mut head = Vec::new();
                        let n = crate::Encoder::new(level)
                            .encode_publish_header(&p, &mut head)
                            .unwrap();
                        assert_eq!(n + 7, bytes.len());
                        assert_eq!(head[..], bytes[..n]);
                    }
                }
            }
        }
    }

    #[test]
    fn mqtt_3_3_1_1_resend_sets_dup_on_qos_1_and_2_only() {
        let topic = TopicName::new("a").unwrap();
        let id = PacketId::new(9).unwrap();
        let mut p = Publish::new(topic, &b"x"[..]);
        p.delivery = Delivery::ExactlyOnce {
            packet_id: id,
            dup: false,
        };
        let again = p.into_resend();
        assert!(again.delivery.dup());
        assert_eq!(again.packet_id(), Some(id));
        let mut out = alloc::vec::Vec::new();
        crate::Packet::Publish(again)
            .encode(V3_1_1, &mut out)
            .unwrap();
        assert_eq!(out, hex("3c 06 0001 61 0009 78"));
        // QoS 0 is never resent and has no DUP ([MQTT-3.3.1-2]).
        let q0 = Publish::new(topic, &b"x"[..]).into_resend();
        assert_eq!(q0.delivery, Delivery::AtMostOnce);
    }

    #[test]
    fn qos0_qos1_qos2_golden_at_every_level() {
        for p in [V3_1, V3_1_1, V5] {
            let v5 = if p == V5 { "00" } else { "" };
            let len = if p == V5 { 1 } else { 0 };
            let q0 = publish(&golden(
                p,
                &alloc::format!("30 {:02x} 0003 612f62 {v5} 6869", 7 + len),
            ));
            assert_eq!(q0.delivery, Delivery::AtMostOnce);
            assert_eq!(q0.topic.as_str(), "a/b");
            assert_eq!(q0.payload.as_bytes(), b"hi");
            // The 3.1.1 example of §3.3.2: topic "a/b", packet identifier 10.
            let q1 = publish(&golden(
                p,
                &alloc::format!("32 {:02x} 0003 612f62 000a {v5} 6869", 9 + len),
            ));
            assert_eq!(
                q1.delivery,
                Delivery::AtLeastOnce {
                    packet_id: PacketId::new(10).unwrap(),
                    dup: false
                }
            );
            let q2 = publish(&golden(
                p,
                &alloc::format!("3d {:02x} 0003 612f62 000a {v5} 6869", 9 + len),
            ));
            assert_eq!(
                q2.delivery,
                Delivery::ExactlyOnce {
                    packet_id: PacketId::new(10).unwrap(),
                    dup: true
                }
            );
            assert!(q2.retain);
        }
    }

    #[test]
    fn empty_payload_and_large_remaining_length() {
        let p = publish(&golden(V3_1_1, "30 03 0001 61"));
        assert!(p.payload.is_empty());
        let mut bytes = hex("30 83 01 0001 61");
        bytes.extend(core::iter::repeat_n(0x55, 128));
        assert_prefixes_partial(V3_1_1, &bytes);
        let p = publish(&decode(V3_1_1, &bytes).unwrap());
        assert_eq!(p.payload.len(), 128);
        assert_eq!(encode(V3_1_1, &Packet::Publish(p)).unwrap(), bytes);
    }

    #[test]
    fn v5_properties_golden() {
        // Payload Format 1, Content Type "t", User Property k=v, Message Expiry 60,
        // Correlation Data 01 02, Response Topic "r", two Subscription Identifiers; the
        // encoder writes received properties back in the order they came.
        let p = publish(&golden(
            V5,
            "30 25 0001 61 20 0101 02 0000003c 08 0001 72 09 0002 0102 0300 0174 0b 05 0b 81 01 26 0001 6b 0001 76 78",
        ));
        let pr = &p.properties;
        assert_eq!(pr.payload_format_indicator(), Some(PayloadFormat::Utf8));
        assert_eq!(pr.content_type().as_deref(), Some("t"));
        assert_eq!(pr.message_expiry_interval(), Some(60));
        assert_eq!(pr.correlation_data().as_deref(), Some(&[1u8, 2][..]));
        assert_eq!(pr.response_topic().as_deref(), Some("r"));
        let ids: Vec<u32> = pr.subscription_identifiers().map(|s| s.get()).collect();
        assert_eq!(ids, [5, 129]);
        let users: Vec<alloc::string::String> = pr
            .user_properties()
            .map(|u| alloc::format!("{}={}", u.key, u.value))
            .collect();
        assert_eq!(users, ["k=v"]);
        assert_eq!(p.payload.as_bytes(), b"x");
    }

    #[test]
    fn mqtt_1_5_7_1_user_properties_keep_order_repeats_and_empty_values() {
        // k=1, k=2, ""="" , a=""
        let bytes = hex("30 1e 0001 61 19 26 0001 6b 0001 31 26 0001 6b 0001 32 26 0000 0000 26 0001 61 0000 00");
        let p = publish(&decode(V5, &bytes).unwrap());
        let got: Vec<(alloc::string::String, alloc::string::String)> = p
            .properties
            .user_properties()
            .map(|u| (u.key.as_str().into(), u.value.as_str().into()))
            .collect();
        let want: Vec<(alloc::string::String, alloc::string::String)> =
            [("k", "1"), ("k", "2"), ("", ""), ("a", "")]
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect();
        assert_eq!(got, want);
        assert_eq!(p.properties.user_properties().count(), 4);
        assert_eq!(encode(V5, &Packet::Publish(p)).unwrap(), bytes);
    }

    #[test]
    fn mqtt_3_3_1_2_dup_on_qos0_is_malformed() {
        assert_eq!(
            error(V3_1_1, "38 05 0001 61 6869"),
            DecodeError::DupWithQos0
        );
    }

    #[test]
    fn mqtt_3_3_1_4_qos_3_is_malformed() {
        assert_eq!(
            error(V5, "36 05 0001 61 0001"),
            DecodeError::InvalidQos {
                packet: PacketType::Publish
            }
        );
    }

    #[test]
    fn mqtt_3_3_2_2_wildcards_not_allowed_in_topic_name() {
        for (hexstr, ch, at) in [
            ("30 05 0001 2b 6869", '+', 0),
            ("30 07 0003 612f23 6869", '#', 2),
        ] {
            assert_eq!(
                error(V3_1_1, hexstr),
                DecodeError::Invalid {
                    packet: PacketType::Publish,
                    offset: 4,
                    error: ValueError::WildcardInTopicName { at, ch }
                }
            );
        }
    }

    #[test]
    fn mqtt_2_3_1_1_packet_id_zero_is_malformed() {
        assert_eq!(
            error(V3_1_1, "32 05 0001 61 0000"),
            DecodeError::ZeroPacketId {
                packet: PacketType::Publish
            }
        );
    }

    #[test]
    fn mqtt_2_3_1_5_qos0_has_no_packet_id() {
        // The two bytes after the topic are payload at QoS 0, not an identifier.
        let p = publish(&golden(V3_1_1, "30 05 0001 61 0000"));
        assert_eq!(p.packet_id(), None);
        assert_eq!(p.payload.as_bytes(), &[0, 0]);
    }

    #[test]
    fn mqtt_4_7_3_1_empty_topic_name_is_refused_at_3_1_1() {
        assert_eq!(
            error(V3_1_1, "30 04 0000 6869"),
            DecodeError::Invalid {
                packet: PacketType::Publish,
                offset: 4,
                error: ValueError::EmptyTopic
            }
        );
        let p = Publish::new(TopicName::empty(), &b"x"[..]);
        assert_eq!(
            Packet::Publish(p).encoded_len(V3_1_1),
            Err(EncodeError::EmptyTopicWithoutAlias)
        );
    }

    #[test]
    fn empty_topic_name_needs_a_topic_alias_in_5_0() {
        assert_eq!(
            error(V5, "30 05 0000 00 6869"),
            DecodeError::EmptyTopicWithoutAlias
        );
        let p = publish(&golden(V5, "30 08 0000 03 230001 6869"));
        assert_eq!(p.properties.topic_alias().map(|a| a.get()), Some(1));
        assert!(p.topic.is_empty());
    }

    #[test]
    fn mqtt_3_3_2_8_topic_alias_0_is_a_protocol_error() {
        let e = error(V5, "30 08 0001 61 03 230000 78");
        assert_eq!(
            e,
            DecodeError::InvalidPropertyValue {
                packet: PacketType::Publish,
                property: PropertyId::TopicAlias,
                value: 0
            }
        );
        assert_eq!(e.reason_code(), crate::ReasonCode::ProtocolError);
    }

    #[test]
    fn mqtt_3_3_2_14_response_topic_has_no_wildcards() {
        assert!(matches!(
            error(V5, "30 09 0001 61 04 08 0001 23 78"),
            DecodeError::Invalid {
                error: ValueError::WildcardInTopicName { .. },
                ..
            }
        ));
    }

    #[test]
    fn payload_format_indicator_above_1_is_a_protocol_error() {
        assert_eq!(
            error(V5, "30 07 0001 61 02 0102 78"),
            DecodeError::InvalidPropertyValue {
                packet: PacketType::Publish,
                property: PropertyId::PayloadFormatIndicator,
                value: 2
            }
        );
    }

    #[test]
    fn subscription_identifier_0_is_a_protocol_error() {
        assert_eq!(
            error(V5, "30 07 0001 61 02 0b00 78"),
            DecodeError::InvalidPropertyValue {
                packet: PacketType::Publish,
                property: PropertyId::SubscriptionIdentifier,
                value: 0
            }
        );
    }

    #[test]
    fn duplicate_property_is_a_protocol_error() {
        let e = error(V5, "30 0d 0001 61 08 0300 0174 0300 0175 78");
        assert_eq!(
            e,
            DecodeError::DuplicateProperty {
                packet: PacketType::Publish,
                property: PropertyId::ContentType
            }
        );
        assert_eq!(e.reason_code(), crate::ReasonCode::ProtocolError);
    }

    #[test]
    fn property_not_allowed_on_publish_is_malformed() {
        let e = error(V5, "30 0a 0001 61 05 11 0000003c 78");
        assert_eq!(
            e,
            DecodeError::PropertyNotAllowed {
                packet: PacketType::Publish,
                property: PropertyId::SessionExpiryInterval
            }
        );
        assert!(e.is_malformed());
    }

    #[test]
    fn unknown_property_is_malformed() {
        assert_eq!(
            error(V5, "30 07 0001 61 02 7f00 78"),
            DecodeError::UnknownProperty {
                packet: PacketType::Publish,
                id: 0x7f
            }
        );
    }

    #[test]
    fn property_length_past_the_packet_end_is_malformed() {
        assert!(matches!(
            error(V5, "30 05 0001 61 09 78"),
            DecodeError::UnexpectedEnd { .. }
        ));
        // A property value that runs past the property block.
        assert!(matches!(
            error(V5, "30 07 0001 61 02 0200 78"),
            DecodeError::UnexpectedEnd { .. }
        ));
    }

    #[test]
    fn mqtt_1_5_4_1_ill_formed_utf8_in_topic_is_malformed() {
        for (hexstr, at) in [
            ("30 06 0002 c0af 6869", 0),
            ("30 07 0003 eda080 6869", 0),
            ("30 06 0002 61ff 78", 1),
        ] {
            let e = error(
                V5,
                &hexstr.replace("6869", "00 6869").replace("78", "00 78"),
            );
            assert_eq!(
                e,
                DecodeError::Invalid {
                    packet: PacketType::Publish,
                    offset: 4,
                    error: ValueError::IllFormedUtf8 { at }
                },
                "{hexstr}"
            );
            assert!(e.is_malformed());
        }
    }

    #[test]
    fn mqtt_1_5_4_2_null_in_topic_is_malformed() {
        assert!(matches!(
            error(V3_1_1, "30 05 0002 6100 78"),
            DecodeError::Invalid {
                error: ValueError::NullCharacter { at: 1 },
                ..
            }
        ));
    }

    #[test]
    fn mqtt_1_5_4_3_bom_is_not_stripped() {
        let p = publish(&golden(V3_1_1, "30 06 0004 efbbbf61"));
        assert_eq!(p.topic.as_str(), "\u{feff}a");
    }

    #[test]
    fn strict_utf8_mode_refuses_control_characters() {
        let bytes = hex("30 05 0002 6101 78");
        assert!(decoder(V3_1_1).decode(&bytes).is_ok());
        assert!(matches!(
            decoder(V3_1_1).strict_utf8(true).decode(&bytes),
            Err(DecodeError::Invalid {
                error: ValueError::DisallowedCodePoint { at: 1, ch: '\u{1}' },
                ..
            })
        ));
        // Also in property strings.
        let bytes = hex("30 09 0001 61 04 0300 0101 78");
        assert!(decoder(V5).decode(&bytes).is_ok());
        assert!(decoder(V5).strict_utf8(true).decode(&bytes).is_err());
    }

    #[test]
    fn payload_format_utf8_with_non_utf8_payload_is_reported_when_asked() {
        let bytes = hex("32 09 0001 61 0007 02 0101 ff");
        assert!(decoder(V5).decode(&bytes).is_ok());
        let e = decoder(V5)
            .check_payload_format(true)
            .decode(&bytes)
            .unwrap_err();
        assert_eq!(
            e,
            DecodeError::PayloadFormatInvalid {
                packet: PacketType::Publish,
                packet_id: PacketId::new(7)
            }
        );
        assert_eq!(e.reason_code(), crate::ReasonCode::PayloadFormatInvalid);
        // A UTF-8 payload passes.
        assert!(decoder(V5)
            .check_payload_format(true)
            .decode(&hex("32 09 0001 61 0007 02 0101 78"))
            .is_ok());
    }

    #[test]
    fn properties_cannot_be_encoded_at_3_1_1() {
        let mut p = Publish::new(TopicName::new("a").unwrap(), &b"x"[..]);
        set_props!(p.properties, |q| q.set_message_expiry_interval(5));
        assert_eq!(
            Packet::Publish(p).encoded_len(V3_1_1),
            Err(EncodeError::NotInProtocol {
                packet: PacketType::Publish,
                what: "properties",
                protocol: V3_1_1
            })
        );
    }

    #[test]
    fn mqtt_2_2_2_1_no_properties_is_a_zero_length() {
        let p = Publish::new(TopicName::new("a").unwrap(), &b"x"[..]);
        assert_eq!(
            encode(V5, &Packet::Publish(p)).unwrap(),
            hex("30 05 0001 61 00 78")
        );
    }

    #[test]
    fn delivery_ties_qos_to_packet_id() {
        assert_eq!(Delivery::new(QoS::AtLeastOnce, None, false), None);
        assert_eq!(
            Delivery::new(QoS::AtMostOnce, PacketId::new(3), true),
            Some(Delivery::AtMostOnce)
        );
        let d = Delivery::new(QoS::ExactlyOnce, PacketId::new(3), true).unwrap();
        assert_eq!(
            (d.qos(), d.packet_id(), d.dup()),
            (QoS::ExactlyOnce, PacketId::new(3), true)
        );
    }

    #[test]
    fn header_then_payload_is_the_whole_packet() {
        let big = alloc::vec![0x5au8; 70_000];
        for level in [V3_1_1, V5] {
            let mut p = Publish::new(TopicName::new("a/b").unwrap(), &big[..]);
            p.delivery = Delivery::AtLeastOnce {
                packet_id: PacketId::new(9).unwrap(),
                dup: false,
            };
            if level == V5 {
                set_props!(p.properties, |q| q
                    .set_content_type(crate::Str::new("x").unwrap()));
            }
            let enc = crate::Encoder::new(level);
            let mut head = Vec::new();
            let n = enc.encode_publish_header(&p, &mut head).unwrap();
            assert_eq!(n, head.len());
            let whole = encode(level, &Packet::Publish(p)).unwrap();
            assert_eq!(n + big.len(), whole.len());
            head.extend_from_slice(&big);
            assert_eq!(head, whole);
            // All or nothing, and the peer's maximum applies to the whole packet.
            let mut small = [0u8; 4];
            assert!(matches!(
                enc.encode_publish_header(&p, &mut &mut small[..]),
                Err(EncodeError::BufferTooSmall { .. })
            ));
            assert!(matches!(
                enc.max_packet_size(1000)
                    .encode_publish_header(&p, &mut Vec::new()),
                Err(EncodeError::PacketTooLarge { .. })
            ));
        }
    }
}
