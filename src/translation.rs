//! Translation records: which version of each block of a chapter the other
//! language was last confirmed to say, so that a change in one language
//! marks exactly the blocks of the other that are now out of date.
//!
//! A chapter's record is `chapters/<slug>/translation.toml`, written by
//! `renga translated`: one `[[block]]` per top-level block (numbered as
//! [`crate::markdown::top_blocks`] does), with a short hash of each
//! language's text and the text itself, so that `renga status` can show what
//! changed in the source since. Either language may change first.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::diag::{Diagnostic, Location};
use crate::lang::Lang;
use crate::project::{Chapter, Project};
use crate::review::{self, Block, Change, Op, Pair};

pub const RECORD: &str = "translation.toml";

/// The record's path relative to the project root.
pub fn record_path(slug: &str) -> String {
    format!("chapters/{slug}/{RECORD}")
}

/// The first 12 hex digits of the SHA-256 of a block's text, whitespace
/// collapsed: stable across rewrapping, short enough to read in a diff.
pub fn hash(text: &str) -> String {
    Sha256::digest(review::normalize(text).as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One pair of blocks confirmed to say the same thing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordBlock {
    pub en: String,
    pub ja: String,
    #[serde(default)]
    pub en_text: String,
    #[serde(default)]
    pub ja_text: String,
}

impl RecordBlock {
    pub fn new(en: &Block, ja: &Block) -> Self {
        Self {
            en: hash(&en.text),
            ja: hash(&ja.text),
            en_text: en.text.clone(),
            ja_text: ja.text.clone(),
        }
    }

    fn hash(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Ja => &self.ja,
        }
    }

    fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en_text,
            Lang::Ja => &self.ja_text,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    #[serde(default)]
    pub block: Vec<RecordBlock>,
}

impl Record {
    /// Reads a chapter's record: `Ok(None)` when there is none yet.
    pub fn load(root: &Path, slug: &str) -> Result<Option<Record>, Diagnostic> {
        let rel = record_path(slug);
        let text = match std::fs::read_to_string(root.join(&rel)) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => {
                return Err(Diagnostic::error("io", format!("cannot read {rel}: {err}"))
                    .at(Location::file(&rel)));
            }
        };
        toml::from_str(&text).map(Some).map_err(|err| {
            let at = match err.span() {
                Some(span) => Location::from_range(&rel, &text, span),
                None => Location::file(&rel),
            };
            Diagnostic::error("translation-record", err.message().trim().to_string())
                .at(at)
                .hint(format!(
                    "rewrite it with `renga translated {slug}` once the two languages agree"
                ))
        })
    }

    /// The record as plain TOML, one table per block, that diffs well.
    pub fn to_toml(&self) -> String {
        let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
        let mut out = String::from(
            "# Written by `renga translated`: the version of each block of this chapter\n\
             # that the two languages were last confirmed to say the same thing in, in\n\
             # the order of the chapter's top-level blocks. `renga status` compares them\n\
             # with the chapter now. en/ja: the first 12 hex digits of the SHA-256 of\n\
             # the block's text with whitespace collapsed.\n",
        );
        for b in &self.block {
            out.push_str("\n[[block]]\n");
            out.push_str(&format!("en = {}\n", quote(&b.en)));
            out.push_str(&format!("ja = {}\n", quote(&b.ja)));
            out.push_str(&format!("en_text = {}\n", quote(&b.en_text)));
            out.push_str(&format!("ja_text = {}\n", quote(&b.ja_text)));
        }
        out
    }
}

/// The top-level blocks of a chapter text as records keep them: the text
/// as written (metric references not written out, so that a new figure
/// does not make a translation stale).
pub fn units(markdown_text: &str) -> Vec<Block> {
    review::top_units(markdown_text, None)
}

/// Why a block needs attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// The block in the other language changed since the record.
    SourceChanged,
    /// The other language has a new block that this one lacks.
    SourceAdded,
    /// The block's counterpart in the other language was removed.
    SourceRemoved,
    /// Both languages changed (or gained) the block since the record: a
    /// person must confirm they agree and record it again.
    BothChanged,
}

/// A block of a chapter that is out of date with the other language, or
/// that changed in both.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub reason: Reason,
    /// The language that needs updating; `None` when both changed.
    pub lang: Option<Lang>,
    /// The stale block's index in `lang`'s file; `None` when the block does
    /// not exist there yet ([`Reason::SourceAdded`]).
    pub block: Option<usize>,
    /// The current indices of the pair's blocks, where they exist.
    pub en_block: Option<usize>,
    pub ja_block: Option<usize>,
    /// The language whose change made the block stale.
    pub source: Option<Lang>,
    /// How each language that changed the block changed it since the
    /// record: the source language for a stale block, both otherwise.
    pub changes: BTreeMap<Lang, Vec<Change>>,
}

