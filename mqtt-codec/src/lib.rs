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
//! # Keeping packets: the shared form
//!
//! A packet decoded from a `BytesMut` read buffer owns its bytes without a copy: its fields
//! are slices of the buffer's frozen bytes (see [`storage`]), so it can be kept, queued or
//! sent to another thread while reading goes on.
//!
//! ```
//! use mqtt_codec::{shared, BytesMut, Decoder, Protocol};
//!
//! let mut input = BytesMut::from(&[0x30, 0x07, 0x00, 0x03, b'a', b'/', b'b', b'h', b'i'][..]);
//! let decoder = Decoder::new(Protocol::V3_1_1);
//! let mut kept: Vec<shared::Publish> = Vec::new();
//! while let Some(packet) = decoder.decode_bytes_mut(&mut input)? {
//!     if let shared::Packet::Publish(p) = packet {
//!         kept.push(p);
//!     }
//! }
//! drop(input); // the read buffer can go: the packets hold what they need
//! assert_eq!(kept[0].topic.as_str(), "a/b");
//! assert_eq!(&kept[0].payload[..], b"hi");
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

pub mod broker;
mod error;
mod packet;
mod seq;
pub mod session;
pub mod storage;
mod time;
#[cfg(feature = "tokio-util")]
pub mod tokio_codec;
mod topic;
mod types;
mod wire;

pub use bytes::{Bytes, BytesMut};
pub use bytestring::ByteString;
pub use error::{DecodeError, EncodeError, ValueError};
pub use packet::properties::{
    MaximumQos, PayloadFormat, Properties, Property, PropertyId, SubscriptionIds, UserProperties,
    UserProperty,
};
pub use packet::reason::{
    AuthReason, ConnectReason, DisconnectReason, PubAckReason, PubCompReason, PubRecReason,
    PubRelReason, ReasonCode, SubAckReason, UnsubAckReason,
};
pub use packet::{
    Decoder, Delivery, Encoder, PacketType, Reason, RetainHandling, SubscriptionOptions,
    DEFAULT_MAX_PACKET_SIZE, MAX_PACKET_SIZE,
};
pub use seq::{Iter, SeqItem};
pub use storage::{Storage, StrStorage};
pub use time::Instant;
pub use topic::{matches, SharedFilter};
pub use types::{InvalidByte, PacketId, Protocol, QoS, SubscriptionId};
pub use wire::varint::VARINT_MAX;

/// Every packet type, defined once over its storage: `B` for byte fields, `T` for strings
/// (see [`Storage`] and [`StrStorage`]).
///
/// The crate root names the borrowed form (`Publish<'a>` is `generic::Publish<&'a [u8],
/// &'a str>`), [`shared`] the shared one (`shared::Publish` is
/// `generic::Publish<Bytes, ByteString>`). Their fields and methods are documented here.
pub mod generic {
    pub use crate::packet::properties::{
        AckProperties, AuthProperties, ConnAckProperties, ConnectProperties, DisconnectProperties,
        PublishProperties, SubscribeProperties, UnsubscribeProperties, WillProperties,
    };
    pub use crate::packet::{
        Auth, ConnAck, Connect, Decoded, Disconnect, Packet, PubAck, PubComp, PubRec, PubRel,
        Publish, PublishAck, SubAck, Subscribe, Subscription, UnsubAck, Unsubscribe, Will,
    };
    pub use crate::seq::Seq;
    pub use crate::topic::{TopicFilter, TopicName};
    pub use crate::types::{Bin, Payload, Str};
}

