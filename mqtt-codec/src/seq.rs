//! `Seq`: an ordered list kept as its wire bytes, either the validated bytes of a decoded
//! packet (decoding allocates nothing) or a buffer the caller's items were written into.

use alloc::vec::Vec;
use bytes::Bytes;
use core::fmt;
use core::marker::PhantomData;

use crate::storage::Storage;

mod sealed {
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// An element of a [`Seq`]. Implemented by the crate's list element types only.
pub trait SeqItem: Sealed {
    /// The element as read from the list's bytes: the borrowed form.
    type View<'s>: Clone + PartialEq + fmt::Debug;
    /// Reads the next element of validated bytes, moving `buf` past it.
    #[doc(hidden)]
    fn read<'s>(buf: &mut &'s [u8]) -> Option<Self::View<'s>>;
    /// Appends the element's wire form.
    #[doc(hidden)]
    fn write(&self, out: &mut Vec<u8>);
}

/// An ordered list of `I`, kept as its wire bytes: a decoded list is the packet's own
/// validated bytes (borrowed, or shared through [`Bytes`]); a list built from items (the
/// shared form: `Seq<Bytes, _>` from a `Vec`, an array or an iterator) holds the bytes they
/// were written into. Equality compares elements, whatever the form.
///
/// Iterating (`iter()`, or `for x in &seq`) reads each element in its borrowed form:
///
/// | field | each item |
/// |---|---|
/// | [`Subscribe::subscriptions`](crate::generic::Subscribe::subscriptions) | [`Subscription<'_>`](crate::Subscription) |
/// | [`Unsubscribe::filters`](crate::generic::Unsubscribe::filters) | [`TopicFilter<'_>`](crate::TopicFilter) |
/// | [`SubAck::reasons`](crate::generic::SubAck::reasons) | [`SubAckReason`](crate::SubAckReason), by value |
/// | [`UnsubAck::reasons`](crate::generic::UnsubAck::reasons) | [`UnsubAckReason`](crate::UnsubAckReason), by value |
///
/// (In the signatures that is `<I as SeqItem>::View<'_>`.)
pub struct Seq<B, I> {
    bytes: B,
    item: PhantomData<fn() -> I>,
}

impl<B: Clone, I> Clone for Seq<B, I> {
    fn clone(&self) -> Self {
        Seq {
            bytes: self.bytes.clone(),
            item: PhantomData,
        }
    }
}

impl<B: Copy, I> Copy for Seq<B, I> {}

impl<B, I> Seq<B, I> {
    /// A view over validated wire bytes.
    #[inline]
    pub(crate) fn wire(bytes: B) -> Self {
        Seq {
            bytes,
            item: PhantomData,
        }
    }
}

impl<B: Storage, I: SeqItem> Seq<B, I> {
    /// An empty list (no allocation).
    #[inline]
    pub fn new() -> Self {
        Seq::wire(B::default())
    }

    /// The elements' bytes, as written in the packet.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The elements, in order.
    #[inline]
    pub fn iter(&self) -> Iter<'_, I> {
        Iter {
            rest: self.as_bytes(),
            item: PhantomData,
        }
    }

    /// The number of elements (counted over the bytes).
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }

    /// The borrowed form, pointing into this list (no copy).
    #[inline]
    pub fn view(&self) -> Seq<&[u8], I> {
        Seq::wire(self.as_bytes())
    }

    /// The same list over other storage: borrowed from this one.
    #[inline]
    pub(crate) fn view_as<J>(&self) -> Seq<&[u8], J> {
        Seq::wire(self.as_bytes())
    }

    /// The same list over shared storage: a slice of `parent` (or a clone) when its bytes
    /// are there, a copy otherwise.
    pub(crate) fn share_as<J>(&self, parent: Option<&Bytes>) -> Seq<Bytes, J> {
        Seq::wire(self.bytes.share(parent))
    }
}

impl<I: SeqItem> Seq<Bytes, I> {
    /// Appends an element (the list's bytes are copied into a new buffer with it).
    pub fn push(&mut self, item: I) {
        let mut out = Vec::with_capacity(self.bytes.len() + 64);
        out.extend_from_slice(&self.bytes);
        item.write(&mut out);
        self.bytes = Bytes::from(out);
    }
}

impl<B: Storage, I: SeqItem> Default for Seq<B, I> {
    fn default() -> Self {
        Seq::new()
    }
}

impl<I: SeqItem> From<Vec<I>> for Seq<Bytes, I> {
    fn from(v: Vec<I>) -> Self {
        v.into_iter().collect()
    }
}

impl<I: SeqItem, const N: usize> From<[I; N]> for Seq<Bytes, I> {
    fn from(v: [I; N]) -> Self {
        v.into_iter().collect()
    }
}

impl<I: SeqItem> FromIterator<I> for Seq<Bytes, I> {
    fn from_iter<It: IntoIterator<Item = I>>(iter: It) -> Self {
        let mut out = Vec::new();
        for item in iter {
            item.write(&mut out);
        }
        Seq::wire(Bytes::from(out))
    }
}

impl<B: Storage, I: SeqItem> PartialEq for Seq<B, I> {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes() || self.iter().eq(other.iter())
    }
}

impl<B: Storage, I: SeqItem> Eq for Seq<B, I> {}

impl<B: Storage, I: SeqItem> fmt::Debug for Seq<B, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'s, B: Storage, I: SeqItem> IntoIterator for &'s Seq<B, I> {
    type Item = I::View<'s>;
    type IntoIter = Iter<'s, I>;
    fn into_iter(self) -> Iter<'s, I> {
        self.iter()
    }
}

/// Iterator over a [`Seq`]: see [`Seq`] for the item type of each list.
pub struct Iter<'s, I> {
    rest: &'s [u8],
    item: PhantomData<fn() -> I>,
}

impl<'s, I: SeqItem> Iterator for Iter<'s, I> {
    type Item = I::View<'s>;
    #[inline]
    fn next(&mut self) -> Option<I::View<'s>> {
        if self.rest.is_empty() {
            return None;
        }
        let item = I::read(&mut self.rest);
        if item.is_none() {
            self.rest = &[];
        }
        item
    }
}

impl<I> Clone for Iter<'_, I> {
    fn clone(&self) -> Self {
        Iter {
            rest: self.rest,
            item: PhantomData,
        }
    }
}

impl<I> fmt::Debug for Iter<'_, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Iter")
    }
}
