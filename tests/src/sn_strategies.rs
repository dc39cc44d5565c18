//! Proptest strategies for valid MQTT-SN 1.2 messages (`mqtt_sn_codec`) of every message
//! type, for the `sn_*` tests and for fuzz targets and benchmarks.
//!
//! Everything generated is owned (`'static`) and valid: encoding it succeeds and decoding
//! the bytes with the default [`Decoder`](mqtt_sn_codec::Decoder) gives it back. In
//! particular:
//! - PUBLISH carries a registered or predefined topic id or a short topic name, never a
//!   topic name; QoS −1 only with a predefined topic id or a short topic name (§6.8);
//! - SUBSCRIBE and UNSUBSCRIBE carry a topic name or filter, a predefined topic id or a
//!   short topic name, never a registered topic id;
//! - short topic names are two ASCII characters; ClientIds have 1 to 23 characters;
//! - return codes come from `ReturnCode::from(u8)`, so 0x00–0x03 are always the named codes;
//! - an Encapsulated message wraps a message that is not itself encapsulated, and is at
//!   most 65,535 octets long in all (header and message carried);
//! - data fields are sometimes long enough to need the 3-octet Length form (a body of more
//!   than 253 octets), with lengths on both sides of that boundary and up to the largest
//!   message a Length field can describe.

