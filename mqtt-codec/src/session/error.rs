//! The connection machines' errors: what the peer did wrong ([`ProtocolError`]), why a
//! connection ended ([`CloseReason`]), and why a command was refused ([`CommandError`]).

use core::fmt;

use super::flow::SenderFlow;
use crate::{
    shared, ConnectReason, DecodeError, DisconnectReason, EncodeError, PacketId, PacketType, QoS,
};

/// Where a connection machine stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnState {
    /// Not started: a client before `connect`.
    Idle,
    /// A server waiting for CONNECT.
    AwaitConnect,
    /// A server that received CONNECT and waits for the application to accept or refuse
    /// it (and for AUTH exchanges meanwhile).
    AwaitAccept,
    /// A client that sent CONNECT and waits for CONNACK.
    AwaitConnAck,
    /// CONNACK accepted the connection.
    Connected,
    /// The connection is over; nothing more is read or sent on it.
    Closed,
}

impl fmt::Display for ConnState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnState::Idle => "before connecting",
            ConnState::AwaitConnect => "before CONNECT",
            ConnState::AwaitAccept => "while CONNECT awaits the application",
            ConnState::AwaitConnAck => "before CONNACK",
            ConnState::Connected => "while connected",
            ConnState::Closed => "after the connection closed",
        })
    }
}

/// A session rule the peer broke. The machine closes the connection as the specification
/// says (at 5.0 with a DISCONNECT carrying [`ProtocolError::disconnect_reason`] first, where
/// one may be sent) and reports it in [`CloseReason::ProtocolError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The bytes did not decode: malformed, or a protocol error the codec sees alone.
    #[error("{0}")]
    Decode(DecodeError),
    /// A packet that may not arrive in this state, or not from this side at all.
    #[error("{packet} is not allowed {state}")]
    UnexpectedPacket {
        /// The machine's state.
        state: ConnState,
        /// The packet that arrived.
        packet: PacketType,
    },
    /// An acknowledgement that does not fit the flow of the message it names.
    #[error("{packet} for packet identifier {packet_id}, whose flow is in state {flow:?}")]
    UnexpectedAck {
        /// The packet identifier.
        packet_id: PacketId,
        /// The packet that arrived.
        packet: PacketType,
        /// The state of that message's flow.
        flow: SenderFlow,
    },
    /// A SUBACK or UNSUBACK for an identifier with no request pending.
    #[error("{packet} for packet identifier {packet_id}, which no request is waiting on")]
    UnknownPacketId {
        /// The packet that arrived.
        packet: PacketType,
        /// Its packet identifier.
        packet_id: PacketId,
    },
    /// More QoS 1 and 2 messages unacknowledged than the Receive Maximum we announced
    /// ([MQTT-3.3.4-7], [MQTT-3.3.4-9]).
    #[error("more than Receive Maximum ({max}) QoS 1 and QoS 2 PUBLISH packets unacknowledged")]
    ReceiveMaximumExceeded {
        /// Our Receive Maximum.
        max: u16,
    },
    /// A Topic Alias of 0 or above the maximum we announced ([MQTT-3.3.2-10],
    /// [MQTT-3.3.2-12]).
    #[error("topic alias {alias} is above the maximum of {max}")]
    TopicAliasInvalid {
        /// The alias.
        alias: u16,
        /// Our Topic Alias Maximum.
        max: u16,
    },
    /// A PUBLISH with an empty topic and an alias this connection has no mapping for.
    #[error("topic alias {alias} was never set on this connection")]
    UnknownTopicAlias {
        /// The alias.
        alias: u16,
    },
    /// A PUBLISH above the Maximum QoS we announced.
    #[error("PUBLISH at QoS {qos} is above the maximum QoS announced")]
    QosNotSupported {
        /// Its QoS.
        qos: u8,
    },
    /// A retained PUBLISH after we announced Retain Available 0.
    #[error("retained PUBLISH though Retain Available is 0")]
    RetainNotSupported,
    /// CONNACK said Session Present to a client that asked for a clean start
    /// ([MQTT-3.2.2-4]).
    #[error("CONNACK has Session Present 1 for a clean start")]
    SessionPresentOnCleanStart,
    /// SUBACK or UNSUBACK with a number of reason codes other than the request's number of
    /// filters ([MQTT-3.8.4-5], [MQTT-3.8.4-6], [MQTT-3.11.3-1]).
    #[error("{packet} has {got} reason codes for {expected} topic filters")]
    ReasonCountMismatch {
        /// SUBACK or UNSUBACK.
        packet: PacketType,
        /// Reason codes received.
        got: usize,
        /// Filters requested.
        expected: usize,
    },
    /// A SUBSCRIBE or UNSUBSCRIBE with the identifier of one still unanswered
    /// ([MQTT-2.3.1-2]).
    #[error("{packet} with packet identifier {packet_id}, which is still in use")]
    PacketIdInUse {
        /// The packet that arrived.
        packet: PacketType,
        /// Its packet identifier.
        packet_id: PacketId,
    },
    /// A SUBSCRIBE using what the server announced unavailable: wildcards, shared
    /// subscriptions or subscription identifiers; the reason code says which.
    #[error("subscription feature not supported ({0:?})")]
    NotSupported(DisconnectReason),
    /// More bytes than one maximum packet sent while CONNECT awaits the application.
    #[error("more than {limit} bytes sent before CONNACK")]
    BufferLimit {
        /// The limit.
        limit: usize,
    },
    /// AUTH where no Authentication Method was agreed, or with another method
    /// ([MQTT-4.12.0-5], [MQTT-4.12.0-6], [MQTT-4.12.0-7]).
    #[error("AUTH does not match the connection's Authentication Method")]
    AuthMethodMismatch,
}

