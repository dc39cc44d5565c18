//! MQTT 5.0 properties (§2.2.2): every property, typed, on the packets that may carry it.
//!
//! Each packet has its own property struct holding only the properties that packet allows;
//! decoding refuses any other ([`DecodeError::PropertyNotAllowed`]), a second copy of a
//! property that may appear once ([`DecodeError::DuplicateProperty`]), and out-of-range
//! values ([`DecodeError::InvalidPropertyValue`]). User Properties keep their order,
//! repeated keys and empty values.

use bytes::BufMut;
use core::num::{NonZeroU16, NonZeroU32};

use crate::error::{DecodeError, EncodeError, ValueError};
use crate::packet::PacketType;
use crate::seq::{Sealed, Seq, SeqItem};
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

/// How a property's value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WireType {
    Byte,
    U16,
    U32,
    VarInt,
    Str,
    Bin,
    Pair,
}

impl PropertyId {
    fn wire_type(self) -> WireType {
        use PropertyId as P;
        match self {
            P::PayloadFormatIndicator
            | P::RequestProblemInformation
            | P::RequestResponseInformation
            | P::MaximumQos
            | P::RetainAvailable
            | P::WildcardSubscriptionAvailable
            | P::SubscriptionIdentifierAvailable
            | P::SharedSubscriptionAvailable => WireType::Byte,
            P::ServerKeepAlive | P::ReceiveMaximum | P::TopicAliasMaximum | P::TopicAlias => {
                WireType::U16
            }
            P::MessageExpiryInterval
            | P::SessionExpiryInterval
            | P::WillDelayInterval
            | P::MaximumPacketSize => WireType::U32,
            P::SubscriptionIdentifier => WireType::VarInt,
            P::ContentType
            | P::ResponseTopic
            | P::AssignedClientIdentifier
            | P::AuthenticationMethod
            | P::ResponseInformation
            | P::ServerReference
            | P::ReasonString => WireType::Str,
            P::CorrelationData | P::AuthenticationData => WireType::Bin,
            P::UserProperty => WireType::Pair,
        }
    }
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

/// A property value as it stands on the wire, strings already checked.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Raw<'a> {
    Byte(u8),
    U16(u16),
    U32(u32),
    VarInt(u32),
    Str(&'a str),
    Bin(&'a [u8]),
    Pair(&'a str, &'a str),
}

/// Reads one string field, checking the UTF-8 rules.
#[inline]
pub(crate) fn read_str<'a>(r: &mut Reader<'a>, strict: bool) -> Result<&'a str, DecodeError> {
    let at = r.offset();
    let b = r.binary()?;
    crate::wire::utf8::check(b, strict).map_err(|p| DecodeError::Invalid {
        packet: r.packet(),
        offset: (at + 2) as u32,
        error: ValueError::from(p),
    })
}

/// Reads the next property: its identifier and its value.
fn read_property<'a>(
    r: &mut Reader<'a>,
    strict: bool,
) -> Result<(PropertyId, Raw<'a>), DecodeError> {
    let idv = r.varint(true)?;
    let id = u8::try_from(idv)
        .ok()
        .and_then(|b| PropertyId::try_from(b).ok())
        .ok_or(DecodeError::UnknownProperty {
            packet: r.packet(),
            id: idv,
        })?;
    let raw = match id.wire_type() {
        WireType::Byte => Raw::Byte(r.u8()?),
        WireType::U16 => Raw::U16(r.u16()?),
        WireType::U32 => Raw::U32(r.u32()?),
        WireType::VarInt => Raw::VarInt(r.varint(true)?),
        WireType::Str => Raw::Str(read_str(r, strict)?),
        WireType::Bin => Raw::Bin(r.binary()?),
        WireType::Pair => {
            let k = read_str(r, strict)?;
            let v = read_str(r, strict)?;
            Raw::Pair(k, v)
        }
    };
    Ok((id, raw))
}

/// Why a raw value does not fit its typed field.
pub(crate) enum FieldError {
    Value(u32),
    Str(ValueError),
}

/// A typed property value.
pub(crate) trait Field<'a>: Sized {
    type Static;
    fn from_raw(raw: Raw<'a>) -> Result<Self, FieldError>;
    /// Bytes of the value (identifier excluded).
    fn value_len(&self) -> usize;
    fn put(&self, buf: &mut impl BufMut);
    fn into_static(self) -> Self::Static;
}

