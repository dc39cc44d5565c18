//! Sans-IO, `no_std`, zero-copy MQTT-SN 1.2 codec: every message of the specification,
//! both Length forms, the Encapsulated message of forwarders, typed flags, topic
//! references and return codes.
//!
//! MQTT-SN is datagram-first: a datagram holds exactly one message, so [`decode`] takes
//! the whole datagram and returns one [`Message`] or a [`DecodeError`] that says what is
//! wrong; there is no "need more bytes". For byte streams (serial links) framed only by
//! the Length field, [`Decoder::decode_stream`] has the partial/complete contract of the
//! MQTT decoder.
//!
//! ```
//! use mqtt_sn_codec::{decode, Delivery, Message, MsgId, Publish, TopicId, TopicRef};
//!
//! // A QoS 1 PUBLISH on registered topic id 1, message id 7, payload "hi".
//! let datagram = [0x09, 0x0C, 0x20, 0x00, 0x01, 0x00, 0x07, b'h', b'i'];
//! let Message::Publish(p) = decode(&datagram)? else { panic!("not a PUBLISH") };
//! assert_eq!(p.topic, TopicRef::Registered(TopicId(1)));
//! assert_eq!(p.delivery, Delivery::AtLeastOnce(MsgId::new(7).unwrap()));
//! assert_eq!(p.payload.as_bytes(), b"hi");
//!
//! // Encoding is all-or-nothing, into any `bytes::BufMut`, with an exact length.
//! let reply = Message::PubAck(mqtt_sn_codec::PubAck {
//!     topic_id: TopicId(1),
//!     msg_id: p.delivery.msg_id(),
//!     code: mqtt_sn_codec::ReturnCode::Accepted,
//! });
//! let mut out = Vec::new();
//! assert_eq!(reply.encode(&mut out)?, reply.encoded_len());
//! assert_eq!(out, [0x07, 0x0D, 0x00, 0x01, 0x00, 0x07, 0x00]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Strings, topic names and filters, QoS and message ids are `mqtt-codec`'s types (one
//! implementation of validation and topic matching for both protocols); a gateway maps
//! them across without conversion.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

pub mod client;
mod error;
pub mod gateway;
mod message;
mod qos2;
mod types;
mod wire;

#[cfg(test)]
mod tests;

pub use error::{DecodeError, EncodeError};
pub use message::{
    decode, Advertise, Decoder, Delivery, PubAck, RegAck, SearchGw, SubAck, PROTOCOL_ID,
};
pub use mqtt_codec::{Payload, Str, TopicFilter, TopicName, ValueError};
pub use types::{Ctrl, MsgId, MsgType, QoS, ReturnCode, ShortTopic, TopicId, TopicIdType};
pub use wire::MAX_MESSAGE_LEN;

/// Every message type, defined once over its storage: `B` for byte fields, `T` for
/// strings (`mqtt_codec::Storage` and `mqtt_codec::StrStorage`).
///
/// The crate root names the borrowed form (`Message<'a>` is `generic::Message<&'a [u8],
/// &'a str>`), [`shared`] the shared one. Fields and methods are documented here.
pub mod generic {
    pub use crate::message::{
        Connect, Decoded, Encapsulated, GwInfo, Message, Publish, Register, Subscribe, Unsubscribe,
        WillTopic,
    };
    pub use crate::types::TopicRef;
}

/// One MQTT-SN 1.2 message (§5.4), borrowing from the datagram it was decoded from.
pub type Message<'a> = generic::Message<&'a [u8], &'a str>;
/// What [`Decoder::decode_stream`] found at the start of a byte stream.
pub type Decoded<'a> = generic::Decoded<&'a [u8], &'a str>;
/// The Encapsulated message of a forwarder (§5.5), borrowed.
pub type Encapsulated<'a> = generic::Encapsulated<&'a [u8], &'a str>;
/// GWINFO (§5.4.3), borrowed.
pub type GwInfo<'a> = generic::GwInfo<&'a [u8]>;
/// CONNECT (§5.4.4), borrowed.
pub type Connect<'a> = generic::Connect<&'a str>;
/// The will topic of WILLTOPIC and WILLTOPICUPD, borrowed.
pub type WillTopic<'a> = generic::WillTopic<&'a str>;
/// REGISTER (§5.4.10), borrowed.
pub type Register<'a> = generic::Register<&'a str>;
/// PUBLISH (§5.4.12), borrowed.
pub type Publish<'a> = generic::Publish<&'a [u8], &'a str>;
/// SUBSCRIBE (§5.4.15), borrowed.
pub type Subscribe<'a> = generic::Subscribe<&'a str>;
/// UNSUBSCRIBE (§5.4.17), borrowed.
pub type Unsubscribe<'a> = generic::Unsubscribe<&'a str>;
/// What a PUBLISH, SUBSCRIBE or UNSUBSCRIBE refers to, borrowed.
pub type TopicRef<'a> = generic::TopicRef<&'a str>;

/// The shared form of every message: byte fields are `Bytes`, strings `ByteString`. A
/// message decoded with [`Decoder::decode_bytes`] shares the datagram (no copy, no
/// lifetime, cheap to clone, `Send`).
pub mod shared {
    use crate::generic;
    use mqtt_codec::{ByteString, Bytes};
    /// A message over `Bytes` and `ByteString`.
    pub type Message = generic::Message<Bytes, ByteString>;
    /// What [`Decoder::decode_stream`](crate::Decoder::decode_stream) finds, shared.
    pub type Decoded = generic::Decoded<Bytes, ByteString>;
    /// The Encapsulated message of a forwarder, shared.
    pub type Encapsulated = generic::Encapsulated<Bytes, ByteString>;
    /// GWINFO, shared.
    pub type GwInfo = generic::GwInfo<Bytes>;
    /// CONNECT, shared.
    pub type Connect = generic::Connect<ByteString>;
    /// The will topic of WILLTOPIC and WILLTOPICUPD, shared.
    pub type WillTopic = generic::WillTopic<ByteString>;
    /// REGISTER, shared.
    pub type Register = generic::Register<ByteString>;
    /// PUBLISH, shared.
    pub type Publish = generic::Publish<Bytes, ByteString>;
    /// SUBSCRIBE, shared.
    pub type Subscribe = generic::Subscribe<ByteString>;
    /// UNSUBSCRIBE, shared.
    pub type Unsubscribe = generic::Unsubscribe<ByteString>;
    /// What a PUBLISH, SUBSCRIBE or UNSUBSCRIBE refers to, shared.
    pub type TopicRef = generic::TopicRef<ByteString>;
    pub use mqtt_codec::shared::{Payload, Str, TopicFilter, TopicName};
}
