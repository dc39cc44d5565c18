//! SUBSCRIBE (MQTT 5.0 §3.8, MQTT 3.1.1 §3.8).

use alloc::vec::Vec;
use bytes::{BufMut, Bytes};
use bytestring::ByteString;

use crate::error::{DecodeError, EncodeError, ValueError};
use crate::packet::properties::{read_v5, v5_block_len, SubscribeProperties};
use crate::packet::{read_packet_id, Decoder, PacketType};
use crate::seq::{Sealed, Seq, SeqItem};
use crate::storage::{Source, Storage, StrStorage};
use crate::topic::{check_filter, check_filter_bytes, TopicFilter};
use crate::types::{PacketId, Protocol, QoS};
use crate::wire::reader::Reader;
use crate::wire::writer::put_bin;

/// Retain Handling (MQTT 5.0 §3.8.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RetainHandling {
    /// 0: send retained messages at the time of the subscribe.
    #[default]
    SendAtSubscribe = 0,
    /// 1: send them only if the subscription did not exist.
    SendIfNew = 1,
    /// 2: do not send them.
    DoNotSend = 2,
}

/// Subscription Options (MQTT 5.0 §3.8.3.1); at 3.x only the QoS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SubscriptionOptions {
    /// Maximum QoS.
    pub qos: QoS,
    /// No Local (5.0): not on a shared subscription ([MQTT-3.8.3-4]).
    pub no_local: bool,
    /// Retain As Published (5.0).
    pub retain_as_published: bool,
    /// Retain Handling (5.0).
    pub retain_handling: RetainHandling,
}

impl SubscriptionOptions {
    /// Options with this QoS and the 5.0 defaults.
    pub const fn qos(qos: QoS) -> Self {
        SubscriptionOptions {
            qos,
            no_local: false,
            retain_as_published: false,
            retain_handling: RetainHandling::SendAtSubscribe,
        }
    }

    /// The options byte.
    pub const fn to_byte(self) -> u8 {
        (self.qos as u8)
            | ((self.no_local as u8) << 2)
            | ((self.retain_as_published as u8) << 3)
            | ((self.retain_handling as u8) << 4)
    }

    /// Checks an options byte: reserved bits ([MQTT-3-8.3-4] at 3.x, [MQTT-3.8.3-5] in
    /// 5.0), QoS 3, Retain Handling 3.
    pub(crate) fn from_byte(b: u8, protocol: Protocol) -> Result<Self, DecodeError> {
        let reserved = if protocol.is_v5() { 0xc0 } else { 0xfc };
        if b & reserved != 0 {
            return Err(DecodeError::ReservedSubscriptionOptions { options: b });
        }
        let qos = QoS::try_from(b & 0b11).map_err(|_| DecodeError::InvalidQos {
            packet: PacketType::Subscribe,
        })?;
        let retain_handling = match (b >> 4) & 0b11 {
            0 => RetainHandling::SendAtSubscribe,
            1 => RetainHandling::SendIfNew,
            2 => RetainHandling::DoNotSend,
            _ => return Err(DecodeError::InvalidRetainHandling),
        };
        Ok(SubscriptionOptions {
            qos,
            no_local: b & 0b0100 != 0,
            retain_as_published: b & 0b1000 != 0,
            retain_handling,
        })
    }
}

/// One Topic Filter with its options.
///
/// `T` is `&str` in the borrowed form ([`crate::Subscription<'a>`]), `ByteString` in the
/// shared one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Subscription<T: StrStorage> {
    /// The filter ([MQTT-3.8.3-1]).
    pub filter: TopicFilter<T>,
    /// The options.
    pub options: SubscriptionOptions,
}

impl<T: StrStorage> Subscription<T> {
    /// A subscription at `qos` with default options.
    pub fn new(filter: TopicFilter<T>, qos: QoS) -> Self {
        Subscription {
            filter,
            options: SubscriptionOptions::qos(qos),
        }
    }
}

