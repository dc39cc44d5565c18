//! Arbitrary bytes as an MQTT-SN datagram and as a byte stream fed in arbitrary pieces:
//! decoding never panics; whatever decodes re-encodes to at most as many octets, which
//! decode to the same message; the stream gives the same messages as framing the bytes
//! one message at a time; `Partial(Some(n))` is exact.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mqtt_sn_codec::{Decoded, Decoder, Message};

fn check_reencode(d: &Decoder, msg: &Message<'_>, input_len: usize) {
    let mut out = Vec::new();
    let n = msg.encode(&mut out).expect("a decoded message encodes");
    assert_eq!(n, msg.encoded_len());
    assert!(n <= input_len, "re-encoding grew: {n} > {input_len}");
    assert_eq!(d.decode(&out).as_ref(), Ok(msg));
}

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, data)) = data.split_first() else {
        return;
    };
    let d = Decoder::new()
        .client_id_limit(if ctl & 0x80 != 0 { 64 } else { 23 })
        .max_message_size(if ctl & 0x40 != 0 { 300 } else { 65_535 })
        .strict_utf8(ctl & 0x20 != 0);

    // The whole input as one datagram.
    if let Ok(msg) = d.decode(data) {
        check_reencode(&d, &msg, data.len());
    }

    // As a stream: one message at a time from the front.
    let mut whole = Vec::new();
    let mut at = 0;
    let end = loop {
        match d.decode_stream(&data[at..]) {
            Ok(Decoded::Complete(msg, used)) => {
                assert!(used > 0 && at + used <= data.len());
                assert_eq!(d.decode(&data[at..at + used]).as_ref(), Ok(&msg));
                check_reencode(&d, &msg, used);
                whole.push(msg);
                at += used;
            }
            Ok(Decoded::Partial(need)) => {
                if let Some(n) = need {
                    let mut more = data[at..].to_vec();
                    more.resize(more.len() + n.get(), 0);
                    assert!(!matches!(d.decode_stream(&more), Ok(Decoded::Partial(_))));
                }
                break None;
            }
            Err(e) => break Some(e),
        }
    };

    // The same bytes in pieces of varying size.
    let mut buf: Vec<u8> = Vec::new();
    let mut streamed = Vec::new();
    let mut fed = 0;
    let mut step = (ctl as usize % 5) + 1;
    let mut err = None;
    'feed: while fed < data.len() {
        let n = step.min(data.len() - fed);
        buf.extend_from_slice(&data[fed..fed + n]);
        fed += n;
        step = (step * 7 + 2) % 13 + 1;
        loop {
            match d.decode_stream(&buf) {
                Ok(Decoded::Complete(msg, used)) => {
                    streamed.push(msg.to_shared());
                    buf.drain(..used);
                }
                Ok(Decoded::Partial(_)) => break,
                Err(e) => {
                    err = Some(e);
                    break 'feed;
                }
            }
        }
    }
    assert_eq!(streamed, whole);
    assert_eq!(err, end);
});
