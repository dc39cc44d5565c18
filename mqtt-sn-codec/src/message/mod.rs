//! The messages of MQTT-SN 1.2 (§5.4), one file per family, and the decoder.

use alloc::boxed::Box;
use core::num::NonZeroUsize;

use bytes::{BufMut, Bytes};
use bytestring::ByteString;
use mqtt_codec::generic::{Payload, Str, TopicName};
use mqtt_codec::{Storage, StrStorage};

use crate::error::{DecodeError, EncodeError};
use crate::types::{Ctrl, Flags, MsgId, MsgType, QoS, ReturnCode};
use crate::wire::{header_len, put_header, read_length, Reader, MAX_MESSAGE_LEN};

/// A field in the shared form: a slice of `parent` when its bytes lie there, else a copy.
macro_rules! sh {
    ($v:expr, $parent:expr) => {
        match $parent {
            Some(p) => $v.to_shared_in(p),
            None => $v.to_shared(),
        }
    };
}

pub(crate) mod connect;
pub(crate) mod gateway;
pub(crate) mod publish;
pub(crate) mod register;
pub(crate) mod subscribe;

pub use connect::{Connect, WillTopic, PROTOCOL_ID};
pub use gateway::{Advertise, GwInfo, SearchGw};
pub use publish::{Delivery, PubAck, Publish};
pub use register::{RegAck, Register};
pub use subscribe::{SubAck, Subscribe, Unsubscribe};

/// A MsgId where one is required (§5.3.6): 0x0000 is refused.
#[inline]
pub(crate) fn msg_id(msg: MsgType, id: u16) -> Result<MsgId, DecodeError> {
    MsgId::new(id).ok_or(DecodeError::ZeroMsgId { msg })
}

/// The QoS of a message other than PUBLISH: `0b11` (QoS −1) exists only for PUBLISH
/// (§5.3.4).
#[inline]
pub(crate) fn qos_outside_publish(msg: MsgType, flags: Flags) -> Result<QoS, DecodeError> {
    match flags.qos() {
        QoS::MinusOne => Err(DecodeError::MinusOneOutsidePublish { msg }),
        q => Ok(q),
    }
}

/// The encoder's side of [`qos_outside_publish`].
#[inline]
pub(crate) fn check_qos_outside_publish(msg: MsgType, qos: QoS) -> Result<(), EncodeError> {
    match qos {
        QoS::MinusOne => Err(EncodeError::MinusOneOutsidePublish { msg }),
        _ => Ok(()),
    }
}

/// A topic name the message carries (REGISTER, WILLTOPIC, WILLTOPICUPD) is never empty.
#[inline]
pub(crate) fn check_topic_name<T: StrStorage>(
    msg: MsgType,
    topic: &TopicName<T>,
) -> Result<(), EncodeError> {
    if topic.as_str().is_empty() {
        Err(EncodeError::EmptyTopicName { msg })
    } else {
        Ok(())
    }
}

/// Why a datagram's Length field is unusable, for [`Decoder::decode`]: the datagram ends
/// inside it, or it is zero, or it does not cover the header.
#[cold]
fn length_error(dg: &[u8]) -> DecodeError {
    match read_length(dg) {
        Err(e) => e,
        Ok(_) => DecodeError::TooShort { len: dg.len() },
    }
}

