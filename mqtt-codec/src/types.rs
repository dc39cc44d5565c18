//! Values that carry a wire invariant, each with a checked constructor.

use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;
use bytestring::ByteString;
use core::fmt;
use core::num::{NonZeroU16, NonZeroU32};

use crate::error::ValueError;
use crate::wire::utf8;

/// A byte that is not one of the values of a closed code set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {byte:#04x}")]
pub struct InvalidByte {
    /// What the byte was meant to be ("QoS", "packet type", "PUBACK reason code", …).
    pub what: &'static str,
    /// The byte itself.
    pub byte: u8,
}

/// The protocol level: 3 is MQTT 3.1 ("MQIsdp"), 4 is MQTT 3.1.1, 5 is MQTT 5.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// MQTT 3.1, protocol name "MQIsdp", level 3.
    V3_1,
    /// MQTT 3.1.1, protocol name "MQTT", level 4.
    V3_1_1,
    /// MQTT 5.0, protocol name "MQTT", level 5.
    V5,
}

impl Protocol {
    /// The Protocol Level byte of CONNECT.
    pub const fn level(self) -> u8 {
        match self {
            Protocol::V3_1 => 3,
            Protocol::V3_1_1 => 4,
            Protocol::V5 => 5,
        }
    }

    /// The Protocol Name of CONNECT.
    pub const fn name(self) -> &'static str {
        match self {
            Protocol::V3_1 => "MQIsdp",
            Protocol::V3_1_1 | Protocol::V5 => "MQTT",
        }
    }

    /// Whether this is MQTT 5.0 (properties, reason codes, AUTH).
    #[inline]
    pub const fn is_v5(self) -> bool {
        matches!(self, Protocol::V5)
    }
}

impl TryFrom<u8> for Protocol {
    type Error = InvalidByte;
    fn try_from(b: u8) -> Result<Self, InvalidByte> {
        match b {
            3 => Ok(Protocol::V3_1),
            4 => Ok(Protocol::V3_1_1),
            5 => Ok(Protocol::V5),
            byte => Err(InvalidByte {
                what: "protocol level",
                byte,
            }),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::V3_1 => "MQTT 3.1",
            Protocol::V3_1_1 => "MQTT 3.1.1",
            Protocol::V5 => "MQTT 5.0",
        })
    }
}

/// Quality of Service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum QoS {
    /// QoS 0: at most once.
    #[default]
    AtMostOnce = 0,
    /// QoS 1: at least once.
    AtLeastOnce = 1,
    /// QoS 2: exactly once.
    ExactlyOnce = 2,
}

impl TryFrom<u8> for QoS {
    type Error = InvalidByte;
    #[inline]
    fn try_from(b: u8) -> Result<Self, InvalidByte> {
        match b {
            0 => Ok(QoS::AtMostOnce),
            1 => Ok(QoS::AtLeastOnce),
            2 => Ok(QoS::ExactlyOnce),
            byte => Err(InvalidByte { what: "QoS", byte }),
        }
    }
}

/// A Packet Identifier: never 0 ([MQTT-2.3.1-1]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PacketId(NonZeroU16);

impl PacketId {
    /// `None` for 0.
    #[inline]
    pub const fn new(id: u16) -> Option<Self> {
        match NonZeroU16::new(id) {
            Some(n) => Some(PacketId(n)),
            None => None,
        }
    }

    /// The identifier.
    #[inline]
    pub const fn get(self) -> u16 {
        self.0.get()
    }
}

impl From<NonZeroU16> for PacketId {
    fn from(n: NonZeroU16) -> Self {
        PacketId(n)
    }
}

impl TryFrom<u16> for PacketId {
    type Error = ValueError;
    fn try_from(v: u16) -> Result<Self, ValueError> {
        PacketId::new(v).ok_or(ValueError::Zero)
    }
}

