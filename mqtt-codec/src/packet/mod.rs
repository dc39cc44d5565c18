//! Control packets: one file per packet (the four publish acknowledgements share one), the
//! decoder and the encoder entry points.

use bytes::{BufMut, Bytes, BytesMut};
use bytestring::ByteString;
use core::fmt;
use core::num::NonZeroUsize;

use crate::storage::{Borrow, Share, Source, Storage, StrStorage};

use crate::error::{DecodeError, EncodeError};
use crate::types::Protocol;
use crate::wire::header::{self, FixedHeader};
use crate::wire::reader::Reader;
use crate::wire::varint::{self, VARINT_MAX};
use crate::wire::writer::Small;

pub(crate) mod ack;
pub(crate) mod auth;
pub(crate) mod connack;
pub(crate) mod connect;
pub(crate) mod disconnect;
pub(crate) mod properties;
pub(crate) mod publish;
pub(crate) mod reason;
pub(crate) mod suback;
pub(crate) mod subscribe;
pub(crate) mod tail;
#[cfg(test)]
pub(crate) mod testutil;
pub(crate) mod unsubscribe;

pub use ack::{PubAck, PubComp, PubRec, PubRel, PublishAck};
pub use auth::Auth;
pub use connack::ConnAck;
pub use connect::{Connect, Will};
pub use disconnect::Disconnect;
pub use publish::{Delivery, Publish};
pub use suback::{SubAck, UnsubAck};
pub use subscribe::{RetainHandling, Subscribe, Subscription, SubscriptionOptions};
pub use tail::Reason;
pub use unsubscribe::Unsubscribe;

/// The largest packet MQTT can describe: a 5-byte fixed header and 268,435,455 bytes.
pub const MAX_PACKET_SIZE: u32 = VARINT_MAX + 5;

/// The decoder's default maximum packet size: 1 MiB. Raise it with
/// [`Decoder::max_packet_size`] (up to [`MAX_PACKET_SIZE`]).
pub const DEFAULT_MAX_PACKET_SIZE: u32 = 1 << 20;

/// The control packet type: the high nibble of the first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum PacketType {
    Connect = 1,
    ConnAck = 2,
    Publish = 3,
    PubAck = 4,
    PubRec = 5,
    PubRel = 6,
    PubComp = 7,
    Subscribe = 8,
    SubAck = 9,
    Unsubscribe = 10,
    UnsubAck = 11,
    PingReq = 12,
    PingResp = 13,
    Disconnect = 14,
    /// MQTT 5.0 only.
    Auth = 15,
}

impl PacketType {
    /// The name in capitals, as the specification writes it.
    pub const fn name(self) -> &'static str {
        match self {
            PacketType::Connect => "CONNECT",
            PacketType::ConnAck => "CONNACK",
            PacketType::Publish => "PUBLISH",
            PacketType::PubAck => "PUBACK",
            PacketType::PubRec => "PUBREC",
            PacketType::PubRel => "PUBREL",
            PacketType::PubComp => "PUBCOMP",
            PacketType::Subscribe => "SUBSCRIBE",
            PacketType::SubAck => "SUBACK",
            PacketType::Unsubscribe => "UNSUBSCRIBE",
            PacketType::UnsubAck => "UNSUBACK",
            PacketType::PingReq => "PINGREQ",
            PacketType::PingResp => "PINGRESP",
            PacketType::Disconnect => "DISCONNECT",
            PacketType::Auth => "AUTH",
        }
    }

    /// The fixed-header flags this type requires (MQTT 5.0 §2.1.3 Table 2-2); PUBLISH has
    /// none fixed.
    pub const fn required_flags(self) -> Option<u8> {
        match self {
            PacketType::Publish => None,
            PacketType::PubRel | PacketType::Subscribe | PacketType::Unsubscribe => Some(0b0010),
            _ => Some(0),
        }
    }
}

impl TryFrom<u8> for PacketType {
    type Error = crate::types::InvalidByte;
    /// From the type nibble (0 to 15); 0 is reserved.
    fn try_from(byte: u8) -> Result<Self, Self::Error> {
        Ok(match byte {
            1 => PacketType::Connect,
            2 => PacketType::ConnAck,
            3 => PacketType::Publish,
            4 => PacketType::PubAck,
            5 => PacketType::PubRec,
            6 => PacketType::PubRel,
            7 => PacketType::PubComp,
            8 => PacketType::Subscribe,
            9 => PacketType::SubAck,
            10 => PacketType::Unsubscribe,
            11 => PacketType::UnsubAck,
            12 => PacketType::PingReq,
            13 => PacketType::PingResp,
            14 => PacketType::Disconnect,
            15 => PacketType::Auth,
            _ => {
                return Err(crate::types::InvalidByte {
                    what: "packet type",
                    byte,
                })
            }
        })
    }
}

impl fmt::Display for PacketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Checks the first byte of a packet: a defined type, and the flags it requires
/// ([MQTT-2.2.2-1], [MQTT-2.2.2-2]; PUBREL [MQTT-3.6.1-1], SUBSCRIBE [MQTT-3.8.1-1],
/// UNSUBSCRIBE [MQTT-3.10.1-1], DISCONNECT [MQTT-3.14.1-1], AUTH [MQTT-3.15.1-1]).
#[inline]
pub(crate) fn check_first_byte(byte: u8, protocol: Protocol) -> Result<PacketType, DecodeError> {
    let ty = PacketType::try_from(byte >> 4).map_err(|_| DecodeError::ReservedPacketType)?;
    if ty == PacketType::Auth && !protocol.is_v5() {
        return Err(DecodeError::PacketTypeNotInProtocol {
            packet: ty,
            protocol,
        });
    }
    let flags = byte & 0x0f;
    match ty.required_flags() {
        // MQTT 3.1 (§2.1) lets a resent PUBREL, SUBSCRIBE or UNSUBSCRIBE carry DUP with its
        // QoS 1; MQTT 3.1.1 fixed these flags.
        Some(0b0010) if flags == 0b1010 && protocol == Protocol::V3_1 => Ok(ty),
        Some(f) if f != flags => Err(DecodeError::InvalidFlags { packet: ty, flags }),
        // PUBLISH: QoS 3 is malformed [MQTT-3.3.1-4]; DUP needs QoS 1 or 2 [MQTT-3.3.1-2].
        None if flags & 0b0110 == 0b0110 => Err(DecodeError::InvalidQos { packet: ty }),
        None if flags & 0b1110 == 0b1000 => Err(DecodeError::DupWithQos0),
        _ => Ok(ty),
    }
}

