//! CONNACK (MQTT 5.0 §3.2, MQTT 3.1.1 §3.2).

use bytes::{BufMut, Bytes};

use crate::error::{DecodeError, EncodeError};
use crate::packet::properties::{read_v5, v5_block_len, ConnAckProperties};
use crate::packet::reason::ConnectReason;
use crate::packet::{Decoder, PacketType};
use crate::storage::{Source, Storage};
use crate::types::Protocol;
use crate::wire::reader::Reader;

/// CONNACK. At MQTT 3.x the return code maps onto [`ConnectReason`] (see there).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnAck<B: Storage> {
    /// Session Present (not in MQTT 3.1). Only with `Success` ([MQTT-3.2.2-4],
    /// [MQTT-3.2.2-6]).
    pub session_present: bool,
    /// The Connect Reason Code, or the 3.x return code.
    pub reason: ConnectReason,
    /// CONNACK properties (MQTT 5.0).
    pub properties: ConnAckProperties<B>,
}

impl<B: Storage> ConnAck<B> {
    /// A CONNACK with no properties.
    pub fn new(reason: ConnectReason, session_present: bool) -> Self {
        ConnAck {
            session_present,
            reason,
            properties: ConnAckProperties::default(),
        }
    }

    pub(crate) fn decode<'a, S: Source<'a, B = B>>(
        r: &mut Reader<'a>,
        d: &Decoder,
        src: S,
    ) -> Result<Self, DecodeError> {
        let protocol = d.protocol();
        let flags = r.u8()?;
        // MQTT 3.1 has a reserved (unused) byte here: no Session Present.
        let session_present = match protocol {
            Protocol::V3_1 => false,
            _ => {
                // [MQTT-3.2.2-1] (5.0); 3.1.1 §3.2.2.1 reserves bits 7-1 as well.
                if flags & 0xfe != 0 {
                    return Err(DecodeError::ReservedAckFlags { flags });
                }
                flags & 1 != 0
            }
        };
        let code = r.u8()?;
        let reason = if protocol.is_v5() {
            ConnectReason::try_from(code).ok()
        } else {
            ConnectReason::from_v3_code(code)
        }
        .ok_or(DecodeError::InvalidReasonCode {
            packet: PacketType::ConnAck,
            code,
        })?;
        // [MQTT-3.2.2-4], [MQTT-3.2.2-6]
        if session_present && reason != ConnectReason::Success {
            return Err(DecodeError::SessionPresentWithError { code });
        }
        let properties = read_v5(r, d, src)?;
        Ok(ConnAck {
            session_present,
            reason,
            properties,
        })
    }

    fn code(&self, protocol: Protocol) -> Option<u8> {
        if protocol.is_v5() {
            Some(self.reason.code())
        } else {
            self.reason.v3_code()
        }
    }

