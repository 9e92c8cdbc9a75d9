//! `renga compile` and `renga check` run on temporary projects, checked by
//! what the PDFs say.

use crate::common::*;

const EN: &str = "test-report.en.pdf";
const JA: &str = "test-report.ja.pdf";
const BI: &str = "test-report.en-ja.pdf";

#[test]
fn compiles_three_editions_with_both_languages_and_formatted_metrics() {
    let p = TestProject::new();
    let out = p.renga(&["compile"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let en = squash(&pdf_text(&p.out(EN)));
    assert!(en.contains("Introduction"), "{en}");
    assert!(
        en.contains("Singpassserves1,234,567peopleresidents"),
        "{en}"
    );
    // The comparison table shows the illustrative figure marked as such.
    assert!(en.contains("98,765,432people(illustrative)"), "{en}");
    assert!(en.contains("31December2024"), "{en}");
    assert!(
        !en.contains("はじめに"),
        "the English edition has no Japanese chapter text"
    );

    let ja = squash(&pdf_text(&p.out(JA)));
    assert!(
        ja.contains("シンガポールでは123万4,567人が利用している。"),
        "{ja}"
    );
    assert!(ja.contains("9,876万5,432人（例示値）"), "{ja}");
    assert!(ja.contains("2024年12月31日"), "{ja}");

    let bi = squash(&pdf_text(&p.out(BI)));
    assert!(
        bi.contains("Singpassserves1,234,567peopleresidents"),
        "{bi}"
    );
    assert!(
        bi.contains("シンガポールでは123万4,567人が利用している。"),
        "{bi}"
    );

    // manifest.json lists every file with its real page count and hash.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p.out("manifest.json")).unwrap()).unwrap();
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    for f in files {
        let path = p.out(f["file"].as_str().unwrap());
        assert_eq!(f["pages"].as_u64().unwrap() as usize, pdf_pages(&path));
        let bytes = std::fs::read(&path).unwrap();
        let digest: String = sha2_hex(&bytes);
        assert_eq!(f["sha256"].as_str().unwrap(), digest);
    }
}

fn sha2_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn lang_picks_editions_and_out_picks_the_folder() {
    let p = TestProject::new();
    let out = p.renga(&["compile", "--lang", "ja", "--out", "build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(p.path().join("build").join(JA).is_file());
    assert!(!p.path().join("build").join(EN).exists());
    assert!(!p.path().join("build").join(BI).exists());
}

#[test]
fn english_only_builds_without_japanese_text() {
    let p = TestProject::new();
    p.remove("chapters/01-intro/ja.md");
    let out = p.renga(&["compile", "--lang", "en"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // …but the Japanese editions need it.
    let out = p.renga(&["compile"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("chapter 01-intro has no ja.md"),
        "{}",
        stderr(&out)
    );
}

/// Every bad input: exit 1, a message naming the author's file and line,
/// and no PDF written or overwritten.
fn assert_fails_at(p: &TestProject, needle: &str, place: &str) {
    let before = std::fs::read(p.out(EN)).ok();
    let out = p.renga(&["compile"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(needle), "expected `{needle}` in:\n{err}");
    assert!(err.contains(place), "expected `{place}` in:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        std::fs::read(p.out(EN)).ok(),
        before,
        "the PDF must be left as it was"
    );
}

#[test]
fn a_failed_build_leaves_the_previous_pdf_untouched() {
    let p = TestProject::new();
    assert!(p.renga(&["compile"]).status.success());
    let before = std::fs::read(p.out(EN)).unwrap();
    p.file(
        "chapters/01-intro/en.md",
        "## Purpose\n\nSee {{metric sg.identity.user}}.\n",
    );
    assert_fails_at(
        &p,
        "unknown metric `sg.identity.user`",
        "chapters/01-intro/en.md:3:5",
    );
    assert!(stderr(&p.renga(&["compile"])).contains("did you mean `sg.identity.users`?"));
    assert_eq!(std::fs::read(p.out(EN)).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(p.path().join("out"))
        .unwrap()
        .filter_map(Result::ok)
        .collect();
    assert_eq!(
        leftovers.len(),
        4,
        "three PDFs and manifest.json, no temporary files"
    );
}

#[test]
fn malformed_report_toml_names_key_and_line() {
    let p = TestProject::new();
    p.file(
        "report.toml",
        REPORT_TOML.replace("version = \"0.1\"", "version = \"0.1\"\ncolour = \"red\""),
    );
    assert_fails_at(&p, "unknown field `colour`", "report.toml:3:1");
}

#[test]
fn missing_required_key_is_an_error() {
    let p = TestProject::new();
    p.file(
        "report.toml",
        REPORT_TOML.replace("version = \"0.1\"\n", ""),
    );
    assert_fails_at(&p, "missing field `version`", "report.toml");
}

#[test]
fn malformed_front_matter_points_at_its_line() {
    let p = TestProject::new();
    p.file(
        "chapters/01-intro/en.md",
        "+++\ntitle = \"A\"\nauthors = [\"x\"\n+++\n\nBody\n",
    );
    assert_fails_at(&p, "error[toml]", "chapters/01-intro/en.md:");
    p.file(
        "chapters/01-intro/en.md",
        "+++\ntitle = \"A\"\nsubtitle = \"B\"\n+++\n\nBody\n",
    );
    assert_fails_at(
        &p,
        "unknown field `subtitle`",
        "chapters/01-intro/en.md:3:1",
    );
}

#[test]
fn malformed_metrics_name_file_and_line() {
    let p = TestProject::new();
    p.file(
        "data/sg/identity.toml",
        SG_IDENTITY.replace("unit = \"people\"", "unit = \"furlongs\""),
    );
    assert_fails_at(&p, "unknown variant `furlongs`", "data/sg/identity.toml:");
    p.file(
        "data/sg/identity.toml",
        SG_IDENTITY.replace("source = \"Test source A\"\n", ""),
    );
    assert_fails_at(&p, "missing field `source`", "data/sg/identity.toml:");
}

#[test]
fn missing_image_and_image_outside_the_project_are_errors_at_the_line() {
    let p = TestProject::new();
    p.file(
        "chapters/01-intro/en.md",
        "## A\n\nText.\n\n![A chart](chart.svg)\n",
    );
    assert_fails_at(
        &p,
        "image `chart.svg` not found",
        "chapters/01-intro/en.md:5:1",
    );
    p.file(
        "chapters/01-intro/en.md",
        "## A\n\n![Secrets](../../../etc/passwd.png)\n",
    );
    assert_fails_at(
        &p,
        "leaves the project folder",
        "chapters/01-intro/en.md:3:1",
    );
    p.file(
        "chapters/01-intro/en.md",
        "## A\n\n![Secrets](/etc/passwd.png)\n",
    );
    // A rooted path starts at the project folder, never at the file system's root.
    assert_fails_at(
        &p,
        "image `/etc/passwd.png` not found (looked for etc/passwd.png)",
        "chapters/01-intro/en.md:3:1",
    );
}

#[cfg(unix)]
#[test]
fn symlinked_image_leaving_the_project_is_refused() {
    let p = TestProject::new();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("x.svg"),
        "<svg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/>",
    )
    .unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("x.svg"),
        p.path().join("chapters/01-intro/x.svg"),
    )
    .unwrap();
    p.file("chapters/01-intro/en.md", "## A\n\n![An image](x.svg)\n");
    assert_fails_at(&p, "outside the project", "chapters/01-intro/en.md:3:1");
}

#[test]
fn template_errors_name_the_template_and_line() {
    let p = TestProject::new();
    p.file(
        "templates/main.typ",
        "#set document(title: \"x\")\n{{ no_such_variable }}\n",
    );
    assert_fails_at(&p, "undefined", "templates/main.typ:2");
    p.file("templates/main.typ", "ok\n{% for %}\n");
    assert_fails_at(&p, "syntax error", "templates/main.typ:2");
}

#[test]
fn typst_errors_from_a_chapter_point_at_the_markdown_line() {
    let p = TestProject::new();
    // A PNG typst cannot decode.
    p.file(
        "chapters/01-intro/broken.png",
        b"\x89PNG\r\n\x1a\nthis is not a png",
    );
    p.file(
        "chapters/01-intro/en.md",
        "## A\n\nFirst paragraph.\n\n![A broken picture](broken.png)\n",
    );
    let out = p.renga(&["compile", "--lang", "en"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("error[typst]"), "{err}");
    assert!(err.contains("chapters/01-intro/en.md:5:"), "{err}");
    // The offending source line is shown.
    assert!(err.contains("![A broken picture](broken.png)"), "{err}");
    assert!(
        !err.contains(".md.typ:"),
        "never point at generated code: {err}"
    );
}

#[test]
fn titles_with_typst_syntax_print_literally() {
    let p = TestProject::new();
    p.file(
        "report.toml",
        REPORT_TOML.replace(
            "en = \"Test Report\"",
            "en = \"#set *bold* [x] $y$ @z <w>\"",
        ),
    );
    p.file(
        "chapters/01-intro/en.md",
        "+++\ntitle = \"= #panic() //\"\n+++\n\n## A\n\n#let x = 1; `code` <b>bold</b>\n",
    );
    let (text, _) = p
        .layout_text(renga::pipeline::Edition::En)
        .unwrap_or_else(|d| panic!("{:?}", d.items));
    let t = squash(&text);
    assert!(t.contains("#set*bold*[x]$y$@z<w>"), "{t}");
    assert!(t.contains("=#panic()//"), "{t}");
    assert!(t.contains("#letx=1;codebold"), "{t}");
}

#[test]
fn usage_errors_exit_2() {
    let p = TestProject::new();
    assert_eq!(p.renga(&["compile", "--lang", "fr"]).status.code(), Some(2));
    assert_eq!(p.renga(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(p.renga(&[]).status.code(), Some(2));
}

#[test]
fn not_a_project_is_a_clear_error() {
    let p = TestProject::empty();
    let out = p.renga(&["compile"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("has no report.toml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn check_writes_nothing_and_reports_json() {
    let p = TestProject::new();
    p.file(
        "chapters/01-intro/en.md",
        "## A\n\nA [link](#nowhere) and {{metric jp.identity.userz}}.\n",
    );
    let out = p.renga(&["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!p.path().join("out").exists());
    let diags: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let metric = diags
        .iter()
        .find(|d| d["code"] == "metric-unknown")
        .expect("the metric error");
    assert_eq!(metric["file"], "chapters/01-intro/en.md");
    assert_eq!(metric["line"], 3);
    assert_eq!(metric["column"], 24);
    assert_eq!(metric["severity"], "error");
    let link = diags
        .iter()
        .find(|d| d["code"] == "link-anchor")
        .expect("the link warning");
    assert_eq!(link["severity"], "warning");
    assert_eq!(link["line"], 3);
}

#[test]
fn check_strict_fails_on_warnings_and_github_format_annotates() {
    let p = TestProject::new();
    p.file(
        "chapters/01-intro/en.md",
        "## A\n\nSee [there](#nowhere).\n",
    );
    let out = p.renga(&["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = p.renga(&["check", "--strict", "--format", "github"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out)
            .contains("::error file=chapters/01-intro/en.md,line=3,col=5,title=link-anchor::"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn missing_alt_text_is_refused_at_the_chapter_line() {
    let p = TestProject::new();
    p.file("chapters/01-intro/pic.svg", "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'><rect width='10' height='10'/></svg>");
    p.file("chapters/01-intro/en.md", "## A\n\nText.\n\n![](pic.svg)\n");
    assert_fails_at(&p, "has no alt text", "chapters/01-intro/en.md:5:1");
}

#[test]
fn identical_sources_give_identical_bytes_in_different_folders() {
    let a = TestProject::new();
    let b = TestProject::new();
    assert!(a.renga(&["compile"]).status.success());
    // A different time zone and another run must not change a byte.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_renga"))
        .arg("compile")
        .current_dir(b.path())
        .env("TZ", "Asia/Tokyo")
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .unwrap();
    assert!(out.status.success());
    for f in [EN, JA, BI] {
        assert_eq!(
            std::fs::read(a.out(f)).unwrap(),
            std::fs::read(b.out(f)).unwrap(),
            "{f} differs"
        );
    }
    // An edition built alone is the same file as one built with the others:
    // its identifier comes from what it is made of, not from the other
    // languages' chapters converted in the same run.
    for (lang, f) in [("en", EN), ("ja", JA), ("en-ja", BI)] {
        let alone = format!("alone-{lang}");
        let out = b.renga(&["compile", "--lang", lang, "--out", &alone]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            std::fs::read(a.out(f)).unwrap()
                == std::fs::read(b.path().join(&alone).join(f)).unwrap(),
            "{f} built alone differs from {f} built with the other editions"
        );
    }
    // With the least memory (caches emptied between layout iterations), the
    // same bytes; `--jobs` and `--low-memory` contradict each other.
    let out = b.renga(&["compile", "--low-memory", "--out", "lean"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for f in [EN, JA, BI] {
        assert!(
            std::fs::read(a.out(f)).unwrap()
                == std::fs::read(b.path().join("lean").join(f)).unwrap(),
            "{f} built with --low-memory differs"
        );
    }
    let out = b.renga(&["compile", "--low-memory", "--jobs", "2"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // SOURCE_DATE_EPOCH changes the date, and so the bytes.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_renga"))
        .args(["compile", "--lang", "en", "--out", "epoch"])
        .current_dir(b.path())
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_ne!(
        std::fs::read(a.out(EN)).unwrap(),
        std::fs::read(b.path().join("epoch").join(EN)).unwrap()
    );
}

#[test]
fn editions_laid_out_side_by_side_give_the_same_bytes_as_one_at_a_time() {
    // This repository's report: eight chapters whose editions share modules,
    // metrics and images, so threads laying them out at once share typst's
    // caches. Every PDF and the manifest must not change by a byte.
    let root = env!("CARGO_MANIFEST_DIR");
    let out = tempfile::tempdir().unwrap();
    let compile = |jobs: &str| {
        let dir = out.path().join(format!("jobs-{jobs}"));
        let run = std::process::Command::new(env!("CARGO_BIN_EXE_renga"))
            .args(["compile", root, "--jobs", jobs, "--out"])
            .arg(&dir)
            .env_remove("SOURCE_DATE_EPOCH")
            .output()
            .unwrap();
        assert!(run.status.success(), "--jobs {jobs}: {}", stderr(&run));
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap())
            .map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                (name, std::fs::read(e.path()).unwrap())
            })
            .collect();
        files.sort();
        files
    };
    let one = compile("1");
    assert_eq!(one.len(), 4, "three PDFs and manifest.json");
    for jobs in ["2", "3"] {
        let many = compile(jobs);
        assert_eq!(
            one.iter().map(|f| &f.0).collect::<Vec<_>>(),
            many.iter().map(|f| &f.0).collect::<Vec<_>>()
        );
        for ((name, a), (_, b)) in one.iter().zip(&many) {
            assert!(a == b, "{name} differs between --jobs 1 and --jobs {jobs}");
        }
    }
}

#[test]
fn the_repository_report_checks_clean() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_renga"))
        .args(["check", "--strict", root])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn text_in_the_other_language_is_tagged_with_its_language() {
    use renga::pipeline::Edition::*;
    let p = TestProject::new();
    p.file(
        "chapters/01-intro/en.md",
        "## A\n\nThe デジタル庁 works with GovTech.\n",
    );
    p.file(
        "chapters/01-intro/ja.md",
        "## A\n\nデジタル庁はGovTechと協力する。\n",
    );
    // Every run showing the probe, on the cover or in the chapter, carries the language.
    let check = |edition, probe: &str, lang: &str, at_least: usize| {
        let runs = p.layout_runs(edition);
        let found: Vec<_> = runs.iter().filter(|r| r.text.contains(probe)).collect();
        assert!(
            found.len() >= at_least,
            "{probe} shown {} times in {edition:?}: {runs:?}",
            found.len()
        );
        assert!(
            found.iter().all(|r| r.lang == lang),
            "{probe} in {edition:?}: {found:?}"
        );
    };
    check(En, "デジタル", "ja", 2);
    check(En, "works", "en", 1);
    check(Ja, "GovTech", "en", 2);
    check(Ja, "協", "ja", 1);
    // Bilingual: both columns.
    check(Bilingual, "デジタル", "ja", 3);
    check(Bilingual, "GovTech", "en", 3);
    check(Bilingual, "協", "ja", 1);
    check(Bilingual, "works", "en", 1);
}

#[test]
fn pdf_metadata_and_metrics_attachment() {
    let p = TestProject::new();
    let out = p.renga(&["compile", "--lang", "en"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let info = std::process::Command::new("pdfinfo")
        .arg(p.out(EN))
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("Title:           Test Report"), "{info}");
    assert!(
        info.contains("GovTech") && info.contains("Digital Agency"),
        "both agencies are authors: {info}"
    );
    assert!(info.contains("Tagged:          yes"), "{info}");
    assert!(
        info.contains("Keywords:        digital government"),
        "{info}"
    );
    assert!(info.contains("Subject:         A test report."), "{info}");
    assert!(
        info.contains("CreationDate:    Fri Nov 27"),
        "the report's date: {info}"
    );
    let list = std::process::Command::new("pdfdetach")
        .arg("-list")
        .arg(p.out(EN))
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(list.contains("metrics.json"), "{list}");
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("m.json");
    let status = std::process::Command::new("pdfdetach")
        .args(["-save", "1", "-o"])
        .arg(&saved)
        .arg(p.out(EN))
        .status()
        .unwrap();
    assert!(status.success());
    let data: serde_json::Value = serde_json::from_slice(&std::fs::read(saved).unwrap()).unwrap();
    let keys: Vec<&str> = data["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["sg.identity.users", "jp.identity.users"]);
}

#[test]
fn emoji_print_and_unshowable_characters_are_reported_not_fatal() {
    let p = TestProject::new();
    p.file(
        "chapters/01-intro/en.md",
        "## A\n\nA thumbs up 👍 and `A👍%`, and Thai ก.\n",
    );
    let out = p.renga(&["compile", "--lang", "en"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("warning[glyph-missing]"), "{err}");
    assert!(err.contains("U+0E01"), "{err}");
    let text = pdf_text(&p.out(EN));
    assert!(text.contains("👍"), "{text}");
    assert!(text.contains("[U+0E01]"), "{text}");
    // check runs the same export checks as compile.
    let out = p.renga(&["check", "--lang", "en", "--strict"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn text_in_html_code_tags_keeps_straight_punctuation() {
    let p = TestProject::new();
    p.file(
        "chapters/01-intro/en.md",
        "## A\n\nUse <code>--print-width \"80\"</code> -- \"quoted\".\n",
    );
    let (text, _) = p
        .layout_text(renga::pipeline::Edition::En)
        .unwrap_or_else(|d| panic!("{:?}", d.items));
    assert!(text.contains("--print-width \"80\""), "{text}");
    assert!(
        text.contains("– “quoted”"),
        "prose keeps smart punctuation: {text}"
    );
}

#[test]
fn links_between_chapters_and_to_headings_are_links_inside_the_pdf() {
    use typst::layout::{Frame, FrameItem};
    use typst::model::Destination;
    let p = TestProject::new();
    p.remove("chapters/01-intro/ja.md");
    p.file("chapters/01-intro/en.md", "## Purpose\n\nSee [the method](../02-method/en.md#how-we-count) and [a site](https://example.org).\n");
    p.file(
        "chapters/02-method/en.md",
        "## How we count\n\nCarefully.\n",
    );
    let mut diags = renga::diag::Diagnostics::default();
    let mut timings = renga::pipeline::Timings::default();
    let prepared =
        renga::pipeline::prepare(p.path(), &[Edition::En], &mut diags, &mut timings).unwrap();
    let (doc, d) = prepared.layout(Edition::En);
    assert!(d.iter().all(|d| !d.is_error()), "{d:?}");
    fn links(frame: &Frame, internal: &mut usize, external: &mut Vec<String>) {
        for (_, item) in frame.items() {
            match item {
                FrameItem::Group(g) => links(&g.frame, internal, external),
                FrameItem::Link(Destination::Location(_), _) => *internal += 1,
                FrameItem::Link(Destination::Url(url), _) => external.push(url.to_string()),
                _ => {}
            }
        }
    }
    let (mut internal, mut external) = (0, Vec::new());
    for page in doc.unwrap().pages() {
        links(&page.frame, &mut internal, &mut external);
    }
    // The cross-reference (plus the outline's entries) link inside the document.
    assert!(internal > 3, "{internal} internal links");
    assert!(
        external.contains(&"https://example.org".to_string()),
        "{external:?}"
    );
}

use renga::pipeline::Edition;

#[test]
fn remote_images_are_never_fetched_but_named_in_a_placeholder() {
    let p = TestProject::new();
    p.file(
        "chapters/01-intro/en.md",
        "## A\n\n![The logo](https://example.org/logo.png)\n",
    );
    let out = p.renga(&["compile", "--lang", "en"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("warning[image-remote]"), "{err}");
    assert!(err.contains("chapters/01-intro/en.md:3:1"), "{err}");
    let text = pdf_text(&p.out(EN));
    assert!(text.contains("https://example.org/logo.png"), "{text}");
    assert!(text.contains("The logo"), "{text}");
}

#[test]
fn code_languages_lists_and_headings_convert_faithfully() {
    let dir = tempfile::tempdir().unwrap();
    let md =
        "# Title\n\nText.\n\n#### Deep\n\n```rust,ignore\nfn main() {}\n```\n\n3. three\n4. four\n";
    let c = renga::markdown::convert_text(dir.path(), md, renga::model::lang::Lang::En);
    assert!(c.source.contains("lang: \"rust\""), "{}", c.source);
    assert!(!c.source.contains("rust,ignore"));
    assert!(c.source.contains("#enum(start: 3"), "{}", c.source);
    // `#` is the title, `####` the first section: level 2, never a skip.
    assert_eq!(
        c.sections.iter().map(|s| s.level).collect::<Vec<_>>(),
        vec![2]
    );
    assert_eq!(c.title, "Title");
}

#[test]
fn a_layout_that_never_settles_is_a_warning_at_its_template_line() {
    // A counter set to one more than its own final value: every layout
    // changes the answer the next one gets. renga lays out iterations
    // itself (to free memory between them); this must end, and say why, as
    // typst's own loop does.
    let p = TestProject::new();
    let template = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/main.typ"),
    )
    .unwrap();
    let unsettled =
        "#context counter(\"renga-x\").update(counter(\"renga-x\").final().first() + 1)\n";
    p.file("templates/main.typ", format!("{template}\n{unsettled}"));
    let line = template.lines().count() + 2;
    let out = p.renga(&["compile", "--lang", "en"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("did not converge"), "{err}");
    assert!(err.contains(&format!("templates/main.typ:{line}")), "{err}");
}

#[test]
fn timings_show_each_layout_with_typsts_passes_over_it() {
    let p = TestProject::new();
    let out = p.renga(&["compile", "--lang", "en", "--timings"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let ms = |name: &str| -> f64 {
        err.lines()
            .find_map(|l| l.trim().strip_prefix(name)?.trim().strip_suffix(" ms"))
            .unwrap_or_else(|| panic!("no `{name}` line: {err}"))
            .trim()
            .parse()
            .unwrap()
    };
    // The contents' page numbers need a second pass; the passes are part
    // of the layout's time, never more than it.
    let passes = [ms("layout en pass 1"), ms("layout en pass 2")];
    assert!(passes.iter().sum::<f64>() <= ms("layout en") + 0.2, "{err}");
    assert!(ms("wall") >= ms("layout en"), "{err}");
}