/// Any control packet.
///
/// One model serves MQTT 3.1, 3.1.1 and 5.0: properties and reason codes are present in
/// every packet that has them in 5.0 and stay empty (or `Success`) at 3.x; asking to encode
/// 5.0-only content at 3.x is an [`EncodeError::NotInProtocol`].
///
/// `B` and `T` are the storage of byte fields and strings: [`crate::Packet<'a>`] is the
/// borrowed form, [`crate::shared::Packet`] the shared one ([`crate::storage`]).
#[derive(Debug, Clone, Copy)]
#[allow(missing_docs, clippy::large_enum_variant)]
pub enum Packet<B: Storage, T: StrStorage> {
    Connect(Connect<B, T>),
    ConnAck(ConnAck<B>),
    Publish(Publish<B, T>),
    PubAck(PubAck<B>),
    PubRec(PubRec<B>),
    PubRel(PubRel<B>),
    PubComp(PubComp<B>),
    Subscribe(Subscribe<B, T>),
    SubAck(SubAck<B>),
    Unsubscribe(Unsubscribe<B, T>),
    UnsubAck(UnsubAck<B>),
    PingReq,
    PingResp,
    Disconnect(Disconnect<B>),
    Auth(Auth<B>),
}

/// Packets compare by content, whatever their storage: a decoded borrowed packet equals
/// the shared packet it was encoded from.
impl<B1, T1, B2, T2> PartialEq<Packet<B2, T2>> for Packet<B1, T1>
where
    B1: Storage,
    T1: StrStorage,
    B2: Storage,
    T2: StrStorage,
{
    fn eq(&self, other: &Packet<B2, T2>) -> bool {
        use Packet as P;
        match (self, other) {
            (P::Connect(a), P::Connect(b)) => a.view() == b.view(),
            (P::ConnAck(a), P::ConnAck(b)) => a.view() == b.view(),
            (P::Publish(a), P::Publish(b)) => a.view() == b.view(),
            (P::PubAck(a), P::PubAck(b)) => a.view() == b.view(),
            (P::PubRec(a), P::PubRec(b)) => a.view() == b.view(),
            (P::PubRel(a), P::PubRel(b)) => a.view() == b.view(),
            (P::PubComp(a), P::PubComp(b)) => a.view() == b.view(),
            (P::Subscribe(a), P::Subscribe(b)) => a.view() == b.view(),
            (P::SubAck(a), P::SubAck(b)) => a.view() == b.view(),
            (P::Unsubscribe(a), P::Unsubscribe(b)) => a.view() == b.view(),
            (P::UnsubAck(a), P::UnsubAck(b)) => a.view() == b.view(),
            (P::PingReq, P::PingReq) | (P::PingResp, P::PingResp) => true,
            (P::Disconnect(a), P::Disconnect(b)) => a.view() == b.view(),
            (P::Auth(a), P::Auth(b)) => a.view() == b.view(),
            _ => false,
        }
    }
}

impl<B: Storage, T: StrStorage> Eq for Packet<B, T> {}

/// What a decoder found at the start of the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Packets are returned by value, never boxed: decoding allocates nothing.
#[allow(clippy::large_enum_variant)]
pub enum Decoded<B: Storage, T: StrStorage> {
    /// A whole packet, and how many bytes it took from the start of the buffer.
    Complete(Packet<B, T>, usize),
    /// Not enough bytes yet: once the fixed header is complete, exactly how many more the
    /// packet needs; `None` while the fixed header itself is incomplete.
    Partial(Option<NonZeroUsize>),
}

/// Decodes packets from contiguous bytes.
///
/// The decoder holds only configuration (it is `Copy`): the protocol level for packets
/// other than CONNECT (a CONNECT carries its own level), the maximum packet size, and the
/// optional checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoder {
    protocol: Protocol,
    max_packet_size: u32,
    strict_utf8: bool,
    check_payload_format: bool,
    client_id_limit: Option<u16>,
}

impl Decoder {
    /// A decoder for `protocol`, with a maximum packet size of
    /// [`DEFAULT_MAX_PACKET_SIZE`], without the optional checks.
    pub const fn new(protocol: Protocol) -> Self {
        Decoder {
            protocol,
            max_packet_size: DEFAULT_MAX_PACKET_SIZE,
            strict_utf8: false,
            check_payload_format: false,
            client_id_limit: None,
        }
    }

    /// The largest packet accepted, counted over the whole packet, fixed header included.
    /// A larger one is refused from its fixed header alone, before its body arrives.
    pub const fn max_packet_size(mut self, bytes: u32) -> Self {
        self.max_packet_size = bytes;
        self
    }

    /// Also refuse the control characters (U+0001..U+001F, U+007F..U+009F) and Unicode
    /// non-characters in strings, as a receiver may (MQTT 5.0 §1.5.4).
    pub const fn strict_utf8(mut self, on: bool) -> Self {
        self.strict_utf8 = on;
        self
    }

    /// Check that a payload (or will payload) whose Payload Format Indicator is 1 is UTF-8,
    /// and report [`DecodeError::PayloadFormatInvalid`] otherwise (MQTT 5.0 §3.3.2.3.2).
    pub const fn check_payload_format(mut self, on: bool) -> Self {
        self.check_payload_format = on;
        self
    }

    /// Refuse client identifiers longer than `bytes` ([`DecodeError::ClientIdRejected`]).
    /// Without a limit, MQTT 3.1 applies its own rule of 1 to 23 characters.
    pub const fn client_id_limit(mut self, bytes: Option<u16>) -> Self {
        self.client_id_limit = bytes;
        self
    }

    /// The protocol level for packets other than CONNECT.
    pub const fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Changes the protocol level, as a server does after reading CONNECT.
    pub fn set_protocol(&mut self, protocol: Protocol) {
        self.protocol = protocol;
    }

    /// The configured maximum packet size.
    pub const fn max_size(&self) -> u32 {
        self.max_packet_size
    }

