//! Arbitrary bytes at each protocol level, decoded one-shot and as a stream fed in
//! arbitrary pieces: decoding never panics; both ways give the same packets; whatever
//! decodes re-encodes to bytes that decode to the same packet; `Partial(Some(n))` is exact.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mqtt_codec::{Decoded, Decoder, Packet, Protocol, MAX_PACKET_SIZE};

fn level_of(b: u8) -> Protocol {
    match b % 3 {
        0 => Protocol::V3_1,
        1 => Protocol::V3_1_1,
        _ => Protocol::V5,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let Some((&cuts, data)) = rest.split_first() else {
        return;
    };
    let protocol = level_of(ctl);
    let decoder = Decoder::new(protocol)
        .max_packet_size(if ctl & 0x80 != 0 { 4096 } else { MAX_PACKET_SIZE })
        .strict_utf8(ctl & 0x40 != 0)
        .check_payload_format(ctl & 0x20 != 0);

    // One shot: every packet from the front, until an error or a partial.
    let mut whole = Vec::new();
    let mut at = 0;
    let end_state = loop {
        match decoder.decode(&data[at..]) {
            Ok(Decoded::Complete(packet, used)) => {
                assert!(used > 0 && at + used <= data.len());
                check_reencode(&decoder, &packet, used);
                whole.push(packet);
                at += used;
            }
            Ok(Decoded::Partial(need)) => {
                if let Some(n) = need.filter(|n| n.get() <= 1 << 16) {
                    // Exactly n more bytes make the packet complete (or an error): never
                    // still partial.
                    let mut more = data[at..].to_vec();
                    more.resize(more.len() + n.get(), 0);
                    assert!(!matches!(decoder.decode(&more), Ok(Decoded::Partial(_))));
                }
                break None;
            }
            Err(e) => break Some(e),
        }
    };

    // Streamed: the same bytes in pieces whose sizes come from `cuts`.
    let mut buf: Vec<u8> = Vec::new();
    let mut streamed = Vec::new();
    let mut fed = 0;
    let mut step = (cuts as usize % 7) + 1;
    let mut stream_err = None;
    // Half the inputs go through the shared decoder, a `BytesMut` read buffer from which
    // whole packets are split off.
    let shared = cuts & 0x80 != 0;
    let mut bytes_buf = bytes::BytesMut::new();
    'feed: while fed < data.len() {
        let n = step.min(data.len() - fed);
        buf.extend_from_slice(&data[fed..fed + n]);
        bytes_buf.extend_from_slice(&data[fed..fed + n]);
        fed += n;
        step = (step * 5 + 3) % 11 + 1;
        loop {
            if shared {
                match decoder.decode_bytes_mut(&mut bytes_buf) {
                    Ok(Some(packet)) => streamed.push(packet),
                    Ok(None) => break,
                    Err(e) => {
                        stream_err = Some(e);
                        break 'feed;
                    }
                }
                continue;
            }
            match decoder.decode(&buf) {
                Ok(Decoded::Complete(packet, used)) => {
                    streamed.push(packet.to_shared());
                    buf.drain(..used);
                }
                Ok(Decoded::Partial(_)) => break,
                Err(e) => {
                    stream_err = Some(e);
                    break 'feed;
                }
            }
        }
    }
    assert_eq!(streamed.len(), whole.len());
    for (a, b) in streamed.iter().zip(&whole) {
        assert_eq!(a, b);
    }
    assert_eq!(stream_err, end_state);
});

fn check_reencode(decoder: &Decoder, packet: &Packet<'_>, used: usize) {
    let level = match packet {
        Packet::Connect(c) => c.protocol,
        _ => decoder.protocol(),
    };
    let n = packet
        .encoded_len(level)
        .expect("a decoded packet re-encodes");
    let mut out = Vec::with_capacity(n);
    assert_eq!(packet.encode(level, &mut out), Ok(n));
    assert_eq!(out.len(), n);
    // Our encoder writes the shortest Remaining Length and acknowledgement tails, so the
    // re-encoding is never longer than what was read.
    assert!(n <= used, "re-encoding grew from {used} to {n} bytes");
    let again = Decoder::new(level).max_packet_size(MAX_PACKET_SIZE);
    match again.decode(&out) {
        Ok(Decoded::Complete(q, m)) => {
            assert_eq!(m, n);
            assert_eq!(&q, packet);
        }
        other => panic!("re-encoded packet does not decode: {other:?}"),
    }
}
