//! A sans-IO, `no_std`, zero-copy codec for MQTT 3.1, 3.1.1 and 5.0.
//!
//! Bytes in, typed packets out; packets in, bytes out. The crate never does IO, never
//! allocates to decode, and never panics on any input: malformed bytes give a
//! [`DecodeError`] that says what was wrong, where, and which MQTT 5.0 reason code to
//! answer with.
//!
//! # Decoding a stream
//!
//! ```
//! use mqtt_codec::{Decoded, Decoder, Packet, Protocol};
//!
//! // Bytes as they arrive from a socket: a PUBLISH and the first byte of a PINGREQ.
//! let mut buf: Vec<u8> = vec![0x30, 0x0a, 0x00, 0x03, b'a', b'/', b'b', b'h', b'e', b'l', b'l', b'o', 0xc0];
//! let decoder = Decoder::new(Protocol::V3_1_1).max_packet_size(64 * 1024);
//! let mut seen = Vec::new();
//! loop {
//!     match decoder.decode(&buf)? {
//!         Decoded::Complete(packet, consumed) => {
//!             if let Packet::Publish(p) = &packet {
//!                 seen.push((p.topic.to_string(), p.payload.to_vec()));
//!             }
//!             buf.drain(..consumed);
//!         }
//!         // Read more from the socket; `needed` says how much once the fixed header is in.
//!         Decoded::Partial(needed) => {
//!             if buf == [0xc0] {
//!                 buf.push(0x00); // the rest of the PINGREQ arrives
//!                 continue;
//!             }
//!             assert!(needed.is_none());
//!             break;
//!         }
//!     }
//! }
//! assert_eq!(seen, vec![("a/b".to_string(), b"hello".to_vec())]);
//! # Ok::<(), mqtt_codec::DecodeError>(())
//! ```
//!
//! # Encoding
//!
//! ```
//! use mqtt_codec::{Delivery, PacketId, Packet, Protocol, Publish, TopicName};
//!
//! let mut publish = Publish::new(TopicName::new("sensors/t1")?, &b"21.5"[..]);
//! publish.delivery = Delivery::AtLeastOnce { packet_id: PacketId::new(7).unwrap(), dup: false };
//! let packet = Packet::from(publish);
//!
//! let mut out = Vec::new();
//! let n = packet.encode(Protocol::V5, &mut out)?;
//! assert_eq!(n, packet.encoded_len(Protocol::V5)?);
//! assert_eq!(out[0], 0x32); // PUBLISH, QoS 1
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
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
mod packet;
mod seq;
mod topic;
mod types;
mod wire;

pub use error::{DecodeError, EncodeError, ValueError};
pub use packet::properties::{
    AckProperties, AuthProperties, ConnAckProperties, ConnectProperties, DisconnectProperties,
    MaximumQos, PayloadFormat, Properties, Property, PropertyId, PublishProperties,
    SubscribeProperties, SubscriptionIds, UnsubscribeProperties, UserProperties, UserProperty,
    WillProperties,
};
pub use packet::reason::{
    AuthReason, ConnectReason, DisconnectReason, PubAckReason, PubCompReason, PubRecReason,
    PubRelReason, ReasonCode, SubAckReason, UnsubAckReason,
};
pub use packet::{
    Auth, ConnAck, Connect, Decoded, Decoder, Delivery, Disconnect, Encoder, OwnedPacket, Packet,
    PacketType, PubAck, PubComp, PubRec, PubRel, Publish, PublishAck, Reason, RetainHandling,
    SubAck, Subscribe, Subscription, SubscriptionOptions, UnsubAck, Unsubscribe, Will,
    DEFAULT_MAX_PACKET_SIZE, MAX_PACKET_SIZE,
};
pub use seq::{Iter, Seq, SeqItem};
pub use topic::{matches, SharedFilter, TopicFilter, TopicName};
pub use types::{Bin, InvalidByte, PacketId, Payload, Protocol, QoS, Str, SubscriptionId};
pub use wire::varint::VARINT_MAX;
