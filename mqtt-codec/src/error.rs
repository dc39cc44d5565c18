//! Errors, one enum per layer: values, decoding, encoding.

use crate::packet::properties::PropertyId;
use crate::packet::reason::{ConnectReason, DisconnectReason, ReasonCode};
use crate::packet::PacketType;
use crate::types::{PacketId, Protocol};
use crate::wire::utf8::Utf8Problem;

/// A value that breaks a rule of its type (string, topic, identifier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// Longer than the 65,535 bytes a two-byte length can describe.
    #[error("{len} bytes is longer than the 65535 a string or binary field can hold")]
    TooLong {
        /// The length.
        len: usize,
    },
    /// Not well-formed UTF-8 (surrogates included).
    #[error("ill-formed UTF-8 at byte {at}")]
    IllFormedUtf8 {
        /// Byte offset inside the string.
        at: usize,
    },
    /// U+0000 inside a string.
    #[error("U+0000 at byte {at}")]
    NullCharacter {
        /// Byte offset inside the string.
        at: usize,
    },
    /// A control character or non-character, refused in strict UTF-8 mode.
    #[error("disallowed code point {ch:?} at byte {at}")]
    DisallowedCodePoint {
        /// Byte offset inside the string.
        at: usize,
        /// The code point.
        ch: char,
    },
    /// A topic name or filter of zero length.
    #[error("empty topic")]
    EmptyTopic,
    /// `+` or `#` in a topic name.
    #[error("wildcard {ch:?} in a topic name at byte {at}")]
    WildcardInTopicName {
        /// Byte offset inside the topic.
        at: usize,
        /// The wildcard.
        ch: char,
    },
    /// `#` that is not the last character of the filter.
    #[error("'#' at byte {at} is not the last level of the filter")]
    MultiLevelNotLast {
        /// Byte offset inside the filter.
        at: usize,
    },
    /// `+` or `#` sharing its level with other characters.
    #[error("wildcard at byte {at} does not fill its level")]
    WildcardNotAlone {
        /// Byte offset inside the filter.
        at: usize,
    },
    /// `$share/` followed by an empty share name or one with `+` or `#`.
    #[error("invalid share name in a shared subscription")]
    InvalidShareName,
    /// `$share/{name}` with no topic filter after it.
    #[error("shared subscription without a topic filter")]
    MissingSharedFilter,
    /// Zero where the value must not be zero.
    #[error("value must not be zero")]
    Zero,
    /// A value of fixed size with another size (an MQTT-SN short topic name is exactly two
    /// octets).
    #[error("{len} bytes where exactly {expected} are required")]
    WrongLength {
        /// The length given.
        len: usize,
        /// The length required.
        expected: usize,
    },
}

impl From<Utf8Problem> for ValueError {
    fn from(p: Utf8Problem) -> Self {
        match p {
            Utf8Problem::IllFormed { at } => ValueError::IllFormedUtf8 { at },
            Utf8Problem::Null { at } => ValueError::NullCharacter { at },
            Utf8Problem::Disallowed { at, ch } => ValueError::DisallowedCodePoint { at, ch },
        }
    }
}

impl ValueError {
    /// Whether the value breaks an encoding rule (a malformed packet) rather than a
    /// semantic one (a protocol error).
    pub const fn is_encoding(&self) -> bool {
        matches!(
            self,
            ValueError::TooLong { .. }
                | ValueError::IllFormedUtf8 { .. }
                | ValueError::NullCharacter { .. }
                | ValueError::DisallowedCodePoint { .. }
        )
    }
}