fn wrong_type<T>() -> Result<T, FieldError> {
    Err(FieldError::Value(u32::MAX))
}

impl Field<'_> for bool {
    type Static = bool;
    fn from_raw(raw: Raw<'_>) -> Result<Self, FieldError> {
        match raw {
            Raw::Byte(0) => Ok(false),
            Raw::Byte(1) => Ok(true),
            Raw::Byte(b) => Err(FieldError::Value(b.into())),
            _ => wrong_type(),
        }
    }
    fn value_len(&self) -> usize {
        1
    }
    fn put(&self, buf: &mut impl BufMut) {
        buf.put_u8(u8::from(*self));
    }
    fn into_static(self) -> bool {
        self
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

impl Field<'_> for PayloadFormat {
    type Static = PayloadFormat;
    fn from_raw(raw: Raw<'_>) -> Result<Self, FieldError> {
        match raw {
            Raw::Byte(0) => Ok(PayloadFormat::Unspecified),
            Raw::Byte(1) => Ok(PayloadFormat::Utf8),
            Raw::Byte(b) => Err(FieldError::Value(b.into())),
            _ => wrong_type(),
        }
    }
    fn value_len(&self) -> usize {
        1
    }
    fn put(&self, buf: &mut impl BufMut) {
        buf.put_u8(*self as u8);
    }
    fn into_static(self) -> Self {
        self
    }
}

/// Maximum QoS a server supports (MQTT 5.0 §3.2.2.3.4): only 0 or 1 may be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MaximumQos {
    /// 0.
    AtMostOnce = 0,
    /// 1.
    AtLeastOnce = 1,
}

impl Field<'_> for MaximumQos {
    type Static = MaximumQos;
    fn from_raw(raw: Raw<'_>) -> Result<Self, FieldError> {
        match raw {
            Raw::Byte(0) => Ok(MaximumQos::AtMostOnce),
            Raw::Byte(1) => Ok(MaximumQos::AtLeastOnce),
            Raw::Byte(b) => Err(FieldError::Value(b.into())),
            _ => wrong_type(),
        }
    }
    fn value_len(&self) -> usize {
        1
    }
    fn put(&self, buf: &mut impl BufMut) {
        buf.put_u8(*self as u8);
    }
    fn into_static(self) -> Self {
        self
    }
}

/// Integer properties: the wire type, and whether 0 is refused.
macro_rules! int_field {
    ($($ty:ty: $raw:ident, $len:literal, $put:ident, $get:expr, $make:expr;)*) => {$(
        impl Field<'_> for $ty {
            type Static = $ty;
            fn from_raw(raw: Raw<'_>) -> Result<Self, FieldError> {
                match raw {
                    Raw::$raw(v) => $make(v).ok_or(FieldError::Value(v.into())),
                    _ => wrong_type(),
                }
            }
            fn value_len(&self) -> usize {
                $len
            }
            fn put(&self, buf: &mut impl BufMut) {
                buf.$put($get(*self));
            }
            fn into_static(self) -> Self {
                self
            }
        }
    )*};
}

int_field! {
    u16: U16, 2, put_u16, |v: u16| v, Some;
    NonZeroU16: U16, 2, put_u16, NonZeroU16::get, NonZeroU16::new;
    u32: U32, 4, put_u32, |v: u32| v, Some;
    NonZeroU32: U32, 4, put_u32, NonZeroU32::get, NonZeroU32::new;
}

impl Field<'_> for SubscriptionId {
    type Static = SubscriptionId;
    fn from_raw(raw: Raw<'_>) -> Result<Self, FieldError> {
        match raw {
            Raw::VarInt(v) => SubscriptionId::new(v).ok_or(FieldError::Value(v)),
            _ => wrong_type(),
        }
    }
    fn value_len(&self) -> usize {
        varint::len(self.get())
    }
    fn put(&self, buf: &mut impl BufMut) {
        varint::put(buf, self.get());
    }
    fn into_static(self) -> Self {
        self
    }
}

