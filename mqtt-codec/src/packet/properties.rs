//! MQTT 5.0 properties (§2.2.2): every property, typed, on the packets that may carry it.
//!
//! Each packet has its own property type with a getter and a setter for each property that
//! packet allows, and no others. Decoding refuses any other property
//! ([`DecodeError::PropertyNotAllowed`]), a second copy of one that may appear once
//! ([`DecodeError::DuplicateProperty`]), and out-of-range values
//! ([`DecodeError::InvalidPropertyValue`]).
//!
//! The properties are kept as their validated wire bytes: decoding borrows them (no copy,
//! no allocation, and a packet stays small), getters read them when asked, and encoding
//! writes them back verbatim, in the order they came. Setters rewrite the bytes into an
//! owned buffer. User Properties keep their order, repeated keys and empty values.

use alloc::vec::Vec;
use bytes::{BufMut, Bytes};
use core::fmt;
use core::num::{NonZeroU16, NonZeroU32};

use crate::error::{DecodeError, EncodeError, ValueError};
use crate::packet::PacketType;
use crate::storage::{Source, Storage};
use crate::topic::TopicName;
use crate::types::{Bin, InvalidByte, Str, SubscriptionId};
use crate::wire::reader::Reader;
use crate::wire::varint;
use crate::wire::writer::{bin_len, put_bin};

/// A property identifier (MQTT 5.0 Table 2-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum PropertyId {
    PayloadFormatIndicator = 0x01,
    MessageExpiryInterval = 0x02,
    ContentType = 0x03,
    ResponseTopic = 0x08,
    CorrelationData = 0x09,
    SubscriptionIdentifier = 0x0B,
    SessionExpiryInterval = 0x11,
    AssignedClientIdentifier = 0x12,
    ServerKeepAlive = 0x13,
    AuthenticationMethod = 0x15,
    AuthenticationData = 0x16,
    RequestProblemInformation = 0x17,
    WillDelayInterval = 0x18,
    RequestResponseInformation = 0x19,
    ResponseInformation = 0x1A,
    ServerReference = 0x1C,
    ReasonString = 0x1F,
    ReceiveMaximum = 0x21,
    TopicAliasMaximum = 0x22,
    TopicAlias = 0x23,
    MaximumQos = 0x24,
    RetainAvailable = 0x25,
    UserProperty = 0x26,
    MaximumPacketSize = 0x27,
    WildcardSubscriptionAvailable = 0x28,
    SubscriptionIdentifierAvailable = 0x29,
    SharedSubscriptionAvailable = 0x2A,
}

impl TryFrom<u8> for PropertyId {
    type Error = InvalidByte;
    fn try_from(byte: u8) -> Result<Self, InvalidByte> {
        use PropertyId as P;
        Ok(match byte {
            0x01 => P::PayloadFormatIndicator,
            0x02 => P::MessageExpiryInterval,
            0x03 => P::ContentType,
            0x08 => P::ResponseTopic,
            0x09 => P::CorrelationData,
            0x0B => P::SubscriptionIdentifier,
            0x11 => P::SessionExpiryInterval,
            0x12 => P::AssignedClientIdentifier,
            0x13 => P::ServerKeepAlive,
            0x15 => P::AuthenticationMethod,
            0x16 => P::AuthenticationData,
            0x17 => P::RequestProblemInformation,
            0x18 => P::WillDelayInterval,
            0x19 => P::RequestResponseInformation,
            0x1A => P::ResponseInformation,
            0x1C => P::ServerReference,
            0x1F => P::ReasonString,
            0x21 => P::ReceiveMaximum,
            0x22 => P::TopicAliasMaximum,
            0x23 => P::TopicAlias,
            0x24 => P::MaximumQos,
            0x25 => P::RetainAvailable,
            0x26 => P::UserProperty,
            0x27 => P::MaximumPacketSize,
            0x28 => P::WildcardSubscriptionAvailable,
            0x29 => P::SubscriptionIdentifierAvailable,
            0x2A => P::SharedSubscriptionAvailable,
            _ => {
                return Err(InvalidByte {
                    what: "property identifier",
                    byte,
                })
            }
        })
    }
}

/// Payload Format Indicator (MQTT 5.0 §3.3.2.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PayloadFormat {
    /// 0: unspecified bytes.
    #[default]
    Unspecified = 0,
    /// 1: UTF-8 encoded character data.
    Utf8 = 1,
}

/// Maximum QoS a server supports (MQTT 5.0 §3.2.2.3.4): only 0 or 1 may be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MaximumQos {
    /// 0.
    AtMostOnce = 0,
    /// 1.
    AtLeastOnce = 1,
}

