//! The report's two languages and text given in both.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Ja,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ja];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    /// The region typst and the PDF tags use with this language.
    pub fn region(self) -> &'static str {
        match self {
            Lang::En => "GB",
            Lang::Ja => "JP",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Ja,
            Lang::Ja => Lang::En,
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "ja" => Some(Lang::Ja),
            _ => None,
        }
    }

    /// The language a BCP 47 tag names, by its primary language subtag,
    /// case-insensitively, as CAT tools write them: `en`, `en-US`, `EN-gb`,
    /// `ja-JP`, `ja_JP` (`None` for any other language).
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?;
        if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else if primary.eq_ignore_ascii_case("ja") {
            Some(Lang::Ja)
        } else {
            None
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A text given in English and Japanese.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    pub en: String,
    pub ja: String,
}

impl Localized {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Ja => &self.ja,
        }
    }
}

/// Splits `text` written in `lang` into pieces, each marked `true` when it
/// is in the other language: runs of CJK characters in English text, runs
/// of Latin words in Japanese text. Digits, spaces and punctuation between
/// two foreign characters belong to the run; at its edges they do not.
pub fn script_runs(text: &str, lang: Lang) -> Vec<(&str, bool)> {
    // The cheap range test first: `is_alphabetic` is a table search for
    // every character beyond ASCII, i.e. for all of a Japanese text.
    let latin = |c: char| !is_cjk(c) && c.is_alphabetic();
    let (foreign, native): (&dyn Fn(char) -> bool, &dyn Fn(char) -> bool) = match lang {
        Lang::En => (&is_cjk, &latin),
        Lang::Ja => (&latin, &is_cjk),
    };
    if lang == Lang::En && text.is_ascii() {
        return if text.is_empty() {
            Vec::new()
        } else {
            vec![(text, false)]
        };
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        if !foreign(c) {
            continue;
        }
        // The run goes on to the last foreign character before a native one.
        let mut end = i + c.len_utf8();
        let mut ahead = chars.clone();
        while let Some((j, d)) = ahead.next() {
            if native(d) {
                break;
            }
            if foreign(d) {
                end = j + d.len_utf8();
                chars = ahead.clone();
            }
        }
        if start < i {
            out.push((&text[start..i], false));
        }
        out.push((&text[i..end], true));
        start = end;
    }
    if start < text.len() {
        out.push((&text[start..], false));
    }
    out
}

/// Characters of scripts written without spaces between words.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FFF // radicals, Kangxi
        | 0x3000..=0x303F // CJK symbols and punctuation
        | 0x3040..=0x30FF // hiragana, katakana
        | 0x3100..=0x31FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xF900..=0xFAFF
        | 0xFF00..=0xFFEF // full-width forms
        | 0x20000..=0x3FFFF)
}

/// The words a draft shows where an image has no alt text yet.
pub fn alt_missing(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "alt text missing",
        Lang::Ja => "代替テキスト未記入",
    }
}

/// Whether a soft line break between these two characters joins the lines
/// without a space: between two Japanese characters, and after Japanese
/// punctuation that carries its own space (JLREQ: nothing follows the
/// ideographic comma and full stop but their own space), whatever follows,
/// a Latin word or code included; likewise before an opening bracket.
pub fn joins_tight(before: Option<char>, after: Option<char>) -> bool {
    const CLOSING: &str = "、。，．！？：；」』）】〕〉》｝〙〗";
    const OPENING: &str = "「『（【〔〈《｛〘〖";
    match (before, after) {
        (Some(b), Some(a)) if is_cjk(b) && is_cjk(a) => true,
        (Some(b), Some(_)) if CLOSING.contains(b) => true,
        (Some(_), Some(a)) if OPENING.contains(a) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_language_tag_names_its_language_by_the_primary_subtag_in_any_case() {
        for tag in ["en", "en-US", "EN-gb", "en_SG", " en "] {
            assert_eq!(Lang::from_tag(tag), Some(Lang::En), "{tag}");
        }
        for tag in ["ja", "ja-JP", "JA-jp", "ja-Jpan-JP"] {
            assert_eq!(Lang::from_tag(tag), Some(Lang::Ja), "{tag}");
        }
        for tag in ["", "fr-FR", "eng", "jav", "e"] {
            assert_eq!(Lang::from_tag(tag), None, "{tag}");
        }
    }

    use super::*;

    #[test]
    fn other_language_runs_are_found() {
        assert_eq!(
            script_runs("The デジタル庁 (Digital Agency).", Lang::En),
            vec![
                ("The ", false),
                ("デジタル庁", true),
                (" (Digital Agency).", false)
            ]
        );
        assert_eq!(
            script_runs("GovTechとDigital Agencyは2022年に", Lang::Ja),
            vec![
                ("GovTech", true),
                ("と", false),
                ("Digital Agency", true),
                ("は2022年に", false)
            ]
        );
        assert_eq!(script_runs("12.5%", Lang::Ja), vec![("12.5%", false)]);
        assert_eq!(script_runs("", Lang::En), vec![]);
    }

    #[test]
    fn cjk_detection() {
        assert!(is_cjk('デ'));
        assert!(is_cjk('庁'));
        assert!(is_cjk('。'));
        assert!(!is_cjk('a'));
    }
}
