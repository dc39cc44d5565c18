//! The fixed header: packet type and flags in one byte, then the Remaining Length.

use crate::error::DecodeError;

/// What the fixed header says, once all of it is readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FixedHeader {
    /// The first byte: packet type in the high nibble, flags in the low one.
    pub(crate) byte: u8,
    /// The Remaining Length.
    pub(crate) remaining: u32,
    /// Bytes taken by the fixed header itself (2 to 5).
    pub(crate) len: usize,
}

impl FixedHeader {
    /// Whether the Remaining Length was written in the fewest bytes ([MQTT-1.5.5-1]).
    #[inline]
    pub(crate) fn is_minimal(&self) -> bool {
        self.len == 1 + crate::wire::varint::len(self.remaining)
    }
}

impl FixedHeader {
    /// The whole packet's size, fixed header included.
    #[inline]
    pub(crate) fn packet_len(&self) -> usize {
        self.len + self.remaining as usize
    }
}

/// Reads a fixed header from the start of `buf`: `Ok(None)` while it is incomplete.
///
/// `minimal` refuses a Remaining Length not written in the fewest bytes (MQTT 5.0
/// [MQTT-1.5.5-1]).
#[inline]
pub(crate) fn parse(buf: &[u8], minimal: bool) -> Result<Option<FixedHeader>, DecodeError> {
    let (byte, rest) = match buf.split_first() {
        Some((b, rest)) => (*b, rest),
        None => return Ok(None),
    };
    match crate::wire::varint::decode(rest) {
        Ok(Some((remaining, n))) => {
            if minimal && n != crate::wire::varint::len(remaining) {
                return Err(DecodeError::NonMinimalVarInt { offset: 1 });
            }
            Ok(Some(FixedHeader {
                byte,
                remaining,
                len: 1 + n,
            }))
        }
        Ok(None) => Ok(None),
        Err(()) => Err(DecodeError::VarIntTooLong { offset: 1 }),
    }
}