impl fmt::Display for PacketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A Subscription Identifier: 1 to 268,435,455 (MQTT 5.0 §3.8.2.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubscriptionId(NonZeroU32);

impl SubscriptionId {
    /// `None` for 0 or a value above 268,435,455.
    #[inline]
    pub const fn new(id: u32) -> Option<Self> {
        if id > crate::wire::varint::VARINT_MAX {
            return None;
        }
        match NonZeroU32::new(id) {
            Some(n) => Some(SubscriptionId(n)),
            None => None,
        }
    }

    /// The identifier.
    #[inline]
    pub const fn get(self) -> u32 {
        self.0.get()
    }
}

/// Checks the common rule of strings and binary fields: at most 65,535 bytes.
#[inline]
fn check_len(len: usize) -> Result<(), ValueError> {
    if len > u16::MAX as usize {
        Err(ValueError::TooLong { len })
    } else {
        Ok(())
    }
}

/// What the string-valued newtypes share: the string, its length, the conversions between
/// the borrowed and the shared form.
macro_rules! str_newtype {
    ($name:ident) => {
        impl<T: $crate::storage::StrStorage> $name<T> {
            /// The string.
            #[inline]
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Length on the wire, without the length prefix.
            #[inline]
            #[allow(clippy::len_without_is_empty)]
            pub fn len(&self) -> usize {
                self.0.len()
            }

            /// The borrowed form, pointing into this value (no copy).
            #[inline]
            pub fn view(&self) -> $name<&str> {
                $name(&*self.0)
            }

            /// The shared form: a clone when it already is, a copy otherwise.
            pub fn to_shared(&self) -> $name<bytestring::ByteString> {
                $name($crate::storage::StrStorage::share(&self.0, None))
            }

            #[inline]
            #[allow(dead_code)]
            pub(crate) fn share(
                &self,
                parent: Option<&bytes::Bytes>,
            ) -> $name<bytestring::ByteString> {
                $name($crate::storage::StrStorage::share(&self.0, parent))
            }

            /// The shared form, as a slice of `parent` when the string lies inside it (no
            /// copy), a copy otherwise.
            pub fn to_shared_in(&self, parent: &bytes::Bytes) -> $name<bytestring::ByteString> {
                $name($crate::storage::StrStorage::share(&self.0, Some(parent)))
            }

            /// The storage itself (`&str` or `ByteString`).
            #[inline]
            pub fn into_inner(self) -> T {
                self.0
            }
        }

        impl<T: $crate::storage::StrStorage> core::ops::Deref for $name<T> {
            type Target = str;
            #[inline]
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl<T: $crate::storage::StrStorage> AsRef<str> for $name<T> {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl<T: $crate::storage::StrStorage> core::fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                core::fmt::Debug::fmt(&*self.0, f)
            }
        }

        impl<T: $crate::storage::StrStorage> core::fmt::Display for $name<T> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<T: $crate::storage::StrStorage> PartialEq<str> for $name<T> {
            fn eq(&self, other: &str) -> bool {
                &*self.0 == other
            }
        }

        impl<T: $crate::storage::StrStorage> PartialEq<&str> for $name<T> {
            fn eq(&self, other: &&str) -> bool {
                &*self.0 == *other
            }
        }
    };
}
pub(crate) use str_newtype;

/// What the byte-valued newtypes share.
macro_rules! bytes_newtype {
    ($name:ident) => {
        impl<B: $crate::storage::Storage> $name<B> {
            /// The bytes.
            #[inline]
            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }

            /// Length on the wire, without any length prefix.
            #[inline]
            pub fn len(&self) -> usize {
                self.0.len()
            }

            /// Whether there are no bytes.
            #[inline]
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }

            /// The borrowed form, pointing into this value (no copy).
            #[inline]
            pub fn view(&self) -> $name<&[u8]> {
                $name(&*self.0)
            }

            /// The shared form: a clone when it already is, a copy otherwise.
            pub fn to_shared(&self) -> $name<bytes::Bytes> {
                $name($crate::storage::Storage::share(&self.0, None))
            }

            #[inline]
            #[allow(dead_code)]
            pub(crate) fn share(&self, parent: Option<&bytes::Bytes>) -> $name<bytes::Bytes> {
                $name($crate::storage::Storage::share(&self.0, parent))
            }

            /// The shared form, as a slice of `parent` when the bytes lie inside it (no
            /// copy), a copy otherwise.
            pub fn to_shared_in(&self, parent: &bytes::Bytes) -> $name<bytes::Bytes> {
                $name($crate::storage::Storage::share(&self.0, Some(parent)))
            }

            /// The storage itself (`&[u8]` or `Bytes`).
            #[inline]
            pub fn into_inner(self) -> B {
                self.0
            }
        }

        impl<B: $crate::storage::Storage> core::ops::Deref for $name<B> {
            type Target = [u8];
            #[inline]
            fn deref(&self) -> &[u8] {
                &self.0
            }
        }

        impl<B: $crate::storage::Storage> AsRef<[u8]> for $name<B> {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }

        impl<B: $crate::storage::Storage> core::fmt::Debug for $name<B> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                $crate::types::debug_bytes(&self.0, f)
            }
        }

        impl<B: $crate::storage::Storage> PartialEq<[u8]> for $name<B> {
            fn eq(&self, other: &[u8]) -> bool {
                &*self.0 == other
            }
        }
    };
}

