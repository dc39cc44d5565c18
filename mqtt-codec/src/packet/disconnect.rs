//! DISCONNECT (MQTT 5.0 §3.14, 3.1.1 §3.14): at 3.x an empty packet; in 5.0 an optional
//! reason code and properties.

use bytes::{BufMut, Bytes};

use crate::error::{DecodeError, EncodeError};
use crate::packet::properties::DisconnectProperties;
use crate::packet::reason::DisconnectReason;
use crate::packet::tail;
use crate::packet::{Decoder, PacketType};
use crate::storage::{Source, Storage};
use crate::types::Protocol;
use crate::wire::reader::Reader;

/// DISCONNECT.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Disconnect<B: Storage> {
    /// The reason (MQTT 5.0; `NormalDisconnection` at 3.x).
    pub reason: DisconnectReason,
    /// Properties (MQTT 5.0).
    pub properties: DisconnectProperties<B>,
}

impl<B: Storage> Disconnect<B> {
    /// A normal disconnection with no properties.
    pub fn new(reason: DisconnectReason) -> Self {
        Disconnect {
            reason,
            properties: DisconnectProperties::default(),
        }
    }

    pub(crate) fn decode<'a, S: Source<'a, B = B>>(
        r: &mut Reader<'a>,
        d: &Decoder,
        src: S,
    ) -> Result<Self, DecodeError> {
        let (reason, properties) = tail::read(r, d.protocol(), d.strict(), src)?;
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

    /// The borrowed form, pointing into this packet (no copy).
    pub fn view(&self) -> Disconnect<&[u8]> {
        Disconnect {
            reason: self.reason,
            properties: self.properties.view(),
        }
    }

    pub(crate) fn share(&self, parent: Option<&Bytes>) -> Disconnect<Bytes> {
        Disconnect {
            reason: self.reason,
            properties: self.properties.share(parent),
        }
    }

    /// The shared form: a cheap clone of a shared packet, a copy of a borrowed one.
    pub fn to_shared(&self) -> Disconnect<Bytes> {
        self.share(None)
    }

    /// The shared form, its fields slices of `parent` wherever they lie inside it (no
    /// copy), copies otherwise.
    pub fn to_shared_in(&self, parent: &Bytes) -> Disconnect<Bytes> {
        self.share(Some(parent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::testutil::*;
    use crate::PropertyId;
    use crate::Protocol::{V3_1, V3_1_1, V5};
    use crate::{Disconnect, Packet};

    #[test]
    fn empty_at_every_level() {
        for p in [V3_1, V3_1_1, V5] {
            assert_eq!(
                golden(p, "e0 00"),
                Packet::Disconnect(Disconnect::default())
            );
        }
        assert!(matches!(
            error(V3_1_1, "e0 01 00"),
            DecodeError::TrailingBytes { .. }
        ));
    }

    #[test]
    fn mqtt_3_14_2_1_disconnect_reason_codes() {
        for &r in DisconnectReason::ALL {
            let bytes = hex(&alloc::format!("e0 01 {:02x}", r.code()));
            let Packet::Disconnect(d) = decode(V5, &bytes).unwrap() else {
                panic!()
            };
            assert_eq!(d.reason, r);
        }
        golden(V5, "e0 01 04");
        assert_eq!(
            error(V5, "e0 01 01"),
            DecodeError::InvalidReasonCode {
                packet: PacketType::Disconnect,
                code: 1
            }
        );
    }

    #[test]
    fn v5_properties() {
        let Packet::Disconnect(d) = golden(V5, "e0138e11110000003c1f00036279651c0003737276") else {
            panic!()
        };
        assert_eq!(d.reason, DisconnectReason::SessionTakenOver);
        assert_eq!(d.properties.session_expiry_interval(), Some(60));
        assert_eq!(d.properties.reason_string().as_deref(), Some("bye"));
        assert_eq!(d.properties.server_reference().as_deref(), Some("srv"));
        assert_eq!(
            error(V5, "e00700051800000001"),
            DecodeError::PropertyNotAllowed {
                packet: PacketType::Disconnect,
                property: PropertyId::WillDelayInterval
            }
        );
    }

    #[test]
    fn v5_reason_refused_at_3_1_1() {
        let d = Disconnect::new(DisconnectReason::ServerBusy);
        assert!(matches!(
            Packet::Disconnect(d).encoded_len(V3_1_1),
            Err(EncodeError::NotInProtocol { .. })
        ));
    }
}
