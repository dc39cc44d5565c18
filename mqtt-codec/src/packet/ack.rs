//! PUBACK (§3.4), PUBREC (§3.5), PUBREL (§3.6) and PUBCOMP (§3.7): a Packet Identifier and,
//! in MQTT 5.0, a reason code and properties. One generic type serves all four.

use bytes::BufMut;

use crate::error::{DecodeError, EncodeError};
use crate::packet::properties::AckProperties;
use crate::packet::reason::{PubAckReason, PubCompReason, PubRecReason, PubRelReason};
use crate::packet::tail::{self, Reason};
use crate::packet::{read_packet_id, Decoder, PacketType};
use crate::types::{PacketId, Protocol};
use crate::wire::reader::Reader;

/// A publish acknowledgement; see the aliases [`PubAck`], [`PubRec`], [`PubRel`],
/// [`PubComp`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishAck<'a, R> {
    /// The identifier of the PUBLISH (or PUBREL) acknowledged.
    pub packet_id: PacketId,
    /// The reason code (MQTT 5.0; `Success` at 3.x).
    pub reason: R,
    /// Reason String and User Properties (MQTT 5.0).
    pub properties: AckProperties<'a>,
}

/// PUBACK: QoS 1 publish acknowledgement (§3.4).
pub type PubAck<'a> = PublishAck<'a, PubAckReason>;
/// PUBREC: QoS 2 publish received, part 1 (§3.5).
pub type PubRec<'a> = PublishAck<'a, PubRecReason>;
/// PUBREL: QoS 2 publish release, part 2 (§3.6); fixed-header flags 0b0010
/// ([MQTT-3.6.1-1]).
pub type PubRel<'a> = PublishAck<'a, PubRelReason>;
/// PUBCOMP: QoS 2 publish complete, part 3 (§3.7).
pub type PubComp<'a> = PublishAck<'a, PubCompReason>;

impl<'a, R: Reason> PublishAck<'a, R> {
    /// A successful acknowledgement with no properties.
    pub fn new(packet_id: PacketId) -> Self {
        PublishAck {
            packet_id,
            reason: R::default(),
            properties: AckProperties::default(),
        }
    }

    pub(crate) fn decode(r: &mut Reader<'a>, d: &Decoder) -> Result<Self, DecodeError> {
        let packet_id = read_packet_id(r)?;
        let (reason, properties) = tail::read(r, d.protocol(), d.strict())?;
        Ok(PublishAck {
            packet_id,
            reason,
            properties,
        })
    }

    pub(crate) fn body_len_for(
        &self,
        protocol: Protocol,
        packet: PacketType,
    ) -> Result<usize, EncodeError> {
        Ok(2 + tail::len(self.reason, &self.properties, protocol, packet)?)
    }

    pub(crate) fn write_body(&self, protocol: Protocol, buf: &mut impl BufMut) {
        buf.put_u16(self.packet_id.get());
        tail::write(self.reason, &self.properties, protocol, buf);
    }

    /// Copies borrowed contents so that the value no longer borrows.
    pub fn into_owned(self) -> PublishAck<'static, R> {
        PublishAck {
            packet_id: self.packet_id,
            reason: self.reason,
            properties: self.properties.into_owned(),
        }
    }
}

macro_rules! ack_body_len {
    ($($alias:ident = $ty:ident),*) => {$(
        impl $alias<'_> {
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

impl<'a> From<PubAck<'a>> for crate::Packet<'a> {
    fn from(p: PubAck<'a>) -> Self {
        crate::Packet::PubAck(p)
    }
}
impl<'a> From<PubRec<'a>> for crate::Packet<'a> {
    fn from(p: PubRec<'a>) -> Self {
        crate::Packet::PubRec(p)
    }
}
impl<'a> From<PubRel<'a>> for crate::Packet<'a> {
    fn from(p: PubRel<'a>) -> Self {
        crate::Packet::PubRel(p)
    }
}
impl<'a> From<PubComp<'a>> for crate::Packet<'a> {
    fn from(p: PubComp<'a>) -> Self {
        crate::Packet::PubComp(p)
    }
}