/// One MQTT-SN 1.2 message (§5.4). `B` and `T` are the storage of byte fields and strings:
/// [`crate::Message<'a>`] borrows from the datagram it was decoded from,
/// [`crate::shared::Message`] shares it through `Bytes` (or owns what it was built from).
///
/// Messages with one field carry it directly: a MsgId, a [`ReturnCode`], a will message,
/// the optional ClientId of PINGREQ or the optional sleep Duration of DISCONNECT.
#[derive(Debug, Clone)]
pub enum Message<B: Storage, T: StrStorage> {
    /// ADVERTISE (§5.4.1).
    Advertise(Advertise),
    /// SEARCHGW (§5.4.2).
    SearchGw(SearchGw),
    /// GWINFO (§5.4.3).
    GwInfo(GwInfo<B>),
    /// CONNECT (§5.4.4).
    Connect(Connect<T>),
    /// CONNACK (§5.4.5).
    ConnAck(ReturnCode),
    /// WILLTOPICREQ (§5.4.6).
    WillTopicReq,
    /// WILLTOPIC (§5.4.7); `None` is the two-octet empty form, which deletes the will.
    WillTopic(Option<WillTopic<T>>),
    /// WILLMSGREQ (§5.4.8).
    WillMsgReq,
    /// WILLMSG (§5.4.9): the will message.
    WillMsg(Payload<B>),
    /// REGISTER (§5.4.10).
    Register(Register<T>),
    /// REGACK (§5.4.11).
    RegAck(RegAck),
    /// PUBLISH (§5.4.12).
    Publish(Publish<B, T>),
    /// PUBACK (§5.4.13).
    PubAck(PubAck),
    /// PUBCOMP (§5.4.14).
    PubComp(MsgId),
    /// PUBREC (§5.4.14).
    PubRec(MsgId),
    /// PUBREL (§5.4.14).
    PubRel(MsgId),
    /// SUBSCRIBE (§5.4.15).
    Subscribe(Subscribe<T>),
    /// SUBACK (§5.4.16).
    SubAck(SubAck),
    /// UNSUBSCRIBE (§5.4.17).
    Unsubscribe(Unsubscribe<T>),
    /// UNSUBACK (§5.4.18).
    UnsubAck(MsgId),
    /// PINGREQ (§5.4.19); with the ClientId when a sleeping client wakes up to collect
    /// its buffered messages (§6.14).
    PingReq(Option<Str<T>>),
    /// PINGRESP (§5.4.20).
    PingResp,
    /// DISCONNECT (§5.4.21); with the sleep Duration in seconds when a client goes to
    /// sleep (§6.14).
    Disconnect(Option<u16>),
    /// WILLTOPICUPD (§5.4.22); `None` is the empty form, which deletes the will.
    WillTopicUpd(Option<WillTopic<T>>),
    /// WILLTOPICRESP (§5.4.24).
    WillTopicResp(ReturnCode),
    /// WILLMSGUPD (§5.4.23): the new will message.
    WillMsgUpd(Payload<B>),
    /// WILLMSGRESP (§5.4.25).
    WillMsgResp(ReturnCode),
    /// An Encapsulated message of a forwarder (§5.5).
    Encapsulated(Encapsulated<B, T>),
}

/// Messages compare by content, whatever their storage: a decoded borrowed message equals
/// the shared message it was encoded from.
impl<B1, T1, B2, T2> PartialEq<Message<B2, T2>> for Message<B1, T1>
where
    B1: Storage,
    T1: StrStorage,
    B2: Storage,
    T2: StrStorage,
{
    fn eq(&self, other: &Message<B2, T2>) -> bool {
        use Message as M;
        match (self, other) {
            (M::Advertise(a), M::Advertise(b)) => a == b,
            (M::SearchGw(a), M::SearchGw(b)) => a == b,
            (M::GwInfo(a), M::GwInfo(b)) => a.view() == b.view(),
            (M::Connect(a), M::Connect(b)) => a.view() == b.view(),
            (M::ConnAck(a), M::ConnAck(b))
            | (M::WillTopicResp(a), M::WillTopicResp(b))
            | (M::WillMsgResp(a), M::WillMsgResp(b)) => a == b,
            (M::WillTopicReq, M::WillTopicReq)
            | (M::WillMsgReq, M::WillMsgReq)
            | (M::PingResp, M::PingResp) => true,
            (M::WillTopic(a), M::WillTopic(b)) | (M::WillTopicUpd(a), M::WillTopicUpd(b)) => {
                a.as_ref().map(WillTopic::view) == b.as_ref().map(WillTopic::view)
            }
            (M::WillMsg(a), M::WillMsg(b)) | (M::WillMsgUpd(a), M::WillMsgUpd(b)) => {
                a.as_bytes() == b.as_bytes()
            }
            (M::Register(a), M::Register(b)) => a.view() == b.view(),
            (M::RegAck(a), M::RegAck(b)) => a == b,
            (M::Publish(a), M::Publish(b)) => a.view() == b.view(),
            (M::PubAck(a), M::PubAck(b)) => a == b,
            (M::PubComp(a), M::PubComp(b))
            | (M::PubRec(a), M::PubRec(b))
            | (M::PubRel(a), M::PubRel(b))
            | (M::UnsubAck(a), M::UnsubAck(b)) => a == b,
            (M::Subscribe(a), M::Subscribe(b)) => a.view() == b.view(),
            (M::SubAck(a), M::SubAck(b)) => a == b,
            (M::Unsubscribe(a), M::Unsubscribe(b)) => a.view() == b.view(),
            (M::PingReq(a), M::PingReq(b)) => {
                a.as_ref().map(|s| s.as_str()) == b.as_ref().map(|s| s.as_str())
            }
            (M::Disconnect(a), M::Disconnect(b)) => a == b,
            (M::Encapsulated(a), M::Encapsulated(b)) => {
                a.ctrl == b.ctrl
                    && a.node_id.as_bytes() == b.node_id.as_bytes()
                    && *a.message == *b.message
            }
            _ => false,
        }
    }
}

