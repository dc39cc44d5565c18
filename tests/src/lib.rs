//! Helpers shared by the integration tests.
//!
//! [`strategies`] holds proptest strategies that generate valid packets of every type at
//! every protocol level; fuzz targets and benchmarks may reuse them. The free functions
//! here wrap the codec calls the tests repeat.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

/// The README's examples (they use both libraries), compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

use mqtt_codec::generic::Packet as AnyPacket;
use mqtt_codec::{
    shared, Decoded, Decoder, EncodeError, PacketType, Protocol, Storage, StrStorage,
    MAX_PACKET_SIZE,
};

/// Every protocol level the codec speaks, oldest first.
pub const PROTOCOLS: [Protocol; 3] = [Protocol::V3_1, Protocol::V3_1_1, Protocol::V5];

/// Every packet type, in type-nibble order.
pub const PACKET_TYPES: [PacketType; 15] = [
    PacketType::Connect,
    PacketType::ConnAck,
    PacketType::Publish,
    PacketType::PubAck,
    PacketType::PubRec,
    PacketType::PubRel,
    PacketType::PubComp,
    PacketType::Subscribe,
    PacketType::SubAck,
    PacketType::Unsubscribe,
    PacketType::UnsubAck,
    PacketType::PingReq,
    PacketType::PingResp,
    PacketType::Disconnect,
    PacketType::Auth,
];

/// Whether `ty` exists at `protocol` (AUTH is MQTT 5.0 only).
pub fn type_exists_at(ty: PacketType, protocol: Protocol) -> bool {
    ty != PacketType::Auth || protocol.is_v5()
}

/// The level a packet is encoded at on a connection at `protocol`: a CONNECT carries its
/// own level, every other packet uses the connection's.
pub fn encode_level<B: Storage, T: StrStorage>(
    packet: &AnyPacket<B, T>,
    protocol: Protocol,
) -> Protocol {
    match packet {
        AnyPacket::Connect(c) => c.protocol,
        _ => protocol,
    }
}

/// Encodes `packet` at `protocol` into a fresh vector.
pub fn encode_vec<B: Storage, T: StrStorage>(
    packet: &AnyPacket<B, T>,
    protocol: Protocol,
) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    packet.encode(protocol, &mut out)?;
    Ok(out)
}

/// A decoder at `protocol` that accepts packets up to the largest size MQTT can describe.
pub fn decoder(protocol: Protocol) -> Decoder {
    Decoder::new(protocol).max_packet_size(MAX_PACKET_SIZE)
}

/// Decodes every packet of a buffer that holds whole packets only, copying each so that
/// it no longer borrows. Panics on a decode error or a trailing partial packet.
pub fn decode_all(decoder: &Decoder, mut buf: &[u8]) -> Vec<shared::Packet> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        match decoder.decode(buf) {
            Ok(Decoded::Complete(p, n)) => {
                out.push(p.to_shared());
                buf = &buf[n..];
            }
            Ok(Decoded::Partial(need)) => {
                panic!("partial packet ({need:?} more) at the end of {buf:02x?}")
            }
            Err(e) => panic!("decode error {e:?} on {buf:02x?}"),
        }
    }
    out
}

/// Checks that every non-empty variable-length field of a shared packet (topic, strings,
/// binary fields, payload, property blocks, lists) lies inside `buf`: decoding shared the
/// buffer instead of copying. Panics otherwise.
pub fn assert_fields_share(packet: &shared::Packet, buf: &mqtt_codec::Bytes) {
    let range = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.len();
    let inside = |what: &str, b: &[u8]| {
        if !b.is_empty() {
            let at = b.as_ptr() as usize;
            assert!(
                range.contains(&at) && at + b.len() <= range.end,
                "{what} of {:?} was copied, not shared",
                packet.packet_type()
            );
        }
    };
    match packet {
        AnyPacket::Connect(c) => {
            inside("client id", c.client_id.as_bytes());
            inside("properties", c.properties.as_bytes());
            if let Some(w) = &c.will {
                inside("will topic", w.topic.as_bytes());
                inside("will payload", w.payload.as_bytes());
                inside("will properties", w.properties.as_bytes());
            }
            if let Some(u) = &c.username {
                inside("user name", u.as_bytes());
            }
            if let Some(p) = &c.password {
                inside("password", p.as_bytes());
            }
        }
        AnyPacket::ConnAck(c) => inside("properties", c.properties.as_bytes()),
        AnyPacket::Publish(p) => {
            inside("topic", p.topic.as_bytes());
            inside("payload", p.payload.as_bytes());
            inside("properties", p.properties.as_bytes());
        }
        AnyPacket::PubAck(a) => inside("properties", a.properties.as_bytes()),
        AnyPacket::PubRec(a) => inside("properties", a.properties.as_bytes()),
        AnyPacket::PubRel(a) => inside("properties", a.properties.as_bytes()),
        AnyPacket::PubComp(a) => inside("properties", a.properties.as_bytes()),
        AnyPacket::Subscribe(s) => {
            inside("subscriptions", s.subscriptions.as_bytes());
            inside("properties", s.properties.as_bytes());
        }
        AnyPacket::SubAck(s) => {
            inside("reasons", s.reasons.as_bytes());
            inside("properties", s.properties.as_bytes());
        }
        AnyPacket::Unsubscribe(u) => {
            inside("filters", u.filters.as_bytes());
            inside("properties", u.properties.as_bytes());
        }
        AnyPacket::UnsubAck(u) => {
            inside("reasons", u.reasons.as_bytes());
            inside("properties", u.properties.as_bytes());
        }
        AnyPacket::PingReq | AnyPacket::PingResp => {}
        AnyPacket::Disconnect(d) => inside("properties", d.properties.as_bytes()),
        AnyPacket::Auth(a) => inside("properties", a.properties.as_bytes()),
    }
}

