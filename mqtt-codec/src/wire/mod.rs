//! Wire primitives, written once: the bounds-checked reader, the variable byte integer, the
//! fixed header and UTF-8 string validation.

pub(crate) mod header;
pub(crate) mod reader;
pub(crate) mod utf8;
pub(crate) mod varint;
pub(crate) mod writer;
