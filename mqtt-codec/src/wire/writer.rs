//! Writing primitives. Callers validate sizes first; these only write.

use bytes::BufMut;

/// A two-byte length and the bytes (UTF-8 string or Binary Data); the caller has checked
/// that `b.len() <= 65_535`.
#[inline]
pub(crate) fn put_bin(buf: &mut impl BufMut, b: &[u8]) {
    buf.put_u16(b.len() as u16);
    buf.put_slice(b);
}

/// Size on the wire of a length-prefixed string or binary value.
#[inline]
pub(crate) const fn bin_len(b: &[u8]) -> usize {
    2 + b.len()
}

/// A few bytes assembled on the stack and handed to a buffer in one `put_slice`: small
/// writes one by one each cost a capacity check and a copy call on a growable buffer.
pub(crate) struct Small {
    bytes: [u8; 16],
    len: usize,
}

impl Small {
    #[inline(always)]
    pub(crate) const fn new() -> Self {
        Small {
            bytes: [0; 16],
            len: 0,
        }
    }

    /// Appends a byte (callers write at most 16).
    #[inline(always)]
    pub(crate) fn u8(&mut self, b: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    #[inline(always)]
    pub(crate) fn u16(&mut self, v: u16) {
        let [h, l] = v.to_be_bytes();
        self.u8(h);
        self.u8(l);
    }

    /// The minimal variable byte integer encoding of `v` (at most [`VARINT_MAX`]).
    ///
    /// [`VARINT_MAX`]: crate::wire::varint::VARINT_MAX
    #[inline(always)]
    pub(crate) fn varint(&mut self, mut v: u32) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.u8(b);
                break;
            }
            self.u8(b | 0x80);
        }
    }

    #[inline(always)]
    pub(crate) fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}