impl<B: Storage, T: StrStorage> Eq for Message<B, T> {}

impl<B: Storage, T: StrStorage> core::hash::Hash for Message<B, T> {
    /// By content, like equality: the same for a message in either form.
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        use Message as M;
        self.msg_type().hash(state);
        match self {
            M::Advertise(a) => a.hash(state),
            M::SearchGw(a) => a.hash(state),
            M::GwInfo(a) => a.hash(state),
            M::Connect(a) => a.hash(state),
            M::ConnAck(a) | M::WillTopicResp(a) | M::WillMsgResp(a) => a.hash(state),
            M::WillTopicReq | M::WillMsgReq | M::PingResp => {}
            M::WillTopic(a) | M::WillTopicUpd(a) => a.hash(state),
            M::WillMsg(a) | M::WillMsgUpd(a) => a.hash(state),
            M::Register(a) => a.hash(state),
            M::RegAck(a) => a.hash(state),
            M::Publish(a) => a.hash(state),
            M::PubAck(a) => a.hash(state),
            M::PubComp(a) | M::PubRec(a) | M::PubRel(a) | M::UnsubAck(a) => a.hash(state),
            M::Subscribe(a) => a.hash(state),
            M::SubAck(a) => a.hash(state),
            M::Unsubscribe(a) => a.hash(state),
            M::PingReq(a) => a.hash(state),
            M::Disconnect(a) => a.hash(state),
            M::Encapsulated(a) => a.hash(state),
        }
    }
}

/// The Encapsulated message of a forwarder (§5.5): the forwarder's Ctrl octet and the
/// Wireless Node Id of the client, then one whole MQTT-SN message, itself never
/// encapsulated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Encapsulated<B: Storage, T: StrStorage> {
    /// The Ctrl octet (broadcast radius).
    pub ctrl: Ctrl,
    /// The Wireless Node Id: the client's address on the forwarder's network.
    pub node_id: Payload<B>,
    /// The message carried.
    pub message: Box<Message<B, T>>,
}

/// What [`Decoder::decode_stream`] found at the start of a byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded<B: Storage, T: StrStorage> {
    /// A whole message, and how many octets it took from the start of the buffer.
    Complete(Message<B, T>, usize),
    /// Not enough octets yet: once the header is complete, exactly how many more the
    /// message needs; `None` while the header is incomplete (Length and MsgType, and for an
    /// Encapsulated message also the inner message's Length).
    Partial(Option<NonZeroUsize>),
}

/// Decodes MQTT-SN messages from datagrams (or, with [`decode_stream`](Self::decode_stream),
/// from a byte stream such as a serial link).
///
/// The decoder holds only configuration and is `Copy`:
/// - `client_id_limit`: the most characters a ClientId may have (§5.3.1 says 23, the
///   default; many gateways accept more).
/// - `max_message_size`: the longest message accepted, checked from the Length field
///   before the rest is looked at (default and upper bound 65,535). An Encapsulated
///   message is two messages, each held to the limit: the encapsulation header and the
///   message it carries, so a forwarder can wrap the longest message there is.
/// - `strict_utf8`: also refuse control characters and Unicode non-characters in topic
///   names and ClientIds (off by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoder {
    pub(crate) client_id_limit: usize,
    pub(crate) max_message_size: usize,
    pub(crate) strict_utf8: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

/// Decodes one datagram with the default [`Decoder`].
#[inline]
pub fn decode(datagram: &[u8]) -> Result<crate::Message<'_>, DecodeError> {
    Decoder::new().decode(datagram)
}

impl Decoder {
    /// The specification's limits: ClientIds of 1 to 23 characters, messages up to 65,535
    /// octets, UTF-8 checked for well-formedness and U+0000 only.
    pub const fn new() -> Self {
        Decoder {
            client_id_limit: 23,
            max_message_size: MAX_MESSAGE_LEN,
            strict_utf8: false,
        }
    }

