//! `renga serve`: `renga watch --html` with a live preview. An HTTP server
//! on loopback serves an index of the editions, each web edition and PDF,
//! and a Server-Sent Events channel; the pages it serves reload themselves
//! after each good rebuild (keeping the reader's place) and show a broken
//! build's errors over the last good content.
//!
//! The server is `tiny_http`: small, synchronous, no async runtime to build
//! or start, which is all a preview for one author needs. It answers only a
//! fixed set of paths, looked up by name (never joined onto a folder), so no
//! URL reaches a file outside the editions; it fetches nothing itself.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use tiny_http::{Header, Method, Request, Response, Server};

use crate::cli::args::ServeArgs;
use crate::cli::watch::{self, Rebuild, Session};
use crate::diag;
use crate::pipeline::Edition;

/// The path of the live-reload channel.
const EVENTS: &str = "/_renga/events";

/// What the served pages know of the last rebuild.
#[derive(Default)]
struct Live {
    /// Counts good rebuilds: a page built from an older one reloads.
    generation: u64,
    /// The last rebuild's errors, as the terminal shows them (empty: good).
    errors: String,
    /// The diagnostics of the last rebuild (warnings of a good one too).
    diagnostics: String,
    /// The report's name: the outputs' file names.
    name: Option<String>,
    out_dir: PathBuf,
    /// Each edition's page count and when its PDF was last built.
    editions: Vec<(Edition, Option<usize>, Option<SystemTime>)>,
    /// Open live-reload channels.
    listeners: Vec<Box<dyn Write + Send>>,
}

impl Live {
    /// The event every page gets: whether to reload, or the errors to show.
    fn event(&self) -> String {
        let data = serde_json::json!({
            "generation": self.generation,
            "errors": self.errors,
        });
        format!("data: {data}\n\n")
    }

    /// Sends the current state to every open page; drops closed ones.
    fn broadcast(&mut self) {
        let event = self.event();
        self.listeners.retain_mut(|l| {
            l.write_all(event.as_bytes())
                .and_then(|_| l.flush())
                .is_ok()
        });
    }

    /// The file name of an edition's page or PDF.
    fn file(&self, edition: Edition, ext: &str) -> Option<String> {
        Some(format!("{}.{}.{ext}", self.name.as_ref()?, edition.code()))
    }
}

pub fn run(args: &ServeArgs, quiet: bool) -> i32 {
    let mut watch_args = args.watch.clone();
    // The preview is the web editions: always build them.
    watch_args.project.html = true;
    let root = watch_args.project.project.clone();
    let format = watch_args.project.diagnostics.format;
    if !watch::is_project(&root) {
        return 1;
    }
    let addr = SocketAddr::new(args.host, args.port);
    let server = match Server::http(addr) {
        Ok(s) => s,
        Err(err) => {
            eprintln!("error: cannot listen on {addr}: {err}");
            return 1;
        }
    };
    let Some(bound) = server.server_addr().to_ip() else {
        eprintln!("error: cannot listen on {addr}");
        return 1;
    };
    let url = format!("http://{bound}/");
    // The first line says where to look (a test or script reads it).
    eprintln!("serving {url} (Ctrl-C to stop)");
    if !args.host.is_loopback() {
        eprintln!(
            "warning: listening on {}: anyone who can reach this machine can read the report",
            args.host
        );
    }
    let live = Arc::new(Mutex::new(Live::default()));
    let server = Arc::new(server);
    {
        let live = Arc::clone(&live);
        let server = Arc::clone(&server);
        std::thread::spawn(move || {
            for request in server.incoming_requests() {
                answer(request, &live);
            }
        });
    }
    let mut opened = !args.open;
    let code = watch::watch_loop(&watch_args, quiet, |session, rebuild| {
        watch::announce(&root, rebuild, format, quiet);
        let edition = update(&live, session, rebuild, &root);
        if !opened && let Some(file) = edition {
            opened = true;
            open_browser(&format!("{url}{file}"));
        }
    });
    server.unblock();
    code
}

