//! A [`tokio_util::codec`] implementation on the shared packet form (feature `tokio-util`).
//!
//! [`MqttCodec`] decodes with [`Decoder::decode_bytes_mut`]: each packet is split off the
//! read buffer and frozen, and its fields share those bytes, so a `FramedRead` hands out
//! [`shared::Packet`](crate::shared::Packet) values that own their bytes without a copy. It
//! encodes any packet, in either form, within the peer's Maximum Packet Size.
//!
//! ```
//! use mqtt_codec::tokio_codec::MqttCodec;
//! use mqtt_codec::{shared, BytesMut, Protocol};
//! use tokio_util::codec::{Decoder as _, Encoder as _};
//!
//! // A server: it does not know the client's level until the CONNECT.
//! let mut codec = MqttCodec::server();
//! let mut buf = BytesMut::from(
//!     &[0x10, 0x0d, 0x00, 0x04, b'M', b'Q', b'T', b'T', 5, 0x02, 0x00, 0x3c, 0x00, 0x00, 0x00][..],
//! );
//! let Some(shared::Packet::Connect(c)) = codec.decode(&mut buf)? else { panic!() };
//! assert_eq!(c.protocol, Protocol::V5);
//! assert_eq!(codec.protocol(), Protocol::V5); // what follows is read and written at 5.0
//!
//! let mut out = BytesMut::new();
//! codec.encode(shared::Packet::PingResp, &mut out)?;
//! assert_eq!(&out[..], [0xd0, 0x00]);
//! # Ok::<(), mqtt_codec::tokio_codec::CodecError>(())
//! ```

extern crate std;

use bytes::BytesMut;

use crate::error::{DecodeError, EncodeError};
use crate::packet::{Decoder, Encoder, Packet};
use crate::storage::{Storage, StrStorage};
use crate::types::Protocol;

/// Why [`MqttCodec`] failed: malformed input, a packet that cannot be written, or the
/// transport. (The codec layer itself carries no IO types; `tokio_util` requires the
/// conversion from `std::io::Error`.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The bytes read are not a valid packet; at 5.0, answer with
    /// [`DecodeError::disconnect`] and close.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A packet could not be encoded (nothing was written).
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The transport failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// An MQTT codec for `tokio_util::codec::Framed`, `FramedRead` and `FramedWrite`.
///
/// It holds a [`Decoder`] (level, maximum packet size, optional checks) and an
/// [`Encoder`] (level, the peer's maximum packet size). Made with [`MqttCodec::server`] it
/// takes its level from the CONNECT it decodes, as a server must; set the level by hand
/// otherwise ([`MqttCodec::set_protocol`], after a CONNACK for instance).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MqttCodec {
    decoder: Decoder,
    encoder: Encoder,
    follow_connect: bool,
}

impl MqttCodec {
    /// A codec at `protocol` for both directions, with the decoder's default limits.
    pub const fn new(protocol: Protocol) -> Self {
        MqttCodec {
            decoder: Decoder::new(protocol),
            encoder: Encoder::new(protocol),
            follow_connect: false,
        }
    }

    /// A codec for a server: it decodes at MQTT 3.1.1 until a CONNECT names the client's
    /// level (a CONNECT decodes at any level), then reads and writes at that level.
    pub const fn server() -> Self {
        MqttCodec {
            decoder: Decoder::new(Protocol::V3_1_1),
            encoder: Encoder::new(Protocol::V3_1_1),
            follow_connect: true,
        }
    }

    /// The same codec with `decoder` for what it reads (its level becomes the codec's).
    pub const fn with_decoder(mut self, decoder: Decoder) -> Self {
        self.encoder = Encoder::new(decoder.protocol()).max_packet_size(self.peer_max());
        self.decoder = decoder;
        self
    }

    /// The peer's Maximum Packet Size: larger packets are refused by `encode`.
    pub const fn peer_max_packet_size(mut self, bytes: u32) -> Self {
        self.encoder = self.encoder.max_packet_size(bytes);
        self
    }

    const fn peer_max(&self) -> u32 {
        self.encoder.max_size()
    }

    /// The protocol level now in use.
    pub const fn protocol(&self) -> Protocol {
        self.decoder.protocol()
    }

    /// Sets the protocol level of both directions.
    pub fn set_protocol(&mut self, protocol: Protocol) {
        self.decoder.set_protocol(protocol);
        self.encoder = Encoder::new(protocol).max_packet_size(self.peer_max());
    }

    /// Sets the peer's Maximum Packet Size (from its CONNECT or CONNACK).
    pub fn set_peer_max_packet_size(&mut self, bytes: u32) {
        self.encoder = self.encoder.max_packet_size(bytes);
    }
}