/// A UTF-8 Encoded String: at most 65,535 bytes, well-formed, without U+0000
/// ([MQTT-1.5.4-1], [MQTT-1.5.4-2]; 3.1.1: [MQTT-1.5.3-1], [MQTT-1.5.3-2]).
///
/// `T` is `&str` in the borrowed form ([`Str<'a>`](crate::Str)) and [`ByteString`] in the
/// shared one ([`shared::Str`](crate::shared::Str)).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Str<T>(T);

str_newtype!(Str);

impl<'a> Str<&'a str> {
    /// Checks the string rules.
    pub fn new(s: &'a str) -> Result<Self, ValueError> {
        check_str(s)?;
        Ok(Str(s))
    }

    /// Checks the string rules and, in addition, refuses control characters and Unicode
    /// non-characters (the strict mode of the decoder).
    pub fn new_strict(s: &'a str) -> Result<Self, ValueError> {
        check_str(s)?;
        utf8::check_strict(s).map_err(ValueError::from)?;
        Ok(Str(s))
    }

    /// Checks raw bytes (as read off the wire) against the string rules and borrows them:
    /// well-formed UTF-8, no U+0000, at most 65,535 bytes. `strict` also refuses control
    /// characters and non-characters.
    #[inline(always)]
    pub fn from_bytes(b: &'a [u8], strict: bool) -> Result<Self, ValueError> {
        check_len(b.len())?;
        utf8::check(b, strict).map(Str).map_err(ValueError::from)
    }

    /// The string, with the lifetime of the buffer it borrows.
    #[inline]
    pub fn get(self) -> &'a str {
        self.0
    }
}

impl Str<ByteString> {
    /// Checks the string rules; a `String` becomes the storage without a copy.
    pub fn new(s: impl Into<ByteString>) -> Result<Self, ValueError> {
        let s = s.into();
        check_str(&s)?;
        Ok(Str(s))
    }
}

impl<T> Str<T> {
    /// For strings this crate already checked.
    #[inline]
    pub(crate) const fn from_checked(s: T) -> Self {
        Str(s)
    }
}

fn check_str(s: &str) -> Result<(), ValueError> {
    check_len(s.len())?;
    if let Some(at) = utf8::find_null(s.as_bytes()) {
        return Err(ValueError::NullCharacter { at });
    }
    Ok(())
}

impl<'a> TryFrom<&'a str> for Str<&'a str> {
    type Error = ValueError;
    fn try_from(s: &'a str) -> Result<Self, ValueError> {
        Str::<&str>::new(s)
    }
}

impl TryFrom<String> for Str<ByteString> {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        Str::<ByteString>::new(s)
    }
}

/// Binary Data: at most 65,535 bytes (MQTT 5.0 §1.5.6; the 3.1.1 password and will
/// message).
///
/// `B` is `&[u8]` in the borrowed form ([`Bin<'a>`](crate::Bin)) and [`Bytes`] in the
/// shared one ([`shared::Bin`](crate::shared::Bin)).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Bin<B>(B);

bytes_newtype!(Bin);

impl<'a> Bin<&'a [u8]> {
    /// Checks the length.
    pub fn new(b: &'a [u8]) -> Result<Self, ValueError> {
        check_len(b.len())?;
        Ok(Bin(b))
    }

    /// The bytes, with the lifetime of the buffer they borrow.
    #[inline]
    pub fn get(self) -> &'a [u8] {
        self.0
    }
}

impl Bin<Bytes> {
    /// Checks the length; a `Vec<u8>` becomes the storage without a copy.
    pub fn new(b: impl Into<Bytes>) -> Result<Self, ValueError> {
        let b = b.into();
        check_len(b.len())?;
        Ok(Bin(b))
    }
}

impl<B> Bin<B> {
    #[inline]
    pub(crate) const fn from_checked(b: B) -> Self {
        Bin(b)
    }
}

impl<'a> TryFrom<&'a [u8]> for Bin<&'a [u8]> {
    type Error = ValueError;
    fn try_from(b: &'a [u8]) -> Result<Self, ValueError> {
        Bin::<&[u8]>::new(b)
    }
}

impl TryFrom<Vec<u8>> for Bin<Bytes> {
    type Error = ValueError;
    fn try_from(b: Vec<u8>) -> Result<Self, ValueError> {
        Bin::<Bytes>::new(b)
    }
}