impl<T: StrStorage> Sealed for Subscription<T> {}
impl<T: StrStorage> SeqItem for Subscription<T> {
    type View<'s> = Subscription<&'s str>;
    fn read<'s>(buf: &mut &'s [u8]) -> Option<Subscription<&'s str>> {
        let mut r = Reader::new(buf, 0, PacketType::Subscribe);
        let f = r.binary().ok()?;
        let o = r.u8().ok()?;
        *buf = r.unread();
        let filter = core::str::from_utf8(f).ok()?;
        let options = SubscriptionOptions::from_byte(o, Protocol::V5).ok()?;
        Some(Subscription {
            filter: TopicFilter::from_checked(filter),
            options,
        })
    }
    fn write(&self, out: &mut Vec<u8>) {
        put_bin(out, self.filter.as_bytes());
        out.push(self.options.to_byte());
    }
}

impl<T: StrStorage> Sealed for TopicFilter<T> {}
impl<T: StrStorage> SeqItem for TopicFilter<T> {
    type View<'s> = TopicFilter<&'s str>;
    fn read<'s>(buf: &mut &'s [u8]) -> Option<TopicFilter<&'s str>> {
        let mut r = Reader::new(buf, 0, PacketType::Unsubscribe);
        let f = r.binary().ok()?;
        *buf = r.unread();
        Some(TopicFilter::from_checked(core::str::from_utf8(f).ok()?))
    }
    fn write(&self, out: &mut Vec<u8>) {
        put_bin(out, self.as_bytes());
    }
}

/// Reads one topic filter ([MQTT-3.8.3-1], [MQTT-3.10.3-1], §4.7); shared subscriptions
/// are checked at 5.0.
pub(crate) fn read_filter<'a>(
    r: &mut Reader<'a>,
    protocol: Protocol,
    strict: bool,
) -> Result<&'a [u8], DecodeError> {
    let at = r.offset() + 2;
    let b = r.binary()?;
    let invalid = |error| DecodeError::Invalid {
        packet: r.packet(),
        offset: at as u32,
        error,
    };
    check_filter_bytes(b, strict, protocol.is_v5())
        .map(|()| b)
        .map_err(invalid)
}

/// The items of a validated SUBSCRIBE (`with_options`) or UNSUBSCRIBE list, as bytes:
/// each filter and its options byte.
pub(crate) fn raw_items(
    mut list: &[u8],
    with_options: bool,
) -> impl Iterator<Item = (&[u8], Option<u8>)> {
    core::iter::from_fn(move || {
        let (len, rest) = list.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_be_bytes(*len));
        let filter = rest.get(..len)?;
        let rest = rest.get(len..)?;
        let (options, rest) = if with_options {
            let (o, rest) = rest.split_first()?;
            (Some(*o), rest)
        } else {
            (None, rest)
        };
        list = rest;
        Some((filter, options))
    })
}

/// The shared-subscription syntax, which only 5.0 checks ([MQTT-4.8.2-1], [MQTT-4.8.2-2]),
/// on the bytes of a filter already known to be a valid string.
pub(crate) fn check_shared_bytes(filter: &[u8], packet: PacketType) -> Result<(), EncodeError> {
    let s = core::str::from_utf8(filter).map_err(|e| EncodeError::Invalid {
        packet,
        error: ValueError::IllFormedUtf8 {
            at: e.valid_up_to(),
        },
    })?;
    check_filter(s, true).map_err(|error| EncodeError::Invalid { packet, error })
}

/// SUBSCRIBE: fixed-header flags 0b0010 ([MQTT-3.8.1-1]).
///
/// `B` and `T` are the storage of byte fields and strings: [`crate::Subscribe<'a>`] is the
/// borrowed form, [`crate::shared::Subscribe`] the shared one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscribe<B: Storage, T: StrStorage> {
    /// Packet Identifier.
    pub packet_id: PacketId,
    /// DUP, which only MQTT 3.1 lets a resent SUBSCRIBE carry (MQTT 3.1 §2.1); `false` at
    /// 3.1.1 and 5.0, whose fixed header has no room for it ([MQTT-3.8.1-1]).
    pub dup: bool,
    /// At least one subscription ([MQTT-3.8.3-3] / [MQTT-3.8.3-2]); iterating yields
    /// [`Subscription<'_>`](Subscription).
    pub subscriptions: Seq<B, Subscription<T>>,
    /// SUBSCRIBE properties (MQTT 5.0).
    pub properties: SubscribeProperties<B>,
}

