//! MQTT-SN 1.2 golden vectors: `tests/vectors/mqtt-sn/messages.hex` holds datagrams derived
//! by hand from the message layouts of the specification (§5.2–§5.5), at least one of every
//! message type. For every vector:
//! - it decodes, to a message of the type its name says, equal to the typed message this
//!   file builds for that name with the crate's API (so a vector cannot silently decode to
//!   something else); `decode_stream` gives the same message and consumes every octet;
//! - `encoded_len` is its length and encoding the message gives its bytes back.
//!
//! The names of the file and of the table here must agree both ways, and every message type
//! of `MsgType` must have a vector. All vectors back to back form a byte stream that
//! `decode_stream` splits into the same messages.
//!
//! Then Wireshark's MQTT-SN dissector reads them: all vectors go into one pcap, one UDP
//! datagram to port 10883 each (made with `text2pcap` as `../shared/tools/tshark-decode.sh
//! --sn` does), and one `tshark -d udp.port==10883,mqttsn -T json` run reads the pcap. For
//! every frame the dissector's message type and Length agree with the vector, there is no
//! `[Malformed Packet]` and no expert info (but for the dissector limits below), and every
//! field it shows agrees with the typed message: topic id and TopicIdType, short topic name,
//! topic name or filter, message id, DUP / QoS / Retain, Will / CleanSession, return code,
//! client id, keep-alive and sleep durations, gateway id and address, radius, will topic and
//! message, published data, the Ctrl octet and Wireless Node Id of an Encapsulated message
//! and the message it carries. The dissector may show no field the message does not have.
//!
//! Without `tshark` or `text2pcap` the tshark test is reported as skipped, by name, unless
//! `CI` or `MQTT_REQUIRE_TSHARK=1` is set (then it fails, naming the install command).
//! `MQTT_TSHARK_DUMP=1` prints every frame's fields.
//!
//! Dissector limits (tshark 4.0.17) that the assertions work around, the specification
//! winning where the two disagree:
//! - Strings and data are shown as ASCII only: every octet of 0x80 or more is shown as
//!   U+FFFD. The check compares with the vector's octets rendered the same way (so
//!   `REGISTER.utf8-topic` is checked for its ASCII octets and the count of the others).
//! - The QoS and Retain flags of WILLTOPIC and WILLTOPICUPD, and the DUP and QoS flags of
//!   SUBSCRIBE and the granted QoS of SUBACK, are not shown (only TopicIdType is): those
//!   flags are checked against the hand-derived bytes of the vector only.
//! - A short topic name in PUBLISH is shown as the number its two octets make
//!   (`ab` = 24930); the check compares that number.
//! - A predefined topic id in SUBSCRIBE and UNSUBSCRIBE is read as an empty topic name with
//!   the expert info "Trailing stray characters" (the id is not shown): for those frames
//!   that expert info is accepted and the name must be shown empty.
//! - The 2-octet "delete the will" form of WILLTOPIC and WILLTOPICUPD (§5.4.7, §5.4.22) is
//!   flagged `[Malformed Packet]` ("Malformed Packet (Exception occurred)"), although the
//!   specification defines it: accepted for those frames, which must show no will topic.
//! - A Wireless Node Id longer than 4 octets (the 8-octet EUI-64 of
//!   `ENCAPSULATED.eui64-connack`) is read as an integer ("Trying to fetch an unsigned
//!   integer with length 8", `[Malformed Packet]`) and the encapsulated message after it is
//!   read from the wrong offset: for such frames only the type, Length and Ctrl of the
//!   encapsulation header are checked and those expert infos are accepted. A node id of up
//!   to 4 octets is shown as the big-endian number it makes, and is checked as such.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;

use mqtt_integration_tests::sn_strategies::encode_vec;
use mqtt_integration_tests::sn_strategies::msg_types;
use mqtt_integration_tests::tshark::{self, Json};
use mqtt_sn_codec::shared::{
    Connect, Encapsulated, GwInfo, Message, Publish, Register, Str, Subscribe, TopicFilter,
    TopicName, TopicRef, Unsubscribe, WillTopic,
};
use mqtt_sn_codec::Message as BMessage;
use mqtt_sn_codec::{
    decode, Advertise, Ctrl, Decoded, Decoder, Delivery, MsgId, PubAck, QoS, RegAck, ReturnCode,
    SearchGw, ShortTopic, SubAck, TopicId,
};

