//! Wire primitives: the Length field in its two forms (§5.2.1), the message header, and a
//! bounds-checked reader over a message body.

use bytes::BufMut;

use mqtt_codec::generic::{TopicFilter, TopicName};
use mqtt_codec::ValueError;

use crate::error::DecodeError;
use crate::types::MsgType;

/// The largest message a Length field can describe.
pub const MAX_MESSAGE_LEN: usize = u16::MAX as usize;

/// Reads the Length field at the start of `buf` (§5.2.1): one octet 0x02–0xFF, or 0x01
/// followed by two octets. Returns the declared length of the whole message and the
/// octets of the Length field (1 or 3), or `None` when `buf` ends inside the field.
/// The declared length must cover the Length field and the MsgType octet.
#[inline]
pub(crate) fn read_length(buf: &[u8]) -> Result<Option<(usize, usize)>, DecodeError> {
    let (declared, octets) = match buf {
        [] => return Ok(None),
        [0, ..] => return Err(DecodeError::ZeroLength),
        [1, hi, lo, ..] => (u16::from_be_bytes([*hi, *lo]) as usize, 3),
        [1, ..] => return Ok(None),
        [n, ..] => (*n as usize, 1),
    };
    if declared <= octets {
        return Err(DecodeError::LengthBelowHeader {
            declared,
            header: octets + 1,
        });
    }
    Ok(Some((declared, octets)))
}

/// Octets of the header (Length and MsgType) for a body of `body` octets: the one-octet
/// Length whenever the whole message fits in 255 octets, else the three-octet form.
#[inline]
pub(crate) const fn header_len(body: usize) -> usize {
    if body + 2 <= 255 {
        2
    } else {
        4
    }
}

/// Writes Length and MsgType for a message of `total` octets (header included), in the
/// short form whenever it fits. The caller has checked `total <= 65_535`.
#[inline]
pub(crate) fn put_header(buf: &mut impl BufMut, total: usize, msg: MsgType) {
    if total <= 255 {
        buf.put_slice(&[total as u8, msg.code()]);
    } else {
        let [hi, lo] = (total as u16).to_be_bytes();
        buf.put_slice(&[1, hi, lo, msg.code()]);
    }
}

/// A cursor over one message body; a short read is [`DecodeError::UnexpectedEnd`] for the
/// message, never "need more bytes" (the datagram is all there is).
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    msg: MsgType,
}

impl<'a> Reader<'a> {
    #[inline]
    pub(crate) const fn new(buf: &'a [u8], msg: MsgType) -> Self {
        Reader { buf, msg }
    }

    /// The message being read, for errors.
    #[inline]
    pub(crate) const fn msg(&self) -> MsgType {
        self.msg
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    #[inline]
    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        let (&b, rest) = self.buf.split_first().ok_or(self.short())?;
        self.buf = rest;
        Ok(b)
    }

    #[inline]
    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        match self.buf {
            [hi, lo, rest @ ..] => {
                let v = u16::from_be_bytes([*hi, *lo]);
                self.buf = rest;
                Ok(v)
            }
            _ => Err(self.short()),
        }
    }

    /// Two octets as they are (the Topic Id field of a short topic name).
    #[inline]
    pub(crate) fn pair(&mut self) -> Result<[u8; 2], DecodeError> {
        self.u16().map(u16::to_be_bytes)
    }

    /// Everything left: the variable-length last field of a message.
    #[inline]
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.buf)
    }

    /// The rest of the message as a topic name (REGISTER, WILLTOPIC, WILLTOPICUPD).
    #[inline]
    pub(crate) fn topic_name(&mut self, strict: bool) -> Result<TopicName<&'a str>, DecodeError> {
        let msg = self.msg;
        TopicName::from_bytes(self.rest(), strict)
            .map_err(|error| invalid(msg, "topic name", error))
    }

    /// The rest of the message as a topic filter (SUBSCRIBE, UNSUBSCRIBE).
    #[inline(always)]
    pub(crate) fn topic_filter(
        &mut self,
        strict: bool,
    ) -> Result<TopicFilter<&'a str>, DecodeError> {
        let msg = self.msg;
        // MQTT-SN has no shared subscriptions: `$share/…` is an ordinary filter.
        TopicFilter::from_bytes_unshared(self.rest(), strict)
            .map_err(|error| invalid(msg, "topic filter", error))
    }

    /// The fixed fields are read; anything left is malformed.
    #[inline]
    pub(crate) fn end(&self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                msg: self.msg,
                extra: self.buf.len(),
            })
        }
    }

    #[cold]
    fn short(&self) -> DecodeError {
        DecodeError::UnexpectedEnd { msg: self.msg }
    }
}

/// A field that breaks the string or topic rules.
#[cold]
pub(crate) fn invalid(msg: MsgType, field: &'static str, error: ValueError) -> DecodeError {
    DecodeError::Invalid { msg, field, error }
}
