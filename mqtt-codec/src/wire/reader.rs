//! A bounds-checked cursor over one framed packet.

use crate::error::DecodeError;
use crate::packet::PacketType;

/// A cursor over an exact slice: every read is bounds-checked, and running past the end is
/// reported as a malformed packet (inside a framed packet a short read is never "partial").
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf[0]` from the first byte of the packet, for error positions.
    base: usize,
    packet: PacketType,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], base: usize, packet: PacketType) -> Self {
        Reader {
            buf,
            pos: 0,
            base,
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
        self.base + self.pos
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    #[inline]
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
        let end = match self.pos.checked_add(n) {
            Some(end) => end,
            None => return Err(self.short(n)),
        };
        match self.buf.get(self.pos..end) {
            Some(s) => {
                self.pos = end;
                Ok(s)
            }
            None => Err(self.short(n)),
        }
    }

    /// What is left, without moving.
    #[inline]
    pub(crate) fn unread(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }

    /// Takes everything that is left.
    #[inline]
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = self.buf.get(self.pos..).unwrap_or(&[]);
        self.pos = self.buf.len();
        s
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
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(self.short(1)),
        }
    }

    #[inline]
    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.take(2)?;
        match b {
            [h, l] => Ok(u16::from_be_bytes([*h, *l])),
            _ => Err(self.short(2)),
        }
    }

    #[inline]
    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        match b {
            [a, b, c, d] => Ok(u32::from_be_bytes([*a, *b, *c, *d])),
            _ => Err(self.short(4)),
        }
    }

    /// A variable byte integer; `minimal` demands the fewest bytes (MQTT 5.0, [MQTT-1.5.5-1]).
    #[inline]
    pub(crate) fn varint(&mut self, minimal: bool) -> Result<u32, DecodeError> {
        let at = self.offset();
        match crate::wire::varint::decode(self.buf.get(self.pos..).unwrap_or(&[])) {
            Ok(Some((v, n))) => {
                if minimal && n != crate::wire::varint::len(v) {
                    return Err(DecodeError::NonMinimalVarInt { offset: at as u32 });
                }
                self.pos += n;
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
