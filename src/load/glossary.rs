//! `glossary.toml`: the terms the two languages agree on, and the variants
//! that must not be used (see `renga::review::terms` and `renga tbx export`).

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::diag::{Diagnostic, Diagnostics, Location};
use crate::load::confine::{ReadError, Root};
use crate::model::lang::Lang;

/// The glossary's path relative to the project root.
pub const GLOSSARY: &str = "glossary.toml";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    term: Vec<Spanned<RawTerm>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerm {
    en: Spanned<String>,
    ja: Spanned<String>,
    #[serde(default)]
    forbidden: Forbidden,
    note: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Forbidden {
    #[serde(default)]
    en: Vec<Spanned<String>>,
    #[serde(default)]
    ja: Vec<Spanned<String>>,
}

/// One agreed term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub en: String,
    pub ja: String,
    /// Variants that must not be used, in English.
    pub forbidden_en: Vec<String>,
    /// Variants that must not be used, in Japanese.
    pub forbidden_ja: Vec<String>,
    pub note: Option<String>,
    /// The entry's line in glossary.toml.
    pub line: usize,
}

impl Term {
    pub fn term(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Ja => &self.ja,
        }
    }

    pub fn forbidden(&self, lang: Lang) -> &[String] {
        match lang {
            Lang::En => &self.forbidden_en,
            Lang::Ja => &self.forbidden_ja,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Glossary {
    pub terms: Vec<Term>,
}

/// Reads `glossary.toml`: `Some(empty)` when there is none, `None` (with
/// errors in `diags`) when it cannot be read or an entry is broken.
pub fn load(root: &Path, diags: &mut Diagnostics) -> Option<Glossary> {
    let text = match Root::new(root).read_text(GLOSSARY) {
        Ok(text) => text,
        Err(ReadError::Missing { dangling: None }) => return Some(Glossary::default()),
        Err(err) => {
            diags.push(err.diagnostic(GLOSSARY));
            return None;
        }
    };
    match parse(&text) {
        Ok(glossary) => Some(glossary),
        Err(errors) => {
            diags.extend(errors);
            None
        }
    }
}

/// Parses the text of `glossary.toml`, every problem an error at its place.
pub fn parse(text: &str) -> Result<Glossary, Vec<Diagnostic>> {
    let at = |span: Range<usize>| Location::from_range(GLOSSARY, text, span);
    let file: File = toml::from_str(text).map_err(|err| {
        let location = match err.span() {
            Some(span) => at(span),
            None => Location::new(GLOSSARY, 1, 1),
        };
        vec![
            Diagnostic::error("glossary", err.message().trim().to_string())
                .at(location)
                .hint("each [[term]] has en = \"…\", ja = \"…\" and optionally forbidden = { en = [..], ja = [..] } and note = \"…\""),
        ]
    })?;
    let mut errors = Vec::new();
    let mut seen: HashMap<(Lang, String), usize> = HashMap::new();
    let mut terms = Vec::new();
    for spanned in file.term {
        let line = at(spanned.span()).line;
        let raw = spanned.into_inner();
        let mut ok = true;
        for (lang, value) in [(Lang::En, &raw.en), (Lang::Ja, &raw.ja)] {
            let key = normalize(lang, value.get_ref());
            if key.is_empty() {
                errors.push(
                    Diagnostic::error("glossary", format!("the {lang} term is empty"))
                        .at(at(value.span())),
                );
                ok = false;
            } else if let Some(first) = seen.get(&(lang, key.clone())) {
                errors.push(
                    Diagnostic::error(
                        "glossary",
                        format!(
                            "the {lang} term `{}` is in the glossary twice (first at line {first})",
                            value.get_ref().trim()
                        ),
                    )
                    .at(at(value.span()))
                    .hint("keep one entry per term"),
                );
                ok = false;
            } else {
                seen.insert((lang, key), line);
            }
        }
        for (lang, list, term) in [
            (Lang::En, &raw.forbidden.en, &raw.en),
            (Lang::Ja, &raw.forbidden.ja, &raw.ja),
        ] {
            for variant in list {
                let key = normalize(lang, variant.get_ref());
                if key.is_empty() {
                    errors.push(
                        Diagnostic::error(
                            "glossary",
                            format!("a forbidden {lang} variant is empty"),
                        )
                        .at(at(variant.span())),
                    );
                    ok = false;
                } else if key == normalize(lang, term.get_ref()) {
                    errors.push(
                        Diagnostic::error(
                            "glossary",
                            format!("`{}` is both the {lang} term and forbidden", key),
                        )
                        .at(at(variant.span())),
                    );
                    ok = false;
                }
            }
        }
        if ok {
            terms.push(Term {
                en: raw.en.get_ref().trim().to_string(),
                ja: raw.ja.get_ref().trim().to_string(),
                forbidden_en: trimmed(&raw.forbidden.en),
                forbidden_ja: trimmed(&raw.forbidden.ja),
                note: raw
                    .note
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty()),
                line,
            });
        }
    }
    if errors.is_empty() {
        Ok(Glossary { terms })
    } else {
        Err(errors)
    }
}

fn trimmed(list: &[Spanned<String>]) -> Vec<String> {
    list.iter()
        .map(|s| s.get_ref().trim().to_string())
        .collect()
}

/// How two spellings of a term are compared: English case-insensitively.
fn normalize(lang: Lang, s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match lang {
        Lang::En => s.to_ascii_lowercase(),
        Lang::Ja => s,
    }
}
