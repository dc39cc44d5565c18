//! `Seq`: an ordered list that is either a view over validated wire bytes (decoding
//! allocates nothing) or a vector the caller built.

use alloc::vec::Vec;
use core::fmt;

mod sealed {
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// An element of a [`Seq`]. Implemented by the crate's list element types only.
pub trait SeqItem: Clone + Sealed {
    /// The element as read from the wire or borrowed from a vector.
    type View<'s>: Clone + PartialEq + fmt::Debug
    where
        Self: 's;
    /// The same element type with no borrow.
    type Static: SeqItem + 'static;
    /// Borrows an element of the vector form.
    fn view(&self) -> Self::View<'_>;
    /// Reads the next element of the wire form, moving `buf` past it.
    #[doc(hidden)]
    fn read<'s>(buf: &mut &'s [u8]) -> Option<Self::View<'s>>
    where
        Self: 's;
    /// Copies an element so that it no longer borrows.
    fn to_static(v: Self::View<'_>) -> Self::Static;
}

/// An ordered list of `T`: decoded lists borrow the packet's bytes (no allocation), built
/// ones hold a `Vec`. Equality compares elements, whatever the form.
///
/// Iterating (`iter()`, or `for x in &seq`) yields, for each list in the crate:
///
/// | field | `Seq` | each item |
/// |---|---|---|
/// | [`Subscribe::subscriptions`](crate::Subscribe::subscriptions) | `Seq<'a, Subscription<'a>>` | [`Subscription<'_>`](crate::Subscription), borrowing the list |
/// | [`Unsubscribe::filters`](crate::Unsubscribe::filters) | `Seq<'a, TopicFilter<'a>>` | [`TopicFilter<'_>`](crate::TopicFilter), borrowing the list |
/// | [`SubAck::reasons`](crate::SubAck::reasons) | `Seq<'a, SubAckReason>` | [`SubAckReason`](crate::SubAckReason), by value |
/// | [`UnsubAck::reasons`](crate::UnsubAck::reasons) | `Seq<'a, UnsubAckReason>` | [`UnsubAckReason`](crate::UnsubAckReason), by value |
///
/// (In the signatures that is `<T as SeqItem>::View<'_>`.)
#[derive(Clone)]
pub struct Seq<'a, T> {
    repr: Repr<'a, T>,
}

#[derive(Clone)]
enum Repr<'a, T> {
    Wire(&'a [u8]),
    Vec(Vec<T>),
}

impl<'a, T: SeqItem> Seq<'a, T> {
    /// An empty list (no allocation).
    #[inline]
    pub const fn new() -> Self {
        Seq {
            repr: Repr::Vec(Vec::new()),
        }
    }

    /// A view over validated wire bytes.
    #[inline]
    pub(crate) fn wire(bytes: &'a [u8]) -> Self {
        Seq {
            repr: Repr::Wire(bytes),
        }
    }

    /// The elements, in order.
    #[inline]
    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            inner: match &self.repr {
                Repr::Wire(b) => IterRepr::Wire(b),
                Repr::Vec(v) => IterRepr::Vec(v.iter()),
            },
        }
    }

    /// The number of elements (counted over the bytes for the wire form).
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Wire(_) => self.iter().count(),
            Repr::Vec(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        match &self.repr {
            Repr::Wire(_) => self.iter().next().is_none(),
            Repr::Vec(v) => v.is_empty(),
        }
    }

    /// Appends an element; a decoded (wire) list must be made owned first, so this takes
    /// only built lists and returns the element back otherwise.
    pub fn push(&mut self, item: T) -> Result<(), T> {
        match &mut self.repr {
            Repr::Vec(v) => {
                v.push(item);
                Ok(())
            }
            Repr::Wire(_) => Err(item),
        }
    }

    /// Copies the list so that it no longer borrows.
    pub fn into_owned(self) -> Seq<'static, T::Static> {
        Seq {
            repr: Repr::Vec(self.iter().map(T::to_static).collect()),
        }
    }
}

impl<T: SeqItem> Default for Seq<'_, T> {
    fn default() -> Self {
        Seq::new()
    }
}

impl<T: SeqItem> From<Vec<T>> for Seq<'_, T> {
    fn from(v: Vec<T>) -> Self {
        Seq { repr: Repr::Vec(v) }
    }
}

impl<T: SeqItem> FromIterator<T> for Seq<'_, T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Seq {
            repr: Repr::Vec(iter.into_iter().collect()),
        }
    }
}

impl<T: SeqItem> PartialEq for Seq<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<T: SeqItem> Eq for Seq<'_, T> {}

impl<T: SeqItem> fmt::Debug for Seq<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'s, T: SeqItem> IntoIterator for &'s Seq<'_, T> {
    type Item = T::View<'s>;
    type IntoIter = Iter<'s, T>;
    fn into_iter(self) -> Iter<'s, T> {
        self.iter()
    }
}

/// Iterator over a [`Seq`]: see [`Seq`] for the item type of each list.
pub struct Iter<'s, T> {
    inner: IterRepr<'s, T>,
}

enum IterRepr<'s, T> {
    Wire(&'s [u8]),
    Vec(core::slice::Iter<'s, T>),
}

impl<'s, T: SeqItem> Iterator for Iter<'s, T> {
    type Item = T::View<'s>;
    #[inline]
    fn next(&mut self) -> Option<T::View<'s>> {
        match &mut self.inner {
            IterRepr::Wire(b) => {
                let item = T::read(b);
                if item.is_none() {
                    *b = &[];
                }
                item
            }
            IterRepr::Vec(it) => it.next().map(|item| item.view()),
        }
    }
}

impl<T> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Iter")
    }
}
