//! Arbitrary bytes against the MQTT-SN decoder: random bytes, plausible messages (a valid
//! Length and message type before random fields) and valid encodings damaged by flipping,
//! inserting, deleting or overwriting octets, each through the datagram decoder and
//! `decode_stream`, with the default limits and with small ones (ClientIds of 0, 1 or 3
//! characters, messages of 0, 8 or 64 octets, strict UTF-8). Never a panic, and:
//! - whatever `decode` accepts encodes again, no longer than the input, and decoding that
//!   gives the same message (a fixed point; a second encoding gives the same bytes);
//!   `decode_stream` of the same bytes is `Complete` with that message and every octet;
//! - what `decode_stream` calls complete decodes the same as a datagram of that many
//!   octets; what it calls partial is an error as a datagram, and with the missing count
//!   of octets added it is no longer partial;
//! - an error is stable: the same bytes give the same error again.
//!
//! Case counts: 256 per property by default; `PROPTEST_CASES` overrides it.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mqtt_integration_tests::sn_strategies::encode_vec;
use mqtt_integration_tests::sn_strategies::{message, msg_types};
use mqtt_sn_codec::{Decoded, Decoder, MsgType};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::TestCaseError;

/// The decoders every input goes through, with their message size limits.
fn decoders() -> Vec<Decoder> {
    vec![
        Decoder::new(),
        Decoder::new().strict_utf8(true),
        Decoder::new().client_id_limit(0),
        Decoder::new().client_id_limit(1),
        Decoder::new().client_id_limit(3).max_message_size(8),
        Decoder::new().max_message_size(64).strict_utf8(true),
        Decoder::new().max_message_size(0),
    ]
}

/// What any input must satisfy with one decoder.
fn check(d: &Decoder, bytes: &[u8]) -> Result<(), TestCaseError> {
    // As a datagram.
    match d.decode(bytes) {
        Ok(m) => {
            prop_assert_eq!(&m.to_shared(), &m);
            let mut out = Vec::new();
            if let Err(e) = m.encode(&mut out) {
                return Err(TestCaseError::fail(format!(
                    "decoded {m:?} from {bytes:02x?} with {d:?}, which does not encode: {e:?}"
                )));
            }
            prop_assert_eq!(out.len(), m.encoded_len());
            prop_assert!(
                out.len() <= bytes.len(),
                "{:02x?} re-encodes longer, as {:02x?}",
                bytes,
                out
            );
            match d.decode(&out) {
                Ok(again) => {
                    prop_assert_eq!(&again, &m, "{:02x?} re-encodes as {:02x?}", bytes, out);
                    prop_assert_eq!(encode_vec(&again), out.clone());
                }
                Err(e) => {
                    return Err(TestCaseError::fail(format!(
                        "decoded {m:?} from {bytes:02x?} with {d:?}; re-encoded as {out:02x?}, \
                         which does not decode: {e:?}"
                    )))
                }
            }
            // The same bytes as a stream: that message, every octet.
            {
                match d.decode_stream(bytes) {
                    Ok(Decoded::Complete(q, n)) => {
                        prop_assert_eq!(n, bytes.len());
                        prop_assert_eq!(&q, &m);
                    }
                    other => {
                        return Err(TestCaseError::fail(format!(
                            "{bytes:02x?} decodes as a datagram with {d:?} but as a stream \
                             gives {other:?}"
                        )))
                    }
                }
            }
        }
        Err(e) => prop_assert_eq!(d.decode(bytes), Err(e)),
    }

    // As the start of a stream.
    match d.decode_stream(bytes) {
        Ok(Decoded::Complete(m, n)) => {
            prop_assert!(
                n > 0 && n <= bytes.len(),
                "consumed {} of {}",
                n,
                bytes.len()
            );
            prop_assert_eq!(d.decode(&bytes[..n]), Ok(m));
        }
        Ok(Decoded::Partial(need)) => {
            prop_assert!(
                d.decode(bytes).is_err(),
                "partial as a stream, a message as a datagram: {:02x?}",
                bytes
            );
            if let Some(k) = need {
                let mut more = bytes.to_vec();
                more.resize(bytes.len() + k.get(), 0);
                match d.decode_stream(&more) {
                    Ok(Decoded::Complete(_, n)) => prop_assert_eq!(n, more.len()),
                    Ok(Decoded::Partial(p)) => {
                        return Err(TestCaseError::fail(format!(
                            "{bytes:02x?}: still partial ({p:?}) after the {k} octets asked for"
                        )))
                    }
                    Err(_) => {}
                }
            }
        }
        Err(e) => prop_assert_eq!(d.decode_stream(bytes), Err(e)),
    }
    Ok(())
}

fn check_all(bytes: &[u8]) -> Result<(), TestCaseError> {
    for d in decoders() {
        check(&d, bytes)?;
    }
    Ok(())
}

/// A message type code: mostly a defined one, sometimes any octet.
fn type_code() -> impl Strategy<Value = u8> {
    let codes: Vec<u8> = msg_types().into_iter().map(MsgType::code).collect();
    prop_oneof![4 => select(codes), 1 => any::<u8>()]
}

/// A Length field for a message of `len` octets: the 1-octet form when it fits, else (or
/// when `long`) the 3-octet form.
fn length_field(len: usize, long: bool) -> Vec<u8> {
    if len <= 255 && !long {
        vec![len as u8]
    } else {
        let [hi, lo] = ((len + 2).min(0xffff) as u16).to_be_bytes();
        vec![0x01, hi, lo]
    }
}

