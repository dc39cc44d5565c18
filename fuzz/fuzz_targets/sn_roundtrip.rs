//! An arbitrary valid MQTT-SN message: it encodes to exactly `encoded_len()` octets, in
//! the short Length form whenever it fits, and decodes (as a datagram and from a stream)
//! to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mqtt_fuzz::sn::message;
use mqtt_sn_codec::{decode, generic, Decoded, Decoder};

fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    let Ok(msg) = message(&mut u) else {
        return;
    };
    let mut out = Vec::new();
    let n = msg.encode(&mut out).expect("a valid message encodes");
    assert_eq!(n, out.len());
    assert_eq!(n, msg.encoded_len());
    // The short form whenever the (outer) message fits in 255 octets.
    let own = match &msg {
        generic::Message::Encapsulated(e) => n - e.message.encoded_len(),
        _ => n,
    };
    assert_eq!(out[0] == 0x01, own > 255, "{msg:?}");
    assert_eq!(decode(&out).map(|m| m.to_shared()).as_ref(), Ok(&msg));
    assert_eq!(
        Decoder::new().decode_stream(&out).map(|d| match d {
            Decoded::Complete(m, used) => Some((m.to_shared(), used)),
            Decoded::Partial(_) => None,
        }),
        Ok(Some((msg.clone(), n)))
    );
    // The shared decoder over `Bytes` gives the same message.
    let frozen = bytes::Bytes::from(out);
    assert_eq!(Decoder::new().decode_bytes(&frozen).as_ref(), Ok(&msg));
});
