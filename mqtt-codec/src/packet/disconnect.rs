//! DISCONNECT (MQTT 5.0 §3.14, 3.1.1 §3.14): at 3.x an empty packet; in 5.0 an optional
//! reason code and properties.

use bytes::BufMut;

use crate::error::{DecodeError, EncodeError};
use crate::packet::properties::DisconnectProperties;
use crate::packet::reason::DisconnectReason;
use crate::packet::tail;
use crate::packet::{Decoder, PacketType};
use crate::types::Protocol;
use crate::wire::reader::Reader;

/// DISCONNECT.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Disconnect<'a> {
    /// The reason (MQTT 5.0; `NormalDisconnection` at 3.x).
    pub reason: DisconnectReason,
    /// Properties (MQTT 5.0).
    pub properties: DisconnectProperties<'a>,
}

impl<'a> Disconnect<'a> {
    /// A normal disconnection with no properties.
    pub fn new(reason: DisconnectReason) -> Self {
        Disconnect {
            reason,
            properties: DisconnectProperties::default(),
        }
    }

    pub(crate) fn decode(r: &mut Reader<'a>, d: &Decoder) -> Result<Self, DecodeError> {
        let (reason, properties) = tail::read(r, d.protocol(), d.strict())?;
        Ok(Disconnect { reason, properties })
    }

    pub(crate) fn body_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        tail::len(
            self.reason,
            &self.properties,
            protocol,
            PacketType::Disconnect,
        )
    }

    pub(crate) fn write_body(&self, protocol: Protocol, buf: &mut impl BufMut) {
        tail::write(self.reason, &self.properties, protocol, buf);
    }

    /// Copies borrowed contents so that the value no longer borrows.
    pub fn into_owned(self) -> Disconnect<'static> {
        Disconnect {
            reason: self.reason,
            properties: self.properties.into_owned(),
        }
    }
}
