//! The one place that knows how to put text into Typst source so that it is
//! never read as markup or code. Everything renga generates goes through here.

use std::fmt::Write;

use crate::model::lang::{Lang, script_runs};

/// Appends `text` to `out` as literal Typst markup text.
///
/// Every ASCII punctuation character is escaped with a backslash (which
/// typst reads as "this character, literally" before any non-whitespace
/// character), so no markup, code, label, reference, comment, list marker,
/// URL or smart quote can start inside author text, whatever precedes or
/// follows it. Whitespace is never escaped (a backslash before whitespace is
/// a line break); control characters other than tab become spaces.
pub fn markup_into(out: &mut String, text: &str) {
    out.reserve(text.len());
    for ch in text.chars() {
        if ch.is_ascii_punctuation() {
            out.push('\\');
            out.push(ch);
        } else if ch == '\n' || ch == '\r' || (ch.is_control() && ch != '\t') {
            // A raw line break in the middle of text could start a new line
            // context; the converter decides about breaks, not the text.
            out.push(' ');
        } else {
            out.push(ch);
        }
    }
}

/// `text` as literal Typst markup, each run of Japanese or Latin script
/// tagged with its language, except runs in `home`, the language the text
/// is set in (when known). For values a template inserts.
pub fn markup_tagged(text: &str, home: Option<Lang>) -> String {
    let mut out = String::new();
    for (piece, japanese) in script_runs(text, Lang::En) {
        if japanese && home == Some(Lang::Ja) {
            markup_into(&mut out, piece);
            continue;
        } else if japanese {
            out.push_str("#text(lang: \"ja\", region: \"JP\")[");
            markup_into(&mut out, piece);
            out.push(']');
            continue;
        }
        for (piece, latin) in script_runs(piece, Lang::Ja) {
            if latin && home != Some(Lang::En) {
                out.push_str("#text(lang: \"en\", region: \"GB\")[");
                markup_into(&mut out, piece);
                out.push(']');
            } else {
                markup_into(&mut out, piece);
            }
        }
    }
    out
}

/// `text` as literal Typst markup.
pub fn markup(text: &str) -> String {
    let mut out = String::new();
    markup_into(&mut out, text);
    out
}

/// Appends `text` as a Typst string literal, quotes included.
pub fn string_into(out: &mut String, text: &str) {
    out.reserve(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `text` as a Typst string literal, quotes included.
pub fn string(text: &str) -> String {
    let mut out = String::new();
    string_into(&mut out, text);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_specials_are_escaped() {
        assert_eq!(markup("#let x = 1"), "\\#let x \\= 1");
        assert_eq!(
            markup("*a* _b_ [c] $d$ `e` <f> @g"),
            "\\*a\\* \\_b\\_ \\[c\\] \\$d\\$ \\`e\\` \\<f\\> \\@g"
        );
        assert_eq!(markup("デジタル庁"), "デジタル庁");
        assert_eq!(markup("a\nb"), "a b");
    }

    #[test]
    fn tagged_markup_marks_each_script() {
        let text = "GovTech（シンガポール）: 12";
        assert_eq!(
            markup_tagged(text, None),
            "#text(lang: \"en\", region: \"GB\")[GovTech]#text(lang: \"ja\", region: \"JP\")[（シンガポール）]\\: 12"
        );
        assert_eq!(
            markup_tagged(text, Some(Lang::En)),
            "GovTech#text(lang: \"ja\", region: \"JP\")[（シンガポール）]\\: 12"
        );
        assert_eq!(
            markup_tagged(text, Some(Lang::Ja)),
            "#text(lang: \"en\", region: \"GB\")[GovTech]（シンガポール）\\: 12"
        );
    }

    #[test]
    fn strings_escape_quotes_backslashes_and_controls() {
        assert_eq!(string("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(string("\u{1}"), "\"\\u{1}\"");
    }
}