    pub(crate) const fn strict(&self) -> bool {
        self.strict_utf8
    }

    pub(crate) const fn payload_format_checked(&self) -> bool {
        self.check_payload_format
    }

    pub(crate) const fn client_id_max(&self) -> Option<u16> {
        self.client_id_limit
    }

    /// Reads and checks the fixed header: `Ok(None)` while it is incomplete. The first byte
    /// is checked as soon as it is there, and the size as soon as the Remaining Length is.
    #[inline]
    fn header(&self, buf: &[u8]) -> Result<Option<(PacketType, FixedHeader)>, DecodeError> {
        let ty = match buf.first() {
            Some(&b) => check_first_byte(b, self.protocol)?,
            None => return Ok(None),
        };
        let hdr = match header::parse(buf, self.protocol.is_v5())? {
            Some(h) => h,
            None => return Ok(None),
        };
        let size = hdr.len as u64 + u64::from(hdr.remaining);
        if size > u64::from(self.max_packet_size) {
            return Err(DecodeError::PacketTooLarge {
                size,
                max: self.max_packet_size,
            });
        }
        Ok(Some((ty, hdr)))
    }

    /// How many bytes the packet at the start of `buf` takes, once its fixed header is
    /// complete (`Ok(None)` before), after the same checks of the fixed header as
    /// [`Decoder::decode`]. For a caller that buffers: it knows what to wait for.
    pub fn packet_len(&self, buf: &[u8]) -> Result<Option<usize>, DecodeError> {
        Ok(self.header(buf)?.map(|(_, h)| h.packet_len()))
    }

    /// Decodes the packet at the start of `buf`, in the borrowed form.
    ///
    /// The fixed header is read first: a packet type or flags that are wrong, or a size over
    /// the maximum, are errors at once. Then, once the whole packet is there, its body is
    /// decoded from the exact slice: a field that runs short or bytes left over are
    /// malformed, never partial. Strings, topics, binary fields and the payload borrow from
    /// `buf`.
    #[inline(always)]
    pub fn decode<'a>(&self, buf: &'a [u8]) -> Result<crate::Decoded<'a>, DecodeError> {
        self.decode_with(buf, Borrow)
    }

    /// Decodes the packet at the start of `buf`, in the shared form: its topic, strings,
    /// binary properties and payload are slices of `buf` (a reference count each, no copy,
    /// no allocation), so the packet outlives the borrow and can be kept, cloned and sent
    /// to another thread. Same checks and results as [`Decoder::decode`].
    #[inline]
    pub fn decode_bytes(&self, buf: &Bytes) -> Result<crate::shared::Decoded, DecodeError> {
        self.decode_with(buf, Share(buf))
    }

    /// Takes the packet at the start of `buf` off it, in the shared form, once it is all
    /// there (`Ok(None)` until then; `buf` keeps what it has). The packet's bytes are split
    /// off and frozen without a copy: fields share them. This is the call a read loop over
    /// a `BytesMut` makes (it is what the `tokio-util` codec does).
    pub fn decode_bytes_mut(
        &self,
        buf: &mut BytesMut,
    ) -> Result<Option<crate::shared::Packet>, DecodeError> {
        let len = match self.header(buf)? {
            Some((_, hdr)) if buf.len() >= hdr.packet_len() => hdr.packet_len(),
            _ => return Ok(None),
        };
        let frame = buf.split_to(len).freeze();
        match self.decode_bytes(&frame)? {
            Decoded::Complete(packet, _) => Ok(Some(packet)),
            Decoded::Partial(_) => Ok(None),
        }
    }

    #[inline(always)]
    fn decode_with<'a, S: Source<'a>>(
        &self,
        buf: &'a [u8],
        src: S,
    ) -> Result<Decoded<S::B, S::T>, DecodeError> {
        let (ty, hdr) = match self.header(buf)? {
            Some(h) => h,
            None => return Ok(Decoded::Partial(None)),
        };
        let total = hdr.packet_len();
        let body = match buf.get(hdr.len..total) {
            Some(b) => b,
            None => {
                return Ok(Decoded::Partial(NonZeroUsize::new(
                    total.saturating_sub(buf.len()),
                )))
            }
        };
        // PUBLISH, the packet that matters for speed, is built straight into the result.
        // Its payload is the rest of the packet, so nothing can be left over.
        if ty == PacketType::Publish {
            let mut r = Reader::new(body, hdr.len, ty);
            let p = Publish::decode(hdr.byte & 0x0f, &mut r, self, src)?;
            return Ok(Decoded::Complete(Packet::Publish(p), total));
        }
        Ok(Decoded::Complete(
            self.decode_body(ty, &hdr, body, src)?,
            total,
        ))
    }

    #[inline(always)]
    fn decode_body<'a, S: Source<'a>>(
        &self,
        ty: PacketType,
        hdr: &FixedHeader,
        body: &'a [u8],
        s: S,
    ) -> Result<Packet<S::B, S::T>, DecodeError> {
        let byte = hdr.byte;
        let mut r = Reader::new(body, hdr.len, ty);
        let p = self.protocol;
        // MQTT 3.1 only (`check_first_byte` refuses it elsewhere): DUP on a resent PUBREL,
        // SUBSCRIBE or UNSUBSCRIBE, kept so that the packet encodes back the same.
        let dup = byte & 0b1000 != 0;
        let packet = match ty {
            PacketType::Connect => {
                let c = Connect::decode(&mut r, self, s)?;
                // A CONNECT names its own level: at 5.0 its Remaining Length too must be
                // minimal.
                if c.protocol.is_v5() && !hdr.is_minimal() {
                    return Err(DecodeError::NonMinimalVarInt { offset: 1 });
                }
                Packet::Connect(c)
            }
            PacketType::ConnAck => Packet::ConnAck(ConnAck::decode(&mut r, self, s)?),
            PacketType::Publish => Packet::Publish(Publish::decode(byte & 0x0f, &mut r, self, s)?),
            PacketType::PubAck => Packet::PubAck(PubAck::decode(&mut r, self, s)?),
            PacketType::PubRec => Packet::PubRec(PubRec::decode(&mut r, self, s)?),
            PacketType::PubRel => {
                let mut p = PubRel::decode(&mut r, self, s)?;
                p.dup = dup;
                Packet::PubRel(p)
            }
            PacketType::PubComp => Packet::PubComp(PubComp::decode(&mut r, self, s)?),
            PacketType::Subscribe => {
                let mut p = Subscribe::decode(&mut r, self, s)?;
                p.dup = dup;
                Packet::Subscribe(p)
            }
            PacketType::SubAck => Packet::SubAck(SubAck::decode(&mut r, self, s)?),
            PacketType::Unsubscribe => {
                let mut p = Unsubscribe::decode(&mut r, self, s)?;
                p.dup = dup;
                Packet::Unsubscribe(p)
            }
            PacketType::UnsubAck => Packet::UnsubAck(UnsubAck::decode(&mut r, self, s)?),
            PacketType::PingReq => Packet::PingReq,
            PacketType::PingResp => Packet::PingResp,
            PacketType::Disconnect => Packet::Disconnect(Disconnect::decode(&mut r, self, s)?),
            PacketType::Auth => Packet::Auth(Auth::decode(&mut r, p, self, s)?),
        };
        r.expect_empty()?;
        Ok(packet)
    }
}

