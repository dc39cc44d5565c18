//! AUTH (MQTT 5.0 §3.15): enhanced authentication exchange. MQTT 5.0 only.

use bytes::{BufMut, Bytes};

use crate::error::{DecodeError, EncodeError};
use crate::packet::properties::AuthProperties;
use crate::packet::reason::AuthReason;
use crate::packet::tail;
use crate::packet::{Decoder, PacketType};
use crate::storage::{Source, Storage};
use crate::types::Protocol;
use crate::wire::reader::Reader;

/// AUTH. Fixed-header flags are 0 ([MQTT-3.15.1-1]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Auth<B: Storage> {
    /// The reason ([MQTT-3.15.2-1]).
    pub reason: AuthReason,
    /// Authentication Method, Data, Reason String, User Properties.
    pub properties: AuthProperties<B>,
}

impl<B: Storage> Auth<B> {
    pub(crate) fn decode<'a, S: Source<'a, B = B>>(
        r: &mut Reader<'a>,
        protocol: Protocol,
        d: &Decoder,
        src: S,
    ) -> Result<Self, DecodeError> {
        // MQTT 5.0 §3.15.2.1: the Reason Code and the Property Length are left out together
        // (Success, no properties) or not at all: a reason code alone is malformed.
        if r.unread().len() == 1 {
            return Err(DecodeError::UnexpectedEnd {
                packet: PacketType::Auth,
                offset: r.offset() as u32 + 1,
                wanted: 1,
            });
        }
        let (reason, properties) = tail::read(r, protocol, d.strict(), src)?;
        Ok(Auth { reason, properties })
    }

    pub(crate) fn body_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        if !protocol.is_v5() {
            return Err(EncodeError::NotInProtocol {
                packet: PacketType::Auth,
                what: "AUTH",
                protocol,
            });
        }
        // MQTT 5.0 §3.15.2.1: only a Success without properties may leave out both the
        // Reason Code and the Property Length; any other AUTH carries both.
        if self.is_shortest() {
            Ok(0)
        } else {
            Ok(1 + self.properties.wire_len())
        }
    }

    fn is_shortest(&self) -> bool {
        self.reason == AuthReason::Success && self.properties.is_empty()
    }

    pub(crate) fn write_body(&self, buf: &mut impl BufMut) {
        if !self.is_shortest() {
            buf.put_u8(self.reason.into());
            self.properties.write(buf);
        }
    }

    /// The borrowed form, pointing into this packet (no copy).
    pub fn view(&self) -> Auth<&[u8]> {
        Auth {
            reason: self.reason,
            properties: self.properties.view(),
        }
    }

    pub(crate) fn share(&self, parent: Option<&Bytes>) -> Auth<Bytes> {
        Auth {
            reason: self.reason,
            properties: self.properties.share(parent),
        }
    }

    /// The shared form: a cheap clone of a shared packet, a copy of a borrowed one.
    pub fn to_shared(&self) -> Auth<Bytes> {
        self.share(None)
    }

    /// The shared form, its fields slices of `parent` wherever they lie inside it (no
    /// copy), copies otherwise.
    pub fn to_shared_in(&self, parent: &Bytes) -> Auth<Bytes> {
        self.share(Some(parent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::testutil::*;
    use crate::{Auth, Packet};

    use crate::Protocol::{V3_1_1, V5};

    #[test]
    fn auth_golden() {
        assert_eq!(golden(V5, "f0 00"), Packet::Auth(Auth::default()));
        let Packet::Auth(a) = golden(V5, "f0 02 18 00") else {
            panic!()
        };
        assert_eq!(a.reason, AuthReason::ContinueAuthentication);
        let Packet::Auth(a) = golden(V5, "f0141812150005534352414d16000201021f0002676f") else {
            panic!()
        };
        assert_eq!(
            a.properties.authentication_method().as_deref(),
            Some("SCRAM")
        );
        assert_eq!(
            a.properties.authentication_data().as_deref(),
            Some(&[1u8, 2][..])
        );
        assert_eq!(a.properties.reason_string().as_deref(), Some("go"));
    }

    #[test]
    fn mqtt_3_15_2_1_auth_reason_codes() {
        assert_eq!(
            error(V5, "f0 02 01 00"),
            DecodeError::InvalidReasonCode {
                packet: PacketType::Auth,
                code: 1
            }
        );
        assert!(matches!(
            error(V5, "f00719051100000001"),
            DecodeError::PropertyNotAllowed { .. }
        ));
    }

    #[test]
    fn mqtt_3_15_2_1_reason_code_and_property_length_are_omitted_only_together() {
        // A reason code without its Property Length is malformed.
        assert_eq!(
            error(V5, "f0 01 18"),
            DecodeError::UnexpectedEnd {
                packet: PacketType::Auth,
                offset: 3,
                wanted: 1
            }
        );
        // Any reason but Success is written with its Property Length, even when empty.
        let a = Auth {
            reason: AuthReason::ReAuthenticate,
            ..Auth::default()
        };
        let mut out = alloc::vec::Vec::new();
        Packet::Auth(a).encode(V5, &mut out).unwrap();
        assert_eq!(out, hex("f0 02 19 00"));
        // Success without properties: both left out.
        out.clear();
        Packet::Auth(Auth::default()).encode(V5, &mut out).unwrap();
        assert_eq!(out, hex("f0 00"));
        // Success with properties: both written.
        let mut a = Auth::default();
        set_props!(a.properties, |q| q
            .set_reason_string(crate::Str::new("r").unwrap()));
        out.clear();
        Packet::Auth(a).encode(V5, &mut out).unwrap();
        assert_eq!(out, hex("f0 06 00 04 1f 00 01 72"));
    }

    #[test]
    fn auth_cannot_be_encoded_before_5_0() {
        assert_eq!(
            Packet::Auth(Auth::default()).encoded_len(V3_1_1),
            Err(EncodeError::NotInProtocol {
                packet: PacketType::Auth,
                what: "AUTH",
                protocol: V3_1_1
            })
        );
    }
}
