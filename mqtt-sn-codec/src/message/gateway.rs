//! Gateway discovery (§5.4.1–5.4.3, §6.1): ADVERTISE, SEARCHGW, GWINFO.

use bytes::{BufMut, Bytes};
use mqtt_codec::generic::Payload;
use mqtt_codec::Storage;

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
pub struct GwInfo<B: Storage> {
    /// The gateway's id.
    pub gw_id: u8,
    /// The gateway's address, present only when a client answers for a gateway; empty
    /// when the gateway answers itself (the field is then absent on the wire).
    pub gw_add: Payload<B>,
}

impl<'a> GwInfo<&'a [u8]> {
    #[inline]
    pub(crate) fn decode(r: &mut Reader<'a>) -> Result<GwInfo<&'a [u8]>, DecodeError> {
        let gw_id = r.u8()?;
        let gw_add = Payload::from(r.rest());
        Ok(GwInfo { gw_id, gw_add })
    }
}

impl<B: Storage> GwInfo<B> {
    pub(crate) fn body_len(&self) -> usize {
        1 + self.gw_add.len()
    }

    pub(crate) fn put(&self, buf: &mut impl BufMut) {
        buf.put_u8(self.gw_id);
        buf.put_slice(self.gw_add.as_bytes());
    }

    /// The borrowed form, pointing into this message (no copy).
    pub fn view(&self) -> GwInfo<&[u8]> {
        GwInfo {
            gw_id: self.gw_id,
            gw_add: self.gw_add.view(),
        }
    }

    pub(crate) fn share(&self, parent: Option<&Bytes>) -> GwInfo<Bytes> {
        GwInfo {
            gw_id: self.gw_id,
            gw_add: sh!(self.gw_add, parent),
        }
    }

    /// The shared form: a copy of a borrowed message's fields, a cheap clone of a shared
    /// one.
    pub fn to_shared(&self) -> GwInfo<Bytes> {
        self.share(None)
    }

    /// The shared form, its fields slices of `parent` wherever they lie inside it (no
    /// copy), copies otherwise.
    pub fn to_shared_in(&self, parent: &Bytes) -> GwInfo<Bytes> {
        self.share(Some(parent))
    }
}