    pub(crate) fn body_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        let not_in = |what| EncodeError::NotInProtocol {
            packet: PacketType::ConnAck,
            what,
            protocol,
        };
        if self.code(protocol).is_none() {
            return Err(not_in("reason code"));
        }
        if self.session_present && self.reason != ConnectReason::Success {
            return Err(EncodeError::SessionPresentWithError);
        }
        if self.session_present && protocol == Protocol::V3_1 {
            return Err(not_in("session present"));
        }
        Ok(2 + v5_block_len(
            &self.properties,
            protocol,
            PacketType::ConnAck,
            "properties",
        )?)
    }

    pub(crate) fn write_body(&self, protocol: Protocol, buf: &mut impl BufMut) {
        buf.put_u8(u8::from(self.session_present));
        buf.put_u8(self.code(protocol).unwrap_or(0x80));
        if protocol.is_v5() {
            self.properties.write(buf);
        }
    }

    /// The borrowed form, pointing into this packet (no copy).
    pub fn view(&self) -> ConnAck<&[u8]> {
        ConnAck {
            session_present: self.session_present,
            reason: self.reason,
            properties: self.properties.view(),
        }
    }

    pub(crate) fn share(&self, parent: Option<&Bytes>) -> ConnAck<Bytes> {
        ConnAck {
            session_present: self.session_present,
            reason: self.reason,
            properties: self.properties.share(parent),
        }
    }

    /// The shared form: a cheap clone of a shared packet, a copy of a borrowed one.
    pub fn to_shared(&self) -> ConnAck<Bytes> {
        self.share(None)
    }

    /// The shared form, its fields slices of `parent` wherever they lie inside it (no
    /// copy), copies otherwise.
    pub fn to_shared_in(&self, parent: &Bytes) -> ConnAck<Bytes> {
        self.share(Some(parent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::testutil::*;
    use crate::PropertyId;
    use crate::Protocol::{V3_1, V3_1_1, V5};
    use crate::{ConnAck, Packet};

    fn connack(p: Packet<'_>) -> ConnAck<'_> {
        match p {
            Packet::ConnAck(c) => c,
            other => panic!("not a CONNACK: {other:?}"),
        }
    }

    #[test]
    fn v3_return_codes_map_to_reasons() {
        let want = [
            ConnectReason::Success,
            ConnectReason::UnsupportedProtocolVersion,
            ConnectReason::ClientIdentifierNotValid,
            ConnectReason::ServerUnavailable,
            ConnectReason::BadUserNameOrPassword,
            ConnectReason::NotAuthorized,
        ];
        for (code, reason) in want.iter().enumerate() {
            for p in [V3_1, V3_1_1] {
                let c = connack(golden(p, &alloc::format!("20 02 00 {code:02x}")));
                assert_eq!(c.reason, *reason);
            }
        }
        assert_eq!(
            error(V3_1_1, "20 02 00 06"),
            DecodeError::InvalidReasonCode {
                packet: PacketType::ConnAck,
                code: 6
            }
        );
    }

    #[test]
    fn session_present() {
        assert!(connack(golden(V3_1_1, "20 02 01 00")).session_present);
        assert!(connack(golden(V5, "20 03 01 00 00")).session_present);
        // MQTT 3.1 has no Session Present.
        let c = ConnAck::new(ConnectReason::Success, true);
        assert!(matches!(
            Packet::ConnAck(c).encoded_len(V3_1),
            Err(EncodeError::NotInProtocol {
                what: "session present",
                ..
            })
        ));
    }

    #[test]
    fn mqtt_3_2_2_1_reserved_acknowledge_flags() {
        assert_eq!(
            error(V3_1_1, "20 02 02 00"),
            DecodeError::ReservedAckFlags { flags: 2 }
        );
        assert_eq!(
            error(V5, "20 03 80 00 00"),
            DecodeError::ReservedAckFlags { flags: 0x80 }
        );
    }

    #[test]
    fn mqtt_3_2_2_4_session_present_only_with_success() {
        assert_eq!(
            error(V3_1_1, "20 02 01 01"),
            DecodeError::SessionPresentWithError { code: 1 }
        );
        assert_eq!(
            error(V5, "20 03 01 87 00"),
            DecodeError::SessionPresentWithError { code: 0x87 }
        );
        let c = ConnAck::new(ConnectReason::NotAuthorized, true);
        assert_eq!(
            Packet::ConnAck(c).encoded_len(V5),
            Err(EncodeError::SessionPresentWithError)
        );
    }

    #[test]
    fn mqtt_3_2_2_8_connack_reason_codes() {
        for &r in ConnectReason::ALL {
            let c = connack(golden(V5, &alloc::format!("20 03 00 {:02x} 00", r.code())));
            assert_eq!(c.reason, r);
        }
        for code in [0x01u8, 0x04, 0x8b, 0x8e, 0x91, 0xa2] {
            assert_eq!(
                error(V5, &alloc::format!("20 03 00 {code:02x} 00")),
                DecodeError::InvalidReasonCode {
                    packet: PacketType::ConnAck,
                    code
                }
            );
        }
    }

    #[test]
    fn v5_every_connack_property() {
        let c = connack(golden(
            V5,
            "205000004d110000003c2100142401250027000010001200066175746f2d3122000a1f00026f6b280129002a0113001e1a0004726573701c00056f74686572150005534352414d160001ff2600016b000176",
        ));
        let p = &c.properties;
        assert_eq!(p.session_expiry_interval(), Some(60));
        assert_eq!(p.receive_maximum().map(|v| v.get()), Some(20));
        assert_eq!(p.maximum_qos(), Some(crate::MaximumQos::AtLeastOnce));
        assert_eq!(p.retain_available(), Some(false));
        assert_eq!(p.maximum_packet_size().map(|v| v.get()), Some(4096));
        assert_eq!(p.assigned_client_identifier().as_deref(), Some("auto-1"));
        assert_eq!(p.topic_alias_maximum(), Some(10));
        assert_eq!(p.reason_string().as_deref(), Some("ok"));
        assert_eq!(p.wildcard_subscription_available(), Some(true));
        assert_eq!(p.subscription_identifiers_available(), Some(false));
        assert_eq!(p.shared_subscription_available(), Some(true));
        assert_eq!(p.server_keep_alive(), Some(30));
        assert_eq!(p.response_information().as_deref(), Some("resp"));
        assert_eq!(p.server_reference().as_deref(), Some("other"));
        assert_eq!(p.authentication_method().as_deref(), Some("SCRAM"));
        assert_eq!(p.authentication_data().as_deref(), Some(&[0xffu8][..]));
        assert_eq!(p.user_properties().count(), 1);
    }

    #[test]
    fn maximum_qos_2_is_a_protocol_error() {
        assert_eq!(
            error(V5, "20050000022402"),
            DecodeError::InvalidPropertyValue {
                packet: PacketType::ConnAck,
                property: PropertyId::MaximumQos,
                value: 2
            }
        );
    }

    #[test]
    fn topic_alias_not_allowed_on_connack() {
        assert_eq!(
            error(V5, "2006000003230001"),
            DecodeError::PropertyNotAllowed {
                packet: PacketType::ConnAck,
                property: PropertyId::TopicAlias
            }
        );
    }

    #[test]
    fn v5_only_reason_refused_at_3_1_1() {
        let c = ConnAck::new(ConnectReason::Banned, false);
        assert_eq!(
            Packet::ConnAck(c).encoded_len(V3_1_1),
            Err(EncodeError::NotInProtocol {
                packet: PacketType::ConnAck,
                what: "reason code",
                protocol: V3_1_1
            })
        );
        let c = ConnAck::new(ConnectReason::NotAuthorized, false);
        assert_eq!(
            encode(V3_1_1, &Packet::ConnAck(c)).unwrap(),
            hex("20 02 00 05")
        );
    }
}
