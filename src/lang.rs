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
    let latin = |c: char| c.is_alphabetic() && !is_cjk(c);
    let (foreign, native): (&dyn Fn(char) -> bool, &dyn Fn(char) -> bool) = match lang {
        Lang::En => (&is_cjk, &latin),
        Lang::Ja => (&latin, &is_cjk),
    };
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        if !foreign(chars[i].1) {
            i += 1;
            continue;
        }
        let mut last = i;
        let mut j = i;
        while j < chars.len() && !native(chars[j].1) {
            if foreign(chars[j].1) {
                last = j;
            }
            j += 1;
        }
        let (run_start, run_end) = (chars[i].0, chars[last].0 + chars[last].1.len_utf8());
        if start < run_start {
            out.push((&text[start..run_start], false));
        }
        out.push((&text[run_start..run_end], true));
        start = run_end;
        i = last + 1;
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

#[cfg(test)]
mod tests {
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
