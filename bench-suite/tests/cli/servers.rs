//! Servers: nginx.wasm (built by scripts/build-nginx.sh) under `run --tcplisten` serves its
//! files byte for byte on the cold, cached and no-cache paths, `phases` times its `ready` and
//! `first_response` on all three, and bad server input fails in one line without hanging.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
};

use crate::util::{corpus_module, error_lines, repo_root, run, text};

/// A `wasm-prof run` serving until it is dropped (then killed and reaped).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `run --tcplisten 127.0.0.1:0` for nginx with its configuration directory; returns the
/// serving process and the address it printed.
fn start_nginx(wasm: &Path, cache: &[&str]) -> (Server, SocketAddr) {
    let conf = repo_root().join("corpora/src/nginx");
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_wasm-prof"))
            .arg("run")
            .args(cache)
            .args(["--tcplisten", "127.0.0.1:0", "--dir"])
            .arg(format!("{}::/nginx", conf.display()))
            .arg(wasm)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut stderr = BufReader::new(server.0.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap_or(0) > 0,
            "run ended before it listened"
        );
        if let Some(addr) = line.trim().strip_prefix("wasm-prof: listening on ") {
            // Keep draining nginx's log so that it never blocks on a full pipe.
            std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
            return (server, addr.parse().unwrap());
        }
    }
}

/// GET `path` on a new connection: (status line, body).
fn get(addr: SocketAddr, path: &str) -> (String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let end = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&response[..end]);
    (
        head.lines().next().unwrap().to_string(),
        response[end + 4..].to_vec(),
    )
}

#[test]
fn run_serves_nginx_files_byte_for_byte_on_every_path() {
    let Some(wasm) = corpus_module("nginx") else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let cache_arg = format!("--cache-dir={}", cache.path().display());
    let html = repo_root().join("corpora/src/nginx/html");
    let mut answers = Vec::new();
    for flags in [
        [cache_arg.as_str()],
        [cache_arg.as_str()],
        ["--disable-cache"],
    ] {
        let (server, addr) = start_nginx(&wasm, &flags);
        let files: Vec<_> = ["index.html", "hello.txt", "random-64k.bin"]
            .iter()
            .map(|file| {
                let (status, body) = get(addr, &format!("/{file}"));
                assert_eq!(status, "HTTP/1.1 200 OK", "{file}");
                assert_eq!(body, std::fs::read(html.join(file)).unwrap(), "{file}");
                body
            })
            .collect();
        let (missing, _) = get(addr, "/no-such-file");
        assert_eq!(missing, "HTTP/1.1 404 Not Found");
        drop(server);
        answers.push(files);
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0], answers[2]);
    let entries = std::fs::read_dir(cache.path()).unwrap().count();
    assert!(entries > 0, "the first run stored nginx in the cache");
}

#[test]
fn phases_times_ready_and_first_response_of_nginx_on_every_path() {
    if corpus_module("nginx").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nginx.json");
    let output = run(
        &repo_root(),
        &[
            "phases",
            "--workload",
            "nginx",
            "--runs",
            "2",
            "--warmup",
            "0",
            "--export-json",
            out.to_str().unwrap(),
        ],
    );
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("ready cold/cached"), "{stdout}");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let runs = report["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    let mut digests = Vec::new();
    for run in runs {
        let phases = &run["phases"];
        let ready = phases["ready"]["median_ns"].as_f64().unwrap();
        let first = phases["first_response"]["median_ns"].as_f64().unwrap();
        assert!(0.0 < ready && ready <= first, "{run}");
        let program = &run["program"];
        assert_eq!(program["requests"][2], "/random-64k.bin");
        for sample in program["samples"].as_array().unwrap() {
            assert_eq!(sample["exit_code"], 0);
            digests.push(sample["responses_sha256"].as_str().unwrap().to_string());
        }
    }
    digests.dedup();
    assert_eq!(digests.len(), 1, "every sample got the same responses");
}

#[test]
fn a_port_in_use_and_a_bad_address_are_one_line_errors() {
    let Some(wasm) = corpus_module("nginx") else {
        return;
    };
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().to_string();
    let wasm = wasm.to_str().unwrap();
    for (listen, expected) in [
        (port.as_str(), "cannot listen on"),
        ("localhost:80", "expected HOST:PORT with a numeric host"),
    ] {
        let output = run(&repo_root(), &["run", "--tcplisten", listen, wasm]);
        let (_, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        let lines = error_lines(&stderr);
        assert_eq!(lines.len(), 1, "{stderr}");
        assert!(lines[0].contains(expected), "{stderr}");
    }
}

#[test]
fn a_server_that_never_answers_is_stopped_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    // Sleeps in poll_oneoff, ten seconds at a time, and never accepts.
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "poll_oneoff"
            (func $poll (param i32 i32 i32 i32) (result i32)))
        (memory (export "memory") 1)
        (func (export "_start")
            (i64.store (i32.const 24) (i64.const 10000000000))
            (loop $forever
                (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))
                (br $forever))))"#;
    std::fs::write(dir.path().join("silent.wasm"), wat::parse_str(wat).unwrap()).unwrap();
    let started = std::time::Instant::now();
    let output = run(
        dir.path(),
        &[
            "phases",
            "silent.wasm",
            "--tcplisten",
            "127.0.0.1:0",
            "--timeout",
            "1",
            "--runs",
            "1",
            "--warmup",
            "0",
            "--paths",
            "nocache",
        ],
    );
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("did not serve") && stderr.contains("before the timeout"),
        "{stderr}"
    );
    assert!(
        started.elapsed().as_secs() < 30,
        "the timeout bounded the sample"
    );
}

#[test]
fn a_server_that_traps_while_serving_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    // Accepts the first connection on its listener (fd 3), then traps.
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "sock_accept"
            (func $accept (param i32 i32 i32) (result i32)))
        (memory (export "memory") 1)
        (func (export "_start")
            (drop (call $accept (i32.const 3) (i32.const 0) (i32.const 0)))
            unreachable))"#;
    std::fs::write(dir.path().join("crash.wasm"), wat::parse_str(wat).unwrap()).unwrap();
    let output = run(
        dir.path(),
        &[
            "phases",
            "crash.wasm",
            "--tcplisten",
            "127.0.0.1:0",
            "--runs",
            "1",
            "--warmup",
            "0",
            "--paths",
            "nocache",
        ],
    );
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let lines = error_lines(&stderr);
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("unreachable"), "{stderr}");
}
