//! CONNECT (MQTT 5.0 §3.1, MQTT 3.1.1 §3.1, MQTT 3.1 "MQIsdp").

use bytes::BufMut;

use crate::error::{DecodeError, EncodeError, ValueError};
use crate::packet::properties::{
    read_str, v5_block_len, ConnectProperties, PayloadFormat, WillProperties,
};
use crate::packet::publish::read_topic;
use crate::packet::{Decoder, PacketType};
use crate::topic::TopicName;
use crate::types::{Bin, Protocol, QoS, Str};
use crate::wire::reader::Reader;
use crate::wire::writer::{bin_len, put_bin};

/// The Will: a message the server publishes if the connection ends abnormally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Will<'a> {
    /// Will Topic ([MQTT-3.1.3-10] / [MQTT-3.1.3-11]): a topic name, no wildcards.
    pub topic: TopicName<'a>,
    /// Will Message (Will Payload in 5.0).
    pub payload: Bin<'a>,
    /// Will QoS ([MQTT-3.1.2-14] / [MQTT-3.1.2-12]: never 3).
    pub qos: QoS,
    /// Will Retain.
    pub retain: bool,
    /// Will Properties (MQTT 5.0).
    pub properties: WillProperties<'a>,
}

impl Will<'_> {
    /// Copies borrowed contents so that the value no longer borrows.
    pub fn into_owned(self) -> Will<'static> {
        Will {
            topic: self.topic.into_owned(),
            payload: self.payload.into_owned(),
            qos: self.qos,
            retain: self.retain,
            properties: self.properties.into_owned(),
        }
    }
}

/// CONNECT: the first packet a client sends. It carries its own protocol level, so it
/// decodes whatever level the decoder is set to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect<'a> {
    /// Protocol name and level ([MQTT-3.1.2-1], [MQTT-3.1.2-2]).
    pub protocol: Protocol,
    /// Clean Session (3.x) / Clean Start (5.0).
    pub clean_start: bool,
    /// Keep Alive, seconds.
    pub keep_alive: u16,
    /// Client Identifier ([MQTT-3.1.3-3], [MQTT-3.1.3-4]).
    pub client_id: Str<'a>,
    /// The Will, if any ([MQTT-3.1.2-9]).
    pub will: Option<Will<'a>>,
    /// User Name ([MQTT-3.1.2-19] / [MQTT-3.1.2-17]).
    pub username: Option<Str<'a>>,
    /// Password ([MQTT-3.1.2-21] / [MQTT-3.1.2-19]); at 3.x only with a user name.
    pub password: Option<Bin<'a>>,
    /// CONNECT properties (MQTT 5.0).
    pub properties: ConnectProperties<'a>,
}

const CLEAN: u8 = 0b0000_0010;
const WILL: u8 = 0b0000_0100;
const WILL_RETAIN: u8 = 0b0010_0000;
const PASSWORD: u8 = 0b0100_0000;
const USERNAME: u8 = 0b1000_0000;

/// MQTT 3.1 allows client identifiers of 1 to 23 characters.
const V31_CLIENT_ID_MAX: usize = 23;

impl<'a> Connect<'a> {
    /// A CONNECT with clean start, no will, no credentials, no properties.
    pub fn new(protocol: Protocol, client_id: Str<'a>, keep_alive: u16) -> Self {
        Connect {
            protocol,
            clean_start: true,
            keep_alive,
            client_id,
            will: None,
            username: None,
            password: None,
            properties: ConnectProperties::default(),
        }
    }

    pub(crate) fn decode(r: &mut Reader<'a>, d: &Decoder) -> Result<Self, DecodeError> {
        let strict = d.strict();
        let name = r.binary()?;
        let level = r.u8()?;
        let protocol = match (name, level) {
            (b"MQTT", 4) => Protocol::V3_1_1,
            (b"MQTT", 5) => Protocol::V5,
            (b"MQIsdp", 3) => Protocol::V3_1,
            (b"MQTT", _) | (b"MQIsdp", _) => {
                return Err(DecodeError::UnsupportedProtocolLevel { level })
            }
            _ => return Err(DecodeError::InvalidProtocolName),
        };
        let v5 = protocol.is_v5();
        let flags = r.u8()?;
        // [MQTT-3.1.2-3]
        if flags & 1 != 0 {
            return Err(DecodeError::ReservedConnectFlag);
        }
        let will_qos = (flags >> 3) & 0b11;
        let has_will = flags & WILL != 0;
        // [MQTT-3.1.2-11], [MQTT-3.1.2-13], [MQTT-3.1.2-15]
        if !has_will && (will_qos != 0 || flags & WILL_RETAIN != 0) {
            return Err(DecodeError::WillFlagsWithoutWill { flags });
        }
        // [MQTT-3.1.2-14] / 5.0 [MQTT-3.1.2-12]
        let will_qos = QoS::try_from(will_qos).map_err(|_| DecodeError::InvalidQos {
            packet: PacketType::Connect,
        })?;
        // [MQTT-3.1.2-22]
        if !v5 && flags & PASSWORD != 0 && flags & USERNAME == 0 {
            return Err(DecodeError::PasswordWithoutUsername);
        }
        let clean_start = flags & CLEAN != 0;
        let keep_alive = r.u16()?;
        let properties = if v5 {
            ConnectProperties::decode(r, strict)?
        } else {
            ConnectProperties::default()
        };
        let client_id = read_str(r, strict)?;
        check_client_id(protocol, client_id.len(), clean_start, d.client_id_max())
            .map_err(|len| DecodeError::ClientIdRejected { len: len as u32 })?;
        let will = if has_will {
            let properties = if v5 {
                WillProperties::decode(r, strict)?
            } else {
                WillProperties::default()
            };
            let topic = read_topic(r, strict, false)?;
            let payload = r.binary()?;
            if d.payload_format_checked()
                && properties.payload_format_indicator == Some(PayloadFormat::Utf8)
                && core::str::from_utf8(payload).is_err()
            {
                return Err(DecodeError::PayloadFormatInvalid {
                    packet: PacketType::Connect,
                    packet_id: None,
                });
            }
            Some(Will {
                topic,
                payload: Bin::from_checked(payload),
                qos: will_qos,
                retain: flags & WILL_RETAIN != 0,
                properties,
            })
        } else {
            None
        };
        let username = if flags & USERNAME != 0 {
            Some(Str::from_checked(read_str(r, strict)?))
        } else {
            None
        };
        let password = if flags & PASSWORD != 0 {
            Some(Bin::from_checked(r.binary()?))
        } else {
            None
        };
        Ok(Connect {
            protocol,
            clean_start,
            keep_alive,
            client_id: Str::from_checked(client_id),
            will,
            username,
            password,
            properties,
        })
    }