impl Finding {
    pub fn index(&self, lang: Lang) -> Option<usize> {
        match lang {
            Lang::En => self.en_block,
            Lang::Ja => self.ja_block,
        }
    }

    /// Stale: one language must be brought up to date with the other.
    pub fn is_stale(&self) -> bool {
        self.lang.is_some()
    }
}

/// A chapter's translation status.
#[derive(Debug, Clone)]
pub enum State {
    /// en.md or ja.md (these languages) is missing.
    Missing(Vec<Lang>),
    /// No record yet: nothing is known to be stale. The block counts of the
    /// two languages, which a record needs to be equal.
    NotRecorded { en: usize, ja: usize },
    /// Compared with the record: in sync when there are no findings.
    Recorded(Vec<Finding>),
}

/// A chapter's state, computed from its texts and record.
pub fn chapter_state(chapter: &Chapter, record: Option<&Record>) -> State {
    let (Some(en), Some(ja)) = (chapter.text(Lang::En), chapter.text(Lang::Ja)) else {
        let missing = Lang::ALL
            .into_iter()
            .filter(|l| chapter.text(*l).is_none())
            .collect();
        return State::Missing(missing);
    };
    let current: HashMap<Lang, Vec<Block>> =
        [(Lang::En, units(&en.text)), (Lang::Ja, units(&ja.text))].into();
    match record {
        None => State::NotRecorded {
            en: current[&Lang::En].len(),
            ja: current[&Lang::Ja].len(),
        },
        Some(record) => State::Recorded(compare(record, &current)),
    }
}

/// Where a block of the record is now in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Now {
    Same(usize),
    Changed(usize),
    Removed,
}