impl<'a> Field<'a> for Str<'a> {
    type Static = Str<'static>;
    fn from_raw(raw: Raw<'a>) -> Result<Self, FieldError> {
        match raw {
            Raw::Str(s) => Ok(Str::from_checked(s)),
            _ => wrong_type(),
        }
    }
    fn value_len(&self) -> usize {
        bin_len(self.as_bytes())
    }
    fn put(&self, buf: &mut impl BufMut) {
        put_bin(buf, self.as_bytes());
    }
    fn into_static(self) -> Str<'static> {
        self.into_owned()
    }
}

impl<'a> Field<'a> for Bin<'a> {
    type Static = Bin<'static>;
    fn from_raw(raw: Raw<'a>) -> Result<Self, FieldError> {
        match raw {
            Raw::Bin(b) => Ok(Bin::from_checked(b)),
            _ => wrong_type(),
        }
    }
    fn value_len(&self) -> usize {
        bin_len(self.as_bytes())
    }
    fn put(&self, buf: &mut impl BufMut) {
        put_bin(buf, self.as_bytes());
    }
    fn into_static(self) -> Bin<'static> {
        self.into_owned()
    }
}

/// Response Topic: a topic name, no wildcards ([MQTT-3.3.2-13], [MQTT-3.3.2-14]).
impl<'a> Field<'a> for TopicName<'a> {
    type Static = TopicName<'static>;
    fn from_raw(raw: Raw<'a>) -> Result<Self, FieldError> {
        match raw {
            Raw::Str(s) => {
                crate::topic::check_name(s).map_err(FieldError::Str)?;
                Ok(TopicName::from_checked(s))
            }
            _ => wrong_type(),
        }
    }
    fn value_len(&self) -> usize {
        bin_len(self.as_bytes())
    }
    fn put(&self, buf: &mut impl BufMut) {
        put_bin(buf, self.as_bytes());
    }
    fn into_static(self) -> TopicName<'static> {
        self.into_owned()
    }
}

/// A User Property: a name and a value, both UTF-8 strings ([MQTT-1.5.7-1]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserProperty<'a> {
    /// The name (keys may repeat).
    pub key: Str<'a>,
    /// The value (may be empty).
    pub value: Str<'a>,
}

impl<'a> UserProperty<'a> {
    /// A pair; both strings are checked.
    pub fn new(key: &'a str, value: &'a str) -> Result<Self, ValueError> {
        Ok(UserProperty {
            key: Str::new(key)?,
            value: Str::new(value)?,
        })
    }

    fn wire_len(&self) -> usize {
        1 + bin_len(self.key.as_bytes()) + bin_len(self.value.as_bytes())
    }
}

/// Skips properties until one with identifier `want`, returning its value.
fn next_of<'s>(buf: &mut &'s [u8], want: PropertyId) -> Option<Raw<'s>> {
    let mut r = Reader::new(buf, 0, PacketType::Publish);
    let found = loop {
        if r.is_empty() {
            break None;
        }
        match read_property(&mut r, false) {
            Ok((id, raw)) if id == want => break Some(raw),
            Ok(_) => {}
            Err(_) => break None,
        }
    };
    *buf = r.unread();
    found
}

impl Sealed for UserProperty<'_> {}
impl<'a> SeqItem for UserProperty<'a> {
    type View<'s>
        = UserProperty<'s>
    where
        Self: 's;
    type Static = UserProperty<'static>;
    fn view(&self) -> UserProperty<'_> {
        UserProperty {
            key: self.key.reborrow(),
            value: self.value.reborrow(),
        }
    }
    fn read<'s>(buf: &mut &'s [u8]) -> Option<UserProperty<'s>>
    where
        Self: 's,
    {
        match next_of(buf, PropertyId::UserProperty)? {
            Raw::Pair(k, v) => Some(UserProperty {
                key: Str::from_checked(k),
                value: Str::from_checked(v),
            }),
            _ => None,
        }
    }
    fn to_static(v: UserProperty<'_>) -> UserProperty<'static> {
        UserProperty {
            key: v.key.into_owned(),
            value: v.value.into_owned(),
        }
    }
}

