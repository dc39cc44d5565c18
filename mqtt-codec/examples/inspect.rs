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

use std::fmt::{self, Write as _};
use std::io::{self, BufRead, Write};
use std::process::ExitCode;

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

/// Why a line could not be turned into hex bytes.
#[derive(Debug)]
enum HexError {
    OddLength(usize),
    BadChar { at: usize, byte: u8 },
}

impl fmt::Display for HexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HexError::OddLength(n) => write!(f, "odd number of hex digits ({n})"),
            HexError::BadChar { at, byte } if byte.is_ascii_graphic() => {
                write!(f, "not a hex digit: {:?} at digit {at}", *byte as char)
            }
            HexError::BadChar { at, byte } => {
                write!(f, "not a hex digit: byte {byte:#04x} at digit {at}")
            }
        }
    }
}

fn nibble(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes hex digits (whitespace already removed).
fn from_hex(digits: &[u8]) -> Result<Vec<u8>, HexError> {
    if let Some(at) = digits.iter().position(|&b| nibble(b).is_none()) {
        return Err(HexError::BadChar {
            at,
            byte: digits[at],
        });
    }
    if digits.len() % 2 != 0 {
        return Err(HexError::OddLength(digits.len()));
    }
    Ok(digits
        .chunks_exact(2)
        .filter_map(|p| Some((nibble(p[0])? << 4) | nibble(p[1])?))
        .collect())
}

fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The variant name from a `Debug` form: everything before the first ` `, `{` or `(`.
fn variant_name(debug: &str) -> &str {
    let end = debug.find([' ', '{', '(']).unwrap_or(debug.len());
    &debug[..end]
}

fn bytes_count(n: usize) -> String {
    if n == 1 {
        "1 byte".to_string()
    } else {
        format!("{n} bytes")
    }
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
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut line = Vec::new();
    let mut line_no = 0u64;
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => line_no += 1,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = out.flush();
                eprintln!("inspect: cannot read stdin after line {line_no}: {e}");
                return ExitCode::from(1);
            }
        }
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() || trimmed.starts_with(b"#") {
            continue;
        }
        let digits: Vec<u8> = trimmed
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        let report = inspect_line(&digits, &mut protocol);
        if let Err(e) = writeln!(out, "{report}") {
            return write_failed(&e);
        }
    }
    match out.flush() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => write_failed(&e),
    }
}

/// A closed pipe (`| head`) ends the run quietly; any other write error is reported.
fn write_failed(e: &io::Error) -> ExitCode {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return ExitCode::SUCCESS;
    }
    eprintln!("inspect: cannot write stdout: {e}");
    ExitCode::from(1)
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
