//! Streams: several valid packets of one level, concatenated, cut at arbitrary points and
//! fed piece by piece into a growing buffer with a decode loop that drains what it
//! consumed, give exactly the packets that decoding the whole buffer at once gives (and
//! those are the packets encoded).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mqtt_codec::{shared, BytesMut, Decoded, Decoder, Packet, Protocol};
use mqtt_integration_tests::strategies::{connect, leveled_packets, packet, protocol};
use mqtt_integration_tests::{decode_all, decoder};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

/// Concatenates the encodings of `packets` at `level`.
fn encode_stream(level: Protocol, packets: &[shared::Packet]) -> Vec<u8> {
    let mut stream = Vec::new();
    for p in packets {
        p.encode(level, &mut stream).expect("valid packet encodes");
    }
    stream
}

/// Sorted, deduplicated cut points in `0..=len`, ending with `len`.
fn cut_points(cuts: &[Index], len: usize) -> Vec<usize> {
    let mut points: Vec<usize> = cuts.iter().map(|i| i.index(len + 1)).collect();
    points.push(len);
    points.sort_unstable();
    points.dedup();
    points
}

/// Feeds `stream` in the pieces `points` delimits into a growing buffer, decoding and
/// draining after each piece; `on_packet` may change the decoder (as a server does after
/// CONNECT). Returns the packets decoded.
fn feed(
    mut d: Decoder,
    stream: &[u8],
    points: &[usize],
    on_packet: impl Fn(&mut Decoder, &Packet<'_>),
) -> Result<Vec<shared::Packet>, TestCaseError> {
    let mut buf: Vec<u8> = Vec::new();
    let mut got = Vec::new();
    let mut fed = 0;
    for &cut in points {
        buf.extend_from_slice(&stream[fed..cut]);
        fed = cut;
        loop {
            match d.decode(&buf) {
                Ok(Decoded::Complete(p, n)) => {
                    prop_assert!(n > 0 && n <= buf.len());
                    on_packet(&mut d, &p);
                    got.push(p.to_shared());
                    buf.drain(..n);
                }
                Ok(Decoded::Partial(need)) => {
                    if let Some(k) = need {
                        // What is missing is still to come from the stream.
                        prop_assert!(k.get() <= stream.len() - fed);
                    }
                    break;
                }
                Err(e) => {
                    return Err(TestCaseError::fail(format!(
                        "decode error {e:?} with {} bytes buffered after {fed} of {} fed",
                        buf.len(),
                        stream.len()
                    )))
                }
            }
        }
    }
    prop_assert!(buf.is_empty(), "{} bytes left over", buf.len());
    Ok(got)
}

/// [`feed`] through the shared decoder: a `BytesMut` read buffer from which each whole
/// packet is split off and frozen, its fields sharing those bytes.
fn feed_bytes(
    mut d: Decoder,
    stream: &[u8],
    points: &[usize],
    on_packet: impl Fn(&mut Decoder, &shared::Packet),
) -> Result<Vec<shared::Packet>, TestCaseError> {
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    let mut fed = 0;
    for &cut in points {
        buf.extend_from_slice(&stream[fed..cut]);
        fed = cut;
        loop {
            match d.decode_bytes_mut(&mut buf) {
                Ok(Some(p)) => {
                    on_packet(&mut d, &p);
                    got.push(p);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(TestCaseError::fail(format!(
                        "shared decode error {e:?} after {fed} of {} fed",
                        stream.len()
                    )))
                }
            }
        }
    }
    prop_assert!(buf.is_empty(), "{} bytes left over", buf.len());
    Ok(got)
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn chunked_stream_decodes_like_whole_buffer(
        (level, packets) in leveled_packets(8),
        cuts in vec(any::<Index>(), 0..16),
    ) {
        let stream = encode_stream(level, &packets);
        let d = decoder(level);
        let whole = decode_all(&d, &stream);
        prop_assert_eq!(&whole, &packets);

        let points = cut_points(&cuts, stream.len());
        let got = feed(d, &stream, &points, |_, _| {})?;
        prop_assert_eq!(&got, &whole);
        let shared = feed_bytes(d, &stream, &points, |_, _| {})?;
        prop_assert_eq!(shared, whole);
    }

    /// Byte by byte, the worst split there is.
    #[test]
    fn byte_by_byte_stream_decodes_like_whole_buffer((level, packets) in leveled_packets(4)) {
        let stream = encode_stream(level, &packets);
        let d = decoder(level);
        let points: Vec<usize> = (0..=stream.len()).collect();
        let got = feed(d, &stream, &points, |_, _| {})?;
        prop_assert_eq!(&got, &packets);
        let shared = feed_bytes(d, &stream, &points, |_, _| {})?;
        prop_assert_eq!(shared, packets);
    }

    /// A server session: the decoder starts at another level, reads the client's CONNECT
    /// (which carries its own level) and switches to that level for what follows.
    #[test]
    fn server_switches_level_after_connect(
        (level, first, rest) in protocol().prop_flat_map(|l| (Just(l), connect(l), vec(packet(l), 0..6))),
        start in protocol(),
        cuts in vec(any::<Index>(), 0..16),
    ) {
        let mut packets = vec![shared::Packet::Connect(first)];
        packets.extend(rest);
        let stream = encode_stream(level, &packets);
        let points = cut_points(&cuts, stream.len());
        let got = feed(decoder(start), &stream, &points, |d, p| {
            if let Packet::Connect(c) = p {
                d.set_protocol(c.protocol);
            }
        })?;
        prop_assert_eq!(&got, &packets);
        let shared = feed_bytes(decoder(start), &stream, &points, |d, p| {
            if let shared::Packet::Connect(c) = p {
                d.set_protocol(c.protocol);
            }
        })?;
        prop_assert_eq!(shared, packets);
    }
}