/// Why bytes could not be decoded as a packet.
///
/// Each error maps, through [`DecodeError::reason_code`], to the MQTT 5.0 reason code a
/// receiver should send before closing (in a DISCONNECT, or a CONNACK for CONNECT
/// problems); MQTT 3.x receivers simply close the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Packet type 0 is reserved.
    #[error("reserved packet type 0")]
    ReservedPacketType,
    /// AUTH outside MQTT 5.0.
    #[error("{packet} does not exist in {protocol}")]
    PacketTypeNotInProtocol {
        /// The packet type.
        packet: PacketType,
        /// The protocol the decoder speaks.
        protocol: Protocol,
    },
    /// Fixed-header flags other than the ones the packet type requires ([MQTT-2.2.2-1]).
    #[error("invalid fixed header flags {flags:#06b} for {packet}")]
    InvalidFlags {
        /// The packet type.
        packet: PacketType,
        /// The low nibble of the first byte.
        flags: u8,
    },
    /// A variable byte integer with a continuation bit on its fourth byte.
    #[error("variable byte integer at offset {offset} is longer than four bytes")]
    VarIntTooLong {
        /// Offset of its first byte in the packet.
        offset: u32,
    },
    /// A variable byte integer not in the fewest bytes (MQTT 5.0, [MQTT-1.5.5-1]).
    #[error("variable byte integer at offset {offset} is not in the fewest bytes")]
    NonMinimalVarInt {
        /// Offset of its first byte in the packet.
        offset: u32,
    },
    /// The fixed header announces a packet larger than the configured maximum.
    #[error("packet of {size} bytes exceeds the maximum packet size of {max}")]
    PacketTooLarge {
        /// The whole packet's size, fixed header included.
        size: u64,
        /// The configured maximum.
        max: u32,
    },
    /// A field runs past the end of the packet.
    #[error("{packet} ends early: {wanted} more bytes wanted at offset {offset}")]
    UnexpectedEnd {
        /// The packet type.
        packet: PacketType,
        /// Where the read started.
        offset: u32,
        /// How many bytes it wanted.
        wanted: u32,
    },
    /// Bytes left after the last field of the packet.
    #[error("trailing bytes in {packet} from offset {offset}")]
    TrailingBytes {
        /// The packet type.
        packet: PacketType,
        /// Where the unread bytes start.
        offset: u32,
    },
    /// QoS 3 in a PUBLISH, a Will, or a subscription ([MQTT-3.3.1-4]).
    #[error("invalid QoS 3 in {packet}")]
    InvalidQos {
        /// The packet type.
        packet: PacketType,
    },
    /// DUP set on a QoS 0 PUBLISH ([MQTT-3.3.1-2]).
    #[error("DUP set on a QoS 0 PUBLISH")]
    DupWithQos0,
    /// A string, topic or other value breaks its rules.
    #[error("invalid field in {packet} at offset {offset}: {error}")]
    Invalid {
        /// The packet type.
        packet: PacketType,
        /// Offset of the field in the packet.
        offset: u32,
        /// What is wrong.
        error: ValueError,
    },
    /// Packet Identifier 0 ([MQTT-2.3.1-1]).
    #[error("packet identifier 0 in {packet}")]
    ZeroPacketId {
        /// The packet type.
        packet: PacketType,
    },
    /// CONNECT protocol name is neither "MQTT" nor (level 3) "MQIsdp" ([MQTT-3.1.2-1]).
    #[error("invalid protocol name in CONNECT")]
    InvalidProtocolName,
    /// CONNECT protocol level other than 3, 4 or 5, or not matching the name
    /// ([MQTT-3.1.2-2]).
    #[error("unsupported protocol level {level}")]
    UnsupportedProtocolLevel {
        /// The level byte.
        level: u8,
    },
    /// CONNECT flags bit 0 set ([MQTT-3.1.2-3]).
    #[error("reserved CONNECT flag set")]
    ReservedConnectFlag,
    /// Will QoS or Will Retain set without the Will Flag ([MQTT-3.1.2-11], [MQTT-3.1.2-13],
    /// [MQTT-3.1.2-15]).
    #[error("will QoS or retain set without the will flag (flags {flags:#010b})")]
    WillFlagsWithoutWill {
        /// The connect flags byte.
        flags: u8,
    },
    /// Password flag without user name flag at MQTT 3.x ([MQTT-3.1.2-22]).
    #[error("password without user name")]
    PasswordWithoutUsername,
    /// Zero-length client identifier with clean session 0 at MQTT 3.1.1 ([MQTT-3.1.3-7]);
    /// a 3.1 client identifier shorter than 1 or (without a configured limit) longer than
    /// 23 characters; or one longer, in bytes, than the configured limit.
    #[error("client identifier of {len} bytes rejected")]
    ClientIdRejected {
        /// Its length in bytes.
        len: u32,
    },
    /// A property identifier that MQTT 5.0 does not define.
    #[error("unknown property identifier {id:#04x} in {packet}")]
    UnknownProperty {
        /// The packet type.
        packet: PacketType,
        /// The identifier.
        id: u32,
    },
    /// A property that may not appear on this packet (MQTT 5.0 §2.2.2.2).
    #[error("property {property:?} is not allowed in {packet}")]
    PropertyNotAllowed {
        /// The packet type (or the will properties of CONNECT).
        packet: PacketType,
        /// The property.
        property: PropertyId,
    },
    /// A property given twice where only one is allowed.
    #[error("property {property:?} given more than once in {packet}")]
    DuplicateProperty {
        /// The packet type.
        packet: PacketType,
        /// The property.
        property: PropertyId,
    },
    /// A property value out of its range (Receive Maximum 0, Maximum QoS 2, …).
    #[error("invalid value {value} for property {property:?} in {packet}")]
    InvalidPropertyValue {
        /// The packet type.
        packet: PacketType,
        /// The property.
        property: PropertyId,
        /// The value.
        value: u32,
    },
    /// A reason code the packet does not allow.
    #[error("invalid reason code {code:#04x} in {packet}")]
    InvalidReasonCode {
        /// The packet type.
        packet: PacketType,
        /// The code.
        code: u8,
    },
    /// SUBSCRIBE or UNSUBSCRIBE with no topic filter ([MQTT-3.8.3-3], [MQTT-3.10.3-2]);
    /// SUBACK or (5.0) UNSUBACK with no reason code.
    #[error("{packet} has an empty payload")]
    EmptyPayload {
        /// The packet type.
        packet: PacketType,
    },
    /// Reserved bits set in the subscription options ([MQTT-3-8.3-4], [MQTT-3.8.3-5]).
    #[error("reserved bits set in subscription options {options:#010b}")]
    ReservedSubscriptionOptions {
        /// The options byte.
        options: u8,
    },
    /// Retain Handling 3 (MQTT 5.0 §3.8.3.1).
    #[error("retain handling 3 is not defined")]
    InvalidRetainHandling,
    /// No Local on a shared subscription ([MQTT-3.8.3-4]).
    #[error("no local set on a shared subscription")]
    NoLocalOnSharedSubscription,
    /// CONNACK acknowledge flags with reserved bits set ([MQTT-3.2.2-1]).
    #[error("reserved CONNACK acknowledge flags {flags:#010b}")]
    ReservedAckFlags {
        /// The acknowledge flags byte.
        flags: u8,
    },
    /// Session Present with a failure code ([MQTT-3.2.2-4], [MQTT-3.2.2-6]).
    #[error("session present set with CONNACK failure code {code:#04x}")]
    SessionPresentWithError {
        /// The code.
        code: u8,
    },
    /// Authentication Data without an Authentication Method in a CONNECT (MQTT 5.0
    /// §3.1.2.11.10): a Protocol Error.
    #[error("authentication data without an authentication method")]
    AuthenticationDataWithoutMethod,
    /// A zero-length PUBLISH topic name without a Topic Alias (MQTT 5.0 §3.3.2.1). At 3.x,
    /// and for a Will Topic, an empty topic is [`ValueError::EmptyTopic`] ([MQTT-4.7.3-1]).
    #[error("empty topic name without a topic alias")]
    EmptyTopicWithoutAlias,
    /// Payload Format Indicator 1 with a payload that is not UTF-8 (MQTT 5.0 §3.3.2.3.2).
    /// Only with [`Decoder::check_payload_format`](crate::Decoder::check_payload_format).
    /// The packet identifier lets the receiver answer with a PUBACK or PUBREC 0x99.
    #[error("payload is not UTF-8 although its format indicator says it is")]
    PayloadFormatInvalid {
        /// PUBLISH or CONNECT (for the will).
        packet: PacketType,
        /// The PUBLISH packet identifier, for QoS 1 and 2.
        packet_id: Option<PacketId>,
    },
}

