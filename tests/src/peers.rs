//! Real peers for the interop tests: finding mosquitto and its clients on `PATH` (a
//! failure naming the install command under `CI`, a visible skip by name otherwise),
//! starting a mosquitto on a free loopback port, and finding the workspace's example
//! binaries.

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The install command the messages name.
pub const INSTALL: &str =
    "apt-get install -y mosquitto mosquitto-clients, or ../shared/tools/install-peers.sh";

/// Whether every program in `tools` runs; otherwise panics under `CI` (naming the install
/// command) or prints `SKIPPED {test}` and returns false.
pub fn available(test: &str, tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| {
            Command::new(t)
                .arg("--help")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_err()
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    let msg = format!(
        "{} not found on PATH (install: {INSTALL})",
        missing.join(", ")
    );
    if std::env::var_os("CI").is_some() {
        panic!("CI is set but {msg}");
    }
    eprintln!("SKIPPED {test}: {msg}");
    false
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// A scratch directory, removed on drop.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new directory under the system's temporary one.
    pub fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("mqtt-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::create_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A mosquitto on a free loopback port, stopped on drop.
#[derive(Debug)]
pub struct Mosquitto {
    child: Child,
    /// Its port.
    pub port: u16,
    _dir: TempDir,
}

impl Mosquitto {
    /// Starts one and waits until it listens (10 s at most).
    pub fn start() -> Mosquitto {
        let port = free_port();
        let dir = TempDir::new(&format!("mosquitto-{port}"));
        let conf = dir.0.join("mosquitto.conf");
        let written = std::fs::File::create(&conf).and_then(|mut f| {
            writeln!(
                f,
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false"
            )
        });
        assert!(written.is_ok(), "cannot write {}", conf.display());
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = child else {
            panic!("mosquitto does not start");
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "mosquitto did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Mosquitto {
            child,
            port,
            _dir: dir,
        }
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An example of `package`, built by `cargo test` next to the test binary (or on demand
/// when a test runs alone).
pub fn example_bin(package: &str, name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let profile_dir = exe
        .parent()
        .and_then(|d| d.parent())
        .map(PathBuf::from)
        .unwrap_or_default();
    let bin = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        let built = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", package, "--example", name])
            .status()
            .is_ok_and(|s| s.success());
        assert!(built, "cannot build the {name} example");
    }
    assert!(bin.exists(), "{} not built", bin.display());
    bin
}

/// Waits for the process's output.
pub fn finish(c: std::process::Child) -> std::process::Output {
    match c.wait_with_output() {
        Ok(o) => o,
        Err(e) => panic!("cannot wait for a child process: {e}"),
    }
}

/// The lines of a process's standard output.
pub fn lines(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Reads the child's standard error until a line starts with `prefix` (panics if it ends
/// first), then keeps draining it in a thread so that the child never blocks on it.
pub fn wait_for_stderr_line(c: &mut std::process::Child, prefix: &str) {
    use std::io::BufRead as _;
    let Some(err) = c.stderr.take() else {
        panic!("the child's stderr is not piped");
    };
    let mut r = std::io::BufReader::new(err);
    let mut line = String::new();
    loop {
        line.clear();
        let n = r.read_line(&mut line).unwrap_or(0);
        assert!(n > 0, "the process ended before printing {prefix:?}");
        if line.starts_with(prefix) {
            break;
        }
    }
    std::thread::spawn(move || {
        let mut sink = String::new();
        while r.read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
    });
}
