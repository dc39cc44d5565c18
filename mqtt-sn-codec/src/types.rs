//! The typed fields of MQTT-SN 1.2 messages (§5.3).

use core::fmt;

use mqtt_codec::generic::TopicFilter;
use mqtt_codec::{InvalidByte, StrStorage, ValueError};

/// A Message Identifier (§5.3.6): never 0 where a message carries one. The same type as
/// an MQTT Packet Identifier, so a gateway maps one to the other without conversion.
pub type MsgId = mqtt_codec::PacketId;

/// The message types of MQTT-SN 1.2 (§5.2.2), with their codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
#[allow(missing_docs)] // each variant is the message of the same name
pub enum MsgType {
    Advertise = 0x00,
    SearchGw = 0x01,
    GwInfo = 0x02,
    Connect = 0x04,
    ConnAck = 0x05,
    WillTopicReq = 0x06,
    WillTopic = 0x07,
    WillMsgReq = 0x08,
    WillMsg = 0x09,
    Register = 0x0A,
    RegAck = 0x0B,
    Publish = 0x0C,
    PubAck = 0x0D,
    PubComp = 0x0E,
    PubRec = 0x0F,
    PubRel = 0x10,
    Subscribe = 0x12,
    SubAck = 0x13,
    Unsubscribe = 0x14,
    UnsubAck = 0x15,
    PingReq = 0x16,
    PingResp = 0x17,
    Disconnect = 0x18,
    WillTopicUpd = 0x1A,
    WillTopicResp = 0x1B,
    WillMsgUpd = 0x1C,
    WillMsgResp = 0x1D,
    /// The Encapsulated message of a forwarder (§5.5).
    Encapsulated = 0xFE,
}

impl MsgType {
    /// The name as the specification's table spells it (`WILLTOPICUPD`, `ENCAPSULATED`).
    pub const fn name(self) -> &'static str {
        match self {
            MsgType::Advertise => "ADVERTISE",
            MsgType::SearchGw => "SEARCHGW",
            MsgType::GwInfo => "GWINFO",
            MsgType::Connect => "CONNECT",
            MsgType::ConnAck => "CONNACK",
            MsgType::WillTopicReq => "WILLTOPICREQ",
            MsgType::WillTopic => "WILLTOPIC",
            MsgType::WillMsgReq => "WILLMSGREQ",
            MsgType::WillMsg => "WILLMSG",
            MsgType::Register => "REGISTER",
            MsgType::RegAck => "REGACK",
            MsgType::Publish => "PUBLISH",
            MsgType::PubAck => "PUBACK",
            MsgType::PubComp => "PUBCOMP",
            MsgType::PubRec => "PUBREC",
            MsgType::PubRel => "PUBREL",
            MsgType::Subscribe => "SUBSCRIBE",
            MsgType::SubAck => "SUBACK",
            MsgType::Unsubscribe => "UNSUBSCRIBE",
            MsgType::UnsubAck => "UNSUBACK",
            MsgType::PingReq => "PINGREQ",
            MsgType::PingResp => "PINGRESP",
            MsgType::Disconnect => "DISCONNECT",
            MsgType::WillTopicUpd => "WILLTOPICUPD",
            MsgType::WillTopicResp => "WILLTOPICRESP",
            MsgType::WillMsgUpd => "WILLMSGUPD",
            MsgType::WillMsgResp => "WILLMSGRESP",
            MsgType::Encapsulated => "ENCAPSULATED",
        }
    }

    /// The code on the wire.
    #[inline]
    pub const fn code(self) -> u8 {
        self as u8
    }
}