impl DecodeError {
    /// The MQTT 5.0 reason code to send for this error (in a DISCONNECT; for a CONNECT, in
    /// the CONNACK).
    pub fn reason_code(&self) -> ReasonCode {
        use DecodeError as E;
        match self {
            E::PacketTooLarge { .. } => ReasonCode::PacketTooLarge,
            E::UnsupportedProtocolLevel { .. } => ReasonCode::UnsupportedProtocolVersion,
            E::ClientIdRejected { .. } => ReasonCode::ClientIdentifierNotValid,
            E::PayloadFormatInvalid { .. } => ReasonCode::PayloadFormatInvalid,
            E::Invalid { error, .. } if !error.is_encoding() => ReasonCode::ProtocolError,
            E::PacketTypeNotInProtocol { .. }
            | E::DuplicateProperty { .. }
            | E::InvalidPropertyValue { .. }
            | E::InvalidRetainHandling
            | E::NoLocalOnSharedSubscription
            | E::EmptyTopicWithoutAlias
            | E::AuthenticationDataWithoutMethod
            | E::SessionPresentWithError { .. }
            | E::InvalidProtocolName => ReasonCode::ProtocolError,
            _ => ReasonCode::MalformedPacket,
        }
    }

    /// The reason code of the DISCONNECT a 5.0 receiver sends before it closes the
    /// connection over this error ([MQTT-4.13.1-1]): Malformed Packet, Protocol Error,
    /// Packet Too Large or Payload Format Invalid. An error in the CONNECT itself is
    /// answered with a CONNACK instead ([`DecodeError::connack_reason`]).
    pub fn disconnect_reason(&self) -> DisconnectReason {
        match self.reason_code() {
            ReasonCode::MalformedPacket => DisconnectReason::MalformedPacket,
            ReasonCode::PacketTooLarge => DisconnectReason::PacketTooLarge,
            ReasonCode::PayloadFormatInvalid => DisconnectReason::PayloadFormatInvalid,
            _ => DisconnectReason::ProtocolError,
        }
    }

