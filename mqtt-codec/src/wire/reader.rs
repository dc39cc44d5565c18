//! A bounds-checked cursor over one framed packet.

use crate::error::DecodeError;
use crate::packet::PacketType;

/// A cursor over an exact slice: every read is bounds-checked, and running past the end is
/// reported as a malformed packet (inside a framed packet a short read is never "partial").
///
/// It holds what is left to read and moves by re-slicing it; the offset for errors is
/// worked out from how much is left.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
    /// Offset of the end of the slice from the first byte of the packet.
    end: usize,
    packet: PacketType,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], base: usize, packet: PacketType) -> Self {
        Reader {
            rest: buf,
            end: base + buf.len(),
            packet,
        }
    }

    /// The packet being read (for error context).
    #[inline]
    pub(crate) fn packet(&self) -> PacketType {
        self.packet
    }

    /// Offset of the cursor from the start of the packet.
    #[inline]
    pub(crate) fn offset(&self) -> usize {
        self.end - self.rest.len()
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    #[cold]
    fn short(&self, wanted: usize) -> DecodeError {
        DecodeError::UnexpectedEnd {
            packet: self.packet,
            offset: self.offset() as u32,
            wanted: wanted as u32,
        }
    }

    /// Takes the next `n` bytes.
    #[inline]
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        match self.rest.split_at_checked(n) {
            Some((taken, rest)) => {
                self.rest = rest;
                Ok(taken)
            }
            None => Err(self.short(n)),
        }
    }

    /// What is left, without moving.
    #[inline]
    pub(crate) fn unread(&self) -> &'a [u8] {
        self.rest
    }

    /// Takes everything that is left.
    #[inline]
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.rest)
    }

    /// A sub-reader over the next `n` bytes; this reader moves past them.
    #[inline]
    pub(crate) fn sub(&mut self, n: usize) -> Result<Reader<'a>, DecodeError> {
        let base = self.offset();
        let buf = self.take(n)?;
        Ok(Reader::new(buf, base, self.packet))
    }

    #[inline]
    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        match self.rest.split_first() {
            Some((&b, rest)) => {
                self.rest = rest;
                Ok(b)
            }
            None => Err(self.short(1)),
        }
    }

    #[inline]
    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        match self.rest.split_first_chunk::<2>() {
            Some((b, rest)) => {
                self.rest = rest;
                Ok(u16::from_be_bytes(*b))
            }
            None => Err(self.short(2)),
        }
    }

    #[inline]
    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        match self.rest.split_first_chunk::<4>() {
            Some((b, rest)) => {
                self.rest = rest;
                Ok(u32::from_be_bytes(*b))
            }
            None => Err(self.short(4)),
        }
    }

    /// A variable byte integer; `minimal` demands the fewest bytes (MQTT 5.0, [MQTT-1.5.5-1]).
    #[inline]
    pub(crate) fn varint(&mut self, minimal: bool) -> Result<u32, DecodeError> {
        let at = self.offset();
        match crate::wire::varint::decode(self.rest) {
            Ok(Some((v, n))) => {
                if minimal && n != crate::wire::varint::len(v) {
                    return Err(DecodeError::NonMinimalVarInt { offset: at as u32 });
                }
                self.rest = self.rest.get(n..).unwrap_or_default();
                Ok(v)
            }
            Ok(None) => Err(self.short(1)),
            Err(()) => Err(DecodeError::VarIntTooLong { offset: at as u32 }),
        }
    }

    /// A two-byte length followed by that many bytes (Binary Data).
    #[inline]
    pub(crate) fn binary(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.u16()? as usize;
        self.take(n)
    }

    /// Fails with `TrailingBytes` unless everything was read.
    #[inline]
    pub(crate) fn expect_empty(&self) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                packet: self.packet,
                offset: self.offset() as u32,
            })
        }
    }
}