impl<B: Storage, T: StrStorage> Subscribe<B, T> {
    /// A SUBSCRIBE with these subscriptions and no properties.
    pub fn new(packet_id: PacketId, subscriptions: impl Into<Seq<B, Subscription<T>>>) -> Self {
        Subscribe {
            packet_id,
            dup: false,
            subscriptions: subscriptions.into(),
            properties: SubscribeProperties::default(),
        }
    }

    pub(crate) fn decode<'a, S: Source<'a, B = B, T = T>>(
        r: &mut Reader<'a>,
        d: &Decoder,
        src: S,
    ) -> Result<Self, DecodeError> {
        let protocol = d.protocol();
        let packet_id = read_packet_id(r)?;
        let properties = read_v5(r, d, src)?;
        let payload = r.unread();
        if r.is_empty() {
            return Err(DecodeError::EmptyPayload {
                packet: PacketType::Subscribe,
            });
        }
        while !r.is_empty() {
            let filter = read_filter(r, protocol, d.strict())?;
            let options = SubscriptionOptions::from_byte(r.u8()?, protocol)?;
            // [MQTT-3.8.3-4]
            if options.no_local && protocol.is_v5() && filter.starts_with(b"$share/") {
                return Err(DecodeError::NoLocalOnSharedSubscription);
            }
        }
        Ok(Subscribe {
            packet_id,
            dup: false,
            subscriptions: Seq::wire(src.bytes(payload)),
            properties,
        })
    }

