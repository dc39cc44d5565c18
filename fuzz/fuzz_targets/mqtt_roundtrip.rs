//! An arbitrary valid packet at an arbitrary level: encode, check the length against
//! `encoded_len()`, decode, and compare; a buffer one byte short is refused untouched.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mqtt_codec::{generic, shared, Decoded, Decoder, EncodeError, MAX_PACKET_SIZE};
use mqtt_fuzz::{level, packet};

fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    let Ok(level) = level(&mut u) else { return };
    let Ok(p) = packet(&mut u, level) else { return };
    let level = match &p {
        generic::Packet::Connect(c) => c.protocol,
        _ => level,
    };
    let n = p.encoded_len(level).unwrap_or_else(|e| panic!("{p:?} does not encode: {e}"));
    let mut out = Vec::new();
    assert_eq!(p.encode(level, &mut out), Ok(n));
    assert_eq!(out.len(), n);
    match Decoder::new(level).max_packet_size(MAX_PACKET_SIZE).decode(&out) {
        Ok(Decoded::Complete(q, m)) => {
            assert_eq!(m, n);
            assert_eq!(q, p);
            assert_eq!(q.to_shared(), p);
        }
        other => panic!("{p:?} encoded as {out:02x?} decodes as {other:?}"),
    }
    // The shared decoder over `Bytes`: the same packet.
    let frozen = bytes::Bytes::from(out.clone());
    match Decoder::new(level).max_packet_size(MAX_PACKET_SIZE).decode_bytes(&frozen) {
        Ok(shared::Decoded::Complete(q, m)) => {
            assert_eq!(m, n);
            assert_eq!(q, p);
        }
        other => panic!("{p:?} encoded as {out:02x?} decodes shared as {other:?}"),
    }
    let mut short = vec![0xa5u8; n - 1];
    assert_eq!(
        p.encode(level, &mut &mut short[..]),
        Err(EncodeError::BufferTooSmall { needed: n, available: n - 1 })
    );
    assert!(short.iter().all(|&b| b == 0xa5));
});