macro_rules! forms {
    ($($(#[$m:meta])* $name:ident [$($bt:tt)*];)*) => {
        $( forms!(@borrowed $(#[$m])* $name [$($bt)*]); )*

        /// The shared form of every packet type: byte fields are [`Bytes`], strings
        /// [`ByteString`]. A packet decoded with [`Decoder::decode_bytes`] shares the
        /// receive buffer (no copy, no lifetime, cheap to clone, `Send`); one built by hand
        /// owns what it was given (a `String` or `Vec<u8>` becomes the storage without a
        /// copy). Fields and methods: [`generic`].
        pub mod shared {
            use crate::{generic, Bytes, ByteString};
            $( forms!(@shared $name [$($bt)*]); )*
            /// Any publish acknowledgement, by its reason code type, over `Bytes`.
            pub type PublishAck<R> = generic::PublishAck<Bytes, R>;
            /// A list kept as its wire bytes, over `Bytes`.
            pub type Seq<I> = generic::Seq<Bytes, I>;
        }
    };
    (@borrowed $(#[$m:meta])* $name:ident [BT]) => {
        $(#[$m])*
        ///
        /// The borrowed form: fields point into the buffer the packet was decoded from (or
        /// into the caller's values). [`shared`] has the form that owns its bytes.
        pub type $name<'a> = generic::$name<&'a [u8], &'a str>;
    };
    (@borrowed $(#[$m:meta])* $name:ident [B]) => {
        $(#[$m])*
        ///
        /// The borrowed form; [`shared`] has the form that owns its bytes.
        pub type $name<'a> = generic::$name<&'a [u8]>;
    };
    (@borrowed $(#[$m:meta])* $name:ident [T]) => {
        $(#[$m])*
        ///
        /// The borrowed form; [`shared`] has the form that owns its bytes.
        pub type $name<'a> = generic::$name<&'a str>;
    };
    (@shared $name:ident [BT]) => {
        #[doc = concat!("[`generic::", stringify!($name), "`] over `Bytes` and `ByteString`.")]
        pub type $name = generic::$name<Bytes, ByteString>;
    };
    (@shared $name:ident [B]) => {
        #[doc = concat!("[`generic::", stringify!($name), "`] over `Bytes`.")]
        pub type $name = generic::$name<Bytes>;
    };
    (@shared $name:ident [T]) => {
        #[doc = concat!("[`generic::", stringify!($name), "`] over `ByteString`.")]
        pub type $name = generic::$name<ByteString>;
    };
}

forms! {
    /// Any control packet.
    Packet [BT];
    /// What [`Decoder::decode`] found at the start of the buffer.
    Decoded [BT];
    /// CONNECT.
    Connect [BT];
    /// The Will of a CONNECT.
    Will [BT];
    /// CONNACK.
    ConnAck [B];
    /// PUBLISH.
    Publish [BT];
    /// SUBSCRIBE.
    Subscribe [BT];
    /// One subscription of a SUBSCRIBE.
    Subscription [T];
    /// SUBACK.
    SubAck [B];
    /// UNSUBSCRIBE.
    Unsubscribe [BT];
    /// UNSUBACK.
    UnsubAck [B];
    /// DISCONNECT.
    Disconnect [B];
    /// AUTH.
    Auth [B];
    /// A UTF-8 Encoded String.
    Str [T];
    /// Binary Data.
    Bin [B];
    /// An application message.
    Payload [B];
    /// A Topic Name.
    TopicName [T];
    /// A Topic Filter.
    TopicFilter [T];
    /// CONNECT properties.
    ConnectProperties [B];
    /// Will properties.
    WillProperties [B];
    /// CONNACK properties.
    ConnAckProperties [B];
    /// PUBLISH properties.
    PublishProperties [B];
    /// Properties of the publish acknowledgements, SUBACK and UNSUBACK.
    AckProperties [B];
    /// SUBSCRIBE properties.
    SubscribeProperties [B];
    /// UNSUBSCRIBE properties.
    UnsubscribeProperties [B];
    /// DISCONNECT properties.
    DisconnectProperties [B];
    /// AUTH properties.
    AuthProperties [B];
    /// PUBACK: QoS 1 publish acknowledgement (§3.4).
    PubAck [B];
    /// PUBREC: QoS 2 publish received, part 1 (§3.5).
    PubRec [B];
    /// PUBREL: QoS 2 publish release, part 2 (§3.6).
    PubRel [B];
    /// PUBCOMP: QoS 2 publish complete, part 3 (§3.7).
    PubComp [B];
}

/// Any publish acknowledgement, by its reason code type. The borrowed form.
pub type PublishAck<'a, R> = generic::PublishAck<&'a [u8], R>;
/// A list kept as its wire bytes. The borrowed form.
pub type Seq<'a, I> = generic::Seq<&'a [u8], I>;

/// An owned packet that shares its bytes: [`shared::Packet`].
pub type OwnedPacket = shared::Packet;
