//! Connection set-up and the will (§5.4.4–5.4.9, §5.4.22–5.4.25): CONNECT, the will
//! topic and message (first given and updated), and the ClientId checks PINGREQ shares.

use bytes::{BufMut, Bytes};
use bytestring::ByteString;
use mqtt_codec::generic::{Str, TopicName};
use mqtt_codec::StrStorage;

use crate::error::{DecodeError, EncodeError};
use crate::message::{check_qos_outside_publish, check_topic_name, qos_outside_publish, Decoder};
use crate::types::{Flags, MsgType, QoS};
use crate::wire::{invalid, Reader};

/// The ProtocolId of MQTT-SN 1.2 (§5.3.8).
pub const PROTOCOL_ID: u8 = 0x01;

/// CONNECT (§5.4.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Connect<T: StrStorage> {
    /// The Will flag: the client wants to give a will topic and message (the gateway asks
    /// for them with WILLTOPICREQ and WILLMSGREQ).
    pub will: bool,
    /// The CleanSession flag.
    pub clean_session: bool,
    /// The keep-alive Duration, in seconds.
    pub duration: u16,
    /// The ClientId: 1 to 23 characters (§5.3.1); the decoder's limit is configurable.
    pub client_id: Str<T>,
}

impl<'a> Connect<&'a str> {
    #[inline]
    pub(crate) fn decode(r: &mut Reader<'a>, d: &Decoder) -> Result<Connect<&'a str>, DecodeError> {
        let flags = Flags(r.u8()?);
        // §5.3.8: the ProtocolId is 0x01.
        let protocol_id = r.u8()?;
        if protocol_id != PROTOCOL_ID {
            return Err(DecodeError::InvalidProtocolId(protocol_id));
        }
        let duration = r.u16()?;
        let client_id = client_id(r.msg(), r.rest(), d)?;
        Ok(Connect {
            will: flags.has(Flags::WILL),
            clean_session: flags.has(Flags::CLEAN_SESSION),
            duration,
            client_id,
        })
    }
}

impl<T: StrStorage> Connect<T> {
    pub(crate) fn body_len(&self) -> usize {
        4 + self.client_id.len()
    }

    pub(crate) fn check(&self) -> Result<(), EncodeError> {
        check_client_id(MsgType::Connect, &self.client_id)
    }

    pub(crate) fn put(&self, buf: &mut impl BufMut) {
        let [d0, d1] = self.duration.to_be_bytes();
        buf.put_slice(&[self.flags(), PROTOCOL_ID, d0, d1]);
        buf.put_slice(self.client_id.as_str().as_bytes());
    }

    fn flags(&self) -> u8 {
        Flags::bit(self.will, Flags::WILL) | Flags::bit(self.clean_session, Flags::CLEAN_SESSION)
    }

    /// The whole CONNECT message, header included, in one straight path (the same checks
    /// and bytes as the general one).
    #[inline]
    pub(crate) fn encode_message(&self, buf: &mut impl BufMut) -> Result<usize, EncodeError> {
        self.check()?;
        let id = self.client_id.as_str().as_bytes();
        let body = 4 + id.len();
        let len = crate::wire::header_len(body) + body;
        if len > crate::wire::MAX_MESSAGE_LEN {
            return Err(EncodeError::TooLong {
                msg: MsgType::Connect,
                len,
            });
        }
        if buf.remaining_mut() < len {
            return Err(EncodeError::BufferTooSmall {
                needed: len,
                available: buf.remaining_mut(),
            });
        }
        let [d0, d1] = self.duration.to_be_bytes();
        let code = MsgType::Connect.code();
        if len <= 255 {
            buf.put_slice(&[len as u8, code, self.flags(), PROTOCOL_ID, d0, d1]);
        } else {
            let [hi, lo] = (len as u16).to_be_bytes();
            buf.put_slice(&[1, hi, lo, code, self.flags(), PROTOCOL_ID, d0, d1]);
        }
        buf.put_slice(id);
        Ok(len)
    }

    /// The borrowed form, pointing into this message (no copy).
    pub fn view(&self) -> Connect<&str> {
        Connect {
            will: self.will,
            clean_session: self.clean_session,
            duration: self.duration,
            client_id: self.client_id.view(),
        }
    }

    pub(crate) fn share(&self, parent: Option<&Bytes>) -> Connect<ByteString> {
        Connect {
            will: self.will,
            clean_session: self.clean_session,
            duration: self.duration,
            client_id: sh!(self.client_id, parent),
        }
    }

