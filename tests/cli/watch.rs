//! `renga watch` driven like an author: edit, break, fix, save by rename.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use crate::common::*;

struct Watch {
    child: Child,
    lines: Receiver<String>,
}

impl Watch {
    fn start(p: &TestProject) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_renga"))
            .args(["watch", "--lang", "en", "--debounce", "100"])
            .current_dir(p.path())
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
        Self { child, lines }
    }

    /// Reads lines until one contains `needle`; returns everything read.
    fn wait_for(&self, needle: &str) -> String {
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
        panic!("`{needle}` never came; watch printed:\n{seen}");
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const EN: &str = "test-report.en.pdf";

fn chapter(body: &str) -> String {
    format!("+++\ntitle = \"Introduction\"\n+++\n\n## Purpose\n\n{body}\n")
}

#[test]
fn watch_rebuilds_on_save_keeps_the_last_good_pdf_and_recovers() {
    let p = TestProject::new();
    let watch = Watch::start(&p);
    watch.wait_for("rebuilt en");
    assert!(pdf_text(&p.out(EN)).contains("Singpass"));

    // An edit is typeset.
    p.file(
        "chapters/01-intro/en.md",
        chapter("The quokka is a small wallaby."),
    );
    watch.wait_for("rebuilt en");
    assert!(pdf_text(&p.out(EN)).contains("quokka"));

    // A broken file prints its error at its line and leaves the PDF alone.
    let good = std::fs::read(p.out(EN)).unwrap();
    p.file(
        "chapters/01-intro/en.md",
        "+++\ntitle = \"Introduction\n+++\n\nBroken.\n",
    );
    let printed = watch.wait_for("kept the last good PDFs");
    assert!(printed.contains("chapters/01-intro/en.md:2:"), "{printed}");
    assert_eq!(std::fs::read(p.out(EN)).unwrap(), good);

    // Fixing it recovers without a restart.
    p.file(
        "chapters/01-intro/en.md",
        chapter("The wombat digs burrows."),
    );
    watch.wait_for("rebuilt en");
    let text = pdf_text(&p.out(EN));
    assert!(
        text.contains("wombat") && !text.contains("quokka"),
        "{text}"
    );

    // An editor's save by rename (write a temporary file, rename it over).
    let tmp = p.path().join("chapters/01-intro/.en.md.swp");
    std::fs::write(&tmp, chapter("The echidna lays eggs.")).unwrap();
    std::fs::rename(&tmp, p.path().join("chapters/01-intro/en.md")).unwrap();
    watch.wait_for("rebuilt en");
    assert!(pdf_text(&p.out(EN)).contains("echidna"));

    // A metric changed in data/ is picked up too.
    p.file(
        "data/sg/identity.toml",
        SG_IDENTITY.replace("value = 1234567", "value = 7654321"),
    );
    p.file(
        "chapters/01-intro/en.md",
        chapter("Users: {{metric sg.identity.users}}."),
    );
    watch.wait_for("rebuilt en");
    assert!(squash(&pdf_text(&p.out(EN))).contains("Users:7,654,321people"));
}

#[test]
fn init_then_compile_succeeds_in_a_fresh_folder() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("new-report");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_renga"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let out = run(&["init", "new-report"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(target.join("templates/main.typ").is_file());
    let out = run(&["compile", "--strict", "new-report"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = squash(&pdf_text(&target.join("out/my-report.en-ja.pdf")));
    assert!(text.contains("4,500,000people(illustrative)"), "{text}");
    assert!(text.contains("450万人（例示値）"), "{text}");
    // It refuses to overwrite a project.
    let out = run(&["init", "new-report"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already a report project"));
    // --bare leaves the templates to the binary.
    let out = run(&["init", "--bare", "bare"]);
    assert!(out.status.success());
    assert!(!dir.path().join("bare/templates").exists());
    assert!(run(&["compile", "bare"]).status.success());
}

#[test]
fn completions_and_man_page_come_from_the_command_definitions() {
    let out = Command::new(env!("CARGO_BIN_EXE_renga"))
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let script = String::from_utf8_lossy(&out.stdout);
    assert!(script.contains("compile") && script.contains("watch") && script.contains("--strict"));
    let out = Command::new(env!("CARGO_BIN_EXE_renga"))
        .arg("man")
        .output()
        .unwrap();
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.contains(".TH renga"), "{page}");
    // Every command's help has an example.
    for command in [
        "compile",
        "check",
        "watch",
        "init",
        "diff",
        "status",
        "translated",
        "completions",
        "man",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_renga"))
            .args([command, "--help"])
            .output()
            .unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.contains("Example"),
            "{command} --help has no example:\n{help}"
        );
    }
}

impl Watch {
    /// The lines printed during `time`.
    fn lines_during(&self, time: Duration) -> Vec<String> {
        let deadline = Instant::now() + time;
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            if let Ok(line) = self.lines.recv_timeout(left) {
                seen.push(line);
            }
        }
        seen
    }
}

#[test]
fn logs_notes_and_editor_backups_do_not_trigger_builds() {
    let p = TestProject::new();
    let watch = Watch::start(&p);
    watch.wait_for("rebuilt en");
    p.file("build.log", "a log line\n");
    p.file("chapters/01-intro/en.md~", "an editor's backup");
    p.file("chapters/01-intro/#en.md#", "an autosave");
    p.file("chapters/01-intro/notes.txt", "an author's notes");
    p.file("data/sg/identity.toml.bak", "old figures");
    for i in 0..3 {
        p.file("build.log", format!("a log line {i}\n"));
        std::thread::sleep(Duration::from_millis(150));
    }
    let printed = watch.lines_during(Duration::from_millis(1500));
    assert!(printed.is_empty(), "no build started: {printed:?}");
    // A file the report is made of still does.
    p.file(
        "chapters/01-intro/en.md",
        chapter("The numbat eats termites."),
    );
    watch.wait_for("rebuilt en");
    assert!(pdf_text(&p.out(EN)).contains("numbat"));
}
