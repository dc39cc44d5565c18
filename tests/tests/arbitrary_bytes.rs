//! Arbitrary bytes against the decoder, at every level and with the optional checks on and
//! off: it never panics; what it accepts re-encodes, and decode → encode → decode is a
//! fixed point; what it calls partial is consistent with `packet_len`. And every strict
//! prefix of a valid packet is `Partial`, with the exact missing count once the fixed
//! header is complete.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mqtt_codec::{Decoded, Decoder, PacketType, Protocol};
use mqtt_integration_tests::strategies::leveled_packet;
use mqtt_integration_tests::{encode_level, encode_vec, fixed_header_len, PACKET_TYPES, PROTOCOLS};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

/// The decoders every input goes through: each level, default options and all optional
/// checks on.
fn decoders() -> Vec<Decoder> {
    PROTOCOLS
        .iter()
        .flat_map(|&p| {
            [
                Decoder::new(p),
                Decoder::new(p).strict_utf8(true).check_payload_format(true),
            ]
        })
        .collect()
}

/// A Remaining Length in its minimal form, or (when `pad` and there is room) padded to a
/// non-minimal form, which MQTT 3.x tolerates and 5.0 refuses.
fn varint(mut v: u32, pad: bool) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let mut b = (v & 0x7f) as u8;
        v >>= 7;
        if v > 0 {
            b |= 0x80;
        }
        out.push(b);
        if v == 0 {
            break;
        }
    }
    if pad && out.len() < 4 {
        let last = out.len() - 1;
        out[last] |= 0x80;
        out.push(0);
    }
    out
}

/// The first bytes of every packet type with its required flags (PUBLISH with every
/// flag combination).
fn first_bytes() -> Vec<u8> {
    let mut v = Vec::new();
    for ty in PACKET_TYPES {
        match ty.required_flags() {
            Some(f) => v.push(((ty as u8) << 4) | f),
            None => v.extend((0..16).map(|f| ((ty as u8) << 4) | f)),
        }
    }
    v
}

/// A plausible packet: a valid first byte, a Remaining Length that matches (or nearly
/// matches) the random body that follows, sometimes trailing bytes.
fn plausible() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::sample::select(first_bytes()),
        vec(any::<u8>(), 0..300),
        prop_oneof![6 => Just(0i32), 1 => -3i32..=3],
        any::<bool>(),
        vec(any::<u8>(), 0..8),
    )
        .prop_map(|(first, body, delta, pad, trailing)| {
            let len = (body.len() as i32 + delta).max(0) as u32;
            let mut out = vec![first];
            out.extend(varint(len, pad));
            out.extend(body);
            out.extend(trailing);
            out
        })
}

/// A valid packet, encoded, then damaged: a few bytes overwritten, maybe truncated, maybe
/// with bytes inserted.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (
        leveled_packet(),
        vec((any::<Index>(), any::<u8>()), 0..4),
        proptest::option::of(any::<Index>()),
        proptest::option::of((any::<Index>(), vec(any::<u8>(), 1..4))),
    )
        .prop_map(|((level, p), writes, cut, insert)| {
            let mut out = encode_vec(&p, level).expect("valid packet encodes");
            for (at, b) in writes {
                let i = at.index(out.len());
                out[i] = b;
            }
            if let Some((at, bytes)) = insert {
                let i = at.index(out.len() + 1);
                out.splice(i..i, bytes);
            }
            if let Some(at) = cut {
                out.truncate(at.index(out.len() + 1));
            }
            out
        })
}