/// Encodes packets for one protocol level, within the peer's Maximum Packet Size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoder {
    protocol: Protocol,
    max_packet_size: u32,
}

impl Encoder {
    /// An encoder for `protocol` with no size limit but the protocol's own.
    pub const fn new(protocol: Protocol) -> Self {
        Encoder {
            protocol,
            max_packet_size: MAX_PACKET_SIZE,
        }
    }

    /// The peer's Maximum Packet Size (from its CONNECT or CONNACK).
    pub const fn max_packet_size(mut self, bytes: u32) -> Self {
        self.max_packet_size = bytes;
        self
    }

    /// The protocol level.
    pub const fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The peer's Maximum Packet Size this encoder holds to.
    pub const fn max_size(&self) -> u32 {
        self.max_packet_size
    }

    /// The packet's exact size on the wire, or the error encoding it would give.
    pub fn encoded_len<B: Storage, T: StrStorage>(
        &self,
        packet: &Packet<B, T>,
    ) -> Result<usize, EncodeError> {
        let len = frame_len(packet.body_len(self.protocol)?)?;
        self.check_size(len)?;
        Ok(len)
    }

    fn check_size(&self, len: usize) -> Result<(), EncodeError> {
        if len as u64 > u64::from(self.max_packet_size) {
            return Err(EncodeError::PacketTooLarge {
                size: len as u64,
                max: u64::from(self.max_packet_size),
            });
        }
        Ok(())
    }

    /// Writes the whole packet into `buf`, or nothing: every check runs before the first
    /// byte is written. Returns the bytes written.
    pub fn encode<B: Storage, T: StrStorage>(
        &self,
        packet: &Packet<B, T>,
        buf: &mut impl BufMut,
    ) -> Result<usize, EncodeError> {
        if let Packet::Publish(p) = packet {
            return self.encode_publish(p, buf, true);
        }
        let body = packet.body_len(self.protocol)?;
        let len = frame_len(body)?;
        self.check_size(len)?;
        if buf.remaining_mut() < len {
            return Err(EncodeError::BufferTooSmall {
                needed: len,
                available: buf.remaining_mut(),
            });
        }
        buf.put_u8(packet.first_byte());
        varint::put(buf, body as u32);
        packet.write_body(self.protocol, buf);
        Ok(len)
    }

    /// Writes a PUBLISH without its payload: the fixed header (whose Remaining Length counts
    /// the payload) and the variable header. Send these bytes and then
    /// `publish.payload` itself, for instance with one vectored write, and a large payload
    /// is never copied. All or nothing, like [`Encoder::encode`]; returns the bytes written,
    /// and the whole packet is that plus `publish.payload.len()`.
    pub fn encode_publish_header<B: Storage, T: StrStorage>(
        &self,
        publish: &Publish<B, T>,
        buf: &mut impl BufMut,
    ) -> Result<usize, EncodeError> {
        self.encode_publish(publish, buf, false)
    }

    /// PUBLISH, the packet that matters for speed: the same checks and bytes as the
    /// general path, computed in one place and handed over in few pieces. Without
    /// `with_payload`, everything but the payload (whose length the header counts).
    #[inline]
    fn encode_publish<B: Storage, T: StrStorage>(
        &self,
        p: &Publish<B, T>,
        buf: &mut impl BufMut,
        with_payload: bool,
    ) -> Result<usize, EncodeError> {
        let v5 = self.protocol.is_v5();
        let topic = p.topic.as_bytes();
        let props = p.properties.as_bytes();
        let payload = p.payload.as_bytes();
        if topic.is_empty() && (!v5 || p.properties.topic_alias().is_none()) {
            return Err(EncodeError::EmptyTopicWithoutAlias);
        }
        if !v5 && !props.is_empty() {
            return Err(EncodeError::NotInProtocol {
                packet: PacketType::Publish,
                what: "properties",
                protocol: self.protocol,
            });
        }
        let id = p.delivery.packet_id();
        let props_len = if v5 {
            varint::len(props.len() as u32) + props.len()
        } else {
            0
        };
        let body = 2 + topic.len() + if id.is_some() { 2 } else { 0 } + props_len + payload.len();
        let len = frame_len(body)?;
        self.check_size(len)?;
        let out = if with_payload {
            len
        } else {
            len - payload.len()
        };
        if buf.remaining_mut() < out {
            return Err(EncodeError::BufferTooSmall {
                needed: out,
                available: buf.remaining_mut(),
            });
        }
        let first = ((PacketType::Publish as u8) << 4) | p.flags();
        // The usual PUBLISH, a short topic and no properties: the whole header in one
        // piece, then the payload.
        if topic.len() <= 48 && props.is_empty() {
            let mut head = Small::<64>::new();
            head.u8(first);
            head.varint(body as u32);
            head.u16(topic.len() as u16);
            head.slice(topic);
            if let Some(id) = id {
                head.u16(id.get());
            }
            if v5 {
                head.u8(0);
            }
            buf.put_slice(head.as_slice());
            if with_payload {
                buf.put_slice(payload);
            }
            return Ok(out);
        }
        let mut head = Small::<16>::new();
        head.u8(first);
        head.varint(body as u32);
        head.u16(topic.len() as u16);
        buf.put_slice(head.as_slice());
        buf.put_slice(topic);
        let mut mid = Small::<16>::new();
        if let Some(id) = id {
            mid.u16(id.get());
        }
        if v5 {
            mid.varint(props.len() as u32);
        }
        buf.put_slice(mid.as_slice());
        buf.put_slice(props);
        if with_payload {
            buf.put_slice(payload);
        }
        Ok(out)
    }
}