    /// The shared form: a copy of a borrowed message's fields, a cheap clone of a shared
    /// one.
    pub fn to_shared(&self) -> Connect<ByteString> {
        self.share(None)
    }

    /// The shared form, its fields slices of `parent` wherever they lie inside it (no
    /// copy), copies otherwise.
    pub fn to_shared_in(&self, parent: &Bytes) -> Connect<ByteString> {
        self.share(Some(parent))
    }
}

/// A ClientId (§5.3.1): a string of 1 to the decoder's limit (23 by default) characters.
#[inline(always)]
pub(crate) fn client_id<'a>(
    msg: MsgType,
    b: &'a [u8],
    d: &Decoder,
) -> Result<Str<&'a str>, DecodeError> {
    let s = Str::from_bytes(b, d.strict_utf8).map_err(|e| invalid(msg, "client id", e))?;
    let max = d.client_id_limit;
    // A character is at least one octet: count characters only when the octets exceed
    // the limit.
    let chars = if b.len() <= max {
        b.len()
    } else {
        s.as_str().chars().count()
    };
    if b.is_empty() || chars > max {
        return Err(DecodeError::ClientIdLength { msg, chars, max });
    }
    Ok(s)
}

/// The encoder refuses only an empty ClientId: the upper limit is the receiver's to apply
/// (gateways are configured with longer ones).
pub(crate) fn check_client_id<T: StrStorage>(msg: MsgType, id: &Str<T>) -> Result<(), EncodeError> {
    if id.as_str().is_empty() {
        Err(EncodeError::EmptyClientId { msg })
    } else {
        Ok(())
    }
}

/// The will topic of WILLTOPIC (§5.4.7) and WILLTOPICUPD (§5.4.22). Those messages carry
/// `Option<WillTopic>`: `None` is their two-octet empty form, which deletes the will.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WillTopic<T: StrStorage> {
    /// QoS of the will message.
    pub qos: QoS,
    /// Whether the will message is retained.
    pub retain: bool,
    /// The will topic.
    pub topic: TopicName<T>,
}

impl<'a> WillTopic<&'a str> {
    /// An empty body is the form that deletes the will.
    #[inline]
    pub(crate) fn decode(
        r: &mut Reader<'a>,
        d: &Decoder,
    ) -> Result<Option<WillTopic<&'a str>>, DecodeError> {
        if r.is_empty() {
            return Ok(None);
        }
        let flags = Flags(r.u8()?);
        let qos = qos_outside_publish(r.msg(), flags)?;
        let topic = r.topic_name(d.strict_utf8)?;
        Ok(Some(WillTopic {
            qos,
            retain: flags.has(Flags::RETAIN),
            topic,
        }))
    }
}

impl<T: StrStorage> WillTopic<T> {
    /// A will topic is never empty and its QoS is 0, 1 or 2.
    pub(crate) fn check(&self, msg: MsgType) -> Result<(), EncodeError> {
        check_qos_outside_publish(msg, self.qos)?;
        check_topic_name(msg, &self.topic)
    }

    pub(crate) fn body_len(this: &Option<Self>) -> usize {
        this.as_ref().map_or(0, |w| 1 + w.topic.as_str().len())
    }

    pub(crate) fn put(this: &Option<Self>, buf: &mut impl BufMut) {
        if let Some(w) = this {
            buf.put_u8(Flags::qos_bits(w.qos) | Flags::bit(w.retain, Flags::RETAIN));
            buf.put_slice(w.topic.as_str().as_bytes());
        }
    }

    /// The borrowed form, pointing into this message (no copy).
    pub fn view(&self) -> WillTopic<&str> {
        WillTopic {
            qos: self.qos,
            retain: self.retain,
            topic: self.topic.view(),
        }
    }

    pub(crate) fn share(&self, parent: Option<&Bytes>) -> WillTopic<ByteString> {
        WillTopic {
            qos: self.qos,
            retain: self.retain,
            topic: sh!(self.topic, parent),
        }
    }

    /// The shared form: a copy of a borrowed message's fields, a cheap clone of a shared
    /// one.
    pub fn to_shared(&self) -> WillTopic<ByteString> {
        self.share(None)
    }

    /// The shared form, its fields slices of `parent` wherever they lie inside it (no
    /// copy), copies otherwise.
    pub fn to_shared_in(&self, parent: &Bytes) -> WillTopic<ByteString> {
        self.share(Some(parent))
    }
}