/// Tests only: a borrowed list built from items. The borrowed form cannot own what it
/// holds, so the list is built in the shared form and leaked for the rest of the test.
pub fn seq<I: mqtt_codec::SeqItem + 'static>(items: Vec<I>) -> mqtt_codec::Seq<'static, I> {
    let shared: mqtt_codec::generic::Seq<mqtt_codec::Bytes, I> = items.into();
    Box::leak(Box::new(shared)).view()
}

/// Tests only: sets properties on a borrowed packet. The setters belong to the shared
/// form, so the block is built there (starting from what the packet has) and leaked for
/// the rest of the test: `set_props!(packet.properties, |p| p.set_reason_string(..))`.
#[macro_export]
macro_rules! set_props {
    ($target:expr, |$p:ident| $body:expr) => {{
        let mut $p = $target.to_shared();
        let _ = $body;
        $target = Box::leak(Box::new($p)).view();
    }};
}

/// Length of the fixed header at the start of an encoded packet (2 to 5 bytes), read from
/// its Remaining Length; `None` if it is incomplete or longer than 4 length bytes.
pub fn fixed_header_len(encoded: &[u8]) -> Option<usize> {
    for (i, b) in encoded.iter().skip(1).take(4).enumerate() {
        if b & 0x80 == 0 {
            return Some(i + 2);
        }
    }
    None
}

pub mod alloc_count;
pub mod pair;
pub mod peers;
pub mod sn_net;
pub mod sn_strategies;
pub mod tshark;

/// Proptest strategies for valid packets and their parts.
///
/// Everything generated is owned (`'static`) and valid for the level it was generated
/// for: encoding it at that level succeeds and decoding the bytes gives it back.
pub mod strategies {
    use std::num::{NonZeroU16, NonZeroU32};

    use mqtt_codec::shared::{
        AckProperties, Auth, AuthProperties, Bin, ConnAck, ConnAckProperties, Connect,
        ConnectProperties, Disconnect, DisconnectProperties, Packet, Payload, Publish, PublishAck,
        PublishProperties, Seq, Str, SubAck, Subscribe, SubscribeProperties, Subscription,
        TopicFilter, TopicName, UnsubAck, Unsubscribe, UnsubscribeProperties, Will, WillProperties,
    };
    use mqtt_codec::{
        AuthReason, ConnectReason, Delivery, DisconnectReason, MaximumQos, PacketId, PacketType,
        PayloadFormat, Protocol, PubAckReason, PubCompReason, PubRecReason, PubRelReason, QoS,
        RetainHandling, SubAckReason, SubscriptionId, SubscriptionOptions, UnsubAckReason,
        UserProperty, VARINT_MAX,
    };
    use proptest::collection::vec;
    use proptest::option;
    use proptest::prelude::*;
    use proptest::sample::select;

    use super::{type_exists_at, PACKET_TYPES, PROTOCOLS};

    /// Any of the three protocol levels.
    pub fn protocol() -> impl Strategy<Value = Protocol> + Clone {
        select(PROTOCOLS.to_vec())
    }

    /// A character allowed in an MQTT UTF-8 string (anything but U+0000): mostly ASCII,
    /// with control characters, 2-, 3- and 4-byte sequences, the BOM and non-characters.
    pub fn mqtt_char() -> impl Strategy<Value = char> + Clone {
        prop_oneof![
            8 => proptest::char::range('a', 'z'),
            4 => proptest::char::range(' ', '~'),
            1 => proptest::char::range('\u{1}', '\u{1f}'),
            1 => Just('\u{7f}'),
            3 => proptest::char::range('\u{80}', '\u{7ff}'),
            3 => proptest::char::range('\u{800}', '\u{d7ff}'),
            1 => proptest::char::range('\u{e000}', '\u{ffff}'),
            1 => select(vec!['\u{feff}', '\u{fffd}', '\u{fffe}', '\u{ffff}', '\u{fdd0}']),
            2 => proptest::char::range('\u{10000}', '\u{10ffff}'),
        ]
    }