/// Each language's blocks aligned with the record, then the two compared
/// entry by entry.
fn compare(record: &Record, current: &HashMap<Lang, Vec<Block>>) -> Vec<Finding> {
    let n = record.block.len();
    let mut now: HashMap<Lang, Vec<Now>> = HashMap::new();
    // New blocks, by the record entry they come before (`n`: at the end).
    let mut added: HashMap<Lang, Vec<(usize, usize)>> = HashMap::new();
    for lang in Lang::ALL {
        let blocks = &current[&lang];
        let old: Vec<&str> = record.block.iter().map(|b| b.hash(lang)).collect();
        let new: Vec<String> = blocks.iter().map(|b| hash(&b.text)).collect();
        let new: Vec<&str> = new.iter().map(String::as_str).collect();
        let pairs = review::match_units(
            &old,
            &new,
            |_, _| true,
            |a, b| review::similarity(record.block[a].text(lang), &blocks[b].text),
        );
        let mut states = vec![Now::Removed; n];
        let mut adds = Vec::new();
        let mut next_old = 0;
        for pair in pairs {
            match pair {
                Pair::Same(o, i) => {
                    states[o] = Now::Same(i);
                    next_old = o + 1;
                }
                Pair::Changed(o, i) => {
                    states[o] = Now::Changed(i);
                    next_old = o + 1;
                }
                Pair::Removed(o) => next_old = o + 1,
                Pair::Added(i) => adds.push((next_old, i)),
            }
        }
        now.insert(lang, states);
        added.insert(lang, adds);
    }

    let text = |lang: Lang, i: usize| current[&lang][i].text.as_str();
    let mut findings = Vec::new();
    for (r, entry) in record.block.iter().enumerate() {
        let (en, ja) = (now[&Lang::En][r], now[&Lang::Ja][r]);
        let at = |s: Now| match s {
            Now::Same(i) | Now::Changed(i) => Some(i),
            Now::Removed => None,
        };
        let changes = Lang::ALL
            .into_iter()
            .zip([en, ja])
            .filter_map(|(lang, now)| {
                let new_text = match now {
                    Now::Same(_) => return None,
                    Now::Changed(i) => text(lang, i),
                    Now::Removed => "",
                };
                Some((lang, review::word_diff(entry.text(lang), new_text)))
            })
            .collect();
        let mut finding = Finding {
            reason: Reason::BothChanged,
            lang: None,
            block: None,
            en_block: at(en),
            ja_block: at(ja),
            source: None,
            changes,
        };
        // The language that changed, and the other, which is now stale.
        let (source, stale, reason) = match (en, ja) {
            (Now::Same(_), Now::Same(_)) | (Now::Removed, Now::Removed) => continue,
            (Now::Changed(_), Now::Same(_)) => (Lang::En, Lang::Ja, Reason::SourceChanged),
            (Now::Same(_), Now::Changed(_)) => (Lang::Ja, Lang::En, Reason::SourceChanged),
            (Now::Removed, Now::Same(_)) => (Lang::En, Lang::Ja, Reason::SourceRemoved),
            (Now::Same(_), Now::Removed) => (Lang::Ja, Lang::En, Reason::SourceRemoved),
            _ => {
                findings.push(finding);
                continue;
            }
        };
        finding.reason = reason;
        finding.lang = Some(stale);
        finding.block = finding.index(stale);
        finding.source = Some(source);
        findings.push(finding);
    }

    // New blocks: where both languages gained blocks at the same place, they
    // pair up (to be confirmed); a block only one language gained is
    // untranslated in the other.
    let mut anchors: Vec<usize> = Lang::ALL
        .iter()
        .flat_map(|l| added[l].iter().map(|a| a.0))
        .collect();
    anchors.sort_unstable();
    anchors.dedup();
    for anchor in anchors {
        let here = |lang: Lang| -> Vec<usize> {
            added[&lang]
                .iter()
                .filter(|a| a.0 == anchor)
                .map(|a| a.1)
                .collect()
        };
        let (en, ja) = (here(Lang::En), here(Lang::Ja));
        for k in 0..en.len().max(ja.len()) {
            let (e, j) = (en.get(k).copied(), ja.get(k).copied());
            let changes = Lang::ALL
                .into_iter()
                .zip([e, j])
                .filter_map(|(lang, i)| {
                    let inserted = Change {
                        op: Op::Insert,
                        text: text(lang, i?).to_string(),
                    };
                    Some((lang, vec![inserted]))
                })
                .collect();
            let mut finding = Finding {
                reason: Reason::BothChanged,
                lang: None,
                block: None,
                en_block: e,
                ja_block: j,
                source: None,
                changes,
            };
            let source = match (e, j) {
                (Some(_), None) => Some(Lang::En),
                (None, Some(_)) => Some(Lang::Ja),
                _ => None,
            };
            if let Some(source) = source {
                finding.reason = Reason::SourceAdded;
                finding.lang = Some(source.other());
                finding.source = Some(source);
            }
            findings.push(finding);
        }
    }
    findings.sort_by_key(|f| (f.en_block.or(f.ja_block), f.ja_block));
    findings
}

/// A block that a draft build marks "translation pending" and that
/// `--strict` refuses.
#[derive(Debug, Clone)]
pub struct Stale {
    pub slug: String,
    /// The language of the text the mark goes into.
    pub lang: Lang,
    /// The top-level block the mark goes before.
    pub block: usize,
    pub diagnostic: Diagnostic,
}

/// The stale blocks of every chapter that has a record, with a warning for
/// each; a record that cannot be read is a warning too (the build does not
/// depend on it).
pub fn stale_blocks(project: &Project) -> (Vec<Stale>, Vec<Diagnostic>) {
    let mut stale = Vec::new();
    let mut problems = Vec::new();
    for chapter in &project.chapters {
        let record = match Record::load(&project.root, &chapter.slug) {
            Ok(Some(record)) => record,
            Ok(None) => continue,
            Err(mut d) => {
                d.severity = crate::diag::Severity::Warning;
                problems.push(d);
                continue;
            }
        };
        let State::Recorded(findings) = chapter_state(chapter, Some(&record)) else {
            continue;
        };
        for f in findings.iter().filter(|f| f.is_stale()) {
            let (Some(stale_lang), Some(source)) = (f.lang, f.source) else {
                continue;
            };
            // A block the stale language lacks is marked at its source.
            let (lang, block) = match f.block {
                Some(b) => (stale_lang, b),
                None => match f.index(source) {
                    Some(b) => (source, b),
                    None => continue,
                },
            };
            let Some(text) = chapter.text(lang) else {
                continue;
            };
            let line = units(&text.text).get(block).map_or(1, |b| b.line);
            let message = match f.reason {
                Reason::SourceChanged => format!(
                    "block {} is stale: its {} source changed since it was translated",
                    block + 1,
                    language_name(source)
                ),
                Reason::SourceRemoved => format!(
                    "block {} is stale: its {} counterpart was removed",
                    block + 1,
                    language_name(source)
                ),
                _ => format!(
                    "block {} has no {} translation yet",
                    block + 1,
                    language_name(stale_lang)
                ),
            };
            let diagnostic = Diagnostic::warning("translation-stale", message)
                .at(Location::new(&text.path, line, 1))
                .hint(format!(
                    "`renga status` shows what changed; once translated, run `renga translated {}`",
                    chapter.slug
                ));
            stale.push(Stale {
                slug: chapter.slug.clone(),
                lang,
                block,
                diagnostic,
            });
        }
    }
    (stale, problems)
}