/// The whole packet's size for a body of `body` bytes.
#[inline]
fn frame_len(body: usize) -> Result<usize, EncodeError> {
    if body > VARINT_MAX as usize {
        return Err(EncodeError::PacketTooLarge {
            size: body as u64,
            max: u64::from(VARINT_MAX),
        });
    }
    Ok(1 + varint::len(body as u32) + body)
}

impl<B: Storage, T: StrStorage> Packet<B, T> {
    /// The packet type.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Connect(_) => PacketType::Connect,
            Packet::ConnAck(_) => PacketType::ConnAck,
            Packet::Publish(_) => PacketType::Publish,
            Packet::PubAck(_) => PacketType::PubAck,
            Packet::PubRec(_) => PacketType::PubRec,
            Packet::PubRel(_) => PacketType::PubRel,
            Packet::PubComp(_) => PacketType::PubComp,
            Packet::Subscribe(_) => PacketType::Subscribe,
            Packet::SubAck(_) => PacketType::SubAck,
            Packet::Unsubscribe(_) => PacketType::Unsubscribe,
            Packet::UnsubAck(_) => PacketType::UnsubAck,
            Packet::PingReq => PacketType::PingReq,
            Packet::PingResp => PacketType::PingResp,
            Packet::Disconnect(_) => PacketType::Disconnect,
            Packet::Auth(_) => PacketType::Auth,
        }
    }

    fn first_byte(&self) -> u8 {
        let ty = self.packet_type();
        let dup = match self {
            Packet::Publish(p) => return ((ty as u8) << 4) | p.flags(),
            Packet::PubRel(p) => p.dup,
            Packet::Subscribe(p) => p.dup,
            Packet::Unsubscribe(p) => p.dup,
            _ => false,
        };
        let flags = ty.required_flags().unwrap_or(0) | (u8::from(dup) << 3);
        ((ty as u8) << 4) | flags
    }

    /// Size of everything after the fixed header; checks everything the packet needs to be
    /// encodable at `protocol`.
    fn body_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        match self {
            Packet::Connect(p) => p.body_len(),
            Packet::ConnAck(p) => p.body_len(protocol),
            Packet::Publish(p) => p.body_len(protocol),
            Packet::PubAck(p) => p.body_len(protocol),
            Packet::PubRec(p) => p.body_len(protocol),
            Packet::PubRel(p) => p.body_len(protocol),
            Packet::PubComp(p) => p.body_len(protocol),
            Packet::Subscribe(p) => p.body_len(protocol),
            Packet::SubAck(p) => p.body_len(protocol),
            Packet::Unsubscribe(p) => p.body_len(protocol),
            Packet::UnsubAck(p) => p.body_len(protocol),
            Packet::PingReq | Packet::PingResp => Ok(0),
            Packet::Disconnect(p) => p.body_len(protocol),
            Packet::Auth(p) => p.body_len(protocol),
        }
    }

    fn write_body(&self, protocol: Protocol, buf: &mut impl BufMut) {
        match self {
            Packet::Connect(p) => p.write_body(buf),
            Packet::ConnAck(p) => p.write_body(protocol, buf),
            Packet::Publish(p) => p.write_body(protocol, buf),
            Packet::PubAck(p) => p.write_body(protocol, buf),
            Packet::PubRec(p) => p.write_body(protocol, buf),
            Packet::PubRel(p) => p.write_body(protocol, buf),
            Packet::PubComp(p) => p.write_body(protocol, buf),
            Packet::Subscribe(p) => p.write_body(protocol, buf),
            Packet::SubAck(p) => p.write_body(protocol, buf),
            Packet::Unsubscribe(p) => p.write_body(protocol, buf),
            Packet::UnsubAck(p) => p.write_body(protocol, buf),
            Packet::PingReq | Packet::PingResp => {}
            Packet::Disconnect(p) => p.write_body(protocol, buf),
            Packet::Auth(p) => p.write_body(buf),
        }
    }

    /// The packet's exact size on the wire at `protocol` (CONNECT uses its own level), or
    /// the error encoding would give. Nothing is written.
    pub fn encoded_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        Encoder::new(protocol).encoded_len(self)
    }

    /// Encodes at `protocol` (a CONNECT uses its own level) into `buf`: the whole packet or
    /// nothing. Returns the bytes written.
    pub fn encode(&self, protocol: Protocol, buf: &mut impl BufMut) -> Result<usize, EncodeError> {
        Encoder::new(protocol).encode(self, buf)
    }

    /// The borrowed form, pointing into this packet (no copy): what a shared packet
    /// offers code written for [`crate::Packet<'a>`].
    pub fn view(&self) -> Packet<&[u8], &str> {
        match self {
            Packet::Connect(p) => Packet::Connect(p.view()),
            Packet::ConnAck(p) => Packet::ConnAck(p.view()),
            Packet::Publish(p) => Packet::Publish(p.view()),
            Packet::PubAck(p) => Packet::PubAck(p.view()),
            Packet::PubRec(p) => Packet::PubRec(p.view()),
            Packet::PubRel(p) => Packet::PubRel(p.view()),
            Packet::PubComp(p) => Packet::PubComp(p.view()),
            Packet::Subscribe(p) => Packet::Subscribe(p.view()),
            Packet::SubAck(p) => Packet::SubAck(p.view()),
            Packet::Unsubscribe(p) => Packet::Unsubscribe(p.view()),
            Packet::UnsubAck(p) => Packet::UnsubAck(p.view()),
            Packet::PingReq => Packet::PingReq,
            Packet::PingResp => Packet::PingResp,
            Packet::Disconnect(p) => Packet::Disconnect(p.view()),
            Packet::Auth(p) => Packet::Auth(p.view()),
        }
    }

    pub(crate) fn share(&self, parent: Option<&Bytes>) -> Packet<Bytes, ByteString> {
        match self {
            Packet::Connect(p) => Packet::Connect(p.share(parent)),
            Packet::ConnAck(p) => Packet::ConnAck(p.share(parent)),
            Packet::Publish(p) => Packet::Publish(p.share(parent)),
            Packet::PubAck(p) => Packet::PubAck(p.share(parent)),
            Packet::PubRec(p) => Packet::PubRec(p.share(parent)),
            Packet::PubRel(p) => Packet::PubRel(p.share(parent)),
            Packet::PubComp(p) => Packet::PubComp(p.share(parent)),
            Packet::Subscribe(p) => Packet::Subscribe(p.share(parent)),
            Packet::SubAck(p) => Packet::SubAck(p.share(parent)),
            Packet::Unsubscribe(p) => Packet::Unsubscribe(p.share(parent)),
            Packet::UnsubAck(p) => Packet::UnsubAck(p.share(parent)),
            Packet::PingReq => Packet::PingReq,
            Packet::PingResp => Packet::PingResp,
            Packet::Disconnect(p) => Packet::Disconnect(p.share(parent)),
            Packet::Auth(p) => Packet::Auth(p.share(parent)),
        }
    }
}