    /// A string of up to `max` characters (possibly empty) without U+0000.
    pub fn text(max: usize) -> impl Strategy<Value = String> + Clone {
        vec(mqtt_char(), 0..=max).prop_map(String::from_iter)
    }

    /// A string for string fields: usually short, sometimes a few hundred characters
    /// (so that lengths cross the one-byte variable integer boundary), often empty.
    pub fn any_text() -> impl Strategy<Value = String> + Clone {
        prop_oneof![
            2 => Just(String::new()),
            12 => text(12),
            1 => text(300),
        ]
    }

    /// A UTF-8 Encoded String field.
    pub fn str_field() -> impl Strategy<Value = Str> + Clone {
        any_text().prop_map(|s| Str::new(s).expect("valid string"))
    }

    /// Binary Data: often empty, up to 64 bytes, sometimes a few hundred.
    pub fn bin_field() -> impl Strategy<Value = Bin> + Clone {
        prop_oneof![
            1 => Just(Vec::new()),
            6 => vec(any::<u8>(), 0..=64),
            1 => vec(any::<u8>(), 0..=600),
        ]
        .prop_map(|b| Bin::new(b).expect("short binary"))
    }

    /// An application message: usually small, sometimes up to 4 KiB.
    pub fn payload() -> impl Strategy<Value = Payload> + Clone {
        prop_oneof![
            1 => Just(Vec::new()),
            6 => vec(any::<u8>(), 0..=64),
            2 => vec(any::<u8>(), 0..=4096),
        ]
        .prop_map(Payload::from)
    }

    /// A non-zero Packet Identifier, boundaries favoured.
    pub fn packet_id() -> impl Strategy<Value = PacketId> + Clone {
        prop_oneof![
            1 => select(vec![1u16, 0x7f, 0x80, 0xff, 0x100, u16::MAX]),
            4 => 1..=u16::MAX,
        ]
        .prop_map(|v| PacketId::new(v).expect("non-zero"))
    }

    /// A non-zero `u16`.
    pub fn nz16() -> impl Strategy<Value = NonZeroU16> + Clone {
        (1..=u16::MAX).prop_map(|v| NonZeroU16::new(v).expect("non-zero"))
    }

    /// A non-zero `u32`.
    pub fn nz32() -> impl Strategy<Value = NonZeroU32> + Clone {
        prop_oneof![Just(1u32), Just(u32::MAX), 1..=u32::MAX]
            .prop_map(|v| NonZeroU32::new(v).expect("non-zero"))
    }

    /// A Subscription Identifier (1 to 268,435,455), variable-integer boundaries favoured.
    pub fn subscription_id() -> impl Strategy<Value = SubscriptionId> + Clone {
        prop_oneof![
            1 => select(vec![1u32, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, VARINT_MAX]),
            2 => 1..=VARINT_MAX,
        ]
        .prop_map(|v| SubscriptionId::new(v).expect("in range"))
    }

    /// Any QoS.
    pub fn qos() -> impl Strategy<Value = QoS> + Clone {
        select(vec![QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce])
    }

    /// QoS with its packet identifier and DUP flag.
    pub fn delivery() -> impl Strategy<Value = Delivery> + Clone {
        prop_oneof![
            Just(Delivery::AtMostOnce),
            (packet_id(), any::<bool>())
                .prop_map(|(packet_id, dup)| Delivery::AtLeastOnce { packet_id, dup }),
            (packet_id(), any::<bool>())
                .prop_map(|(packet_id, dup)| Delivery::ExactlyOnce { packet_id, dup }),
        ]
    }

    /// A character of a topic level: anything a string may hold but `/`, `+` and `#`.
    pub fn level_char() -> impl Strategy<Value = char> + Clone {
        mqtt_char().prop_filter("not a separator or wildcard", |c| {
            !matches!(c, '/' | '+' | '#')
        })
    }

    /// One topic level without wildcards, possibly empty.
    pub fn level() -> impl Strategy<Value = String> + Clone {
        prop_oneof![
            1 => Just(String::new()),
            1 => select(vec!["$SYS", "sensors", "a", "ü", "温度", "🕴"]).prop_map(String::from),
            4 => vec(level_char(), 1..=8).prop_map(String::from_iter),
        ]
    }

    /// A valid Topic Name: 1 to 5 levels, empty levels allowed, never empty as a whole.
    pub fn topic_name_string() -> impl Strategy<Value = String> + Clone {
        prop_oneof![
            1 => select(vec!["/", "//", "a/", "/a", "$SYS/broker/load"]).prop_map(String::from),
            8 => vec(level(), 1..=5).prop_map(|levels| levels.join("/")),
        ]
        .prop_map(|s| if s.is_empty() { "t".to_owned() } else { s })
    }