    /// The DISCONNECT to send for this error: [`DecodeError::disconnect_reason`] and no
    /// properties (a caller that wants a Reason String sets it on the result).
    pub fn disconnect(&self) -> crate::Disconnect<'static> {
        crate::Disconnect::new(self.disconnect_reason())
    }

    /// The CONNACK reason code for an error in a CONNECT (MQTT 5.0 §3.2.2.2; at 3.1.1 its
    /// [`ConnectReason::v3_code`], where there is one).
    pub fn connack_reason(&self) -> ConnectReason {
        match self.reason_code() {
            ReasonCode::MalformedPacket => ConnectReason::MalformedPacket,
            ReasonCode::PacketTooLarge => ConnectReason::PacketTooLarge,
            ReasonCode::PayloadFormatInvalid => ConnectReason::PayloadFormatInvalid,
            ReasonCode::UnsupportedProtocolVersion => ConnectReason::UnsupportedProtocolVersion,
            ReasonCode::ClientIdentifierNotValid => ConnectReason::ClientIdentifierNotValid,
            _ => ConnectReason::ProtocolError,
        }
    }

    /// Whether this is a Malformed Packet (0x81) rather than another reason.
    pub fn is_malformed(&self) -> bool {
        self.reason_code() == ReasonCode::MalformedPacket
    }
}

