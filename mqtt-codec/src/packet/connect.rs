//! CONNECT (MQTT 5.0 §3.1, MQTT 3.1.1 §3.1, MQTT 3.1 "MQIsdp").

use bytes::{BufMut, Bytes};
use bytestring::ByteString;

use crate::error::{DecodeError, EncodeError, ValueError};
use crate::packet::properties::PropertyId;
use crate::packet::properties::{
    read_str, v5_block_len, ConnectProperties, PayloadFormat, PropBlock, WillProperties,
};
use crate::packet::publish::read_topic;
use crate::packet::{Decoder, PacketType};
use crate::storage::{Source, Storage, StrStorage};
use crate::topic::TopicName;
use crate::types::{Bin, Protocol, QoS, Str};
use crate::wire::reader::Reader;
use crate::wire::writer::{bin_len, put_bin};

/// The Will: a message the server publishes if the connection ends abnormally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Will<B: Storage, T: StrStorage> {
    /// Will Topic ([MQTT-3.1.3-10] / [MQTT-3.1.3-11]): a topic name, no wildcards.
    pub topic: TopicName<T>,
    /// Will Message (Will Payload in 5.0).
    pub payload: Bin<B>,
    /// Will QoS ([MQTT-3.1.2-14] / [MQTT-3.1.2-12]: never 3).
    pub qos: QoS,
    /// Will Retain.
    pub retain: bool,
    /// Will Properties (MQTT 5.0).
    pub properties: WillProperties<B>,
}

impl<'a> Will<&'a [u8], &'a str> {
    /// A will to publish on `topic` at `qos`, not retained, without properties. The
    /// payload is checked against the 65,535-byte limit of a will message.
    pub fn new(topic: TopicName<&'a str>, payload: &'a [u8], qos: QoS) -> Result<Self, ValueError> {
        Ok(Will::with(topic, Bin::<&[u8]>::new(payload)?, qos))
    }
}

impl Will<Bytes, ByteString> {
    /// A will to publish on `topic` at `qos`, not retained, without properties. The
    /// payload is checked against the 65,535-byte limit of a will message.
    pub fn new(
        topic: TopicName<ByteString>,
        payload: impl Into<Bytes>,
        qos: QoS,
    ) -> Result<Self, ValueError> {
        Ok(Will::with(topic, Bin::<Bytes>::new(payload)?, qos))
    }
}

impl<B: Storage, T: StrStorage> Will<B, T> {
    fn with(topic: TopicName<T>, payload: Bin<B>, qos: QoS) -> Self {
        Will {
            topic,
            payload,
            qos,
            retain: false,
            properties: WillProperties::default(),
        }
    }

    /// The borrowed form, pointing into this value (no copy).
    pub fn view(&self) -> Will<&[u8], &str> {
        Will {
            topic: self.topic.view(),
            payload: self.payload.view(),
            qos: self.qos,
            retain: self.retain,
            properties: self.properties.view(),
        }
    }

    pub(crate) fn share(&self, parent: Option<&Bytes>) -> Will<Bytes, ByteString> {
        Will {
            topic: self.topic.share(parent),
            payload: self.payload.share(parent),
            qos: self.qos,
            retain: self.retain,
            properties: self.properties.share(parent),
        }
    }
}

/// CONNECT: the first packet a client sends. It carries its own protocol level, so it
/// decodes whatever level the decoder is set to.
///
/// `B` and `T` are the storage of byte fields and strings: [`crate::Connect<'a>`] is the
/// borrowed form, [`crate::shared::Connect`] the shared one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connect<B: Storage, T: StrStorage> {
    /// Protocol name and level ([MQTT-3.1.2-1], [MQTT-3.1.2-2]).
    pub protocol: Protocol,
    /// Clean Session (3.x) / Clean Start (5.0).
    pub clean_start: bool,
    /// Keep Alive, seconds.
    pub keep_alive: u16,
    /// Client Identifier ([MQTT-3.1.3-3], [MQTT-3.1.3-4]).
    pub client_id: Str<T>,
    /// The Will, if any ([MQTT-3.1.2-9]).
    pub will: Option<Will<B, T>>,
    /// User Name ([MQTT-3.1.2-19] / [MQTT-3.1.2-17]).
    pub username: Option<Str<T>>,
    /// Password ([MQTT-3.1.2-21] / [MQTT-3.1.2-19]); at 3.x only with a user name.
    pub password: Option<Bin<B>>,
    /// CONNECT properties (MQTT 5.0).
    pub properties: ConnectProperties<B>,
}