    /// A valid Topic Name.
    pub fn topic_name() -> impl Strategy<Value = TopicName> + Clone {
        topic_name_string().prop_map(|s| TopicName::new(s).expect("valid topic name"))
    }

    /// A valid non-shared topic filter: levels that are literal or `+`, and maybe a final
    /// `#` level.
    pub fn plain_filter_string() -> impl Strategy<Value = String> + Clone {
        let lvl = prop_oneof![3 => level(), 1 => Just("+".to_owned())];
        (vec(lvl, 0..=5), any::<bool>()).prop_map(|(mut levels, hash)| {
            if hash || levels.is_empty() {
                levels.push("#".to_owned());
            }
            let s = levels.join("/");
            if s.is_empty() {
                "+".to_owned()
            } else {
                s
            }
        })
    }

    /// A share name: non-empty, without `/`, `+` or `#`.
    pub fn share_name() -> impl Strategy<Value = String> + Clone {
        vec(level_char(), 1..=8).prop_map(String::from_iter)
    }

    /// A valid topic filter for `protocol`: at 5.0 a quarter are shared subscriptions
    /// (`$share/{group}/{filter}`).
    pub fn topic_filter(protocol: Protocol) -> BoxedStrategy<TopicFilter> {
        let plain = plain_filter_string();
        let s = if protocol.is_v5() {
            prop_oneof![
                3 => plain,
                1 => (share_name(), plain_filter_string())
                    .prop_map(|(g, f)| format!("$share/{g}/{f}")),
            ]
            .boxed()
        } else {
            plain.boxed()
        };
        s.prop_map(|s| TopicFilter::new(s).expect("valid topic filter"))
            .boxed()
    }

    /// Subscription options valid at `protocol`: only the QoS at 3.x, every combination
    /// at 5.0 (No Local cleared later for shared subscriptions).
    pub fn subscription_options(protocol: Protocol) -> BoxedStrategy<SubscriptionOptions> {
        if protocol.is_v5() {
            (
                qos(),
                any::<bool>(),
                any::<bool>(),
                select(vec![
                    RetainHandling::SendAtSubscribe,
                    RetainHandling::SendIfNew,
                    RetainHandling::DoNotSend,
                ]),
            )
                .prop_map(|(qos, no_local, retain_as_published, retain_handling)| {
                    SubscriptionOptions {
                        qos,
                        no_local,
                        retain_as_published,
                        retain_handling,
                    }
                })
                .boxed()
        } else {
            qos().prop_map(SubscriptionOptions::qos).boxed()
        }
    }

    /// A subscription valid at `protocol` (no No Local on a shared subscription).
    pub fn subscription(protocol: Protocol) -> BoxedStrategy<Subscription> {
        (topic_filter(protocol), subscription_options(protocol))
            .prop_map(|(filter, mut options)| {
                if filter.shared().is_some() {
                    options.no_local = false;
                }
                Subscription { filter, options }
            })
            .boxed()
    }

    /// User properties: 0 to 5 pairs, keys often repeated, values often empty.
    pub fn user_properties() -> impl Strategy<Value = Vec<(Str, Str)>> + Clone {
        let key = prop_oneof![
            3 => select(vec!["k", "key", "ключ", ""]).prop_map(String::from),
            1 => any_text(),
        ];
        vec((key, any_text()), 0..=5).prop_map(|pairs| {
            pairs
                .into_iter()
                .map(|(k, v)| {
                    (
                        Str::new(k).expect("valid key"),
                        Str::new(v).expect("valid value"),
                    )
                })
                .collect::<Vec<_>>()
        })
    }

    /// A boolean property value.
    fn flag() -> impl Strategy<Value = Option<bool>> + Clone {
        option::of(any::<bool>())
    }

    /// Appends `up` to a property set through its `add_user_property`.
    macro_rules! with_users {
        ($p:expr, $up:expr) => {{
            let mut p = $p;
            for (k, v) in $up {
                p.push_user_property(UserProperty {
                    key: k.view(),
                    value: v.view(),
                });
            }
            p
        }};
    }

    /// CONNECT properties, every one of them.
    pub fn connect_properties() -> impl Strategy<Value = ConnectProperties> {
        (
            option::of(any::<u32>()),
            option::of(nz16()),
            option::of(nz32()),
            option::of(any::<u16>()),
            flag(),
            flag(),
            option::of(str_field()),
            option::of(bin_field()),
            user_properties(),
        )
            .prop_map(|(sei, rm, mps, tam, rri, rpi, am, ad, up)| {
                // Authentication Data only with a Method (MQTT 5.0 §3.1.2.11.10).
                let ad = if am.is_some() { ad } else { None };
                let mut p = ConnectProperties::new();
                if let Some(v) = sei {
                    p.set_session_expiry_interval(v);
                }
                if let Some(v) = rm {
                    p.set_receive_maximum(v);
                }
                if let Some(v) = mps {
                    p.set_maximum_packet_size(v);
                }
                if let Some(v) = tam {
                    p.set_topic_alias_maximum(v);
                }
                if let Some(v) = rri {
                    p.set_request_response_information(v);
                }
                if let Some(v) = rpi {
                    p.set_request_problem_information(v);
                }
                if let Some(v) = am {
                    p.set_authentication_method(v.view());
                }
                if let Some(v) = ad {
                    p.set_authentication_data(v.view());
                }
                with_users!(p, up)
            })
    }

