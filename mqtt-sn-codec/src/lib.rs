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

mod error;
mod message;
mod types;
mod wire;

#[cfg(test)]
mod tests;

pub use error::{DecodeError, EncodeError};
pub use message::{
    decode, Advertise, Connect, Decoded, Decoder, Delivery, Encapsulated, GwInfo, Message, PubAck,
    Publish, RegAck, Register, SearchGw, SubAck, Subscribe, Unsubscribe, WillTopic, PROTOCOL_ID,
};
pub use mqtt_codec::{Payload, Str, TopicFilter, TopicName, ValueError};
pub use types::{
    Ctrl, MsgId, MsgType, QoS, ReturnCode, ShortTopic, TopicId, TopicIdType, TopicRef,
};
pub use wire::MAX_MESSAGE_LEN;
