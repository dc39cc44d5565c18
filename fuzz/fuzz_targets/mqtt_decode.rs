//! Arbitrary bytes at each protocol level: decoding never panics, and whatever decodes
//! re-encodes to bytes that decode to the same packet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mqtt_codec::{Decoded, Decoder, Packet, Protocol, MAX_PACKET_SIZE};

fuzz_target!(|data: &[u8]| {
    for protocol in [Protocol::V3_1, Protocol::V3_1_1, Protocol::V5] {
        let decoder = Decoder::new(protocol).max_packet_size(MAX_PACKET_SIZE);
        let mut rest = data;
        while let Ok(Decoded::Complete(packet, used)) = decoder.decode(rest) {
            assert!(used > 0 && used <= rest.len());
            let level = match &packet {
                Packet::Connect(c) => c.protocol,
                _ => protocol,
            };
            let mut out = Vec::new();
            let n = packet.encode(level, &mut out).expect("a decoded packet re-encodes");
            assert_eq!(n, out.len());
            match Decoder::new(level).max_packet_size(MAX_PACKET_SIZE).decode(&out) {
                Ok(Decoded::Complete(again, m)) => {
                    assert_eq!(m, n);
                    assert_eq!(again, packet);
                }
                other => panic!("re-encoded packet does not decode: {other:?}"),
            }
            rest = &rest[used..];
        }
    }
});