/// One property with its typed value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Property<'a> {
    PayloadFormatIndicator(PayloadFormat),
    MessageExpiryInterval(u32),
    ContentType(Str<&'a str>),
    /// A topic name: no wildcards ([MQTT-3.3.2-13], [MQTT-3.3.2-14]).
    ResponseTopic(TopicName<&'a str>),
    CorrelationData(Bin<&'a [u8]>),
    SubscriptionIdentifier(SubscriptionId),
    SessionExpiryInterval(u32),
    AssignedClientIdentifier(Str<&'a str>),
    ServerKeepAlive(u16),
    AuthenticationMethod(Str<&'a str>),
    AuthenticationData(Bin<&'a [u8]>),
    RequestProblemInformation(bool),
    WillDelayInterval(u32),
    RequestResponseInformation(bool),
    ResponseInformation(Str<&'a str>),
    ServerReference(Str<&'a str>),
    ReasonString(Str<&'a str>),
    /// Not 0.
    ReceiveMaximum(NonZeroU16),
    TopicAliasMaximum(u16),
    /// Not 0 ([MQTT-3.3.2-8]).
    TopicAlias(NonZeroU16),
    MaximumQos(MaximumQos),
    RetainAvailable(bool),
    /// A name and a value ([MQTT-1.5.7-1]).
    UserProperty(Str<&'a str>, Str<&'a str>),
    /// Not 0.
    MaximumPacketSize(NonZeroU32),
    WildcardSubscriptionAvailable(bool),
    SubscriptionIdentifierAvailable(bool),
    SharedSubscriptionAvailable(bool),
}

impl<'a> Property<'a> {
    /// The identifier.
    pub fn id(&self) -> PropertyId {
        use Property as V;
        use PropertyId as P;
        match self {
            V::PayloadFormatIndicator(_) => P::PayloadFormatIndicator,
            V::MessageExpiryInterval(_) => P::MessageExpiryInterval,
            V::ContentType(_) => P::ContentType,
            V::ResponseTopic(_) => P::ResponseTopic,
            V::CorrelationData(_) => P::CorrelationData,
            V::SubscriptionIdentifier(_) => P::SubscriptionIdentifier,
            V::SessionExpiryInterval(_) => P::SessionExpiryInterval,
            V::AssignedClientIdentifier(_) => P::AssignedClientIdentifier,
            V::ServerKeepAlive(_) => P::ServerKeepAlive,
            V::AuthenticationMethod(_) => P::AuthenticationMethod,
            V::AuthenticationData(_) => P::AuthenticationData,
            V::RequestProblemInformation(_) => P::RequestProblemInformation,
            V::WillDelayInterval(_) => P::WillDelayInterval,
            V::RequestResponseInformation(_) => P::RequestResponseInformation,
            V::ResponseInformation(_) => P::ResponseInformation,
            V::ServerReference(_) => P::ServerReference,
            V::ReasonString(_) => P::ReasonString,
            V::ReceiveMaximum(_) => P::ReceiveMaximum,
            V::TopicAliasMaximum(_) => P::TopicAliasMaximum,
            V::TopicAlias(_) => P::TopicAlias,
            V::MaximumQos(_) => P::MaximumQos,
            V::RetainAvailable(_) => P::RetainAvailable,
            V::UserProperty(..) => P::UserProperty,
            V::MaximumPacketSize(_) => P::MaximumPacketSize,
            V::WildcardSubscriptionAvailable(_) => P::WildcardSubscriptionAvailable,
            V::SubscriptionIdentifierAvailable(_) => P::SubscriptionIdentifierAvailable,
            V::SharedSubscriptionAvailable(_) => P::SharedSubscriptionAvailable,
        }
    }

    /// Bytes on the wire, identifier included.
    pub fn wire_len(&self) -> usize {
        use Property as V;
        1 + match self {
            V::PayloadFormatIndicator(_)
            | V::RequestProblemInformation(_)
            | V::RequestResponseInformation(_)
            | V::MaximumQos(_)
            | V::RetainAvailable(_)
            | V::WildcardSubscriptionAvailable(_)
            | V::SubscriptionIdentifierAvailable(_)
            | V::SharedSubscriptionAvailable(_) => 1,
            V::ServerKeepAlive(_)
            | V::ReceiveMaximum(_)
            | V::TopicAliasMaximum(_)
            | V::TopicAlias(_) => 2,
            V::MessageExpiryInterval(_)
            | V::SessionExpiryInterval(_)
            | V::WillDelayInterval(_)
            | V::MaximumPacketSize(_) => 4,
            V::SubscriptionIdentifier(v) => varint::len(v.get()),
            V::ContentType(s)
            | V::AssignedClientIdentifier(s)
            | V::AuthenticationMethod(s)
            | V::ResponseInformation(s)
            | V::ServerReference(s)
            | V::ReasonString(s) => bin_len(s.as_bytes()),
            V::ResponseTopic(t) => bin_len(t.as_bytes()),
            V::CorrelationData(b) | V::AuthenticationData(b) => bin_len(b.as_bytes()),
            V::UserProperty(k, v) => bin_len(k.as_bytes()) + bin_len(v.as_bytes()),
        }
    }

    /// Writes the identifier and the value.
    pub fn write(&self, buf: &mut impl BufMut) {
        use Property as V;
        buf.put_u8(self.id() as u8);
        match self {
            V::PayloadFormatIndicator(v) => buf.put_u8(*v as u8),
            V::MaximumQos(v) => buf.put_u8(*v as u8),
            V::RequestProblemInformation(b)
            | V::RequestResponseInformation(b)
            | V::RetainAvailable(b)
            | V::WildcardSubscriptionAvailable(b)
            | V::SubscriptionIdentifierAvailable(b)
            | V::SharedSubscriptionAvailable(b) => buf.put_u8(u8::from(*b)),
            V::ServerKeepAlive(v) | V::TopicAliasMaximum(v) => buf.put_u16(*v),
            V::ReceiveMaximum(v) | V::TopicAlias(v) => buf.put_u16(v.get()),
            V::MessageExpiryInterval(v) | V::SessionExpiryInterval(v) | V::WillDelayInterval(v) => {
                buf.put_u32(*v)
            }
            V::MaximumPacketSize(v) => buf.put_u32(v.get()),
            V::SubscriptionIdentifier(v) => varint::put(buf, v.get()),
            V::ContentType(s)
            | V::AssignedClientIdentifier(s)
            | V::AuthenticationMethod(s)
            | V::ResponseInformation(s)
            | V::ServerReference(s)
            | V::ReasonString(s) => put_bin(buf, s.as_bytes()),
            V::ResponseTopic(t) => put_bin(buf, t.as_bytes()),
            V::CorrelationData(b) | V::AuthenticationData(b) => put_bin(buf, b.as_bytes()),
            V::UserProperty(k, v) => {
                put_bin(buf, k.as_bytes());
                put_bin(buf, v.as_bytes());
            }
        }
    }
}

/// Reads one string field, checking the UTF-8 rules.
#[inline(always)]
pub(crate) fn read_str<'a>(r: &mut Reader<'a>, strict: bool) -> Result<&'a str, DecodeError> {
    let at = r.offset();
    let b = r.binary()?;
    crate::wire::utf8::check(b, strict).map_err(|p| DecodeError::Invalid {
        packet: r.packet(),
        offset: (at + 2) as u32,
        error: ValueError::from(p),
    })
}

/// Reads a string of a block this crate already validated: only the conversion to `&str`.
#[inline]
fn read_checked_str<'a>(r: &mut Reader<'a>) -> Result<&'a str, DecodeError> {
    let at = r.offset();
    let b = r.binary()?;
    core::str::from_utf8(b).map_err(|e| DecodeError::Invalid {
        packet: r.packet(),
        offset: (at + 2) as u32,
        error: ValueError::IllFormedUtf8 {
            at: e.valid_up_to(),
        },
    })
}

/// Reads the next property, checking its identifier, its encoding and its value's range.
/// `trusted`: the block was validated when it was decoded, so strings are only converted.
fn read_property<'a>(
    r: &mut Reader<'a>,
    strict: bool,
    trusted: bool,
) -> Result<Property<'a>, DecodeError> {
    let read_str = |r: &mut Reader<'a>, strict: bool| {
        if trusted {
            read_checked_str(r)
        } else {
            read_str(r, strict)
        }
    };
    use Property as V;
    use PropertyId as P;
    let packet = r.packet();
    let idv = r.varint(true)?;
    let id = u8::try_from(idv)
        .ok()
        .and_then(|b| PropertyId::try_from(b).ok())
        .ok_or(DecodeError::UnknownProperty { packet, id: idv })?;
    let bad = |value: u32| DecodeError::InvalidPropertyValue {
        packet,
        property: id,
        value,
    };
    let flag = |b: u8| match b {
        0 => Ok(false),
        1 => Ok(true),
        v => Err(bad(v.into())),
    };
    Ok(match id {
        P::PayloadFormatIndicator => V::PayloadFormatIndicator(match r.u8()? {
            0 => PayloadFormat::Unspecified,
            1 => PayloadFormat::Utf8,
            v => return Err(bad(v.into())),
        }),
        P::MaximumQos => V::MaximumQos(match r.u8()? {
            0 => MaximumQos::AtMostOnce,
            1 => MaximumQos::AtLeastOnce,
            v => return Err(bad(v.into())),
        }),
        P::RequestProblemInformation => V::RequestProblemInformation(flag(r.u8()?)?),
        P::RequestResponseInformation => V::RequestResponseInformation(flag(r.u8()?)?),
        P::RetainAvailable => V::RetainAvailable(flag(r.u8()?)?),
        P::WildcardSubscriptionAvailable => V::WildcardSubscriptionAvailable(flag(r.u8()?)?),
        P::SubscriptionIdentifierAvailable => V::SubscriptionIdentifierAvailable(flag(r.u8()?)?),
        P::SharedSubscriptionAvailable => V::SharedSubscriptionAvailable(flag(r.u8()?)?),
        P::ServerKeepAlive => V::ServerKeepAlive(r.u16()?),
        P::TopicAliasMaximum => V::TopicAliasMaximum(r.u16()?),
        P::ReceiveMaximum => V::ReceiveMaximum(NonZeroU16::new(r.u16()?).ok_or(bad(0))?),
        P::TopicAlias => V::TopicAlias(NonZeroU16::new(r.u16()?).ok_or(bad(0))?),
        P::MessageExpiryInterval => V::MessageExpiryInterval(r.u32()?),
        P::SessionExpiryInterval => V::SessionExpiryInterval(r.u32()?),
        P::WillDelayInterval => V::WillDelayInterval(r.u32()?),
        P::MaximumPacketSize => V::MaximumPacketSize(NonZeroU32::new(r.u32()?).ok_or(bad(0))?),
        P::SubscriptionIdentifier => {
            let v = r.varint(true)?;
            V::SubscriptionIdentifier(SubscriptionId::new(v).ok_or(bad(v))?)
        }
        P::ContentType => V::ContentType(Str::from_checked(read_str(r, strict)?)),
        P::AssignedClientIdentifier => {
            V::AssignedClientIdentifier(Str::from_checked(read_str(r, strict)?))
        }
        P::AuthenticationMethod => V::AuthenticationMethod(Str::from_checked(read_str(r, strict)?)),
        P::ResponseInformation => V::ResponseInformation(Str::from_checked(read_str(r, strict)?)),
        P::ServerReference => V::ServerReference(Str::from_checked(read_str(r, strict)?)),
        P::ReasonString => V::ReasonString(Str::from_checked(read_str(r, strict)?)),
        P::ResponseTopic => {
            let at = r.offset() + 2;
            let s = read_str(r, strict)?;
            crate::topic::check_name(s).map_err(|error| DecodeError::Invalid {
                packet,
                offset: at as u32,
                error,
            })?;
            V::ResponseTopic(TopicName::from_checked(s))
        }
        P::CorrelationData => V::CorrelationData(Bin::from_checked(r.binary()?)),
        P::AuthenticationData => V::AuthenticationData(Bin::from_checked(r.binary()?)),
        P::UserProperty => {
            let k = read_str(r, strict)?;
            let v = read_str(r, strict)?;
            V::UserProperty(Str::from_checked(k), Str::from_checked(v))
        }
    })
}

/// Iterator over the properties of a validated block, in wire order.
#[derive(Debug, Clone)]
pub struct Properties<'s> {
    rest: &'s [u8],
}

