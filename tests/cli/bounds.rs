//! What renga bounds so that a hostile pull request on a shared CI runner
//! is an error, never a crash or a runaway build (issue #22): image bombs,
//! deep nesting, templates that run on, quadratic SVG text and XLIFF files.
//! Every hostile input is built here; each test fails on renga before the
//! bound it names (an abort, exit 134, or a build that runs on).

use crate::common::*;

/// CRC-32 (IEEE), as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A valid PNG header whose IHDR declares `side` × `side` RGB pixels, with
/// a few bytes of image data: 74 bytes that ask a decoder for 30 GB.
fn png_bomb(side: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut ihdr = side.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    // zlib: a stored block of 5 zero bytes.
    let idat = [
        0x78, 0x01, 0x01, 0x05, 0x00, 0xfa, 0xff, 0, 0, 0, 0, 0, 0, 0x05, 0, 0x01,
    ];
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", b"");
    out
}

/// `renga ARGS --format json`: the exit code and the diagnostics, after
/// checking that renga ended by itself (no signal, no panic).
fn run_json(p: &TestProject, args: &[&str]) -> (i32, Vec<serde_json::Value>) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = p.renga(&all);
    let (stdout, stderr) = (stdout(&out), stderr(&out));
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("renga was killed by a signal: {:?}\n{stderr}", out.status));
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("overflow"), "{stderr}");
    let diags = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("JSON lines: {l}")))
        .collect();
    (code, diags)
}

fn with_code<'d>(diags: &'d [serde_json::Value], code: &str) -> Vec<&'d serde_json::Value> {
    diags.iter().filter(|d| d["code"] == code).collect()
}

#[test]
fn an_image_bomb_is_refused_at_the_markdown_image_in_every_edition() {
    let p = TestProject::new();
    p.file("chapters/01-intro/bomb.png", png_bomb(100_000));
    p.file(
        "chapters/01-intro/en.md",
        "## Purpose\n\nText.\n\n![A chart](bomb.png)\n",
    );
    for args in [&["check"][..], &["check", "--html"][..]] {
        let (code, diags) = run_json(&p, args);
        assert_eq!(code, 1, "{args:?}: {diags:?}");
        let refused = with_code(&diags, "image-too-large");
        assert!(!refused.is_empty(), "{args:?}: {diags:?}");
        for d in refused {
            assert_eq!(d["file"], "chapters/01-intro/en.md", "{d}");
            assert_eq!(d["line"], 5, "{d}");
            assert!(
                d["message"].as_str().unwrap().contains("100000 × 100000"),
                "{d}"
            );
        }
    }
    assert!(!p.path().join("out").exists());
}

#[test]
fn an_image_bomb_shown_by_a_template_is_an_error_not_an_abort() {
    let p = TestProject::new();
    p.file("images/bomb.png", png_bomb(100_000));
    let main = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/main.typ"))
        .unwrap();
    p.file(
        "templates/main.typ",
        format!("{main}\n#image(\"/images/bomb.png\", alt: \"A chart\")\n"),
    );
    let (code, diags) = run_json(&p, &["check", "--lang", "en"]);
    assert_eq!(code, 1, "{diags:?}");
    assert!(
        diags.iter().any(|d| d["message"]
            .as_str()
            .is_some_and(|m| m.contains("images/bomb.png is 100000 × 100000 pixels"))),
        "{diags:?}"
    );
}

/// Markdown nested far beyond what a writer could follow on its stack,
/// in both languages (so that the two are converted on worker threads,
/// whose stacks are smaller than the main thread's).
fn deeply_nested(body: &str) -> TestProject {
    let p = TestProject::new();
    p.file("chapters/01-intro/en.md", format!("## Purpose\n\n{body}"));
    p.file("chapters/01-intro/ja.md", format!("## 目的\n\n{body}"));
    p
}

