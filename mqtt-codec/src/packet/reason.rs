//! Reason codes (MQTT 5.0 §2.4), typed per packet: each enum holds only the codes the
//! specification allows on that packet.

use crate::types::InvalidByte;

macro_rules! reason_codes {
    ($(#[$m:meta])* $name:ident ($what:literal) $(default $default:ident)? {
        $( $(#[$vm:meta])* $var:ident = $val:literal ),* $(,)?
    }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum $name {
            $( $(#[$vm])* $var = $val ),*
        }

        impl $name {
            /// The byte on the wire.
            #[inline]
            pub const fn code(self) -> u8 {
                self as u8
            }

            /// Whether the code reports a failure (0x80 and above).
            #[inline]
            pub const fn is_error(self) -> bool {
                (self as u8) >= 0x80
            }

            /// Every code of the set, in order.
            pub const ALL: &'static [$name] = &[$($name::$var),*];
        }

        impl TryFrom<u8> for $name {
            type Error = InvalidByte;
            #[inline]
            fn try_from(byte: u8) -> Result<Self, InvalidByte> {
                match byte {
                    $( $val => Ok($name::$var), )*
                    _ => Err(InvalidByte { what: $what, byte }),
                }
            }
        }

        impl From<$name> for u8 {
            #[inline]
            fn from(r: $name) -> u8 {
                r as u8
            }
        }

        $(
            impl Default for $name {
                fn default() -> Self {
                    $name::$default
                }
            }
        )?
    };
}

reason_codes! {
    /// Every MQTT 5.0 reason code, one name per byte (the name of 0x00 is `Success`;
    /// per-packet enums use the packet's own names).
    ReasonCode ("reason code") default Success {
        /// 0x00: Success, Normal disconnection, Granted QoS 0.
        Success = 0x00,
        /// 0x01: Granted QoS 1.
        GrantedQoS1 = 0x01,
        /// 0x02: Granted QoS 2.
        GrantedQoS2 = 0x02,
        /// 0x04: Disconnect with Will Message.
        DisconnectWithWillMessage = 0x04,
        /// 0x10: No matching subscribers.
        NoMatchingSubscribers = 0x10,
        /// 0x11: No subscription existed.
        NoSubscriptionExisted = 0x11,
        /// 0x18: Continue authentication.
        ContinueAuthentication = 0x18,
        /// 0x19: Re-authenticate.
        ReAuthenticate = 0x19,
        /// 0x80: Unspecified error.
        UnspecifiedError = 0x80,
        /// 0x81: Malformed Packet.
        MalformedPacket = 0x81,
        /// 0x82: Protocol Error.
        ProtocolError = 0x82,
        /// 0x83: Implementation specific error.
        ImplementationSpecificError = 0x83,
        /// 0x84: Unsupported Protocol Version.
        UnsupportedProtocolVersion = 0x84,
        /// 0x85: Client Identifier not valid.
        ClientIdentifierNotValid = 0x85,
        /// 0x86: Bad User Name or Password.
        BadUserNameOrPassword = 0x86,
        /// 0x87: Not authorized.
        NotAuthorized = 0x87,
        /// 0x88: Server unavailable.
        ServerUnavailable = 0x88,
        /// 0x89: Server busy.
        ServerBusy = 0x89,
        /// 0x8A: Banned.
        Banned = 0x8A,
        /// 0x8B: Server shutting down.
        ServerShuttingDown = 0x8B,
        /// 0x8C: Bad authentication method.
        BadAuthenticationMethod = 0x8C,
        /// 0x8D: Keep Alive timeout.
        KeepAliveTimeout = 0x8D,
        /// 0x8E: Session taken over.
        SessionTakenOver = 0x8E,
        /// 0x8F: Topic Filter invalid.
        TopicFilterInvalid = 0x8F,
        /// 0x90: Topic Name invalid.
        TopicNameInvalid = 0x90,
        /// 0x91: Packet Identifier in use.
        PacketIdentifierInUse = 0x91,
        /// 0x92: Packet Identifier not found.
        PacketIdentifierNotFound = 0x92,
        /// 0x93: Receive Maximum exceeded.
        ReceiveMaximumExceeded = 0x93,
        /// 0x94: Topic Alias invalid.
        TopicAliasInvalid = 0x94,
        /// 0x95: Packet too large.
        PacketTooLarge = 0x95,
        /// 0x96: Message rate too high.
        MessageRateTooHigh = 0x96,
        /// 0x97: Quota exceeded.
        QuotaExceeded = 0x97,
        /// 0x98: Administrative action.
        AdministrativeAction = 0x98,
        /// 0x99: Payload format invalid.
        PayloadFormatInvalid = 0x99,
        /// 0x9A: Retain not supported.
        RetainNotSupported = 0x9A,
        /// 0x9B: QoS not supported.
        QoSNotSupported = 0x9B,
        /// 0x9C: Use another server.
        UseAnotherServer = 0x9C,
        /// 0x9D: Server moved.
        ServerMoved = 0x9D,
        /// 0x9E: Shared Subscriptions not supported.
        SharedSubscriptionsNotSupported = 0x9E,
        /// 0x9F: Connection rate exceeded.
        ConnectionRateExceeded = 0x9F,
        /// 0xA0: Maximum connect time.
        MaximumConnectTime = 0xA0,
        /// 0xA1: Subscription Identifiers not supported.
        SubscriptionIdentifiersNotSupported = 0xA1,
        /// 0xA2: Wildcard Subscriptions not supported.
        WildcardSubscriptionsNotSupported = 0xA2,
    }
}

impl ReasonCode {
    /// The code for a byte this crate produced from a per-packet code (always one of the
    /// set); an unknown byte gives `UnspecifiedError`.
    #[inline]
    pub(crate) fn from_byte(b: u8) -> ReasonCode {
        ReasonCode::try_from(b).unwrap_or(ReasonCode::UnspecifiedError)
    }
}

reason_codes! {
    /// CONNACK Connect Reason Code (MQTT 5.0 §3.2.2.2, [MQTT-3.2.2-8]). At MQTT 3.x the six
    /// return codes map to `Success`, `UnsupportedProtocolVersion`,
    /// `ClientIdentifierNotValid`, `ServerUnavailable`, `BadUserNameOrPassword` and
    /// `NotAuthorized`; any other is an encode error there.
    ConnectReason ("CONNACK reason code") default Success {
        /// 0x00 (3.x: 0 Connection Accepted).
        Success = 0x00,
        /// 0x80.
        UnspecifiedError = 0x80,
        /// 0x81.
        MalformedPacket = 0x81,
        /// 0x82.
        ProtocolError = 0x82,
        /// 0x83.
        ImplementationSpecificError = 0x83,
        /// 0x84 (3.x: 1 unacceptable protocol version).
        UnsupportedProtocolVersion = 0x84,
        /// 0x85 (3.x: 2 identifier rejected).
        ClientIdentifierNotValid = 0x85,
        /// 0x86 (3.x: 4 bad user name or password).
        BadUserNameOrPassword = 0x86,
        /// 0x87 (3.x: 5 not authorized).
        NotAuthorized = 0x87,
        /// 0x88 (3.x: 3 server unavailable).
        ServerUnavailable = 0x88,
        /// 0x89.
        ServerBusy = 0x89,
        /// 0x8A.
        Banned = 0x8A,
        /// 0x8C.
        BadAuthenticationMethod = 0x8C,
        /// 0x90.
        TopicNameInvalid = 0x90,
        /// 0x95.
        PacketTooLarge = 0x95,
        /// 0x97.
        QuotaExceeded = 0x97,
        /// 0x99.
        PayloadFormatInvalid = 0x99,
        /// 0x9A.
        RetainNotSupported = 0x9A,
        /// 0x9B.
        QoSNotSupported = 0x9B,
        /// 0x9C.
        UseAnotherServer = 0x9C,
        /// 0x9D.
        ServerMoved = 0x9D,
        /// 0x9F.
        ConnectionRateExceeded = 0x9F,
    }
}

impl ConnectReason {
    /// The MQTT 3.x CONNACK return code for this reason, if it has one.
    pub const fn v3_code(self) -> Option<u8> {
        match self {
            ConnectReason::Success => Some(0),
            ConnectReason::UnsupportedProtocolVersion => Some(1),
            ConnectReason::ClientIdentifierNotValid => Some(2),
            ConnectReason::ServerUnavailable => Some(3),
            ConnectReason::BadUserNameOrPassword => Some(4),
            ConnectReason::NotAuthorized => Some(5),
            _ => None,
        }
    }

    /// The reason for an MQTT 3.x CONNACK return code (0 to 5).
    pub const fn from_v3_code(b: u8) -> Option<Self> {
        Some(match b {
            0 => ConnectReason::Success,
            1 => ConnectReason::UnsupportedProtocolVersion,
            2 => ConnectReason::ClientIdentifierNotValid,
            3 => ConnectReason::ServerUnavailable,
            4 => ConnectReason::BadUserNameOrPassword,
            5 => ConnectReason::NotAuthorized,
            _ => return None,
        })
    }
}

/// PUBACK and PUBREC share one set of codes; PUBREL and PUBCOMP another.
macro_rules! publish_ack_codes {
    ($(#[$m:meta])* $name:ident ($what:literal)) => {
        reason_codes! {
            $(#[$m])*
            $name ($what) default Success {
                /// 0x00.
                Success = 0x00,
                /// 0x10.
                NoMatchingSubscribers = 0x10,
                /// 0x80.
                UnspecifiedError = 0x80,
                /// 0x83.
                ImplementationSpecificError = 0x83,
                /// 0x87.
                NotAuthorized = 0x87,
                /// 0x90.
                TopicNameInvalid = 0x90,
                /// 0x91.
                PacketIdentifierInUse = 0x91,
                /// 0x97.
                QuotaExceeded = 0x97,
                /// 0x99.
                PayloadFormatInvalid = 0x99,
            }
        }
    };
}

macro_rules! publish_release_codes {
    ($(#[$m:meta])* $name:ident ($what:literal)) => {
        reason_codes! {
            $(#[$m])*
            $name ($what) default Success {
                /// 0x00.
                Success = 0x00,
                /// 0x92.
                PacketIdentifierNotFound = 0x92,
            }
        }
    };
}

publish_ack_codes! {
    /// PUBACK Reason Code (MQTT 5.0 §3.4.2.1, [MQTT-3.4.2-1]).
    PubAckReason ("PUBACK reason code")
}
publish_ack_codes! {
    /// PUBREC Reason Code (MQTT 5.0 §3.5.2.1, [MQTT-3.5.2-1]).
    PubRecReason ("PUBREC reason code")
}
publish_release_codes! {
    /// PUBREL Reason Code (MQTT 5.0 §3.6.2.1, [MQTT-3.6.2-1]).
    PubRelReason ("PUBREL reason code")
}
publish_release_codes! {
    /// PUBCOMP Reason Code (MQTT 5.0 §3.7.2.1, [MQTT-3.7.2-1]).
    PubCompReason ("PUBCOMP reason code")
}

reason_codes! {
    /// SUBACK Reason Code (MQTT 5.0 §3.9.3, [MQTT-3.9.3-2]). MQTT 3.1.1 has the first three
    /// and 0x80 (Failure, here `UnspecifiedError`).
    SubAckReason ("SUBACK reason code") default GrantedQoS0 {
        /// 0x00.
        GrantedQoS0 = 0x00,
        /// 0x01.
        GrantedQoS1 = 0x01,
        /// 0x02.
        GrantedQoS2 = 0x02,
        /// 0x80 (3.1.1: Failure).
        UnspecifiedError = 0x80,
        /// 0x83.
        ImplementationSpecificError = 0x83,
        /// 0x87.
        NotAuthorized = 0x87,
        /// 0x8F.
        TopicFilterInvalid = 0x8F,
        /// 0x91.
        PacketIdentifierInUse = 0x91,
        /// 0x97.
        QuotaExceeded = 0x97,
        /// 0x9E.
        SharedSubscriptionsNotSupported = 0x9E,
        /// 0xA1.
        SubscriptionIdentifiersNotSupported = 0xA1,
        /// 0xA2.
        WildcardSubscriptionsNotSupported = 0xA2,
    }
}

impl SubAckReason {
    /// Whether MQTT 3.x has this code (0x00, 0x01, 0x02, 0x80).
    pub const fn in_v3(self) -> bool {
        matches!(
            self,
            SubAckReason::GrantedQoS0
                | SubAckReason::GrantedQoS1
                | SubAckReason::GrantedQoS2
                | SubAckReason::UnspecifiedError
        )
    }

    /// The granted QoS, for a success code.
    pub const fn granted_qos(self) -> Option<crate::QoS> {
        match self {
            SubAckReason::GrantedQoS0 => Some(crate::QoS::AtMostOnce),
            SubAckReason::GrantedQoS1 => Some(crate::QoS::AtLeastOnce),
            SubAckReason::GrantedQoS2 => Some(crate::QoS::ExactlyOnce),
            _ => None,
        }
    }
}

reason_codes! {
    /// UNSUBACK Reason Code (MQTT 5.0 §3.11.3, [MQTT-3.11.3-2]).
    UnsubAckReason ("UNSUBACK reason code") default Success {
        /// 0x00.
        Success = 0x00,
        /// 0x11.
        NoSubscriptionExisted = 0x11,
        /// 0x80.
        UnspecifiedError = 0x80,
        /// 0x83.
        ImplementationSpecificError = 0x83,
        /// 0x87.
        NotAuthorized = 0x87,
        /// 0x8F.
        TopicFilterInvalid = 0x8F,
        /// 0x91.
        PacketIdentifierInUse = 0x91,
    }
}

reason_codes! {
    /// DISCONNECT Reason Code (MQTT 5.0 §3.14.2.1, [MQTT-3.14.2-1]).
    DisconnectReason ("DISCONNECT reason code") default NormalDisconnection {
        /// 0x00.
        NormalDisconnection = 0x00,
        /// 0x04.
        DisconnectWithWillMessage = 0x04,
        /// 0x80.
        UnspecifiedError = 0x80,
        /// 0x81.
        MalformedPacket = 0x81,
        /// 0x82.
        ProtocolError = 0x82,
        /// 0x83.
        ImplementationSpecificError = 0x83,
        /// 0x87.
        NotAuthorized = 0x87,
        /// 0x89.
        ServerBusy = 0x89,
        /// 0x8B.
        ServerShuttingDown = 0x8B,
        /// 0x8D.
        KeepAliveTimeout = 0x8D,
        /// 0x8E.
        SessionTakenOver = 0x8E,
        /// 0x8F.
        TopicFilterInvalid = 0x8F,
        /// 0x90.
        TopicNameInvalid = 0x90,
        /// 0x93.
        ReceiveMaximumExceeded = 0x93,
        /// 0x94.
        TopicAliasInvalid = 0x94,
        /// 0x95.
        PacketTooLarge = 0x95,
        /// 0x96.
        MessageRateTooHigh = 0x96,
        /// 0x97.
        QuotaExceeded = 0x97,
        /// 0x98.
        AdministrativeAction = 0x98,
        /// 0x99.
        PayloadFormatInvalid = 0x99,
        /// 0x9A.
        RetainNotSupported = 0x9A,
        /// 0x9B.
        QoSNotSupported = 0x9B,
        /// 0x9C.
        UseAnotherServer = 0x9C,
        /// 0x9D.
        ServerMoved = 0x9D,
        /// 0x9E.
        SharedSubscriptionsNotSupported = 0x9E,
        /// 0x9F.
        ConnectionRateExceeded = 0x9F,
        /// 0xA0.
        MaximumConnectTime = 0xA0,
        /// 0xA1.
        SubscriptionIdentifiersNotSupported = 0xA1,
        /// 0xA2.
        WildcardSubscriptionsNotSupported = 0xA2,
    }
}

macro_rules! into_reason_code {
    ($($name:ident),*) => {$(
        impl From<$name> for ReasonCode {
            #[inline]
            fn from(r: $name) -> ReasonCode {
                ReasonCode::from_byte(r as u8)
            }
        }
    )*};
}
into_reason_code!(
    ConnectReason,
    PubAckReason,
    PubRecReason,
    PubRelReason,
    PubCompReason,
    SubAckReason,
    UnsubAckReason,
    DisconnectReason,
    AuthReason
);

reason_codes! {
    /// AUTH Authenticate Reason Code (MQTT 5.0 §3.15.2.1, [MQTT-3.15.2-1]).
    AuthReason ("AUTH reason code") default Success {
        /// 0x00.
        Success = 0x00,
        /// 0x18.
        ContinueAuthentication = 0x18,
        /// 0x19.
        ReAuthenticate = 0x19,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_per_packet_code_is_a_known_reason_code() {
        for &c in DisconnectReason::ALL {
            assert_eq!(ReasonCode::from(c).code(), c.code());
        }
        for &c in ConnectReason::ALL {
            assert_eq!(ReasonCode::from(c).code(), c.code());
        }
        for &c in SubAckReason::ALL {
            assert_eq!(ReasonCode::from(c).code(), c.code());
        }
    }

    #[test]
    fn mqtt_3_4_2_1_puback_refuses_codes_outside_its_set() {
        assert_eq!(
            PubAckReason::try_from(0x92),
            Err(InvalidByte {
                what: "PUBACK reason code",
                byte: 0x92
            })
        );
        assert_eq!(
            PubAckReason::try_from(0x10),
            Ok(PubAckReason::NoMatchingSubscribers)
        );
    }

    #[test]
    fn mqtt_3_15_2_1_auth_codes() {
        assert!(AuthReason::try_from(0x17).is_err());
        assert_eq!(AuthReason::try_from(0x19), Ok(AuthReason::ReAuthenticate));
    }
}