    /// Sets the most characters a ClientId may have.
    #[must_use]
    pub const fn client_id_limit(mut self, chars: usize) -> Self {
        self.client_id_limit = chars;
        self
    }

    /// Sets the longest message accepted (at most 65,535 take effect).
    #[must_use]
    pub const fn max_message_size(mut self, octets: usize) -> Self {
        self.max_message_size = octets;
        self
    }

    /// Also refuse control characters and Unicode non-characters in strings.
    #[must_use]
    pub const fn strict_utf8(mut self, on: bool) -> Self {
        self.strict_utf8 = on;
        self
    }

    /// Decodes one datagram, which must hold exactly one message: its Length field must
    /// equal the datagram's size (§5.2.1); for an Encapsulated message, the encapsulation
    /// header's Length and then the inner message's Length must account for every octet.
    #[inline]
    pub fn decode<'a>(&self, datagram: &'a [u8]) -> Result<crate::Message<'a>, DecodeError> {
        self.decode_one(datagram, true)
    }

    #[inline]
    fn decode_one<'a>(&self, dg: &'a [u8], outer: bool) -> Result<crate::Message<'a>, DecodeError> {
        // The usual case in one step; anything else (a zero Length, a Length that does not
        // cover the header, a datagram that ends inside the field) gets its exact error
        // from `read_length`, off the fast path.
        let (declared, octets) = match *dg {
            [1, hi, lo, ..] => (usize::from(u16::from_be_bytes([hi, lo])), 3),
            [n, ..] => (usize::from(n), 1),
            [] => (0, 1),
        };
        if declared <= octets {
            return Err(length_error(dg));
        }
        if declared > self.max_message_size {
            return Err(DecodeError::TooLarge {
                len: declared,
                max: self.max_message_size,
            });
        }
        let code = *dg
            .get(octets)
            .ok_or(DecodeError::TooShort { len: dg.len() })?;
        if code == MsgType::Encapsulated.code() {
            if !outer {
                return Err(DecodeError::NestedEncapsulation);
            }
            return self.decode_encapsulated(dg, declared, octets);
        }
        // §5.2.1: the Length field counts the whole message, which is the whole datagram.
        if declared != dg.len() {
            return Err(DecodeError::LengthMismatch {
                declared,
                actual: dg.len(),
            });
        }
        let msg = MsgType::try_from(code).map_err(|_| DecodeError::ReservedMsgType(code))?;
        let body = dg.get(octets + 1..).unwrap_or_default();
        self.decode_body(msg, body)
    }

    /// §5.5: the Length, one octet, counts the encapsulation header only; the inner
    /// message follows.
    fn decode_encapsulated<'a>(
        &self,
        dg: &'a [u8],
        declared: usize,
        octets: usize,
    ) -> Result<crate::Message<'a>, DecodeError> {
        if octets != 1 {
            return Err(DecodeError::LongEncapsulationLength);
        }
        let (head, inner) = dg
            .split_at_checked(declared)
            .ok_or(DecodeError::LengthMismatch {
                declared,
                actual: dg.len(),
            })?;
        let mut r = Reader::new(
            head.get(octets + 1..).unwrap_or_default(),
            MsgType::Encapsulated,
        );
        let ctrl = Ctrl(r.u8()?);
        let node_id = Payload::from(r.rest());
        if inner.is_empty() {
            return Err(DecodeError::UnexpectedEnd {
                msg: MsgType::Encapsulated,
            });
        }
        let message = self.decode_one(inner, false)?;
        Ok(Message::Encapsulated(Encapsulated {
            ctrl,
            node_id,
            message: Box::new(message),
        }))
    }

    #[inline]
    fn decode_body<'a>(
        &self,
        msg: MsgType,
        body: &'a [u8],
    ) -> Result<crate::Message<'a>, DecodeError> {
        let mut r = Reader::new(body, msg);
        let r = &mut r;
        let m = match msg {
            MsgType::Publish => return Publish::decode(r).map(Message::Publish),
            MsgType::Advertise => Message::Advertise(Advertise::decode(r)?),
            MsgType::SearchGw => Message::SearchGw(SearchGw { radius: r.u8()? }),
            MsgType::GwInfo => return GwInfo::decode(r).map(Message::GwInfo),
            MsgType::Connect => return Connect::decode(r, self).map(Message::Connect),
            MsgType::ConnAck => Message::ConnAck(ReturnCode::from(r.u8()?)),
            MsgType::WillTopicReq => Message::WillTopicReq,
            MsgType::WillTopic => return WillTopic::decode(r, self).map(Message::WillTopic),
            MsgType::WillMsgReq => Message::WillMsgReq,
            MsgType::WillMsg => return Ok(Message::WillMsg(Payload::from(r.rest()))),
            MsgType::Register => return Register::decode(r, self).map(Message::Register),
            MsgType::RegAck => return RegAck::decode(r).map(Message::RegAck),
            MsgType::PubAck => return PubAck::decode(r).map(Message::PubAck),
            MsgType::PubComp => Message::PubComp(msg_id(msg, r.u16()?)?),
            MsgType::PubRec => Message::PubRec(msg_id(msg, r.u16()?)?),
            MsgType::PubRel => Message::PubRel(msg_id(msg, r.u16()?)?),
            MsgType::Subscribe => return Subscribe::decode(r, self).map(Message::Subscribe),
            MsgType::SubAck => return SubAck::decode(r).map(Message::SubAck),
            MsgType::Unsubscribe => return Unsubscribe::decode(r, self).map(Message::Unsubscribe),
            MsgType::UnsubAck => Message::UnsubAck(msg_id(msg, r.u16()?)?),
            MsgType::PingReq if r.is_empty() => Message::PingReq(None),
            MsgType::PingReq => {
                let id = connect::client_id(msg, r.rest(), self)?;
                return Ok(Message::PingReq(Some(id)));
            }
            MsgType::PingResp => Message::PingResp,
            MsgType::Disconnect if r.is_empty() => Message::Disconnect(None),
            MsgType::Disconnect => Message::Disconnect(Some(r.u16()?)),
            MsgType::WillTopicUpd => return WillTopic::decode(r, self).map(Message::WillTopicUpd),
            MsgType::WillTopicResp => Message::WillTopicResp(ReturnCode::from(r.u8()?)),
            MsgType::WillMsgUpd => return Ok(Message::WillMsgUpd(Payload::from(r.rest()))),
            MsgType::WillMsgResp => Message::WillMsgResp(ReturnCode::from(r.u8()?)),
            // Handled by the caller; reaching here means a nested one.
            MsgType::Encapsulated => return Err(DecodeError::NestedEncapsulation),
        };
        // Fixed-size messages: nothing may follow their fields.
        r.end()?;
        Ok(m)
    }

    /// Decodes the message at the start of a byte stream framed only by the Length field
    /// (a serial link): the same contract as the MQTT decoder. A Length above the maximum
    /// is refused before the body arrives.
    pub fn decode_stream<'a>(&self, buf: &'a [u8]) -> Result<crate::Decoded<'a>, DecodeError> {
        let Some((declared, octets)) = read_length(buf)? else {
            return Ok(Decoded::Partial(None));
        };
        let mut total = declared;
        if total > self.max_message_size {
            return Err(DecodeError::TooLarge {
                len: total,
                max: self.max_message_size,
            });
        }
        match buf.get(octets) {
            // Until MsgType arrives, the message may be an Encapsulated one, whose size
            // only the inner Length tells.
            None => return Ok(Decoded::Partial(None)),
            Some(&code) if code == MsgType::Encapsulated.code() => {
                let inner = buf.get(declared..).unwrap_or_default();
                let Some((inner_len, _)) = read_length(inner)? else {
                    return Ok(Decoded::Partial(None));
                };
                // The limit applies to each message, as in `decode`: the inner one too.
                if inner_len > self.max_message_size {
                    return Err(DecodeError::TooLarge {
                        len: inner_len,
                        max: self.max_message_size,
                    });
                }
                total = declared + inner_len;
            }
            Some(_) => {}
        }
        match buf.get(..total) {
            Some(frame) => Ok(Decoded::Complete(self.decode(frame)?, total)),
            None => Ok(Decoded::Partial(NonZeroUsize::new(total - buf.len()))),
        }
    }
}

