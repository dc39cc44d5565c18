//! UNSUBSCRIBE (MQTT 5.0 §3.10, MQTT 3.1.1 §3.10).

use bytes::{BufMut, Bytes};
use bytestring::ByteString;

use crate::error::{DecodeError, EncodeError};
use crate::packet::properties::{read_v5, v5_block_len, UnsubscribeProperties};
use crate::packet::subscribe::{check_shared_bytes, raw_items, read_filter};
use crate::packet::{read_packet_id, Decoder, PacketType};
use crate::seq::Seq;
use crate::storage::{Source, Storage, StrStorage};
use crate::topic::TopicFilter;
use crate::types::{PacketId, Protocol};
use crate::wire::reader::Reader;

/// UNSUBSCRIBE: fixed-header flags 0b0010 ([MQTT-3.10.1-1]).
///
/// `B` and `T` are the storage of byte fields and strings: [`crate::Unsubscribe<'a>`] is the
/// borrowed form, [`crate::shared::Unsubscribe`] the shared one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsubscribe<B: Storage, T: StrStorage> {
    /// Packet Identifier.
    pub packet_id: PacketId,
    /// DUP, which only MQTT 3.1 lets a resent UNSUBSCRIBE carry (MQTT 3.1 §2.1); `false`
    /// at 3.1.1 and 5.0 ([MQTT-3.10.1-1]).
    pub dup: bool,
    /// At least one filter ([MQTT-3.10.3-2]); iterating yields
    /// [`TopicFilter<'_>`](TopicFilter).
    pub filters: Seq<B, TopicFilter<T>>,
    /// UNSUBSCRIBE properties (MQTT 5.0).
    pub properties: UnsubscribeProperties<B>,
}

impl<B: Storage, T: StrStorage> Unsubscribe<B, T> {
    /// An UNSUBSCRIBE of these filters, without properties.
    pub fn new(packet_id: PacketId, filters: impl Into<Seq<B, TopicFilter<T>>>) -> Self {
        Unsubscribe {
            packet_id,
            dup: false,
            filters: filters.into(),
            properties: UnsubscribeProperties::default(),
        }
    }

    pub(crate) fn decode<'a, S: Source<'a, B = B, T = T>>(
        r: &mut Reader<'a>,
        d: &Decoder,
        src: S,
    ) -> Result<Self, DecodeError> {
        let protocol = d.protocol();
        let packet_id = read_packet_id(r)?;
        let properties = read_v5(r, d, src)?;
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
            filters: Seq::wire(src.bytes(payload)),
            properties,
        })
    }

    pub(crate) fn body_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        let packet = PacketType::Unsubscribe;
        crate::packet::check_dup(self.dup, protocol, packet)?;
        let n = 2 + v5_block_len(&self.properties, protocol, packet, "properties")?;
        // The filters are kept as their checked wire bytes: only 5.0's shared-subscription
        // syntax is looked at, and they are written as they are.
        let list = self.filters.as_bytes();
        if list.is_empty() {
            return Err(EncodeError::EmptyPayload { packet });
        }
        if protocol.is_v5() {
            for (filter, _) in raw_items(list, false) {
                if filter.starts_with(b"$share/") {
                    check_shared_bytes(filter, packet)?;
                }
            }
        }
        Ok(n + list.len())
    }

    pub(crate) fn write_body(&self, protocol: Protocol, buf: &mut impl BufMut) {
        buf.put_u16(self.packet_id.get());
        if protocol.is_v5() {
            self.properties.write(buf);
        }
        buf.put_slice(self.filters.as_bytes());
    }

    /// The borrowed form, pointing into this packet (no copy).
    pub fn view(&self) -> Unsubscribe<&[u8], &str> {
        Unsubscribe {
            packet_id: self.packet_id,
            dup: self.dup,
            filters: self.filters.view_as(),
            properties: self.properties.view(),
        }
    }

    pub(crate) fn share(&self, parent: Option<&Bytes>) -> Unsubscribe<Bytes, ByteString> {
        Unsubscribe {
            packet_id: self.packet_id,
            dup: self.dup,
            filters: self.filters.share_as(parent),
            properties: self.properties.share(parent),
        }
    }

    /// The shared form: a cheap clone of a shared packet, a copy of a borrowed one.
    pub fn to_shared(&self) -> Unsubscribe<Bytes, ByteString> {
        self.share(None)
    }

    /// The shared form, its fields slices of `parent` wherever they lie inside it (no
    /// copy), copies otherwise.
    pub fn to_shared_in(&self, parent: &Bytes) -> Unsubscribe<Bytes, ByteString> {
        self.share(Some(parent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::testutil::*;
    use crate::Protocol::{V3_1_1, V5};
    use crate::ValueError;
    use crate::{Packet, Unsubscribe};
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
        let u = Unsubscribe::new(PacketId::new(1).unwrap(), seq(Vec::new()));
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