impl fmt::Display for MsgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl TryFrom<u8> for MsgType {
    type Error = InvalidByte;
    /// Codes 0x03, 0x11, 0x19, 0x1E–0xFD and 0xFF are reserved (§5.2.2).
    #[inline]
    fn try_from(b: u8) -> Result<Self, InvalidByte> {
        Ok(match b {
            0x00 => MsgType::Advertise,
            0x01 => MsgType::SearchGw,
            0x02 => MsgType::GwInfo,
            0x04 => MsgType::Connect,
            0x05 => MsgType::ConnAck,
            0x06 => MsgType::WillTopicReq,
            0x07 => MsgType::WillTopic,
            0x08 => MsgType::WillMsgReq,
            0x09 => MsgType::WillMsg,
            0x0A => MsgType::Register,
            0x0B => MsgType::RegAck,
            0x0C => MsgType::Publish,
            0x0D => MsgType::PubAck,
            0x0E => MsgType::PubComp,
            0x0F => MsgType::PubRec,
            0x10 => MsgType::PubRel,
            0x12 => MsgType::Subscribe,
            0x13 => MsgType::SubAck,
            0x14 => MsgType::Unsubscribe,
            0x15 => MsgType::UnsubAck,
            0x16 => MsgType::PingReq,
            0x17 => MsgType::PingResp,
            0x18 => MsgType::Disconnect,
            0x1A => MsgType::WillTopicUpd,
            0x1B => MsgType::WillTopicResp,
            0x1C => MsgType::WillMsgUpd,
            0x1D => MsgType::WillMsgResp,
            0xFE => MsgType::Encapsulated,
            byte => {
                return Err(InvalidByte {
                    what: "MQTT-SN message type",
                    byte,
                })
            }
        })
    }
}

/// Quality of Service in MQTT-SN (§5.3.4): the three MQTT levels and QoS −1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum QoS {
    /// QoS 0: at most once.
    #[default]
    AtMostOnce,
    /// QoS 1: at least once.
    AtLeastOnce,
    /// QoS 2: exactly once.
    ExactlyOnce,
    /// QoS −1 (flag bits `0b11`): a PUBLISH sent without a connection, on a predefined
    /// topic id or a short topic name (§6.8).
    MinusOne,
}

impl QoS {
    /// From the two QoS bits of a Flags octet (already shifted down).
    #[inline]
    pub(crate) const fn from_bits(bits: u8) -> QoS {
        match bits & 0b11 {
            0 => QoS::AtMostOnce,
            1 => QoS::AtLeastOnce,
            2 => QoS::ExactlyOnce,
            _ => QoS::MinusOne,
        }
    }

    /// The two QoS bits of a Flags octet, not shifted: 0, 1, 2, or 3 for QoS −1.
    #[inline]
    pub const fn bits(self) -> u8 {
        match self {
            QoS::AtMostOnce => 0,
            QoS::AtLeastOnce => 1,
            QoS::ExactlyOnce => 2,
            QoS::MinusOne => 3,
        }
    }

    /// The MQTT QoS a gateway uses for this level: QoS −1 is delivered as QoS 0.
    #[inline]
    pub const fn to_mqtt(self) -> mqtt_codec::QoS {
        match self {
            QoS::AtMostOnce | QoS::MinusOne => mqtt_codec::QoS::AtMostOnce,
            QoS::AtLeastOnce => mqtt_codec::QoS::AtLeastOnce,
            QoS::ExactlyOnce => mqtt_codec::QoS::ExactlyOnce,
        }
    }
}

impl From<mqtt_codec::QoS> for QoS {
    fn from(q: mqtt_codec::QoS) -> Self {
        match q {
            mqtt_codec::QoS::AtMostOnce => QoS::AtMostOnce,
            mqtt_codec::QoS::AtLeastOnce => QoS::AtLeastOnce,
            mqtt_codec::QoS::ExactlyOnce => QoS::ExactlyOnce,
        }
    }
}

/// The TopicIdType bits of a Flags octet (§5.3.4); `0b11` is reserved and refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TopicIdType {
    /// `0b00`: a topic id from REGISTER/REGACK, or, in SUBSCRIBE and UNSUBSCRIBE, a topic
    /// name carried in full.
    Normal = 0,
    /// `0b01`: a predefined topic id.
    Predefined = 1,
    /// `0b10`: a short topic name of two octets.
    Short = 2,
}

/// A Topic Id (§5.3.11): 0x0000 and 0xFFFF are reserved. Kept as any value, because the
/// specification itself sends 0x0000 where there is no id (a REGISTER from a client, a
/// SUBACK to a wildcard subscription) and a PUBACK echoes whatever the PUBLISH carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TopicId(pub u16);