impl<B: Storage, T: StrStorage> Message<B, T> {
    /// The message type.
    pub const fn msg_type(&self) -> MsgType {
        match self {
            Message::Advertise(_) => MsgType::Advertise,
            Message::SearchGw(_) => MsgType::SearchGw,
            Message::GwInfo(_) => MsgType::GwInfo,
            Message::Connect(_) => MsgType::Connect,
            Message::ConnAck(_) => MsgType::ConnAck,
            Message::WillTopicReq => MsgType::WillTopicReq,
            Message::WillTopic(_) => MsgType::WillTopic,
            Message::WillMsgReq => MsgType::WillMsgReq,
            Message::WillMsg(_) => MsgType::WillMsg,
            Message::Register(_) => MsgType::Register,
            Message::RegAck(_) => MsgType::RegAck,
            Message::Publish(_) => MsgType::Publish,
            Message::PubAck(_) => MsgType::PubAck,
            Message::PubComp(_) => MsgType::PubComp,
            Message::PubRec(_) => MsgType::PubRec,
            Message::PubRel(_) => MsgType::PubRel,
            Message::Subscribe(_) => MsgType::Subscribe,
            Message::SubAck(_) => MsgType::SubAck,
            Message::Unsubscribe(_) => MsgType::Unsubscribe,
            Message::UnsubAck(_) => MsgType::UnsubAck,
            Message::PingReq(_) => MsgType::PingReq,
            Message::PingResp => MsgType::PingResp,
            Message::Disconnect(_) => MsgType::Disconnect,
            Message::WillTopicUpd(_) => MsgType::WillTopicUpd,
            Message::WillTopicResp(_) => MsgType::WillTopicResp,
            Message::WillMsgUpd(_) => MsgType::WillMsgUpd,
            Message::WillMsgResp(_) => MsgType::WillMsgResp,
            Message::Encapsulated(_) => MsgType::Encapsulated,
        }
    }

