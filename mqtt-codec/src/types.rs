//! Values that carry a wire invariant, each with a checked constructor.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::num::{NonZeroU16, NonZeroU32};
use core::ops::Deref;

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

macro_rules! cow_newtype_common {
    ($name:ident, $target:ty, $owned:ty) => {
        impl<'a> $name<'a> {
            /// Copies borrowed contents so that the value no longer borrows.
            pub fn into_owned(self) -> $name<'static> {
                $name(Cow::Owned(self.0.into_owned()))
            }

            /// A value borrowing from this one (no copy).
            #[inline]
            pub fn reborrow(&self) -> $name<'_> {
                $name(Cow::Borrowed(&*self.0))
            }

            /// Length on the wire of the contents, without any length prefix.
            #[inline]
            #[allow(clippy::len_without_is_empty)]
            pub fn len(&self) -> usize {
                self.0.len()
            }
        }

        impl Deref for $name<'_> {
            type Target = $target;
            #[inline]
            fn deref(&self) -> &$target {
                &self.0
            }
        }

        impl AsRef<$target> for $name<'_> {
            fn as_ref(&self) -> &$target {
                &self.0
            }
        }

        impl PartialEq<$target> for $name<'_> {
            fn eq(&self, other: &$target) -> bool {
                &*self.0 == other
            }
        }
    };
}

/// A UTF-8 Encoded String: at most 65,535 bytes, well-formed, without U+0000
/// ([MQTT-1.5.4-1], [MQTT-1.5.4-2]; 3.1.1: [MQTT-1.5.3-1], [MQTT-1.5.3-2]).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Str<'a>(Cow<'a, str>);

impl<'a> Str<'a> {
    /// Checks the string rules.
    pub fn new(s: impl Into<Cow<'a, str>>) -> Result<Self, ValueError> {
        let s = s.into();
        check_len(s.len())?;
        if let Some(at) = s.bytes().position(|b| b == 0) {
            return Err(ValueError::NullCharacter { at });
        }
        Ok(Str(s))
    }

    /// Checks the string rules and, in addition, refuses control characters and Unicode
    /// non-characters (the strict mode of the decoder).
    pub fn new_strict(s: impl Into<Cow<'a, str>>) -> Result<Self, ValueError> {
        let s = Str::new(s)?;
        utf8::check_strict(&s.0).map_err(ValueError::from)?;
        Ok(s)
    }

    /// The string.
    #[inline]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Checks raw bytes (as read off the wire) against the string rules and borrows them:
    /// well-formed UTF-8, no U+0000, at most 65,535 bytes. `strict` also refuses control
    /// characters and non-characters.
    #[inline(always)]
    pub fn from_bytes(b: &'a [u8], strict: bool) -> Result<Self, ValueError> {
        check_len(b.len())?;
        utf8::check(b, strict)
            .map(Str::from_checked)
            .map_err(ValueError::from)
    }

    /// For strings the decoder already checked.
    #[inline]
    pub(crate) fn from_checked(s: &'a str) -> Self {
        Str(Cow::Borrowed(s))
    }
}

impl fmt::Display for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'a> TryFrom<&'a str> for Str<'a> {
    type Error = ValueError;
    fn try_from(s: &'a str) -> Result<Self, ValueError> {
        Str::new(s)
    }
}

impl TryFrom<String> for Str<'static> {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        Str::new(s)
    }
}

cow_newtype_common!(Str, str, String);

impl fmt::Debug for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// Binary Data: at most 65,535 bytes (MQTT 5.0 §1.5.6; the 3.1.1 password and will
/// message).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Bin<'a>(Cow<'a, [u8]>);

impl<'a> Bin<'a> {
    /// Checks the length.
    pub fn new(b: impl Into<Cow<'a, [u8]>>) -> Result<Self, ValueError> {
        let b = b.into();
        check_len(b.len())?;
        Ok(Bin(b))
    }

    /// The bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    #[inline]
    pub(crate) fn from_checked(b: &'a [u8]) -> Self {
        Bin(Cow::Borrowed(b))
    }
}

impl<'a> TryFrom<&'a [u8]> for Bin<'a> {
    type Error = ValueError;
    fn try_from(b: &'a [u8]) -> Result<Self, ValueError> {
        Bin::new(b)
    }
}

cow_newtype_common!(Bin, [u8], Vec<u8>);
impl fmt::Debug for Bin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_bytes(&self.0, f)
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
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Payload<'a>(Cow<'a, [u8]>);

impl<'a> Payload<'a> {
    /// A payload; there is no length rule of its own.
    #[inline]
    pub fn new(b: impl Into<Cow<'a, [u8]>>) -> Self {
        Payload(b.into())
    }

    /// The bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Whether the payload has no bytes.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> From<&'a [u8]> for Payload<'a> {
    fn from(b: &'a [u8]) -> Self {
        Payload(Cow::Borrowed(b))
    }
}

impl<'a, const N: usize> From<&'a [u8; N]> for Payload<'a> {
    fn from(b: &'a [u8; N]) -> Self {
        Payload(Cow::Borrowed(b.as_slice()))
    }
}

impl From<Vec<u8>> for Payload<'static> {
    fn from(b: Vec<u8>) -> Self {
        Payload(Cow::Owned(b))
    }
}

cow_newtype_common!(Payload, [u8], Vec<u8>);
impl fmt::Debug for Payload<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_bytes(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert_eq!(
            format!("{:?}", Bin::new(&b"corr"[..]).unwrap()),
            r#""corr""#
        );
        assert_eq!(format!("{:?}", Payload::from(&b""[..])), r#""""#);
        // Long payloads are cut, with their size named; a cut inside a character keeps the
        // text before it.
        let long = "é".repeat(200);
        let shown = format!("{:?}", Payload::from(long.as_bytes()));
        assert_eq!(shown, format!("{:?}… (400 bytes)", "é".repeat(128)));
    }
}
