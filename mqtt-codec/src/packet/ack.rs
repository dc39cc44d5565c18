//! PUBACK (§3.4), PUBREC (§3.5), PUBREL (§3.6) and PUBCOMP (§3.7): a Packet Identifier and,
//! in MQTT 5.0, a reason code and properties. One generic type serves all four.

use bytes::{BufMut, Bytes};

use crate::error::{DecodeError, EncodeError};
use crate::packet::properties::AckProperties;
use crate::packet::reason::{PubAckReason, PubCompReason, PubRecReason, PubRelReason};
use crate::packet::tail::{self, Reason};
use crate::packet::{read_packet_id, Decoder, PacketType};
use crate::storage::{Source, Storage};
use crate::types::{PacketId, Protocol};
use crate::wire::reader::Reader;

/// A publish acknowledgement; see the aliases [`PubAck`], [`PubRec`], [`PubRel`],
/// [`PubComp`]. `B` is the storage of the properties: [`crate::PubAck<'a>`] and the like are
/// the borrowed form, [`crate::shared::PubAck`] and the like the shared one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishAck<B: Storage, R> {
    /// The identifier of the PUBLISH (or PUBREL) acknowledged.
    pub packet_id: PacketId,
    /// DUP, which only a PUBREL at MQTT 3.1 may carry, when it is resent (MQTT 3.1 §2.1);
    /// `false` everywhere else ([MQTT-3.6.1-1]).
    pub dup: bool,
    /// The reason code (MQTT 5.0; `Success` at 3.x).
    pub reason: R,
    /// Reason String and User Properties (MQTT 5.0).
    pub properties: AckProperties<B>,
}

/// PUBACK: QoS 1 publish acknowledgement (§3.4).
pub type PubAck<B> = PublishAck<B, PubAckReason>;
/// PUBREC: QoS 2 publish received, part 1 (§3.5).
pub type PubRec<B> = PublishAck<B, PubRecReason>;
/// PUBREL: QoS 2 publish release, part 2 (§3.6); fixed-header flags 0b0010
/// ([MQTT-3.6.1-1]).
pub type PubRel<B> = PublishAck<B, PubRelReason>;
/// PUBCOMP: QoS 2 publish complete, part 3 (§3.7).
pub type PubComp<B> = PublishAck<B, PubCompReason>;

impl<B: Storage, R: Reason> PublishAck<B, R> {
    /// A successful acknowledgement with no properties.
    pub fn new(packet_id: PacketId) -> Self {
        PublishAck {
            packet_id,
            dup: false,
            reason: R::default(),
            properties: AckProperties::default(),
        }
    }

    pub(crate) fn decode<'a, S: Source<'a, B = B>>(
        r: &mut Reader<'a>,
        d: &Decoder,
        src: S,
    ) -> Result<Self, DecodeError> {
        let packet_id = read_packet_id(r)?;
        let (reason, properties) = tail::read(r, d.protocol(), d.strict(), src)?;
        Ok(PublishAck {
            packet_id,
            dup: false,
            reason,
            properties,
        })
    }

    pub(crate) fn body_len_for(
        &self,
        protocol: Protocol,
        packet: PacketType,
    ) -> Result<usize, EncodeError> {
        crate::packet::check_dup(self.dup, protocol, packet)?;
        Ok(2 + tail::len(self.reason, &self.properties, protocol, packet)?)
    }

    pub(crate) fn write_body(&self, protocol: Protocol, buf: &mut impl BufMut) {
        buf.put_u16(self.packet_id.get());
        tail::write(self.reason, &self.properties, protocol, buf);
    }

    /// The borrowed form, pointing into this packet (no copy).
    pub fn view(&self) -> PublishAck<&[u8], R> {
        PublishAck {
            packet_id: self.packet_id,
            dup: self.dup,
            reason: self.reason,
            properties: self.properties.view(),
        }
    }

    pub(crate) fn share(&self, parent: Option<&Bytes>) -> PublishAck<Bytes, R> {
        PublishAck {
            packet_id: self.packet_id,
            dup: self.dup,
            reason: self.reason,
            properties: self.properties.share(parent),
        }
    }

    /// The shared form: a cheap clone of a shared packet, a copy of a borrowed one.
    pub fn to_shared(&self) -> PublishAck<Bytes, R> {
        self.share(None)
    }

    /// The shared form, its fields slices of `parent` wherever they lie inside it (no
    /// copy), copies otherwise.
    pub fn to_shared_in(&self, parent: &Bytes) -> PublishAck<Bytes, R> {
        self.share(Some(parent))
    }
}

macro_rules! ack_body_len {
    ($($alias:ident = $ty:ident),*) => {$(
        impl<B: Storage> $alias<B> {
            pub(crate) fn body_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
                self.body_len_for(protocol, PacketType::$ty)
            }
        }
    )*};
}
ack_body_len!(
    PubAck = PubAck,
    PubRec = PubRec,
    PubRel = PubRel,
    PubComp = PubComp
);