use mqtt_sn_codec::shared::{
    Connect, Encapsulated, GwInfo, Message, Payload, Publish, Register, Str, Subscribe,
    TopicFilter, TopicName, TopicRef, Unsubscribe, WillTopic,
};
use mqtt_sn_codec::{
    Advertise, Ctrl, Delivery, MsgId, MsgType, PubAck, QoS, RegAck, ReturnCode, SearchGw,
    ShortTopic, SubAck, TopicId, MAX_MESSAGE_LEN,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

use crate::strategies::{mqtt_char, plain_filter_string, topic_name_string};

/// Every MQTT-SN message type, in code order: the codes 0x00–0xFF that `MsgType` accepts
/// (so a type added to the codec shows up here without a change).
pub fn msg_types() -> Vec<MsgType> {
    (0..=u8::MAX)
        .filter_map(|b| MsgType::try_from(b).ok())
        .collect()
}

/// Octets of the Length and MsgType fields for a body of `body` octets: the 1-octet Length
/// when the whole message fits in 255 octets (§5.2.1), else the 3-octet form.
pub fn header_len(body: usize) -> usize {
    if body + 2 <= 255 {
        2
    } else {
        4
    }
}

/// A non-zero MsgId, boundaries favoured.
pub fn msg_id() -> impl Strategy<Value = MsgId> + Clone {
    prop_oneof![
        1 => select(vec![1u16, 0xff, 0x100, 0x7fff, u16::MAX]),
        4 => 1..=u16::MAX,
    ]
    .prop_map(|v| MsgId::new(v).expect("non-zero"))
}

/// Any Topic Id, the reserved 0x0000 and 0xFFFF included (the specification sends 0x0000
/// where there is no id).
pub fn topic_id() -> impl Strategy<Value = TopicId> + Clone {
    prop_oneof![
        1 => select(vec![0u16, 1, 0xff, 0x100, u16::MAX]),
        4 => any::<u16>(),
    ]
    .prop_map(TopicId)
}

/// A ReturnCode from a byte: mostly the four named codes, sometimes a reserved one.
pub fn return_code() -> impl Strategy<Value = ReturnCode> + Clone {
    prop_oneof![3 => 0u8..=3, 1 => any::<u8>()].prop_map(ReturnCode::from)
}

/// QoS 0, 1 or 2 (the levels a will, a subscription or a grant uses).
pub fn qos012() -> impl Strategy<Value = QoS> + Clone {
    select(vec![QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce])
}

/// A short topic name: two ASCII characters (no U+0000, no wildcards), printable ones
/// favoured.
pub fn short_topic() -> impl Strategy<Value = ShortTopic> + Clone {
    let c = prop_oneof![
        6 => proptest::char::range('a', 'z'),
        3 => proptest::char::range(' ', '~'),
        1 => proptest::char::range('\u{1}', '\u{7f}'),
    ];
    let c = c.prop_filter("no wildcards", |c| !matches!(c, '+' | '#'));
    (c.clone(), c).prop_map(|(a, b)| {
        let s: String = [a, b].into_iter().collect();
        ShortTopic::new(&s).expect("two ASCII characters")
    })
}

/// A ClientId of 1 to 23 characters (any character but U+0000, multi-octet ones too).
pub fn client_id() -> impl Strategy<Value = Str> + Clone {
    prop_oneof![
        4 => vec(proptest::char::range('a', 'z'), 1..=23),
        2 => vec(mqtt_char(), 1..=23),
        1 => vec(mqtt_char(), 23..=23),
    ]
    .prop_map(|cs| Str::new(String::from_iter(cs)).expect("valid client id"))
}

/// A valid topic name: usually short, sometimes a few hundred octets (a REGISTER or will
/// topic that needs the 3-octet Length form).
pub fn topic_name() -> impl Strategy<Value = TopicName> + Clone {
    prop_oneof![
        12 => topic_name_string(),
        1 => (250usize..=600, proptest::char::range('a', 'z'))
            .prop_map(|(n, c)| (0..n).map(|i| if i % 8 == 7 { '/' } else { c }).collect()),
    ]
    .prop_map(|s: String| TopicName::new(s).expect("valid topic name"))
}

/// A valid topic filter without the MQTT 5.0 shared form: plain names and filters with
/// `+` and `#` levels.
pub fn topic_filter() -> impl Strategy<Value = TopicFilter> + Clone {
    prop_oneof![
        2 => plain_filter_string(),
        1 => topic_name_string(),
    ]
    .prop_map(|s| TopicFilter::new(s).expect("valid topic filter"))
}

/// `fixed` octets of a message body are taken by its other fields: data of a length that
/// is usually small, sometimes up to a few KiB, sometimes on either side of the 1- / 3-octet
/// Length boundary, rarely as long as a Length field allows.
pub fn data(fixed: usize) -> BoxedStrategy<Payload> {
    // Bodies of 252..=255 octets: total 254, 255 (short form), then 258, 259 (long form).
    let boundary = (252 - fixed)..=(255 - fixed);
    let max = MAX_MESSAGE_LEN - 4 - fixed;
    prop_oneof![
        2 => Just(Vec::new()),
        10 => vec(any::<u8>(), 0..=64),
        3 => vec(any::<u8>(), 0..=2000),
        2 => (boundary, any::<u8>()).prop_map(|(n, b)| vec![b; n]),
        1 => ((max - 2)..=max, any::<u8>()).prop_map(|(n, b)| vec![b; n]),
    ]
    .prop_map(Payload::from)
    .boxed()
}

/// ADVERTISE.
pub fn advertise() -> impl Strategy<Value = Advertise> + Clone {
    (any::<u8>(), any::<u16>()).prop_map(|(gw_id, duration)| Advertise { gw_id, duration })
}

/// GWINFO: with no GwAdd (from a gateway) or with one (from a client).
pub fn gw_info() -> impl Strategy<Value = GwInfo> {
    let add = prop_oneof![
        2 => Just(Vec::new()),
        4 => vec(any::<u8>(), 1..=16),
        1 => vec(any::<u8>(), 250..=300),
    ];
    (any::<u8>(), add).prop_map(|(gw_id, add)| GwInfo {
        gw_id,
        gw_add: Payload::from(add),
    })
}

/// CONNECT.
pub fn connect() -> impl Strategy<Value = Connect> {
    (any::<bool>(), any::<bool>(), any::<u16>(), client_id()).prop_map(
        |(will, clean_session, duration, client_id)| Connect {
            will,
            clean_session,
            duration,
            client_id,
        },
    )
}

/// The will topic of WILLTOPIC and WILLTOPICUPD: `None` (the empty form) or a topic.
pub fn will_topic() -> impl Strategy<Value = Option<WillTopic>> {
    option::weighted(
        0.8,
        (qos012(), any::<bool>(), topic_name()).prop_map(|(qos, retain, topic)| WillTopic {
            qos,
            retain,
            topic,
        }),
    )
}

/// REGISTER: from a client (Topic Id 0x0000) or from a gateway.
pub fn register() -> impl Strategy<Value = Register> {
    (
        prop_oneof![Just(TopicId::NONE), topic_id()],
        msg_id(),
        topic_name(),
    )
        .prop_map(|(topic_id, msg_id, topic)| Register {
            topic_id,
            msg_id,
            topic,
        })
}

/// REGACK.
pub fn reg_ack() -> impl Strategy<Value = RegAck> + Clone {
    (topic_id(), msg_id(), return_code()).prop_map(|(topic_id, msg_id, code)| RegAck {
        topic_id,
        msg_id,
        code,
    })
}

/// The topic of a PUBLISH: a registered or predefined topic id or a short topic name.
pub fn publish_topic() -> impl Strategy<Value = TopicRef> + Clone {
    prop_oneof![
        2 => topic_id().prop_map(TopicRef::Registered),
        1 => topic_id().prop_map(TopicRef::Predefined),
        1 => short_topic().prop_map(TopicRef::Short),
    ]
}

/// QoS and MsgId of a PUBLISH.
pub fn delivery() -> impl Strategy<Value = Delivery> + Clone {
    prop_oneof![
        Just(Delivery::AtMostOnce),
        msg_id().prop_map(Delivery::AtLeastOnce),
        msg_id().prop_map(Delivery::ExactlyOnce),
        Just(Delivery::MinusOne),
    ]
}

/// PUBLISH; a QoS −1 one on a registered id is moved to the predefined id of that value.
pub fn publish() -> impl Strategy<Value = Publish> {
    (
        any::<bool>(),
        any::<bool>(),
        delivery(),
        publish_topic(),
        data(5),
    )
        .prop_map(|(dup, retain, delivery, topic, payload)| {
            let topic = match (delivery, topic) {
                (Delivery::MinusOne, TopicRef::Registered(id)) => TopicRef::Predefined(id),
                (_, t) => t,
            };
            Publish {
                dup,
                retain,
                delivery,
                topic,
                payload,
            }
        })
}

/// PUBACK: with a MsgId, or without one (refusing a QoS 0 or −1 PUBLISH).
pub fn pub_ack() -> impl Strategy<Value = PubAck> + Clone {
    (topic_id(), option::weighted(0.8, msg_id()), return_code()).prop_map(
        |(topic_id, msg_id, code)| PubAck {
            topic_id,
            msg_id,
            code,
        },
    )
}

/// The topic of a SUBSCRIBE or UNSUBSCRIBE: a topic name or filter in full, a predefined
/// topic id or a short topic name.
pub fn subscribe_topic() -> impl Strategy<Value = TopicRef> + Clone {
    prop_oneof![
        3 => topic_filter().prop_map(TopicRef::Name),
        1 => topic_id().prop_map(TopicRef::Predefined),
        1 => short_topic().prop_map(TopicRef::Short),
    ]
}

/// SUBSCRIBE.
pub fn subscribe() -> impl Strategy<Value = Subscribe> {
    (any::<bool>(), qos012(), msg_id(), subscribe_topic()).prop_map(|(dup, qos, msg_id, topic)| {
        Subscribe {
            dup,
            qos,
            msg_id,
            topic,
        }
    })
}

/// SUBACK.
pub fn sub_ack() -> impl Strategy<Value = SubAck> + Clone {
    (qos012(), topic_id(), msg_id(), return_code()).prop_map(|(qos, topic_id, msg_id, code)| {
        SubAck {
            qos,
            topic_id,
            msg_id,
            code,
        }
    })
}

/// UNSUBSCRIBE.
pub fn unsubscribe() -> impl Strategy<Value = Unsubscribe> {
    (msg_id(), subscribe_topic()).prop_map(|(msg_id, topic)| Unsubscribe { msg_id, topic })
}

/// A Wireless Node Id: usually 1 to 8 octets, sometimes none, rarely as long as the
/// one-octet Length of the encapsulation header allows (252 octets, §5.5).
pub fn node_id() -> impl Strategy<Value = Payload> + Clone {
    prop_oneof![
        1 => Just(Vec::new()),
        8 => vec(any::<u8>(), 1..=8),
        1 => vec(any::<u8>(), 240..=252),
    ]
    .prop_map(Payload::from)
}

/// A valid message of type `ty`. An Encapsulated message wraps a message of any other
/// type.
pub fn message_of(ty: MsgType) -> BoxedStrategy<Message> {
    match ty {
        MsgType::Advertise => advertise().prop_map(Message::Advertise).boxed(),
        MsgType::SearchGw => any::<u8>()
            .prop_map(|radius| Message::SearchGw(SearchGw { radius }))
            .boxed(),
        MsgType::GwInfo => gw_info().prop_map(Message::GwInfo).boxed(),
        MsgType::Connect => connect().prop_map(Message::Connect).boxed(),
        MsgType::ConnAck => return_code().prop_map(Message::ConnAck).boxed(),
        MsgType::WillTopicReq => Just(Message::WillTopicReq).boxed(),
        MsgType::WillTopic => will_topic().prop_map(Message::WillTopic).boxed(),
        MsgType::WillMsgReq => Just(Message::WillMsgReq).boxed(),
        MsgType::WillMsg => data(0).prop_map(Message::WillMsg).boxed(),
        MsgType::Register => register().prop_map(Message::Register).boxed(),
        MsgType::RegAck => reg_ack().prop_map(Message::RegAck).boxed(),
        MsgType::Publish => publish().prop_map(Message::Publish).boxed(),
        MsgType::PubAck => pub_ack().prop_map(Message::PubAck).boxed(),
        MsgType::PubComp => msg_id().prop_map(Message::PubComp).boxed(),
        MsgType::PubRec => msg_id().prop_map(Message::PubRec).boxed(),
        MsgType::PubRel => msg_id().prop_map(Message::PubRel).boxed(),
        MsgType::Subscribe => subscribe().prop_map(Message::Subscribe).boxed(),
        MsgType::SubAck => sub_ack().prop_map(Message::SubAck).boxed(),
        MsgType::Unsubscribe => unsubscribe().prop_map(Message::Unsubscribe).boxed(),
        MsgType::UnsubAck => msg_id().prop_map(Message::UnsubAck).boxed(),
        MsgType::PingReq => option::of(client_id()).prop_map(Message::PingReq).boxed(),
        MsgType::PingResp => Just(Message::PingResp).boxed(),
        MsgType::Disconnect => option::of(any::<u16>())
            .prop_map(Message::Disconnect)
            .boxed(),
        MsgType::WillTopicUpd => will_topic().prop_map(Message::WillTopicUpd).boxed(),
        MsgType::WillTopicResp => return_code().prop_map(Message::WillTopicResp).boxed(),
        MsgType::WillMsgUpd => data(0).prop_map(Message::WillMsgUpd).boxed(),
        MsgType::WillMsgResp => return_code().prop_map(Message::WillMsgResp).boxed(),
        MsgType::Encapsulated => (any::<u8>(), node_id(), plain_message())
            .prop_map(|(ctrl, node_id, inner)| {
                Message::Encapsulated(Encapsulated {
                    ctrl: Ctrl(ctrl),
                    node_id,
                    message: Box::new(inner),
                })
            })
            // The whole frame within what one Length field can describe (the datagram and
            // stream decoders treat larger ones differently; see sn_roundtrip.rs).
            .prop_filter("at most 65,535 octets in all", |m| {
                m.encoded_len() <= MAX_MESSAGE_LEN
            })
            .boxed(),
        other => panic!("no strategy for the MQTT-SN message type {other:?}"),
    }
}

/// A valid message of any type but Encapsulated (what an Encapsulated message carries).
pub fn plain_message() -> BoxedStrategy<Message> {
    let all: Vec<BoxedStrategy<Message>> = msg_types()
        .into_iter()
        .filter(|&t| t != MsgType::Encapsulated)
        .map(message_of)
        .collect();
    proptest::strategy::Union::new(all).boxed()
}

/// A valid message of any type, each type equally likely (Encapsulated included).
pub fn message() -> BoxedStrategy<Message> {
    let all: Vec<BoxedStrategy<Message>> = msg_types().into_iter().map(message_of).collect();
    proptest::strategy::Union::new(all).boxed()
}

/// Up to `max` valid messages (at least one).
pub fn messages(max: usize) -> BoxedStrategy<Vec<Message>> {
    vec(message(), 1..=max.max(1)).boxed()
}

/// Encodes a message that must encode (the strategies only make such messages).
pub fn encode_vec<B: mqtt_codec::Storage, T: mqtt_codec::StrStorage>(
    m: &mqtt_sn_codec::generic::Message<B, T>,
) -> Vec<u8> {
    let mut out = Vec::new();
    m.encode(&mut out)
        .unwrap_or_else(|e| panic!("{m:?} does not encode: {e:?}"));
    out
}
