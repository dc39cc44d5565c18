//! Round trips of valid MQTT-SN 1.2 messages of every type (`sn_strategies`):
//! - `encoded_len` is exact, and the Length field uses the 1-octet form exactly when the
//!   message fits in 255 octets (for an Encapsulated message: the encapsulation header and
//!   the message it carries each by their own length);
//! - decoding the datagram gives the message back (and so does the shared decoder, over
//!   `Bytes`);
//! - `decode_stream` of the bytes is `Complete(message, length)`, also with more bytes after
//!   them; every strict prefix is `Partial` (with the exact missing count once the header is
//!   complete) for `decode_stream`, and an error, never a panic, for datagram decoding;
//! - a buffer one octet short is refused with nothing written;
//! - several messages back to back, fed to `decode_stream` in arbitrary pieces into a
//!   growing buffer, come out as the same messages;
//! - the same message written by hand in the 3-octet Length form (accepted for any length,
//!   §5.2.1) decodes to the same message; an encapsulation header in that form is refused
//!   (§5.5 gives it a one-octet Length).
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
use mqtt_integration_tests::sn_strategies::{header_len, message, message_of, messages, msg_types};
use mqtt_sn_codec::shared::{Message, Publish, TopicRef};
use mqtt_sn_codec::{
    decode, generic, DecodeError, Decoded, Decoder, Delivery, EncodeError, MsgType, TopicId,
    MAX_MESSAGE_LEN,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

const SENTINEL: u8 = 0xa5;

/// The Length field at the start of `b`: (declared length, octets of the field).
fn length_field(b: &[u8]) -> (usize, usize) {
    match b {
        [1, hi, lo, ..] => (usize::from(u16::from_be_bytes([*hi, *lo])), 3),
        [n, ..] => (usize::from(*n), 1),
        [] => panic!("no Length field"),
    }
}

/// Checks the Length field and MsgType of the `len`-octet message of type `ty` at the start
/// of `b`: the 1-octet form iff `len <= 255`.
fn check_header(b: &[u8], len: usize, ty: MsgType) -> Result<(), TestCaseError> {
    if len <= 255 {
        prop_assert_ne!(b[0], 0x01, "short form expected for {} octets", len);
        prop_assert_eq!(usize::from(b[0]), len);
        prop_assert_eq!(b[1], ty.code());
    } else {
        prop_assert_eq!(b[0], 0x01, "3-octet form expected for {} octets", len);
        prop_assert_eq!(usize::from(u16::from_be_bytes([b[1], b[2]])), len);
        prop_assert_eq!(b[3], ty.code());
    }
    Ok(())
}

/// Octets of `b` (a valid encoding) that `decode_stream` needs before it can say how long
/// the whole frame is: Length and MsgType, and for an Encapsulated message also the inner
/// message's Length field.
fn header_complete_at(b: &[u8]) -> usize {
    let (declared, octets) = length_field(b);
    if b[octets] == MsgType::Encapsulated.code() {
        declared + length_field(&b[declared..]).1
    } else {
        octets + 1
    }
}

/// The prefix lengths to try: all of them for messages up to 2 KiB, else both ends and a
/// sample of the middle.
fn prefix_lengths(n: usize) -> Vec<usize> {
    if n <= 2048 {
        (0..n).collect()
    } else {
        (0..512)
            .chain((512..n - 512).step_by(997))
            .chain(n - 512..n)
            .collect()
    }
}

/// The round-trip property for one message.
fn round_trip(m: &Message) -> Result<(), TestCaseError> {
    let n = m.encoded_len();
    let mut out = Vec::new();
    prop_assert_eq!(m.encode(&mut out), Ok(n));
    prop_assert_eq!(out.len(), n);

    // The Length forms.
    match m {
        generic::Message::Encapsulated(e) => {
            let header = 3 + e.node_id.len();
            let header_total = header_len(header - 2) + header - 2;
            check_header(&out, header_total, MsgType::Encapsulated)?;
            let inner = &out[header_total..];
            prop_assert_eq!(inner.len(), e.message.encoded_len());
            check_header(inner, inner.len(), e.message.msg_type())?;
            let alone = encode_vec(&e.message);
            prop_assert_eq!(inner, alone.as_slice());
        }
        _ => check_header(&out, n, m.msg_type())?,
    }

    // As a datagram.
    match decode(&out) {
        Ok(q) => {
            prop_assert_eq!(&q, m);
            prop_assert_eq!(q.msg_type(), m.msg_type());
            prop_assert_eq!(&q.to_shared(), m);
            let frozen = mqtt_codec::Bytes::from(out.clone());
            prop_assert_eq!(&Decoder::new().decode_bytes(&frozen).unwrap(), m);
        }
        Err(e) => {
            return Err(TestCaseError::fail(format!(
                "{m:?} encodes as {out:02x?}, which does not decode: {e:?}"
            )))
        }
    }

    // As a stream, alone and with more bytes after it.
    let d = Decoder::new();
    match d.decode_stream(&out) {
        Ok(Decoded::Complete(q, k)) => {
            prop_assert_eq!(k, n);
            prop_assert_eq!(&q, m);
        }
        other => {
            return Err(TestCaseError::fail(format!(
                "decode_stream of {m:?} gave {other:?}"
            )))
        }
    }
    let mut more = out.clone();
    more.extend_from_slice(&[0x02, 0x17, 0x03]);
    match d.decode_stream(&more) {
        Ok(Decoded::Complete(q, k)) => {
            prop_assert_eq!(k, n);
            prop_assert_eq!(&q, m);
        }
        other => {
            return Err(TestCaseError::fail(format!(
                "decode_stream of {m:?} with more bytes after it gave {other:?}"
            )))
        }
    }

    // Strict prefixes: partial as a stream, an error as a datagram.
    let ready = header_complete_at(&out);
    for i in prefix_lengths(n) {
        let prefix = &out[..i];
        match d.decode_stream(prefix) {
            Ok(Decoded::Partial(None)) => {
                prop_assert!(i < ready, "no count with {} of {} octets", i, n);
            }
            Ok(Decoded::Partial(Some(k))) => {
                prop_assert!(i >= ready, "a count ({}) with {} of {} octets", k, i, n);
                prop_assert_eq!(k.get(), n - i, "missing count with {} of {} octets", i, n);
            }
            other => {
                return Err(TestCaseError::fail(format!(
                    "prefix of {i} of {n} octets of {m:?}: decode_stream gave {other:?}"
                )))
            }
        }
        if let Ok(q) = decode(prefix) {
            return Err(TestCaseError::fail(format!(
                "prefix of {i} of {n} octets of {m:?} decodes as a datagram: {q:?}"
            )));
        }
    }

    // Into a slice with exactly the room needed: the same bytes; one octet short: refused
    // with nothing written.
    let mut exact = vec![SENTINEL; n];
    let mut slice: &mut [u8] = &mut exact;
    prop_assert_eq!(m.encode(&mut slice), Ok(n));
    prop_assert!(slice.is_empty());
    prop_assert_eq!(&exact, &out);
    let mut short = vec![SENTINEL; n - 1];
    let mut slice: &mut [u8] = &mut short;
    prop_assert_eq!(
        m.encode(&mut slice),
        Err(EncodeError::BufferTooSmall {
            needed: n,
            available: n - 1
        })
    );
    prop_assert!(short.iter().all(|&b| b == SENTINEL));
    Ok(())
}

/// The 1-octet-Length message at the start of `b` rewritten in the 3-octet form (its
/// Length grows by 2); a message already in that form is returned unchanged.
fn to_long_form(b: &[u8]) -> Vec<u8> {
    if b[0] == 0x01 {
        return b.to_vec();
    }
    let [hi, lo] = (u16::from(b[0]) + 2).to_be_bytes();
    let mut out = vec![0x01, hi, lo];
    out.extend_from_slice(&b[1..]);
    out
}

/// The encoding of `m` with the 3-octet Length form by hand: for an Encapsulated message,
/// the message it carries (the encapsulation header itself has a one-octet Length, §5.5;
/// see [`long_encapsulation_headers`]).
fn long_forms(m: &Message) -> Vec<Vec<u8>> {
    let out = encode_vec(m);
    match m {
        Message::Encapsulated(_) => {
            let (declared, _) = length_field(&out);
            let (head, inner) = out.split_at(declared);
            vec![[head, to_long_form(inner).as_slice()].concat()]
        }
        _ => vec![to_long_form(&out)],
    }
}

/// For an Encapsulated message: its encoding with the encapsulation header rewritten in
/// the 3-octet Length form, alone and with the carried message in that form too.
fn long_encapsulation_headers(m: &Message) -> Vec<Vec<u8>> {
    let out = encode_vec(m);
    let Message::Encapsulated(_) = m else {
        return Vec::new();
    };
    let (declared, _) = length_field(&out);
    let (head, inner) = out.split_at(declared);
    let long_head = to_long_form(head);
    vec![
        [long_head.as_slice(), inner].concat(),
        [long_head, to_long_form(inner)].concat(),
    ]
}

/// Splits `stream` at `points` and feeds the pieces into a growing buffer, decoding and
/// draining after each piece. Returns the messages decoded.
fn feed(stream: &[u8], points: &[usize]) -> Result<Vec<Message>, TestCaseError> {
    let d = Decoder::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut got = Vec::new();
    let mut fed = 0;
    for &cut in points {
        buf.extend_from_slice(&stream[fed..cut]);
        fed = cut;
        loop {
            match d.decode_stream(&buf) {
                Ok(Decoded::Complete(m, n)) => {
                    prop_assert!(n > 0 && n <= buf.len());
                    got.push(m.to_shared());
                    buf.drain(..n);
                }
                Ok(Decoded::Partial(need)) => {
                    if let Some(k) = need {
                        // What is missing is still to come.
                        prop_assert!(k.get() <= stream.len() - fed);
                    }
                    break;
                }
                Err(e) => {
                    return Err(TestCaseError::fail(format!(
                        "decode error {e:?} with {} octets buffered after {fed} of {} fed",
                        buf.len(),
                        stream.len()
                    )))
                }
            }
        }
    }
    prop_assert!(buf.is_empty(), "{} octets left over", buf.len());
    Ok(got)
}

/// Sorted, deduplicated cut points in `0..=len`, ending with `len`.
fn cut_points(cuts: &[Index], len: usize) -> Vec<usize> {
    let mut points: Vec<usize> = cuts.iter().map(|i| i.index(len + 1)).collect();
    points.push(len);
    points.sort_unstable();
    points.dedup();
    points
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    /// Any message, each type equally likely.
    #[test]
    fn any_message_round_trips(m in message()) {
        round_trip(&m)?;
    }

    /// Every type on its own, so that each gets its share of cases.
    #[test]
    fn every_type_round_trips(ms in msg_types().into_iter().map(message_of).collect::<Vec<_>>()) {
        for m in &ms {
            round_trip(m)?;
        }
    }

    /// The 3-octet Length form is accepted for any length (but the encapsulation
    /// header's): written by hand, the same message comes back, from a datagram and from
    /// a stream.
    #[test]
    fn three_octet_length_form_decodes_to_the_same_message(m in message()) {
        for b in long_forms(&m) {
            match decode(&b) {
                Ok(q) => prop_assert_eq!(&q, &m, "from {:02x?}", b),
                Err(e) => return Err(TestCaseError::fail(format!(
                    "{m:?} in the 3-octet form {b:02x?} does not decode: {e:?}"
                ))),
            }
            match Decoder::new().decode_stream(&b) {
                Ok(Decoded::Complete(q, n)) => {
                    prop_assert_eq!(n, b.len());
                    prop_assert_eq!(&q, &m);
                }
                other => return Err(TestCaseError::fail(format!(
                    "decode_stream of {m:?} in the 3-octet form gave {other:?}"
                ))),
            }
        }
    }

    /// §5.5: the encapsulation header's Length is one octet; the 3-octet form of it is
    /// refused, from a datagram and from a stream, whatever it carries.
    #[test]
    fn s5_5_encapsulation_header_in_the_3_octet_form_is_refused(m in message()) {
        for b in long_encapsulation_headers(&m) {
            prop_assert_eq!(decode(&b), Err(DecodeError::LongEncapsulationLength));
            prop_assert_eq!(
                Decoder::new().decode_stream(&b),
                Err(DecodeError::LongEncapsulationLength)
            );
        }
    }

    /// Several messages back to back, fed in arbitrary pieces.
    #[test]
    fn chunked_stream_gives_the_same_messages(
        ms in messages(8),
        cuts in vec(any::<Index>(), 0..16),
    ) {
        let stream: Vec<u8> = ms.iter().flat_map(encode_vec).collect();
        let points = cut_points(&cuts, stream.len());
        let got = feed(&stream, &points)?;
        prop_assert_eq!(got, ms);
    }

    /// Octet by octet, the worst split there is (small messages only, to stay quick).
    #[test]
    fn octet_by_octet_stream_gives_the_same_messages(
        ms in vec(message().prop_filter("small", |m| m.encoded_len() <= 512), 1..5),
    ) {
        let stream: Vec<u8> = ms.iter().flat_map(encode_vec).collect();
        let points: Vec<usize> = (0..=stream.len()).collect();
        let got = feed(&stream, &points)?;
        prop_assert_eq!(got, ms);
    }
}

fn publish_with(payload: usize) -> Message {
    Message::Publish(Publish {
        dup: false,
        retain: false,
        delivery: Delivery::AtMostOnce,
        topic: TopicRef::Registered(TopicId(1)),
        payload: vec![0x5a; payload].into(),
    })
}

/// PUBLISH messages on each side of the Length boundaries: 255 octets is the last of the
/// 1-octet form, 256 needs the 3-octet form (258 octets with it), 65,535 is the largest
/// message and one more octet is refused.
#[test]
fn length_boundaries() {
    // Header (2) + Flags, TopicId, MsgId (5) + data.
    for (data, total, long) in [(246, 253, false), (248, 255, false), (249, 258, true)] {
        let m = publish_with(data);
        assert_eq!(m.encoded_len(), total, "{data} octets of data");
        let out = encode_vec(&m);
        assert_eq!(out.len(), total);
        assert_eq!(out[0] == 0x01, long, "{data} octets of data");
        assert_eq!(decode(&out).unwrap(), m);
    }
    let max = publish_with(MAX_MESSAGE_LEN - 4 - 5);
    assert_eq!(max.encoded_len(), MAX_MESSAGE_LEN);
    let out = encode_vec(&max);
    assert_eq!(out[..4], [0x01, 0xff, 0xff, 0x0c]);
    assert_eq!(decode(&out).unwrap(), max);
    let over = publish_with(MAX_MESSAGE_LEN - 4 - 5 + 1);
    let mut buf = Vec::new();
    assert!(matches!(
        over.encode(&mut buf),
        Err(EncodeError::TooLong {
            msg: MsgType::Publish,
            ..
        })
    ));
    assert!(buf.is_empty());
}

/// The smallest messages in the 3-octet form: a 2-octet PINGREQ written as
/// `01 00 04 16`, and the same inside an Encapsulated message (whose own header keeps the
/// one-octet Length, §5.5).
#[test]
fn three_octet_form_of_the_smallest_messages() {
    assert_eq!(
        decode(&[0x01, 0x00, 0x04, 0x16]),
        Ok(generic::Message::PingReq(None))
    );
    assert_eq!(
        Decoder::new().decode_stream(&[0x01, 0x00, 0x04, 0x17, 0xff]),
        Ok(Decoded::Complete(generic::Message::PingResp, 4))
    );
    let generic::Message::Encapsulated(e) =
        decode(&[0x04, 0xfe, 0x02, 0x07, 0x01, 0x00, 0x04, 0x16]).unwrap()
    else {
        panic!("not an Encapsulated message")
    };
    assert_eq!(e.ctrl.radius(), 2);
    assert_eq!(e.node_id.as_bytes(), [0x07]);
    assert_eq!(*e.message, Message::PingReq(None));
}

/// Datagram and stream decoding apply the message size limit the same way to an
/// Encapsulated message: whatever one accepts, the other accepts too. Two frames: one of
/// 65,540 octets in all (a 5-octet encapsulation header and a 65,535-octet PUBLISH) with the
/// default decoder, and one of 5 + 40 octets with a 40-octet limit.
/// Both hold each of the two messages (the encapsulation header and the message carried)
/// to the limit, so a forwarder can wrap the longest message there is.
#[test]
fn encapsulated_size_limit_agrees_between_datagram_and_stream() {
    use mqtt_sn_codec::shared::Encapsulated;
    use mqtt_sn_codec::Ctrl;
    let wrap = |inner: Message| {
        Message::Encapsulated(Encapsulated {
            ctrl: Ctrl(0),
            node_id: vec![0x12, 0x34].into(),
            message: Box::new(inner),
        })
    };
    let cases = [
        (Decoder::new(), wrap(publish_with(MAX_MESSAGE_LEN - 4 - 5))),
        (
            Decoder::new().max_message_size(40),
            wrap(publish_with(40 - 2 - 5)),
        ),
    ];
    for (d, m) in cases {
        let out = encode_vec(&m);
        let datagram = d.decode(&out);
        let stream = d.decode_stream(&out);
        assert_eq!(
            datagram.is_ok(),
            matches!(stream, Ok(Decoded::Complete(_, n)) if n == out.len()),
            "{} octets with {d:?}: as a datagram {:?}, as a stream {:?}",
            out.len(),
            datagram.map(|m| m.msg_type()),
            stream.map(|_| ())
        );
    }
}
