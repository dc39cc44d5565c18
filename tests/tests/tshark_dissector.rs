//! Our encoder's bytes as an independent reader sees them: Wireshark's MQTT dissector.
//!
//! A representative set of packets (every packet type at MQTT 3.1.1 and 5.0, CONNECT and the
//! other 3.x packets at 3.1; 5.0 packets with properties of every kind, user properties,
//! reason codes, will properties and subscription options) is built with the crate's API and
//! encoded. All packets of one level go into one pcap, one frame each, made with `text2pcap`
//! as `../shared/tools/tshark-decode.sh` does, and `tshark -T json` reads each pcap once.
//! For every frame: no `[Malformed Packet]` and no expert info in the MQTT layer, and the
//! dissector's fields agree with the packet we built (type and flags, remaining length,
//! QoS / retain / DUP, topic, packet identifier, payload, client identifier, user name,
//! password, keep alive, protocol name and level, return and reason codes, subscriptions and
//! their options, and every 5.0 property with its value).
//!
//! Two more tests run a whole session through the client and server machines (3.1.1 and
//! 5.0: a Will, QoS 0 to 2 both ways, topic aliases, keep-alive pings, a resend with DUP on a
//! resumed session) and check every packet they wrote the same way.
//!
//! Without `tshark` or `text2pcap` the tests are reported as skipped, by name, unless `CI`
//! or `MQTT_REQUIRE_TSHARK=1` is set (then they fail, naming the install command).
//! `MQTT_TSHARK_DUMP=1` prints every frame's fields.
//!
//! Dissector limits (tshark 4.0.17) that the assertions work around, the specification
//! winning where the two disagree:
//! - Binary Data properties (Correlation Data, Authentication Data) and the CONNECT Password
//!   are shown as UTF-8 strings (`mqtt.prop_string`, `mqtt.passwd`), so the cases use ASCII
//!   values for them and the checks compare the bytes of those strings.
//! - Properties are listed flat in one object per block, in wire order; a property is the
//!   run of fields from one `mqtt.property_id` to the next. Our encoder's property order is
//!   its own choice (MQTT 5.0 §2.2.2 fixes none), so blocks are compared after a stable sort
//!   by identifier, which keeps the order of User Properties and Subscription Identifiers.
//! - A Property Length of two or more bytes is shown as its raw bytes read big-endian
//!   (128, `80 01`, shows as 32769) although the properties after it are read right; the
//!   check accepts that rendering of the right value.
//! - An empty PUBLISH topic with a Topic Alias is shown as the topic an earlier frame of the
//!   conversation bound to the alias; only `mqtt.topic_len` (0) is checked there.
//! - At MQTT 3.1 the dissector shows the SUBSCRIBE fixed-header flags as DUP / QoS / retain
//!   fields (3.1 gives them that meaning); only `mqtt.hdrflags` is checked for them.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::borrow::Cow;
use std::num::{NonZeroU16, NonZeroU32};
use std::path::{Path, PathBuf};
use std::process::Command;

use mqtt_codec::{
    AckProperties, Auth, AuthProperties, AuthReason, Bin, ConnAck, ConnAckProperties, Connect,
    ConnectProperties, ConnectReason, Delivery, Disconnect, DisconnectProperties, DisconnectReason,
    MaximumQos, Packet, PacketId, PayloadFormat, Properties, Property, Protocol, PubAck,
    PubAckReason, PubComp, PubCompReason, PubRec, PubRecReason, PubRel, PubRelReason, Publish,
    PublishProperties, QoS, RetainHandling, Str, SubAck, SubAckReason, Subscribe,
    SubscribeProperties, Subscription, SubscriptionId, SubscriptionOptions, TopicFilter, TopicName,
    UnsubAck, UnsubAckReason, Unsubscribe, UnsubscribeProperties, Will, WillProperties,
};
use mqtt_integration_tests::tshark::{self, parse_json, Json};

// ---------------------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------------------

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn version_pref(level: Protocol) -> &'static str {
    match level {
        Protocol::V3_1 => "mqtt.default_version:MQTT v3.1",
        Protocol::V3_1_1 => "mqtt.default_version:MQTT v3.1.1",
        Protocol::V5 => "mqtt.default_version:MQTT v5.0",
    }
}

/// Dissects `packets` (one frame each) at `level` with one text2pcap and one tshark run;
/// returns the frames of tshark's JSON.
fn dissect(packets: &[Vec<u8>], level: Protocol, tag: &str) -> Vec<Json> {
    tshark::dissect(
        packets,
        &["-T", "40000,1883"],
        &[
            "-o",
            version_pref(level),
            "-o",
            "tcp.desegment_tcp_streams:FALSE",
        ],
        tag,
    )
}

// ---------------------------------------------------------------------------------------
// A small JSON reader that keeps duplicate keys in order (tshark writes one key per field
// occurrence, e.g. one `mqtt.property_id` per property).
// ---------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------
// What the dissector says about one frame.
// ---------------------------------------------------------------------------------------

/// One property as the dissector shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Val {
    Num(u64),
    Str(String),
    Pair(String, String),
    /// Fields we did not expect: (key, value) list.
    Other(Vec<(String, String)>),
}

/// A property block as the dissector shows it: its Property Length and its properties.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Block {
    len: Option<u64>,
    props: Vec<(u8, Val)>,
}

/// The MQTT layer of one frame, flattened: every (field, value) in document order, property
/// blocks kept apart.
#[derive(Debug, Default)]
struct Dissected {
    fields: Vec<(String, String)>,
    blocks: Vec<(String, Block)>,
    problems: Vec<String>,
}

impl Dissected {
    fn all(&self, key: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn block(&self, key: &str) -> Vec<&Block> {
        self.blocks
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, b)| b)
            .collect()
    }
}

fn flatten(j: &Json, out: &mut Dissected) {
    let Json::Obj(kv) = j else { return };
    for (k, v) in kv {
        if k == "_ws.malformed" {
            out.problems.push("[Malformed Packet]".into());
        }
        if k == "_ws.expert" {
            let m = v.get("_ws.expert.message").and_then(Json::as_text);
            out.problems
                .push(format!("expert: {}", m.unwrap_or_default()));
            continue;
        }
        if k == "_ws.expert.message" {
            out.problems
                .push(format!("expert: {}", v.as_text().unwrap_or_default()));
        }
        if k == "mqtt.properties" || k == "mqtt.will_properties" {
            out.blocks.push((k.clone(), read_block(v)));
            continue;
        }
        match v {
            Json::Obj(_) => flatten(v, out),
            Json::Arr(items) => {
                for it in items {
                    match it.as_text() {
                        Some(t) => out.fields.push((k.clone(), t)),
                        None => flatten(it, out),
                    }
                }
            }
            _ => {
                if let Some(t) = v.as_text() {
                    out.fields.push((k.clone(), t));
                }
            }
        }
    }
}

/// Collects the (key, text) pairs of an object, nested objects included, in order.
fn pairs(j: &Json, out: &mut Vec<(String, String)>) {
    if let Json::Obj(kv) = j {
        for (k, v) in kv {
            match v.as_text() {
                Some(t) => out.push((k.clone(), t)),
                None => pairs(v, out),
            }
        }
    }
}

