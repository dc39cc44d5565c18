//! CONNACK (MQTT 5.0 §3.2, MQTT 3.1.1 §3.2).

use bytes::BufMut;

use crate::error::{DecodeError, EncodeError};
use crate::packet::properties::{v5_block_len, ConnAckProperties};
use crate::packet::reason::ConnectReason;
use crate::packet::{Decoder, PacketType};
use crate::types::Protocol;
use crate::wire::reader::Reader;

/// CONNACK. At MQTT 3.x the return code maps onto [`ConnectReason`] (see there).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnAck<'a> {
    /// Session Present (not in MQTT 3.1). Only with `Success` ([MQTT-3.2.2-4],
    /// [MQTT-3.2.2-6]).
    pub session_present: bool,
    /// The Connect Reason Code, or the 3.x return code.
    pub reason: ConnectReason,
    /// CONNACK properties (MQTT 5.0).
    pub properties: ConnAckProperties<'a>,
}

impl<'a> ConnAck<'a> {
    /// A CONNACK with no properties.
    pub fn new(reason: ConnectReason, session_present: bool) -> Self {
        ConnAck {
            session_present,
            reason,
            properties: ConnAckProperties::default(),
        }
    }

    pub(crate) fn decode(r: &mut Reader<'a>, d: &Decoder) -> Result<Self, DecodeError> {
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
        let properties = if protocol.is_v5() {
            ConnAckProperties::decode(r, d.strict())?
        } else {
            ConnAckProperties::default()
        };
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

    /// Copies borrowed contents so that the value no longer borrows.
    pub fn into_owned(self) -> ConnAck<'static> {
        ConnAck {
            session_present: self.session_present,
            reason: self.reason,
            properties: self.properties.into_owned(),
        }
    }
}
