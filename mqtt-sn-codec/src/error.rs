//! Errors, one enum per layer: decoding and encoding. Values reuse
//! [`mqtt_codec::ValueError`].

use mqtt_codec::ValueError;

use crate::types::MsgType;

/// Why bytes are not an MQTT-SN 1.2 message. Every variant is a malformed message: the
/// specification has no finer distinction, and a gateway drops such a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// A datagram of zero octets, or fewer octets than its Length field needs.
    #[error("{len} octets cannot hold a message header")]
    TooShort {
        /// Octets in the datagram.
        len: usize,
    },
    /// A Length octet of 0x00, which is never valid (§5.2.1).
    #[error("length octet 0x00")]
    ZeroLength,
    /// A Length smaller than the header it is part of (Length and MsgType, §5.2.1).
    #[error("length {declared} is shorter than the {header}-octet header")]
    LengthBelowHeader {
        /// The Length field.
        declared: usize,
        /// Octets of Length plus MsgType.
        header: usize,
    },
    /// The Length field disagrees with the size of the datagram (§5.2.1).
    #[error("length field says {declared} octets, the datagram has {actual}")]
    LengthMismatch {
        /// The Length field.
        declared: usize,
        /// Octets in the datagram (for an encapsulated message: after the
        /// encapsulation header).
        actual: usize,
    },
    /// A framed message longer than the decoder's configured maximum, refused from its
    /// Length field before the body is buffered.
    #[error("message of {len} octets exceeds the maximum of {max}")]
    TooLarge {
        /// The Length field.
        len: usize,
        /// The configured maximum.
        max: usize,
    },
    /// A reserved MsgType code (§5.2.2).
    #[error("reserved message type 0x{0:02x}")]
    ReservedMsgType(u8),
    /// The message ends before its fixed fields do (§5.4).
    #[error("{msg} ends before its fields do")]
    UnexpectedEnd {
        /// The message.
        msg: MsgType,
    },
    /// Octets after the last field of a fixed-size message (§5.4).
    #[error("{extra} octets after the last field of {msg}")]
    TrailingBytes {
        /// The message.
        msg: MsgType,
        /// How many.
        extra: usize,
    },
    /// TopicIdType `0b11`, reserved (§5.3.4).
    #[error("{msg} with the reserved TopicIdType 0b11")]
    ReservedTopicIdType {
        /// The message.
        msg: MsgType,
    },
    /// A CONNECT whose ProtocolId is not 0x01 (§5.3.8).
    #[error("protocol id 0x{0:02x}, only 0x01 is defined")]
    InvalidProtocolId(u8),
    /// A ClientId outside 1 to the configured maximum of characters (§5.3.1: 1–23).
    #[error("{msg} client id of {chars} characters, allowed 1 to {max}")]
    ClientIdLength {
        /// CONNECT or PINGREQ.
        msg: MsgType,
        /// Characters in the ClientId.
        chars: usize,
        /// The configured maximum.
        max: usize,
    },
    /// MsgId 0x0000 in a message that must carry a message id (§5.3.6).
    #[error("{msg} with message id 0")]
    ZeroMsgId {
        /// The message.
        msg: MsgType,
    },
    /// A topic name, short topic name, topic filter or ClientId that breaks the string
    /// rules (ill-formed UTF-8, U+0000, a wildcard in a topic name, an empty topic).
    #[error("{msg} {field}: {error}")]
    Invalid {
        /// The message.
        msg: MsgType,
        /// The field: `"topic name"`, `"topic filter"`, `"short topic name"`, `"client id"`.
        field: &'static str,
        /// What is wrong with it.
        error: ValueError,
    },
    /// A PUBLISH with QoS −1 on a normal topic id; QoS −1 is only for predefined topic
    /// ids and short topic names (§6.8).
    #[error("PUBLISH with QoS -1 on a normal topic id")]
    MinusOneOnNormalTopic,
    /// An Encapsulated message inside an Encapsulated message (§5.5 wraps one MQTT-SN
    /// message, not another encapsulation).
    #[error("encapsulated message inside an encapsulated message")]
    NestedEncapsulation,
    /// An Encapsulated message whose Length field has the three-octet form: §5.5 gives the
    /// encapsulation header a one-octet Length.
    #[error("encapsulation header with a three-octet length field")]
    LongEncapsulationLength,
    /// QoS `0b11` (−1) in a message other than PUBLISH (§5.3.4: QoS −1 exists only for
    /// PUBLISH): SUBSCRIBE, SUBACK, WILLTOPIC or WILLTOPICUPD.
    #[error("{msg} with QoS -1, which only PUBLISH may carry")]
    MinusOneOutsidePublish {
        /// The message.
        msg: MsgType,
    },
}

/// Why a message cannot be encoded. Nothing is written when encoding fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The message would be longer than the 65,535 octets a Length field can hold (§5.2.1).
    #[error("{msg} of {len} octets exceeds the 65535 a length field can describe")]
    TooLong {
        /// The message.
        msg: MsgType,
        /// Its length.
        len: usize,
    },
    /// The buffer has less room than the message needs.
    #[error("message needs {needed} octets, the buffer has room for {available}")]
    BufferTooSmall {
        /// The encoded length.
        needed: usize,
        /// `BufMut::remaining_mut()`.
        available: usize,
    },
    /// A topic form the message cannot carry: a topic name in PUBLISH (it carries ids and
    /// short names only) or a registered topic id in SUBSCRIBE/UNSUBSCRIBE (TopicIdType
    /// `0b00` means a topic name there).
    #[error("{msg} cannot carry a {form}")]
    TopicNotCarried {
        /// The message.
        msg: MsgType,
        /// `"topic name"` or `"registered topic id"`.
        form: &'static str,
    },
    /// A PUBLISH with QoS −1 on a registered topic id (§6.8).
    #[error("PUBLISH with QoS -1 on a registered topic id")]
    MinusOneOnNormalTopic,
    /// An empty ClientId (§5.3.1: 1 to 23 characters).
    #[error("{msg} with an empty client id")]
    EmptyClientId {
        /// CONNECT or PINGREQ.
        msg: MsgType,
    },
    /// An Encapsulated message inside an Encapsulated message.
    #[error("encapsulated message inside an encapsulated message")]
    NestedEncapsulation,
    /// An Encapsulated message whose header would not fit the one-octet Length of §5.5:
    /// a Wireless Node Id longer than 252 octets.
    #[error("wireless node id of {len} octets; at most 252 fit the encapsulation header")]
    NodeIdTooLong {
        /// Octets in the Wireless Node Id.
        len: usize,
    },
    /// QoS −1 in a message other than PUBLISH (§5.3.4).
    #[error("{msg} with QoS -1, which only PUBLISH may carry")]
    MinusOneOutsidePublish {
        /// The message.
        msg: MsgType,
    },
    /// An empty topic name in REGISTER, WILLTOPIC or WILLTOPICUPD, which carry one (only
    /// the two-octet form of WILLTOPIC and WILLTOPICUPD has none: `None`).
    #[error("{msg} with an empty topic name")]
    EmptyTopicName {
        /// The message.
        msg: MsgType,
    },
}
