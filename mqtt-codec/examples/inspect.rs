//! Decodes hex-encoded MQTT packets, one per line, and shows what the codec makes of them.
//!
//! ```text
//! grep -v '^#' tests/vectors/mosquitto/v5-client.hex \
//!     | cargo run -q -p mqtt-codec --example inspect -- --protocol 5
//! ```
//!
//! Each input line is one packet in hex (ASCII whitespace anywhere in the line is ignored;
//! blank lines and lines starting with `#` are skipped). For each packet it prints either
//!
//! ```text
//! ok TYPE HEX DEBUG
//! ```
//!
//! with the packet type, the hex of the decoded packet encoded again, and its `Debug` form,
//! or `error KIND: message` when the line is not exactly one whole packet (`KIND` is the
//! `DecodeError` or `EncodeError` variant, or `InvalidHex`, `Incomplete`, `TrailingData`).
//!
//! `--protocol 3|4|5` sets the level for packets other than CONNECT (default 4, MQTT 3.1.1);
//! each decoded CONNECT carries its own level and sets it for the lines after it.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::ExitCode;

#[path = "common/hexlines.rs"]
mod hexlines;
use hexlines::{bytes_count, from_hex, to_hex, variant_name};

use mqtt_codec::{Decoded, Decoder, Packet, Protocol, MAX_PACKET_SIZE};

const USAGE: &str = "\
usage: inspect [--protocol 3|4|5] < packets.hex

Reads MQTT packets in hex from stdin, one per line (ASCII whitespace inside a line is
ignored; blank lines and lines starting with '#' are skipped), and prints for each:
  ok TYPE HEX DEBUG        TYPE: packet type, HEX: the packet re-encoded, DEBUG: {:?}
  error KIND: message      the line is not exactly one whole packet, or does not re-encode

options:
  --protocol 3|4|5   protocol level for packets other than CONNECT: 3 = MQTT 3.1,
                     4 = MQTT 3.1.1 (default), 5 = MQTT 5.0. A decoded CONNECT sets the
                     level to its own for the lines after it.
  -h, --help         print this help
";

/// What the command line asks for.
enum Args {
    Run(Protocol),
    Help,
}

fn parse_level(v: &str) -> Result<Protocol, String> {
    match v {
        "3" => Ok(Protocol::V3_1),
        "4" => Ok(Protocol::V3_1_1),
        "5" => Ok(Protocol::V5),
        _ => Err(format!("invalid protocol level {v:?} (expected 3, 4 or 5)")),
    }
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut protocol = Protocol::V3_1_1;
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => return Ok(Args::Help),
            "--protocol" => {
                let v = it.next().ok_or("--protocol needs a value (3, 4 or 5)")?;
                protocol = parse_level(&v)?;
            }
            _ => match a.strip_prefix("--protocol=") {
                Some(v) => protocol = parse_level(v)?,
                None => return Err(format!("unknown argument {a:?}")),
            },
        }
    }
    Ok(Args::Run(protocol))
}

/// One line's outcome, as printed.
fn inspect_line(digits: &[u8], protocol: &mut Protocol) -> String {
    let bytes = match from_hex(digits) {
        Ok(b) => b,
        Err(e) => return format!("error InvalidHex: {e}"),
    };
    let decoder = Decoder::new(*protocol).max_packet_size(MAX_PACKET_SIZE);
    let (packet, used) = match decoder.decode(&bytes) {
        Ok(Decoded::Complete(p, n)) => (p, n),
        Ok(Decoded::Partial(Some(n))) => {
            return format!(
                "error Incomplete: {} given, {n} more byte{} needed to complete the packet",
                bytes_count(bytes.len()),
                if n.get() == 1 { "" } else { "s" }
            )
        }
        Ok(Decoded::Partial(None)) => {
            return format!(
                "error Incomplete: {} given, the fixed header is incomplete \
                 (how many more bytes are needed is not known yet)",
                bytes_count(bytes.len())
            )
        }
        Err(e) => return format!("error {}: {e}", variant_name(&format!("{e:?}"))),
    };
    // A CONNECT carries its own level, for itself and for the lines after it.
    if let Packet::Connect(c) = &packet {
        *protocol = c.protocol;
    }
    let ty = packet.packet_type();
    if used < bytes.len() {
        return format!(
            "error TrailingData: {} after a whole {} packet of {}",
            bytes_count(bytes.len() - used),
            ty.name(),
            bytes_count(used)
        );
    }
    let mut out = Vec::new();
    match packet.encode(*protocol, &mut out) {
        Ok(_) => format!("ok {} {} {packet:?}", ty.name(), to_hex(&out)),
        Err(e) => format!(
            "error {}: re-encoding the {} packet: {e}",
            variant_name(&format!("{e:?}")),
            ty.name()
        ),
    }
}

fn run(mut protocol: Protocol) -> ExitCode {
    hexlines::run("inspect", |digits| inspect_line(digits, &mut protocol))
}

fn main() -> ExitCode {
    match parse_args(std::env::args().skip(1)) {
        Ok(Args::Help) => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Args::Run(protocol)) => run(protocol),
        Err(e) => {
            eprint!("inspect: {e}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
