//! The harness's client for a server guest: once the guest has its listening socket, GETs the
//! requested paths, one connection each (`Connection: close`, read to the end, so any HTTP
//! server works), notes when the first complete response arrived, digests what came back, and
//! stops the guest.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    thread::JoinHandle,
    time::{Duration, Instant},
};

use sha2::{Digest, Sha256};
use wasm_prof_wasi::ServerControl;

use crate::module_file::lower_hex;

/// What the probe saw.
#[derive(Debug)]
pub struct Probe {
    /// When the first complete response had arrived.
    pub first_response: Option<Instant>,
    /// SHA-256 over every response's status code and body, in order (headers left out: they
    /// carry dates), lower-case hex.
    pub responses_sha256: String,
    /// How many responses arrived.
    pub responses: u32,
    /// Why the probe stopped early, if it did.
    pub error: Option<String>,
}

/// Starts probing the server listening on `addr` with GETs of `paths` in a thread; it stops
/// the guest through `control` when done, failed, or out of time (`timeout` from now).
pub fn start(
    addr: SocketAddr,
    paths: Vec<String>,
    control: ServerControl,
    timeout: Duration,
) -> JoinHandle<Probe> {
    std::thread::spawn(move || {
        let deadline = Instant::now() + timeout;
        let mut digest = Sha256::new();
        let mut probe = Probe {
            first_response: None,
            responses_sha256: String::new(),
            responses: 0,
            error: None,
        };
        for path in &paths {
            match get(addr, path, deadline) {
                Ok((status, body)) => {
                    probe.first_response.get_or_insert_with(Instant::now);
                    probe.responses += 1;
                    digest.update(status.to_le_bytes());
                    digest.update((body.len() as u64).to_le_bytes());
                    digest.update(&body);
                }
                Err(e) => {
                    probe.error = Some(format!("GET {path} from {addr}: {e}"));
                    break;
                }
            }
        }
        probe.responses_sha256 = lower_hex(&digest.finalize());
        control.stop();
        probe
    })
}

/// GETs `path` on a new connection; returns the status code and the body.
fn get(addr: SocketAddr, path: &str, deadline: Instant) -> Result<(u16, Vec<u8>), String> {
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| "no complete response before the timeout".to_string())
    };
    let mut stream = TcpStream::connect_timeout(&addr, left()?).map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream
        .set_write_timeout(Some(left()?))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    let mut buf = [0u8; 16 << 10];
    loop {
        stream
            .set_read_timeout(Some(left()?))
            .map_err(|e| e.to_string())?;
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err("no complete response before the timeout".into());
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    parse(&response)
}

/// Splits an HTTP/1.x response into its status code and body.
fn parse(response: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| {
            if response.is_empty() {
                "the connection closed without a response".to_string()
            } else {
                "the response has no end of headers".to_string()
            }
        })?;
    let head = String::from_utf8_lossy(&response[..end]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .filter(|_| head.starts_with("HTTP/1."))
        .ok_or_else(|| {
            format!(
                "not an HTTP response: {:?}",
                head.lines().next().unwrap_or("")
            )
        })?;
    Ok((status, response[end + 4..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_split_into_status_and_body() {
        assert_eq!(
            parse(b"HTTP/1.1 404 Not Found\r\nDate: x\r\n\r\nnope"),
            Ok((404, b"nope".to_vec()))
        );
        assert!(parse(b"").unwrap_err().contains("without a response"));
        assert!(
            parse(b"SSH-2.0\r\n\r\n")
                .unwrap_err()
                .contains("not an HTTP")
        );
    }
}