fn read_block(j: &Json) -> Block {
    let mut kv = Vec::new();
    pairs(j, &mut kv);
    let mut block = Block {
        len: None,
        props: Vec::new(),
    };
    let mut current: Option<(u8, Vec<(String, String)>)> = None;
    let finish = |cur: Option<(u8, Vec<(String, String)>)>, block: &mut Block| {
        if let Some((id, fields)) = cur {
            block.props.push((id, property_value(fields)));
        }
    };
    for (k, v) in kv {
        match k.as_str() {
            "mqtt.property_len" if current.is_none() => block.len = v.parse().ok(),
            "mqtt.property_id" => {
                finish(current.take(), &mut block);
                let id = u8::from_str_radix(v.trim_start_matches("0x"), 16).unwrap_or(0xff);
                current = Some((id, Vec::new()));
            }
            _ => match &mut current {
                Some((_, fields)) => fields.push((k, v)),
                None => block.props.push((0, Val::Other(vec![(k, v)]))),
            },
        }
    }
    finish(current, &mut block);
    block
}

/// The value of one property from the fields that follow its `mqtt.property_id`; length
/// fields are dropped (the Property Length check covers lengths).
fn property_value(fields: Vec<(String, String)>) -> Val {
    let fields: Vec<(String, String)> = fields
        .into_iter()
        .filter(|(k, _)| !k.ends_with("_len"))
        .collect();
    let get = |key: &str| {
        fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let val = match fields.len() {
        1 => match fields[0].0.as_str() {
            "mqtt.prop_number" | "mqtt.property.topic_alias" | "mqtt.property.max_qos" => {
                fields[0].1.parse().ok().map(Val::Num)
            }
            "mqtt.prop_string" | "mqtt.property.content_type" => {
                Some(Val::Str(fields[0].1.clone()))
            }
            _ => None,
        },
        2 => match (get("mqtt.prop_key"), get("mqtt.prop_value")) {
            (Some(k), Some(v)) => Some(Val::Pair(k, v)),
            _ => None,
        },
        _ => None,
    };
    val.unwrap_or(Val::Other(fields))
}

fn dissected(frame: &Json) -> Result<Dissected, String> {
    let layers = frame
        .get("_source")
        .and_then(|s| s.get("layers"))
        .ok_or("frame without _source.layers")?;
    let mut d = Dissected::default();
    if layers.get("_ws.malformed").is_some() {
        d.problems.push("[Malformed Packet]".into());
    }
    match layers.get("mqtt") {
        Some(m @ Json::Obj(_)) => flatten(m, &mut d),
        Some(Json::Arr(v)) => return Err(format!("{} MQTT PDUs in one frame", v.len())),
        _ => return Err("tshark found no MQTT PDU in the frame".into()),
    }
    Ok(d)
}

// ---------------------------------------------------------------------------------------
// What the dissector should say, from the packet we built.
// ---------------------------------------------------------------------------------------

/// A property we put in the packet: identifier, value, and its size on the wire after the
/// identifier.
#[derive(Debug, Clone)]
struct Prop {
    id: u8,
    val: Val,
    wire: usize,
}

fn num(id: u8, v: impl Into<u64>, wire: usize) -> Prop {
    Prop {
        id,
        val: Val::Num(v.into()),
        wire,
    }
}

fn string(id: u8, s: &str) -> Prop {
    Prop {
        id,
        val: Val::Str(s.to_string()),
        wire: 2 + s.len(),
    }
}

/// Binary Data: the dissector shows it as a UTF-8 string (see the module comment).
fn binary(id: u8, b: &Bin<'_>) -> Prop {
    Prop {
        id,
        val: Val::Str(String::from_utf8_lossy(b.as_bytes()).into_owned()),
        wire: 2 + b.len(),
    }
}

fn varint_len(v: u32) -> usize {
    match v {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

fn varint_bytes(mut v: u32) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (v % 128) as u8;
        v /= 128;
        out.push(if v > 0 { byte | 0x80 } else { byte });
        if v == 0 {
            return out;
        }
    }
}

/// Our properties, typed, in the order we write them.
fn prop_list(it: Properties<'_>) -> Vec<Prop> {
    it.map(|p| {
        let id = p.id() as u8;
        match p {
            Property::PayloadFormatIndicator(v) => num(id, v as u8, 1),
            Property::MaximumQos(v) => num(id, v as u8, 1),
            Property::RequestProblemInformation(b)
            | Property::RequestResponseInformation(b)
            | Property::RetainAvailable(b)
            | Property::WildcardSubscriptionAvailable(b)
            | Property::SubscriptionIdentifierAvailable(b)
            | Property::SharedSubscriptionAvailable(b) => num(id, u8::from(b), 1),
            Property::ServerKeepAlive(v) | Property::TopicAliasMaximum(v) => num(id, v, 2),
            Property::ReceiveMaximum(v) | Property::TopicAlias(v) => num(id, v.get(), 2),
            Property::MessageExpiryInterval(v)
            | Property::SessionExpiryInterval(v)
            | Property::WillDelayInterval(v) => num(id, v, 4),
            Property::MaximumPacketSize(v) => num(id, v.get(), 4),
            Property::SubscriptionIdentifier(v) => num(id, v.get(), varint_len(v.get())),
            Property::ContentType(x)
            | Property::AssignedClientIdentifier(x)
            | Property::AuthenticationMethod(x)
            | Property::ResponseInformation(x)
            | Property::ServerReference(x)
            | Property::ReasonString(x) => string(id, x.as_str()),
            Property::ResponseTopic(t) => string(id, t.as_str()),
            Property::CorrelationData(b) | Property::AuthenticationData(b) => binary(id, &b),
            Property::UserProperty(k, v) => Prop {
                id,
                val: Val::Pair(k.to_string(), v.to_string()),
                wire: 4 + k.len() + v.len(),
            },
        }
    })
    .collect()
}

fn connect_props(p: &ConnectProperties<'_>) -> Vec<Prop> {
    prop_list(p.iter())
}

fn will_props(p: &WillProperties<'_>) -> Vec<Prop> {
    prop_list(p.iter())
}

fn connack_props(p: &ConnAckProperties<'_>) -> Vec<Prop> {
    prop_list(p.iter())
}

fn publish_props(p: &PublishProperties<'_>) -> Vec<Prop> {
    prop_list(p.iter())
}

fn ack_props(p: &AckProperties<'_>) -> Vec<Prop> {
    prop_list(p.iter())
}

fn subscribe_props(p: &SubscribeProperties<'_>) -> Vec<Prop> {
    prop_list(p.iter())
}

fn unsubscribe_props(p: &UnsubscribeProperties<'_>) -> Vec<Prop> {
    prop_list(p.iter())
}

fn disconnect_props(p: &DisconnectProperties<'_>) -> Vec<Prop> {
    prop_list(p.iter())
}

fn auth_props(p: &AuthProperties<'_>) -> Vec<Prop> {
    prop_list(p.iter())
}

/// Colon-separated hex, as tshark shows bytes.
fn colon_hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn bit(b: bool) -> String {
    u8::from(b).to_string()
}

/// The checks for one packet: fields with the values they must have (all occurrences, in
/// order; an empty list means the field must be absent), and property blocks.
#[derive(Default)]
struct Expect {
    fields: Vec<(&'static str, Vec<String>)>,
    /// (block field, properties): a block that must be there with exactly these.
    blocks: Vec<(&'static str, Vec<Prop>)>,
    /// Block fields that must be absent.
    no_blocks: Vec<&'static str>,
}

impl Expect {
    fn one(&mut self, key: &'static str, v: impl ToString) {
        self.fields.push((key, vec![v.to_string()]));
    }
    fn list(&mut self, key: &'static str, v: Vec<String>) {
        self.fields.push((key, v));
    }
    fn none(&mut self, key: &'static str) {
        self.fields.push((key, Vec::new()));
    }
    /// The packet's property block at `level`: at 5.0 it is there (possibly empty), at 3.x
    /// absent.
    fn props(&mut self, level: Protocol, key: &'static str, props: Vec<Prop>) {
        if level.is_v5() {
            self.blocks.push((key, props));
        } else {
            self.no_blocks.push(key);
        }
    }
    /// The optional tail of 5.0 acknowledgements, DISCONNECT and AUTH: the reason code is
    /// on the wire when it or properties are not the default, the block when properties are.
    fn tail(
        &mut self,
        level: Protocol,
        key: &'static str,
        code: u8,
        default: bool,
        props: Vec<Prop>,
    ) {
        if !level.is_v5() {
            self.none(key);
            self.no_blocks.push("mqtt.properties");
            return;
        }
        if default && props.is_empty() {
            self.none(key);
        } else {
            self.one(key, code);
        }
        if props.is_empty() {
            self.no_blocks.push("mqtt.properties");
        } else {
            self.blocks.push(("mqtt.properties", props));
        }
    }
}

fn expect(packet: &Packet<'_>, level: Protocol, wire: &[u8]) -> Expect {
    let mut e = Expect::default();
    let ty = packet.packet_type();
    e.one("mqtt.msgtype", ty as u8);
    e.one("mqtt.hdrflags", format!("0x{:02x}", wire[0]));
    // The fixed header: the first byte and the Remaining Length's 1 to 4 bytes.
    let header_len = 1 + wire[1..].iter().position(|b| b & 0x80 == 0).unwrap() + 1;
    e.one("mqtt.len", wire.len() - header_len);
    match packet {
        Packet::Connect(c) => {
            let p = c.protocol;
            e.one("mqtt.protoname", p.name());
            e.one("mqtt.ver", p.level());
            let mut flags = 0u8;
            if c.clean_start {
                flags |= 0x02;
            }
            if let Some(w) = &c.will {
                flags |= 0x04 | ((w.qos as u8) << 3) | (u8::from(w.retain) << 5);
            }
            if c.password.is_some() {
                flags |= 0x40;
            }
            if c.username.is_some() {
                flags |= 0x80;
            }
            e.one("mqtt.conflags", format!("0x{flags:02x}"));
            e.one("mqtt.conflag.cleansess", bit(c.clean_start));
            e.one("mqtt.conflag.willflag", bit(c.will.is_some()));
            e.one(
                "mqtt.conflag.qos",
                c.will.as_ref().map_or(0, |w| w.qos as u8),
            );
            e.one(
                "mqtt.conflag.retain",
                bit(c.will.as_ref().is_some_and(|w| w.retain)),
            );
            e.one("mqtt.conflag.uname", bit(c.username.is_some()));
            e.one("mqtt.conflag.passwd", bit(c.password.is_some()));
            e.one("mqtt.conflag.reserved", 0);
            e.one("mqtt.kalive", c.keep_alive);
            e.one("mqtt.clientid_len", c.client_id.len());
            e.one("mqtt.clientid", c.client_id);
            e.props(p, "mqtt.properties", connect_props(&c.properties));
            match &c.will {
                Some(w) => {
                    e.one("mqtt.willtopic", w.topic.as_str());
                    e.one("mqtt.willtopic_len", w.topic.len());
                    e.one("mqtt.willmsg", colon_hex(w.payload.as_bytes()));
                    e.one("mqtt.willmsg_len", w.payload.len());
                    e.props(p, "mqtt.will_properties", will_props(&w.properties));
                }
                None => {
                    e.none("mqtt.willtopic");
                    e.none("mqtt.willmsg");
                    e.no_blocks.push("mqtt.will_properties");
                }
            }
            match &c.username {
                Some(u) => e.one("mqtt.username", u),
                None => e.none("mqtt.username"),
            }
            match &c.password {
                // Binary Data, shown by the dissector as a string.
                Some(pw) => {
                    e.one("mqtt.passwd", String::from_utf8_lossy(pw.as_bytes()));
                    e.one("mqtt.passwd_len", pw.len());
                }
                None => e.none("mqtt.passwd"),
            }
        }
        Packet::ConnAck(c) => {
            match level {
                Protocol::V3_1 => {
                    e.none("mqtt.conack.flags.sp");
                    e.one("mqtt.conack.val", c.reason.v3_code().unwrap());
                }
                Protocol::V3_1_1 => {
                    e.one("mqtt.conack.flags.sp", bit(c.session_present));
                    e.one("mqtt.conack.val", c.reason.v3_code().unwrap());
                }
                Protocol::V5 => {
                    e.one("mqtt.conack.flags.sp", bit(c.session_present));
                    e.one("mqtt.connack.reason_code", c.reason.code());
                    e.none("mqtt.conack.val");
                }
            }
            e.props(level, "mqtt.properties", connack_props(&c.properties));
        }
        Packet::Publish(p) => {
            e.one("mqtt.qos", p.qos() as u8);
            e.one("mqtt.retain", bit(p.retain));
            e.one("mqtt.dupflag", bit(p.delivery.dup()));
            e.one("mqtt.topic_len", p.topic.len());
            // An empty topic with a Topic Alias: the dissector shows the topic an earlier
            // PUBLISH of the conversation bound to the alias, so `mqtt.topic` is not ours.
            if !p.topic.is_empty() {
                e.one("mqtt.topic", p.topic.as_str());
            }
            match p.packet_id() {
                Some(id) => e.one("mqtt.msgid", id),
                None => e.none("mqtt.msgid"),
            }
            e.one("mqtt.msg", colon_hex(p.payload.as_bytes()));
            e.props(level, "mqtt.properties", publish_props(&p.properties));
        }
        Packet::PubAck(a) => {
            e.one("mqtt.msgid", a.packet_id);
            let d = a.reason == PubAckReason::default();
            e.tail(
                level,
                "mqtt.puback.reason_code",
                a.reason.code(),
                d,
                ack_props(&a.properties),
            );
        }
        Packet::PubRec(a) => {
            e.one("mqtt.msgid", a.packet_id);
            let d = a.reason == PubRecReason::default();
            e.tail(
                level,
                "mqtt.pubrec.reason_code",
                a.reason.code(),
                d,
                ack_props(&a.properties),
            );
        }
        Packet::PubRel(a) => {
            e.one("mqtt.msgid", a.packet_id);
            let d = a.reason == PubRelReason::default();
            e.tail(
                level,
                "mqtt.pubrel.reason_code",
                a.reason.code(),
                d,
                ack_props(&a.properties),
            );
        }
        Packet::PubComp(a) => {
            e.one("mqtt.msgid", a.packet_id);
            let d = a.reason == PubCompReason::default();
            e.tail(
                level,
                "mqtt.pubcomp.reason_code",
                a.reason.code(),
                d,
                ack_props(&a.properties),
            );
        }
        Packet::Subscribe(s) => {
            e.one("mqtt.msgid", s.packet_id);
            let subs: Vec<Subscription<'_>> = s.subscriptions.iter().collect();
            e.list(
                "mqtt.topic",
                subs.iter().map(|s| s.filter.as_str().to_string()).collect(),
            );
            e.list(
                "mqtt.topic_len",
                subs.iter().map(|s| s.filter.len().to_string()).collect(),
            );
            let opt = |f: &dyn Fn(&SubscriptionOptions) -> String| -> Vec<String> {
                subs.iter().map(|s| f(&s.options)).collect()
            };
            if level.is_v5() {
                e.none("mqtt.sub.qos");
                e.list(
                    "mqtt.subscription_options",
                    opt(&|o| format!("0x{:02x}", o.to_byte())),
                );
                e.list(
                    "mqtt.subscription_options_qos",
                    opt(&|o| (o.qos as u8).to_string()),
                );
                e.list("mqtt.subscription_options_nl", opt(&|o| bit(o.no_local)));
                e.list(
                    "mqtt.subscription_options_rap",
                    opt(&|o| bit(o.retain_as_published)),
                );
                e.list(
                    "mqtt.subscription_options_retain",
                    opt(&|o| (o.retain_handling as u8).to_string()),
                );
                e.list(
                    "mqtt.subscription_options_reserved",
                    opt(&|_| "0x00".into()),
                );
            } else {
                e.none("mqtt.subscription_options");
                e.list("mqtt.sub.qos", opt(&|o| (o.qos as u8).to_string()));
            }
            e.props(level, "mqtt.properties", subscribe_props(&s.properties));
        }
        Packet::SubAck(s) => {
            e.one("mqtt.msgid", s.packet_id);
            let codes: Vec<String> = s.reasons.iter().map(|r| r.code().to_string()).collect();
            if level.is_v5() {
                e.none("mqtt.suback.qos");
                e.list("mqtt.suback.reason_code", codes);
            } else {
                e.none("mqtt.suback.reason_code");
                e.list("mqtt.suback.qos", codes);
            }
            e.props(level, "mqtt.properties", ack_props(&s.properties));
        }
        Packet::Unsubscribe(u) => {
            e.one("mqtt.msgid", u.packet_id);
            e.list(
                "mqtt.topic",
                u.filters.iter().map(|f| f.as_str().to_string()).collect(),
            );
            e.props(level, "mqtt.properties", unsubscribe_props(&u.properties));
        }
        Packet::UnsubAck(u) => {
            e.one("mqtt.msgid", u.packet_id);
            e.list(
                "mqtt.unsuback.reason_code",
                u.reasons.iter().map(|r| r.code().to_string()).collect(),
            );
            e.props(level, "mqtt.properties", ack_props(&u.properties));
        }
        Packet::PingReq | Packet::PingResp => {
            e.none("mqtt.msgid");
            e.no_blocks.push("mqtt.properties");
        }
        Packet::Disconnect(d) => {
            let def = d.reason == DisconnectReason::default();
            e.tail(
                level,
                "mqtt.disconnect.reason_code",
                d.reason.code(),
                def,
                disconnect_props(&d.properties),
            );
        }
        Packet::Auth(a) => {
            let def = a.reason == AuthReason::default();
            let props = auth_props(&a.properties);
            // MQTT 5.0 §3.15.2.1: an AUTH leaves out its Property Length only together with
            // the reason code, so any other reason comes with a (possibly empty) block.
            let empty_block = !def && props.is_empty();
            e.tail(level, "mqtt.auth.reason_code", a.reason.code(), def, props);
            if empty_block {
                e.no_blocks.retain(|k| *k != "mqtt.properties");
                e.blocks.push(("mqtt.properties", Vec::new()));
            }
        }
    }
    e
}

/// Stable sort by identifier: our property order is the encoder's choice, but the order of
/// properties with one identifier (User Properties, Subscription Identifiers) is not.
fn sorted(mut v: Vec<(u8, Val)>) -> Vec<(u8, Val)> {
    v.sort_by_key(|(id, _)| *id);
    v
}

fn compare(e: &Expect, d: &Dissected) -> Vec<String> {
    let mut errs: Vec<String> = d.problems.clone();
    for (key, want) in &e.fields {
        let got = d.all(key);
        if &got != want {
            errs.push(format!("{key}: dissector {got:?}, ours {want:?}"));
        }
    }
    for key in &e.no_blocks {
        if !d.block(key).is_empty() {
            errs.push(format!("{key}: dissector shows a block, we wrote none"));
        }
    }
    for (key, props) in &e.blocks {
        let blocks = d.block(key);
        let [block] = blocks.as_slice() else {
            errs.push(format!(
                "{key}: dissector shows {} blocks, want 1",
                blocks.len()
            ));
            continue;
        };
        let len: usize = props.iter().map(|p| 1 + p.wire).sum();
        // tshark 4.0.17 shows a Property Length of two or more bytes as the raw bytes read
        // big-endian (128, `80 01`, as 32769), although it reads the properties after it
        // right; the specification's value is accepted, and that rendering of it.
        let raw = varint_bytes(len as u32)
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        if block.len != Some(len as u64) && block.len != Some(raw) {
            errs.push(format!(
                "{key}: Property Length {:?} in the dissector, {len} ours",
                block.len
            ));
        }
        let want = sorted(props.iter().map(|p| (p.id, p.val.clone())).collect());
        let got = sorted(block.props.clone());
        if got != want {
            errs.push(format!(
                "{key}: properties differ\n    dissector {got:?}\n    ours      {want:?}"
            ));
        }
    }
    errs
}

// ---------------------------------------------------------------------------------------
// The packets.
// ---------------------------------------------------------------------------------------

fn pid(v: u16) -> PacketId {
    PacketId::new(v).unwrap()
}

fn s(v: &'static str) -> Str<'static> {
    Str::new(v).unwrap()
}

fn b(v: &'static [u8]) -> Bin<'static> {
    Bin::new(v).unwrap()
}

fn topic(v: &'static str) -> TopicName<'static> {
    TopicName::new(v).unwrap()
}

fn filter(v: &'static str) -> TopicFilter<'static> {
    TopicFilter::new(v).unwrap()
}

/// A property set built with its setters: `props!(Type { set_x(v), .. } [sids [..];] users &[..])`.
macro_rules! props {
    ($ty:ident { $($set:ident($v:expr)),* $(,)? } $(sids $sids:expr;)? users $u:expr) => {{
        let mut p = mqtt_codec::shared::$ty::new();
        $( p.$set($v); )*
        $( for i in $sids { p.add_subscription_identifier(SubscriptionId::new(i).unwrap()); } )?
        let users: &[(&'static str, &'static str)] = $u;
        for &(k, v) in users {
            p.add_user_property(k, v).unwrap();
        }
        // The borrowed form holds a view: the shared block is leaked for the test.
        Box::leak(Box::new(p)).view()
    }};
}

fn publish(
    t: &'static str,
    payload: Vec<u8>,
    delivery: Delivery,
    retain: bool,
) -> Publish<'static> {
    let mut p = Publish::new(topic(t), &*Vec::leak(payload));
    p.delivery = delivery;
    p.retain = retain;
    p
}

/// The packets every level shares (MQTT 3.x contents; CONNECT and CONNACK apart).
fn common_v3(level: Protocol) -> Vec<(&'static str, Packet<'static>)> {
    let mut v: Vec<(&'static str, Packet<'static>)> = vec![
        (
            "CONNACK refused, bad user name or password",
            ConnAck::new(ConnectReason::BadUserNameOrPassword, false).into(),
        ),
        (
            "CONNACK refused, not authorized",
            ConnAck::new(ConnectReason::NotAuthorized, false).into(),
        ),
        (
            "PUBLISH QoS 0",
            publish("a/b", b"hello".to_vec(), Delivery::AtMostOnce, false).into(),
        ),
        (
            "PUBLISH QoS 1 DUP retained",
            publish(
                "sensors/t1",
                b"21.5".to_vec(),
                Delivery::AtLeastOnce {
                    packet_id: pid(7),
                    dup: true,
                },
                true,
            )
            .into(),
        ),
        (
            "PUBLISH QoS 2, 300-byte payload (2-byte remaining length)",
            publish(
                "big/one",
                (0..300u32).map(|i| (i % 251) as u8).collect(),
                Delivery::ExactlyOnce {
                    packet_id: pid(65535),
                    dup: false,
                },
                false,
            )
            .into(),
        ),
        (
            "PUBLISH QoS 1, empty payload, retained (clears)",
            publish(
                "r/clear",
                Vec::new(),
                Delivery::AtLeastOnce {
                    packet_id: pid(2),
                    dup: false,
                },
                true,
            )
            .into(),
        ),
        (
            "PUBLISH QoS 0, UTF-8 topic",
            publish("t/ü/ß", vec![0, 0xff, 0x80], Delivery::AtMostOnce, false).into(),
        ),
        ("PUBACK", Packet::PubAck(PubAck::new(pid(1)))),
        ("PUBREC", Packet::PubRec(PubRec::new(pid(258)))),
        ("PUBREL", Packet::PubRel(PubRel::new(pid(258)))),
        ("PUBCOMP", Packet::PubComp(PubComp::new(pid(258)))),
        (
            "SUBSCRIBE, three filters at QoS 0/1/2",
            Subscribe::new(
                pid(10),
                mqtt_integration_tests::seq(vec![
                    Subscription::new(filter("a/+"), QoS::AtMostOnce),
                    Subscription::new(filter("b/#"), QoS::AtLeastOnce),
                    Subscription::new(filter("c/d"), QoS::ExactlyOnce),
                ]),
            )
            .into(),
        ),
        (
            "SUBACK, granted and failure",
            SubAck::new(
                pid(10),
                mqtt_integration_tests::seq(vec![
                    SubAckReason::GrantedQoS0,
                    SubAckReason::GrantedQoS1,
                    SubAckReason::GrantedQoS2,
                    SubAckReason::UnspecifiedError,
                ]),
            )
            .into(),
        ),
        (
            "UNSUBSCRIBE, two filters",
            Unsubscribe::new(
                pid(11),
                mqtt_integration_tests::seq(vec![filter("a/+"), filter("#")]),
            )
            .into(),
        ),
        (
            "UNSUBACK",
            UnsubAck::new(
                pid(11),
                mqtt_integration_tests::seq(Vec::<UnsubAckReason>::new()),
            )
            .into(),
        ),
        ("PINGREQ", Packet::PingReq),
        ("PINGRESP", Packet::PingResp),
        ("DISCONNECT", Disconnect::default().into()),
    ];
    if level == Protocol::V3_1_1 {
        v.push((
            "CONNACK accepted, session present",
            ConnAck::new(ConnectReason::Success, true).into(),
        ));
    } else {
        v.push((
            "CONNACK accepted",
            ConnAck::new(ConnectReason::Success, false).into(),
        ));
    }
    v
}

fn connect_v3(level: Protocol) -> Vec<(&'static str, Packet<'static>)> {
    let mut full = Connect::new(level, s("tshark-full"), 60);
    full.clean_start = false;
    full.will = Some(Will {
        topic: topic("will/topic"),
        payload: b(b"gone\x00\xff"),
        qos: QoS::ExactlyOnce,
        retain: true,
        properties: WillProperties::default(),
    });
    full.username = Some(s("alice"));
    full.password = Some(b(b"s3cret"));
    let mut user_only = Connect::new(level, s("u"), 0);
    user_only.username = Some(s("bob"));
    let mut will_q1 = Connect::new(level, s("w1"), 5);
    will_q1.will = Some(Will {
        topic: topic("w"),
        payload: b(b"x"),
        qos: QoS::AtLeastOnce,
        retain: false,
        properties: WillProperties::default(),
    });
    let mut v = vec![
        (
            "CONNECT, will QoS 2 retained, user name and password",
            full.into(),
        ),
        ("CONNECT, user name only", user_only.into()),
        ("CONNECT, will QoS 1", will_q1.into()),
    ];
    if level == Protocol::V3_1_1 {
        v.push((
            "CONNECT, empty client id, clean session",
            Connect::new(level, s(""), 65535).into(),
        ));
    } else {
        v.push((
            "CONNECT, 23-character client id",
            Connect::new(level, s("abcdefghijklmnopqrstuvw"), 65535).into(),
        ));
    }
    v
}

fn cases_v3(level: Protocol) -> Vec<(&'static str, Packet<'static>)> {
    let mut v = connect_v3(level);
    v.extend(common_v3(level));
    v
}

fn cases_v5() -> Vec<(&'static str, Packet<'static>)> {
    let l = Protocol::V5;
    let mut full = Connect::new(l, s("tshark-v5"), 30);
    full.clean_start = false;
    full.username = Some(s("carol"));
    full.password = Some(b(b"pw-123"));
    full.properties = props!(ConnectProperties { set_session_expiry_interval(3600), set_receive_maximum(NonZeroU16::new(20).unwrap()), set_maximum_packet_size(NonZeroU32::new(1 << 20).unwrap()), set_topic_alias_maximum(10), set_request_response_information(true), set_request_problem_information(false), set_authentication_method(s("SCRAM-SHA-256")), set_authentication_data(b(b"client-first")) } users &[("a", "1"), ("a", "2"), ("empty", "")]);
    full.will = Some(Will {
        topic: topic("will/v5"),
        payload: b(b"bye"),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: props!(WillProperties { set_will_delay_interval(5), set_payload_format_indicator(PayloadFormat::Utf8), set_message_expiry_interval(120), set_content_type(s("text/plain")), set_response_topic(topic("will/reply")), set_correlation_data(b(b"corr-9")) } users &[("wk", "wv")]),
    });
    let mut will_no_props = Connect::new(l, s("v5-will"), 10);
    will_no_props.will = Some(Will {
        topic: topic("w/plain"),
        payload: b(b""),
        qos: QoS::AtMostOnce,
        retain: false,
        properties: WillProperties::default(),
    });

    let connack_full = ConnAck {
        session_present: true,
        reason: ConnectReason::Success,
        properties: props!(ConnAckProperties { set_session_expiry_interval(600), set_receive_maximum(NonZeroU16::new(100).unwrap()), set_maximum_qos(MaximumQos::AtLeastOnce), set_retain_available(false), set_maximum_packet_size(NonZeroU32::new(268_435_460).unwrap()), set_assigned_client_identifier(s("auto-1234")), set_topic_alias_maximum(0), set_reason_string(s("welcome")), set_wildcard_subscription_available(true), set_subscription_identifiers_available(false), set_shared_subscription_available(true), set_server_keep_alive(120), set_response_information(s("resp/base")), set_server_reference(s("other:1883")), set_authentication_method(s("SCRAM-SHA-256")), set_authentication_data(b(b"server-final")) } users &[("server", "mqtt-codec")]),
    };
    let mut connack_refused = ConnAck::new(ConnectReason::BadAuthenticationMethod, false);
    mqtt_integration_tests::set_props!(connack_refused.properties, |q| q
        .set_reason_string(s("no such method")));

    let mut pub_props = publish(
        "v5/props",
        br#"{"k":1}"#.to_vec(),
        Delivery::AtLeastOnce {
            packet_id: pid(14),
            dup: false,
        },
        false,
    );
    pub_props.properties = props!(PublishProperties { set_payload_format_indicator(PayloadFormat::Utf8), set_message_expiry_interval(3600), set_topic_alias(NonZeroU16::new(3).unwrap()), set_response_topic(topic("v5/reply")), set_correlation_data(b(b"corr-123")), set_content_type(s("application/json")) } sids [1, 300, 268_435_455]; users &[("a", "b"), ("a", "c"), ("x", "y")]);
    let mut pub_alias = Publish::new(TopicName::empty(), &b"via alias"[..]);
    mqtt_integration_tests::set_props!(pub_alias.properties, |q| q
        .set_topic_alias(NonZeroU16::new(3).unwrap()));

    let mut puback_props = PubAck::new(pid(14));
    puback_props.reason = PubAckReason::NoMatchingSubscribers;
    puback_props.properties =
        props!(AckProperties { set_reason_string(s("nobody listens")) } users &[("k", "v")]);
    let mut puback_reason = PubAck::new(pid(15));
    puback_reason.reason = PubAckReason::PayloadFormatInvalid;
    let mut puback_success_props = PubAck::new(pid(16));
    mqtt_integration_tests::set_props!(puback_success_props.properties, |q| q
        .add_user_property("only", "users")
        .unwrap());
    let mut pubrec = PubRec::new(pid(300));
    pubrec.reason = PubRecReason::QuotaExceeded;
    mqtt_integration_tests::set_props!(pubrec.properties, |q| q.set_reason_string(s("quota")));
    let mut pubrel = PubRel::new(pid(300));
    pubrel.reason = PubRelReason::PacketIdentifierNotFound;
    let mut pubcomp = PubComp::new(pid(300));
    mqtt_integration_tests::set_props!(pubcomp.properties, |q| q.set_reason_string(s("done")));

    let mut subscribe = Subscribe::new(
        pid(20),
        mqtt_integration_tests::seq(vec![
            Subscription {
                filter: filter("a/+"),
                options: SubscriptionOptions {
                    qos: QoS::AtLeastOnce,
                    no_local: true,
                    retain_as_published: false,
                    retain_handling: RetainHandling::SendAtSubscribe,
                },
            },
            Subscription {
                filter: filter("b/#"),
                options: SubscriptionOptions {
                    qos: QoS::ExactlyOnce,
                    no_local: false,
                    retain_as_published: true,
                    retain_handling: RetainHandling::DoNotSend,
                },
            },
            Subscription {
                filter: filter("$share/group/c/d"),
                options: SubscriptionOptions {
                    qos: QoS::AtMostOnce,
                    no_local: false,
                    retain_as_published: false,
                    retain_handling: RetainHandling::SendIfNew,
                },
            },
        ]),
    );
    subscribe.properties = props!(SubscribeProperties { set_subscription_identifier(SubscriptionId::new(16_384).unwrap()) } users &[("sk", "sv")]);
    let plain_subscribe = Subscribe::new(
        pid(21),
        mqtt_integration_tests::seq(vec![Subscription::new(filter("#"), QoS::AtMostOnce)]),
    );
    let mut suback = SubAck::new(
        pid(20),
        mqtt_integration_tests::seq(vec![
            SubAckReason::GrantedQoS1,
            SubAckReason::GrantedQoS2,
            SubAckReason::SharedSubscriptionsNotSupported,
            SubAckReason::TopicFilterInvalid,
            SubAckReason::WildcardSubscriptionsNotSupported,
        ]),
    );
    mqtt_integration_tests::set_props!(suback.properties, |q| q.set_reason_string(s("partly")));
    let mut unsubscribe = Unsubscribe::new(
        pid(22),
        mqtt_integration_tests::seq(vec![filter("a/+"), filter("b/#")]),
    );
    mqtt_integration_tests::set_props!(unsubscribe.properties, |q| q
        .add_user_property("uk", "uv")
        .unwrap());
    let mut unsuback = UnsubAck::new(
        pid(22),
        mqtt_integration_tests::seq(vec![
            UnsubAckReason::Success,
            UnsubAckReason::NoSubscriptionExisted,
            UnsubAckReason::NotAuthorized,
        ]),
    );
    mqtt_integration_tests::set_props!(unsuback.properties, |q| q
        .add_user_property("why", "policy")
        .unwrap());

    let disconnect_full = Disconnect {
        reason: DisconnectReason::ServerMoved,
        properties: props!(DisconnectProperties { set_session_expiry_interval(0), set_reason_string(s("moving")), set_server_reference(s("new-host:1883")) } users &[("dk", "dv")]),
    };
    let auth = Auth {
        reason: AuthReason::ContinueAuthentication,
        properties: props!(AuthProperties { set_authentication_method(s("SCRAM-SHA-256")), set_authentication_data(b(b"server-first")), set_reason_string(s("continue")) } users &[("ak", "av")]),
    };
    let reauth = Auth {
        reason: AuthReason::ReAuthenticate,
        properties: AuthProperties::default(),
    };

    vec![
        (
            "CONNECT, all properties, will with all properties",
            full.into(),
        ),
        ("CONNECT, will without properties", will_no_props.into()),
        ("CONNECT, empty client id", Connect::new(l, s(""), 0).into()),
        (
            "CONNACK, all properties, session present",
            connack_full.into(),
        ),
        (
            "CONNACK refused 0x8c, reason string",
            connack_refused.into(),
        ),
        (
            "CONNACK accepted, no properties",
            ConnAck::new(ConnectReason::Success, false).into(),
        ),
        ("PUBLISH QoS 1, all properties", pub_props.into()),
        (
            "PUBLISH QoS 0, empty topic with topic alias",
            pub_alias.into(),
        ),
        (
            "PUBLISH QoS 2 DUP retained, 300-byte payload",
            publish(
                "v5/big",
                vec![0xa5; 300],
                Delivery::ExactlyOnce {
                    packet_id: pid(9),
                    dup: true,
                },
                true,
            )
            .into(),
        ),
        (
            "PUBLISH QoS 0, empty payload",
            publish("v5/empty", Vec::new(), Delivery::AtMostOnce, false).into(),
        ),
        ("PUBACK success, shortest form", PubAck::new(pid(1)).into()),
        ("PUBACK 0x10 with properties", puback_props.into()),
        ("PUBACK 0x99, no properties", puback_reason.into()),
        (
            "PUBACK success with a user property",
            puback_success_props.into(),
        ),
        ("PUBREC 0x97 with reason string", pubrec.into()),
        ("PUBREL 0x92", pubrel.into()),
        ("PUBCOMP success with reason string", pubcomp.into()),
        ("SUBSCRIBE, options and properties", subscribe.into()),
        ("SUBSCRIBE, no properties", plain_subscribe.into()),
        ("SUBACK, mixed codes, reason string", suback.into()),
        ("UNSUBSCRIBE with a user property", unsubscribe.into()),
        ("UNSUBACK, three codes, user property", unsuback.into()),
        ("PINGREQ", Packet::PingReq),
        ("PINGRESP", Packet::PingResp),
        (
            "DISCONNECT normal, shortest form",
            Disconnect::default().into(),
        ),
        (
            "DISCONNECT 0x04, reason only",
            Disconnect::new(DisconnectReason::DisconnectWithWillMessage).into(),
        ),
        (
            "DISCONNECT 0x9d with all properties",
            disconnect_full.into(),
        ),
        ("AUTH 0x18 with all properties", auth.into()),
        ("AUTH 0x19, reason only", reauth.into()),
        ("AUTH success, shortest form", Auth::default().into()),
    ]
}

fn dump(label: &str, d: &Dissected) {
    eprintln!("--- {label}");
    for (k, v) in &d.fields {
        eprintln!("    {k} = {v}");
    }
    for (k, b) in &d.blocks {
        eprintln!("    {k}: {b:?}");
    }
}

/// Encodes the cases, dissects them in one run, and checks every frame.
fn check_level(level: Protocol, cases: Vec<(&'static str, Packet<'static>)>) {
    if !tshark::tools_available("the tshark dissector check") {
        return;
    }
    let started = std::time::Instant::now();
    // Every packet type the level has: all 15 in 5.0, all but AUTH at 3.x.
    let types: std::collections::BTreeSet<u8> =
        cases.iter().map(|(_, p)| p.packet_type() as u8).collect();
    let all = if level.is_v5() { 1..=15 } else { 1..=14 };
    assert_eq!(types, all.collect(), "packet types covered at {level}");
    let wires: Vec<Vec<u8>> = cases
        .iter()
        .map(|(what, p)| {
            let mut out = Vec::new();
            p.encode(level, &mut out)
                .unwrap_or_else(|e| panic!("{what}: encoding at {level} failed: {e:?}"));
            out
        })
        .collect();
    let packets: Vec<(String, Packet<'_>)> = cases
        .iter()
        .map(|(what, p)| ((*what).to_string(), *p))
        .collect();
    check_frames(level, &packets, &wires, &format!("{}", level.level()));
    eprintln!(
        "{level}: {} packets checked against tshark in {:.2?}",
        cases.len(),
        started.elapsed()
    );
}

/// Dissects `wires` (one packet each) in one tshark run and checks every frame against the
/// packet it holds.
fn check_frames(level: Protocol, packets: &[(String, Packet<'_>)], wires: &[Vec<u8>], tag: &str) {
    let frames = dissect(wires, level, tag);
    assert_eq!(
        frames.len(),
        packets.len(),
        "tshark returned {} frames for {} packets",
        frames.len(),
        packets.len()
    );
    let dump_all = std::env::var("MQTT_TSHARK_DUMP").as_deref() == Ok("1");
    let mut failures = Vec::new();
    for (((what, packet), wire), frame) in packets.iter().zip(wires).zip(&frames) {
        let label = format!("{level} {what} [{}]", to_hex_short(wire));
        let d = match dissected(frame) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{label}: {e}"));
                continue;
            }
        };
        if dump_all {
            dump(&label, &d);
        }
        let errs = compare(&expect(packet, level, wire), &d);
        if !errs.is_empty() {
            failures.push(format!("{label}:\n  {}", errs.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} packets disagree with tshark's dissector:\n{}",
        failures.len(),
        packets.len(),
        failures.join("\n")
    );
}

fn to_hex_short(b: &[u8]) -> Cow<'static, str> {
    let hex: String = b.iter().take(48).map(|x| format!("{x:02x}")).collect();
    if b.len() > 48 {
        Cow::Owned(format!("{hex}… {} bytes", b.len()))
    } else {
        Cow::Owned(hex)
    }
}

#[test]
fn mqtt_3_1_packets_as_tshark_reads_them() {
    check_level(Protocol::V3_1, cases_v3(Protocol::V3_1));
}

#[test]
fn mqtt_3_1_1_packets_as_tshark_reads_them() {
    check_level(Protocol::V3_1_1, cases_v3(Protocol::V3_1_1));
}

#[test]
fn mqtt_5_packets_as_tshark_reads_them() {
    check_level(Protocol::V5, cases_v5());
}

/// The batched pipeline above reads a packet as the shared script does: the script's
/// `--raw` JSON (duplicate keys merged into lists) holds the same MQTT fields.
#[test]
fn batched_pipeline_matches_the_shared_script() {
    if !tshark::tools_available("the tshark dissector check") {
        return;
    }
    let script = workspace_root().join("../shared/tools/tshark-decode.sh");
    if !script.exists() {
        let msg = format!("{} not found", script.display());
        if std::env::var("MQTT_REQUIRE_TSHARK").as_deref() == Ok("1") {
            panic!("MQTT_REQUIRE_TSHARK=1 but {msg}");
        }
        eprintln!("note: skipping the script cross-check: {msg}");
        return;
    }
    let (what, packet) = cases_v5().swap_remove(0);
    let mut wire = Vec::new();
    packet.encode(Protocol::V5, &mut wire).unwrap();
    let hex: String = wire.iter().map(|x| format!("{x:02x}")).collect();
    let out = Command::new("bash")
        .arg(&script)
        .args(["--level", "5", "--raw", &hex])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let script_frames = match parse_json(&String::from_utf8(out.stdout).unwrap()) {
        Ok(Json::Arr(f)) => f,
        other => panic!("script output: {other:?}"),
    };
    let batched = dissect(&[wire], Protocol::V5, "script");
    assert_eq!((script_frames.len(), batched.len()), (1, 1));
    let mqtt_pairs = |frame: &Json| {
        let mut kv = Vec::new();
        let layer = frame
            .get("_source")
            .and_then(|s| s.get("layers"))
            .and_then(|l| l.get("mqtt"))
            .unwrap();
        collect_all(layer, "", &mut kv);
        kv.sort();
        kv
    };
    let (a, b) = (mqtt_pairs(&script_frames[0]), mqtt_pairs(&batched[0]));
    assert!(
        a.len() > 40,
        "{what}: too few fields from the script: {a:?}"
    );
    assert_eq!(a, b, "{what}: the script and the batched run disagree");
}

/// Every (key, text) in an object, lists expanded (the script's `--no-duplicate-keys`
/// turns repeated keys into lists).
fn collect_all(j: &Json, key: &str, out: &mut Vec<(String, String)>) {
    match j {
        Json::Obj(kv) => {
            for (k, v) in kv {
                collect_all(v, k, out);
            }
        }
        Json::Arr(items) => {
            for it in items {
                collect_all(it, key, out);
            }
        }
        other => {
            if let Some(t) = other.as_text() {
                out.push((key.to_string(), t));
            }
        }
    }
}

/// The JSON reader keeps duplicate keys in order, which the property checks rely on.
#[test]
fn json_reader_keeps_duplicate_keys() {
    let j = parse_json(r#"{"a": "1", "b": {"c": "x\u00fc\"", "c": "2"}, "a": ["3", 4]}"#).unwrap();
    let mut kv = Vec::new();
    collect_all(&j, "", &mut kv);
    assert_eq!(
        kv,
        [
            ("a".to_string(), "1".to_string()),
            ("c".into(), "xü\"".into()),
            ("c".into(), "2".into()),
            ("a".into(), "3".into()),
            ("a".into(), "4".into()),
        ]
    );
    assert!(parse_json("{\"a\": }").is_err());
}

/// What the connection machines write in a whole session, both ways, as tshark reads it:
/// CONNECT with a Will, SUBSCRIBE / SUBACK, PUBLISH at QoS 0, 1 and 2 both ways with their
/// acknowledgements, topic aliases (5.0), UNSUBSCRIBE / UNSUBACK, PINGREQ / PINGRESP from the
/// keep-alive timer, a dropped link with the QoS 2 message resent (DUP) on the resumed
/// session, and DISCONNECT.
fn session_wire(protocol: Protocol) -> Vec<Vec<u8>> {
    use mqtt_codec::session::{AliasPolicy, ClientOptions, ServerOptions};
    use mqtt_codec::shared;
    use mqtt_integration_tests::pair::Pair;
    let id = shared::Str::new("tshark-session").unwrap();
    let mut connect = shared::Connect::new(protocol, id, 10);
    connect.clean_start = false;
    connect.will = Some(
        shared::Will::new(
            shared::TopicName::new("wills/tshark").unwrap(),
            &b"gone"[..],
            QoS::AtLeastOnce,
        )
        .unwrap(),
    );
    let mut client_options = ClientOptions::default();
    let mut server_options = ServerOptions::default();
    if protocol.is_v5() {
        connect.properties.set_session_expiry_interval(600);
        connect.properties.set_topic_alias_maximum(4);
        client_options.alias_policy = AliasPolicy::LeastRecentlyUsed { max: 4 };
        server_options.topic_alias_maximum = 4;
        server_options.alias_policy = AliasPolicy::LeastRecentlyUsed { max: 4 };
    }
    let mut p = Pair::new(connect, client_options, server_options);
    p.connect();
    let subs = vec![
        shared::Subscription::new(
            shared::TopicFilter::new("sensors/#").unwrap(),
            QoS::ExactlyOnce,
        ),
        shared::Subscription::new(shared::TopicFilter::new("cmd/+").unwrap(), QoS::AtLeastOnce),
    ];
    p.client.subscribe(subs, Default::default()).unwrap();
    p.settle();
    let msg = |t: &str, m: &str| {
        let mut m = shared::Publish::new(
            shared::TopicName::new(t.to_string()).unwrap(),
            m.as_bytes().to_vec(),
        );
        if protocol.is_v5() {
            m.properties.add_user_property("k", "v").unwrap();
            m.properties.set_message_expiry_interval(60);
        }
        m
    };
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        // The same topic twice: the second goes as its alias at 5.0.
        for _ in 0..2 {
            p.client.publish(msg("sensors/1", "up"), qos).unwrap();
            p.server.publish(msg("sensors/2", "down"), qos).unwrap();
            p.settle();
        }
    }
    let f = vec![shared::TopicFilter::new("cmd/+").unwrap()];
    p.client.unsubscribe(f, Default::default()).unwrap();
    p.settle();
    // Keep-alive: the client pings.
    p.advance_to(mqtt_codec::Instant::from_secs(10));
    // A QoS 2 message cut after PUBLISH: resent with DUP on the resumed session.
    p.client
        .publish(msg("sensors/3", "again"), QoS::ExactlyOnce)
        .unwrap();
    p.settle_until(|l| l.starts_with("s>c PUBREC"));
    p.drop_link();
    p.reconnect();
    p.client
        .disconnect(mqtt_codec::DisconnectReason::NormalDisconnection)
        .unwrap();
    p.settle();
    p.wire.clone()
}

fn check_session(protocol: Protocol) {
    if !tshark::tools_available("the tshark session check") {
        return;
    }
    let wires = session_wire(protocol);
    let d = mqtt_codec::Decoder::new(protocol);
    let packets: Vec<(String, Packet<'_>)> = wires
        .iter()
        .enumerate()
        .map(|(i, w)| match d.decode(w) {
            Ok(mqtt_codec::Decoded::Complete(p, n)) if n == w.len() => {
                (format!("session packet {i} ({:?})", p.packet_type()), p)
            }
            other => panic!("packet {i} does not decode alone: {other:?}"),
        })
        .collect();
    // What the session must have produced for the check to mean something.
    let types: std::collections::BTreeSet<u8> =
        packets.iter().map(|(_, p)| p.packet_type() as u8).collect();
    assert_eq!(types, (1..=14).collect(), "packet types the session wrote");
    assert!(
        packets
            .iter()
            .any(|(_, p)| matches!(p, Packet::Publish(x) if x.delivery.dup())),
        "a resent PUBLISH with DUP"
    );
    if protocol.is_v5() {
        assert!(
            packets
                .iter()
                .any(|(_, p)| matches!(p, Packet::Publish(x) if x.topic.as_str().is_empty())),
            "a PUBLISH sent as its topic alias"
        );
    }
    check_frames(
        protocol,
        &packets,
        &wires,
        &format!("session-{}", protocol.level()),
    );
}

#[test]
fn what_the_machines_write_in_a_3_1_1_session_as_tshark_reads_it() {
    check_session(Protocol::V3_1_1);
}

#[test]
fn what_the_machines_write_in_a_5_0_session_as_tshark_reads_it() {
    check_session(Protocol::V5);
}