impl<'s> Iterator for Properties<'s> {
    type Item = Property<'s>;
    #[inline]
    fn next(&mut self) -> Option<Property<'s>> {
        if self.rest.is_empty() {
            return None;
        }
        let mut r = Reader::new(self.rest, 0, PacketType::Publish);
        match read_property(&mut r, false, true) {
            Ok(p) => {
                self.rest = r.unread();
                Some(p)
            }
            // Unreachable for blocks this crate validated; stop rather than loop.
            Err(_) => {
                self.rest = &[];
                None
            }
        }
    }
}

impl<'s> Properties<'s> {
    /// The next property with identifier `id`; the others are skipped by their lengths,
    /// without reading their values.
    #[inline]
    fn next_of(&mut self, id: PropertyId) -> Option<Property<'s>> {
        loop {
            let first = *self.rest.first()?;
            if first == id as u8 {
                return self.next();
            }
            match self.rest.get(1..).and_then(|v| value_len(first, v)) {
                Some(n) => self.rest = self.rest.get(1 + n..).unwrap_or(&[]),
                None => {
                    self.rest = &[];
                    return None;
                }
            }
        }
    }
}

/// Bytes of the value of property `id` at the start of `v` (a validated block).
#[inline]
fn value_len(id: u8, v: &[u8]) -> Option<usize> {
    let prefixed = |v: &[u8]| -> Option<usize> {
        Some(2 + usize::from(u16::from_be_bytes([*v.first()?, *v.get(1)?])))
    };
    Some(match id {
        0x01 | 0x17 | 0x19 | 0x24 | 0x25 | 0x28 | 0x29 | 0x2A => 1,
        0x13 | 0x21 | 0x22 | 0x23 => 2,
        0x02 | 0x11 | 0x18 | 0x27 => 4,
        0x0B => 1 + v.iter().take(4).take_while(|&&b| b & 0x80 != 0).count(),
        0x26 => {
            let k = prefixed(v)?;
            k + prefixed(v.get(k..)?)?
        }
        _ => prefixed(v)?,
    })
}

