//! Round trips of valid packets: for every packet type at every level that has it,
//! `encoded_len` is exact, decoding the encoding gives the packet back (in the borrowed
//! form, and in the shared form whose every field is a slice of the decoded buffer), and a
//! buffer one byte short is refused untouched.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mqtt_codec::{shared, Bytes, Decoded, EncodeError, Packet, PacketType, Protocol};
use mqtt_integration_tests::strategies::{leveled_packet, leveled_packet_of};
use mqtt_integration_tests::{assert_fields_share, decoder, encode_vec};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const SENTINEL: u8 = 0xa5;

/// The round-trip property for one packet at one level.
fn round_trip(level: Protocol, p: &shared::Packet) -> Result<(), TestCaseError> {
    // CONNECT is generated at `level` itself.
    if let shared::Packet::Connect(c) = p {
        prop_assert_eq!(c.protocol, level);
    }
    let n = p.encoded_len(level).expect("valid packet has a length");

    let mut out = Vec::new();
    let written = p.encode(level, &mut out).expect("valid packet encodes");
    prop_assert_eq!(written, n);
    prop_assert_eq!(out.len(), n);

    match decoder(level).decode(&out) {
        Ok(Decoded::Complete(q, m)) => {
            prop_assert_eq!(m, n);
            prop_assert_eq!(&q, p);
            prop_assert_eq!(q.packet_type(), p.packet_type());
            // A copy into the shared form, and the borrowed view of that, are the packet.
            let copied = q.to_shared();
            prop_assert_eq!(&copied, p);
            prop_assert_eq!(&copied.view(), p);
        }
        other => {
            return Err(TestCaseError::fail(format!(
                "decoding {out:02x?} at {level:?} gave {other:?}"
            )))
        }
    }

    // The shared decoder: the same packet, every field a slice of the buffer.
    let frozen = Bytes::from(out.clone());
    match decoder(level).decode_bytes(&frozen) {
        Ok(shared::Decoded::Complete(q, m)) => {
            prop_assert_eq!(m, n);
            prop_assert_eq!(&q, p);
            assert_fields_share(&q, &frozen);
        }
        other => {
            return Err(TestCaseError::fail(format!(
                "decoding {out:02x?} at {level:?} gave {other:?}"
            )))
        }
    }

    // Into a slice with exactly the room needed: the same bytes.
    let mut exact = vec![SENTINEL; n];
    let mut slice: &mut [u8] = &mut exact;
    prop_assert_eq!(p.encode(level, &mut slice), Ok(n));
    prop_assert!(slice.is_empty());
    prop_assert_eq!(&exact, &out);

    // One byte short: BufferTooSmall and the slice untouched.
    let mut short = vec![SENTINEL; n - 1];
    let mut slice: &mut [u8] = &mut short;
    prop_assert_eq!(
        p.encode(level, &mut slice),
        Err(EncodeError::BufferTooSmall {
            needed: n,
            available: n - 1
        })
    );
    prop_assert!(short.iter().all(|&b| b == SENTINEL));
    Ok(())
}

/// The same bytes through `encode_vec`, for the packet type check of the first byte.
fn first_byte_type(level: Protocol, p: &shared::Packet) -> Result<(), TestCaseError> {
    let out = encode_vec(p, level).expect("valid packet encodes");
    prop_assert_eq!(out[0] >> 4, p.packet_type() as u8);
    Ok(())
}

macro_rules! round_trip_tests {
    ($($name:ident => $ty:ident),* $(,)?) => {
        proptest! {
            #![proptest_config(ProptestConfig::default())]
            $(
                #[test]
                fn $name((level, p) in leveled_packet_of(PacketType::$ty)) {
                    round_trip(level, &p)?;
                    first_byte_type(level, &p)?;
                }
            )*
        }
    };
}

round_trip_tests! {
    connect_round_trips => Connect,
    connack_round_trips => ConnAck,
    publish_round_trips => Publish,
    puback_round_trips => PubAck,
    pubrec_round_trips => PubRec,
    pubrel_round_trips => PubRel,
    pubcomp_round_trips => PubComp,
    subscribe_round_trips => Subscribe,
    suback_round_trips => SubAck,
    unsubscribe_round_trips => Unsubscribe,
    unsuback_round_trips => UnsubAck,
    pingreq_round_trips => PingReq,
    pingresp_round_trips => PingResp,
    disconnect_round_trips => Disconnect,
    auth_round_trips => Auth,
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    /// Any packet at any level, drawn from the union of all types.
    #[test]
    fn any_packet_round_trips((level, p) in leveled_packet()) {
        round_trip(level, &p)?;
    }
}

/// PUBLISH packets whose Remaining Length sits on each side of every variable byte integer
/// boundary: the length is exact, the fixed header has the expected size, and the packet
/// comes back.
#[test]
fn remaining_length_boundaries_round_trip() {
    use mqtt_codec::{Decoder, Publish, TopicName, DEFAULT_MAX_PACKET_SIZE};
    let topic = "a/b";
    for level in mqtt_integration_tests::PROTOCOLS {
        // Topic (2 + 3 bytes), and at 5.0 an empty property block (1 byte).
        let overhead = 2 + topic.len() + usize::from(level.is_v5());
        for (remaining, header) in [
            (127usize, 2usize),
            (128, 3),
            (16_383, 3),
            (16_384, 4),
            (2_097_151, 4),
            (2_097_152, 5),
        ] {
            let payload = vec![0x5au8; remaining - overhead];
            let p = Packet::Publish(Publish::new(TopicName::new(topic).unwrap(), &payload[..]));
            let n = p.encoded_len(level).unwrap();
            assert_eq!(n, header + remaining, "{level:?} remaining {remaining}");
            let out = encode_vec(&p, level).unwrap();
            assert_eq!(out.len(), n);
            assert_eq!(mqtt_integration_tests::fixed_header_len(&out), Some(header));
            match decoder(level).decode(&out) {
                Ok(Decoded::Complete(q, m)) => {
                    assert_eq!(m, n);
                    assert_eq!(q, p);
                }
                other => panic!("{level:?} remaining {remaining}: {other:?}"),
            }
            // Over the default maximum: refused from the fixed header alone.
            if n > DEFAULT_MAX_PACKET_SIZE as usize {
                assert!(Decoder::new(level).decode(&out[..header]).is_err());
            }
        }
    }
}

/// PINGREQ and PINGRESP are two bytes at every level.
#[test]
fn ping_is_two_bytes_everywhere() {
    for level in mqtt_integration_tests::PROTOCOLS {
        assert_eq!(encode_vec(&Packet::PingReq, level).unwrap(), [0xc0, 0x00]);
        assert_eq!(encode_vec(&Packet::PingResp, level).unwrap(), [0xd0, 0x00]);
    }
}