macro_rules! into_packet {
    ($($alias:ident),*) => {$(
        impl<B: Storage, T: crate::storage::StrStorage> From<$alias<B>> for crate::generic::Packet<B, T> {
            fn from(p: $alias<B>) -> Self {
                crate::generic::Packet::$alias(p)
            }
        }
    )*};
}
into_packet!(PubAck, PubRec, PubRel, PubComp);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::testutil::*;
    use crate::{Packet, PubAck, PubComp, PubRec, PubRel};

    use crate::Protocol::{V3_1, V3_1_1, V5};

    #[test]
    fn acks_at_every_level() {
        for p in [V3_1, V3_1_1, V5] {
            assert_eq!(
                golden(p, "40 02 00 01"),
                Packet::PubAck(PubAck::new(PacketId::new(1).unwrap()))
            );
            assert_eq!(
                golden(p, "50 02 00 02"),
                Packet::PubRec(PubRec::new(PacketId::new(2).unwrap()))
            );
            assert_eq!(
                golden(p, "62 02 00 03"),
                Packet::PubRel(PubRel::new(PacketId::new(3).unwrap()))
            );
            assert_eq!(
                golden(p, "70 02 ff ff"),
                Packet::PubComp(PubComp::new(PacketId::new(0xffff).unwrap()))
            );
        }
    }

    #[test]
    fn v5_reason_and_properties() {
        let Packet::PubAck(a) = golden(V5, "40120001100e1f00046e6f6e652600016b000176") else {
            panic!()
        };
        assert_eq!(a.reason, PubAckReason::NoMatchingSubscribers);
        assert_eq!(a.properties.reason_string().as_deref(), Some("none"));
        let Packet::PubRec(r) = golden(V5, "50 03 00 01 97") else {
            panic!()
        };
        assert_eq!(r.reason, PubRecReason::QuotaExceeded);
        let Packet::PubComp(c) = golden(V5, "70 03 00 01 92") else {
            panic!()
        };
        assert_eq!(c.reason, PubCompReason::PacketIdentifierNotFound);
    }

    #[test]
    fn v5_short_forms_decode_and_encode_shortest() {
        // Reason 0x00 with an empty property block: the encoder drops both.
        let bytes = hex("40 04 00 01 00 00");
        let p = decode(V5, &bytes).unwrap();
        assert_eq!(p, Packet::PubAck(PubAck::new(PacketId::new(1).unwrap())));
        assert_eq!(encode(V5, &p).unwrap(), hex("40 02 00 01"));
        let bytes = hex("40 03 00 01 00");
        let p = decode(V5, &bytes).unwrap();
        assert_eq!(encode(V5, &p).unwrap(), hex("40 02 00 01"));
    }

    #[test]
    fn mqtt_3_4_2_1_puback_reason_codes() {
        for &r in &PubAckReason::ALL[1..] {
            golden(V5, &alloc::format!("40 03 00 01 {:02x}", r.code()));
        }
        assert_eq!(
            error(V5, "40 03 00 01 92"),
            DecodeError::InvalidReasonCode {
                packet: PacketType::PubAck,
                code: 0x92
            }
        );
    }

    #[test]
    fn mqtt_3_5_2_1_pubrec_reason_codes() {
        assert_eq!(
            error(V5, "50 03 00 01 92"),
            DecodeError::InvalidReasonCode {
                packet: PacketType::PubRec,
                code: 0x92
            }
        );
    }

    #[test]
    fn mqtt_3_6_2_1_pubrel_reason_codes() {
        golden(V5, "62 03 00 01 92");
        assert_eq!(
            error(V5, "62 03 00 01 10"),
            DecodeError::InvalidReasonCode {
                packet: PacketType::PubRel,
                code: 0x10
            }
        );
    }

    #[test]
    fn mqtt_3_7_2_1_pubcomp_reason_codes() {
        assert_eq!(
            error(V5, "70 03 00 01 80"),
            DecodeError::InvalidReasonCode {
                packet: PacketType::PubComp,
                code: 0x80
            }
        );
    }

    #[test]
    fn mqtt_2_3_1_1_ack_packet_id_zero() {
        assert_eq!(
            error(V3_1_1, "40 02 00 00"),
            DecodeError::ZeroPacketId {
                packet: PacketType::PubAck
            }
        );
    }

    #[test]
    fn v5_content_refused_at_3_1_1() {
        let mut a = PubAck::new(PacketId::new(1).unwrap());
        a.reason = PubAckReason::NotAuthorized;
        assert_eq!(
            Packet::PubAck(a).encoded_len(V3_1_1),
            Err(EncodeError::NotInProtocol {
                packet: PacketType::PubAck,
                what: "reason code",
                protocol: V3_1_1
            })
        );
        a.reason = PubAckReason::Success;
        set_props!(a.properties, |q| q
            .set_reason_string(crate::Str::new("x").unwrap()));
        assert_eq!(
            Packet::PubAck(a).encoded_len(V3_1_1),
            Err(EncodeError::NotInProtocol {
                packet: PacketType::PubAck,
                what: "properties",
                protocol: V3_1_1
            })
        );
    }
}