/// A User Property: a name and a value, both UTF-8 strings ([MQTT-1.5.7-1]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserProperty<'a> {
    /// The name (names may repeat).
    pub key: Str<&'a str>,
    /// The value (may be empty).
    pub value: Str<&'a str>,
}

impl<'a> UserProperty<'a> {
    /// A pair; both strings are checked.
    pub fn new(key: &'a str, value: &'a str) -> Result<Self, ValueError> {
        Ok(UserProperty {
            key: Str::<&str>::new(key)?,
            value: Str::<&str>::new(value)?,
        })
    }
}

/// Iterator over the User Properties of a block, in order.
#[derive(Debug, Clone)]
pub struct UserProperties<'s>(Properties<'s>);

impl<'s> Iterator for UserProperties<'s> {
    type Item = UserProperty<'s>;
    #[inline]
    fn next(&mut self) -> Option<UserProperty<'s>> {
        if self.0.rest.is_empty() {
            return None;
        }
        match self.0.next_of(PropertyId::UserProperty)? {
            Property::UserProperty(key, value) => Some(UserProperty { key, value }),
            _ => None,
        }
    }
}

/// Iterator over the Subscription Identifiers of a PUBLISH, in order.
#[derive(Debug, Clone)]
pub struct SubscriptionIds<'s>(Properties<'s>);

impl Iterator for SubscriptionIds<'_> {
    type Item = SubscriptionId;
    #[inline]
    fn next(&mut self) -> Option<SubscriptionId> {
        if self.0.rest.is_empty() {
            return None;
        }
        match self.0.next_of(PropertyId::SubscriptionIdentifier)? {
            Property::SubscriptionIdentifier(v) => Some(v),
            _ => None,
        }
    }
}

/// The validated bytes of a property block (after the Property Length): borrowed from the
/// packet, or shared through `Bytes` (a setter writes a new block of its own).
#[derive(Clone, Copy)]
struct Block<B>(B);

impl<B: Storage> Block<B> {
    #[inline]
    fn bytes(&self) -> &[u8] {
        &self.0
    }

    #[inline]
    fn iter(&self) -> Properties<'_> {
        Properties { rest: self.bytes() }
    }

    fn view(&self) -> Block<&[u8]> {
        Block(self.bytes())
    }

    fn share(&self, parent: Option<&Bytes>) -> Block<Bytes> {
        Block(self.0.share(parent))
    }
}

impl Block<Bytes> {
    /// Replaces every property with identifier `id` by `value` (appended last), or removes
    /// them.
    fn set(&mut self, id: PropertyId, value: Option<Property<'_>>) {
        let keep = self.iter().filter(|p| p.id() != id);
        let len = keep.clone().map(|p| p.wire_len()).sum::<usize>()
            + value.as_ref().map_or(0, Property::wire_len);
        // Exactly the room needed: `Bytes` then takes the vector's allocation as it is.
        let mut out = Vec::with_capacity(len);
        for p in keep {
            p.write(&mut out);
        }
        if let Some(v) = value {
            v.write(&mut out);
        }
        self.0 = Bytes::from(out);
    }

    /// Appends a property.
    fn push(&mut self, value: Property<'_>) {
        let mut out = Vec::with_capacity(self.0.len() + value.wire_len());
        out.extend_from_slice(&self.0);
        value.write(&mut out);
        self.0 = Bytes::from(out);
    }
}

impl<'a> Block<&'a [u8]> {
    /// Reads the Property Length and the properties, checking each against the packet's
    /// `allowed` set and the once-only rule (`repeatable` are exempt).
    #[inline]
    fn decode(
        r: &mut Reader<'a>,
        strict: bool,
        allowed: u64,
        repeatable: u64,
    ) -> Result<&'a [u8], DecodeError> {
        let len = r.varint(true)? as usize;
        if len == 0 {
            return Ok(&[]);
        }
        let mut pr = r.sub(len)?;
        let block = pr.unread();
        let packet = pr.packet();
        let mut seen: u64 = 0;
        while !pr.is_empty() {
            let property = read_property(&mut pr, strict, false)?.id();
            let bit = 1u64 << (property as u8);
            if allowed & bit == 0 {
                return Err(DecodeError::PropertyNotAllowed { packet, property });
            }
            if seen & bit != 0 && repeatable & bit == 0 {
                return Err(DecodeError::DuplicateProperty { packet, property });
            }
            seen |= bit;
        }
        Ok(block)
    }
}

