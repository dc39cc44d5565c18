//! Gateway discovery (§5.4.1–5.4.3, §6.1): ADVERTISE, SEARCHGW, GWINFO.

use bytes::BufMut;
use mqtt_codec::Payload;

use crate::error::DecodeError;
use crate::wire::Reader;

/// ADVERTISE (§5.4.1): a gateway announces itself every `duration` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Advertise {
    /// The gateway's id.
    pub gw_id: u8,
    /// Seconds until the next ADVERTISE.
    pub duration: u16,
}

impl Advertise {
    #[inline]
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let gw_id = r.u8()?;
        let duration = r.u16()?;
        r.end()?;
        Ok(Advertise { gw_id, duration })
    }

    pub(crate) fn put(&self, buf: &mut impl BufMut) {
        buf.put_u8(self.gw_id);
        buf.put_u16(self.duration);
    }
}

/// SEARCHGW (§5.4.2): a client looks for a gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SearchGw {
    /// The broadcast radius, in hops.
    pub radius: u8,
}

/// GWINFO (§5.4.3): the answer to SEARCHGW.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct GwInfo<'a> {
    /// The gateway's id.
    pub gw_id: u8,
    /// The gateway's address, present only when a client answers for a gateway; empty
    /// when the gateway answers itself (the field is then absent on the wire).
    pub gw_add: Payload<'a>,
}

impl<'a> GwInfo<'a> {
    #[inline]
    pub(crate) fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let gw_id = r.u8()?;
        let gw_add = Payload::from(r.rest());
        Ok(GwInfo { gw_id, gw_add })
    }

    pub(crate) fn body_len(&self) -> usize {
        1 + self.gw_add.len()
    }

    pub(crate) fn put(&self, buf: &mut impl BufMut) {
        buf.put_u8(self.gw_id);
        buf.put_slice(self.gw_add.as_bytes());
    }

    /// Copies borrowed contents so that the value no longer borrows.
    pub fn into_owned(self) -> GwInfo<'static> {
        GwInfo {
            gw_id: self.gw_id,
            gw_add: self.gw_add.into_owned(),
        }
    }
}
