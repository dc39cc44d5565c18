//! Where a packet's variable-length fields live: borrowed from the read buffer, or shared
//! with it through [`Bytes`].
//!
//! Every packet type is defined once, generic over two storage types: `B` for byte fields
//! (payloads, Binary Data, property blocks, lists) and `T` for strings (topics, client
//! identifiers, User Properties). Two pairs are used:
//!
//! | form | `B` | `T` | names |
//! |---|---|---|---|
//! | borrowed | `&'a [u8]` | `&'a str` | [`crate::Packet<'a>`], [`crate::Publish<'a>`], … |
//! | shared | [`Bytes`] | [`ByteString`] | [`crate::shared::Packet`], [`crate::shared::Publish`], … |
//!
//! The borrowed form is what [`Decoder::decode`](crate::Decoder::decode) returns over a
//! `&[u8]`: plain references, nothing to drop. The shared form is what
//! [`Decoder::decode_bytes`](crate::Decoder::decode_bytes) returns over a `Bytes` or
//! `BytesMut`: its fields are slices of the frozen receive buffer (a reference count, no
//! copy, no lifetime), so it can be kept, cloned cheaply and sent to another thread.
//! [`view`](crate::generic::Packet::view) turns either into the borrowed form;
//! [`to_shared`](crate::generic::Packet::to_shared) turns either into the shared form.

use bytes::Bytes;
use bytestring::ByteString;
use core::fmt;
use core::hash::Hash;
use core::ops::Deref;

mod sealed {
    pub trait Sealed {}
}

/// Storage of byte fields: `&[u8]` (borrowed) or [`Bytes`] (shared). Implemented by those
/// two only.
pub trait Storage:
    sealed::Sealed + Clone + Default + Deref<Target = [u8]> + Eq + Ord + Hash + fmt::Debug
{
    /// The same bytes as [`Bytes`]: a slice of `parent` when they lie inside it (no copy),
    /// the value itself when it is already `Bytes`, a copy otherwise.
    #[doc(hidden)]
    fn share(&self, parent: Option<&Bytes>) -> Bytes;
}

/// Storage of strings: `&str` (borrowed) or [`ByteString`] (shared). Implemented by those
/// two only.
pub trait StrStorage:
    sealed::Sealed + Clone + Default + Deref<Target = str> + Eq + Ord + Hash + fmt::Debug
{
    /// The same string as a [`ByteString`], sharing `parent` when it lies inside it.
    #[doc(hidden)]
    fn share(&self, parent: Option<&Bytes>) -> ByteString;
}

impl sealed::Sealed for &[u8] {}
impl Storage for &[u8] {
    #[inline]
    fn share(&self, parent: Option<&Bytes>) -> Bytes {
        share_slice(parent, self)
    }
}

impl sealed::Sealed for Bytes {}
impl Storage for Bytes {
    #[inline]
    fn share(&self, _: Option<&Bytes>) -> Bytes {
        self.clone()
    }
}

impl sealed::Sealed for &str {}
impl StrStorage for &str {
    #[inline]
    fn share(&self, parent: Option<&Bytes>) -> ByteString {
        share_str(parent, self)
    }
}

impl sealed::Sealed for ByteString {}
impl StrStorage for ByteString {
    #[inline]
    fn share(&self, _: Option<&Bytes>) -> ByteString {
        self.clone()
    }
}

/// `b` as a slice of `parent` when its bytes lie inside it, else a copy.
#[inline]
pub(crate) fn share_slice(parent: Option<&Bytes>, b: &[u8]) -> Bytes {
    match parent.and_then(|p| offset_in(p, b).map(|at| (p, at))) {
        Some((p, at)) => p.slice(at..at + b.len()),
        None => Bytes::copy_from_slice(b),
    }
}