impl Packet<Bytes, ByteString> {
    /// Drops what the specification lets a sender drop, the Reason String first and then the
    /// User Properties, until the packet fits `max_packet_size` (MQTT 5.0 §3.4.2.2.2 and the
    /// like; CONNACK, the publish acknowledgements, SUBACK, UNSUBACK, DISCONNECT and AUTH).
    /// Returns the size it then has, or the error encoding it still gives.
    pub fn trim_to_fit(
        &mut self,
        protocol: Protocol,
        max_packet_size: u32,
    ) -> Result<usize, EncodeError> {
        let enc = Encoder::new(protocol).max_packet_size(max_packet_size);
        for step in 0..3 {
            match enc.encoded_len(self) {
                Err(EncodeError::PacketTooLarge { .. }) if step < 2 => {
                    let Some(props) = self.trimmable() else {
                        return enc.encoded_len(self);
                    };
                    if step == 0 {
                        props.drop_reason_string();
                    } else {
                        props.drop_user_properties();
                    }
                }
                other => return other,
            }
        }
        enc.encoded_len(self)
    }
}

impl Packet<Bytes, ByteString> {
    /// The properties a sender may leave a Reason String and User Properties out of, in
    /// the packets that have them.
    pub(crate) fn trimmable(&mut self) -> Option<&mut dyn properties::Trimmable> {
        match self {
            Packet::ConnAck(p) => Some(&mut p.properties),
            Packet::PubAck(p) => Some(&mut p.properties),
            Packet::PubRec(p) => Some(&mut p.properties),
            Packet::PubRel(p) => Some(&mut p.properties),
            Packet::PubComp(p) => Some(&mut p.properties),
            Packet::SubAck(p) => Some(&mut p.properties),
            Packet::UnsubAck(p) => Some(&mut p.properties),
            Packet::Disconnect(p) => Some(&mut p.properties),
            Packet::Auth(p) => Some(&mut p.properties),
            _ => None,
        }
    }
}

impl<B: Storage, T: StrStorage> Packet<B, T> {
    /// The shared form: a cheap clone of a shared packet; for a borrowed one, each field
    /// copied into `Bytes` of its own.
    pub fn to_shared(&self) -> Packet<Bytes, ByteString> {
        self.share(None)
    }

    /// The shared form, its fields slices of `parent` wherever they lie inside it (no copy;
    /// a packet decoded from `parent` copies nothing), copies otherwise.
    pub fn to_shared_in(&self, parent: &Bytes) -> Packet<Bytes, ByteString> {
        self.share(Some(parent))
    }
}

macro_rules! into_packet {
    ($($v:ident<$($p:ident),*>),*) => {$(
        impl<B: Storage, T: StrStorage> From<$v<$($p),*>> for Packet<B, T> {
            fn from(p: $v<$($p),*>) -> Self {
                Packet::$v(p)
            }
        }
    )*};
}
into_packet!(
    Connect<B, T>,
    ConnAck<B>,
    Publish<B, T>,
    Subscribe<B, T>,
    SubAck<B>,
    Unsubscribe<B, T>,
    UnsubAck<B>,
    Disconnect<B>,
    Auth<B>
);

/// DUP outside PUBLISH: only a PUBREL, SUBSCRIBE or UNSUBSCRIBE at MQTT 3.1 may carry it.
pub(crate) fn check_dup(
    dup: bool,
    protocol: Protocol,
    packet: PacketType,
) -> Result<(), EncodeError> {
    let allowed = protocol == Protocol::V3_1 && packet.required_flags() == Some(0b0010);
    if dup && !allowed {
        return Err(EncodeError::NotInProtocol {
            packet,
            what: "DUP flag",
            protocol,
        });
    }
    Ok(())
}