impl TopicId {
    /// 0x0000: no topic id (a REGISTER from a client, a SUBACK to a wildcard subscription).
    pub const NONE: TopicId = TopicId(0);

    /// Whether this is one of the two reserved values, 0x0000 and 0xFFFF.
    pub const fn is_reserved(self) -> bool {
        self.0 == 0 || self.0 == 0xFFFF
    }
}

/// A short topic name (§3 and §5.3.11): exactly two octets, carried in the Topic Id field;
/// a topic name like any other, so well-formed UTF-8 without U+0000 and without the
/// wildcards `+` and `#`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShortTopic([u8; 2]);

impl ShortTopic {
    /// Checks that `s` is exactly two octets long, without U+0000 or wildcards.
    pub fn new(s: &str) -> Result<Self, ValueError> {
        ShortTopic::from_octets(s.as_bytes())
    }

    /// From the two octets of the Topic Id field.
    #[inline]
    pub(crate) fn from_octets(b: &[u8]) -> Result<Self, ValueError> {
        let pair: [u8; 2] = b.try_into().map_err(|_| ValueError::WrongLength {
            len: b.len(),
            expected: 2,
        })?;
        let refused = |c: u8| matches!(c, 0 | b'+' | b'#');
        let [first, second] = pair;
        // Both octets at once; which one and why only on the error path.
        if refused(first) | refused(second) {
            let (at, c) = if refused(first) {
                (0, first)
            } else {
                (1, second)
            };
            return Err(match c {
                0 => ValueError::NullCharacter { at },
                c => ValueError::WildcardInTopicName { at, ch: c as char },
            });
        }
        // Two ASCII characters (the usual case) are well-formed without asking.
        if !pair.is_ascii() {
            core::str::from_utf8(&pair).map_err(|e| ValueError::IllFormedUtf8 {
                at: e.valid_up_to(),
            })?;
        }
        Ok(ShortTopic(pair))
    }

    /// The two characters.
    pub fn as_str(&self) -> &str {
        // Checked at construction; the fallback is unreachable.
        core::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The two octets, as carried in the Topic Id field.
    pub const fn octets(self) -> [u8; 2] {
        self.0
    }
}

impl fmt::Debug for ShortTopic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// What a PUBLISH, SUBSCRIBE or UNSUBSCRIBE refers to: the Topic Id field read according
/// to the TopicIdType flag, or a topic name carried in full.
///
/// PUBLISH carries [`Registered`](TopicRef::Registered), [`Predefined`](TopicRef::Predefined)
/// or [`Short`](TopicRef::Short); SUBSCRIBE and UNSUBSCRIBE carry
/// [`Name`](TopicRef::Name), `Predefined` or `Short`. The encoder refuses the other
/// combinations with [`EncodeError::TopicNotCarried`](crate::EncodeError::TopicNotCarried).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TopicRef<T: StrStorage> {
    /// A topic id agreed with REGISTER/REGACK (TopicIdType `0b00`).
    Registered(TopicId),
    /// A predefined topic id (TopicIdType `0b01`).
    Predefined(TopicId),
    /// A short topic name (TopicIdType `0b10`).
    Short(ShortTopic),
    /// A topic name or filter carried in full (SUBSCRIBE and UNSUBSCRIBE, TopicIdType
    /// `0b00`); wildcards are allowed there.
    Name(TopicFilter<T>),
}

impl<T: StrStorage> TopicRef<T> {
    /// The TopicIdType this reference is sent with.
    pub const fn id_type(&self) -> TopicIdType {
        match self {
            TopicRef::Registered(_) | TopicRef::Name(_) => TopicIdType::Normal,
            TopicRef::Predefined(_) => TopicIdType::Predefined,
            TopicRef::Short(_) => TopicIdType::Short,
        }
    }

    /// The two octets of the Topic Id field, for the forms that use it.
    pub const fn id_field(&self) -> Option<u16> {
        match self {
            TopicRef::Registered(id) | TopicRef::Predefined(id) => Some(id.0),
            TopicRef::Short(s) => Some(u16::from_be_bytes(s.0)),
            TopicRef::Name(_) => None,
        }
    }