    /// A Payload Format Indicator.
    pub fn payload_format() -> impl Strategy<Value = PayloadFormat> + Clone {
        select(vec![PayloadFormat::Unspecified, PayloadFormat::Utf8])
    }

    /// Will properties, every one of them.
    pub fn will_properties() -> impl Strategy<Value = WillProperties> {
        (
            option::of(any::<u32>()),
            option::of(payload_format()),
            option::of(any::<u32>()),
            option::of(str_field()),
            option::of(topic_name()),
            option::of(bin_field()),
            user_properties(),
        )
            .prop_map(|(wdi, pfi, mei, ct, rt, cd, up)| {
                let mut p = WillProperties::new();
                if let Some(v) = wdi {
                    p.set_will_delay_interval(v);
                }
                if let Some(v) = pfi {
                    p.set_payload_format_indicator(v);
                }
                if let Some(v) = mei {
                    p.set_message_expiry_interval(v);
                }
                if let Some(v) = ct {
                    p.set_content_type(v.view());
                }
                if let Some(v) = rt {
                    p.set_response_topic(v.view());
                }
                if let Some(v) = cd {
                    p.set_correlation_data(v.view());
                }
                with_users!(p, up)
            })
    }

    /// CONNACK properties, every one of them.
    pub fn connack_properties() -> impl Strategy<Value = ConnAckProperties> {
        let a = (
            option::of(any::<u32>()),
            option::of(nz16()),
            option::of(select(vec![
                MaximumQos::AtMostOnce,
                MaximumQos::AtLeastOnce,
            ])),
            flag(),
            option::of(nz32()),
            option::of(str_field()),
            option::of(any::<u16>()),
            option::of(str_field()),
        );
        let b = (
            flag(),
            flag(),
            flag(),
            option::of(any::<u16>()),
            option::of(str_field()),
            option::of(str_field()),
            option::of(str_field()),
            option::of(bin_field()),
            user_properties(),
        );
        (a, b).prop_map(
            |((sei, rm, mq, ra, mps, aci, tam, rs), (wsa, sia, ssa, ska, ri, sr, am, ad, up))| {
                let mut p = ConnAckProperties::new();
                if let Some(v) = sei {
                    p.set_session_expiry_interval(v);
                }
                if let Some(v) = rm {
                    p.set_receive_maximum(v);
                }
                if let Some(v) = mq {
                    p.set_maximum_qos(v);
                }
                if let Some(v) = ra {
                    p.set_retain_available(v);
                }
                if let Some(v) = mps {
                    p.set_maximum_packet_size(v);
                }
                if let Some(v) = aci {
                    p.set_assigned_client_identifier(v.view());
                }
                if let Some(v) = tam {
                    p.set_topic_alias_maximum(v);
                }
                if let Some(v) = rs {
                    p.set_reason_string(v.view());
                }
                if let Some(v) = wsa {
                    p.set_wildcard_subscription_available(v);
                }
                if let Some(v) = sia {
                    p.set_subscription_identifiers_available(v);
                }
                if let Some(v) = ssa {
                    p.set_shared_subscription_available(v);
                }
                if let Some(v) = ska {
                    p.set_server_keep_alive(v);
                }
                if let Some(v) = ri {
                    p.set_response_information(v.view());
                }
                if let Some(v) = sr {
                    p.set_server_reference(v.view());
                }
                if let Some(v) = am {
                    p.set_authentication_method(v.view());
                }
                if let Some(v) = ad {
                    p.set_authentication_data(v.view());
                }
                with_users!(p, up)
            },
        )
    }

    /// PUBLISH properties, every one of them, with 0 to 4 Subscription Identifiers.
    pub fn publish_properties() -> impl Strategy<Value = PublishProperties> {
        (
            option::of(payload_format()),
            option::of(any::<u32>()),
            option::of(nz16()),
            option::of(topic_name()),
            option::of(bin_field()),
            option::of(str_field()),
            vec(subscription_id(), 0..=4),
            user_properties(),
        )
            .prop_map(|(pfi, mei, ta, rt, cd, ct, sids, up)| {
                let mut p = PublishProperties::new();
                if let Some(v) = pfi {
                    p.set_payload_format_indicator(v);
                }
                if let Some(v) = mei {
                    p.set_message_expiry_interval(v);
                }
                if let Some(v) = ta {
                    p.set_topic_alias(v);
                }
                if let Some(v) = rt {
                    p.set_response_topic(v.view());
                }
                if let Some(v) = cd {
                    p.set_correlation_data(v.view());
                }
                if let Some(v) = ct {
                    p.set_content_type(v.view());
                }
                for id in sids {
                    p.add_subscription_identifier(id);
                }
                with_users!(p, up)
            })
    }