const VECTORS: &str = include_str!("../vectors/mqtt-sn/messages.hex");

// ---------------------------------------------------------------------------------------
// The vector file
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Vector {
    name: String,
    line: usize,
    bytes: Vec<u8>,
}

impl Vector {
    /// The message type part of the name: what comes before the first '.'.
    fn type_name(&self) -> &str {
        self.name.split('.').next().unwrap_or_default()
    }
}

fn parse_hex(s: &str) -> Option<Vec<u8>> {
    if !s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    s.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [hi, lo] => u8::from_str_radix(std::str::from_utf8(&[*hi, *lo]).ok()?, 16).ok(),
            _ => None,
        })
        .collect()
}

fn vectors() -> Vec<Vector> {
    let mut out: Vec<Vector> = Vec::new();
    for (i, line) in VECTORS.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [name, hex] = fields[..] else {
            panic!("line {}: expected `NAME HEX`, got {line:?}", i + 1)
        };
        let bytes = parse_hex(hex)
            .unwrap_or_else(|| panic!("line {}: {hex:?} is not lowercase hex", i + 1));
        assert!(
            out.iter().all(|v| v.name != name),
            "line {}: {name} appears twice",
            i + 1
        );
        out.push(Vector {
            name: name.to_owned(),
            line: i + 1,
            bytes,
        });
    }
    out
}

// ---------------------------------------------------------------------------------------
// The typed message of every vector
// ---------------------------------------------------------------------------------------

fn mid(v: u16) -> MsgId {
    MsgId::new(v).unwrap()
}

fn s(v: &'static str) -> Str {
    Str::new(v).unwrap()
}

fn tn(v: &'static str) -> TopicName {
    TopicName::new(v).unwrap()
}

fn tf(v: &'static str) -> TopicFilter {
    TopicFilter::new(v).unwrap()
}

fn short(v: &str) -> ShortTopic {
    ShortTopic::new(v).unwrap()
}

fn publish(
    dup: bool,
    retain: bool,
    delivery: Delivery,
    topic: TopicRef,
    payload: impl Into<Vec<u8>>,
) -> Message {
    Message::Publish(Publish {
        dup,
        retain,
        delivery,
        topic,
        payload: payload.into().into(),
    })
}

fn subscribe(dup: bool, qos: QoS, msg_id: u16, topic: TopicRef) -> Message {
    Message::Subscribe(Subscribe {
        dup,
        qos,
        msg_id: mid(msg_id),
        topic,
    })
}

fn sub_ack(qos: QoS, topic_id: u16, msg_id: u16, code: ReturnCode) -> Message {
    Message::SubAck(SubAck {
        qos,
        topic_id: TopicId(topic_id),
        msg_id: mid(msg_id),
        code,
    })
}

fn unsubscribe(msg_id: u16, topic: TopicRef) -> Message {
    Message::Unsubscribe(Unsubscribe {
        msg_id: mid(msg_id),
        topic,
    })
}

fn register(topic_id: u16, msg_id: u16, topic: &'static str) -> Message {
    Message::Register(Register {
        topic_id: TopicId(topic_id),
        msg_id: mid(msg_id),
        topic: tn(topic),
    })
}

fn will_topic(qos: QoS, retain: bool, topic: &'static str) -> Option<WillTopic> {
    Some(WillTopic {
        qos,
        retain,
        topic: tn(topic),
    })
}

fn encapsulated(ctrl: u8, node_id: &[u8], message: Message) -> Message {
    Message::Encapsulated(Encapsulated {
        ctrl: Ctrl(ctrl),
        node_id: node_id.to_vec().into(),
        message: Box::new(message),
    })
}