impl ProtocolError {
    /// The reason code to close with (MQTT 5.0 DISCONNECT).
    pub fn disconnect_reason(&self) -> DisconnectReason {
        match self {
            ProtocolError::Decode(e) => e.disconnect_reason(),
            ProtocolError::ReceiveMaximumExceeded { .. } => {
                DisconnectReason::ReceiveMaximumExceeded
            }
            ProtocolError::TopicAliasInvalid { .. } => DisconnectReason::TopicAliasInvalid,
            ProtocolError::QosNotSupported { .. } => DisconnectReason::QoSNotSupported,
            ProtocolError::RetainNotSupported => DisconnectReason::RetainNotSupported,
            ProtocolError::NotSupported(r) => *r,
            _ => DisconnectReason::ProtocolError,
        }
    }

    /// The reason code to refuse a CONNECT with, when the error comes before CONNACK.
    pub fn connack_reason(&self) -> ConnectReason {
        match self {
            ProtocolError::Decode(e) => e.connack_reason(),
            _ => ConnectReason::ProtocolError,
        }
    }
}

impl From<DecodeError> for ProtocolError {
    fn from(e: DecodeError) -> Self {
        ProtocolError::Decode(e)
    }
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// We ended it with DISCONNECT (the `disconnect` command), with this reason code.
    Disconnected(DisconnectReason),
    /// The peer sent DISCONNECT.
    PeerDisconnected(shared::Disconnect),
    /// The CONNECT was refused: a client received this CONNACK reason code, or a server's
    /// application refused with it.
    Refused(ConnectReason),
    /// The peer broke a rule; at 5.0 a DISCONNECT (or a refusing CONNACK, before CONNACK)
    /// with [`ProtocolError::disconnect_reason`] was sent first where the specification
    /// lets us.
    ProtocolError(ProtocolError),
    /// A client got no PINGRESP (or no CONNACK) in time; a server heard nothing from the
    /// client for one and a half times the Keep Alive ([MQTT-3.1.2-24], [MQTT-3.1.2-22]).
    KeepAliveTimeout,
    /// The peer's limits leave no room for the packets the protocol needs (a Maximum
    /// Packet Size below the size of PINGREQ).
    Unusable(CommandError),
    /// The caller reported the network connection gone (`handle_link_lost`, or a client's
    /// `reconnect`).
    LinkLost,
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::Disconnected(r) => write!(f, "disconnected ({r:?})"),
            CloseReason::PeerDisconnected(d) => write!(f, "peer disconnected ({:?})", d.reason),
            CloseReason::Refused(r) => write!(f, "refused ({r:?})"),
            CloseReason::ProtocolError(e) => write!(f, "protocol error: {e}"),
            CloseReason::KeepAliveTimeout => f.write_str("keep alive timeout"),
            CloseReason::Unusable(e) => write!(f, "unusable: {e}"),
            CloseReason::LinkLost => f.write_str("link lost"),
        }
    }
}

/// Why a command was refused. Nothing was sent and nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The command needs another state.
    #[error("not possible {state}")]
    WrongState {
        /// The machine's state.
        state: ConnState,
    },
    /// A PUBLISH above the Maximum QoS the server announced ([MQTT-3.2.2-11]).
    #[error("QoS {qos:?} is above the peer's maximum QoS {max:?}")]
    QosNotSupported {
        /// The QoS asked.
        qos: QoS,
        /// The peer's maximum.
        max: QoS,
    },
    /// A retained PUBLISH where the peer announced Retain Available 0 ([MQTT-3.2.2-14]).
    #[error("the peer does not support retained messages")]
    RetainNotSupported,
    /// A subscription the server announced it does not support (wildcards, shared
    /// subscriptions or subscription identifiers).
    #[error("the peer does not support {0}")]
    NotSupported(&'static str),
    /// The packet would exceed the peer's Maximum Packet Size, even trimmed
    /// ([MQTT-3.2.2-15], [MQTT-3.1.2-24]).
    #[error("a {size}-byte packet exceeds the peer's maximum packet size of {max}")]
    PacketTooLarge {
        /// The packet's size.
        size: u64,
        /// The peer's maximum.
        max: u32,
    },
    /// All 65,535 packet identifiers are in use.
    #[error("no packet identifier is free")]
    PacketIdsExhausted,
    /// No message or request waits for an answer with this identifier.
    #[error("nothing waits on packet identifier {0}")]
    UnknownPacketId(PacketId),
    /// A SUBACK or UNSUBACK answer with another number of reason codes than filters.
    #[error("{got} reason codes for {expected} topic filters")]
    ReasonCountMismatch {
        /// Reason codes given.
        got: usize,
        /// Filters in the request.
        expected: usize,
    },
    /// A reason code the acknowledgement cannot carry.
    #[error("0x{0:02x} is not a reason code of this acknowledgement")]
    InvalidReasonCode(u8),
    /// A DISCONNECT with a non-zero Session Expiry Interval after a CONNECT with none or
    /// zero (MQTT 5.0 §3.14.2.2.2).
    #[error("the session was to end with the connection: DISCONNECT cannot extend it")]
    SessionExpiryFromZero,
    /// AUTH without an Authentication Method on this connection ([MQTT-4.12.0-7]).
    #[error("no Authentication Method was agreed on this connection")]
    NoAuthentication,
    /// The packet does not encode.
    #[error("{0}")]
    Encode(EncodeError),
}

impl From<EncodeError> for CommandError {
    fn from(e: EncodeError) -> Self {
        match e {
            EncodeError::PacketTooLarge { size, max } => CommandError::PacketTooLarge {
                size,
                max: u32::try_from(max).unwrap_or(u32::MAX),
            },
            e => CommandError::Encode(e),
        }
    }
}
