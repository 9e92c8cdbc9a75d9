//! Terminology (`glossary.toml`): a block whose counterpart uses a term
//! lacks the agreed rendering, or a chapter uses a forbidden variant: a
//! warning at its line, in either direction; a broken glossary is an error
//! at its line; the report itself is consistent.

use std::path::Path;

use crate::common::*;
use serde_json::Value;

const EN: &str = "chapters/01-intro/en.md";
const JA: &str = "chapters/01-intro/ja.md";

/// The report's real terms, as its chapters use them.
const GLOSSARY: &str = r#"
[[term]]
en = "My Number Card"
ja = "マイナンバーカード"
forbidden = { ja = ["個人番号カード"] }
note = "The card, not the number (マイナンバー)."

[[term]]
en = "Singpass"
ja = "Singpass"

[[term]]
en = "GovTech"
ja = "GovTech"
forbidden = { en = ["GovCloud"] }
"#;

fn diagnostics(out: &std::process::Output) -> Vec<Value> {
    assert!(!stderr(out).contains("panicked"), "{}", stderr(out));
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

fn with_code<'a>(d: &'a [Value], code: &str) -> Vec<&'a Value> {
    d.iter().filter(|d| d["code"] == code).collect()
}

/// Two paragraphs each, recorded as translations of each other.
fn project(en: &str, ja: &str) -> TestProject {
    let p = TestProject::new();
    p.file("glossary.toml", GLOSSARY);
    p.file(EN, en);
    p.file(JA, ja);
    let out = p.renga(&["translated", "01-intro"]);
    assert!(out.status.success(), "{}", stderr(&out));
    p
}

#[test]
fn an_english_term_without_its_japanese_rendering_is_found_at_the_japanese_block() {
    let p = project(
        "## Cards\n\nResidents use the\nMy Number Cards issued by the city.\n\nSingpass is national.\n",
        "## カード\n\n住民は市が発行するカードを使う。\n\nSingpassは全国のサービスである。\n",
    );
    let out = p.renga(&["check", "--format", "json"]);
    let d = diagnostics(&out);
    let found = with_code(&d, "term-inconsistent");
    assert_eq!(found.len(), 1, "{d:?}");
    assert_eq!(found[0]["file"], JA);
    assert_eq!(found[0]["line"], 3);
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("マイナンバーカード")
    );
    assert_eq!(found[0]["severity"], "warning");
    // --strict refuses it.
    let strict = p.renga(&["check", "--strict"]);
    assert_eq!(strict.status.code(), Some(1), "{}", stderr(&strict));
    assert!(stderr(&strict).contains("term-inconsistent"));
}

#[test]
fn a_japanese_term_without_its_english_rendering_is_found_at_the_english_block() {
    let p = project(
        "## Cards\n\nResidents use a card.\n\nSingpass is national.\n",
        "## カード\n\n住民はマイナンバー\nカードを使う。\n\nSingpassは全国のサービスである。\n",
    );
    let d = diagnostics(&p.renga(&["check", "--format", "json"]));
    let found = with_code(&d, "term-inconsistent");
    assert_eq!(found.len(), 1, "{d:?}");
    assert_eq!(found[0]["file"], EN);
    assert_eq!(found[0]["line"], 3);
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("My Number Card")
    );
}

#[test]
fn a_forbidden_variant_is_found_at_its_line_in_either_language() {
    let p = project(
        "## Cards\n\nThe My Number Card\nis issued to residents.\n\nGovTech moved agencies to GovCloud in 2021.\n",
        "## カード\n\nマイナンバーカード（個人番号カード）は住民に交付される。\n\nGovTechは2021年に移行した。\n",
    );
    let out = p.renga(&["check", "--format", "github"]);
    let text = stdout(&out) + &stderr(&out);
    assert!(
        text.contains(&format!("file={JA},line=3,")) && text.contains("term-forbidden"),
        "{text}"
    );
    let d = diagnostics(&p.renga(&["check", "--format", "json"]));
    let found = with_code(&d, "term-forbidden");
    assert_eq!(found.len(), 2, "{d:?}");
    let ja = found.iter().find(|d| d["file"] == JA).expect("ja");
    assert_eq!(
        (ja["line"].as_u64(), ja["column"].as_u64()),
        (Some(3), Some(11))
    );
    let en = found.iter().find(|d| d["file"] == EN).expect("en");
    assert_eq!(
        (en["line"].as_u64(), en["column"].as_u64()),
        (Some(6), Some(27))
    );
    // Nothing inconsistent: both blocks use the agreed terms.
    assert!(with_code(&d, "term-inconsistent").is_empty(), "{d:?}");
}

#[test]
fn without_a_record_the_bilingual_sections_are_the_counterparts() {
    let p = TestProject::new();
    p.file("glossary.toml", GLOSSARY);
    p.file(
        EN,
        "## Cards\n\nThe My Number Card.\n\n## Login\n\nSingpass.\n",
    );
    p.file(JA, "## カード\n\nカード。\n\n## ログイン\n\nSingpass。\n");
    let d = diagnostics(&p.renga(&["check", "--format", "json"]));
    let found = with_code(&d, "term-inconsistent");
    assert_eq!(found.len(), 1, "{d:?}");
    assert_eq!(found[0]["file"], JA);
    assert_eq!(found[0]["line"], 1);
}

