//! `renga serve`: the live preview, as an author uses it: start it on a fresh
//! `renga init` project, read the index and a page, save an edit and see it
//! served, break the project and see the error in the page, fix it, try to
//! read outside the editions, and stop it with Ctrl-C.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// A running `renga serve` and the lines it printed.
pub struct Serve {
    child: Child,
    lines: Receiver<String>,
    /// `127.0.0.1:PORT`, from the first line.
    pub addr: String,
}

impl Serve {
    pub fn start(project: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_renga"))
            .args(["serve", "--port", "0", "--debounce", "100"])
            .args(extra)
            .arg(project)
            .env("NO_COLOR", "1")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = lines.recv_timeout(Duration::from_secs(30)).unwrap();
        let addr = first
            .strip_prefix("serving http://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("the first line says the address: {first}"))
            .to_string();
        let mut serve = Self { child, lines, addr };
        serve.wait_for("rebuilt");
        serve
    }

    /// Reads lines until one contains `needle`.
    pub fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = String::new();
        while Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                seen.push_str(&line);
                seen.push('\n');
                if line.contains(needle) {
                    return seen;
                }
            }
        }
        panic!("no line with {needle:?} in a minute; saw:\n{seen}");
    }

    /// `GET path` exactly as written (no normalisation): status and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }

    /// The response headers of `GET path`.
    pub fn head(&self, path: &str) -> String {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let text = String::from_utf8_lossy(&raw).into_owned();
        text.split_once("\r\n\r\n").unwrap().0.to_string()
    }

    /// Polls `path` until its body contains `needle` (within a minute).
    pub fn until(&self, path: &str, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (_, body) = self.get(path);
            if body.contains(needle) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "{path} never showed {needle:?}; last:\n{body}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Ctrl-C: the exit status.
    pub fn interrupt(mut self) -> Option<i32> {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGINT);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn init(dir: &Path) -> std::path::PathBuf {
    let project = dir.join("report");
    let out = Command::new(env!("CARGO_BIN_EXE_renga"))
        .args(["init", project.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    project
}

#[test]
fn serve_previews_edits_errors_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let project = init(dir.path());
    let serve = Serve::start(&project, &[]);
    assert!(serve.addr.starts_with("127.0.0.1:"), "{}", serve.addr);

    // The index lists each edition's page and PDF with its page count.
    let (status, index) = serve.get("/");
    assert_eq!(status, 200);
    for edition in ["en", "ja", "en-ja"] {
        assert!(
            index.contains(&format!("href=\"/my-report.{edition}.html\"")),
            "{index}"
        );
        assert!(
            index.contains(&format!("href=\"/my-report.{edition}.pdf\"")),
            "{index}"
        );
    }
    assert!(index.contains("5 pages"), "{index}");

    // A page is the web edition with the reload client; the written file
    // has no script.
    let (status, page) = serve.get("/my-report.en.html");
    assert_eq!(status, 200);
    assert!(
        page.contains("new EventSource(\"/_renga/events\")"),
        "{page}"
    );
    let written = std::fs::read_to_string(project.join("out/my-report.en.html")).unwrap();
    assert!(
        !written.contains("<script"),
        "compile's pages stay script-free"
    );
    assert!(page.starts_with(&written[..written.find("</body>").unwrap()]));
    let pdf = serve.head("/my-report.en-ja.pdf");
    assert!(pdf.contains("Content-Type: application/pdf"), "{pdf}");

    // An edit is served after the rebuild.
    let chapter = project.join("chapters/01-getting-started/en.md");
    let good = std::fs::read_to_string(&chapter).unwrap();
    std::fs::write(&chapter, format!("{good}\nA paragraph saved just now.\n")).unwrap();
    serve.until("/my-report.en.html", "A paragraph saved just now.");

    // A broken save: the error, as the terminal shows it, over the last
    // good page (which is still served).
    std::fs::write(
        &chapter,
        format!("{good}\n{{{{metric sg.nothing.here}}}}\n"),
    )
    .unwrap();
    let broken = serve.until("/my-report.en.html", "metric-unknown");
    assert!(
        broken.contains("chapters/01-getting-started/en.md"),
        "{broken}"
    );
    assert!(
        broken.contains("A paragraph saved just now."),
        "the last good content stays"
    );
    let (_, index) = serve.get("/");
    assert!(index.contains("metric-unknown"), "{index}");

    // Fixed: the error goes.
    std::fs::write(&chapter, &good).unwrap();
    let fixed = serve.until("/my-report.en.html", "=> overlay(\"\"))");
    assert!(!fixed.contains("metric-unknown"), "{fixed}");
    assert!(!fixed.contains("A paragraph saved just now."));

    // Ctrl-C stops it, exit status 0.
    assert_eq!(serve.interrupt(), Some(0));
}

#[test]
fn serve_answers_only_the_editions_never_a_path_outside_them() {
    let dir = tempfile::tempdir().unwrap();
    let project = init(dir.path());
    std::fs::write(dir.path().join("secret.txt"), "not for the web").unwrap();
    std::fs::create_dir_all(project.join("out")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path().join("secret.txt"), project.join("out/link.html"))
        .unwrap();
    let serve = Serve::start(&project, &[]);
    for path in [
        "/report.toml",
        "/chapters/01-getting-started/en.md",
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/..%2f..%2f..%2fetc%2fpasswd",
        "/out/my-report.en.html",
        "/link.html",
        "/manifest.json",
        "/my-report.en.html/../../secret.txt",
        "//etc/passwd",
    ] {
        let (status, body) = serve.get(path);
        assert_eq!(status, 404, "{path}: {body}");
        assert!(!body.contains("not for the web"), "{path}");
    }
    // A query string does not change what a path names.
    assert_eq!(serve.get("/my-report.ja.html?x=../secret.txt").0, 200);
}

#[test]
fn serve_without_a_project_says_so_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_renga"))
        .args(["serve", "--port", "0"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a report project"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