    /// The borrowed form, pointing into this value (no copy).
    pub fn view(&self) -> TopicRef<&str> {
        match self {
            TopicRef::Registered(id) => TopicRef::Registered(*id),
            TopicRef::Predefined(id) => TopicRef::Predefined(*id),
            TopicRef::Short(s) => TopicRef::Short(*s),
            TopicRef::Name(f) => TopicRef::Name(f.view()),
        }
    }

    pub(crate) fn share(&self, parent: Option<&bytes::Bytes>) -> TopicRef<bytestring::ByteString> {
        match self {
            TopicRef::Name(f) => TopicRef::Name(match parent {
                Some(p) => f.to_shared_in(p),
                None => f.to_shared(),
            }),
            TopicRef::Registered(id) => TopicRef::Registered(*id),
            TopicRef::Predefined(id) => TopicRef::Predefined(*id),
            TopicRef::Short(s) => TopicRef::Short(*s),
        }
    }
}

/// A ReturnCode (§5.3.10). The reserved codes 0x04–0xFF are kept as values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReturnCode {
    /// 0x00.
    #[default]
    Accepted,
    /// 0x01: rejected, congestion.
    Congestion,
    /// 0x02: rejected, invalid topic id.
    InvalidTopicId,
    /// 0x03: rejected, not supported.
    NotSupported,
    /// 0x04–0xFF: reserved. Built from a byte with `ReturnCode::from(b)`, which maps
    /// 0x00–0x03 to the named codes.
    Reserved(u8),
}

impl ReturnCode {
    /// Whether the code is 0x00, accepted.
    pub const fn is_accepted(self) -> bool {
        matches!(self, ReturnCode::Accepted)
    }
}

impl From<u8> for ReturnCode {
    #[inline]
    fn from(b: u8) -> Self {
        match b {
            0 => ReturnCode::Accepted,
            1 => ReturnCode::Congestion,
            2 => ReturnCode::InvalidTopicId,
            3 => ReturnCode::NotSupported,
            b => ReturnCode::Reserved(b),
        }
    }
}

impl From<ReturnCode> for u8 {
    #[inline]
    fn from(c: ReturnCode) -> u8 {
        match c {
            ReturnCode::Accepted => 0,
            ReturnCode::Congestion => 1,
            ReturnCode::InvalidTopicId => 2,
            ReturnCode::NotSupported => 3,
            ReturnCode::Reserved(b) => b,
        }
    }
}

/// The Flags octet (§5.3.4), field by field. Each message uses some of the fields; the
/// decoder ignores the bits a message does not use and the encoder writes them as zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Flags(pub(crate) u8);

impl Flags {
    pub(crate) const DUP: u8 = 0x80;
    pub(crate) const RETAIN: u8 = 0x10;
    pub(crate) const WILL: u8 = 0x08;
    pub(crate) const CLEAN_SESSION: u8 = 0x04;

    #[inline]
    pub(crate) const fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
    #[inline]
    pub(crate) const fn qos(self) -> QoS {
        QoS::from_bits(self.0 >> 5)
    }
    #[inline]
    pub(crate) const fn topic_id_type(self) -> Option<TopicIdType> {
        match self.0 & 0b11 {
            0 => Some(TopicIdType::Normal),
            1 => Some(TopicIdType::Predefined),
            2 => Some(TopicIdType::Short),
            _ => None,
        }
    }
    #[inline]
    pub(crate) const fn bit(on: bool, bit: u8) -> u8 {
        if on {
            bit
        } else {
            0
        }
    }
    #[inline]
    pub(crate) const fn qos_bits(q: QoS) -> u8 {
        q.bits() << 5
    }
}

/// The Ctrl octet of an Encapsulated message (§5.5): bits 1–0 carry the broadcast radius
/// (gateway to forwarder); the other bits are reserved and kept as they came, so a
/// forwarder's octet is echoed unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ctrl(pub u8);

impl Ctrl {
    /// A Ctrl octet carrying `radius` (0–3) and no reserved bits.
    pub const fn with_radius(radius: u8) -> Ctrl {
        Ctrl(radius & 0b11)
    }

    /// The broadcast radius, bits 1–0.
    pub const fn radius(self) -> u8 {
        self.0 & 0b11
    }
}