/// The set of `ids` as a bit mask (identifiers are below 64).
const fn mask(mut ids: &[PropertyId]) -> u64 {
    let mut m = 0u64;
    while let [first, rest @ ..] = ids {
        m |= 1u64 << (*first as u8);
        ids = rest;
    }
    m
}

/// Defines a packet's property type: a getter and a setter for each property it allows.
macro_rules! properties {
    (
        $(#[$m:meta])*
        $name:ident {
            $( $(#[$fm:meta])* $getter:ident / $setter:ident / $remover:ident : $ty:ty = $pid:ident, )*
        }
        $( repeated $(#[$rm:meta])* $rgetter:ident / $radd:ident = $rid:ident; )?
    ) => {
        $(#[$m])*
        ///
        /// Decoded properties are the packet's validated bytes (borrowed, or shared through
        /// `Bytes`), read when a getter is called; setters rewrite them into a buffer of
        /// their own. Equality compares the properties, not the order they were written in.
        ///
        /// Setters exist on the shared form (`shared::` types, over `Bytes`), which owns
        /// its block; the borrowed form is a view of one.
        #[derive(Clone, Copy)]
        pub struct $name<B: Storage> {
            block: Block<B>,
        }

        impl<B: Storage> Default for $name<B> {
            fn default() -> Self {
                Self::new()
            }
        }

        impl<B: Storage> $name<B> {
            const ALLOWED: u64 = mask(&[
                $( PropertyId::$pid, )*
                $( PropertyId::$rid, )?
                PropertyId::UserProperty,
            ]);
            const REPEATABLE: u64 = mask(&[$( PropertyId::$rid, )? PropertyId::UserProperty]);

            /// No properties.
            pub fn new() -> Self {
                $name { block: Block(B::default()) }
            }

            $(
                $(#[$fm])*
                #[inline]
                pub fn $getter(&self) -> Option<$ty> {
                    // Most packets carry no properties: answer those without a call.
                    if self.block.bytes().is_empty() {
                        return None;
                    }
                    match self.block.iter().next_of(PropertyId::$pid)? {
                        Property::$pid(v) => Some(v),
                        _ => None,
                    }
                }

            )*

            $(
                $(#[$rm])*
                pub fn $rgetter(&self) -> SubscriptionIds<'_> {
                    SubscriptionIds(self.block.iter())
                }

            )?

            /// User Properties, in order, repeated names kept.
            #[inline]
            pub fn user_properties(&self) -> UserProperties<'_> {
                UserProperties(self.block.iter())
            }

            /// Whether a property with identifier `id` is present.
            #[inline]
            pub fn contains(&self, id: PropertyId) -> bool {
                !self.block.bytes().is_empty() && self.block.iter().next_of(id).is_some()
            }

            /// Every property, typed, in wire order.
            pub fn iter(&self) -> Properties<'_> {
                self.block.iter()
            }

            /// Whether no property is set.
            #[inline]
            pub fn is_empty(&self) -> bool {
                self.block.bytes().is_empty()
            }

            /// The properties as they are written (after the Property Length).
            pub fn as_bytes(&self) -> &[u8] {
                self.block.bytes()
            }

            /// The borrowed form, pointing into this value (no copy).
            pub fn view(&self) -> $name<&[u8]> {
                $name { block: self.block.view() }
            }

            /// The shared form: a clone when it already is, a copy otherwise.
            pub fn to_shared(&self) -> $name<Bytes> {
                $name { block: self.block.share(None) }
            }

            /// The shared form, as a slice of `parent` when the properties lie inside it (no
            /// copy), a copy otherwise.
            pub fn to_shared_in(&self, parent: &Bytes) -> $name<Bytes> {
                $name { block: self.block.share(Some(parent)) }
            }

            #[inline]
            pub(crate) fn share(&self, parent: Option<&Bytes>) -> $name<Bytes> {
                $name { block: self.block.share(parent) }
            }

            /// Bytes of the property block, Property Length included.
            #[inline]
            pub(crate) fn wire_len(&self) -> usize {
                block_len(self.block.bytes().len())
            }

            /// Writes the Property Length and the properties.
            #[inline]
            pub(crate) fn write(&self, buf: &mut impl BufMut) {
                let b = self.block.bytes();
                varint::put(buf, b.len() as u32);
                buf.put_slice(b);
            }
        }

        impl $name<Bytes> {
            $(
                #[doc = concat!("Sets `", stringify!($pid), "`, replacing any value it had.")]
                pub fn $setter(&mut self, value: $ty) -> &mut Self {
                    self.block.set(PropertyId::$pid, Some(Property::$pid(value)));
                    self
                }

                #[doc = concat!("Removes `", stringify!($pid), "`, if it is there.")]
                pub fn $remover(&mut self) -> &mut Self {
                    if self.contains(PropertyId::$pid) {
                        self.block.set(PropertyId::$pid, None);
                    }
                    self
                }
            )*
            $(
                #[doc = concat!("Appends a `", stringify!($rid), "`.")]
                pub fn $radd(&mut self, value: SubscriptionId) -> &mut Self {
                    self.block.push(Property::$rid(value));
                    self
                }
            )?
            /// Appends a User Property from two strings, after checking both against the
            /// string rules ([MQTT-1.5.4-1], [MQTT-1.5.4-2]); on error nothing is added.
            pub fn add_user_property(&mut self, key: &str, value: &str) -> Result<&mut Self, ValueError> {
                let key = Str::<&str>::new(key)?;
                let value = Str::<&str>::new(value)?;
                self.block.push(Property::UserProperty(key, value));
                Ok(self)
            }

            /// Appends a User Property whose strings are already checked.
            pub fn push_user_property(&mut self, property: UserProperty<'_>) -> &mut Self {
                self.block.push(Property::UserProperty(property.key, property.value));
                self
            }

            /// Removes every User Property.
            pub fn clear_user_properties(&mut self) -> &mut Self {
                self.block.set(PropertyId::UserProperty, None);
                self
            }

        }

        impl<'a> $name<&'a [u8]> {
            /// Properties from the bytes of a block (what follows the Property Length),
            /// checked as a decoder checks them: each property allowed on this packet, its
            /// value in range, strings well-formed, no second copy of a property that may
            /// appear once. For building a packet from prepared bytes without allocating.
            pub fn from_bytes(block: &'a [u8]) -> Result<Self, DecodeError> {
                let mut framed = Vec::with_capacity(block.len() + 4);
                varint::put(&mut framed, block.len() as u32);
                let mut r = Reader::new(&framed, 0, PacketType::Publish);
                Block::decode(&mut r, false, Self::ALLOWED, Self::REPEATABLE)?;
                Ok($name { block: Block(block) })
            }
        }

        impl<B: Storage> PropBlock<B> for $name<B> {
            #[inline]
            fn decode_block<'a, S: Source<'a, B = B>>(r: &mut Reader<'a>, strict: bool, src: S) -> Result<Self, DecodeError> {
                let block = Block::decode(r, strict, Self::ALLOWED, Self::REPEATABLE)?;
                Ok($name { block: Block(src.bytes(block)) })
            }
            fn block_wire_len(&self) -> usize {
                self.wire_len()
            }
            fn write_block(&self, buf: &mut impl BufMut) {
                self.write(buf)
            }
            fn block_is_empty(&self) -> bool {
                self.is_empty()
            }
        }

        impl<B: Storage> PartialEq for $name<B> {
            fn eq(&self, other: &Self) -> bool {
                if self.block.bytes() == other.block.bytes() {
                    return true;
                }
                true $( && self.$getter() == other.$getter() )*
                    $( && self.$rgetter().eq(other.$rgetter()) )?
                    && self.user_properties().eq(other.user_properties())
            }
        }

        impl<B: Storage> Eq for $name<B> {}

        impl<B: Storage> fmt::Debug for $name<B> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list().entries(self.iter()).finish()
            }
        }
    };
}

/// Bytes of a property block with `content` bytes, Property Length included.
#[inline]
pub(crate) fn block_len(content: usize) -> usize {
    varint::len(content as u32) + content
}

/// Reads a property block at MQTT 5.0; at 3.x there is none and the default is returned.
#[inline]
pub(crate) fn read_v5<'a, S: Source<'a>, P: PropBlock<S::B>>(
    r: &mut Reader<'a>,
    d: &crate::Decoder,
    src: S,
) -> Result<P, DecodeError> {
    if d.protocol().is_v5() {
        P::decode_block(r, d.strict(), src)
    } else {
        Ok(P::default())
    }
}

/// What the packet code needs of any property type.
pub(crate) trait PropBlock<B>: Sized + Default {
    fn decode_block<'a, S: Source<'a, B = B>>(
        r: &mut Reader<'a>,
        strict: bool,
        src: S,
    ) -> Result<Self, DecodeError>;
    fn block_wire_len(&self) -> usize;
    fn write_block(&self, buf: &mut impl BufMut);
    fn block_is_empty(&self) -> bool;
}

/// Bytes of a property block at `protocol`: the block at 5.0; at 3.x nothing, and an
/// error if there are properties to send.
pub(crate) fn v5_block_len<B, P: PropBlock<B>>(
    props: &P,
    protocol: crate::Protocol,
    packet: PacketType,
    what: &'static str,
) -> Result<usize, EncodeError> {
    if protocol.is_v5() {
        Ok(props.block_wire_len())
    } else if props.block_is_empty() {
        Ok(0)
    } else {
        Err(EncodeError::NotInProtocol {
            packet,
            what,
            protocol,
        })
    }
}

properties! {
    /// CONNECT properties (MQTT 5.0 §3.1.2.11).
    ConnectProperties {
        /// Session Expiry Interval, seconds.
        session_expiry_interval / set_session_expiry_interval / remove_session_expiry_interval: u32 = SessionExpiryInterval,
        /// Receive Maximum (not 0).
        receive_maximum / set_receive_maximum / remove_receive_maximum: NonZeroU16 = ReceiveMaximum,
        /// Maximum Packet Size the client accepts (not 0).
        maximum_packet_size / set_maximum_packet_size / remove_maximum_packet_size: NonZeroU32 = MaximumPacketSize,
        /// Topic Alias Maximum.
        topic_alias_maximum / set_topic_alias_maximum / remove_topic_alias_maximum: u16 = TopicAliasMaximum,
        /// Request Response Information.
        request_response_information / set_request_response_information / remove_request_response_information: bool = RequestResponseInformation,
        /// Request Problem Information.
        request_problem_information / set_request_problem_information / remove_request_problem_information: bool = RequestProblemInformation,
        /// Authentication Method.
        authentication_method / set_authentication_method / remove_authentication_method: Str<&str> = AuthenticationMethod,
        /// Authentication Data.
        authentication_data / set_authentication_data / remove_authentication_data: Bin<&[u8]> = AuthenticationData,
    }
}

properties! {
    /// Will properties (MQTT 5.0 §3.1.3.2).
    WillProperties {
        /// Will Delay Interval, seconds.
        will_delay_interval / set_will_delay_interval / remove_will_delay_interval: u32 = WillDelayInterval,
        /// Payload Format Indicator.
        payload_format_indicator / set_payload_format_indicator / remove_payload_format_indicator: PayloadFormat = PayloadFormatIndicator,
        /// Message Expiry Interval, seconds.
        message_expiry_interval / set_message_expiry_interval / remove_message_expiry_interval: u32 = MessageExpiryInterval,
        /// Content Type.
        content_type / set_content_type / remove_content_type: Str<&str> = ContentType,
        /// Response Topic.
        response_topic / set_response_topic / remove_response_topic: TopicName<&str> = ResponseTopic,
        /// Correlation Data.
        correlation_data / set_correlation_data / remove_correlation_data: Bin<&[u8]> = CorrelationData,
    }
}

properties! {
    /// CONNACK properties (MQTT 5.0 §3.2.2.3).
    ConnAckProperties {
        /// Session Expiry Interval, seconds.
        session_expiry_interval / set_session_expiry_interval / remove_session_expiry_interval: u32 = SessionExpiryInterval,
        /// Receive Maximum (not 0).
        receive_maximum / set_receive_maximum / remove_receive_maximum: NonZeroU16 = ReceiveMaximum,
        /// Maximum QoS (0 or 1).
        maximum_qos / set_maximum_qos / remove_maximum_qos: MaximumQos = MaximumQos,
        /// Retain Available.
        retain_available / set_retain_available / remove_retain_available: bool = RetainAvailable,
        /// Maximum Packet Size the server accepts (not 0).
        maximum_packet_size / set_maximum_packet_size / remove_maximum_packet_size: NonZeroU32 = MaximumPacketSize,
        /// Assigned Client Identifier.
        assigned_client_identifier / set_assigned_client_identifier / remove_assigned_client_identifier: Str<&str> = AssignedClientIdentifier,
        /// Topic Alias Maximum.
        topic_alias_maximum / set_topic_alias_maximum / remove_topic_alias_maximum: u16 = TopicAliasMaximum,
        /// Reason String.
        reason_string / set_reason_string / remove_reason_string: Str<&str> = ReasonString,
        /// Wildcard Subscription Available.
        wildcard_subscription_available / set_wildcard_subscription_available / remove_wildcard_subscription_available: bool = WildcardSubscriptionAvailable,
        /// Subscription Identifiers Available.
        subscription_identifiers_available / set_subscription_identifiers_available / remove_subscription_identifiers_available: bool = SubscriptionIdentifierAvailable,
        /// Shared Subscription Available.
        shared_subscription_available / set_shared_subscription_available / remove_shared_subscription_available: bool = SharedSubscriptionAvailable,
        /// Server Keep Alive, seconds.
        server_keep_alive / set_server_keep_alive / remove_server_keep_alive: u16 = ServerKeepAlive,
        /// Response Information.
        response_information / set_response_information / remove_response_information: Str<&str> = ResponseInformation,
        /// Server Reference.
        server_reference / set_server_reference / remove_server_reference: Str<&str> = ServerReference,
        /// Authentication Method.
        authentication_method / set_authentication_method / remove_authentication_method: Str<&str> = AuthenticationMethod,
        /// Authentication Data.
        authentication_data / set_authentication_data / remove_authentication_data: Bin<&[u8]> = AuthenticationData,
    }
}

properties! {
    /// PUBLISH properties (MQTT 5.0 §3.3.2.3).
    PublishProperties {
        /// Payload Format Indicator.
        payload_format_indicator / set_payload_format_indicator / remove_payload_format_indicator: PayloadFormat = PayloadFormatIndicator,
        /// Message Expiry Interval, seconds.
        message_expiry_interval / set_message_expiry_interval / remove_message_expiry_interval: u32 = MessageExpiryInterval,
        /// Topic Alias (not 0, [MQTT-3.3.2-8]).
        topic_alias / set_topic_alias / remove_topic_alias: NonZeroU16 = TopicAlias,
        /// Response Topic.
        response_topic / set_response_topic / remove_response_topic: TopicName<&str> = ResponseTopic,
        /// Correlation Data.
        correlation_data / set_correlation_data / remove_correlation_data: Bin<&[u8]> = CorrelationData,
        /// Content Type.
        content_type / set_content_type / remove_content_type: Str<&str> = ContentType,
    }
    repeated
    /// Subscription Identifiers (server to client only; may repeat), in order.
    subscription_identifiers / add_subscription_identifier = SubscriptionIdentifier;
}

properties! {
    /// Properties of PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK and UNSUBACK: a Reason String
    /// and User Properties (MQTT 5.0 §3.4.2.2 and the like).
    AckProperties {
        /// Reason String.
        reason_string / set_reason_string / remove_reason_string: Str<&str> = ReasonString,
    }
}

properties! {
    /// SUBSCRIBE properties (MQTT 5.0 §3.8.2.1).
    SubscribeProperties {
        /// Subscription Identifier (once at most).
        subscription_identifier / set_subscription_identifier / remove_subscription_identifier: SubscriptionId = SubscriptionIdentifier,
    }
}

properties! {
    /// UNSUBSCRIBE properties (MQTT 5.0 §3.10.2.1): User Properties only.
    UnsubscribeProperties {
    }
}

properties! {
    /// DISCONNECT properties (MQTT 5.0 §3.14.2.2).
    DisconnectProperties {
        /// Session Expiry Interval, seconds (client to server only, [MQTT-3.14.2-2]).
        session_expiry_interval / set_session_expiry_interval / remove_session_expiry_interval: u32 = SessionExpiryInterval,
        /// Reason String.
        reason_string / set_reason_string / remove_reason_string: Str<&str> = ReasonString,
        /// Server Reference.
        server_reference / set_server_reference / remove_server_reference: Str<&str> = ServerReference,
    }
}

properties! {
    /// AUTH properties (MQTT 5.0 §3.15.2.2).
    AuthProperties {
        /// Authentication Method.
        authentication_method / set_authentication_method / remove_authentication_method: Str<&str> = AuthenticationMethod,
        /// Authentication Data.
        authentication_data / set_authentication_data / remove_authentication_data: Bin<&[u8]> = AuthenticationData,
        /// Reason String.
        reason_string / set_reason_string / remove_reason_string: Str<&str> = ReasonString,
    }
}

/// Property types that hold what a sender may drop to fit the peer's Maximum Packet Size:
/// the Reason String and the User Properties (MQTT 5.0 §3.4.2.2.2 and the like).
pub(crate) trait Trimmable {
    /// Drops the Reason String.
    fn drop_reason_string(&mut self);
    /// Drops the User Properties.
    fn drop_user_properties(&mut self);
}

macro_rules! trimmable {
    ($($name:ident),*) => {$(
        impl Trimmable for $name<Bytes> {
            fn drop_reason_string(&mut self) {
                self.remove_reason_string();
            }
            fn drop_user_properties(&mut self) {
                self.clear_user_properties();
            }
        }
    )*};
}
trimmable!(
    ConnAckProperties,
    AckProperties,
    DisconnectProperties,
    AuthProperties
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Bin, Str};
    use alloc::vec::Vec;

    fn s(x: &str) -> Str<'_> {
        Str::new(x).unwrap()
    }

    #[test]
    fn setters_replace_and_remove() {
        let mut p = crate::shared::PublishProperties::new();
        assert!(p.is_empty());
        p.set_content_type(s("a")).set_message_expiry_interval(5);
        p.set_content_type(s("b"));
        assert_eq!(p.content_type(), Some(s("b")));
        assert_eq!(p.message_expiry_interval(), Some(5));
        assert_eq!(p.iter().count(), 2);
        p.remove_content_type();
        assert_eq!(p.content_type(), None);
        assert_eq!(p.iter().count(), 1);
    }

    #[test]
    fn user_properties_keep_order_and_repeats() {
        let mut p = crate::shared::AckProperties::new();
        p.add_user_property("k", "1")
            .unwrap()
            .set_reason_string(s("r"))
            .add_user_property("k", "2")
            .unwrap()
            .add_user_property("", "")
            .unwrap();
        let pairs: Vec<alloc::string::String> = p
            .user_properties()
            .map(|u| alloc::format!("{}={}", u.key, u.value))
            .collect();
        assert_eq!(pairs, ["k=1", "k=2", "="]);
        p.clear_user_properties();
        assert_eq!(p.user_properties().count(), 0);
        assert_eq!(p.reason_string(), Some(s("r")));
    }

    #[test]
    fn equality_ignores_order_of_different_properties() {
        let mut a = crate::shared::ConnAckProperties::new();
        a.set_receive_maximum(NonZeroU16::new(5).unwrap())
            .set_retain_available(false);
        let mut b = crate::shared::ConnAckProperties::new();
        b.set_retain_available(false)
            .set_receive_maximum(NonZeroU16::new(5).unwrap());
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert_eq!(a, b);
        b.set_retain_available(true);
        assert_ne!(a, b);
    }

    #[test]
    fn setters_take_values_and_removal_is_its_own_method() {
        let mut p = crate::shared::SubscribeProperties::new();
        // A checked constructor's `None` can no longer turn into a silent removal: the
        // setter takes a value, so the caller handles `None` where it arises.
        p.set_subscription_identifier(SubscriptionId::new(7).unwrap());
        assert_eq!(
            p.subscription_identifier().map(SubscriptionId::get),
            Some(7)
        );
        assert!(p.contains(PropertyId::SubscriptionIdentifier));
        p.remove_subscription_identifier();
        assert!(p.subscription_identifier().is_none());
        assert!(p.is_empty());
        // Removing what is not there changes nothing.
        p.remove_subscription_identifier();
        assert!(p.is_empty());
    }

    #[test]
    fn user_property_from_two_strs() {
        let mut p = crate::shared::AckProperties::new();
        p.add_user_property("region", "eu").unwrap();
        assert_eq!(
            p.add_user_property("bad", "nul\0").map(|_| ()),
            Err(ValueError::NullCharacter { at: 3 })
        );
        let all: alloc::vec::Vec<_> = p.user_properties().collect();
        assert_eq!(all.len(), 1);
        assert_eq!((&*all[0].key, &*all[0].value), ("region", "eu"));
    }

    #[test]
    fn debug_lists_typed_properties() {
        let mut p = crate::shared::SubscribeProperties::new();
        p.set_subscription_identifier(SubscriptionId::new(9).unwrap());
        assert_eq!(
            alloc::format!("{p:?}"),
            "[SubscriptionIdentifier(SubscriptionId(9))]"
        );
    }

    #[test]
    fn wire_len_matches_written_bytes() {
        let props = [
            Property::PayloadFormatIndicator(PayloadFormat::Utf8),
            Property::MessageExpiryInterval(7),
            Property::ContentType(s("json")),
            Property::SubscriptionIdentifier(SubscriptionId::new(300_000).unwrap()),
            Property::ReceiveMaximum(NonZeroU16::new(1).unwrap()),
            Property::UserProperty(s("a"), s("bc")),
            Property::MaximumQos(MaximumQos::AtMostOnce),
            Property::CorrelationData(Bin::new(&[1u8, 2, 3][..]).unwrap()),
            Property::TopicAlias(NonZeroU16::new(9).unwrap()),
            Property::SessionExpiryInterval(1),
            Property::RequestProblemInformation(true),
            Property::SubscriptionIdentifier(SubscriptionId::new(1).unwrap()),
            Property::SubscriptionIdentifier(SubscriptionId::new(200).unwrap()),
            Property::SubscriptionIdentifier(SubscriptionId::new(crate::VARINT_MAX).unwrap()),
        ];
        for p in props {
            let mut out = Vec::new();
            p.write(&mut out);
            assert_eq!(out.len(), p.wire_len(), "{p:?}");
            assert_eq!(value_len(out[0], &out[1..]), Some(out.len() - 1), "{p:?}");
            let parsed = Properties { rest: &out }.next();
            assert_eq!(parsed, Some(p));
        }
    }
}
