//! Decodes hex-encoded MQTT-SN datagrams, one per line, and shows what the codec makes of
//! them.
//!
//! ```text
//! grep -v '^#' tests/vectors/mqtt-sn/messages.hex | cut -d' ' -f2 \
//!     | cargo run -q -p mqtt-sn-codec --example sn-inspect
//! ```
//!
//! Each input line is one datagram in hex (ASCII whitespace anywhere in the line is
//! ignored; blank lines and lines starting with `#` are skipped). For each it prints either
//!
//! ```text
//! ok TYPE HEX DEBUG
//! ```
//!
//! with the message type as the specification spells it (`WILLTOPICUPD`, `ENCAPSULATED`),
//! the hex of the decoded message encoded again, and its `Debug` form, or
//! `error KIND: message` when the line is not exactly one message (`KIND` is the
//! `DecodeError` or `EncodeError` variant, or `InvalidHex`).
//!
//! `--client-id-limit N` accepts ClientIds of up to N characters (default 23).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::ExitCode;

use mqtt_sn_codec::Decoder;

// The hex-lines plumbing is shared with the MQTT `inspect` example.
#[path = "../../mqtt-codec/examples/common/hexlines.rs"]
mod hexlines;
use hexlines::{from_hex, to_hex, variant_name};

const USAGE: &str = "\
usage: sn-inspect [--client-id-limit N] < datagrams.hex

Reads MQTT-SN 1.2 datagrams in hex from stdin, one per line (ASCII whitespace inside a
line is ignored; blank lines and lines starting with '#' are skipped), and prints for each:
  ok TYPE HEX DEBUG        TYPE: message type, HEX: the message re-encoded, DEBUG: {:?}
  error KIND: message      the line is not exactly one message, or does not re-encode

options:
  --client-id-limit N   accept ClientIds of up to N characters (default 23, as §5.3.1)
  -h, --help            print this help
";

fn inspect_line(digits: &[u8], decoder: &Decoder) -> String {
    let bytes = match from_hex(digits) {
        Ok(b) => b,
        Err(e) => return format!("error InvalidHex: {e}"),
    };
    let msg = match decoder.decode(&bytes) {
        Ok(m) => m,
        Err(e) => return format!("error {}: {e}", variant_name(&format!("{e:?}"))),
    };
    let ty = msg.msg_type().name();
    let mut out = Vec::new();
    match msg.encode(&mut out) {
        Ok(_) => format!("ok {ty} {} {msg:?}", to_hex(&out)),
        Err(e) => format!(
            "error {}: re-encoding the {ty} message: {e}",
            variant_name(&format!("{e:?}"))
        ),
    }
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Decoder>, String> {
    let mut decoder = Decoder::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let value = match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "--client-id-limit" => it.next().ok_or("--client-id-limit needs a value")?,
            _ => match a.strip_prefix("--client-id-limit=") {
                Some(v) => v.to_string(),
                None => return Err(format!("unknown argument {a:?}")),
            },
        };
        let n = value
            .parse()
            .map_err(|_| format!("invalid client id limit {value:?}"))?;
        decoder = decoder.client_id_limit(n);
    }
    Ok(Some(decoder))
}

fn main() -> ExitCode {
    match parse_args(std::env::args().skip(1)) {
        Ok(None) => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Some(decoder)) => hexlines::run("sn-inspect", |digits| inspect_line(digits, &decoder)),
        Err(e) => {
            eprint!("sn-inspect: {e}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
