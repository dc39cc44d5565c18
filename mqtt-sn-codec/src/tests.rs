//! Unit tests: one golden vector per message form (from the layouts of §5.4), and one test
//! per validation rule, named after its section.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use bytes::Bytes;

use mqtt_codec::{Payload, Str, TopicFilter, TopicName, ValueError};

use crate::*;

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(core::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn id(n: u16) -> MsgId {
    MsgId::new(n).unwrap()
}

fn name(s: &'static str) -> TopicName<'static> {
    TopicName::new(s).unwrap()
}

fn filter(s: &'static str) -> TopicFilter<'static> {
    TopicFilter::new(s).unwrap()
}

fn short(s: &str) -> ShortTopic {
    ShortTopic::new(s).unwrap()
}

/// Decodes to `msg`, encodes back to the same bytes with an exact `encoded_len`; as a
/// datagram every strict prefix is an error, as a stream every strict prefix is partial.
#[track_caller]
fn golden(h: &str, msg: Message<'_>) {
    let bytes = hex(h);
    assert_eq!(decode(&bytes), Ok(msg.clone()), "decoding {h}");
    let mut out = Vec::new();
    assert_eq!(msg.encode(&mut out), Ok(bytes.len()));
    assert_eq!(out, bytes, "encoding {msg:?}");
    assert_eq!(msg.encoded_len(), bytes.len());
    let d = Decoder::new();
    assert_eq!(
        d.decode_stream(&bytes),
        Ok(Decoded::Complete(msg, bytes.len()))
    );
    for n in 0..bytes.len() {
        let prefix = &bytes[..n];
        assert!(decode(prefix).is_err(), "prefix of {n} octets decoded");
        assert!(
            matches!(d.decode_stream(prefix), Ok(Decoded::Partial(_))),
            "stream prefix of {n} octets: {:?}",
            d.decode_stream(prefix)
        );
    }
}

#[track_caller]
fn refused(h: &str, err: DecodeError) {
    assert_eq!(decode(&hex(h)), Err(err), "decoding {h}");
}

// --- golden vectors, one per message form (§5.4) ---------------------------------------

#[test]
fn s5_4_1_advertise() {
    golden(
        "05 00 07 03 84",
        Message::Advertise(Advertise {
            gw_id: 7,
            duration: 900,
        }),
    );
}

#[test]
fn s5_4_2_searchgw() {
    golden("03 01 02", Message::SearchGw(SearchGw { radius: 2 }));
}

#[test]
fn s5_4_3_gwinfo_from_gateway_and_from_client() {
    golden(
        "03 02 05",
        Message::GwInfo(GwInfo {
            gw_id: 5,
            gw_add: Payload::from(&[]),
        }),
    );
    golden(
        "07 02 05 0a 00 00 01",
        Message::GwInfo(GwInfo {
            gw_id: 5,
            gw_add: Payload::from(&[10, 0, 0, 1]),
        }),
    );
}

#[test]
fn s5_4_4_connect() {
    golden(
        "0c 04 0c 01 00 3c 73 65 6e 73 6f 72",
        Message::Connect(Connect {
            will: true,
            clean_session: true,
            duration: 60,
            client_id: Str::new("sensor").unwrap(),
        }),
    );
}

#[test]
fn s5_4_5_connack_and_the_will_responses() {
    golden("03 05 00", Message::ConnAck(ReturnCode::Accepted));
    golden("03 05 01", Message::ConnAck(ReturnCode::Congestion));
    golden(
        "03 1b 02",
        Message::WillTopicResp(ReturnCode::InvalidTopicId),
    );
    golden("03 1d 03", Message::WillMsgResp(ReturnCode::NotSupported));
}

#[test]
fn s5_3_10_reserved_return_codes_are_values() {
    golden("03 05 04", Message::ConnAck(ReturnCode::Reserved(4)));
    golden("03 05 ff", Message::ConnAck(ReturnCode::Reserved(0xff)));
    for b in 0..=255u8 {
        assert_eq!(u8::from(ReturnCode::from(b)), b);
    }
}

#[test]
fn s5_4_6_s5_4_8_s5_4_20_empty_messages() {
    golden("02 06", Message::WillTopicReq);
    golden("02 08", Message::WillMsgReq);
    golden("02 17", Message::PingResp);
}

#[test]
fn s5_4_7_willtopic_and_its_empty_form() {
    golden(
        "07 07 30 61 2f 62 63",
        Message::WillTopic(Some(WillTopic {
            qos: QoS::AtLeastOnce,
            retain: true,
            topic: name("a/bc"),
        })),
    );
    golden("02 07", Message::WillTopic(None));
    golden(
        "04 1a 40 74",
        Message::WillTopicUpd(Some(WillTopic {
            qos: QoS::ExactlyOnce,
            retain: false,
            topic: name("t"),
        })),
    );
    golden("02 1a", Message::WillTopicUpd(None));
}

#[test]
fn s5_4_9_willmsg_and_willmsgupd() {
    golden("05 09 62 79 65", Message::WillMsg(Payload::from(b"bye")));
    golden("02 09", Message::WillMsg(Payload::from(&[])));
    golden(
        "04 1c 00 ff",
        Message::WillMsgUpd(Payload::from(&[0, 0xff])),
    );
}

#[test]
fn s5_4_10_register_and_s5_4_11_regack() {
    golden(
        "0c 0a 00 00 00 03 74 65 6d 70 2f 31",
        Message::Register(Register {
            topic_id: TopicId::NONE,
            msg_id: id(3),
            topic: name("temp/1"),
        }),
    );
    golden(
        "07 0b 00 2a 00 03 00",
        Message::RegAck(RegAck {
            topic_id: TopicId(42),
            msg_id: id(3),
            code: ReturnCode::Accepted,
        }),
    );
}

#[test]
fn s5_4_12_publish_every_topic_kind_and_qos() {
    golden(
        "09 0c 02 61 62 00 00 68 69",
        Message::Publish(Publish {
            dup: false,
            retain: false,
            delivery: Delivery::AtMostOnce,
            topic: TopicRef::Short(short("ab")),
            payload: Payload::from(b"hi"),
        }),
    );
    golden(
        "08 0c b0 00 01 00 07 2a",
        Message::Publish(Publish {
            dup: true,
            retain: true,
            delivery: Delivery::AtLeastOnce(id(7)),
            topic: TopicRef::Registered(TopicId(1)),
            payload: Payload::from(&[42]),
        }),
    );
    golden(
        "07 0c 41 01 00 ff ff",
        Message::Publish(Publish {
            dup: false,
            retain: false,
            delivery: Delivery::ExactlyOnce(id(0xffff)),
            topic: TopicRef::Predefined(TopicId(256)),
            payload: Payload::from(&[]),
        }),
    );
    golden(
        "08 0c 61 00 05 00 00 01",
        Message::Publish(Publish {
            dup: false,
            retain: false,
            delivery: Delivery::MinusOne,
            topic: TopicRef::Predefined(TopicId(5)),
            payload: Payload::from(&[1]),
        }),
    );
}

#[test]
fn s5_4_13_puback_and_s5_4_14_the_qos_2_acks() {
    golden(
        "07 0d 00 01 00 07 00",
        Message::PubAck(PubAck {
            topic_id: TopicId(1),
            msg_id: Some(id(7)),
            code: ReturnCode::Accepted,
        }),
    );
    // Refusing a QoS 0 PUBLISH, which has no MsgId.
    golden(
        "07 0d 00 09 00 00 02",
        Message::PubAck(PubAck {
            topic_id: TopicId(9),
            msg_id: None,
            code: ReturnCode::InvalidTopicId,
        }),
    );
    golden("04 0e 12 34", Message::PubComp(id(0x1234)));
    golden("04 0f 00 01", Message::PubRec(id(1)));
    golden("04 10 00 02", Message::PubRel(id(2)));
    golden("04 15 00 03", Message::UnsubAck(id(3)));
}

#[test]
fn s5_4_15_subscribe_every_topic_kind() {
    golden(
        "0a 12 a0 00 05 61 2f 2b 2f 23",
        Message::Subscribe(Subscribe {
            dup: true,
            qos: QoS::AtLeastOnce,
            msg_id: id(5),
            topic: TopicRef::Name(filter("a/+/#")),
        }),
    );
    golden(
        "07 12 41 00 06 00 0c",
        Message::Subscribe(Subscribe {
            dup: false,
            qos: QoS::ExactlyOnce,
            msg_id: id(6),
            topic: TopicRef::Predefined(TopicId(12)),
        }),
    );
    golden(
        "07 12 02 00 07 78 79",
        Message::Subscribe(Subscribe {
            dup: false,
            qos: QoS::AtMostOnce,
            msg_id: id(7),
            topic: TopicRef::Short(short("xy")),
        }),
    );
}

#[test]
fn s5_4_16_suback() {
    golden(
        "08 13 20 00 00 00 05 00",
        Message::SubAck(SubAck {
            qos: QoS::AtLeastOnce,
            topic_id: TopicId::NONE,
            msg_id: id(5),
            code: ReturnCode::Accepted,
        }),
    );
}

#[test]
fn s5_4_17_unsubscribe_every_topic_kind() {
    golden(
        "06 14 00 00 08 74",
        Message::Unsubscribe(Unsubscribe {
            msg_id: id(8),
            topic: TopicRef::Name(filter("t")),
        }),
    );
    golden(
        "07 14 01 00 09 00 0c",
        Message::Unsubscribe(Unsubscribe {
            msg_id: id(9),
            topic: TopicRef::Predefined(TopicId(12)),
        }),
    );
    golden(
        "07 14 02 00 0a 78 79",
        Message::Unsubscribe(Unsubscribe {
            msg_id: id(10),
            topic: TopicRef::Short(short("xy")),
        }),
    );
}

#[test]
fn s5_4_19_pingreq_with_and_without_client_id() {
    golden("02 16", Message::PingReq(None));
    golden(
        "04 16 63 31",
        Message::PingReq(Some(Str::new("c1").unwrap())),
    );
}

#[test]
fn s5_4_21_disconnect_with_and_without_duration() {
    golden("02 18", Message::Disconnect(None));
    golden("04 18 0e 10", Message::Disconnect(Some(3600)));
}

#[test]
fn s5_5_encapsulated_publish() {
    golden(
        "05 fe 01 a1 b2  09 0c 02 61 62 00 00 68 69",
        Message::Encapsulated(Encapsulated {
            ctrl: Ctrl::with_radius(1),
            node_id: Payload::from(&[0xa1, 0xb2]),
            message: Box::new(Message::Publish(Publish {
                dup: false,
                retain: false,
                delivery: Delivery::AtMostOnce,
                topic: TopicRef::Short(short("ab")),
                payload: Payload::from(b"hi"),
            })),
        }),
    );
}

// --- §5.2.1 the Length field -----------------------------------------------------------

fn publish_with(len: usize) -> crate::shared::Message {
    crate::shared::Message::Publish(crate::shared::Publish {
        dup: false,
        retain: false,
        delivery: Delivery::AtMostOnce,
        topic: crate::shared::TopicRef::Predefined(TopicId(1)),
        payload: crate::shared::Payload::from(vec![0x5a; len]),
    })
}

#[test]
fn s5_2_1_encoder_uses_the_short_form_up_to_255_octets() {
    // 2 + 5 + 248 = 255 octets: one-octet Length.
    let mut out = Vec::new();
    publish_with(248).encode(&mut out).unwrap();
    assert_eq!((out.len(), out[0], out[1]), (255, 255, 0x0c));
    // 2 + 5 + 249 = 256 does not fit: the three-octet form, 4 + 5 + 249.
    let mut out = Vec::new();
    publish_with(249).encode(&mut out).unwrap();
    assert_eq!(out.len(), 4 + 5 + 249);
    assert_eq!(&out[..4], &[0x01, 0x01, 0x02, 0x0c]);
    assert_eq!(decode(&out).map(|m| m.to_shared()), Ok(publish_with(249)));
}

#[test]
fn s5_2_1_three_octet_form_is_accepted_for_any_length() {
    // PINGRESP (2 octets in the short form) written in the long form: 4 octets.
    assert_eq!(decode(&hex("01 00 04 17")), Ok(Message::PingResp));
    assert_eq!(
        decode(&hex("01 00 06 0f 00 01")),
        Ok(Message::PubRec(id(1)))
    );
    // And the encoder writes it back in the short form.
    let mut out = Vec::new();
    Message::PingResp.encode(&mut out).unwrap();
    assert_eq!(out, hex("02 17"));
}

#[test]
fn s5_2_1_a_length_octet_of_zero_is_malformed() {
    refused("00 17", DecodeError::ZeroLength);
    refused("00", DecodeError::ZeroLength);
}

#[test]
fn s5_2_1_length_must_equal_the_datagram_size() {
    // Declares 3 octets, datagram has 2 (shorter) and 4 (longer).
    refused(
        "03 05",
        DecodeError::LengthMismatch {
            declared: 3,
            actual: 2,
        },
    );
    refused(
        "03 05 00 00",
        DecodeError::LengthMismatch {
            declared: 3,
            actual: 4,
        },
    );
    refused(
        "01 00 05 0e 00 01",
        DecodeError::LengthMismatch {
            declared: 5,
            actual: 6,
        },
    );
}

#[test]
fn s5_2_1_length_must_cover_the_header() {
    refused(
        "01 00 03 17",
        DecodeError::LengthBelowHeader {
            declared: 3,
            header: 4,
        },
    );
    refused(
        "01 00 00",
        DecodeError::LengthBelowHeader {
            declared: 0,
            header: 4,
        },
    );
    refused("", DecodeError::TooShort { len: 0 });
    refused("01 00", DecodeError::TooShort { len: 2 });
    refused("05", DecodeError::TooShort { len: 1 });
}

#[test]
fn s5_2_1_a_message_over_65535_octets_is_an_encode_error() {
    // 4 + 5 + 65_526 = 65_535: fits exactly.
    let mut out = Vec::new();
    assert_eq!(publish_with(65_526).encode(&mut out), Ok(65_535));
    assert_eq!(
        decode(&out).map(|m| m.to_shared()),
        Ok(publish_with(65_526))
    );
    let too_long = publish_with(65_527);
    let mut out = Vec::new();
    assert_eq!(
        too_long.encode(&mut out),
        Err(EncodeError::TooLong {
            msg: MsgType::Publish,
            len: 65_536
        })
    );
    assert!(out.is_empty());
}

// --- §5.2.2 message types ----------------------------------------------------------------

#[test]
fn s5_2_2_reserved_message_types_are_malformed() {
    for code in [0x03u8, 0x11, 0x19, 0x1e, 0x80, 0xfd, 0xff] {
        assert_eq!(
            decode(&[2, code]),
            Err(DecodeError::ReservedMsgType(code)),
            "type {code:#04x}"
        );
    }
    for code in 0..=255u8 {
        if let Ok(t) = MsgType::try_from(code) {
            assert_eq!(t.code(), code);
        }
    }
}

// --- §5.3 fields ---------------------------------------------------------------------------

#[test]
fn s5_3_4_topic_id_type_0b11_is_reserved() {
    refused(
        "07 0c 03 00 01 00 00",
        DecodeError::ReservedTopicIdType {
            msg: MsgType::Publish,
        },
    );
    refused(
        "07 12 03 00 01 00 01",
        DecodeError::ReservedTopicIdType {
            msg: MsgType::Subscribe,
        },
    );
    refused(
        "07 14 03 00 01 00 01",
        DecodeError::ReservedTopicIdType {
            msg: MsgType::Unsubscribe,
        },
    );
}

#[test]
fn s5_3_4_flags_a_message_does_not_use_are_ignored_and_written_as_zero() {
    // CONNECT with DUP, QoS and retain set and TopicIdType 0b11: only Will and
    // CleanSession count.
    let bytes = hex("07 04 ff 01 00 0a 63");
    let m = decode(&bytes).unwrap();
    let Message::Connect(c) = &m else { panic!() };
    assert!(c.will && c.clean_session);
    let mut out = Vec::new();
    m.encode(&mut out).unwrap();
    assert_eq!(out, hex("07 04 0c 01 00 0a 63"));
}

#[test]
fn s5_3_8_protocol_id_other_than_1_is_malformed() {
    refused("07 04 04 02 00 0a 63", DecodeError::InvalidProtocolId(2));
    refused("07 04 04 00 00 0a 63", DecodeError::InvalidProtocolId(0));
}

#[test]
fn s5_3_1_client_id_is_1_to_23_characters() {
    refused(
        "06 04 04 01 00 0a",
        DecodeError::ClientIdLength {
            msg: MsgType::Connect,
            chars: 0,
            max: 23,
        },
    );
    let mut m = hex("1d 04 04 01 00 0a");
    m.extend_from_slice(&[b'c'; 23]);
    assert!(decode(&m).is_ok());
    let mut long = hex("1e 04 04 01 00 0a");
    long.extend_from_slice(&[b'c'; 24]);
    assert_eq!(
        decode(&long),
        Err(DecodeError::ClientIdLength {
            msg: MsgType::Connect,
            chars: 24,
            max: 23
        })
    );
    // The limit is configurable: real gateways accept longer ids.
    assert!(Decoder::new().client_id_limit(64).decode(&long).is_ok());
    // Characters, not octets: 23 two-octet characters are allowed.
    let mut wide = vec![6 + 46, 0x04, 0x04, 0x01, 0x00, 0x0a];
    for _ in 0..23 {
        wide.extend_from_slice("é".as_bytes());
    }
    assert!(decode(&wide).is_ok());
    // PINGREQ carries a ClientId under the same rule.
    let mut ping = vec![2 + 24, 0x16];
    ping.extend_from_slice(&[b'c'; 24]);
    assert_eq!(
        decode(&ping),
        Err(DecodeError::ClientIdLength {
            msg: MsgType::PingReq,
            chars: 24,
            max: 23
        })
    );
}

#[test]
fn s5_3_1_client_id_must_be_utf8_without_null() {
    refused(
        "07 04 04 01 00 0a ff",
        DecodeError::Invalid {
            msg: MsgType::Connect,
            field: "client id",
            error: ValueError::IllFormedUtf8 { at: 0 },
        },
    );
    refused(
        "04 16 61 00",
        DecodeError::Invalid {
            msg: MsgType::PingReq,
            field: "client id",
            error: ValueError::NullCharacter { at: 1 },
        },
    );
}

#[test]
fn s5_3_6_msg_id_0_is_malformed_where_one_is_required() {
    let cases: [(&str, MsgType); 10] = [
        ("0a 0a 00 00 00 00 74 2f 61 62", MsgType::Register),
        ("07 0b 00 01 00 00 00", MsgType::RegAck),
        ("07 0c 20 00 01 00 00", MsgType::Publish),
        ("07 0c 40 00 01 00 00", MsgType::Publish),
        ("04 0e 00 00", MsgType::PubComp),
        ("04 0f 00 00", MsgType::PubRec),
        ("04 10 00 00", MsgType::PubRel),
        ("06 12 00 00 00 74", MsgType::Subscribe),
        ("08 13 00 00 00 00 00 00", MsgType::SubAck),
        ("06 14 00 00 00 74", MsgType::Unsubscribe),
    ];
    for (h, msg) in cases {
        refused(h, DecodeError::ZeroMsgId { msg });
    }
    refused(
        "04 15 00 00",
        DecodeError::ZeroMsgId {
            msg: MsgType::UnsubAck,
        },
    );
}

#[test]
fn s5_3_6_qos_0_and_minus_1_publish_carry_no_msg_id() {
    // A non-zero MsgId on QoS 0 is ignored and written back as 0x0000.
    let bytes = hex("07 0c 01 00 01 00 09");
    let m = decode(&bytes).unwrap();
    let Message::Publish(p) = &m else { panic!() };
    assert_eq!(p.delivery, Delivery::AtMostOnce);
    let mut out = Vec::new();
    m.encode(&mut out).unwrap();
    assert_eq!(out, hex("07 0c 01 00 01 00 00"));
}

#[test]
fn s5_3_11_topic_names_must_be_valid_utf8() {
    refused(
        "08 0a 00 00 00 01 c3 28",
        DecodeError::Invalid {
            msg: MsgType::Register,
            field: "topic name",
            error: ValueError::IllFormedUtf8 { at: 0 },
        },
    );
    refused(
        "07 12 00 00 01 ed a0",
        DecodeError::Invalid {
            msg: MsgType::Subscribe,
            field: "topic filter",
            error: ValueError::IllFormedUtf8 { at: 0 },
        },
    );
    refused(
        "04 07 00 ff",
        DecodeError::Invalid {
            msg: MsgType::WillTopic,
            field: "topic name",
            error: ValueError::IllFormedUtf8 { at: 0 },
        },
    );
    refused(
        "07 0c 02 ff 61 00 00",
        DecodeError::Invalid {
            msg: MsgType::Publish,
            field: "short topic name",
            error: ValueError::IllFormedUtf8 { at: 0 },
        },
    );
    // Short topic names are topic names: no wildcards.
    refused(
        "07 0c 02 2b 61 00 00",
        DecodeError::Invalid {
            msg: MsgType::Publish,
            field: "short topic name",
            error: ValueError::WildcardInTopicName { at: 0, ch: '+' },
        },
    );
    refused(
        "07 12 02 00 01 61 23",
        DecodeError::Invalid {
            msg: MsgType::Subscribe,
            field: "short topic name",
            error: ValueError::WildcardInTopicName { at: 1, ch: '#' },
        },
    );
    assert!(ShortTopic::new("a+").is_err());
    // A two-octet character is a valid short topic name.
    assert!(decode(&hex("07 0c 02 c3 a9 00 00")).is_ok());
    refused(
        "07 0c 02 61 00 00 00",
        DecodeError::Invalid {
            msg: MsgType::Publish,
            field: "short topic name",
            error: ValueError::NullCharacter { at: 1 },
        },
    );
}

#[test]
fn s5_3_11_topic_rules_of_mqtt_apply() {
    // REGISTER and WILLTOPIC carry topic names: no wildcards, not empty.
    refused(
        "07 0a 00 00 00 01 23",
        DecodeError::Invalid {
            msg: MsgType::Register,
            field: "topic name",
            error: ValueError::WildcardInTopicName { at: 0, ch: '#' },
        },
    );
    refused(
        "06 0a 00 00 00 01",
        DecodeError::Invalid {
            msg: MsgType::Register,
            field: "topic name",
            error: ValueError::EmptyTopic,
        },
    );
    // A WILLTOPIC with Flags but no topic is not the empty form.
    refused(
        "03 07 00",
        DecodeError::Invalid {
            msg: MsgType::WillTopic,
            field: "topic name",
            error: ValueError::EmptyTopic,
        },
    );
    // SUBSCRIBE carries a filter: a misplaced '#' is refused.
    refused(
        "07 12 00 00 01 23 61",
        DecodeError::Invalid {
            msg: MsgType::Subscribe,
            field: "topic filter",
            error: ValueError::MultiLevelNotLast { at: 0 },
        },
    );
}

#[test]
fn s5_4_fixed_size_messages_refuse_missing_and_extra_octets() {
    refused(
        "04 05 00 00",
        DecodeError::TrailingBytes {
            msg: MsgType::ConnAck,
            extra: 1,
        },
    );
    refused(
        "02 05",
        DecodeError::UnexpectedEnd {
            msg: MsgType::ConnAck,
        },
    );
    refused(
        "03 18 01",
        DecodeError::UnexpectedEnd {
            msg: MsgType::Disconnect,
        },
    );
    refused(
        "05 18 00 01 02",
        DecodeError::TrailingBytes {
            msg: MsgType::Disconnect,
            extra: 1,
        },
    );
    refused(
        "03 17 00",
        DecodeError::TrailingBytes {
            msg: MsgType::PingResp,
            extra: 1,
        },
    );
    // A predefined or short topic in SUBSCRIBE is exactly two octets.
    refused(
        "08 12 01 00 01 00 0c 00",
        DecodeError::TrailingBytes {
            msg: MsgType::Subscribe,
            extra: 1,
        },
    );
    refused(
        "06 12 02 00 01 78",
        DecodeError::UnexpectedEnd {
            msg: MsgType::Subscribe,
        },
    );
    refused(
        "06 0c 00 00 01 00",
        DecodeError::UnexpectedEnd {
            msg: MsgType::Publish,
        },
    );
}

// --- §6.8 QoS -1 ---------------------------------------------------------------------------

#[test]
fn s6_8_qos_minus_1_needs_a_predefined_id_or_short_name() {
    refused("07 0c 60 00 01 00 00", DecodeError::MinusOneOnNormalTopic);
    assert!(decode(&hex("07 0c 62 61 62 00 00")).is_ok());
    let p = Message::Publish(Publish {
        dup: false,
        retain: false,
        delivery: Delivery::MinusOne,
        topic: TopicRef::Registered(TopicId(1)),
        payload: Payload::from(&[]),
    });
    assert_eq!(
        p.encode(&mut Vec::new()),
        Err(EncodeError::MinusOneOnNormalTopic)
    );
}

// --- §5.5 Encapsulated messages -----------------------------------------------------------

#[test]
fn s5_5_encapsulated_inner_length_must_match() {
    // The inner PINGRESP declares 3 octets, 2 follow.
    refused(
        "04 fe 00 01 03 17",
        DecodeError::LengthMismatch {
            declared: 3,
            actual: 2,
        },
    );
    // Nothing after the encapsulation header.
    refused(
        "04 fe 00 01",
        DecodeError::UnexpectedEnd {
            msg: MsgType::Encapsulated,
        },
    );
    // The header's Length runs past the datagram.
    refused(
        "09 fe 00 01",
        DecodeError::LengthMismatch {
            declared: 9,
            actual: 4,
        },
    );
    // No Ctrl octet.
    refused(
        "02 fe 02 17",
        DecodeError::UnexpectedEnd {
            msg: MsgType::Encapsulated,
        },
    );
}

#[test]
fn s5_5_encapsulation_does_not_nest() {
    refused("03 fe 00 03 fe 00 02 17", DecodeError::NestedEncapsulation);
    let inner = Message::Encapsulated(Encapsulated {
        ctrl: Ctrl(0),
        node_id: Payload::from(&[1]),
        message: Box::new(Message::PingResp),
    });
    let outer = Message::Encapsulated(Encapsulated {
        ctrl: Ctrl(0),
        node_id: Payload::from(&[2]),
        message: Box::new(inner),
    });
    let mut out = Vec::new();
    assert_eq!(
        outer.encode(&mut out),
        Err(EncodeError::NestedEncapsulation)
    );
    assert!(out.is_empty());
}

#[test]
fn s5_5_encapsulated_keeps_reserved_ctrl_bits_and_long_inner_messages() {
    let inner = publish_with(600);
    let m = Message::Encapsulated(Encapsulated {
        ctrl: Ctrl(0xfd),
        node_id: Payload::from(&[1, 2, 3, 4, 5, 6, 7, 8]),
        message: Box::new(inner.view()),
    });
    let mut out = Vec::new();
    let n = m.encode(&mut out).unwrap();
    assert_eq!(n, m.encoded_len());
    assert_eq!(&out[..3], &[11, 0xfe, 0xfd]);
    assert_eq!(out[11], 0x01, "inner message in the three-octet form");
    let back = decode(&out).unwrap();
    assert_eq!(back, m);
    let Message::Encapsulated(e) = back else {
        panic!()
    };
    assert_eq!(e.ctrl.radius(), 1);
}

// --- encoding ------------------------------------------------------------------------------

#[test]
fn encode_refuses_topic_forms_a_message_cannot_carry() {
    let p = Message::Publish(Publish {
        dup: false,
        retain: false,
        delivery: Delivery::AtMostOnce,
        topic: TopicRef::Name(filter("a/b")),
        payload: Payload::from(&[]),
    });
    assert_eq!(
        p.encode(&mut Vec::new()),
        Err(EncodeError::TopicNotCarried {
            msg: MsgType::Publish,
            form: "topic name"
        })
    );
    let s = Message::Subscribe(Subscribe {
        dup: false,
        qos: QoS::AtMostOnce,
        msg_id: id(1),
        topic: TopicRef::Registered(TopicId(3)),
    });
    assert_eq!(
        s.encode(&mut Vec::new()),
        Err(EncodeError::TopicNotCarried {
            msg: MsgType::Subscribe,
            form: "registered topic id"
        })
    );
    let u = Message::Unsubscribe(Unsubscribe {
        msg_id: id(1),
        topic: TopicRef::Registered(TopicId(3)),
    });
    assert!(u.encode(&mut Vec::new()).is_err());
}

#[test]
fn s5_3_1_encode_refuses_an_empty_client_id() {
    let c = Message::Connect(Connect {
        will: false,
        clean_session: true,
        duration: 10,
        client_id: Str::new("").unwrap(),
    });
    assert_eq!(
        c.encode(&mut Vec::new()),
        Err(EncodeError::EmptyClientId {
            msg: MsgType::Connect
        })
    );
    let p = Message::PingReq(Some(Str::new("").unwrap()));
    assert_eq!(
        p.encode(&mut Vec::new()),
        Err(EncodeError::EmptyClientId {
            msg: MsgType::PingReq
        })
    );
}

#[test]
fn encode_is_all_or_nothing_when_the_buffer_is_too_small() {
    let m = publish_with(20);
    let mut storage = [0u8; 26];
    let mut buf: &mut [u8] = &mut storage;
    assert_eq!(
        m.encode(&mut buf),
        Err(EncodeError::BufferTooSmall {
            needed: 27,
            available: 26
        })
    );
    assert_eq!(storage, [0u8; 26]);
}

#[test]
fn shared_message_outlives_the_datagram_and_shares_it() {
    let bytes = Bytes::from(hex("0a 12 a0 00 05 61 2f 2b 2f 23"));
    let shared = Decoder::new().decode_bytes(&bytes).unwrap();
    let crate::generic::Message::Subscribe(s) = &shared else {
        panic!()
    };
    let crate::generic::TopicRef::Name(f) = &s.topic else {
        panic!()
    };
    // The filter is a slice of the datagram, not a copy.
    assert_eq!(f.as_ptr(), bytes[5..].as_ptr());
    drop(bytes);
    assert_eq!(
        shared.view(),
        Message::Subscribe(Subscribe {
            dup: true,
            qos: QoS::AtLeastOnce,
            msg_id: MsgId::new(5).unwrap(),
            topic: TopicRef::Name(TopicFilter::new("a/+/#").unwrap()),
        })
    );
    // And it converts from the borrowed form, sharing a parent buffer.
    let again = Bytes::from(hex("0a 12 a0 00 05 61 2f 2b 2f 23"));
    let borrowed = decode(&again).unwrap();
    assert_eq!(borrowed.to_shared_in(&again), shared);
    assert_eq!(borrowed.to_shared(), shared);
}

// --- byte streams ----------------------------------------------------------------------------

#[test]
fn stream_partial_then_complete() {
    let d = Decoder::new();
    let bytes = hex("04 0f 00 01 02 17");
    assert_eq!(d.decode_stream(&[]), Ok(Decoded::Partial(None)));
    // Until MsgType is known the message could be an Encapsulated one.
    assert_eq!(d.decode_stream(&bytes[..1]), Ok(Decoded::Partial(None)));
    assert_eq!(
        d.decode_stream(&bytes[..2]),
        Ok(Decoded::Partial(core::num::NonZeroUsize::new(2)))
    );
    assert_eq!(
        d.decode_stream(&bytes),
        Ok(Decoded::Complete(Message::PubRec(id(1)), 4))
    );
    assert_eq!(
        d.decode_stream(&bytes[4..]),
        Ok(Decoded::Complete(Message::PingResp, 2))
    );
    // The three-octet form needs all three octets before the length is known.
    assert_eq!(d.decode_stream(&[1, 1]), Ok(Decoded::Partial(None)));
    assert_eq!(d.decode_stream(&[1, 1, 0]), Ok(Decoded::Partial(None)));
    assert_eq!(
        d.decode_stream(&[1, 1, 0, 0x0c]),
        Ok(Decoded::Partial(core::num::NonZeroUsize::new(252)))
    );
}

#[test]
fn stream_refuses_a_message_over_the_maximum_from_its_length() {
    let d = Decoder::new().max_message_size(100);
    assert_eq!(
        d.decode_stream(&[1, 1, 0]),
        Err(DecodeError::TooLarge { len: 256, max: 100 })
    );
    assert_eq!(
        d.decode(&[101, 0x09]),
        Err(DecodeError::TooLarge { len: 101, max: 100 })
    );
}

#[test]
fn stream_frames_an_encapsulated_message_by_both_lengths() {
    let d = Decoder::new();
    let bytes = hex("04 fe 00 07 04 0f 00 01");
    for n in 0..bytes.len() {
        assert!(
            matches!(d.decode_stream(&bytes[..n]), Ok(Decoded::Partial(_))),
            "{n}"
        );
    }
    assert_eq!(
        d.decode_stream(&bytes[..5]),
        Ok(Decoded::Partial(core::num::NonZeroUsize::new(3)))
    );
    let Ok(Decoded::Complete(Message::Encapsulated(e), 8)) = d.decode_stream(&bytes) else {
        panic!()
    };
    assert_eq!(*e.message, Message::PubRec(id(1)));
}

// --- rules from the review of 2026-11-30 --------------------------------------------------

#[test]
fn s5_5_encapsulation_length_is_one_octet() {
    // The same encapsulation of a PINGRESP, its header Length in the one-octet form (4)
    // and in the three-octet form (0x01 0x00 0x06), which §5.5 does not give it.
    assert!(decode(&hex("04 fe 00 07  02 17")).is_ok());
    refused(
        "01 00 06 fe 00 07  02 17",
        DecodeError::LongEncapsulationLength,
    );
    let long = hex("01 00 06 fe 00 07  02 17");
    assert_eq!(
        Decoder::new().decode_stream(&long),
        Err(DecodeError::LongEncapsulationLength)
    );

    // 252 octets of Wireless Node Id fill the one-octet Length (255); one more cannot be
    // written at all, rather than in a form the receiver must refuse.
    let wrap = |len: usize| {
        crate::shared::Message::Encapsulated(crate::shared::Encapsulated {
            ctrl: Ctrl(0),
            node_id: crate::shared::Payload::from(vec![7u8; len]),
            message: Box::new(crate::shared::Message::PingResp),
        })
    };
    let mut out = Vec::new();
    assert_eq!(wrap(252).encode(&mut out), Ok(257));
    assert_eq!(out[0], 255);
    assert_eq!(decode(&out).map(|m| m.to_shared()), Ok(wrap(252)));
    let mut out = Vec::new();
    assert_eq!(
        wrap(253).encode(&mut out),
        Err(EncodeError::NodeIdTooLong { len: 253 })
    );
    assert!(out.is_empty(), "nothing written");
}

#[test]
fn s5_3_4_qos_minus_one_only_in_publish() {
    // Flags 0x60 is QoS 0b11 (−1): PUBLISH may carry it, no other message may.
    assert!(decode(&hex("07 0c 62 61 62 00 00")).is_ok(), "PUBLISH");
    let cases = [
        ("07 12 60 00 01 61 62", MsgType::Subscribe),
        ("08 13 60 00 00 00 01 00", MsgType::SubAck),
        ("05 07 60 61 62", MsgType::WillTopic),
        ("05 1a 60 61 62", MsgType::WillTopicUpd),
    ];
    for (h, msg) in cases {
        refused(h, DecodeError::MinusOneOutsidePublish { msg });
        // The same message at QoS 2 (0x40) is fine.
        let ok = hex(h)
            .into_iter()
            .enumerate()
            .map(|(i, b)| if i == 2 { 0x40 } else { b })
            .collect::<Vec<_>>();
        assert!(decode(&ok).is_ok(), "{msg} at QoS 2");
    }

    let minus_one = [
        (
            Message::Subscribe(Subscribe {
                dup: false,
                qos: QoS::MinusOne,
                msg_id: id(1),
                topic: TopicRef::Name(filter("ab")),
            }),
            MsgType::Subscribe,
        ),
        (
            Message::SubAck(SubAck {
                qos: QoS::MinusOne,
                topic_id: TopicId(0),
                msg_id: id(1),
                code: ReturnCode::Accepted,
            }),
            MsgType::SubAck,
        ),
        (
            Message::WillTopic(Some(WillTopic {
                qos: QoS::MinusOne,
                retain: false,
                topic: name("ab"),
            })),
            MsgType::WillTopic,
        ),
        (
            Message::WillTopicUpd(Some(WillTopic {
                qos: QoS::MinusOne,
                retain: false,
                topic: name("ab"),
            })),
            MsgType::WillTopicUpd,
        ),
    ];
    for (m, msg) in minus_one {
        let mut out = Vec::new();
        assert_eq!(
            m.encode(&mut out),
            Err(EncodeError::MinusOneOutsidePublish { msg })
        );
        assert!(out.is_empty(), "nothing written for {msg}");
    }
}

#[test]
fn s5_4_10_s5_4_7_s5_4_22_encode_refuses_an_empty_topic_name() {
    let cases = [
        (
            Message::Register(Register {
                topic_id: TopicId(0),
                msg_id: id(1),
                topic: TopicName::empty(),
            }),
            MsgType::Register,
        ),
        (
            Message::WillTopic(Some(WillTopic {
                qos: QoS::AtMostOnce,
                retain: false,
                topic: TopicName::empty(),
            })),
            MsgType::WillTopic,
        ),
        (
            Message::WillTopicUpd(Some(WillTopic {
                qos: QoS::AtMostOnce,
                retain: false,
                topic: TopicName::empty(),
            })),
            MsgType::WillTopicUpd,
        ),
    ];
    for (m, msg) in cases {
        let mut out = Vec::new();
        assert_eq!(m.encode(&mut out), Err(EncodeError::EmptyTopicName { msg }));
        assert!(out.is_empty());
    }
    // The empty forms that delete the will are `None`, and still encode.
    assert_eq!(Message::WillTopic(None).encode(&mut Vec::new()), Ok(2));
}

#[test]
fn s5_4_15_share_prefix_is_an_ordinary_filter() {
    // MQTT-SN has no shared subscriptions: `$share/x` (no filter after a share name, an
    // error in MQTT 5.0) and `$share//a` are plain filters in SUBSCRIBE and UNSUBSCRIBE.
    for topic in ["$share/x", "$share//a", "$share/+/#"] {
        let f = TopicFilter::new_unshared(topic).unwrap();
        for m in [
            Message::Subscribe(Subscribe {
                dup: false,
                qos: QoS::AtLeastOnce,
                msg_id: id(9),
                topic: TopicRef::Name(f),
            }),
            Message::Unsubscribe(Unsubscribe {
                msg_id: id(9),
                topic: TopicRef::Name(f),
            }),
        ] {
            let mut out = Vec::new();
            m.encode(&mut out).unwrap();
            assert_eq!(decode(&out), Ok(m), "{topic}");
        }
    }
    assert!(
        TopicFilter::new("$share/x").is_err(),
        "the MQTT 5.0 reading"
    );
    // The level rules still apply.
    refused(
        "0f 12 20 00 09 24 73 68 61 72 65 2f 23 2f 61",
        DecodeError::Invalid {
            msg: MsgType::Subscribe,
            field: "topic filter",
            error: ValueError::MultiLevelNotLast { at: 7 },
        },
    );
}