    pub(crate) fn body_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        let packet = PacketType::Subscribe;
        let v5 = protocol.is_v5();
        crate::packet::check_dup(self.dup, protocol, packet)?;
        let n = 2 + v5_block_len(&self.properties, protocol, packet, "properties")?;
        // The list is kept as its wire bytes, each filter already checked: only what
        // depends on the level is looked at, on the bytes, and they are written as they are.
        let list = self.subscriptions.as_bytes();
        if list.is_empty() {
            return Err(EncodeError::EmptyPayload { packet });
        }
        for (filter, options) in raw_items(list, true) {
            let options = options.unwrap_or(0);
            if !v5 && options & !0b11 != 0 {
                return Err(EncodeError::NotInProtocol {
                    packet,
                    what: "subscription options",
                    protocol,
                });
            }
            if v5 && filter.starts_with(b"$share/") {
                check_shared_bytes(filter, packet)?;
                if options & 0b100 != 0 {
                    return Err(EncodeError::NoLocalOnSharedSubscription);
                }
            }
        }
        Ok(n + list.len())
    }

    pub(crate) fn write_body(&self, protocol: Protocol, buf: &mut impl BufMut) {
        buf.put_u16(self.packet_id.get());
        if protocol.is_v5() {
            self.properties.write(buf);
        }
        buf.put_slice(self.subscriptions.as_bytes());
    }

    /// The borrowed form, pointing into this packet (no copy).
    pub fn view(&self) -> Subscribe<&[u8], &str> {
        Subscribe {
            packet_id: self.packet_id,
            dup: self.dup,
            subscriptions: self.subscriptions.view_as(),
            properties: self.properties.view(),
        }
    }

    pub(crate) fn share(&self, parent: Option<&Bytes>) -> Subscribe<Bytes, ByteString> {
        Subscribe {
            packet_id: self.packet_id,
            dup: self.dup,
            subscriptions: self.subscriptions.share_as(parent),
            properties: self.properties.share(parent),
        }
    }

    /// The shared form: a cheap clone of a shared packet, a copy of a borrowed one.
    pub fn to_shared(&self) -> Subscribe<Bytes, ByteString> {
        self.share(None)
    }

    /// The shared form, its fields slices of `parent` wherever they lie inside it (no
    /// copy), copies otherwise.
    pub fn to_shared_in(&self, parent: &Bytes) -> Subscribe<Bytes, ByteString> {
        self.share(Some(parent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::testutil::*;
    use crate::PropertyId;
    use crate::Protocol::{V3_1, V3_1_1, V5};
    use crate::{Packet, Subscribe, Subscription, TopicFilter};
    use alloc::vec::Vec;

    fn subscribe(p: Packet<'_>) -> Subscribe<'_> {
        match p {
            Packet::Subscribe(s) => s,
            other => panic!("not a SUBSCRIBE: {other:?}"),
        }
    }

    #[test]
    fn spec_example_3_1_1() {
        // §3.8.3 example: "a/b" at QoS 1 and "c/d" at QoS 2.
        for p in [V3_1, V3_1_1] {
            let s = subscribe(golden(p, "820e00010003612f62010003632f6402"));
            let got: Vec<(alloc::string::String, QoS)> = s
                .subscriptions
                .iter()
                .map(|s| (s.filter.as_str().into(), s.options.qos))
                .collect();
            assert_eq!(
                got,
                [
                    ("a/b".into(), QoS::AtLeastOnce),
                    ("c/d".into(), QoS::ExactlyOnce)
                ]
            );
        }
    }

    #[test]
    fn v5_options_properties_and_shared_subscription() {
        let s = subscribe(golden(
            V5,
            "82210001090b072600016b0001760003612f622d000c2473686172652f672f782f2b0a",
        ));
        assert_eq!(
            s.properties.subscription_identifier().map(|i| i.get()),
            Some(7)
        );
        assert_eq!(s.properties.user_properties().count(), 1);
        let subs: Vec<Subscription<'_>> = s.subscriptions.iter().collect();
        assert_eq!(
            subs[0].options,
            SubscriptionOptions {
                qos: QoS::AtLeastOnce,
                no_local: true,
                retain_as_published: true,
                retain_handling: RetainHandling::DoNotSend
            }
        );
        assert_eq!(
            subs[1].filter.shared().map(|s| (s.group, s.filter)),
            Some(("g", "x/+"))
        );
        assert_eq!(subs[1].options.qos, QoS::ExactlyOnce);
        assert!(subs[1].options.retain_as_published);
    }

    #[test]
    fn mqtt_3_8_3_3_subscribe_needs_a_filter() {
        assert_eq!(
            error(V3_1_1, "82 02 00 01"),
            DecodeError::EmptyPayload {
                packet: PacketType::Subscribe
            }
        );
        assert_eq!(
            error(V5, "82 03 00 01 00"),
            DecodeError::EmptyPayload {
                packet: PacketType::Subscribe
            }
        );
        let s = Subscribe::new(PacketId::new(1).unwrap(), seq(Vec::new()));
        assert_eq!(
            Packet::Subscribe(s).encoded_len(V5),
            Err(EncodeError::EmptyPayload {
                packet: PacketType::Subscribe
            })
        );
    }

    #[test]
    fn mqtt_3_8_3_4_reserved_option_bits_at_3_1_1() {
        // Printed in 3.1.1 as [MQTT-3-8.3-4].
        assert_eq!(
            error(V3_1_1, "8206000100016104"),
            DecodeError::ReservedSubscriptionOptions { options: 4 }
        );
        assert_eq!(
            error(V3_1_1, "8206000100016103"),
            DecodeError::InvalidQos {
                packet: PacketType::Subscribe
            }
        );
    }

    #[test]
    fn mqtt_3_8_3_5_reserved_option_bits_in_5_0() {
        assert_eq!(
            error(V5, "820700010000016141"),
            DecodeError::ReservedSubscriptionOptions { options: 0x41 }
        );
    }

    #[test]
    fn retain_handling_3_is_a_protocol_error() {
        let e = error(V5, "820700010000016130");
        assert_eq!(e, DecodeError::InvalidRetainHandling);
        assert_eq!(e.reason_code(), crate::ReasonCode::ProtocolError);
    }

    #[test]
    fn mqtt_3_8_3_4_no_local_on_shared_subscription_is_a_protocol_error() {
        assert_eq!(
            error(V5, "8210000100000a2473686172652f672f6104"),
            DecodeError::NoLocalOnSharedSubscription
        );
        let mut sub = Subscription::new(TopicFilter::new("$share/g/a").unwrap(), QoS::AtMostOnce);
        sub.options.no_local = true;
        let s = Subscribe::new(PacketId::new(1).unwrap(), seq(alloc::vec![sub]));
        assert_eq!(
            Packet::Subscribe(s).encoded_len(V5),
            Err(EncodeError::NoLocalOnSharedSubscription)
        );
    }

    #[test]
    fn mqtt_4_8_2_1_share_name_must_not_be_empty() {
        assert!(matches!(
            error(V5, "820f00010000092473686172652f2f6100"),
            DecodeError::Invalid {
                error: ValueError::InvalidShareName,
                ..
            }
        ));
        // MQTT 3.1.1 has no shared subscriptions: an ordinary filter.
        golden(V3_1_1, "820e000100092473686172652f2f6100");
    }

    #[test]
    fn mqtt_4_8_2_2_share_name_without_wildcards() {
        assert!(matches!(
            error(V5, "8211000100000b2473686172652f612b2f7800"),
            DecodeError::Invalid {
                error: ValueError::InvalidShareName,
                ..
            }
        ));
    }

    #[test]
    fn mqtt_4_7_1_2_invalid_filters_refused() {
        assert_eq!(
            error(V3_1_1, "820a00010005612f232f6200"),
            DecodeError::Invalid {
                packet: PacketType::Subscribe,
                offset: 6,
                error: ValueError::MultiLevelNotLast { at: 2 }
            }
        );
        assert!(matches!(
            error(V3_1_1, "82050001000000"),
            DecodeError::Invalid {
                error: ValueError::EmptyTopic,
                ..
            }
        ));
    }

    #[test]
    fn subscription_identifier_once_and_not_zero() {
        assert_eq!(
            error(V5, "820b0001040b010b0200016100"),
            DecodeError::DuplicateProperty {
                packet: PacketType::Subscribe,
                property: PropertyId::SubscriptionIdentifier
            }
        );
        assert_eq!(
            error(V5, "82090001020b0000016100"),
            DecodeError::InvalidPropertyValue {
                packet: PacketType::Subscribe,
                property: PropertyId::SubscriptionIdentifier,
                value: 0
            }
        );
        assert_eq!(
            error(V5, "820b0001041f00017800016100"),
            DecodeError::PropertyNotAllowed {
                packet: PacketType::Subscribe,
                property: PropertyId::ReasonString
            }
        );
    }

    #[test]
    fn missing_options_byte_is_malformed() {
        assert!(matches!(
            error(V3_1_1, "82050001000161"),
            DecodeError::UnexpectedEnd { .. }
        ));
    }

    #[test]
    fn mqtt_2_3_1_1_subscribe_packet_id_zero() {
        assert_eq!(
            error(V3_1_1, "8206000000016100"),
            DecodeError::ZeroPacketId {
                packet: PacketType::Subscribe
            }
        );
    }

    #[test]
    fn v5_options_refused_at_3_1_1() {
        let mut sub = Subscription::new(TopicFilter::new("a").unwrap(), QoS::AtLeastOnce);
        sub.options.retain_as_published = true;
        let s = Subscribe::new(PacketId::new(1).unwrap(), seq(alloc::vec![sub]));
        assert!(matches!(
            Packet::Subscribe(s).encoded_len(V3_1_1),
            Err(EncodeError::NotInProtocol {
                what: "subscription options",
                ..
            })
        ));
    }

    #[test]
    fn shared_filter_syntax_checked_when_encoding_5_0() {
        // Decoded at 3.1.1 (an ordinary filter there), it cannot be sent at 5.0.
        let s = golden(V3_1_1, "820e000100092473686172652f2f6100");
        assert!(matches!(
            s.encoded_len(V5),
            Err(EncodeError::Invalid {
                error: ValueError::InvalidShareName,
                ..
            })
        ));
    }
}