/// Reads a Packet Identifier, refusing 0 ([MQTT-2.3.1-1]).
#[inline]
pub(crate) fn read_packet_id(r: &mut Reader<'_>) -> Result<crate::PacketId, DecodeError> {
    let v = r.u16()?;
    crate::PacketId::new(v).ok_or(DecodeError::ZeroPacketId { packet: r.packet() })
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;
    use crate::Protocol::{V3_1, V3_1_1, V5};
    use crate::{Decoded, Packet, Str};

    #[test]
    fn mqtt_2_2_2_1_reserved_flags_must_match_table() {
        for ty in 1u8..=15 {
            let t = PacketType::try_from(ty).unwrap();
            let Some(required) = t.required_flags() else {
                continue;
            };
            for flags in 0u8..16 {
                let byte = (ty << 4) | flags;
                let got = check_first_byte(byte, V5);
                if flags == required {
                    assert_eq!(got, Ok(t));
                } else {
                    assert_eq!(
                        got,
                        Err(DecodeError::InvalidFlags { packet: t, flags }),
                        "{t} {flags:#06b}"
                    );
                }
            }
        }
    }

    #[test]
    fn mqtt_2_2_2_2_invalid_flags_refused_from_the_first_byte() {
        // Nothing but the first byte is there: the error comes at once, not "partial".
        for byte in [0x60u8, 0x80, 0xa0, 0xe1, 0xf1, 0x41, 0xc2] {
            assert!(matches!(
                Decoder::new(V5).decode(&[byte]),
                Err(DecodeError::InvalidFlags { .. })
            ));
        }
    }

    #[test]
    fn mqtt_3_6_1_1_pubrel_flags_must_be_0010() {
        assert_eq!(
            error(V3_1_1, "60 02 00 01"),
            DecodeError::InvalidFlags {
                packet: PacketType::PubRel,
                flags: 0
            }
        );
        golden(V3_1_1, "62 02 00 01");
    }

    #[test]
    fn mqtt_3_1_section_2_1_dup_on_resent_pubrel_subscribe_unsubscribe() {
        // MQTT 3.1 lets these carry DUP (with their QoS 1); the flag survives a round trip.
        for (bytes, ty) in [
            ("6a 02 00 07", PacketType::PubRel),
            ("8a 06 0001 0001 61 01", PacketType::Subscribe),
            ("aa 05 0001 0001 61", PacketType::Unsubscribe),
        ] {
            let p = golden(V3_1, bytes);
            assert_eq!(p.packet_type(), ty);
            let dup = match &p {
                Packet::PubRel(p) => p.dup,
                Packet::Subscribe(p) => p.dup,
                Packet::Unsubscribe(p) => p.dup,
                _ => unreachable!(),
            };
            assert!(dup, "{ty}");
            // MQTT 3.1.1 and 5.0 fixed the flags: the same bytes are malformed there, and
            // the packet cannot be written at those levels.
            for level in [V3_1_1, V5] {
                assert_eq!(
                    error(level, bytes),
                    DecodeError::InvalidFlags {
                        packet: ty,
                        flags: 0b1010
                    }
                );
                assert!(matches!(
                    p.encoded_len(level),
                    Err(EncodeError::NotInProtocol {
                        what: "DUP flag",
                        ..
                    })
                ));
            }
        }
        // Only DUP is free at 3.1: another QoS, or RETAIN, is still refused.
        for byte in ["60", "64", "63", "8b", "a0"] {
            assert!(matches!(
                error(V3_1, byte),
                DecodeError::InvalidFlags { .. }
            ));
        }
        // A PUBACK never carries DUP, whatever the level.
        let mut ack = crate::PubAck::new(crate::PacketId::new(1).unwrap());
        ack.dup = true;
        assert!(Packet::PubAck(ack).encoded_len(V3_1).is_err());
    }

    #[test]
    fn mqtt_3_8_1_1_subscribe_flags_must_be_0010() {
        assert_eq!(
            error(V3_1_1, "80 06 0001 0001 61 00"),
            DecodeError::InvalidFlags {
                packet: PacketType::Subscribe,
                flags: 0
            }
        );
    }

    #[test]
    fn mqtt_3_10_1_1_unsubscribe_flags_must_be_0010() {
        assert_eq!(
            error(V3_1_1, "a3 05 0001 0001 61"),
            DecodeError::InvalidFlags {
                packet: PacketType::Unsubscribe,
                flags: 3
            }
        );
    }

    #[test]
    fn mqtt_3_14_1_1_disconnect_flags_must_be_zero() {
        assert_eq!(
            error(V3_1_1, "e2 00"),
            DecodeError::InvalidFlags {
                packet: PacketType::Disconnect,
                flags: 2
            }
        );
    }

    #[test]
    fn mqtt_3_15_1_1_auth_flags_must_be_zero() {
        assert_eq!(
            error(V5, "f8 00"),
            DecodeError::InvalidFlags {
                packet: PacketType::Auth,
                flags: 8
            }
        );
    }

    #[test]
    fn mqtt_3_3_1_4_qos_3_is_malformed_from_the_first_byte() {
        let e = error(V3_1_1, "36");
        assert_eq!(
            e,
            DecodeError::InvalidQos {
                packet: PacketType::Publish
            }
        );
        assert_eq!(e.reason_code(), crate::ReasonCode::MalformedPacket);
    }

    #[test]
    fn reserved_packet_type_0_is_malformed() {
        assert_eq!(error(V3_1_1, "00 00"), DecodeError::ReservedPacketType);
        assert_eq!(error(V5, "0f"), DecodeError::ReservedPacketType);
    }

    #[test]
    fn auth_does_not_exist_before_5_0() {
        for p in [V3_1, V3_1_1] {
            assert_eq!(
                error(p, "f0 00"),
                DecodeError::PacketTypeNotInProtocol {
                    packet: PacketType::Auth,
                    protocol: p
                }
            );
        }
    }

    #[test]
    fn mqtt_1_5_5_remaining_length_of_five_bytes_is_malformed() {
        assert_eq!(
            error(V3_1_1, "30 ff ff ff ff 01"),
            DecodeError::VarIntTooLong { offset: 1 }
        );
        // The fourth byte still has its continuation bit: an error with 5 bytes in hand.
        assert_eq!(
            error(V5, "30 80 80 80 80"),
            DecodeError::VarIntTooLong { offset: 1 }
        );
    }

    #[test]
    fn mqtt_1_5_5_1_non_minimal_remaining_length_is_malformed_in_5_0() {
        assert_eq!(
            error(V5, "c0 80 00"),
            DecodeError::NonMinimalVarInt { offset: 1 }
        );
        // MQTT 3.1.1 has no such rule: accepted.
        assert_eq!(
            decoder(V3_1_1).decode(&hex("c0 80 00")),
            Ok(Decoded::Complete(Packet::PingReq, 3))
        );
        // A 5.0 CONNECT is held to it whatever level the decoder was set to.
        let connect = hex("10 8d 00 00044d51545405020000000000");
        assert_eq!(
            decoder(V3_1_1).decode(&connect),
            Err(DecodeError::NonMinimalVarInt { offset: 1 })
        );
        assert!(decoder(V3_1_1)
            .decode(&hex("10 8f 00 00044d5154540402003c000163"))
            .is_ok());
    }

    #[test]
    fn maximum_packet_size_is_enforced_from_the_fixed_header() {
        // A 5-byte header announcing 256 MB: refused at once, no body needed.
        let d = Decoder::new(V3_1_1).max_packet_size(1024);
        assert_eq!(
            d.decode(&hex("30 ff ff ff 7f")),
            Err(DecodeError::PacketTooLarge {
                size: 268_435_460,
                max: 1024
            })
        );
        assert!(d.packet_len(&hex("30 ff ff ff 7f")).is_err());
        // The limit counts the fixed header: 1024 bytes in all passes, 1025 does not.
        let ok = Decoder::new(V3_1_1).max_packet_size(1024);
        assert!(matches!(
            ok.decode(&hex("30 fd 07")),
            Ok(Decoded::Partial(Some(n))) if n.get() == 1021
        ));
        assert!(matches!(
            ok.decode(&hex("30 fe 07")),
            Err(DecodeError::PacketTooLarge { size: 1025, .. })
        ));
        assert_eq!(
            DecodeError::PacketTooLarge { size: 1, max: 0 }.reason_code(),
            crate::ReasonCode::PacketTooLarge
        );
        // The default limit is 1 MiB.
        assert!(Decoder::new(V5).decode(&hex("30 80 80 40")).is_err());
        assert!(Decoder::new(V5).decode(&hex("30 fb ff 3f")).is_ok());
    }

    #[test]
    fn partial_reports_exactly_what_is_missing() {
        let d = Decoder::new(V3_1_1);
        assert_eq!(d.decode(&[]), Ok(Decoded::Partial(None)));
        assert_eq!(d.decode(&hex("30")), Ok(Decoded::Partial(None)));
        assert_eq!(d.decode(&hex("30 80")), Ok(Decoded::Partial(None)));
        assert_eq!(
            d.decode(&hex("30 80 01")),
            Ok(Decoded::Partial(NonZeroUsize::new(128)))
        );
        assert_eq!(d.packet_len(&hex("30 80 01 00")), Ok(Some(131)));
    }

    #[test]
    fn short_field_inside_a_framed_packet_is_malformed_not_partial() {
        assert_eq!(
            error(V3_1_1, "40 01 00"),
            DecodeError::UnexpectedEnd {
                packet: PacketType::PubAck,
                offset: 2,
                wanted: 2
            }
        );
    }

    #[test]
    fn trailing_bytes_inside_a_framed_packet_are_malformed() {
        assert_eq!(
            error(V3_1_1, "c0 01 00"),
            DecodeError::TrailingBytes {
                packet: PacketType::PingReq,
                offset: 2
            }
        );
        assert_eq!(
            error(V3_1_1, "40 03 00 01 00"),
            DecodeError::TrailingBytes {
                packet: PacketType::PubAck,
                offset: 4
            }
        );
    }

    #[test]
    fn ping_packets() {
        for p in [V3_1, V3_1_1, V5] {
            assert_eq!(golden(p, "c0 00"), Packet::PingReq);
            assert_eq!(golden(p, "d0 00"), Packet::PingResp);
        }
    }

    #[test]
    fn decodes_only_the_first_packet_of_a_buffer() {
        let bytes = hex("c0 00 d0 00");
        assert_eq!(
            Decoder::new(V3_1_1).decode(&bytes),
            Ok(Decoded::Complete(Packet::PingReq, 2))
        );
    }

    #[test]
    fn encode_is_all_or_nothing() {
        let p = Packet::Publish(crate::Publish::new(
            crate::TopicName::new("a/b").unwrap(),
            &b"hello"[..],
        ));
        let len = p.encoded_len(V3_1_1).unwrap();
        let mut small = [0xaau8; 11];
        assert_eq!(len, 12);
        assert_eq!(
            p.encode(V3_1_1, &mut &mut small[..]),
            Err(EncodeError::BufferTooSmall {
                needed: 12,
                available: 11
            })
        );
        assert_eq!(small, [0xaa; 11]);
        let mut exact = [0u8; 12];
        assert_eq!(p.encode(V3_1_1, &mut &mut exact[..]), Ok(12));
        assert_eq!(exact.to_vec(), hex("30 0a 0003 612f62 68656c6c6f"));
    }

    #[test]
    fn encode_refuses_packets_over_the_peer_maximum() {
        let p = Packet::Publish(crate::Publish::new(
            crate::TopicName::new("a/b").unwrap(),
            &[0u8; 100][..],
        ));
        let enc = Encoder::new(V5).max_packet_size(50);
        let mut out = alloc::vec::Vec::new();
        assert_eq!(
            enc.encode(&p, &mut out),
            Err(EncodeError::PacketTooLarge { size: 108, max: 50 })
        );
        assert!(out.is_empty());
    }

    #[test]
    fn encode_refuses_a_remaining_length_over_the_protocol_limit() {
        let big = alloc::vec![0u8; VARINT_MAX as usize];
        let p = Packet::Publish(crate::Publish::new(
            crate::TopicName::new("a").unwrap(),
            &big[..],
        ));
        assert!(matches!(
            p.encoded_len(V3_1_1),
            Err(EncodeError::PacketTooLarge { .. })
        ));
    }

    #[test]
    fn trim_to_fit_drops_reason_string_then_user_properties() {
        use crate::shared;
        let mut ack = shared::PubAck::new(crate::PacketId::new(1).unwrap());
        ack.reason = crate::PubAckReason::QuotaExceeded;
        ack.properties
            .set_reason_string(Str::new(&"x".repeat(40)).unwrap())
            .add_user_property("k", "v")
            .unwrap();
        let mut p = shared::Packet::PubAck(ack);
        let full = p.encoded_len(V5).unwrap();
        assert_eq!(full, 2 + 2 + 1 + 1 + 43 + 7);
        // Room for the user property but not the reason string.
        assert_eq!(p.trim_to_fit(V5, 20), Ok(13));
        let shared::Packet::PubAck(a) = &p else {
            panic!()
        };
        assert!(a.properties.reason_string().is_none());
        assert_eq!(a.properties.user_properties().count(), 1);
        // No room for either: both go; the reason code stays.
        assert_eq!(p.trim_to_fit(V5, 5), Ok(5));
        // Nothing left to drop.
        assert!(matches!(
            p.trim_to_fit(V5, 4),
            Err(EncodeError::PacketTooLarge { .. })
        ));
        // A PUBLISH is never trimmed.
        let mut publish = Packet::Publish(crate::Publish::new(
            crate::TopicName::new("a").unwrap(),
            &[0u8; 10][..],
        ))
        .to_shared();
        assert!(publish.trim_to_fit(V5, 5).is_err());
    }
}