impl Sealed for SubscriptionId {}
impl SeqItem for SubscriptionId {
    type View<'s> = SubscriptionId;
    type Static = SubscriptionId;
    fn view(&self) -> SubscriptionId {
        *self
    }
    fn read<'s>(buf: &mut &'s [u8]) -> Option<SubscriptionId>
    where
        Self: 's,
    {
        match next_of(buf, PropertyId::SubscriptionIdentifier)? {
            Raw::VarInt(v) => SubscriptionId::new(v),
            _ => None,
        }
    }
    fn to_static(v: SubscriptionId) -> SubscriptionId {
        v
    }
}

/// User Properties in wire order.
pub type UserProperties<'a> = Seq<'a, UserProperty<'a>>;

fn user_properties_len(list: &UserProperties<'_>) -> usize {
    list.iter().map(|p| p.wire_len()).sum()
}

fn put_user_properties(list: &UserProperties<'_>, buf: &mut impl BufMut) {
    for p in list.iter() {
        buf.put_u8(PropertyId::UserProperty as u8);
        put_bin(buf, p.key.as_bytes());
        put_bin(buf, p.value.as_bytes());
    }
}

/// Bytes of a property block with `content` bytes, Property Length included.
#[inline]
pub(crate) fn block_len(content: usize) -> usize {
    varint::len(content as u32) + content
}

fn field_error(
    packet: PacketType,
    property: PropertyId,
    offset: usize,
    e: FieldError,
) -> DecodeError {
    match e {
        FieldError::Value(value) => DecodeError::InvalidPropertyValue {
            packet,
            property,
            value,
        },
        FieldError::Str(error) => DecodeError::Invalid {
            packet,
            offset: offset as u32,
            error,
        },
    }
}

