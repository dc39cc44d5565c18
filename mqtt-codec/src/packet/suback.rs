//! SUBACK (§3.9) and UNSUBACK (§3.11): a Packet Identifier and a list of reason codes,
//! one per filter of the request (UNSUBACK has none at MQTT 3.x).

use alloc::vec::Vec;
use bytes::{BufMut, Bytes};

use crate::error::{DecodeError, EncodeError};
use crate::packet::properties::{read_v5, v5_block_len, AckProperties};
use crate::packet::reason::{SubAckReason, UnsubAckReason};
use crate::packet::{read_packet_id, Decoder, PacketType};
use crate::seq::{Sealed, Seq, SeqItem};
use crate::storage::{Source, Storage};
use crate::types::{PacketId, Protocol};
use crate::wire::reader::Reader;

macro_rules! code_item {
    ($($t:ident),*) => {$(
        impl Sealed for $t {}
        impl SeqItem for $t {
            type View<'s> = $t;
            fn read(buf: &mut &[u8]) -> Option<$t> {
                let (&b, rest) = buf.split_first()?;
                *buf = rest;
                $t::try_from(b).ok()
            }
            fn write(&self, out: &mut Vec<u8>) {
                out.push(self.code());
            }
        }
    )*};
}
code_item!(SubAckReason, UnsubAckReason);

/// Reads the packet identifier, properties (5.0) and the code list, checking each code
/// with `ok`.
/// The packet identifier, the properties and the validated code bytes.
type Codes<'a, B> = (PacketId, AckProperties<B>, &'a [u8]);

fn read_codes<'a, S: Source<'a>>(
    r: &mut Reader<'a>,
    d: &Decoder,
    ok: impl Fn(u8) -> bool,
    src: S,
) -> Result<Codes<'a, S::B>, DecodeError> {
    let packet_id = read_packet_id(r)?;
    let properties = read_v5(r, d, src)?;
    let codes = r.rest();
    if codes.is_empty() {
        return Err(DecodeError::EmptyPayload { packet: r.packet() });
    }
    if let Some(&code) = codes.iter().find(|&&c| !ok(c)) {
        return Err(DecodeError::InvalidReasonCode {
            packet: r.packet(),
            code,
        });
    }
    Ok((packet_id, properties, codes))
}

fn codes_len<B: Storage, T: SeqItem>(
    codes: &Seq<B, T>,
    properties: &AckProperties<B>,
    protocol: Protocol,
    packet: PacketType,
    in_v3: impl Fn(T::View<'_>) -> bool,
) -> Result<usize, EncodeError> {
    let not_in = |what| EncodeError::NotInProtocol {
        packet,
        what,
        protocol,
    };
    let n = 2 + v5_block_len(properties, protocol, packet, "properties")?;
    // One byte per code, each already a code of the packet's set.
    let count = codes.as_bytes().len();
    if count == 0 {
        return Err(EncodeError::EmptyPayload { packet });
    }
    if !protocol.is_v5() && !codes.iter().all(in_v3) {
        return Err(not_in("reason code"));
    }
    Ok(n + count)
}

/// SUBACK: one reason code per subscription ([MQTT-3.9.3-2]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubAck<B: Storage> {
    /// Packet Identifier of the SUBSCRIBE.
    pub packet_id: PacketId,
    /// One code per subscription, in order; iterating yields [`SubAckReason`] values.
    pub reasons: Seq<B, SubAckReason>,
    /// Reason String and User Properties (MQTT 5.0).
    pub properties: AckProperties<B>,
}

impl<B: Storage> SubAck<B> {
    /// A SUBACK with these codes and no properties.
    pub fn new(packet_id: PacketId, reasons: impl Into<Seq<B, SubAckReason>>) -> Self {
        SubAck {
            packet_id,
            reasons: reasons.into(),
            properties: AckProperties::default(),
        }
    }

    pub(crate) fn decode<'a, S: Source<'a, B = B>>(
        r: &mut Reader<'a>,
        d: &Decoder,
        src: S,
    ) -> Result<Self, DecodeError> {
        let v5 = d.protocol().is_v5();
        let (packet_id, properties, codes) = read_codes(
            r,
            d,
            |c| SubAckReason::try_from(c).is_ok_and(|c| v5 || c.in_v3()),
            src,
        )?;
        Ok(SubAck {
            packet_id,
            reasons: Seq::wire(src.bytes(codes)),
            properties,
        })
    }