/// Every vector's name and the message it must decode to, built from the field values the
/// comments of the vector file give.
fn expected() -> Vec<(&'static str, Message)> {
    use mqtt_sn_codec::generic::TopicRef::{Name, Predefined, Registered, Short};
    use Delivery::{AtLeastOnce, AtMostOnce, ExactlyOnce, MinusOne};
    use QoS::{AtLeastOnce as Q1, AtMostOnce as Q0, ExactlyOnce as Q2};
    use ReturnCode::{Accepted, Congestion, InvalidTopicId, NotSupported};
    let qos1_registered = publish(
        false,
        false,
        AtLeastOnce(mid(7)),
        Registered(TopicId(1)),
        "21.5",
    );
    vec![
        (
            "ADVERTISE.gw42-15min",
            Message::Advertise(Advertise {
                gw_id: 42,
                duration: 900,
            }),
        ),
        (
            "SEARCHGW.radius1",
            Message::SearchGw(SearchGw { radius: 1 }),
        ),
        (
            "GWINFO.from-gateway",
            Message::GwInfo(GwInfo {
                gw_id: 7,
                gw_add: Vec::new().into(),
            }),
        ),
        (
            "GWINFO.from-client",
            Message::GwInfo(GwInfo {
                gw_id: 7,
                gw_add: vec![192, 168, 1, 10].into(),
            }),
        ),
        (
            "CONNECT.will-clean",
            Message::Connect(Connect {
                will: true,
                clean_session: true,
                duration: 60,
                client_id: s("sensor-1"),
            }),
        ),
        (
            "CONNECT.plain-23-chars",
            Message::Connect(Connect {
                will: false,
                clean_session: false,
                duration: 0,
                client_id: s("abcdefghijklmnopqrstuvw"),
            }),
        ),
        ("CONNACK.accepted", Message::ConnAck(Accepted)),
        ("CONNACK.congestion", Message::ConnAck(Congestion)),
        ("WILLTOPICREQ.plain", Message::WillTopicReq),
        (
            "WILLTOPIC.qos1-retain",
            Message::WillTopic(will_topic(Q1, true, "dev/1/status")),
        ),
        ("WILLTOPIC.empty", Message::WillTopic(None)),
        ("WILLMSGREQ.plain", Message::WillMsgReq),
        (
            "WILLMSG.offline",
            Message::WillMsg(b"offline".to_vec().into()),
        ),
        ("REGISTER.from-client", register(0, 1, "sensors/temp")),
        ("REGISTER.from-gateway", register(5, 0x1234, "a/b")),
        ("REGISTER.utf8-topic", register(0, 9, "température/温度")),
        (
            "REGACK.accepted",
            Message::RegAck(RegAck {
                topic_id: TopicId(5),
                msg_id: mid(1),
                code: Accepted,
            }),
        ),
        (
            "REGACK.invalid-topic-id",
            Message::RegAck(RegAck {
                topic_id: TopicId::NONE,
                msg_id: mid(2),
                code: InvalidTopicId,
            }),
        ),
        (
            "PUBLISH.qos0-short",
            publish(false, false, AtMostOnce, Short(short("ab")), "hello"),
        ),
        (
            "PUBLISH.qos0-empty",
            publish(false, false, AtMostOnce, Registered(TopicId(1)), ""),
        ),
        ("PUBLISH.qos1-registered", qos1_registered.clone()),
        (
            "PUBLISH.qos2-predefined",
            publish(
                false,
                false,
                ExactlyOnce(mid(0xabcd)),
                Predefined(TopicId(0x10)),
                [1, 2, 3],
            ),
        ),
        (
            "PUBLISH.qosm1-predefined",
            publish(false, false, MinusOne, Predefined(TopicId(3)), "on"),
        ),
        (
            "PUBLISH.qosm1-short",
            publish(false, false, MinusOne, Short(short("zz")), "off"),
        ),
        (
            "PUBLISH.dup-retain",
            publish(
                true,
                true,
                AtLeastOnce(mid(0x0102)),
                Registered(TopicId(2)),
                "x",
            ),
        ),
        (
            "PUBLISH.long-1000",
            publish(
                false,
                false,
                AtMostOnce,
                Registered(TopicId(1)),
                "0123456789".repeat(100),
            ),
        ),
        (
            "PUBACK.accepted",
            Message::PubAck(PubAck {
                topic_id: TopicId(1),
                msg_id: Some(mid(7)),
                code: Accepted,
            }),
        ),
        (
            "PUBACK.invalid-topic-qos0",
            Message::PubAck(PubAck {
                topic_id: TopicId(9),
                msg_id: None,
                code: InvalidTopicId,
            }),
        ),
        ("PUBCOMP.abcd", Message::PubComp(mid(0xabcd))),
        ("PUBREC.abcd", Message::PubRec(mid(0xabcd))),
        ("PUBREL.abcd", Message::PubRel(mid(0xabcd))),
        (
            "SUBSCRIBE.wildcard-name",
            subscribe(false, Q1, 2, Name(tf("sensors/+/temp"))),
        ),
        (
            "SUBSCRIBE.multi-level",
            subscribe(false, Q0, 0xffff, Name(tf("a/#"))),
        ),
        (
            "SUBSCRIBE.predefined",
            subscribe(false, Q2, 3, Predefined(TopicId(0x10))),
        ),
        (
            "SUBSCRIBE.short-dup",
            subscribe(true, Q0, 4, Short(short("ab"))),
        ),
        ("SUBACK.wildcard-granted", sub_ack(Q1, 0, 2, Accepted)),
        ("SUBACK.registered-qos2", sub_ack(Q2, 0x21, 3, Accepted)),
        ("SUBACK.not-supported", sub_ack(Q0, 0, 4, NotSupported)),
        ("UNSUBSCRIBE.name", unsubscribe(5, Name(tf("sensors/#")))),
        (
            "UNSUBSCRIBE.predefined",
            unsubscribe(6, Predefined(TopicId(0x10))),
        ),
        ("UNSUBSCRIBE.short", unsubscribe(7, Short(short("ab")))),
        ("UNSUBACK.5", Message::UnsubAck(mid(5))),
        ("PINGREQ.plain", Message::PingReq(None)),
        ("PINGREQ.client-id", Message::PingReq(Some(s("sensor-1")))),
        ("PINGRESP.plain", Message::PingResp),
        ("DISCONNECT.plain", Message::Disconnect(None)),
        ("DISCONNECT.sleep-1h", Message::Disconnect(Some(3600))),
        (
            "WILLTOPICUPD.qos2",
            Message::WillTopicUpd(will_topic(Q2, false, "dev/1/will")),
        ),
        ("WILLTOPICUPD.empty", Message::WillTopicUpd(None)),
        ("WILLTOPICRESP.accepted", Message::WillTopicResp(Accepted)),
        (
            "WILLMSGUPD.gone",
            Message::WillMsgUpd(b"gone".to_vec().into()),
        ),
        ("WILLMSGRESP.accepted", Message::WillMsgResp(Accepted)),
        (
            "WILLMSGRESP.not-supported",
            Message::WillMsgResp(NotSupported),
        ),
        (
            "ENCAPSULATED.publish",
            encapsulated(1, &[0x12, 0x34], qos1_registered),
        ),
        (
            "ENCAPSULATED.searchgw",
            encapsulated(
                3,
                &[0x0a, 0x0b, 0x0c, 0x0d],
                Message::SearchGw(SearchGw { radius: 2 }),
            ),
        ),
        (
            "ENCAPSULATED.eui64-connack",
            encapsulated(
                0,
                &[0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77],
                Message::ConnAck(Accepted),
            ),
        ),
    ]
}

