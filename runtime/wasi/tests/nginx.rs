//! nginx.wasm (built from Debian's nginx source by `scripts/build-nginx.sh`) served by the
//! runtime on loopback: its static files byte for byte on the cold, cached and no-cache paths,
//! its first accept and first response observed, and 10,000 keep-alive requests without an
//! error.

mod cache_paths;
mod support;

use cache_paths::CachePaths;

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::Path,
    time::Instant,
};

use wasm_prof_runtime::{Config, Engine, Error, Module, TrapKind};
use wasm_prof_wasi::{
    self as wasi, OutputPipe, OutputStream, ServerControl, WasiConfig, WasiError,
};

/// One HTTP response: status code and body.
#[derive(Debug, PartialEq, Eq)]
struct Response {
    status: u16,
    body: Vec<u8>,
}

/// Reads one response on a keep-alive connection (nginx sends `Content-Length`).
fn read_response(reader: &mut BufReader<TcpStream>) -> Response {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP status line: {line:?}"));
    let mut length = 0;
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    Response { status, body }
}

/// GETs each of `paths` on one keep-alive connection.
fn get_all(addr: SocketAddr, paths: &[&str]) -> Vec<Response> {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    paths
        .iter()
        .map(|path| {
            // One write per request: a request in pieces waits for delayed ACKs (Nagle).
            let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
            writer.write_all(request.as_bytes()).unwrap();
            read_response(&mut reader)
        })
        .collect()
}

/// Stops the server when the client is done, also when it panicked (so a failing client
/// fails the test instead of leaving nginx running forever).
struct StopOnDrop(ServerControl);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// What one run of nginx gave the client, and what the runtime saw.
struct Served<T> {
    client: T,
    first_accept: Option<Instant>,
    stderr: String,
}

/// Serves `module` with the project's nginx configuration on a loopback port until `client`
/// (given the address) returns; then stops nginx.
fn serve<T: Send + 'static>(
    engine: &Engine,
    module: &Module,
    client: impl FnOnce(SocketAddr) -> T + Send + 'static,
) -> Served<T> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let control = ServerControl::new().unwrap();
    let stopper = StopOnDrop(control.clone());
    let client = std::thread::spawn(move || {
        let _stopper = stopper;
        client(addr)
    });
    let stderr = OutputPipe::new();
    let mut config = WasiConfig::new();
    config
        .arg("nginx")
        .preopen_dir(support::repo().join("corpora/src/nginx"), "/nginx")
        .preopen_listener(listener)
        .server_control(control.clone())
        .stderr(OutputStream::Pipe(stderr.clone()));
    let outcome = wasi::run_command(engine, module, &config);
    let stderr = String::from_utf8_lossy(&stderr.contents()).into_owned();
    let client = client
        .join()
        .unwrap_or_else(|_| panic!("the client failed; nginx's stderr:\n{stderr}"));
    match outcome {
        Err(WasiError::Runtime(Error::Trap(trap))) if trap.kind == TrapKind::Interrupt => {}
        other => panic!("nginx should run until stopped, got {other:?}; stderr:\n{stderr}"),
    }
    Served {
        client,
        first_accept: control.first_accept(),
        stderr,
    }
}

fn docroot(file: &str) -> Vec<u8> {
    std::fs::read(support::repo().join("corpora/src/nginx/html").join(file)).unwrap()
}

#[test]
fn nginx_serves_its_files_identically_on_every_path() {
    let Some(wasm) = support::fetched("nginx", "scripts/build-nginx.sh") else {
        return;
    };
    let cache_paths = CachePaths::new();
    let paths = [
        "/",
        "/hello.txt",
        "/random-64k.bin",
        "/missing.txt",
        "/index.html",
    ];
    let mut runs = Vec::new();
    for (engine, outcome) in cache_paths.each() {
        let module = Module::from_file(engine, &wasm).unwrap();
        assert_eq!(*module.cache_outcome(), outcome);
        let started = Instant::now();
        let served = serve(engine, &module, move |addr| {
            let responses = get_all(addr, &paths);
            (responses, Instant::now())
        });
        let (responses, answered) = served.client;
        let accepted = served.first_accept.expect("nginx accepted the connection");
        assert!(started < accepted && accepted < answered);
        assert!(
            served.stderr.contains("inherited socket"),
            "nginx logs its socket: {}",
            served.stderr
        );
        runs.push(responses);
    }
    let expected = [
        (200, docroot("index.html")),
        (200, docroot("hello.txt")),
        (200, docroot("random-64k.bin")),
        (404, Vec::new()),
        (200, docroot("index.html")),
    ];
    for (i, (status, body)) in expected.iter().enumerate() {
        assert_eq!(runs[0][i].status, *status, "{}", paths[i]);
        if *status == 200 {
            assert_eq!(runs[0][i].body, *body, "{}", paths[i]);
        }
    }
    assert_eq!(runs[0], runs[1], "the cached path served different bytes");
    assert_eq!(runs[0], runs[2], "the no-cache path served different bytes");
}

#[test]
fn nginx_answers_ten_thousand_keep_alive_requests_without_an_error() {
    let Some(wasm) = support::fetched("nginx", "scripts/build-nginx.sh") else {
        return;
    };
    let mut config = Config::new();
    config.cache(false);
    let engine = Engine::new(config).unwrap();
    let module = Module::from_file(&engine, &wasm).unwrap();
    let served = serve(&engine, &module, |addr| {
        let clients: Vec<_> = (0..4)
            .map(|_| {
                // nginx closes a keep-alive connection after 1,000 requests
                // (`keepalive_requests`): 5 connections of 500 each.
                std::thread::spawn(move || {
                    (0..5)
                        .flat_map(|_| get_all(addr, &["/hello.txt"; 500]))
                        .filter(|r| r.status != 200 || r.body.len() != 1024)
                        .count()
                })
            })
            .collect();
        clients
            .into_iter()
            .map(|c| c.join().unwrap())
            .sum::<usize>()
    });
    assert_eq!(
        served.client, 0,
        "failed requests; stderr:\n{}",
        served.stderr
    );
}

#[test]
fn nginx_without_a_socket_stops_with_a_clear_message() {
    let Some(wasm) = support::fetched("nginx", "scripts/build-nginx.sh") else {
        return;
    };
    let mut config = Config::new();
    config.cache(false);
    let engine = Engine::new(config).unwrap();
    let module = Module::from_file(&engine, Path::new(&wasm)).unwrap();
    let stderr = OutputPipe::new();
    let mut wasi_config = WasiConfig::new();
    wasi_config
        .arg("nginx")
        .preopen_dir(support::repo().join("corpora/src/nginx"), "/nginx")
        .stderr(OutputStream::Pipe(stderr.clone()));
    let status = wasi::run_command(&engine, &module, &wasi_config).unwrap();
    let stderr = String::from_utf8_lossy(&stderr.contents()).into_owned();
    assert_ne!(status.code, 0);
    assert!(stderr.contains("no inherited listening socket"), "{stderr}");
}