const CLEAN: u8 = 0b0000_0010;
const WILL: u8 = 0b0000_0100;
const WILL_RETAIN: u8 = 0b0010_0000;
const PASSWORD: u8 = 0b0100_0000;
const USERNAME: u8 = 0b1000_0000;

/// MQTT 3.1 allows client identifiers of 1 to 23 characters.
const V31_CLIENT_ID_MAX: usize = 23;

impl<B: Storage, T: StrStorage> Connect<B, T> {
    /// A CONNECT with clean start, no will, no credentials, no properties.
    pub fn new(protocol: Protocol, client_id: Str<T>, keep_alive: u16) -> Self {
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

    #[inline(always)]
    pub(crate) fn decode<'a, S: Source<'a, B = B, T = T>>(
        r: &mut Reader<'a>,
        d: &Decoder,
        src: S,
    ) -> Result<Self, DecodeError> {
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
        let properties: ConnectProperties<B> = if v5 {
            PropBlock::decode_block(r, strict, src)?
        } else {
            ConnectProperties::default()
        };
        // MQTT 5.0 §3.1.2.11.10: Authentication Data without a Method is a Protocol Error.
        if v5
            && properties.contains(PropertyId::AuthenticationData)
            && !properties.contains(PropertyId::AuthenticationMethod)
        {
            return Err(DecodeError::AuthenticationDataWithoutMethod);
        }
        let client_id = read_str(r, strict)?;
        let v31_max = match d.client_id_max() {
            Some(_) => None,
            None => Some(V31_CLIENT_ID_MAX),
        };
        check_client_id(protocol, client_id, clean_start, v31_max, d.client_id_max())
            .map_err(|len| DecodeError::ClientIdRejected { len: len as u32 })?;
        let will = if has_will {
            let properties: WillProperties<B> = if v5 {
                PropBlock::decode_block(r, strict, src)?
            } else {
                WillProperties::default()
            };
            let topic = read_topic(r, strict, false, src)?;
            let payload = r.binary()?;
            if d.payload_format_checked()
                && properties.payload_format_indicator() == Some(PayloadFormat::Utf8)
                && core::str::from_utf8(payload).is_err()
            {
                return Err(DecodeError::PayloadFormatInvalid {
                    packet: PacketType::Connect,
                    packet_id: None,
                });
            }
            Some(Will {
                topic,
                payload: Bin::from_checked(src.bytes(payload)),
                qos: will_qos,
                retain: flags & WILL_RETAIN != 0,
                properties,
            })
        } else {
            None
        };
        let username = if flags & USERNAME != 0 {
            Some(Str::from_checked(src.text(read_str(r, strict)?)))
        } else {
            None
        };
        let password = if flags & PASSWORD != 0 {
            Some(Bin::from_checked(src.bytes(r.binary()?)))
        } else {
            None
        };
        Ok(Connect {
            protocol,
            clean_start,
            keep_alive,
            client_id: Str::from_checked(src.text(client_id)),
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
        if self.properties.contains(PropertyId::AuthenticationData)
            && !self.properties.contains(PropertyId::AuthenticationMethod)
        {
            return Err(EncodeError::AuthenticationDataWithoutMethod);
        }
        check_client_id(p, &self.client_id, self.clean_start, None, None)
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

    /// The borrowed form, pointing into this packet (no copy).
    pub fn view(&self) -> Connect<&[u8], &str> {
        Connect {
            protocol: self.protocol,
            clean_start: self.clean_start,
            keep_alive: self.keep_alive,
            client_id: self.client_id.view(),
            will: self.will.as_ref().map(Will::view),
            username: self.username.as_ref().map(Str::view),
            password: self.password.as_ref().map(Bin::view),
            properties: self.properties.view(),
        }
    }

    pub(crate) fn share(&self, parent: Option<&Bytes>) -> Connect<Bytes, ByteString> {
        Connect {
            protocol: self.protocol,
            clean_start: self.clean_start,
            keep_alive: self.keep_alive,
            client_id: self.client_id.share(parent),
            will: self.will.as_ref().map(|w| w.share(parent)),
            username: self.username.as_ref().map(|u| u.share(parent)),
            password: self.password.as_ref().map(|p| p.share(parent)),
            properties: self.properties.share(parent),
        }
    }

    /// The shared form: a cheap clone of a shared packet, a copy of a borrowed one.
    pub fn to_shared(&self) -> Connect<Bytes, ByteString> {
        self.share(None)
    }

    /// The shared form, its fields slices of `parent` wherever they lie inside it (no
    /// copy), copies otherwise.
    pub fn to_shared_in(&self, parent: &Bytes) -> Connect<Bytes, ByteString> {
        self.share(Some(parent))
    }
}

/// Client identifier rules: 3.1.1 [MQTT-3.1.3-7] (empty needs clean session); 3.1 needs at
/// least one character and, where `v31_max` is given, at most that many characters; and an
/// optional limit in bytes. `Err` carries the length in bytes.
///
/// The encoder passes no 3.1 maximum: the 23-character rule is enforced by receivers that
/// choose to (the decoder does unless given a limit), and brokers commonly accept longer.
#[inline]
fn check_client_id(
    protocol: Protocol,
    id: &str,
    clean: bool,
    v31_max: Option<usize>,
    limit: Option<u16>,
) -> Result<(), usize> {
    let len = id.len();
    let ok = match protocol {
        // A character takes at least one byte: count them only past the limit in bytes.
        Protocol::V3_1 => {
            !id.is_empty() && v31_max.is_none_or(|m| len <= m || id.chars().count() <= m)
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::testutil::*;
    use crate::PropertyId;
    use crate::Protocol::{V3_1, V3_1_1, V5};
    use crate::{Bin, Connect, Packet, Str, TopicName, Will};

    fn connect(p: Packet<'_>) -> Connect<'_> {
        match p {
            Packet::Connect(c) => c,
            other => panic!("not a CONNECT: {other:?}"),
        }
    }

    #[test]
    fn will_in_one_call() {
        let w = Will::new(
            TopicName::new("dev/1/status").unwrap(),
            &b"gone"[..],
            QoS::AtLeastOnce,
        )
        .unwrap();
        assert_eq!((w.qos, w.retain), (QoS::AtLeastOnce, false));
        let mut c = Connect::new(V3_1_1, Str::new("c").unwrap(), 30);
        c.will = Some(w);
        let bytes = encode(V3_1_1, &Packet::Connect(c)).unwrap();
        assert_eq!(connect(decode(V3_1_1, &bytes).unwrap()), c);
        // The will message is Binary Data: at most 65,535 bytes.
        let big = alloc::vec![0u8; 65_536];
        assert!(Will::new(TopicName::new("t").unwrap(), &big, QoS::AtMostOnce).is_err());
    }

    #[test]
    fn mqtt_3_1_2_11_authentication_data_without_method_is_a_protocol_error() {
        let e = error(V5, "10 11 0004 4d515454 05 02 003c 03 160000 0001 63");
        assert_eq!(e, DecodeError::AuthenticationDataWithoutMethod);
        assert_eq!(e.reason_code(), crate::ReasonCode::ProtocolError);
        // With a method first, or after, it is fine.
        connect(golden(
            V5,
            "10 15 0004 4d515454 05 02 003c 07 160000 15000161 0001 63",
        ));
        // The encoder refuses to write it.
        let mut c = Connect::new(V5, Str::new("c").unwrap(), 60);
        set_props!(c.properties, |q| q
            .set_authentication_data(Bin::new(&b"x"[..]).unwrap()));
        assert_eq!(
            Packet::Connect(c).encoded_len(V5),
            Err(EncodeError::AuthenticationDataWithoutMethod)
        );
        set_props!(c.properties, |q| q
            .set_authentication_method(Str::new("SCRAM").unwrap()));
        assert!(Packet::Connect(c).encoded_len(V5).is_ok());
    }

    #[test]
    fn spec_example_3_1_1_with_will_and_credentials() {
        // Variable header of the 3.1.1 example in §3.1.2.10: flags 0xCE, keep alive 10.
        // The decoder's level does not matter: CONNECT carries its own.
        for level in [V3_1, V3_1_1, V5] {
            let c = connect(golden(
                level,
                "101900044d51545404ce000a00016300017700016d000175000170",
            ));
            assert_eq!(c.protocol, V3_1_1);
            assert!(c.clean_start);
            assert_eq!(c.keep_alive, 10);
            assert_eq!(c.client_id.as_str(), "c");
            let w = c.will.as_ref().unwrap();
            assert_eq!(
                (w.topic.as_str(), w.payload.as_bytes(), w.qos, w.retain),
                ("w", &b"m"[..], QoS::AtLeastOnce, false)
            );
            assert_eq!(c.username.as_deref(), Some("u"));
            assert_eq!(c.password.as_deref(), Some(&b"p"[..]));
        }
    }

    #[test]
    fn spec_example_5_0_with_session_expiry() {
        // The 5.0 example of §3.1.2.11: flags 0xC2, keep alive 10, Session Expiry 10.
        let c = connect(golden(
            V5,
            "101900044d51545405c2000a05110000000a000163000175000170",
        ));
        assert_eq!(c.protocol, V5);
        assert_eq!(c.properties.session_expiry_interval(), Some(10));
    }

    #[test]
    fn mqtt_3_1_protocol_name_mqisdp() {
        let c = connect(golden(V3_1_1, "100f00064d51497364700302003c000163"));
        assert_eq!(c.protocol, V3_1);
    }

    #[test]
    fn v5_every_connect_and_will_property() {
        let c = connect(golden(
            V5,
            "105000044d51545405ee003c2321001427000003e822000a19011700150005534352414d16000201022600016100016200036369640b180000000501010300016a0003772f74000362796500017500027077",
        ));
        let p = &c.properties;
        assert_eq!(p.receive_maximum().map(|v| v.get()), Some(20));
        assert_eq!(p.maximum_packet_size().map(|v| v.get()), Some(1000));
        assert_eq!(p.topic_alias_maximum(), Some(10));
        assert_eq!(p.request_response_information(), Some(true));
        assert_eq!(p.request_problem_information(), Some(false));
        assert_eq!(p.authentication_method().as_deref(), Some("SCRAM"));
        assert_eq!(p.authentication_data().as_deref(), Some(&[1u8, 2][..]));
        assert_eq!(p.user_properties().count(), 1);
        let w = c.will.as_ref().unwrap();
        assert_eq!((w.qos, w.retain), (QoS::AtLeastOnce, true));
        assert_eq!(w.properties.will_delay_interval(), Some(5));
        assert_eq!(
            w.properties.payload_format_indicator(),
            Some(PayloadFormat::Utf8)
        );
        assert_eq!(w.properties.content_type().as_deref(), Some("j"));
    }

    #[test]
    fn mqtt_3_1_2_1_protocol_name_must_be_mqtt() {
        assert_eq!(
            error(V5, "100d00044d5154580402003c000163"),
            DecodeError::InvalidProtocolName
        );
    }

    #[test]
    fn mqtt_3_1_2_2_unsupported_protocol_level() {
        let e = error(V5, "100d00044d5154540602003c000163");
        assert_eq!(e, DecodeError::UnsupportedProtocolLevel { level: 6 });
        assert_eq!(
            e.reason_code(),
            crate::ReasonCode::UnsupportedProtocolVersion
        );
        // "MQIsdp" goes only with level 3.
        assert_eq!(
            error(V5, "100f00064d51497364700402003c000163"),
            DecodeError::UnsupportedProtocolLevel { level: 4 }
        );
    }

    #[test]
    fn mqtt_3_1_2_3_reserved_connect_flag_must_be_zero() {
        assert_eq!(
            error(V3_1_1, "100d00044d5154540403003c000163"),
            DecodeError::ReservedConnectFlag
        );
    }

    #[test]
    fn mqtt_3_1_2_13_will_qos_without_will_flag() {
        assert_eq!(
            error(V3_1_1, "100d00044d515454040a003c000163"),
            DecodeError::WillFlagsWithoutWill { flags: 0x0a }
        );
    }

    #[test]
    fn mqtt_3_1_2_15_will_retain_without_will_flag() {
        assert_eq!(
            error(V3_1_1, "100d00044d5154540422003c000163"),
            DecodeError::WillFlagsWithoutWill { flags: 0x22 }
        );
    }

    #[test]
    fn mqtt_3_1_2_14_will_qos_3_is_malformed() {
        assert_eq!(
            error(V3_1_1, "101300044d515454041e003c00016300017700016d"),
            DecodeError::InvalidQos {
                packet: PacketType::Connect
            }
        );
    }

    #[test]
    fn mqtt_3_1_3_10_will_topic_is_a_topic_name() {
        assert!(matches!(
            error(V3_1_1, "101500044d5154540406003c0001630003772f2300016d"),
            DecodeError::Invalid {
                error: crate::ValueError::WildcardInTopicName { .. },
                ..
            }
        ));
    }

    #[test]
    fn mqtt_3_1_2_22_password_without_user_name_at_3_1_1() {
        assert_eq!(
            error(V3_1_1, "101000044d5154540442003c000163000170"),
            DecodeError::PasswordWithoutUsername
        );
        // MQTT 5.0 allows it.
        let c = connect(golden(V5, "101100044d5154540542003c00000163000170"));
        assert!(c.username.is_none() && c.password.is_some());
        // And the encoder refuses it at 3.1.1.
        let mut c = c;
        c.protocol = V3_1_1;
        assert_eq!(
            Packet::Connect(c).encoded_len(V3_1_1),
            Err(EncodeError::PasswordWithoutUsername)
        );
    }

    #[test]
    fn mqtt_3_1_3_7_empty_client_id_needs_clean_session_at_3_1_1() {
        let e = error(V3_1_1, "100c00044d5154540400003c0000");
        assert_eq!(e, DecodeError::ClientIdRejected { len: 0 });
        assert_eq!(e.reason_code(), crate::ReasonCode::ClientIdentifierNotValid);
        golden(V3_1_1, "100c00044d5154540402003c0000");
        // 5.0 lets the server decide.
        golden(V5, "100d00044d5154540500003c000000");
    }

    #[test]
    fn mqtt_3_1_client_id_is_1_to_23_characters() {
        golden(
            V3_1,
            "102500064d51497364700302003c00176161616161616161616161616161616161616161616161",
        );
        assert_eq!(
            error(
                V3_1,
                "102600064d51497364700302003c0018616161616161616161616161616161616161616161616161"
            ),
            DecodeError::ClientIdRejected { len: 24 }
        );
        assert_eq!(
            error(V3_1, "100e00064d51497364700302003c0000"),
            DecodeError::ClientIdRejected { len: 0 }
        );
        // Characters, not bytes: 23 two-byte characters pass.
        let id = "é".repeat(23);
        let c = Connect::new(V3_1, Str::new(id.as_str()).unwrap(), 60);
        let bytes = encode(V3_1, &Packet::Connect(c)).unwrap();
        assert_eq!(decode(V3_1, &bytes).unwrap(), Packet::Connect(c));
        // The encoder leaves the 23-character rule to receivers; it refuses only empty.
        let long_id = "a".repeat(30);
        let long = Connect::new(V3_1, Str::new(&long_id).unwrap(), 60);
        assert!(encode(V3_1, &Packet::Connect(long)).is_ok());
        let empty = Connect::new(V3_1, Str::new("").unwrap(), 60);
        assert_eq!(
            Packet::Connect(empty).encoded_len(V3_1),
            Err(EncodeError::ClientIdRejected { len: 0 })
        );
        // A configured limit replaces the 23 (real brokers accept longer).
        let long =
            hex("102600064d51497364700302003c0018616161616161616161616161616161616161616161616161");
        assert!(decoder(V3_1)
            .client_id_limit(Some(64))
            .decode(&long)
            .is_ok());
        assert!(decoder(V5)
            .client_id_limit(Some(8))
            .decode(&hex(
                "101900044d51545405c2000a05110000000a000163000175000170"
            ))
            .is_ok());
        assert_eq!(
            decoder(V5).client_id_limit(Some(2)).decode(&hex("105000044d51545405ee003c2321001427000003e822000a19011700150005534352414d16000201022600016100016200036369640b180000000501010300016a0003772f74000362796500017500027077")),
            Err(DecodeError::ClientIdRejected { len: 3 })
        );
    }

    #[test]
    fn connect_property_not_allowed() {
        assert_eq!(
            error(V5, "101100044d5154540502003c03230001000163"),
            DecodeError::PropertyNotAllowed {
                packet: PacketType::Connect,
                property: PropertyId::TopicAlias
            }
        );
        // Will Delay belongs to the will properties, not CONNECT's.
        assert_eq!(
            error(V5, "101300044d5154540502003c051800000001000163"),
            DecodeError::PropertyNotAllowed {
                packet: PacketType::Connect,
                property: PropertyId::WillDelayInterval
            }
        );
        // And Topic Alias is not a will property.
        assert_eq!(
            error(V5, "101800044d5154540506003c000001630323000100017700016d"),
            DecodeError::PropertyNotAllowed {
                packet: PacketType::Connect,
                property: PropertyId::TopicAlias
            }
        );
    }

    #[test]
    fn connect_property_values_out_of_range() {
        for (hexstr, property, value) in [
            (
                "101100044d5154540502003c03210000000163",
                PropertyId::ReceiveMaximum,
                0,
            ),
            (
                "101300044d5154540502003c052700000000000163",
                PropertyId::MaximumPacketSize,
                0,
            ),
            (
                "101000044d5154540502003c021702000163",
                PropertyId::RequestProblemInformation,
                2,
            ),
        ] {
            let e = error(V5, hexstr);
            assert_eq!(
                e,
                DecodeError::InvalidPropertyValue {
                    packet: PacketType::Connect,
                    property,
                    value
                }
            );
            assert_eq!(e.reason_code(), crate::ReasonCode::ProtocolError);
        }
    }

    #[test]
    fn will_payload_format_checked_when_asked() {
        let bytes = hex("101700044d5154540506003c000001630201010001770001ff");
        assert!(decoder(V5).decode(&bytes).is_ok());
        assert_eq!(
            decoder(V5).check_payload_format(true).decode(&bytes),
            Err(DecodeError::PayloadFormatInvalid {
                packet: PacketType::Connect,
                packet_id: None
            })
        );
    }

    #[test]
    fn properties_refused_at_3_1_1() {
        let mut c = Connect::new(V3_1_1, Str::new("c").unwrap(), 60);
        set_props!(c.properties, |q| q.set_session_expiry_interval(1));
        assert_eq!(
            Packet::Connect(c).encoded_len(V3_1_1),
            Err(EncodeError::NotInProtocol {
                packet: PacketType::Connect,
                what: "properties",
                protocol: V3_1_1
            })
        );
    }

    #[test]
    fn connect_uses_its_own_level_when_encoding() {
        let c = Connect::new(V3_1, Str::new("c").unwrap(), 60);
        // Asked at 5.0, it is still written as MQIsdp level 3.
        assert_eq!(
            encode(V5, &Packet::Connect(c)).unwrap(),
            hex("100f00064d51497364700302003c000163")
        );
    }
}