/// What any input must satisfy with one decoder.
fn check(d: &Decoder, bytes: &[u8]) -> Result<(), TestCaseError> {
    let decoded = d.decode(bytes);
    match decoded {
        Ok(Decoded::Complete(q, n)) => {
            prop_assert!(n <= bytes.len(), "consumed {n} of {} bytes", bytes.len());
            prop_assert_eq!(d.packet_len(bytes), Ok(Some(n)));
            prop_assert_eq!(&q.to_shared(), &q);
            // The shared decoder agrees on anything the borrowed one accepts.
            let frozen = mqtt_codec::Bytes::copy_from_slice(bytes);
            match d.decode_bytes(&frozen) {
                Ok(mqtt_codec::shared::Decoded::Complete(s, m)) => {
                    prop_assert_eq!(m, n);
                    prop_assert_eq!(&s, &q);
                    mqtt_integration_tests::assert_fields_share(&s, &frozen);
                }
                other => prop_assert!(false, "shared decode gave {other:?}"),
            }
            let level = encode_level(&q, d.protocol());
            let len = q.encoded_len(level);
            let out = match encode_vec(&q, level) {
                Ok(out) => out,
                Err(e) => {
                    return Err(TestCaseError::fail(format!(
                        "decoded {q:?} from {:02x?} with {d:?} but encoding it at {level:?} \
                         failed: {e:?}",
                        &bytes[..n]
                    )))
                }
            };
            prop_assert_eq!(len, Ok(out.len()));
            match d.decode(&out) {
                Ok(Decoded::Complete(q2, n2)) => {
                    prop_assert_eq!(n2, out.len());
                    prop_assert_eq!(&q2, &q, "re-encoded as {:02x?}", out);
                    // And the second encoding is the same bytes.
                    let again = encode_vec(&q2, level);
                    prop_assert_eq!(again.as_ref(), Ok(&out));
                }
                other => {
                    return Err(TestCaseError::fail(format!(
                        "decoded {q:?} from {:02x?} with {d:?}; re-encoded as {out:02x?}, \
                         which decodes as {other:?}",
                        &bytes[..n]
                    )))
                }
            }
        }
        Ok(Decoded::Partial(Some(k))) => {
            let total = bytes.len() + k.get();
            prop_assert_eq!(d.packet_len(bytes), Ok(Some(total)));
            // With the missing bytes there, the packet is no longer partial.
            let mut more = bytes.to_vec();
            more.resize(total, 0);
            match d.decode(&more) {
                Ok(Decoded::Complete(_, n)) => prop_assert_eq!(n, total),
                Ok(Decoded::Partial(p)) => {
                    return Err(TestCaseError::fail(format!(
                        "still partial ({p:?}) after the {k} bytes asked for"
                    )))
                }
                Err(_) => {}
            }
        }
        Ok(Decoded::Partial(None)) => {
            prop_assert_eq!(d.packet_len(bytes), Ok(None));
            // The fixed header is incomplete: at most 1 type byte and 3 length bytes.
            prop_assert!(bytes.len() <= 4);
        }
        Err(e) => {
            // An error is stable: the same bytes give the same error.
            prop_assert_eq!(d.decode(bytes), Err(e));
        }
    }
    Ok(())
}

fn check_all(bytes: &[u8]) -> Result<(), TestCaseError> {
    for d in decoders() {
        check(&d, bytes)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn random_bytes_never_panic_and_round_trip(bytes in vec(any::<u8>(), 0..512)) {
        check_all(&bytes)?;
    }

    #[test]
    fn plausible_packets_never_panic_and_round_trip(bytes in plausible()) {
        check_all(&bytes)?;
    }

    #[test]
    fn damaged_packets_never_panic_and_round_trip(bytes in mutated()) {
        check_all(&bytes)?;
    }

    /// Every strict prefix of a valid packet is partial; once the fixed header is in, the
    /// decoder says exactly how many bytes are missing.
    #[test]
    fn prefixes_are_partial_with_exact_missing_count((level, p) in leveled_packet()) {
        let out = encode_vec(&p, level).expect("valid packet encodes");
        let hdr = fixed_header_len(&out).expect("complete fixed header");
        let d = Decoder::new(level).max_packet_size(mqtt_codec::MAX_PACKET_SIZE);
        for i in 0..out.len() {
            let prefix = &out[..i];
            match d.decode(prefix) {
                Ok(Decoded::Partial(None)) => {
                    prop_assert!(i < hdr, "no count with {i} of {} bytes", out.len());
                    prop_assert_eq!(d.packet_len(prefix), Ok(None));
                }
                Ok(Decoded::Partial(Some(k))) => {
                    prop_assert!(i >= hdr, "count {k} before the fixed header is complete");
                    prop_assert_eq!(k.get(), out.len() - i);
                    prop_assert_eq!(d.packet_len(prefix), Ok(Some(out.len())));
                }
                other => {
                    return Err(TestCaseError::fail(format!(
                        "prefix of {i} of {out:02x?} at {level:?} gave {other:?}"
                    )))
                }
            }
        }
        prop_assert!(matches!(d.decode(&out), Ok(Decoded::Complete(_, n)) if n == out.len()));
    }
}

/// AUTH is refused at 3.x from its first byte, before anything else arrives.
#[test]
fn auth_first_byte_is_refused_before_v5() {
    for level in [Protocol::V3_1, Protocol::V3_1_1] {
        let d = Decoder::new(level);
        assert!(d.decode(&[0xf0]).is_err());
    }
    assert_eq!(
        Decoder::new(Protocol::V5).decode(&[0xf0]),
        Ok(Decoded::Partial(None))
    );
    assert_eq!(PacketType::Auth as u8, 0xf);
}