/// How bytes read in a log: UTF-8 text as a quoted string, anything else as a byte string
/// (`b"\x00\xff"`), either way cut after 256 bytes with the total length named.
pub(crate) fn debug_bytes(b: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    const SHOWN: usize = 256;
    let (head, cut) = match b.get(..SHOWN) {
        Some(head) if b.len() > SHOWN => (head, true),
        _ => (b, false),
    };
    // A cut may fall inside a character: the text is what decodes up to it.
    let text = match core::str::from_utf8(head) {
        Ok(t) => Some(t),
        Err(e) if cut && e.error_len().is_none() => head
            .get(..e.valid_up_to())
            .and_then(|h| core::str::from_utf8(h).ok()),
        Err(_) => None,
    };
    match text {
        Some(t) => fmt::Debug::fmt(t, f)?,
        None => {
            f.write_str("b\"")?;
            for &c in head {
                if c == b'"' || c == b'\\' {
                    write!(f, "\\{}", c as char)?;
                } else if (0x20..0x7f).contains(&c) {
                    write!(f, "{}", c as char)?;
                } else {
                    write!(f, "\\x{c:02x}")?;
                }
            }
            f.write_str("\"")?;
        }
    }
    if cut {
        write!(f, "… ({} bytes)", b.len())?;
    }
    Ok(())
}

/// An application message: any bytes, bounded only by the packet size.
///
/// `B` is `&[u8]` in the borrowed form ([`Payload<'a>`](crate::Payload)) and [`Bytes`] in
/// the shared one ([`shared::Payload`](crate::shared::Payload)), where one payload can be
/// handed to many subscribers without a copy.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Payload<B>(B);

bytes_newtype!(Payload);

impl<B> Payload<B> {
    /// A payload; there is no length rule of its own.
    #[inline]
    pub const fn new(b: B) -> Self {
        Payload(b)
    }
}

impl<'a> Payload<&'a [u8]> {
    /// The bytes, with the lifetime of the buffer they borrow.
    #[inline]
    pub fn get(self) -> &'a [u8] {
        self.0
    }
}

impl<'a> From<&'a [u8]> for Payload<&'a [u8]> {
    fn from(b: &'a [u8]) -> Self {
        Payload(b)
    }
}

impl<'a, const N: usize> From<&'a [u8; N]> for Payload<&'a [u8]> {
    fn from(b: &'a [u8; N]) -> Self {
        Payload(b.as_slice())
    }
}

impl<'a> From<&'a str> for Payload<&'a [u8]> {
    fn from(s: &'a str) -> Self {
        Payload(s.as_bytes())
    }
}

impl From<Bytes> for Payload<Bytes> {
    fn from(b: Bytes) -> Self {
        Payload(b)
    }
}

impl From<Vec<u8>> for Payload<Bytes> {
    fn from(b: Vec<u8>) -> Self {
        Payload(Bytes::from(b))
    }
}

impl From<String> for Payload<Bytes> {
    fn from(s: String) -> Self {
        Payload(Bytes::from(s))
    }
}

impl From<&'static [u8]> for Payload<Bytes> {
    fn from(b: &'static [u8]) -> Self {
        Payload(Bytes::from_static(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Bin, Payload, Str};
    use alloc::format;

    #[test]
    fn debug_shows_text_as_text_and_bytes_as_bytes() {
        assert_eq!(
            format!("{:?}", Payload::from(b"21.5 \"C\"")),
            r#""21.5 \"C\"""#
        );
        assert_eq!(
            format!("{:?}", Payload::from(&[0u8, 0xff, b'a', b'"'])),
            r#"b"\x00\xffa\"""#
        );
        assert_eq!(format!("{:?}", Bin::new(b"corr").unwrap()), r#""corr""#);
        assert_eq!(format!("{:?}", Payload::from(&b""[..])), r#""""#);
        // Long payloads are cut, with their size named; a cut inside a character keeps the
        // text before it.
        let long = "é".repeat(200);
        let shown = format!("{:?}", Payload::from(long.as_bytes()));
        assert_eq!(shown, format!("{:?}… (400 bytes)", "é".repeat(128)));
        // The shared form reads the same.
        let shared = crate::shared::Payload::from(long.into_bytes());
        assert_eq!(format!("{shared:?}"), shown);
    }

    #[test]
    fn borrowed_and_shared_convert_both_ways() {
        let buf = Bytes::from_static(b"xx hello yy");
        let s = core::str::from_utf8(&buf[3..8]).unwrap();
        let borrowed = Str::new(s).unwrap();
        let shared = borrowed.to_shared_in(&buf);
        assert_eq!(shared.as_ptr(), s.as_ptr());
        assert_eq!(shared.view(), borrowed);
        let copied = borrowed.to_shared();
        assert_ne!(copied.as_ptr(), s.as_ptr());
        assert_eq!(&*copied, "hello");
        assert_eq!(
            crate::shared::Str::new(String::from("a\0b")),
            Err(ValueError::NullCharacter { at: 1 })
        );
    }
}