/// A plausible message: a Length that matches (or nearly matches) what follows, a type
/// code, random fields, sometimes trailing bytes.
fn plausible_message() -> impl Strategy<Value = Vec<u8>> {
    (
        type_code(),
        prop_oneof![8 => vec(any::<u8>(), 0..40), 1 => vec(any::<u8>(), 0..400)],
        prop_oneof![6 => Just(0i32), 1 => -3i32..=3],
        any::<bool>(),
        prop_oneof![6 => Just(Vec::new()), 1 => vec(any::<u8>(), 1..8)],
    )
        .prop_map(|(code, body, delta, long, trailing)| {
            let len = (body.len() as i32 + 2 + delta).max(0) as usize;
            let mut out = length_field(len, long);
            out.push(code);
            out.extend(body);
            out.extend(trailing);
            out
        })
}

/// A plausible Encapsulated message: an encapsulation header with a random Ctrl octet and
/// node id, then a plausible message (sometimes another Encapsulated header).
fn plausible_encapsulated() -> impl Strategy<Value = Vec<u8>> {
    (
        vec(any::<u8>(), 0..10),
        any::<bool>(),
        prop_oneof![4 => plausible_message(), 1 => Just(vec![0x03, 0xfe, 0x00])],
        prop_oneof![6 => Just(0i32), 1 => -2i32..=2],
    )
        .prop_map(|(node, long, inner, delta)| {
            // Ctrl and the node id are the body of the header.
            let len = (node.len() as i32 + 2 + delta).max(0) as usize;
            let mut out = length_field(len, long);
            out.push(0xfe);
            out.extend(node);
            out.extend(inner);
            out
        })
}

/// How a valid encoding is damaged.
#[derive(Debug, Clone)]
enum Damage {
    FlipBit(Index, u8),
    Overwrite(Index, u8),
    Insert(Index, u8),
    Delete(Index),
    Truncate(Index),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(i, b)| Damage::FlipBit(i, b)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, v)| Damage::Overwrite(i, v)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, v)| Damage::Insert(i, v)),
        any::<Index>().prop_map(Damage::Delete),
        any::<Index>().prop_map(Damage::Truncate),
    ]
}

fn apply(out: &mut Vec<u8>, d: &Damage) {
    match *d {
        Damage::FlipBit(ref i, b) if !out.is_empty() => {
            let at = i.index(out.len());
            out[at] ^= 1 << b;
        }
        Damage::Overwrite(ref i, v) if !out.is_empty() => {
            let at = i.index(out.len());
            out[at] = v;
        }
        Damage::Insert(ref i, v) => {
            let at = i.index(out.len() + 1);
            out.insert(at, v);
        }
        Damage::Delete(ref i) if !out.is_empty() => {
            let at = i.index(out.len());
            out.remove(at);
        }
        Damage::Truncate(ref i) => out.truncate(i.index(out.len() + 1)),
        _ => {}
    }
}

/// A valid message, encoded, then damaged one to three times.
fn damaged() -> impl Strategy<Value = Vec<u8>> {
    (
        message().prop_filter("at most 4 KiB", |m| m.encoded_len() <= 4096),
        vec(damage(), 1..=3),
    )
        .prop_map(|(m, damages)| {
            let mut out = encode_vec(&m);
            for d in &damages {
                apply(&mut out, d);
            }
            out
        })
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn random_bytes_never_panic_and_round_trip(bytes in vec(any::<u8>(), 0..300)) {
        check_all(&bytes)?;
    }

    #[test]
    fn plausible_messages_never_panic_and_round_trip(bytes in plausible_message()) {
        check_all(&bytes)?;
    }

    #[test]
    fn plausible_encapsulated_never_panic_and_round_trip(bytes in plausible_encapsulated()) {
        check_all(&bytes)?;
    }

    #[test]
    fn damaged_messages_never_panic_and_round_trip(bytes in damaged()) {
        check_all(&bytes)?;
    }

    /// Each single flip of one bit of a small valid message.
    #[test]
    fn every_bit_flip_never_panics_and_round_trips(
        m in message().prop_filter("at most 64 octets", |m| m.encoded_len() <= 64),
    ) {
        let out = encode_vec(&m);
        for at in 0..out.len() {
            for bit in 0..8 {
                let mut b = out.clone();
                b[at] ^= 1 << bit;
                check(&Decoder::new(), &b)?;
            }
        }
    }
}

/// Short inputs exhaustively: every input of up to two octets, and every three-octet input
/// that starts with a 3-octet Length prefix or a defined message type.
#[test]
fn all_short_inputs() {
    let mut inputs: Vec<Vec<u8>> = vec![Vec::new()];
    for a in 0..=255u8 {
        inputs.push(vec![a]);
        for b in 0..=255u8 {
            inputs.push(vec![a, b]);
        }
    }
    for b in 0..=255u8 {
        for c in 0..=255u8 {
            inputs.push(vec![0x01, b, c]);
            inputs.push(vec![0x03, b, c]);
        }
    }
    for bytes in &inputs {
        check_all(bytes).unwrap_or_else(|e| panic!("{bytes:02x?}: {e}"));
    }
}