    /// Octets after Length and MsgType (for an Encapsulated message: of the encapsulation
    /// header only).
    #[inline]
    fn body_len(&self) -> usize {
        match self {
            Message::Publish(p) => p.body_len(),
            Message::Advertise(_) => 3,
            Message::SearchGw(_)
            | Message::ConnAck(_)
            | Message::WillTopicResp(_)
            | Message::WillMsgResp(_) => 1,
            Message::GwInfo(g) => g.body_len(),
            Message::Connect(c) => c.body_len(),
            Message::WillTopicReq | Message::WillMsgReq | Message::PingResp => 0,
            Message::WillTopic(w) | Message::WillTopicUpd(w) => WillTopic::body_len(w),
            Message::WillMsg(p) | Message::WillMsgUpd(p) => p.len(),
            Message::Register(r) => r.body_len(),
            Message::RegAck(_) | Message::PubAck(_) => 5,
            Message::SubAck(_) => 6,
            Message::PubComp(_) | Message::PubRec(_) | Message::PubRel(_) => 2,
            Message::UnsubAck(_) => 2,
            Message::Subscribe(s) => s.body_len(),
            Message::Unsubscribe(u) => u.body_len(),
            Message::PingReq(id) => id.as_ref().map_or(0, Str::len),
            Message::Disconnect(d) => d.map_or(0, |_| 2),
            Message::Encapsulated(e) => 1 + e.node_id.len(),
        }
    }

    /// The octets [`encode`](Self::encode) writes: Length and MsgType in the short form
    /// whenever the message fits in 255 octets, then the body; for an Encapsulated message,
    /// its header and then the whole inner message.
    #[inline]
    pub fn encoded_len(&self) -> usize {
        let body = self.body_len();
        let own = header_len(body) + body;
        match self {
            Message::Encapsulated(e) => own + e.message.encoded_len(),
            _ => own,
        }
    }

    /// Everything that can make encoding fail, checked before anything is written.
    fn check(&self, outer: bool) -> Result<(), EncodeError> {
        let body = self.body_len();
        self.check_body(outer, body)
    }

    /// [`check`](Self::check) with the body length already worked out.
    #[inline]
    fn check_body(&self, outer: bool, body: usize) -> Result<(), EncodeError> {
        let own = header_len(body) + body;
        if own > MAX_MESSAGE_LEN {
            return Err(EncodeError::TooLong {
                msg: self.msg_type(),
                len: own,
            });
        }
        match self {
            Message::Publish(p) => p.check(),
            Message::Connect(c) => c.check(),
            Message::PingReq(Some(id)) => connect::check_client_id(MsgType::PingReq, id),
            Message::Subscribe(s) => s.check(),
            Message::SubAck(s) => check_qos_outside_publish(MsgType::SubAck, s.qos),
            Message::Unsubscribe(u) => u.check(),
            Message::Register(r) => check_topic_name(MsgType::Register, &r.topic),
            Message::WillTopic(Some(w)) => w.check(MsgType::WillTopic),
            Message::WillTopicUpd(Some(w)) => w.check(MsgType::WillTopicUpd),
            Message::Encapsulated(_) if !outer => Err(EncodeError::NestedEncapsulation),
            // §5.5: the encapsulation header has a one-octet Length.
            Message::Encapsulated(e) if own > 255 => Err(EncodeError::NodeIdTooLong {
                len: e.node_id.len(),
            }),
            Message::Encapsulated(e) => e.message.check(false),
            _ => Ok(()),
        }
    }

