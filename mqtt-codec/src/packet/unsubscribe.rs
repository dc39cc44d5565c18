//! UNSUBSCRIBE (MQTT 5.0 §3.10, MQTT 3.1.1 §3.10).

use bytes::BufMut;

use crate::error::{DecodeError, EncodeError};
use crate::packet::properties::{read_v5, v5_block_len, UnsubscribeProperties};
use crate::packet::subscribe::{check_filter_for, read_filter};
use crate::packet::{read_packet_id, Decoder, PacketType};
use crate::seq::Seq;
use crate::topic::TopicFilter;
use crate::types::{PacketId, Protocol};
use crate::wire::reader::Reader;
use crate::wire::writer::{bin_len, put_bin};

/// UNSUBSCRIBE: fixed-header flags 0b0010 ([MQTT-3.10.1-1]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe<'a> {
    /// Packet Identifier.
    pub packet_id: PacketId,
    /// DUP, which only MQTT 3.1 lets a resent UNSUBSCRIBE carry (MQTT 3.1 §2.1); `false`
    /// at 3.1.1 and 5.0 ([MQTT-3.10.1-1]).
    pub dup: bool,
    /// At least one filter ([MQTT-3.10.3-2]); iterating yields
    /// [`TopicFilter<'_>`](TopicFilter).
    pub filters: Seq<'a, TopicFilter<'a>>,
    /// UNSUBSCRIBE properties (MQTT 5.0).
    pub properties: UnsubscribeProperties<'a>,
}

impl<'a> Unsubscribe<'a> {
    /// An UNSUBSCRIBE of these filters, without properties.
    pub fn new(packet_id: PacketId, filters: impl Into<Seq<'a, TopicFilter<'a>>>) -> Self {
        Unsubscribe {
            packet_id,
            dup: false,
            filters: filters.into(),
            properties: UnsubscribeProperties::default(),
        }
    }

    pub(crate) fn decode(r: &mut Reader<'a>, d: &Decoder) -> Result<Self, DecodeError> {
        let protocol = d.protocol();
        let packet_id = read_packet_id(r)?;
        let properties = read_v5(r, d)?;
        let payload = r.unread();
        if r.is_empty() {
            return Err(DecodeError::EmptyPayload {
                packet: PacketType::Unsubscribe,
            });
        }
        while !r.is_empty() {
            read_filter(r, protocol, d.strict())?;
        }
        Ok(Unsubscribe {
            packet_id,
            dup: false,
            filters: Seq::wire(payload),
            properties,
        })
    }

    pub(crate) fn body_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        let packet = PacketType::Unsubscribe;
        crate::packet::check_dup(self.dup, protocol, packet)?;
        let mut n = 2 + v5_block_len(&self.properties, protocol, packet, "properties")?;
        let mut count = 0usize;
        for f in self.filters.iter() {
            count += 1;
            check_filter_for(&f, protocol, packet)?;
            n += bin_len(f.as_bytes());
        }
        if count == 0 {
            return Err(EncodeError::EmptyPayload { packet });
        }
        Ok(n)
    }

    pub(crate) fn write_body(&self, protocol: Protocol, buf: &mut impl BufMut) {
        buf.put_u16(self.packet_id.get());
        if protocol.is_v5() {
            self.properties.write(buf);
        }
        for f in self.filters.iter() {
            put_bin(buf, f.as_bytes());
        }
    }

    /// Copies borrowed contents so that the value no longer borrows.
    pub fn into_owned(self) -> Unsubscribe<'static> {
        Unsubscribe {
            packet_id: self.packet_id,
            dup: self.dup,
            filters: self.filters.into_owned(),
            properties: self.properties.into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::testutil::*;
    use crate::Protocol::{V3_1_1, V5};
    use crate::{Packet, ValueError};
    use alloc::vec::Vec;

    #[test]
    fn spec_example_3_1_1() {
        let Packet::Unsubscribe(u) = golden(V3_1_1, "a20c00010003612f620003632f64") else {
            panic!()
        };
        let f: Vec<alloc::string::String> = u.filters.iter().map(|f| f.as_str().into()).collect();
        assert_eq!(f, ["a/b", "c/d"]);
    }

    #[test]
    fn v5_with_user_property_and_shared_filter() {
        let Packet::Unsubscribe(u) = golden(
            V5,
            "a21b0002072600016b0001760003612f2b000a2473686172652f672f23",
        ) else {
            panic!()
        };
        assert_eq!(u.properties.user_properties().count(), 1);
        assert_eq!(u.filters.len(), 2);
    }

    #[test]
    fn mqtt_3_10_3_2_unsubscribe_needs_a_filter() {
        assert_eq!(
            error(V3_1_1, "a2 02 00 01"),
            DecodeError::EmptyPayload {
                packet: PacketType::Unsubscribe
            }
        );
        let u = Unsubscribe::new(PacketId::new(1).unwrap(), Vec::new());
        assert_eq!(
            Packet::Unsubscribe(u).encoded_len(V3_1_1),
            Err(EncodeError::EmptyPayload {
                packet: PacketType::Unsubscribe
            })
        );
    }

    #[test]
    fn mqtt_3_10_3_1_filters_are_valid() {
        assert!(matches!(
            error(V3_1_1, "a206000200022b61"),
            DecodeError::Invalid {
                error: ValueError::WildcardNotAlone { at: 0 },
                ..
            }
        ));
    }

    #[test]
    fn subscription_identifier_not_allowed() {
        assert!(matches!(
            error(V5, "a2080002020b01000161"),
            DecodeError::PropertyNotAllowed { .. }
        ));
    }
}