    fn flags(&self) -> u8 {
        let mut f = 0;
        if self.clean_start {
            f |= CLEAN;
        }
        if let Some(w) = &self.will {
            f |= WILL | ((w.qos as u8) << 3);
            if w.retain {
                f |= WILL_RETAIN;
            }
        }
        if self.username.is_some() {
            f |= USERNAME;
        }
        if self.password.is_some() {
            f |= PASSWORD;
        }
        f
    }

    pub(crate) fn body_len(&self) -> Result<usize, EncodeError> {
        let p = self.protocol;
        let v5 = p.is_v5();
        if !v5 && self.password.is_some() && self.username.is_none() {
            return Err(EncodeError::PasswordWithoutUsername);
        }
        check_client_id(p, self.client_id.len(), self.clean_start, None)
            .map_err(|len| EncodeError::ClientIdRejected { len })?;
        let packet = PacketType::Connect;
        let mut n = bin_len(p.name().as_bytes())
            + 4
            + v5_block_len(&self.properties, p, packet, "properties")?;
        n += bin_len(self.client_id.as_bytes());
        if let Some(w) = &self.will {
            if w.topic.is_empty() {
                return Err(EncodeError::Invalid {
                    packet,
                    error: ValueError::EmptyTopic,
                });
            }
            n += v5_block_len(&w.properties, p, packet, "will properties")?;
            n += bin_len(w.topic.as_bytes()) + bin_len(w.payload.as_bytes());
        }
        if let Some(u) = &self.username {
            n += bin_len(u.as_bytes());
        }
        if let Some(pw) = &self.password {
            n += bin_len(pw.as_bytes());
        }
        Ok(n)
    }

    pub(crate) fn write_body(&self, buf: &mut impl BufMut) {
        let v5 = self.protocol.is_v5();
        put_bin(buf, self.protocol.name().as_bytes());
        buf.put_u8(self.protocol.level());
        buf.put_u8(self.flags());
        buf.put_u16(self.keep_alive);
        if v5 {
            self.properties.write(buf);
        }
        put_bin(buf, self.client_id.as_bytes());
        if let Some(w) = &self.will {
            if v5 {
                w.properties.write(buf);
            }
            put_bin(buf, w.topic.as_bytes());
            put_bin(buf, w.payload.as_bytes());
        }
        if let Some(u) = &self.username {
            put_bin(buf, u.as_bytes());
        }
        if let Some(pw) = &self.password {
            put_bin(buf, pw.as_bytes());
        }
    }

    /// Copies borrowed contents so that the value no longer borrows.
    pub fn into_owned(self) -> Connect<'static> {
        Connect {
            protocol: self.protocol,
            clean_start: self.clean_start,
            keep_alive: self.keep_alive,
            client_id: self.client_id.into_owned(),
            will: self.will.map(Will::into_owned),
            username: self.username.map(Str::into_owned),
            password: self.password.map(Bin::into_owned),
            properties: self.properties.into_owned(),
        }
    }
}

/// Client identifier rules: 3.1.1 [MQTT-3.1.3-7] (empty needs clean session), 3.1's 1 to 23
/// characters, and an optional configured limit. `Err` carries the length.
fn check_client_id(
    protocol: Protocol,
    len: usize,
    clean: bool,
    limit: Option<u16>,
) -> Result<(), usize> {
    let ok = match protocol {
        Protocol::V3_1 => len >= 1 && (limit.is_some() || len <= V31_CLIENT_ID_MAX),
        Protocol::V3_1_1 => len > 0 || clean,
        Protocol::V5 => true,
    };
    let within = limit.is_none_or(|l| len <= usize::from(l));
    if ok && within {
        Ok(())
    } else {
        Err(len)
    }
}