pub fn language_name(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "English",
        Lang::Ja => "Japanese",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chapter(en: &str, ja: &str) -> Chapter {
        use crate::project::{ChapterText, FrontMatter};
        let text = |lang: Lang, t: &str| ChapterText {
            lang,
            path: format!("chapters/01-a/{lang}.md"),
            text: t.into(),
            front: FrontMatter::default(),
        };
        Chapter {
            number: 1,
            slug: "01-a".into(),
            texts: [
                (Lang::En, text(Lang::En, en)),
                (Lang::Ja, text(Lang::Ja, ja)),
            ]
            .into(),
        }
    }

    fn record(en: &str, ja: &str) -> Record {
        let (en, ja) = (units(en), units(ja));
        Record {
            block: en
                .iter()
                .zip(&ja)
                .map(|(e, j)| RecordBlock::new(e, j))
                .collect(),
        }
    }

    fn findings(state: State) -> Vec<(Reason, Option<Lang>, Option<usize>)> {
        let State::Recorded(f) = state else {
            panic!("{state:?}")
        };
        f.into_iter().map(|f| (f.reason, f.lang, f.block)).collect()
    }

    const EN: &str = "## One\n\nFirst paragraph.\n\nSecond paragraph.\n";
    const JA: &str = "## 一\n\n最初の段落。\n\n二番目の段落。\n";

    #[test]
    fn hashes_ignore_wrapping() {
        assert_eq!(hash("a  b\nc"), hash("a b c"));
        assert_eq!(hash("a").len(), 12);
    }

    #[test]
    fn an_edit_makes_exactly_the_matching_block_stale_either_way() {
        let r = record(EN, JA);
        let edited = EN.replace("Second paragraph.", "Second, longer paragraph.");
        assert_eq!(
            findings(chapter_state(&chapter(&edited, JA), Some(&r))),
            vec![(Reason::SourceChanged, Some(Lang::Ja), Some(2))]
        );
        let edited = JA.replace("最初の", "最初に書かれた");
        assert_eq!(
            findings(chapter_state(&chapter(EN, &edited), Some(&r))),
            vec![(Reason::SourceChanged, Some(Lang::En), Some(1))]
        );
        assert!(findings(chapter_state(&chapter(EN, JA), Some(&r))).is_empty());
    }

    #[test]
    fn inserted_and_removed_blocks_do_not_shift_the_rest() {
        let r = record(EN, JA);
        let inserted = EN.replace("Second", "A new paragraph.\n\nSecond");
        assert_eq!(
            findings(chapter_state(&chapter(&inserted, JA), Some(&r))),
            vec![(Reason::SourceAdded, Some(Lang::Ja), None)]
        );
        let removed = EN.replace("First paragraph.\n\n", "");
        assert_eq!(
            findings(chapter_state(&chapter(&removed, JA), Some(&r))),
            vec![(Reason::SourceRemoved, Some(Lang::Ja), Some(1))]
        );
        let both = JA.replace("二番目の段落。", "二番目の段落を書き直した。");
        let en_both = EN.replace("Second paragraph.", "Second paragraph, rewritten.");
        let state = chapter_state(&chapter(&en_both, &both), Some(&r));
        let State::Recorded(found) = &state else {
            panic!("{state:?}")
        };
        // Both languages' changes, so that a person can confirm they agree.
        assert_eq!(
            found[0].changes.keys().copied().collect::<Vec<_>>(),
            [Lang::En, Lang::Ja]
        );
        assert_eq!(findings(state), vec![(Reason::BothChanged, None, None)]);
    }

    #[test]
    fn records_are_plain_toml_that_reads_back() {
        let r = record(EN, "## 一\n\n「引用」と\"quotes\"。\n\n二番目の段落。\n");
        let text = r.to_toml();
        assert!(text.contains("[[block]]\nen = \""), "{text}");
        assert_eq!(toml::from_str::<Record>(&text).unwrap(), r);
    }
}
