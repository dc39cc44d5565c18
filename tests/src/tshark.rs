//! Wireshark's dissectors as an independent reader of our bytes: frames go through one
//! `text2pcap` and one `tshark -T json` run (as `../shared/tools/tshark-decode.sh` does), and
//! a small JSON reader that keeps duplicate keys in order (tshark writes one key per field
//! occurrence). Shared by `tests/tshark_dissector.rs` (MQTT) and `tests/sn_vectors.rs`
//! (MQTT-SN).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

fn tool_present(name: &str) -> bool {
    Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether to run `check`: `tshark` and `text2pcap` are both there. Missing tools fail
/// the check, naming the install command, under `CI` or `MQTT_REQUIRE_TSHARK=1`; otherwise
/// it is reported as skipped, by name.
pub fn tools_available(check: &str) -> bool {
    let missing: Vec<&str> = ["tshark", "text2pcap"]
        .into_iter()
        .filter(|t| !tool_present(t))
        .collect();
    if missing.is_empty() {
        return true;
    }
    let msg = format!(
        "{} not found on PATH (install: apt-get install -y tshark, or \
         ../shared/tools/install-peers.sh)",
        missing.join(" and ")
    );
    if std::env::var("MQTT_REQUIRE_TSHARK").as_deref() == Ok("1")
        || std::env::var_os("CI").is_some()
    {
        panic!("CI or MQTT_REQUIRE_TSHARK=1 is set but {msg}");
    }
    eprintln!("SKIPPED {check}: {msg}");
    false
}

/// A scratch directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "mqtt-tshark-{}-{tag}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Dissects `frames` (one frame each) with one text2pcap run (`text2pcap_args`: the
/// dummy IP and TCP/UDP headers) and one `tshark -T json` run (`tshark_args`: how to read
/// the payload); returns the frames of tshark's JSON. `tag` names the scratch directory.
pub fn dissect<B: AsRef<[u8]>>(
    frames: &[B],
    text2pcap_args: &[&str],
    tshark_args: &[&str],
    tag: &str,
) -> Vec<Json> {
    let dir = TempDir::new(tag);
    // text2pcap's hexdump input: an offset and 16 bytes per line; an offset of 0 starts the
    // next frame.
    let mut dump = String::new();
    for p in frames {
        for (i, chunk) in p.as_ref().chunks(16).enumerate() {
            let _ = write!(dump, "{:06x}", i * 16);
            for b in chunk {
                let _ = write!(dump, " {b:02x}");
            }
            dump.push('\n');
        }
    }
    let txt = dir.0.join("in.txt");
    let pcap = dir.0.join("in.pcap");
    std::fs::write(&txt, dump).unwrap();
    let out = Command::new("text2pcap")
        .args(["-q", "-4", "127.0.0.1,127.0.0.1"])
        .args(text2pcap_args)
        .arg(&txt)
        .arg(&pcap)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "text2pcap failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&pcap)
        .arg("-n")
        .args(tshark_args)
        .args(["-T", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    match parse_json(&text) {
        Ok(Json::Arr(frames)) => frames,
        Ok(other) => panic!("tshark output is not a list of frames: {other:?}"),
        Err(e) => panic!("tshark output is not JSON: {e}"),
    }
}

/// A JSON value; objects keep every key, duplicates included, in order.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum Json {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// The first value of `key` in an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(kv) => kv.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A string or number as written (tshark writes every field value as a string).
    pub fn text(&self) -> Option<&str> {
        match self {
            Json::Str(s) | Json::Num(s) => Some(s),
            _ => None,
        }
    }

    /// [`text`](Self::text), owned, and booleans spelled out.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Json::Str(s) | Json::Num(s) => Some(s.clone()),
            Json::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

struct JsonParser<'a> {
    s: &'a [u8],
    pos: usize,
}

/// Parses one JSON document.
pub fn parse_json(text: &str) -> Result<Json, String> {
    let mut p = JsonParser {
        s: text.as_bytes(),
        pos: 0,
    };
    let v = p.value()?;
    p.ws();
    if p.pos != p.s.len() {
        return Err(format!("trailing data at byte {}", p.pos));
    }
    Ok(v)
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at byte {}", self.pos))
    }

    fn eat(&mut self, b: u8) -> Result<(), String> {
        self.ws();
        if self.s.get(self.pos) == Some(&b) {
            self.pos += 1;
            Ok(())
        } else {
            self.err(&format!("expected {:?}", b as char))
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        match self.s.get(self.pos) {
            Some(b'{') => {
                self.pos += 1;
                let mut kv = Vec::new();
                self.ws();
                if self.s.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    return Ok(Json::Obj(kv));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.eat(b':')?;
                    kv.push((k, self.value()?));
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Json::Obj(kv));
                        }
                        _ => return self.err("expected ',' or '}'"),
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    return Ok(Json::Arr(items));
                }
                loop {
                    items.push(self.value()?);
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Json::Arr(items));
                        }
                        _ => return self.err("expected ',' or ']'"),
                    }
                }
            }
            Some(b'"') => Ok(Json::Str(self.string()?)),
            Some(b't') if self.s[self.pos..].starts_with(b"true") => {
                self.pos += 4;
                Ok(Json::Bool(true))
            }
            Some(b'f') if self.s[self.pos..].starts_with(b"false") => {
                self.pos += 5;
                Ok(Json::Bool(false))
            }
            Some(b'n') if self.s[self.pos..].starts_with(b"null") => {
                self.pos += 4;
                Ok(Json::Null)
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                while self
                    .s
                    .get(self.pos)
                    .is_some_and(|b| matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                {
                    self.pos += 1;
                }
                Ok(Json::Num(
                    String::from_utf8_lossy(&self.s[start..self.pos]).into_owned(),
                ))
            }
            _ => self.err("expected a value"),
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self
            .s
            .get(self.pos..self.pos + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok());
        match h {
            Some(v) => {
                self.pos += 4;
                Ok(v)
            }
            None => self.err("bad \\u escape"),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        if self.s.get(self.pos) != Some(&b'"') {
            return self.err("expected a string");
        }
        self.pos += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(&b) = self.s.get(self.pos) else {
                return self.err("unterminated string");
            };
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.s.get(self.pos) else {
                        return self.err("unterminated escape");
                    };
                    self.pos += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let cp = if (0xd800..0xdc00).contains(&hi)
                                && self.s.get(self.pos..self.pos + 2) == Some(b"\\u")
                            {
                                self.pos += 2;
                                let lo = self.hex4()?;
                                0x10000 + ((hi - 0xd800) << 10) + (lo.wrapping_sub(0xdc00) & 0x3ff)
                            } else {
                                hi
                            };
                            char::from_u32(cp).unwrap_or('\u{fffd}')
                        }
                        _ => return self.err("bad escape"),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                _ => out.push(b),
            }
        }
        String::from_utf8(out).or_else(|_| self.err("string is not UTF-8"))
    }
}

/// The expert infos and malformed marks anywhere under `v` (a frame's layer), into `acc`.
pub fn expert_infos(v: &Json, acc: &mut std::collections::BTreeSet<String>) {
    match v {
        Json::Obj(kv) => {
            for (k, x) in kv {
                match (k.as_str(), x) {
                    ("_ws.expert.message", Json::Str(m)) => {
                        acc.insert(m.clone());
                    }
                    ("_ws.malformed", Json::Str(_)) => {
                        acc.insert("[Malformed Packet]".to_owned());
                    }
                    _ => {}
                }
                expert_infos(x, acc);
            }
        }
        Json::Arr(items) => items.iter().for_each(|x| expert_infos(x, acc)),
        _ => {}
    }
}