/// Why a packet could not be encoded. The buffer is left untouched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The buffer has less room than the packet needs.
    #[error("buffer has room for {available} bytes, the packet needs {needed}")]
    BufferTooSmall {
        /// The packet's size.
        needed: usize,
        /// The buffer's room.
        available: usize,
    },
    /// Larger than the Maximum Packet Size, or than the 268,435,455 bytes a Remaining
    /// Length can describe.
    #[error("packet of {size} bytes exceeds the maximum packet size of {max}")]
    PacketTooLarge {
        /// The whole packet's size (for a Remaining Length over the limit, that length).
        size: u64,
        /// The limit.
        max: u64,
    },
    /// Content that exists only in MQTT 5.0 (properties, a reason code other than
    /// success, AUTH, subscription options beyond QoS) asked for at MQTT 3.x.
    #[error("{what} in {packet} does not exist in {protocol}")]
    NotInProtocol {
        /// The packet type.
        packet: PacketType,
        /// What cannot be sent.
        what: &'static str,
        /// The protocol.
        protocol: Protocol,
    },
    /// SUBSCRIBE or UNSUBSCRIBE without a filter, SUBACK (or 5.0 UNSUBACK) without a code.
    #[error("{packet} needs at least one entry in its payload")]
    EmptyPayload {
        /// The packet type.
        packet: PacketType,
    },
    /// A zero-length topic name without a Topic Alias, or at MQTT 3.x.
    #[error("empty topic name without a topic alias")]
    EmptyTopicWithoutAlias,
    /// A value the packet cannot carry at this protocol level.
    #[error("invalid field in {packet}: {error}")]
    Invalid {
        /// The packet type.
        packet: PacketType,
        /// What is wrong.
        error: ValueError,
    },
    /// Session Present with a failure code ([MQTT-3.2.2-4], [MQTT-3.2.2-6]).
    #[error("session present set with a CONNACK failure code")]
    SessionPresentWithError,
    /// No Local on a shared subscription ([MQTT-3.8.3-4]).
    #[error("no local set on a shared subscription")]
    NoLocalOnSharedSubscription,
    /// A password without a user name at MQTT 3.x ([MQTT-3.1.2-22]).
    #[error("password without user name")]
    PasswordWithoutUsername,
    /// Authentication Data without an Authentication Method in a CONNECT (MQTT 5.0
    /// §3.1.2.11.10).
    #[error("authentication data without an authentication method")]
    AuthenticationDataWithoutMethod,
    /// An empty client identifier with clean session 0 at MQTT 3.1.1 ([MQTT-3.1.3-7]), or an
    /// empty one at 3.1. (The 3.1 limit of 23 characters is left to receivers.)
    #[error("client identifier of {len} bytes not allowed")]
    ClientIdRejected {
        /// Its length in bytes.
        len: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Decoder, Protocol};

    #[test]
    fn mqtt_4_13_1_1_decode_error_becomes_the_disconnect_to_send() {
        let d = Decoder::new(Protocol::V5).max_packet_size(16);
        // Malformed: a PUBACK that runs short.
        let e = d.decode(&[0x40, 0x01, 0x00]).unwrap_err();
        let mut out = alloc::vec::Vec::new();
        crate::Packet::Disconnect(e.disconnect())
            .encode(Protocol::V5, &mut out)
            .unwrap();
        assert_eq!(out, [0xe0, 0x01, 0x81]);
        // Packet Too Large, from the fixed header alone.
        let e = d.decode(&[0x30, 0x7f]).unwrap_err();
        assert_eq!(e.disconnect_reason(), DisconnectReason::PacketTooLarge);
        // A protocol error: a duplicate property.
        let e = d
            .decode(&[
                0x40, 0x0a, 0x00, 0x01, 0x00, 0x06, 0x1f, 0x00, 0x00, 0x1f, 0x00, 0x00,
            ])
            .unwrap_err();
        assert_eq!(e.disconnect_reason(), DisconnectReason::ProtocolError);
        assert_eq!(e.disconnect().reason, DisconnectReason::ProtocolError);
    }

    #[test]
    fn connect_errors_map_to_connack_reasons() {
        let e = DecodeError::UnsupportedProtocolLevel { level: 9 };
        assert_eq!(
            e.connack_reason(),
            ConnectReason::UnsupportedProtocolVersion
        );
        assert_eq!(e.connack_reason().v3_code(), Some(1));
        let e = DecodeError::ClientIdRejected { len: 99 };
        assert_eq!(e.connack_reason(), ConnectReason::ClientIdentifierNotValid);
        assert_eq!(
            DecodeError::ReservedConnectFlag.connack_reason(),
            ConnectReason::MalformedPacket
        );
        assert_eq!(
            DecodeError::AuthenticationDataWithoutMethod.connack_reason(),
            ConnectReason::ProtocolError
        );
    }
}