/// Records a rebuild for the pages and tells them; returns the page to open
/// first (the bilingual one where there is one).
fn update(live: &Mutex<Live>, session: &Session, rebuild: &Rebuild, root: &Path) -> Option<String> {
    let mut live = live.lock().unwrap_or_else(|e| e.into_inner());
    live.name = session.name().map(str::to_string).or(live.name.take());
    live.out_dir = session.out_dir().to_path_buf();
    live.diagnostics = diag::human_text(root, &rebuild.diagnostics.items);
    if rebuild.failed {
        live.errors = match &rebuild.write_error {
            Some(err) => format!("error: {err}\n"),
            None => live.diagnostics.clone(),
        };
    } else {
        live.errors.clear();
        live.generation += 1;
    }
    let now = SystemTime::now();
    let mut editions = Vec::new();
    for &edition in session.editions() {
        let before = live
            .editions
            .iter()
            .find(|e| e.0 == edition)
            .and_then(|e| e.2);
        let built = rebuild.built.iter().any(|(e, _)| *e == edition);
        editions.push((
            edition,
            session.last_good(edition).map(|o| o.pages),
            if built { Some(now) } else { before },
        ));
    }
    live.editions = editions;
    live.broadcast();
    let first = session
        .editions()
        .iter()
        .max_by_key(|e| matches!(e, Edition::Bilingual))
        .copied()?;
    live.file(first, "html")
}

/// Answers one request. Only GET and HEAD of the index, the events, and
/// the editions' pages and PDFs by name; everything else is 404 (or 405).
fn answer(request: Request, live: &Mutex<Live>) {
    if !matches!(request.method(), Method::Get | Method::Head) {
        let _ =
            request.respond(Response::from_string("method not allowed\n").with_status_code(405));
        return;
    }
    // The path alone, percent-decoded: `%2e%2e` is `..`, which names nothing.
    let raw = request.url().split(['?', '#']).next().unwrap_or("/");
    let path = percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .into_owned();
    if path == EVENTS {
        let mut state = live.lock().unwrap_or_else(|e| e.into_inner());
        let event = state.event();
        let mut writer = request.into_writer();
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: keep-alive\r\n\r\nretry: 1000\n\n";
        if writer.write_all(head.as_bytes()).is_ok()
            && writer.write_all(event.as_bytes()).is_ok()
            && writer.flush().is_ok()
        {
            state.listeners.push(writer);
        }
        return;
    }
    let state = live.lock().unwrap_or_else(|e| e.into_inner());
    if path == "/" || path == "/index.html" {
        let page = inject(&index(&state), state.generation, &state.errors);
        drop(state);
        respond(request, page.into_bytes(), "text/html; charset=utf-8");
        return;
    }
    let name = path.trim_start_matches('/');
    let found = state.editions.iter().find_map(|&(edition, ..)| {
        ["html", "pdf"]
            .into_iter()
            .find(|ext| state.file(edition, ext).as_deref() == Some(name))
    });
    let Some(ext) = found else {
        drop(state);
        let _ = request.respond(Response::from_string("not found\n").with_status_code(404));
        return;
    };
    let file = state.out_dir.join(name);
    let (generation, errors) = (state.generation, state.errors.clone());
    drop(state);
    let Ok(bytes) = std::fs::read(&file) else {
        let _ = request.respond(
            Response::from_string("not built yet: fix the errors and save\n").with_status_code(404),
        );
        return;
    };
    if ext == "html" {
        let page = inject(&String::from_utf8_lossy(&bytes), generation, &errors);
        respond(request, page.into_bytes(), "text/html; charset=utf-8");
    } else {
        respond(request, bytes, "application/pdf");
    }
}

fn respond(request: Request, body: Vec<u8>, content_type: &str) {
    // Sent whole with its length (never chunked): a page is a few MB at most.
    let response = Response::from_data(body)
        .with_chunked_threshold(usize::MAX)
        .with_header(header("Content-Type", content_type))
        .with_header(header("Cache-Control", "no-store"))
        .with_header(header("X-Content-Type-Options", "nosniff"));
    let _ = request.respond(response);
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("a valid header")
}