    /// Encodes the message into `buf`: all of it, or nothing when it fails (a topic form
    /// the message cannot carry, an empty ClientId, more than 65,535 octets, or a buffer
    /// with less room than [`encoded_len`](Self::encoded_len)). Returns the octets written.
    pub fn encode(&self, buf: &mut impl BufMut) -> Result<usize, EncodeError> {
        match self {
            Message::Publish(p) => return p.encode_message(buf),
            Message::Connect(c) => return c.encode_message(buf),
            _ => {}
        }
        // The body's length, worked out once for the checks, the total and the header.
        let body = self.body_len();
        self.check_body(true, body)?;
        let own = header_len(body) + body;
        let len = match self {
            Message::Encapsulated(e) => own + e.message.encoded_len(),
            _ => own,
        };
        if buf.remaining_mut() < len {
            return Err(EncodeError::BufferTooSmall {
                needed: len,
                available: buf.remaining_mut(),
            });
        }
        self.put_body(buf, body);
        Ok(len)
    }

    fn put(&self, buf: &mut impl BufMut) {
        self.put_body(buf, self.body_len());
    }

    #[inline]
    fn put_body(&self, buf: &mut impl BufMut, body: usize) {
        put_header(buf, header_len(body) + body, self.msg_type());
        match self {
            Message::Publish(p) => p.put(buf),
            Message::Advertise(a) => a.put(buf),
            Message::SearchGw(s) => buf.put_u8(s.radius),
            Message::GwInfo(g) => g.put(buf),
            Message::Connect(c) => c.put(buf),
            Message::ConnAck(c) | Message::WillTopicResp(c) | Message::WillMsgResp(c) => {
                buf.put_u8((*c).into())
            }
            Message::WillTopicReq | Message::WillMsgReq | Message::PingResp => {}
            Message::WillTopic(w) | Message::WillTopicUpd(w) => WillTopic::put(w, buf),
            Message::WillMsg(p) | Message::WillMsgUpd(p) => buf.put_slice(p.as_bytes()),
            Message::Register(r) => r.put(buf),
            Message::RegAck(r) => r.put(buf),
            Message::PubAck(p) => p.put(buf),
            Message::PubComp(id)
            | Message::PubRec(id)
            | Message::PubRel(id)
            | Message::UnsubAck(id) => buf.put_u16(id.get()),
            Message::Subscribe(s) => s.put(buf),
            Message::SubAck(s) => s.put(buf),
            Message::Unsubscribe(u) => u.put(buf),
            Message::PingReq(id) => {
                if let Some(id) = id {
                    buf.put_slice(id.as_str().as_bytes());
                }
            }
            Message::Disconnect(d) => {
                if let Some(d) = d {
                    buf.put_u16(*d);
                }
            }
            Message::Encapsulated(e) => {
                buf.put_u8(e.ctrl.0);
                buf.put_slice(e.node_id.as_bytes());
                e.message.put(buf);
            }
        }
    }

