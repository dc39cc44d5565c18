//! What the `inspect` and `sn-inspect` examples (MQTT and MQTT-SN) share: hex lines in, one report line
//! out per input line. Included with `#[path]` by `mqtt-codec/examples/inspect.rs` and
//! `mqtt-sn-codec/examples/sn-inspect.rs`.

use std::fmt::{self, Write as _};
use std::io::{self, BufRead, Write};
use std::process::ExitCode;

/// Why a line could not be turned into hex bytes.
#[derive(Debug)]
pub enum HexError {
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
pub fn from_hex(digits: &[u8]) -> Result<Vec<u8>, HexError> {
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

pub fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The variant name from a `Debug` form: everything before the first ` `, `{` or `(`.
pub fn variant_name(debug: &str) -> &str {
    let end = debug.find([' ', '{', '(']).unwrap_or(debug.len());
    &debug[..end]
}

#[allow(dead_code)] // used by the MQTT example only
pub fn bytes_count(n: usize) -> String {
    if n == 1 {
        "1 byte".to_string()
    } else {
        format!("{n} bytes")
    }
}

/// Reads stdin line by line (blank lines and `#` comments skipped, ASCII whitespace
/// removed) and prints `report(digits)` for each line; `name` prefixes error messages.
pub fn run(name: &str, mut report: impl FnMut(&[u8]) -> String) -> ExitCode {
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
                eprintln!("{name}: cannot read stdin after line {line_no}: {e}");
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
        if let Err(e) = writeln!(out, "{}", report(&digits)) {
            return write_failed(name, &e);
        }
    }
    match out.flush() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => write_failed(name, &e),
    }
}

/// A closed pipe (`| head`) ends the run quietly; any other write error is reported.
fn write_failed(name: &str, e: &io::Error) -> ExitCode {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return ExitCode::SUCCESS;
    }
    eprintln!("{name}: cannot write stdout: {e}");
    ExitCode::from(1)
}