    pub(crate) fn body_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        codes_len(
            &self.reasons,
            &self.properties,
            protocol,
            PacketType::SubAck,
            |c| c.in_v3(),
        )
    }

    pub(crate) fn write_body(&self, protocol: Protocol, buf: &mut impl BufMut) {
        buf.put_u16(self.packet_id.get());
        if protocol.is_v5() {
            self.properties.write(buf);
        }
        buf.put_slice(self.reasons.as_bytes());
    }

    /// The borrowed form, pointing into this packet (no copy).
    pub fn view(&self) -> SubAck<&[u8]> {
        SubAck {
            packet_id: self.packet_id,
            reasons: self.reasons.view_as(),
            properties: self.properties.view(),
        }
    }

    pub(crate) fn share(&self, parent: Option<&Bytes>) -> SubAck<Bytes> {
        SubAck {
            packet_id: self.packet_id,
            reasons: self.reasons.share_as(parent),
            properties: self.properties.share(parent),
        }
    }

    /// The shared form: a cheap clone of a shared packet, a copy of a borrowed one.
    pub fn to_shared(&self) -> SubAck<Bytes> {
        self.share(None)
    }

    /// The shared form, its fields slices of `parent` wherever they lie inside it (no
    /// copy), copies otherwise.
    pub fn to_shared_in(&self, parent: &Bytes) -> SubAck<Bytes> {
        self.share(Some(parent))
    }
}

/// UNSUBACK: at MQTT 3.x only the Packet Identifier; in 5.0 one reason code per filter
/// ([MQTT-3.11.3-2]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsubAck<B: Storage> {
    /// Packet Identifier of the UNSUBSCRIBE.
    pub packet_id: PacketId,
    /// One code per filter (MQTT 5.0; empty at 3.x); iterating yields [`UnsubAckReason`]
    /// values.
    pub reasons: Seq<B, UnsubAckReason>,
    /// Reason String and User Properties (MQTT 5.0).
    pub properties: AckProperties<B>,
}

impl<B: Storage> UnsubAck<B> {
    /// An UNSUBACK with these codes (none at 3.x) and no properties.
    pub fn new(packet_id: PacketId, reasons: impl Into<Seq<B, UnsubAckReason>>) -> Self {
        UnsubAck {
            packet_id,
            reasons: reasons.into(),
            properties: AckProperties::default(),
        }
    }

    pub(crate) fn decode<'a, S: Source<'a, B = B>>(
        r: &mut Reader<'a>,
        d: &Decoder,
        src: S,
    ) -> Result<Self, DecodeError> {
        if !d.protocol().is_v5() {
            return Ok(UnsubAck::new(read_packet_id(r)?, Seq::new()));
        }
        let (packet_id, properties, codes) =
            read_codes(r, d, |c| UnsubAckReason::try_from(c).is_ok(), src)?;
        Ok(UnsubAck {
            packet_id,
            reasons: Seq::wire(src.bytes(codes)),
            properties,
        })
    }