    /// The borrowed form, pointing into this message (no copy).
    pub fn view(&self) -> crate::Message<'_> {
        match self {
            Message::Advertise(a) => Message::Advertise(*a),
            Message::SearchGw(s) => Message::SearchGw(*s),
            Message::GwInfo(g) => Message::GwInfo(g.view()),
            Message::Connect(c) => Message::Connect(c.view()),
            Message::ConnAck(c) => Message::ConnAck(*c),
            Message::WillTopicReq => Message::WillTopicReq,
            Message::WillTopic(w) => Message::WillTopic(w.as_ref().map(WillTopic::view)),
            Message::WillMsgReq => Message::WillMsgReq,
            Message::WillMsg(p) => Message::WillMsg(p.view()),
            Message::Register(r) => Message::Register(r.view()),
            Message::RegAck(r) => Message::RegAck(*r),
            Message::Publish(p) => Message::Publish(p.view()),
            Message::PubAck(p) => Message::PubAck(*p),
            Message::PubComp(id) => Message::PubComp(*id),
            Message::PubRec(id) => Message::PubRec(*id),
            Message::PubRel(id) => Message::PubRel(*id),
            Message::Subscribe(s) => Message::Subscribe(s.view()),
            Message::SubAck(s) => Message::SubAck(*s),
            Message::Unsubscribe(u) => Message::Unsubscribe(u.view()),
            Message::UnsubAck(id) => Message::UnsubAck(*id),
            Message::PingReq(id) => Message::PingReq(id.as_ref().map(Str::view)),
            Message::PingResp => Message::PingResp,
            Message::Disconnect(d) => Message::Disconnect(*d),
            Message::WillTopicUpd(w) => Message::WillTopicUpd(w.as_ref().map(WillTopic::view)),
            Message::WillTopicResp(c) => Message::WillTopicResp(*c),
            Message::WillMsgUpd(p) => Message::WillMsgUpd(p.view()),
            Message::WillMsgResp(c) => Message::WillMsgResp(*c),
            Message::Encapsulated(e) => Message::Encapsulated(Encapsulated {
                ctrl: e.ctrl,
                node_id: e.node_id.view(),
                message: Box::new(e.message.view()),
            }),
        }
    }

    pub(crate) fn share(&self, parent: Option<&Bytes>) -> Message<Bytes, ByteString> {
        match self {
            Message::Advertise(a) => Message::Advertise(*a),
            Message::SearchGw(s) => Message::SearchGw(*s),
            Message::GwInfo(g) => Message::GwInfo(g.share(parent)),
            Message::Connect(c) => Message::Connect(c.share(parent)),
            Message::ConnAck(c) => Message::ConnAck(*c),
            Message::WillTopicReq => Message::WillTopicReq,
            Message::WillTopic(w) => Message::WillTopic(w.as_ref().map(|w| w.share(parent))),
            Message::WillMsgReq => Message::WillMsgReq,
            Message::WillMsg(p) => Message::WillMsg(sh!(p, parent)),
            Message::Register(r) => Message::Register(r.share(parent)),
            Message::RegAck(r) => Message::RegAck(*r),
            Message::Publish(p) => Message::Publish(p.share(parent)),
            Message::PubAck(p) => Message::PubAck(*p),
            Message::PubComp(id) => Message::PubComp(*id),
            Message::PubRec(id) => Message::PubRec(*id),
            Message::PubRel(id) => Message::PubRel(*id),
            Message::Subscribe(s) => Message::Subscribe(s.share(parent)),
            Message::SubAck(s) => Message::SubAck(*s),
            Message::Unsubscribe(u) => Message::Unsubscribe(u.share(parent)),
            Message::UnsubAck(id) => Message::UnsubAck(*id),
            Message::PingReq(id) => Message::PingReq(id.as_ref().map(|id| sh!(id, parent))),
            Message::PingResp => Message::PingResp,
            Message::Disconnect(d) => Message::Disconnect(*d),
            Message::WillTopicUpd(w) => Message::WillTopicUpd(w.as_ref().map(|w| w.share(parent))),
            Message::WillTopicResp(c) => Message::WillTopicResp(*c),
            Message::WillMsgUpd(p) => Message::WillMsgUpd(sh!(p, parent)),
            Message::WillMsgResp(c) => Message::WillMsgResp(*c),
            Message::Encapsulated(e) => Message::Encapsulated(Encapsulated {
                ctrl: e.ctrl,
                node_id: sh!(e.node_id, parent),
                message: Box::new(e.message.share(parent)),
            }),
        }
    }

    /// The shared form: each field copied into `Bytes` of its own for a borrowed message,
    /// a cheap clone of a shared one.
    pub fn to_shared(&self) -> Message<Bytes, ByteString> {
        self.share(None)
    }

    /// The shared form, its fields slices of `parent` wherever they lie inside it (no
    /// copy; a message decoded from `parent` copies nothing), copies otherwise.
    pub fn to_shared_in(&self, parent: &Bytes) -> Message<Bytes, ByteString> {
        self.share(Some(parent))
    }
}

impl Decoder {
    /// Decodes a datagram held in `Bytes` into the shared form: its strings, topic names
    /// and payload are slices of `datagram` (a reference count each, no copy), so the
    /// message can be kept past the next datagram. Same checks as
    /// [`decode`](Self::decode).
    pub fn decode_bytes(&self, datagram: &Bytes) -> Result<crate::shared::Message, DecodeError> {
        Ok(self.decode(datagram)?.to_shared_in(datagram))
    }
}