    /// Acknowledgement properties (PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK).
    pub fn ack_properties() -> impl Strategy<Value = AckProperties> {
        (option::of(str_field()), user_properties()).prop_map(|(rs, up)| {
            let mut p = AckProperties::new();
            if let Some(v) = rs {
                p.set_reason_string(v.view());
            }
            with_users!(p, up)
        })
    }

    /// SUBSCRIBE properties.
    pub fn subscribe_properties() -> impl Strategy<Value = SubscribeProperties> {
        (option::of(subscription_id()), user_properties()).prop_map(|(sid, up)| {
            let mut p = SubscribeProperties::new();
            if let Some(v) = sid {
                p.set_subscription_identifier(v);
            }
            with_users!(p, up)
        })
    }

    /// UNSUBSCRIBE properties.
    pub fn unsubscribe_properties() -> impl Strategy<Value = UnsubscribeProperties> {
        user_properties().prop_map(|up| with_users!(UnsubscribeProperties::new(), up))
    }

    /// DISCONNECT properties, every one of them.
    pub fn disconnect_properties() -> impl Strategy<Value = DisconnectProperties> {
        (
            option::of(any::<u32>()),
            option::of(str_field()),
            option::of(str_field()),
            user_properties(),
        )
            .prop_map(|(sei, rs, sr, up)| {
                let mut p = DisconnectProperties::new();
                if let Some(v) = sei {
                    p.set_session_expiry_interval(v);
                }
                if let Some(v) = rs {
                    p.set_reason_string(v.view());
                }
                if let Some(v) = sr {
                    p.set_server_reference(v.view());
                }
                with_users!(p, up)
            })
    }

    /// AUTH properties, every one of them.
    pub fn auth_properties() -> impl Strategy<Value = AuthProperties> {
        (
            option::of(str_field()),
            option::of(bin_field()),
            option::of(str_field()),
            user_properties(),
        )
            .prop_map(|(am, ad, rs, up)| {
                let mut p = AuthProperties::new();
                if let Some(v) = am {
                    p.set_authentication_method(v.view());
                }
                if let Some(v) = ad {
                    p.set_authentication_data(v.view());
                }
                if let Some(v) = rs {
                    p.set_reason_string(v.view());
                }
                with_users!(p, up)
            })
    }

    /// Properties at `protocol`: generated at 5.0, always empty at 3.x.
    fn props<T, S>(protocol: Protocol, s: S) -> BoxedStrategy<T>
    where
        T: Default + Clone + std::fmt::Debug + 'static,
        S: Strategy<Value = T> + 'static,
    {
        if protocol.is_v5() {
            s.boxed()
        } else {
            Just(T::default()).boxed()
        }
    }

