//! Topic registration (§5.4.10–5.4.11, §6.5): REGISTER and REGACK.

use bytes::{BufMut, Bytes};
use bytestring::ByteString;
use mqtt_codec::generic::TopicName;
use mqtt_codec::StrStorage;

use crate::error::DecodeError;
use crate::message::{msg_id, Decoder};
use crate::types::{MsgId, ReturnCode, TopicId};
use crate::wire::Reader;

/// REGISTER (§5.4.10): asks for (client to gateway) or announces (gateway to client) the
/// topic id of a topic name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Register<T: StrStorage> {
    /// The topic id; [`TopicId::NONE`] when a client sends it.
    pub topic_id: TopicId,
    /// The MsgId REGACK answers.
    pub msg_id: MsgId,
    /// The topic name (no wildcards: it is what a PUBLISH will refer to).
    pub topic: TopicName<T>,
}

impl<'a> Register<&'a str> {
    #[inline]
    pub(crate) fn decode(
        r: &mut Reader<'a>,
        d: &Decoder,
    ) -> Result<Register<&'a str>, DecodeError> {
        let topic_id = TopicId(r.u16()?);
        let msg_id = msg_id(r.msg(), r.u16()?)?;
        let topic = r.topic_name(d.strict_utf8)?;
        Ok(Register {
            topic_id,
            msg_id,
            topic,
        })
    }
}

impl<T: StrStorage> Register<T> {
    pub(crate) fn body_len(&self) -> usize {
        4 + self.topic.as_str().len()
    }

    pub(crate) fn put(&self, buf: &mut impl BufMut) {
        buf.put_u16(self.topic_id.0);
        buf.put_u16(self.msg_id.get());
        buf.put_slice(self.topic.as_str().as_bytes());
    }

    /// The borrowed form, pointing into this message (no copy).
    pub fn view(&self) -> Register<&str> {
        Register {
            topic_id: self.topic_id,
            msg_id: self.msg_id,
            topic: self.topic.view(),
        }
    }

    pub(crate) fn share(&self, parent: Option<&Bytes>) -> Register<ByteString> {
        Register {
            topic_id: self.topic_id,
            msg_id: self.msg_id,
            topic: sh!(self.topic, parent),
        }
    }

    /// The shared form: a copy of a borrowed message's fields, a cheap clone of a shared
    /// one.
    pub fn to_shared(&self) -> Register<ByteString> {
        self.share(None)
    }

    /// The shared form, its fields slices of `parent` wherever they lie inside it (no
    /// copy), copies otherwise.
    pub fn to_shared_in(&self, parent: &Bytes) -> Register<ByteString> {
        self.share(Some(parent))
    }
}

/// REGACK (§5.4.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegAck {
    /// The topic id assigned (when a gateway answers a client).
    pub topic_id: TopicId,
    /// The REGISTER's MsgId.
    pub msg_id: MsgId,
    /// Accepted, or why not.
    pub code: ReturnCode,
}

impl RegAck {
    #[inline]
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let topic_id = TopicId(r.u16()?);
        let msg_id = msg_id(r.msg(), r.u16()?)?;
        let code = ReturnCode::from(r.u8()?);
        r.end()?;
        Ok(RegAck {
            topic_id,
            msg_id,
            code,
        })
    }

    pub(crate) fn put(&self, buf: &mut impl BufMut) {
        buf.put_u16(self.topic_id.0);
        buf.put_u16(self.msg_id.get());
        buf.put_u8(self.code.into());
    }
}