/// The vectors with their typed messages, after checking that the names agree both ways.
fn cases() -> Vec<(Vector, Message)> {
    let vs = vectors();
    let table = expected();
    let file_names: BTreeSet<&str> = vs.iter().map(|v| v.name.as_str()).collect();
    let table_names: BTreeSet<&str> = table.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        table_names.len(),
        table.len(),
        "a name appears twice in the table"
    );
    let only_file: Vec<_> = file_names.difference(&table_names).collect();
    let only_table: Vec<_> = table_names.difference(&file_names).collect();
    assert!(
        only_file.is_empty() && only_table.is_empty(),
        "vectors without a typed message: {only_file:?}; typed messages without a vector: \
         {only_table:?}"
    );
    vs.into_iter()
        .map(|v| {
            let m = table
                .iter()
                .find(|(n, _)| *n == v.name)
                .map(|(_, m)| m.clone())
                .unwrap();
            (v, m)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Codec checks
// ---------------------------------------------------------------------------------------

#[test]
fn vectors_decode_to_their_typed_messages_and_encode_back() {
    let mut failures = Vec::new();
    for (v, want) in cases() {
        let label = format!("{} (line {})", v.name, v.line);
        let got = match decode(&v.bytes) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{label}: decode failed: {e:?}"));
                continue;
            }
        };
        if got.msg_type().name() != v.type_name() {
            failures.push(format!(
                "{label}: decodes as a {} message",
                got.msg_type().name()
            ));
        }
        if got != want {
            failures.push(format!(
                "{label}: decodes as\n    {got:?}\n  expected\n    {want:?}"
            ));
        }
        if got.to_shared() != got {
            failures.push(format!("{label}: the shared form differs"));
        }
        let frozen = mqtt_codec::Bytes::from(v.bytes.clone());
        if Decoder::new().decode_bytes(&frozen).as_ref() != Ok(&want) {
            failures.push(format!("{label}: the shared decoder disagrees"));
        }
        if got.encoded_len() != v.bytes.len() {
            failures.push(format!(
                "{label}: encoded_len {} for {} octets",
                got.encoded_len(),
                v.bytes.len()
            ));
        }
        let mut out = Vec::new();
        match got.encode(&mut out) {
            Ok(n) if n == v.bytes.len() && out == v.bytes => {}
            other => failures.push(format!(
                "{label}: re-encoding gives {other:?}, {out:02x?}, not {:02x?}",
                v.bytes
            )),
        }
        // The typed message built by hand encodes to the vector too.
        let mut out = Vec::new();
        if want.encode(&mut out).is_err() || out != v.bytes {
            failures.push(format!("{label}: the typed message encodes to {out:02x?}"));
        }
        // As the start of a byte stream: the same message, every octet consumed.
        match Decoder::new().decode_stream(&v.bytes) {
            Ok(Decoded::Complete(m, n)) if n == v.bytes.len() && m == want => {}
            other => failures.push(format!("{label}: decode_stream gives {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_message_type_has_a_vector() {
    let vs = vectors();
    let types = msg_types();
    let names: Vec<&str> = types.iter().map(|t| t.name()).collect();
    for v in &vs {
        assert!(
            names.contains(&v.type_name()),
            "{} (line {}): {} is not a message type",
            v.name,
            v.line,
            v.type_name()
        );
    }
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !vs.iter().any(|v| v.type_name() == *n))
        .collect();
    assert!(missing.is_empty(), "no vector for {missing:?}");
    // The codes: 0x00–0x1D without the reserved 0x03, 0x11, 0x19, and 0xFE (§5.2.2).
    assert_eq!(types.len(), 28);
}

#[test]
fn vectors_back_to_back_decode_as_a_stream() {
    let cases = cases();
    let stream: Vec<u8> = cases.iter().flat_map(|(v, _)| v.bytes.clone()).collect();
    let d = Decoder::new();
    let mut at = 0;
    for (v, want) in &cases {
        match d.decode_stream(&stream[at..]) {
            Ok(Decoded::Complete(m, n)) => {
                assert_eq!(&m, want, "{}", v.name);
                assert_eq!(n, v.bytes.len(), "{}", v.name);
                at += n;
            }
            other => panic!("{} at offset {at}: {other:?}", v.name),
        }
    }
    assert_eq!(at, stream.len());
}

/// The canonical Length form: the 3-octet form exactly when the message is longer than
/// 255 octets (and for an Encapsulated message the same rule for each of its two headers).
#[test]
fn vectors_use_the_short_length_form_when_it_fits() {
    for (v, m) in cases() {
        let long = v.bytes[0] == 0x01;
        match &m {
            Message::Encapsulated(e) => {
                assert!(!long, "{}", v.name);
                let header = usize::from(v.bytes[0]);
                assert_eq!(header, 3 + e.node_id.len(), "{}", v.name);
                let inner = &v.bytes[header..];
                assert_eq!(inner[0] == 0x01, inner.len() > 255, "{}", v.name);
                assert_eq!(encode_vec(&e.message), inner, "{}", v.name);
            }
            _ => assert_eq!(long, v.bytes.len() > 255, "{}", v.name),
        }
    }
    let long = vectors()
        .into_iter()
        .find(|v| v.name == "PUBLISH.long-1000")
        .unwrap();
    assert_eq!(long.bytes[..4], [0x01, 0x03, 0xf1, 0x0c]);
    assert_eq!(long.bytes.len(), 1009);
}

// ---------------------------------------------------------------------------------------
// tshark
// ---------------------------------------------------------------------------------------

/// Dissects `datagrams` (one UDP frame each, to port 10883 read as MQTT-SN) with one
/// text2pcap and one tshark run; returns the frames of tshark's JSON.
fn dissect(datagrams: &[&[u8]]) -> Vec<Json> {
    tshark::dissect(
        datagrams,
        &["-u", "40000,10883"],
        &["-d", "udp.port==10883,mqttsn", "--no-duplicate-keys"],
        "sn-vectors",
    )
}

/// How tshark 4.0.17 shows a string or data field: ASCII as it is, every other octet as
/// U+FFFD.
fn ascii_view(b: &[u8]) -> String {
    b.iter()
        .map(|&c| if c < 0x80 { c as char } else { '\u{fffd}' })
        .collect()
}

fn hex8(v: u8) -> String {
    format!("0x{v:02x}")
}

fn flag(on: bool) -> String {
    u8::from(on).to_string()
}

/// The QoS bits of a Flags octet (§5.3.4).
fn qos_bits(q: QoS) -> u8 {
    match q {
        QoS::AtMostOnce => 0,
        QoS::AtLeastOnce => 1,
        QoS::ExactlyOnce => 2,
        QoS::MinusOne => 3,
    }
}

/// The TopicIdType bits of a Flags octet (§5.3.4).
fn topic_id_type(t: &mqtt_sn_codec::TopicRef<'_>) -> u8 {
    match t {
        mqtt_sn_codec::TopicRef::Registered(_) | mqtt_sn_codec::TopicRef::Name(_) => 0,
        mqtt_sn_codec::TopicRef::Predefined(_) => 1,
        mqtt_sn_codec::TopicRef::Short(_) => 2,
    }
}

/// The Topic Id field as a number: the id, or the two octets of a short topic name.
fn topic_id_field(t: &mqtt_sn_codec::TopicRef<'_>) -> u16 {
    match t {
        mqtt_sn_codec::TopicRef::Registered(id) | mqtt_sn_codec::TopicRef::Predefined(id) => id.0,
        mqtt_sn_codec::TopicRef::Short(s) => u16::from_be_bytes(s.octets()),
        mqtt_sn_codec::TopicRef::Name(_) => panic!("a topic name has no Topic Id field"),
    }
}

/// The expert infos a dissector limit produces for `m` (see the header comment), by prefix.
fn known_expert(m: &BMessage<'_>) -> Vec<&'static str> {
    match m {
        BMessage::WillTopic(None) | BMessage::WillTopicUpd(None) => {
            vec![
                "Malformed Packet (Exception occurred)",
                "[Malformed Packet]",
            ]
        }
        BMessage::Subscribe(mqtt_sn_codec::generic::Subscribe {
            topic: mqtt_sn_codec::TopicRef::Predefined(_),
            ..
        })
        | BMessage::Unsubscribe(mqtt_sn_codec::generic::Unsubscribe {
            topic: mqtt_sn_codec::TopicRef::Predefined(_),
            ..
        }) => vec!["Trailing stray characters"],
        BMessage::Encapsulated(e) if e.node_id.len() > 4 => vec![
            "Trying to fetch an unsigned integer with length",
            "Malformed Packet (Exception occurred)",
            "[Malformed Packet]",
        ],
        BMessage::Encapsulated(e) => known_expert(&e.message),
        _ => Vec::new(),
    }
}

/// The fields the dissector shows for `m` (whose datagram is `wire`), with their values,
/// but for the nested message of an Encapsulated message.
fn expected_fields(m: &BMessage<'_>, wire: &[u8]) -> Vec<(&'static str, String)> {
    let declared = match wire {
        [1, hi, lo, ..] => usize::from(u16::from_be_bytes([*hi, *lo])),
        [n, ..] => usize::from(*n),
        [] => 0,
    };
    let mut f = vec![
        ("mqttsn.msg.type", hex8(m.msg_type().code())),
        ("mqttsn.msg.len", declared.to_string()),
    ];
    let code = |c: &ReturnCode| hex8(u8::from(*c));
    match m {
        BMessage::Advertise(a) => {
            f.push(("mqttsn.gw.id", a.gw_id.to_string()));
            f.push(("mqttsn.adv.interv", a.duration.to_string()));
        }
        BMessage::SearchGw(sg) => f.push(("mqttsn.radius", sg.radius.to_string())),
        BMessage::GwInfo(g) => {
            f.push(("mqttsn.gw.id", g.gw_id.to_string()));
            if !g.gw_add.is_empty() {
                f.push(("mqttsn.gw.addr", ascii_view(g.gw_add.as_bytes())));
            }
        }
        BMessage::Connect(c) => {
            f.push(("mqttsn.will", flag(c.will)));
            f.push(("mqttsn.clean.session", flag(c.clean_session)));
            f.push(("mqttsn.topic.id.type", hex8(0)));
            f.push(("mqttsn.protocol.id", hex8(0x01)));
            f.push(("mqttsn.keep.alive", c.duration.to_string()));
            f.push((
                "mqttsn.client.id",
                ascii_view(c.client_id.as_str().as_bytes()),
            ));
        }
        BMessage::ConnAck(c) | BMessage::WillTopicResp(c) | BMessage::WillMsgResp(c) => {
            f.push(("mqttsn.return.code", code(c)));
        }
        BMessage::WillTopicReq | BMessage::WillMsgReq | BMessage::PingResp => {}
        BMessage::WillTopic(w) | BMessage::WillTopicUpd(w) => {
            if let Some(w) = w {
                // Only TopicIdType of the Flags octet is shown (0b00 here).
                f.push(("mqttsn.topic.id.type", hex8(0)));
                f.push(("mqttsn.will.topic", ascii_view(w.topic.as_str().as_bytes())));
            }
        }
        BMessage::WillMsg(p) | BMessage::WillMsgUpd(p) => {
            f.push(("mqttsn.will.msg", ascii_view(p.as_bytes())));
        }
        BMessage::Register(r) => {
            f.push(("mqttsn.topic.id", r.topic_id.0.to_string()));
            f.push(("mqttsn.msg.id", r.msg_id.get().to_string()));
            f.push(("mqttsn.topic", ascii_view(r.topic.as_str().as_bytes())));
        }
        BMessage::RegAck(r) => {
            f.push(("mqttsn.topic.id", r.topic_id.0.to_string()));
            f.push(("mqttsn.msg.id", r.msg_id.get().to_string()));
            f.push(("mqttsn.return.code", code(&r.code)));
        }
        BMessage::Publish(p) => {
            f.push(("mqttsn.dup", flag(p.dup)));
            f.push(("mqttsn.qos", hex8(qos_bits(p.delivery.qos()))));
            f.push(("mqttsn.retain", flag(p.retain)));
            f.push(("mqttsn.topic.id.type", hex8(topic_id_type(&p.topic))));
            f.push(("mqttsn.topic.id", topic_id_field(&p.topic).to_string()));
            let id = p.delivery.msg_id().map_or(0, MsgId::get);
            f.push(("mqttsn.msg.id", id.to_string()));
            f.push(("mqttsn.pub.msg", ascii_view(p.payload.as_bytes())));
        }
        BMessage::PubAck(p) => {
            f.push(("mqttsn.topic.id", p.topic_id.0.to_string()));
            let id = p.msg_id.map_or(0, MsgId::get);
            f.push(("mqttsn.msg.id", id.to_string()));
            f.push(("mqttsn.return.code", code(&p.code)));
        }
        BMessage::PubComp(id)
        | BMessage::PubRec(id)
        | BMessage::PubRel(id)
        | BMessage::UnsubAck(id) => {
            f.push(("mqttsn.msg.id", id.get().to_string()));
        }
        BMessage::Subscribe(mqtt_sn_codec::generic::Subscribe { msg_id, topic, .. })
        | BMessage::Unsubscribe(mqtt_sn_codec::generic::Unsubscribe { msg_id, topic }) => {
            // DUP and QoS of SUBSCRIBE are not shown.
            f.push(("mqttsn.topic.id.type", hex8(topic_id_type(topic))));
            f.push(("mqttsn.msg.id", msg_id.get().to_string()));
            let shown = match topic {
                mqtt_sn_codec::TopicRef::Name(n) => ascii_view(n.as_str().as_bytes()),
                mqtt_sn_codec::TopicRef::Short(s) => ascii_view(&s.octets()),
                // Read as an empty name: a dissector limit.
                mqtt_sn_codec::TopicRef::Predefined(_) => String::new(),
                mqtt_sn_codec::TopicRef::Registered(_) => panic!("not carried by (UN)SUBSCRIBE"),
            };
            f.push(("mqttsn.topic.name.or.id", shown));
        }
        BMessage::SubAck(sa) => {
            // The granted QoS is not shown; TopicIdType bits are 0b00.
            f.push(("mqttsn.topic.id.type", hex8(0)));
            f.push(("mqttsn.topic.id", sa.topic_id.0.to_string()));
            f.push(("mqttsn.msg.id", sa.msg_id.get().to_string()));
            f.push(("mqttsn.return.code", code(&sa.code)));
        }
        BMessage::PingReq(id) => {
            if let Some(id) = id {
                f.push(("mqttsn.client.id", ascii_view(id.as_str().as_bytes())));
            }
        }
        BMessage::Disconnect(d) => {
            if let Some(d) = d {
                f.push(("mqttsn.sleep.timer", d.to_string()));
            }
        }
        BMessage::Encapsulated(e) => {
            f.push(("mqttsn.control.info", hex8(e.ctrl.0)));
            if e.node_id.len() <= 4 {
                let n = e
                    .node_id
                    .as_bytes()
                    .iter()
                    .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
                f.push(("mqttsn.wireless.node.id", n.to_string()));
            }
        }
    }
    f
}

/// Compares one `mqttsn.msg` object with `m`; recurses into the message an Encapsulated
/// message carries.
fn check_msg(obj: &Json, m: &BMessage<'_>, wire: &[u8], label: &str, errs: &mut Vec<String>) {
    let want = expected_fields(m, wire);
    let limited_node_id = matches!(m, BMessage::Encapsulated(e) if e.node_id.len() > 4);
    for (key, value) in &want {
        match obj.get(key).and_then(Json::text) {
            Some(got) if got == value => {}
            got => errs.push(format!("{label}: {key} is {got:?}, expected {value:?}")),
        }
    }
    // Nothing shown that the message does not have.
    if let Json::Obj(kv) = obj {
        for (key, _) in kv {
            let known = want.iter().any(|(k, _)| k == key);
            let skip = !key.starts_with("mqttsn.")
                || key.ends_with("_tree")
                || key == "mqttsn.msg"
                || (limited_node_id && key == "mqttsn.wireless.node.id");
            if !known && !skip {
                errs.push(format!("{label}: unexpected field {key}"));
            }
        }
    }
    match m {
        // The nested message is read from the wrong offset: a dissector limit.
        BMessage::Encapsulated(_) if limited_node_id => {}
        BMessage::Encapsulated(e) => {
            let header = usize::from(wire[0]);
            match obj.get("mqttsn.msg") {
                Some(inner) => check_msg(
                    inner,
                    &e.message,
                    &wire[header..],
                    &format!("{label} (encapsulated)"),
                    errs,
                ),
                None => errs.push(format!("{label}: no encapsulated message shown")),
            }
        }
        _ => {
            if obj.get("mqttsn.msg").is_some() {
                errs.push(format!("{label}: a nested message is shown"));
            }
        }
    }
}

#[test]
fn tshark_reads_every_vector_like_the_specification() {
    if !tshark::tools_available("the tshark MQTT-SN dissector check") {
        return;
    }
    let cases = cases();
    let datagrams: Vec<&[u8]> = cases.iter().map(|(v, _)| v.bytes.as_slice()).collect();
    let frames = dissect(&datagrams);
    assert_eq!(frames.len(), cases.len(), "one frame per vector");
    let dump = std::env::var("MQTT_TSHARK_DUMP").as_deref() == Ok("1");
    let mut errs = Vec::new();
    for ((v, m), frame) in cases.iter().zip(&frames) {
        let label = v.name.as_str();
        let Some(layers) = frame.get("_source").and_then(|s| s.get("layers")) else {
            errs.push(format!("{label}: frame without layers"));
            continue;
        };
        if dump {
            eprintln!("{label}: {:?}", layers.get("mqttsn"));
        }
        let mut expert = BTreeSet::new();
        if let Some(x) = layers.get("mqttsn") {
            tshark::expert_infos(x, &mut expert);
        }
        if let Some(x) = layers.get("_ws.malformed") {
            tshark::expert_infos(x, &mut expert);
        }
        let allowed = known_expert(&m.view());
        for e in &expert {
            if !allowed.iter().any(|a| e.starts_with(a)) {
                errs.push(format!("{label}: expert info {e:?}"));
            }
        }
        match layers.get("mqttsn").and_then(|l| l.get("mqttsn.msg")) {
            Some(obj) => check_msg(obj, &m.view(), &v.bytes, label, &mut errs),
            None => errs.push(format!("{label}: the dissector shows no MQTT-SN message")),
        }
    }
    assert!(
        errs.is_empty(),
        "{} disagreements with tshark:\n{}",
        errs.len(),
        errs.join("\n")
    );
}
