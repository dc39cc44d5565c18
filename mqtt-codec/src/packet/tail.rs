//! The tail shared by the MQTT 5.0 acknowledgements, DISCONNECT and AUTH: an optional
//! reason code, then optional properties. A sender may stop after any part it leaves at
//! its default (reason 0x00, no properties); the encoder always writes the shortest form.

use bytes::BufMut;

use crate::error::{DecodeError, EncodeError};
use crate::packet::properties::PropBlock;
use crate::packet::PacketType;
use crate::storage::Source;
use crate::types::{InvalidByte, Protocol};
use crate::wire::reader::Reader;

/// A per-packet reason code set. Sealed: implemented by this crate's reason enums.
pub trait Reason:
    Copy + Default + PartialEq + Into<u8> + TryFrom<u8, Error = InvalidByte> + crate::seq::Sealed
{
}

macro_rules! reason_impl {
    ($($t:ident),*) => {$(
        impl crate::seq::Sealed for crate::packet::reason::$t {}
        impl Reason for crate::packet::reason::$t {}
    )*};
}
reason_impl!(
    PubAckReason,
    PubRecReason,
    PubRelReason,
    PubCompReason,
    DisconnectReason,
    AuthReason
);

/// Reads the optional reason code and properties (MQTT 5.0 only; at 3.x there is nothing).
pub(crate) fn read<'a, R: Reason, S: Source<'a>, P: PropBlock<S::B>>(
    r: &mut Reader<'a>,
    protocol: Protocol,
    strict: bool,
    src: S,
) -> Result<(R, P), DecodeError> {
    if !protocol.is_v5() || r.is_empty() {
        return Ok((R::default(), P::default()));
    }
    let code = r.u8()?;
    let reason = R::try_from(code).map_err(|_| DecodeError::InvalidReasonCode {
        packet: r.packet(),
        code,
    })?;
    if r.is_empty() {
        return Ok((reason, P::default()));
    }
    Ok((reason, P::decode_block(r, strict, src)?))
}

/// Bytes of the tail at `protocol`, after checking that 3.x is asked for nothing it lacks.
pub(crate) fn len<B, R: Reason, P: PropBlock<B>>(
    reason: R,
    props: &P,
    protocol: Protocol,
    packet: PacketType,
) -> Result<usize, EncodeError> {
    if !protocol.is_v5() {
        if reason != R::default() {
            return Err(EncodeError::NotInProtocol {
                packet,
                what: "reason code",
                protocol,
            });
        }
        if !props.block_is_empty() {
            return Err(EncodeError::NotInProtocol {
                packet,
                what: "properties",
                protocol,
            });
        }
        return Ok(0);
    }
    Ok(if !props.block_is_empty() {
        1 + props.block_wire_len()
    } else if reason != R::default() {
        1
    } else {
        0
    })
}

/// Writes the tail in its shortest form.
pub(crate) fn write<B, R: Reason, P: PropBlock<B>>(
    reason: R,
    props: &P,
    protocol: Protocol,
    buf: &mut impl BufMut,
) {
    if !protocol.is_v5() {
        return;
    }
    let has_props = !props.block_is_empty();
    if has_props || reason != R::default() {
        buf.put_u8(reason.into());
    }
    if has_props {
        props.write_block(buf);
    }
}