impl tokio_util::codec::Decoder for MqttCodec {
    type Item = crate::shared::Packet;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, CodecError> {
        let packet = self.decoder.decode_bytes_mut(src)?;
        if let Some(Packet::Connect(c)) = &packet {
            if self.follow_connect {
                self.set_protocol(c.protocol);
            }
        }
        Ok(packet)
    }
}

impl<B: Storage, T: StrStorage> tokio_util::codec::Encoder<Packet<B, T>> for MqttCodec {
    type Error = CodecError;

    fn encode(&mut self, packet: Packet<B, T>, dst: &mut BytesMut) -> Result<(), CodecError> {
        let len = self.encoder.encoded_len(&packet)?;
        dst.reserve(len);
        self.encoder.encode(&packet, dst)?;
        Ok(())
    }
}

impl<B: Storage, T: StrStorage> tokio_util::codec::Encoder<&Packet<B, T>> for MqttCodec {
    type Error = CodecError;

    fn encode(&mut self, packet: &Packet<B, T>, dst: &mut BytesMut) -> Result<(), CodecError> {
        let len = self.encoder.encoded_len(packet)?;
        dst.reserve(len);
        self.encoder.encode(packet, dst)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{shared, Bytes, ReasonCode};
    use alloc::vec::Vec;
    use tokio_util::codec::{Decoder as _, Encoder as _};

    fn publish(topic: &str, payload: &'static [u8]) -> shared::Packet {
        shared::Packet::Publish(shared::Publish::new(
            shared::TopicName::new(topic).unwrap(),
            Bytes::from_static(payload),
        ))
    }

    #[test]
    fn decodes_split_input_into_shared_packets() {
        let mut codec = MqttCodec::new(Protocol::V3_1_1);
        let mut wire = BytesMut::new();
        codec.encode(publish("a/b", b"one"), &mut wire).unwrap();
        codec.encode(&publish("c", b"two"), &mut wire).unwrap();
        let whole = wire.clone();
        // One byte at a time: nothing until a packet is complete, then exactly it.
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for b in whole.iter() {
            buf.extend_from_slice(&[*b]);
            while let Some(p) = codec.decode(&mut buf).unwrap() {
                got.push(p);
            }
        }
        assert!(buf.is_empty());
        assert_eq!(got, [publish("a/b", b"one"), publish("c", b"two")]);
        // `decode_eof` on a clean end: nothing more, no error.
        assert!(codec.decode_eof(&mut buf).unwrap().is_none());
        // A packet cut short by the end of the stream is an error there.
        let mut cut = BytesMut::from(&whole[..whole.len() - 1]);
        assert!(codec.decode(&mut cut).unwrap().is_some());
        assert!(codec.decode(&mut cut).unwrap().is_none());
        assert!(matches!(codec.decode_eof(&mut cut), Err(CodecError::Io(_))));
    }

    #[test]
    fn malformed_input_is_a_decode_error_with_its_reason_code() {
        let mut codec = MqttCodec::new(Protocol::V5);
        let mut buf = BytesMut::from(&[0x36u8][..]); // PUBLISH with QoS 3
        match codec.decode(&mut buf) {
            Err(CodecError::Decode(e)) => {
                assert_eq!(e.reason_code(), ReasonCode::MalformedPacket)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn server_codec_follows_the_connect_level() {
        let mut codec = MqttCodec::server();
        let connect = shared::Packet::Connect(shared::Connect::new(
            Protocol::V3_1,
            shared::Str::new("c").unwrap(),
            30,
        ));
        let mut buf = BytesMut::new();
        MqttCodec::new(Protocol::V3_1)
            .encode(&connect, &mut buf)
            .unwrap();
        // A 3.1-only packet after it: PUBREL with DUP.
        buf.extend_from_slice(&[0x6a, 0x02, 0x00, 0x01]);
        assert_eq!(codec.decode(&mut buf).unwrap(), Some(connect));
        assert_eq!(codec.protocol(), Protocol::V3_1);
        assert!(matches!(
            codec.decode(&mut buf).unwrap(),
            Some(shared::Packet::PubRel(p)) if p.dup
        ));
    }

    #[test]
    fn encode_refuses_packets_over_the_peer_maximum_and_writes_nothing() {
        let mut codec = MqttCodec::new(Protocol::V5).peer_max_packet_size(8);
        let mut out = BytesMut::new();
        assert!(matches!(
            codec.encode(publish("topic", b"too long for 8"), &mut out),
            Err(CodecError::Encode(EncodeError::PacketTooLarge { .. }))
        ));
        assert!(out.is_empty());
    }
}