    /// A reason code at `protocol`: any of `all` at 5.0, those `in_v3` accepts at 3.x.
    fn reason<R>(protocol: Protocol, all: &'static [R], in_v3: fn(&R) -> bool) -> BoxedStrategy<R>
    where
        R: Copy + std::fmt::Debug + 'static,
    {
        let codes: Vec<R> = if protocol.is_v5() {
            all.to_vec()
        } else {
            all.iter().copied().filter(in_v3).collect()
        };
        select(codes).boxed()
    }

    /// A client identifier for `protocol`: 1 to 23 bytes at 3.1, anything (empty included)
    /// at 3.1.1 and 5.0; [`connect`] sets Clean Session for an empty one at 3.1.1.
    pub fn client_id(protocol: Protocol) -> BoxedStrategy<String> {
        match protocol {
            Protocol::V3_1 => prop_oneof![
                "[0-9a-zA-Z]{1,23}",
                // at most 5 characters of at most 4 bytes: 1 to 20 bytes
                vec(mqtt_char(), 1..=5).prop_map(String::from_iter),
            ]
            .boxed(),
            _ => prop_oneof![
                1 => Just(String::new()),
                3 => "[0-9a-zA-Z]{1,23}",
                2 => text(40),
            ]
            .boxed(),
        }
    }

    /// A Will for `protocol`.
    pub fn will(protocol: Protocol) -> impl Strategy<Value = Will> {
        (
            topic_name(),
            bin_field(),
            qos(),
            any::<bool>(),
            props(protocol, will_properties()),
        )
            .prop_map(|(topic, payload, qos, retain, properties)| Will {
                topic,
                payload,
                qos,
                retain,
                properties,
            })
    }

    /// A CONNECT at `protocol` (its own level).
    pub fn connect(protocol: Protocol) -> impl Strategy<Value = Connect> {
        (
            any::<bool>(),
            any::<u16>(),
            client_id(protocol),
            option::of(will(protocol)),
            option::of(str_field()),
            option::of(bin_field()),
            props(protocol, connect_properties()),
        )
            .prop_map(
                move |(clean_start, keep_alive, id, will, mut username, password, properties)| {
                    // 3.1.1: an empty client identifier needs a clean session.
                    let clean_start =
                        clean_start || (protocol == Protocol::V3_1_1 && id.is_empty());
                    // 3.x: a password only with a user name.
                    if !protocol.is_v5() && password.is_some() && username.is_none() {
                        username = Some(Str::new("").expect("empty string"));
                    }
                    let mut c = Connect::new(protocol, Str::new(id).expect("valid id"), keep_alive);
                    c.clean_start = clean_start;
                    c.will = will;
                    c.username = username;
                    c.password = password;
                    c.properties = properties;
                    c
                },
            )
    }

    /// A CONNACK at `protocol`: the six mappable codes at 3.x, no Session Present at 3.1
    /// and none with a failure code.
    pub fn connack(protocol: Protocol) -> impl Strategy<Value = ConnAck> {
        (
            any::<bool>(),
            reason(protocol, ConnectReason::ALL, |r| r.v3_code().is_some()),
            props(protocol, connack_properties()),
        )
            .prop_map(move |(sp, reason, properties)| ConnAck {
                session_present: sp
                    && reason == ConnectReason::Success
                    && protocol != Protocol::V3_1,
                reason,
                properties,
            })
    }

    /// A PUBLISH at `protocol`; at 5.0 one in eight has an empty topic and a Topic Alias.
    pub fn publish(protocol: Protocol) -> impl Strategy<Value = Publish> {
        let empty_topic = if protocol.is_v5() {
            proptest::bool::weighted(0.125).boxed()
        } else {
            Just(false).boxed()
        };
        (
            delivery(),
            any::<bool>(),
            topic_name(),
            empty_topic,
            nz16(),
            payload(),
            props(protocol, publish_properties()),
        )
            .prop_map(
                |(delivery, retain, topic, empty, alias, payload, mut properties)| {
                    let topic = if empty {
                        if properties.topic_alias().is_none() {
                            properties.set_topic_alias(alias);
                        }
                        TopicName::empty()
                    } else {
                        topic
                    };
                    Publish {
                        delivery,
                        retain,
                        topic,
                        payload,
                        properties,
                    }
                },
            )
    }

    fn publish_ack<R: Copy + std::fmt::Debug + PartialEq + Default + 'static>(
        protocol: Protocol,
        all: &'static [R],
        dup_allowed: bool,
    ) -> impl Strategy<Value = PublishAck<R>> {
        (
            packet_id(),
            dup(protocol, dup_allowed),
            reason(protocol, all, |r| *r == R::default()),
            props(protocol, ack_properties()),
        )
            .prop_map(|(packet_id, dup, reason, properties)| PublishAck {
                packet_id,
                dup,
                reason,
                properties,
            })
    }

    /// DUP outside PUBLISH: only MQTT 3.1 lets a resent PUBREL, SUBSCRIBE or UNSUBSCRIBE
    /// carry it.
    fn dup(protocol: Protocol, allowed: bool) -> BoxedStrategy<bool> {
        if allowed && protocol == Protocol::V3_1 {
            any::<bool>().boxed()
        } else {
            Just(false).boxed()
        }
    }

    /// A SUBSCRIBE at `protocol` with 1 to 10 subscriptions.
    pub fn subscribe(protocol: Protocol) -> impl Strategy<Value = Subscribe> {
        (
            packet_id(),
            dup(protocol, true),
            vec(subscription(protocol), 1..=10),
            props(protocol, subscribe_properties()),
        )
            .prop_map(|(packet_id, dup, subs, properties)| Subscribe {
                packet_id,
                dup,
                subscriptions: Seq::from(subs),
                properties,
            })
    }

    /// A SUBACK at `protocol` with 1 to 10 codes (0x00, 0x01, 0x02, 0x80 at 3.x).
    pub fn suback(protocol: Protocol) -> impl Strategy<Value = SubAck> {
        (
            packet_id(),
            vec(reason(protocol, SubAckReason::ALL, |r| r.in_v3()), 1..=10),
            props(protocol, ack_properties()),
        )
            .prop_map(|(packet_id, reasons, properties)| SubAck {
                packet_id,
                reasons: Seq::from(reasons),
                properties,
            })
    }

    /// An UNSUBSCRIBE at `protocol` with 1 to 10 filters.
    pub fn unsubscribe(protocol: Protocol) -> impl Strategy<Value = Unsubscribe> {
        (
            packet_id(),
            dup(protocol, true),
            vec(topic_filter(protocol), 1..=10),
            props(protocol, unsubscribe_properties()),
        )
            .prop_map(|(packet_id, dup, filters, properties)| Unsubscribe {
                packet_id,
                dup,
                filters: Seq::from(filters),
                properties,
            })
    }