#[test]
fn a_broken_or_duplicate_glossary_entry_is_an_error_at_its_line() {
    let p = TestProject::new();
    p.file(
        "glossary.toml",
        "[[term]]\nen = \"Singpass\"\nja = \"Singpass\"\n\n[[term]]\nen = \"singpass\"\nja = \"シングパス\"\n",
    );
    let out = p.renga(&["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let d = diagnostics(&out);
    let e = with_code(&d, "glossary");
    assert_eq!(e.len(), 1, "{d:?}");
    assert_eq!(
        (e[0]["file"].as_str(), e[0]["line"].as_u64()),
        (Some("glossary.toml"), Some(6))
    );
    p.file("glossary.toml", "[[term]]\nen = \"Singpass\"\njp = \"x\"\n");
    let out = p.renga(&["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let d = diagnostics(&out);
    let e = with_code(&d, "glossary");
    assert_eq!(e.len(), 1, "{d:?}");
    assert_eq!(e[0]["line"], 3);
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn this_report_with_its_glossary_has_no_term_warning() {
    let p = TestProject::empty();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["chapters", "data", "templates", "assets"] {
        copy(&root.join(dir), &p.path().join(dir));
    }
    std::fs::copy(root.join("report.toml"), p.path().join("report.toml")).unwrap();
    p.file("glossary.toml", GLOSSARY);
    // The real chapters use these terms, so the check has something to see.
    let en = std::fs::read_to_string(root.join("chapters/02-digital-identity/en.md")).unwrap();
    let ja = std::fs::read_to_string(root.join("chapters/02-digital-identity/ja.md")).unwrap();
    assert!(en.contains("My Number Card") && ja.contains("マイナンバーカード"));
    let d = diagnostics(&p.renga(&["check", "--format", "json"]));
    let terms: Vec<_> = d
        .iter()
        .filter(|d| d["code"].as_str().is_some_and(|c| c.starts_with("term-")))
        .collect();
    assert!(terms.is_empty(), "{terms:?}");
    // The report's one inconsistent term: chapter 6 keeps "Smart Nation"
    // in Japanese where the others write スマートネーション.
    p.file(
        "glossary.toml",
        format!("{GLOSSARY}\n[[term]]\nen = \"Smart Nation\"\nja = \"スマートネーション\"\n"),
    );
    let d = diagnostics(&p.renga(&["check", "--format", "json"]));
    let found = with_code(&d, "term-inconsistent");
    assert!(!found.is_empty(), "{d:?}");
    assert!(
        found
            .iter()
            .all(|d| d["file"] == "chapters/06-covid-19/ja.md"),
        "{found:?}"
    );
}

#[test]
fn the_glossary_exports_as_tbx_that_translate_toolkit_reads() {
    let p = TestProject::new();
    p.file("glossary.toml", GLOSSARY);
    let out = p.renga(&["tbx", "export", "--out", "glossary.tbx"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let path = p.path().join("glossary.tbx");
    let script = "import sys\nfrom translate.storage import tbx\nf = tbx.tbxfile.parsefile(sys.argv[1])\nfor u in f.units:\n    print(u.source)\n";
    let read = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .output()
        .expect("python3 runs");
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let units: Vec<String> = String::from_utf8_lossy(&read.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(units, ["My Number Card", "Singpass", "GovTech"]);
    let xml = std::fs::read_to_string(&path).unwrap();
    assert!(xml.contains("<term>個人番号カード</term>"), "{xml}");
    assert!(xml.contains("deprecatedTerm-admn-sts"), "{xml}");
    assert!(
        xml.contains("<descrip type=\"definition\">The card, not the number"),
        "{xml}"
    );
}

#[test]
fn the_tmx_holds_exactly_the_pairs_in_sync() {
    let p = project(
        "## Cards\n\nResidents use the My Number Card.\n\nSingpass is national.\n",
        "## カード\n\n住民はマイナンバーカードを使う。\n\nSingpassは全国のサービスである。\n",
    );
    // The last paragraph changes in English: its pair is stale.
    p.file(
        EN,
        "## Cards\n\nResidents use the My Number Card.\n\nSingpass is used nationwide.\n",
    );
    let out = p.renga(&["tmx", "export", "--out", "memory.tmx"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let script = "import sys\nfrom translate.storage import tmx\nf = tmx.tmxfile(open(sys.argv[1], 'rb'), 'en', 'ja')\nfor u in f.units:\n    print(u.source + '|' + u.target)\n";
    let read = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(p.path().join("memory.tmx"))
        .output()
        .expect("python3 runs");
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let units: Vec<String> = String::from_utf8_lossy(&read.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        units,
        [
            "Cards|カード",
            "Residents use the My Number Card.|住民はマイナンバーカードを使う。"
        ]
    );
}