    pub(crate) fn body_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        if !protocol.is_v5() {
            if !self.reasons.is_empty() {
                return Err(EncodeError::NotInProtocol {
                    packet: PacketType::UnsubAck,
                    what: "reason codes",
                    protocol,
                });
            }
            return Ok(2 + v5_block_len(
                &self.properties,
                protocol,
                PacketType::UnsubAck,
                "properties",
            )?);
        }
        codes_len(
            &self.reasons,
            &self.properties,
            protocol,
            PacketType::UnsubAck,
            |_| true,
        )
    }

    pub(crate) fn write_body(&self, protocol: Protocol, buf: &mut impl BufMut) {
        buf.put_u16(self.packet_id.get());
        if protocol.is_v5() {
            self.properties.write(buf);
            buf.put_slice(self.reasons.as_bytes());
        }
    }

    /// The borrowed form, pointing into this packet (no copy).
    pub fn view(&self) -> UnsubAck<&[u8]> {
        UnsubAck {
            packet_id: self.packet_id,
            reasons: self.reasons.view_as(),
            properties: self.properties.view(),
        }
    }

    pub(crate) fn share(&self, parent: Option<&Bytes>) -> UnsubAck<Bytes> {
        UnsubAck {
            packet_id: self.packet_id,
            reasons: self.reasons.share_as(parent),
            properties: self.properties.share(parent),
        }
    }

    /// The shared form: a cheap clone of a shared packet, a copy of a borrowed one.
    pub fn to_shared(&self) -> UnsubAck<Bytes> {
        self.share(None)
    }

    /// The shared form, its fields slices of `parent` wherever they lie inside it (no
    /// copy), copies otherwise.
    pub fn to_shared_in(&self, parent: &Bytes) -> UnsubAck<Bytes> {
        self.share(Some(parent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::testutil::*;
    use crate::{Packet, SubAck, UnsubAck};

    use crate::Protocol::{V3_1, V3_1_1, V5};
    use alloc::vec::Vec;

    #[test]
    fn suback_3_1_1_golden() {
        let Packet::SubAck(s) = golden(V3_1_1, "9006000100018002") else {
            panic!()
        };
        let codes: Vec<SubAckReason> = s.reasons.iter().collect();
        assert_eq!(
            codes,
            [
                SubAckReason::GrantedQoS0,
                SubAckReason::GrantedQoS1,
                SubAckReason::UnspecifiedError,
                SubAckReason::GrantedQoS2
            ]
        );
        golden(V3_1, "9006000100018002");
    }

    #[test]
    fn mqtt_3_9_3_2_suback_codes_at_3_1_1() {
        assert_eq!(
            error(V3_1_1, "9003000103"),
            DecodeError::InvalidReasonCode {
                packet: PacketType::SubAck,
                code: 3
            }
        );
        assert_eq!(
            error(V3_1_1, "900300018f"),
            DecodeError::InvalidReasonCode {
                packet: PacketType::SubAck,
                code: 0x8f
            }
        );
        let s = SubAck::new(
            PacketId::new(1).unwrap(),
            seq(alloc::vec![SubAckReason::QuotaExceeded]),
        );
        assert!(matches!(
            Packet::SubAck(s).encoded_len(V3_1_1),
            Err(EncodeError::NotInProtocol { .. })
        ));
    }

    #[test]
    fn mqtt_3_9_3_2_suback_codes_in_5_0() {
        let Packet::SubAck(s) = golden(V5, "900f0001061f000377687900018f9ea1a2") else {
            panic!()
        };
        assert_eq!(s.properties.reason_string().as_deref(), Some("why"));
        assert_eq!(s.reasons.len(), 6);
        assert_eq!(
            error(V5, "900400010003"),
            DecodeError::InvalidReasonCode {
                packet: PacketType::SubAck,
                code: 3
            }
        );
    }

    #[test]
    fn suback_needs_a_code() {
        assert_eq!(
            error(V3_1_1, "90 02 00 01"),
            DecodeError::EmptyPayload {
                packet: PacketType::SubAck
            }
        );
        assert_eq!(
            error(V5, "90 03 00 01 00"),
            DecodeError::EmptyPayload {
                packet: PacketType::SubAck
            }
        );
    }

    #[test]
    fn unsuback_3_1_1_has_only_a_packet_id() {
        let Packet::UnsubAck(u) = golden(V3_1_1, "b0 02 00 01") else {
            panic!()
        };
        assert!(u.reasons.is_empty());
        assert!(matches!(
            error(V3_1_1, "b0 03 00 01 00"),
            DecodeError::TrailingBytes { .. }
        ));
        let u = UnsubAck::new(
            PacketId::new(1).unwrap(),
            seq(alloc::vec![UnsubAckReason::Success]),
        );
        assert!(matches!(
            Packet::UnsubAck(u).encoded_len(V3_1_1),
            Err(EncodeError::NotInProtocol {
                what: "reason codes",
                ..
            })
        ));
    }

    #[test]
    fn mqtt_3_11_3_2_unsuback_codes_in_5_0() {
        let Packet::UnsubAck(u) = golden(V5, "b006000100001180") else {
            panic!()
        };
        assert_eq!(
            u.reasons.iter().collect::<Vec<_>>(),
            [
                UnsubAckReason::Success,
                UnsubAckReason::NoSubscriptionExisted,
                UnsubAckReason::UnspecifiedError
            ]
        );
        assert_eq!(
            error(V5, "b00400010010"),
            DecodeError::InvalidReasonCode {
                packet: PacketType::UnsubAck,
                code: 0x10
            }
        );
        assert_eq!(
            error(V5, "b0 03 00 01 00"),
            DecodeError::EmptyPayload {
                packet: PacketType::UnsubAck
            }
        );
    }

    #[test]
    fn mqtt_2_3_1_1_suback_packet_id_zero() {
        assert_eq!(
            error(V3_1_1, "9003000000"),
            DecodeError::ZeroPacketId {
                packet: PacketType::SubAck
            }
        );
    }
}
