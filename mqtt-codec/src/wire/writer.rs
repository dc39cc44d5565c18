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
