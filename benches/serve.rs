//! `cargo bench --bench serve`: the time from a save to the reloaded page in
//! `renga serve`, on this report. The real binary serves a copy of the
//! report; the benchmark listens on the live-reload channel as a page does,
//! saves a one-paragraph edit, and takes the time until the event arrives
//! and until the page it reloads has been fetched. Target: the watch
//! rebuild (the `[N ms] rebuilt` line) plus under 100 ms.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

mod common;
use common::{chapter_dirs, copy_dir};

fn get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut body = Vec::new();
    s.read_to_end(&mut body).unwrap();
    String::from_utf8(body).expect("a page is UTF-8")
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    for part in ["chapters", "data", "templates"] {
        copy_dir(&root.join(part), &dir.path().join(part));
    }
    std::fs::copy(root.join("report.toml"), dir.path().join("report.toml")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_renga"))
        .args(["serve", "--port", "0", "--debounce", "50"])
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("renga runs");
    let (tx, lines) = channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let first = lines.recv().unwrap();
    let addr = first["serving http://".len()..].trim_end_matches(|c| c != '/');
    let addr = addr.trim_end_matches('/').to_string();
    while !lines.recv().unwrap().contains("rebuilt") {}
    let page = "/sg-jp-digital-government-report.en-ja.html";
    // The live-reload channel, as a page holds it.
    let mut events = TcpStream::connect(&addr).unwrap();
    write!(
        events,
        "GET /_renga/events HTTP/1.1\r\nHost: {addr}\r\n\r\n"
    )
    .unwrap();
    let mut events = BufReader::new(events);
    let mut line = String::new();
    let next_event = |events: &mut BufReader<TcpStream>, line: &mut String| loop {
        line.clear();
        events.read_line(line).unwrap();
        if line.starts_with("data:") {
            return line.clone();
        }
    };
    next_event(&mut events, &mut line);
    let chapter = chapter_dirs(dir.path())[1].join("en.md");
    let text = std::fs::read_to_string(&chapter).unwrap();
    let rounds = 10;
    let (mut totals, mut rebuilds) = (Vec::new(), Vec::new());
    for i in 0..rounds {
        let start = Instant::now();
        std::fs::write(&chapter, format!("{text}\nAn edit saved in round {i}.\n")).unwrap();
        let event = next_event(&mut events, &mut line);
        assert!(event.contains("\"errors\":\"\""), "{event}");
        let body = get(&addr, page);
        assert!(body.contains(&format!("round {i}.")));
        let total = start.elapsed();
        let rebuilt = loop {
            let l = lines.recv_timeout(Duration::from_secs(60)).unwrap();
            if let Some(ms) = l.strip_prefix('[').and_then(|r| r.split(' ').next()) {
                break ms.parse::<u64>().unwrap();
            }
        };
        totals.push(total.as_millis() as u64);
        rebuilds.push(rebuilt);
    }
    let _ = child.kill();
    let overhead: Vec<i64> = totals
        .iter()
        .zip(&rebuilds)
        .map(|(t, r)| *t as i64 - *r as i64)
        .collect();
    let mean = |v: &[u64]| v.iter().sum::<u64>() / v.len() as u64;
    println!(
        "serve, this report: save → reloaded page {} ms mean (rebuild {} ms mean); beyond the rebuild: {:?} ms (debounce 50 ms included; target under 100)",
        mean(&totals),
        mean(&rebuilds),
        overhead
    );
}