/// Defines a packet's property struct: its fields, decoding, size and writing.
macro_rules! properties {
    (
        $(#[$m:meta])*
        $name:ident {
            $( $(#[$fm:meta])* $field:ident : $ty:ty = $pid:ident, )*
        }
        $( repeated $(#[$rm:meta])* $rfield:ident = $rid:ident; )?
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name<'a> {
            $( $(#[$fm])* pub $field: Option<$ty>, )*
            $( $(#[$rm])* pub $rfield: Seq<'a, SubscriptionId>, )?
            /// User Properties, in order, repeated names kept.
            pub user_properties: UserProperties<'a>,
        }

        impl<'a> $name<'a> {
            /// Whether no property is set.
            pub fn is_empty(&self) -> bool {
                true $( && self.$field.is_none() )*
                    $( && self.$rfield.is_empty() )?
                    && self.user_properties.is_empty()
            }

            /// Copies borrowed contents so that the value no longer borrows.
            pub fn into_owned(self) -> $name<'static> {
                $name {
                    $( $field: self.$field.map(Field::into_static), )*
                    $( $rfield: self.$rfield.into_owned(), )?
                    user_properties: self.user_properties.into_owned(),
                }
            }

            /// Reads the Property Length and the properties.
            #[allow(unused_mut, unused_variables)]
            pub(crate) fn decode(r: &mut Reader<'a>, strict: bool) -> Result<Self, DecodeError> {
                let len = r.varint(true)? as usize;
                let mut pr = r.sub(len)?;
                let mut out = Self::default();
                if len == 0 {
                    return Ok(out);
                }
                let block = pr.unread();
                let packet = pr.packet();
                let mut seen: u64 = 0;
                let mut users = false;
                $( let mut $rfield = false; )?
                while !pr.is_empty() {
                    let at = pr.offset();
                    let (id, raw) = read_property(&mut pr, strict)?;
                    match id {
                        $(
                            PropertyId::$pid => {
                                let bit = 1u64 << (id as u8);
                                if seen & bit != 0 {
                                    return Err(DecodeError::DuplicateProperty { packet, property: id });
                                }
                                seen |= bit;
                                out.$field = Some(
                                    <$ty as Field<'a>>::from_raw(raw)
                                        .map_err(|e| field_error(packet, id, at, e))?,
                                );
                            }
                        )*
                        PropertyId::UserProperty => users = true,
                        $(
                            PropertyId::$rid => {
                                <SubscriptionId as Field<'a>>::from_raw(raw)
                                    .map_err(|e| field_error(packet, id, at, e))?;
                                $rfield = true;
                            }
                        )?
                        #[allow(unreachable_patterns)]
                        _ => return Err(DecodeError::PropertyNotAllowed { packet, property: id }),
                    }
                }
                if users {
                    out.user_properties = Seq::wire(block);
                }
                $( if $rfield { out.$rfield = Seq::wire(block); } )?
                Ok(out)
            }

            /// Bytes of the properties, Property Length excluded.
            #[allow(unused_mut)]
            pub(crate) fn content_len(&self) -> usize {
                let mut n = 0;
                $( if let Some(v) = &self.$field { n += 1 + v.value_len(); } )*
                $( n += self.$rfield.iter().map(|s| 1 + s.value_len()).sum::<usize>(); )?
                n + user_properties_len(&self.user_properties)
            }

            /// Bytes of the property block, Property Length included.
            #[inline]
            pub(crate) fn wire_len(&self) -> usize {
                block_len(self.content_len())
            }

            /// Writes the Property Length and the properties.
            pub(crate) fn write(&self, buf: &mut impl BufMut) {
                varint::put(buf, self.content_len() as u32);
                $(
                    if let Some(v) = &self.$field {
                        buf.put_u8(PropertyId::$pid as u8);
                        v.put(buf);
                    }
                )*
                $(
                    for s in self.$rfield.iter() {
                        buf.put_u8(PropertyId::$rid as u8);
                        s.put(buf);
                    }
                )?
                put_user_properties(&self.user_properties, buf);
            }
        }

        impl<'a> PropBlock<'a> for $name<'a> {
            fn decode_block(r: &mut Reader<'a>, strict: bool) -> Result<Self, DecodeError> {
                Self::decode(r, strict)
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
    };
}

/// Reads a property block at MQTT 5.0; at 3.x there is none and the default is returned.
#[inline]
pub(crate) fn read_v5<'a, P: PropBlock<'a> + Default>(
    r: &mut Reader<'a>,
    d: &crate::Decoder,
) -> Result<P, DecodeError> {
    if d.protocol().is_v5() {
        P::decode_block(r, d.strict())
    } else {
        Ok(P::default())
    }
}

/// What the packet code needs of any property struct.
pub(crate) trait PropBlock<'a>: Sized {
    fn decode_block(r: &mut Reader<'a>, strict: bool) -> Result<Self, DecodeError>;
    fn block_wire_len(&self) -> usize;
    fn write_block(&self, buf: &mut impl BufMut);
    fn block_is_empty(&self) -> bool;
}

/// Bytes of a property block at `protocol`: the block at 5.0; at 3.x nothing, and an
/// error if there are properties to send.
pub(crate) fn v5_block_len<'a, P: PropBlock<'a>>(
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
        session_expiry_interval: u32 = SessionExpiryInterval,
        /// Receive Maximum (not 0).
        receive_maximum: NonZeroU16 = ReceiveMaximum,
        /// Maximum Packet Size the client accepts (not 0).
        maximum_packet_size: NonZeroU32 = MaximumPacketSize,
        /// Topic Alias Maximum.
        topic_alias_maximum: u16 = TopicAliasMaximum,
        /// Request Response Information.
        request_response_information: bool = RequestResponseInformation,
        /// Request Problem Information.
        request_problem_information: bool = RequestProblemInformation,
        /// Authentication Method.
        authentication_method: Str<'a> = AuthenticationMethod,
        /// Authentication Data.
        authentication_data: Bin<'a> = AuthenticationData,
    }
}

properties! {
    /// Will properties (MQTT 5.0 §3.1.3.2).
    WillProperties {
        /// Will Delay Interval, seconds.
        will_delay_interval: u32 = WillDelayInterval,
        /// Payload Format Indicator.
        payload_format_indicator: PayloadFormat = PayloadFormatIndicator,
        /// Message Expiry Interval, seconds.
        message_expiry_interval: u32 = MessageExpiryInterval,
        /// Content Type.
        content_type: Str<'a> = ContentType,
        /// Response Topic.
        response_topic: TopicName<'a> = ResponseTopic,
        /// Correlation Data.
        correlation_data: Bin<'a> = CorrelationData,
    }
}

properties! {
    /// CONNACK properties (MQTT 5.0 §3.2.2.3).
    ConnAckProperties {
        /// Session Expiry Interval, seconds.
        session_expiry_interval: u32 = SessionExpiryInterval,
        /// Receive Maximum (not 0).
        receive_maximum: NonZeroU16 = ReceiveMaximum,
        /// Maximum QoS (0 or 1).
        maximum_qos: MaximumQos = MaximumQos,
        /// Retain Available.
        retain_available: bool = RetainAvailable,
        /// Maximum Packet Size the server accepts (not 0).
        maximum_packet_size: NonZeroU32 = MaximumPacketSize,
        /// Assigned Client Identifier.
        assigned_client_identifier: Str<'a> = AssignedClientIdentifier,
        /// Topic Alias Maximum.
        topic_alias_maximum: u16 = TopicAliasMaximum,
        /// Reason String.
        reason_string: Str<'a> = ReasonString,
        /// Wildcard Subscription Available.
        wildcard_subscription_available: bool = WildcardSubscriptionAvailable,
        /// Subscription Identifiers Available.
        subscription_identifiers_available: bool = SubscriptionIdentifierAvailable,
        /// Shared Subscription Available.
        shared_subscription_available: bool = SharedSubscriptionAvailable,
        /// Server Keep Alive, seconds.
        server_keep_alive: u16 = ServerKeepAlive,
        /// Response Information.
        response_information: Str<'a> = ResponseInformation,
        /// Server Reference.
        server_reference: Str<'a> = ServerReference,
        /// Authentication Method.
        authentication_method: Str<'a> = AuthenticationMethod,
        /// Authentication Data.
        authentication_data: Bin<'a> = AuthenticationData,
    }
}

properties! {
    /// PUBLISH properties (MQTT 5.0 §3.3.2.3).
    PublishProperties {
        /// Payload Format Indicator.
        payload_format_indicator: PayloadFormat = PayloadFormatIndicator,
        /// Message Expiry Interval, seconds.
        message_expiry_interval: u32 = MessageExpiryInterval,
        /// Topic Alias (not 0, [MQTT-3.3.2-8]).
        topic_alias: NonZeroU16 = TopicAlias,
        /// Response Topic.
        response_topic: TopicName<'a> = ResponseTopic,
        /// Correlation Data.
        correlation_data: Bin<'a> = CorrelationData,
        /// Content Type.
        content_type: Str<'a> = ContentType,
    }
    repeated
    /// Subscription Identifiers (server to client only; may repeat).
    subscription_identifiers = SubscriptionIdentifier;
}

properties! {
    /// Properties of PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK and UNSUBACK: a Reason String
    /// and User Properties (MQTT 5.0 §3.4.2.2 and the like).
    AckProperties {
        /// Reason String.
        reason_string: Str<'a> = ReasonString,
    }
}

properties! {
    /// SUBSCRIBE properties (MQTT 5.0 §3.8.2.1).
    SubscribeProperties {
        /// Subscription Identifier (once at most).
        subscription_identifier: SubscriptionId = SubscriptionIdentifier,
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
        session_expiry_interval: u32 = SessionExpiryInterval,
        /// Reason String.
        reason_string: Str<'a> = ReasonString,
        /// Server Reference.
        server_reference: Str<'a> = ServerReference,
    }
}

properties! {
    /// AUTH properties (MQTT 5.0 §3.15.2.2).
    AuthProperties {
        /// Authentication Method.
        authentication_method: Str<'a> = AuthenticationMethod,
        /// Authentication Data.
        authentication_data: Bin<'a> = AuthenticationData,
        /// Reason String.
        reason_string: Str<'a> = ReasonString,
    }
}

/// Property structs that hold what a sender may drop to fit the peer's Maximum Packet
/// Size: the Reason String and the User Properties (MQTT 5.0 §3.4.2.2.2 and the like).
pub(crate) trait Trimmable {
    /// Drops the Reason String; whether there was one.
    fn drop_reason_string(&mut self) -> bool;
    /// Drops the User Properties; whether there were any.
    fn drop_user_properties(&mut self) -> bool;
}

macro_rules! trimmable {
    ($($name:ident),*) => {$(
        impl Trimmable for $name<'_> {
            fn drop_reason_string(&mut self) -> bool {
                self.reason_string.take().is_some()
            }
            fn drop_user_properties(&mut self) -> bool {
                let had = !self.user_properties.is_empty();
                self.user_properties = Seq::new();
                had
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
