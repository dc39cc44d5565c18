//! An arbitrary valid MQTT-SN message: it encodes to exactly `encoded_len()` octets, in
//! the short Length form whenever it fits, and decodes (as a datagram and from a stream)
//! to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mqtt_fuzz::sn::message;
use mqtt_sn_codec::{decode, Decoded, Decoder, Message};

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
        Message::Encapsulated(e) => n - e.message.encoded_len(),
        _ => n,
    };
    assert_eq!(out[0] == 0x01, own > 255, "{msg:?}");
    assert_eq!(decode(&out).as_ref(), Ok(&msg));
    assert_eq!(
        Decoder::new().decode_stream(&out),
        Ok(Decoded::Complete(msg.clone(), n))
    );
});