/// `s` as a [`ByteString`] sharing `parent` when it lies inside it, else a copy.
#[inline]
pub(crate) fn share_str(parent: Option<&Bytes>, s: &str) -> ByteString {
    match parent.and_then(|p| offset_in(p, s.as_bytes()).map(|at| (p, at))) {
        // The bytes are the string's own, so they are UTF-8: the check cannot fail, but
        // without `unsafe` a `ByteString` is only made through it. Should it ever fail,
        // the copy below is still right.
        Some((p, at)) => {
            ByteString::try_from(p.slice(at..at + s.len())).unwrap_or_else(|_| ByteString::from(s))
        }
        None => ByteString::from(s),
    }
}

/// Where `b` starts inside `parent`, when all of it lies there.
#[inline]
fn offset_in(parent: &Bytes, b: &[u8]) -> Option<usize> {
    if b.is_empty() {
        return None;
    }
    let start = (b.as_ptr() as usize).checked_sub(parent.as_ptr() as usize)?;
    (start.checked_add(b.len())? <= parent.len()).then_some(start)
}

/// What a decoder turns checked wire bytes into: borrowed references, or slices of a
/// shared buffer.
pub(crate) trait Source<'a>: Copy {
    type B: Storage;
    type T: StrStorage;
    fn bytes(self, b: &'a [u8]) -> Self::B;
    /// `s` is a string the decoder checked, inside the packet's bytes.
    fn text(self, s: &'a str) -> Self::T;
    /// Bytes of the packet that should be UTF-8, checked once on the way to the string
    /// type (`Err` with the length of the valid prefix otherwise): for the shared form the
    /// check that makes a `ByteString` is the only one.
    fn utf8(self, b: &'a [u8]) -> Result<Self::T, usize>;
}

/// Decoding into the borrowed form.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Borrow;

impl<'a> Source<'a> for Borrow {
    type B = &'a [u8];
    type T = &'a str;
    #[inline(always)]
    fn bytes(self, b: &'a [u8]) -> &'a [u8] {
        b
    }
    #[inline(always)]
    fn text(self, s: &'a str) -> &'a str {
        s
    }
    #[inline(always)]
    fn utf8(self, b: &'a [u8]) -> Result<&'a str, usize> {
        core::str::from_utf8(b).map_err(|e| e.valid_up_to())
    }
}

/// Decoding into the shared form: every field a slice of the frozen packet buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Share<'a>(pub(crate) &'a Bytes);

impl<'a> Source<'a> for Share<'a> {
    type B = Bytes;
    type T = ByteString;
    #[inline]
    fn bytes(self, b: &'a [u8]) -> Bytes {
        share_slice(Some(self.0), b)
    }
    #[inline]
    fn text(self, s: &'a str) -> ByteString {
        share_str(Some(self.0), s)
    }
    #[inline]
    fn utf8(self, b: &'a [u8]) -> Result<ByteString, usize> {
        let shared = share_slice(Some(self.0), b);
        ByteString::try_from(shared).map_err(|_| match core::str::from_utf8(b) {
            Err(e) => e.valid_up_to(),
            Ok(_) => b.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_inside_the_parent_share_it_and_others_are_copied() {
        let parent = Bytes::from(alloc::vec![1u8, 2, 3, 4, 5]);
        let inside = parent.get(1..3).unwrap();
        let shared = share_slice(Some(&parent), inside);
        assert_eq!(&shared[..], &[2, 3]);
        assert_eq!(shared.as_ptr(), inside.as_ptr());
        let outside = [2u8, 3];
        let copied = share_slice(Some(&parent), &outside);
        assert_eq!(&copied[..], &[2, 3]);
        assert_ne!(copied.as_ptr(), outside.as_ptr());
        // Partly inside (running past the end) is copied.
        let tail = parent.get(3..).unwrap();
        assert_eq!(offset_in(&parent, tail), Some(3));
        assert_eq!(share_slice(None, tail), Bytes::from_static(&[4, 5]));
    }

    #[test]
    fn strings_inside_the_parent_share_it() {
        let parent = Bytes::from_static(b"\x00\x03abc");
        let s = core::str::from_utf8(parent.get(2..).unwrap()).unwrap();
        let b = share_str(Some(&parent), s);
        assert_eq!(&*b, "abc");
        assert_eq!(b.as_ptr(), s.as_ptr());
    }
}