/// Every command that reads chapters ends by itself on `p`, and the
/// editions warn that the structure was set flat (`nesting`).
fn assert_survives(p: &TestProject) {
    let (_, diags) = run_json(p, &["check", "--html"]);
    assert!(!with_code(&diags, "nesting").is_empty(), "{diags:?}");
    for d in with_code(&diags, "nesting") {
        assert!(
            d["file"]
                .as_str()
                .unwrap()
                .starts_with("chapters/01-intro/"),
            "{d}"
        );
        assert!(d["line"].as_u64().unwrap() >= 3, "{d}");
    }
    for args in [
        &["xliff", "export", "--all", "--out", "x.xlf"][..],
        &["status"][..],
        &["diff", "--format", "json"][..],
    ] {
        let out = p.renga(args);
        assert!(
            out.status.code().is_some(),
            "{args:?} was killed: {:?}",
            out.status
        );
        assert!(
            !stderr(&out).contains("panicked"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn fifty_thousand_nested_quotes_do_not_overflow_the_stack() {
    assert_survives(&deeply_nested(&format!("{}deep\n", "> ".repeat(50_000))));
}

#[test]
fn emphasis_nested_five_thousand_deep_does_not_overflow_the_stack() {
    let stars = "*".repeat(5_000);
    assert_survives(&deeply_nested(&format!("{stars}deep{stars}\n")));
}

#[test]
fn a_chain_of_two_thousand_footnotes_does_not_overflow_the_stack() {
    let mut body = String::from("Text.[^n0]\n\n");
    for i in 0..2_000 {
        body.push_str(&format!("[^n{i}]: See.[^n{}]\n\n", i + 1));
    }
    body.push_str("[^n2000]: The end.\n");
    let p = deeply_nested(&body);
    assert_survives(&p);
    // Every note's text is kept, the deep ones in brackets.
    let out = p.renga(&["compile", "--lang", "en"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(pdf_text(&p.out("test-report.en.pdf")).contains("The end."));
}

/// `renga ARGS` in the project with environment variables set.
fn renga_with_env(p: &TestProject, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_renga"));
    command
        .args(args)
        .current_dir(p.path())
        .env("NO_COLOR", "1");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("renga runs")
}

/// The default main template with `extra` at its end.
fn with_main_template(p: &TestProject, extra: &str) {
    let main = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/main.typ"))
        .unwrap();
    p.file("templates/main.typ", format!("{main}\n{extra}\n"));
}

#[test]
fn a_minijinja_loop_of_ten_billion_iterations_runs_out_of_fuel_at_its_line() {
    let p = TestProject::new();
    with_main_template(
        &p,
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    );
    let lines = std::fs::read_to_string(p.path().join("templates/main.typ"))
        .unwrap()
        .lines()
        .count();
    let (code, diags) = run_json(&p, &["check", "--lang", "en"]);
    assert_eq!(code, 1, "{diags:?}");
    let d = diags
        .iter()
        .find(|d| d["code"] == "template")
        .expect("a template error");
    assert!(d["message"].as_str().unwrap().contains("fuel"), "{d}");
    assert_eq!(d["file"], "templates/main.typ");
    assert_eq!(d["line"].as_u64().unwrap() as usize, lines);
}

/// `renga check` under `env` ends by itself with exit 1 and one
/// `build-limit` error at the project's template, mentioning `what`.
fn assert_stopped(p: &TestProject, env: &[(&str, &str)], what: &str) {
    let out = renga_with_env(p, &["check", "--lang", "en", "--format", "json"], env);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{:?} {}",
        out.status,
        stderr(&out)
    );
    let diags: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let d = diags
        .iter()
        .find(|d| d["code"] == "build-limit")
        .expect("a build-limit error");
    assert_eq!(d["file"], "templates/main.typ", "{d}");
    assert!(d["message"].as_str().unwrap().contains(what), "{d}");
}

#[test]
fn a_typst_loop_that_runs_on_is_stopped_at_the_time_limit() {
    let p = TestProject::new();
    // 10^10 iterations in little memory.
    with_main_template(&p, "#for i in range(100000) { for j in range(100000) {} }");
    assert_stopped(&p, &[("RENGA_TIME_LIMIT", "2")], "RENGA_TIME_LIMIT=2");
}

#[test]
fn a_typst_template_that_eats_memory_is_stopped_at_the_memory_limit() {
    let p = TestProject::new();
    with_main_template(&p, "#let all = range(100000000000)");
    assert_stopped(
        &p,
        &[("RENGA_MEMORY_LIMIT", "300")],
        "RENGA_MEMORY_LIMIT=300",
    );
}

/// An SVG figure whose one `<text>` holds `chars` characters.
fn svg_with_text(chars: usize) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100\" height=\"20\"><text x=\"0\" y=\"10\">{}</text></svg>",
        "a ".repeat(chars / 2)
    )
}

#[test]
fn an_svg_with_a_hundred_thousand_characters_of_text_is_refused_at_the_image() {
    let p = TestProject::new();
    p.file("chapters/01-intro/long.svg", svg_with_text(100_000));
    p.file("chapters/01-intro/short.svg", svg_with_text(2_000));
    p.file(
        "chapters/01-intro/en.md",
        "## Purpose\n\n![Labels](short.svg)\n\n![A chart](long.svg)\n",
    );
    for args in [
        &["check", "--lang", "en"][..],
        &["check", "--lang", "en", "--html"][..],
    ] {
        let (code, diags) = run_json(&p, args);
        assert_eq!(code, 1, "{args:?}: {diags:?}");
        let refused = with_code(&diags, "image-too-large");
        assert_eq!(refused.len(), 1, "{args:?}: {diags:?}");
        assert_eq!(refused[0]["file"], "chapters/01-intro/en.md");
        assert_eq!(refused[0]["line"], 5);
        assert!(
            refused[0]["message"]
                .as_str()
                .unwrap()
                .contains("100000 characters")
        );
    }
}