    /// An UNSUBACK at `protocol`: 1 to 10 codes at 5.0, none at 3.x.
    pub fn unsuback(protocol: Protocol) -> impl Strategy<Value = UnsubAck> {
        let n = if protocol.is_v5() { 1..=10 } else { 0..=0 };
        (
            packet_id(),
            vec(select(UnsubAckReason::ALL), n),
            props(protocol, ack_properties()),
        )
            .prop_map(|(packet_id, reasons, properties)| UnsubAck {
                packet_id,
                reasons: Seq::from(reasons),
                properties,
            })
    }

    /// A DISCONNECT at `protocol`.
    pub fn disconnect(protocol: Protocol) -> impl Strategy<Value = Disconnect> {
        (
            reason(protocol, DisconnectReason::ALL, |r| {
                *r == DisconnectReason::NormalDisconnection
            }),
            props(protocol, disconnect_properties()),
        )
            .prop_map(|(reason, properties)| Disconnect { reason, properties })
    }

    /// An AUTH (MQTT 5.0 only).
    pub fn auth() -> impl Strategy<Value = Auth> {
        (select(AuthReason::ALL), auth_properties())
            .prop_map(|(reason, properties)| Auth { reason, properties })
    }

    /// A packet of type `ty`, valid at `protocol` (a CONNECT at that level). `ty` must
    /// exist at `protocol` (AUTH only at 5.0).
    pub fn packet_of(ty: PacketType, protocol: Protocol) -> BoxedStrategy<Packet> {
        assert!(
            type_exists_at(ty, protocol),
            "{ty} does not exist in {protocol}"
        );
        let p = protocol;
        match ty {
            PacketType::Connect => connect(p).prop_map(Packet::Connect).boxed(),
            PacketType::ConnAck => connack(p).prop_map(Packet::ConnAck).boxed(),
            PacketType::Publish => publish(p).prop_map(Packet::Publish).boxed(),
            PacketType::PubAck => publish_ack(p, PubAckReason::ALL, false)
                .prop_map(Packet::PubAck)
                .boxed(),
            PacketType::PubRec => publish_ack(p, PubRecReason::ALL, false)
                .prop_map(Packet::PubRec)
                .boxed(),
            PacketType::PubRel => publish_ack(p, PubRelReason::ALL, true)
                .prop_map(Packet::PubRel)
                .boxed(),
            PacketType::PubComp => publish_ack(p, PubCompReason::ALL, false)
                .prop_map(Packet::PubComp)
                .boxed(),
            PacketType::Subscribe => subscribe(p).prop_map(Packet::Subscribe).boxed(),
            PacketType::SubAck => suback(p).prop_map(Packet::SubAck).boxed(),
            PacketType::Unsubscribe => unsubscribe(p).prop_map(Packet::Unsubscribe).boxed(),
            PacketType::UnsubAck => unsuback(p).prop_map(Packet::UnsubAck).boxed(),
            PacketType::PingReq => Just(Packet::PingReq).boxed(),
            PacketType::PingResp => Just(Packet::PingResp).boxed(),
            PacketType::Disconnect => disconnect(p).prop_map(Packet::Disconnect).boxed(),
            PacketType::Auth => auth().prop_map(Packet::Auth).boxed(),
        }
    }

    /// A packet of any type that exists at `protocol`, valid there.
    pub fn packet(protocol: Protocol) -> BoxedStrategy<Packet> {
        let all: Vec<BoxedStrategy<Packet>> = PACKET_TYPES
            .iter()
            .filter(|&&ty| type_exists_at(ty, protocol))
            .map(|&ty| packet_of(ty, protocol))
            .collect();
        proptest::strategy::Union::new(all).boxed()
    }

    /// A level at which `ty` exists and a packet of type `ty` valid at it.
    pub fn leveled_packet_of(ty: PacketType) -> BoxedStrategy<(Protocol, Packet)> {
        let levels: Vec<Protocol> = PROTOCOLS
            .iter()
            .copied()
            .filter(|&p| type_exists_at(ty, p))
            .collect();
        select(levels)
            .prop_flat_map(move |p| (Just(p), packet_of(ty, p)))
            .boxed()
    }

    /// Any level and a packet of any type valid at it.
    pub fn leveled_packet() -> BoxedStrategy<(Protocol, Packet)> {
        protocol().prop_flat_map(|p| (Just(p), packet(p))).boxed()
    }

    /// Any level and 1 to `max` packets valid at it (CONNECTs at that level).
    pub fn leveled_packets(max: usize) -> BoxedStrategy<(Protocol, Vec<Packet>)> {
        protocol()
            .prop_flat_map(move |p| (Just(p), vec(packet(p), 1..=max)))
            .boxed()
    }
}