/// The index: each edition's page and PDF, with its page count and when it
/// was built, and the last build's diagnostics.
fn index(live: &Live) -> String {
    let mut rows = String::new();
    for &(edition, pages, built) in &live.editions {
        let (Some(html), Some(pdf)) = (live.file(edition, "html"), live.file(edition, "pdf"))
        else {
            continue;
        };
        let pages = pages.map_or("not built yet".to_string(), |p| format!("{p} pages"));
        let built = built.map_or(String::new(), |t| format!(", built {}", clock(t)));
        rows.push_str(&format!(
            "<li><a href=\"/{html}\">{label}</a> · <a href=\"/{pdf}\">PDF</a> ({pages}{built})</li>\n",
            label = label(edition),
            html = escape(&html),
            pdf = escape(&pdf),
        ));
    }
    let diagnostics = if live.diagnostics.is_empty() {
        "<p>No warnings.</p>".to_string()
    } else {
        format!("<pre>{}</pre>", escape(&live.diagnostics))
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>renga serve: {name}</title>\n<style>body{{font-family:sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}pre{{white-space:pre-wrap;background:#f4f4f4;padding:1rem}}</style>\n</head>\n<body>\n<main>\n<h1>{name}</h1>\n<h2>Editions</h2>\n<ul>\n{rows}</ul>\n<h2>Last build</h2>\n{diagnostics}\n</main>\n</body>\n</html>\n",
        name = escape(live.name.as_deref().unwrap_or("renga")),
    )
}

fn label(edition: Edition) -> &'static str {
    match edition {
        Edition::En => "English",
        Edition::Ja => "Japanese (日本語)",
        Edition::Bilingual => "English and Japanese (英日対訳)",
    }
}

/// The time of day of `t`, UTC (hh:mm:ss).
fn clock(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!(
        "{:02}:{:02}:{:02} UTC",
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A served page: the page with the live-reload client before `</body>`,
/// and the errors of a broken build over it. Only served pages have it: the
/// web editions `renga compile --html` writes have no script.
fn inject(page: &str, generation: u64, errors: &str) -> String {
    let client = format!(
        "<script>\n{}\n</script>\n",
        CLIENT
            .replace("GENERATION", &generation.to_string())
            .replace("EVENTS", EVENTS)
            .replace("INITIAL", &script_string(errors))
    );
    match page.rfind("</body>") {
        Some(at) => format!("{}{client}{}", &page[..at], &page[at..]),
        None => format!("{page}{client}"),
    }
}

/// `text` as a JavaScript string literal that cannot end the script
/// element it stands in.
fn script_string(text: &str) -> String {
    serde_json::Value::from(text)
        .to_string()
        .replace("</", "<\\/")
        .replace("<!--", "<\\!--")
}

/// The live-reload client: keeps the reader's place across reloads, reloads
/// after a good rebuild, and shows a broken build's errors over the page.
const CLIENT: &str = r#"(() => {
  const key = "renga-scroll:" + location.pathname;
  const saved = sessionStorage.getItem(key);
  if (saved !== null) {
    sessionStorage.removeItem(key);
    addEventListener("load", () => scrollTo(0, Number(saved)));
  }
  const shown = GENERATION;
  const overlay = (text) => {
    let box = document.getElementById("renga-errors");
    if (!text) { if (box) box.remove(); return; }
    if (!box) {
      box = document.createElement("div");
      box.id = "renga-errors";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:0;overflow:auto;background:rgba(255,255,255,.96);color:#8b0000;z-index:2147483647;padding:1.5rem;font:14px/1.4 monospace";
      const pre = document.createElement("pre");
      pre.style.whiteSpace = "pre-wrap";
      box.appendChild(pre);
      document.body.appendChild(box);
    }
    box.firstChild.textContent = "renga: the last save does not build; this is the last good version.\n\n" + text;
  };
  addEventListener("DOMContentLoaded", () => overlay(INITIAL));
  const events = new EventSource("EVENTS");
  events.onmessage = (e) => {
    const state = JSON.parse(e.data);
    if (state.errors) { overlay(state.errors); return; }
    if (state.generation !== shown) {
      sessionStorage.setItem(key, String(scrollY));
      location.reload();
    } else {
      overlay("");
    }
  };
})();"#;

/// Opens `url` in the default browser; says so when there is none.
fn open_browser(url: &str) {
    let opener: &[&str] = if cfg!(target_os = "macos") {
        &["open"]
    } else if cfg!(windows) {
        &["cmd", "/C", "start", ""]
    } else {
        &["xdg-open"]
    };
    let spawned = std::process::Command::new(opener[0])
        .args(&opener[1..])
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if spawned.is_err() {
        eprintln!("note: no browser to open; open {url}");
    }
}

/// The default address: loopback only.
pub const DEFAULT_HOST: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_goes_before_the_end_of_the_body_only_in_served_pages() {
        let page = "<html><body><p>x</p></body></html>";
        let served = inject(page, 3, "");
        assert!(served.contains("<p>x</p><script>"));
        assert!(served.ends_with("</script>\n</body></html>"));
        assert!(served.contains("const shown = 3;"));
        assert!(served.contains("overlay(\"\")"));
        // Errors travel as a JSON string: no markup of theirs runs.
        let broken = inject(page, 3, "</script><b>x</b>\"");
        assert!(broken.contains(r#"overlay("<\/script><b>x<\/b>\"")"#));
        assert_eq!(broken.matches("</script>").count(), 1);
    }
}
