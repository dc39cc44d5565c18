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
pub(crate) struct Small<const N: usize = 16> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Small<N> {
    #[inline(always)]
    pub(crate) const fn new() -> Self {
        Small {
            bytes: [0; N],
            len: 0,
        }
    }

    /// Appends bytes (callers check that they fit: what does not is left out).
    #[inline(always)]
    pub(crate) fn slice(&mut self, b: &[u8]) {
        if let Some(dst) = self.bytes.get_mut(self.len..self.len + b.len()) {
            dst.copy_from_slice(b);
            self.len += b.len();
        }
    }

    /// Appends a byte (callers write at most `N`).
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
