//! Translation records: which version of each block of a chapter the other
//! language was last confirmed to say, so that a change in one language
//! marks exactly the blocks of the other that are now out of date.
//!
//! A chapter's record is `chapters/<slug>/translation.toml`, written by
//! `renga translated`: one `[[block]]` per pair of top-level blocks (as
//! [`crate::markdown::top_blocks`] finds them), with a short hash of each
//! language's text and the text itself, so that `renga status` can show what
//! changed in the source since. Either language may change first.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::diag::{Diagnostic, Location};
use crate::load::project::{Chapter, Project};
use crate::model::lang::Lang;
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

    pub(crate) fn text(&self, lang: Lang) -> &str {
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
        let text = match crate::load::confine::Root::new(root).read_text(&rel) {
            Ok(text) => text,
            Err(crate::load::confine::ReadError::Missing { dangling: None }) => return Ok(None),
            Err(err) => return Err(err.diagnostic(&rel)),
        };
        toml::from_str(&text).map(Some).map_err(|err| {
            let at = match err.span() {
                Some(span) => Location::from_range(&rel, &text, span),
                None => Location::new(&rel, 1, 1),
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
             # that the two languages were last confirmed to say the same thing in, a\n\
             # pair of top-level blocks each, in reading order. `renga status` compares them\n\
             # with the chapter now. en/ja: the first 12 hex digits of the SHA-256 of\n\
             # the block's text with whitespace collapsed (a footnote's text counts\n\
             # as part of the block that references it, the chapter title as part\n\
             # of the first block).\n",
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
///
/// A footnote is read where it is referenced, so its text belongs to the
/// block that references it: a changed note makes that block's translation
/// stale, as a changed sentence would. The chapter title of the front
/// matter, which has no block of its own, belongs to the first block.
pub fn units(markdown_text: &str) -> Vec<Block> {
    units_carrying(markdown_text)
        .into_iter()
        .map(|(unit, _)| unit)
        .collect()
}

/// What a translation unit carries beyond its block's own words (see
/// [`units`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Carried {
    /// The names of the footnotes its block references.
    pub notes: Vec<String>,
    /// Whether it carries the chapter title.
    pub title: bool,
    /// What is appended to the block's text: each note's and the title's.
    pub text: String,
}

/// [`units`], each with what it carries beyond its block's own words.
pub fn units_carrying(markdown_text: &str) -> Vec<(Block, Carried)> {
    let notes = review::footnotes(markdown_text);
    let title = crate::load::project::front_matter_title(markdown_text);
    let mut units: Vec<(Block, Carried)> = review::top_units(markdown_text, None)
        .into_iter()
        .map(|unit| (unit, Carried::default()))
        .collect();
    for (unit, carried) in &mut units {
        for (name, text) in &notes {
            if unit.markup.contains(&format!("[^{name}]")) {
                carried.notes.push(name.clone());
                carried.text.push_str(&format!(" [^{name}] {text}"));
            }
        }
    }
    if let Some((_, carried)) = units.first_mut()
        && let Some(title) = title
    {
        carried.title = true;
        carried.text.push_str(" [title] ");
        carried
            .text
            .push_str(&title.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    for (unit, carried) in &mut units {
        // A code block's language is part of what the other language's
        // reader gets (the same code, set as that language); a table's
        // column alignment and where lines break are each language's own.
        if let Some((_, lang)) = unit.attrs.iter().find(|(n, _)| n == "code language")
            && lang != "none"
        {
            let lang = format!(" [code language: {lang}]");
            unit.text.push_str(&lang);
        }
        unit.text.push_str(&carried.text);
    }
    units
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
    match Aligned::new(chapter, record) {
        Ok(aligned) => aligned.state(),
        Err(missing) => State::Missing(missing),
    }
}

/// Where a block of one language stands in a chapter's alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The recorded block, unchanged, at this index.
    Same(usize),
    /// The recorded block with its words changed, at this index.
    Changed(usize),
    /// A block the record does not have, at this index.
    Added(usize),
    /// No block: the recorded one was removed, or only the other language
    /// gained a block here.
    Absent,
}

impl Side {
    pub fn index(self) -> Option<usize> {
        match self {
            Side::Same(i) | Side::Changed(i) | Side::Added(i) => Some(i),
            Side::Absent => None,
        }
    }
}

/// One place of a chapter's alignment: a record entry and where its blocks
/// are now, or blocks added since the record (a pair when both languages
/// gained one at the same place).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub entry: Option<usize>,
    pub en: Side,
    pub ja: Side,
}

impl Slot {
    pub fn side(&self, lang: Lang) -> Side {
        match lang {
            Lang::En => self.en,
            Lang::Ja => self.ja,
        }
    }
}

/// What `renga translated` writes: the new record, and a warning for each
/// block it left as it was.
#[derive(Debug)]
pub struct Plan {
    pub record: Record,
    /// The pairs confirmed by this record.
    pub recorded: usize,
    /// Blocks without a counterpart: they stay untranslated (or stale).
    pub left: Vec<Diagnostic>,
}

/// A chapter's two languages aligned through its record: the one alignment
/// that `renga status` shows and that `renga translated` records, so that a
/// record never pairs blocks that status does not show as a pair.
#[derive(Debug)]
pub struct Aligned<'a> {
    pub chapter: &'a Chapter,
    pub record: Option<&'a Record>,
    pub en: Vec<Block>,
    pub ja: Vec<Block>,
    /// In the reading order of both languages; empty without a record.
    pub slots: Vec<Slot>,
    /// The matching work the alignment and the word changes it shows may
    /// spend: once it is spent the result is coarser (a changed block seen
    /// as removed and added, its words as replaced whole), never wrong: no
    /// changed block is ever taken for an unchanged one.
    budget: review::Budget,
}

impl<'a> Aligned<'a> {
    /// The chapter's languages aligned; `Err` names the missing languages.
    pub fn new(chapter: &'a Chapter, record: Option<&'a Record>) -> Result<Self, Vec<Lang>> {
        Self::within(chapter, record, review::Budget::default())
    }

    /// [`Aligned::new`] within `budget`.
    pub fn within(
        chapter: &'a Chapter,
        record: Option<&'a Record>,
        budget: review::Budget,
    ) -> Result<Self, Vec<Lang>> {
        let (Some(en), Some(ja)) = (chapter.text(Lang::En), chapter.text(Lang::Ja)) else {
            let missing = Lang::ALL
                .into_iter()
                .filter(|l| chapter.text(*l).is_none())
                .collect();
            return Err(missing);
        };
        let (en, ja) = (units(&en.text), units(&ja.text));
        let slots = record.map_or_else(Vec::new, |r| align(r, &en, &ja, &budget));
        Ok(Self {
            chapter,
            record,
            en,
            ja,
            slots,
            budget,
        })
    }

    pub fn blocks(&self, lang: Lang) -> &[Block] {
        match lang {
            Lang::En => &self.en,
            Lang::Ja => &self.ja,
        }
    }

    pub fn state(&self) -> State {
        match self.record {
            None => State::NotRecorded {
                en: self.en.len(),
                ja: self.ja.len(),
            },
            Some(record) => State::Recorded(self.findings(record)),
        }
    }

    /// The alignment's slots that need attention.
    fn findings(&self, record: &Record) -> Vec<Finding> {
        let text = |lang: Lang, i: usize| self.blocks(lang)[i].text.as_str();
        let mut findings = Vec::new();
        for slot in &self.slots {
            let changes = Lang::ALL
                .into_iter()
                .filter_map(|lang| {
                    let side = slot.side(lang);
                    let Some(r) = slot.entry else {
                        let inserted = Change {
                            op: Op::Insert,
                            text: text(lang, side.index()?).to_string(),
                        };
                        return Some((lang, vec![inserted]));
                    };
                    let new_text = match side {
                        Side::Same(_) => return None,
                        Side::Changed(i) | Side::Added(i) => text(lang, i),
                        Side::Absent => "",
                    };
                    Some((
                        lang,
                        review::word_diff_within(
                            record.block[r].text(lang),
                            new_text,
                            &self.budget,
                        ),
                    ))
                })
                .collect();
            let mut finding = Finding {
                reason: Reason::BothChanged,
                lang: None,
                block: None,
                en_block: slot.en.index(),
                ja_block: slot.ja.index(),
                source: None,
                changes,
            };
            // The language that changed, and the other, which is now stale.
            let (source, stale, reason) = match (slot.en, slot.ja) {
                (Side::Same(_), Side::Same(_)) | (Side::Absent, Side::Absent) => continue,
                (Side::Changed(_), Side::Same(_)) => (Lang::En, Lang::Ja, Reason::SourceChanged),
                (Side::Same(_), Side::Changed(_)) => (Lang::Ja, Lang::En, Reason::SourceChanged),
                (Side::Absent, Side::Same(_)) => (Lang::En, Lang::Ja, Reason::SourceRemoved),
                (Side::Same(_), Side::Absent) => (Lang::Ja, Lang::En, Reason::SourceRemoved),
                (Side::Added(_), Side::Absent) => (Lang::En, Lang::Ja, Reason::SourceAdded),
                (Side::Absent, Side::Added(_)) => (Lang::Ja, Lang::En, Reason::SourceAdded),
                // Both changed, or both gained a block here: to confirm.
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
        findings.sort_by_key(|f| (f.en_block.or(f.ja_block), f.ja_block));
        findings
    }

    /// The record `renga translated` writes for the whole chapter (`None`)
    /// or for block N, or why it refuses.
    ///
    /// Without a record the two languages pair block for block, so they must
    /// have as many blocks. With one, only the pairs of the alignment are
    /// recorded: a block new in one language stays untranslated, a block
    /// whose counterpart was removed keeps its old entry (it stays stale).
    /// Block N alone is recorded when the alignment pairs block N of en.md
    /// with block N of ja.md; the rest of the record stays as it was. A pair
    /// of blocks of different kinds is refused.
    pub fn plan(&self, block: Option<usize>) -> Result<Plan, Diagnostic> {
        let slug = &self.chapter.slug;
        match (self.record, block) {
            (None, None) => {
                if self.en.len() != self.ja.len() {
                    return Err(Diagnostic::error(
                        "translation-pair",
                        format!(
                            "en.md has {} top-level blocks and ja.md has {}: a first record pairs them one for one",
                            self.en.len(),
                            self.ja.len()
                        ),
                    )
                    .at(Location::file(self.path(Lang::En)))
                    .hint("give both languages the same headings, paragraphs, lists and tables in the same order"));
                }
                let block = (0..self.en.len())
                    .map(|i| self.pair(i, i))
                    .collect::<Result<_, _>>()?;
                Ok(Plan {
                    recorded: self.en.len(),
                    record: Record { block },
                    left: vec![],
                })
            }
            (None, Some(_)) => Err(Diagnostic::error(
                "translation-record",
                format!("chapters/{slug} has no translation record yet"),
            )
            .at(Location::file(record_path(slug)))
            .hint(format!(
                "record the whole chapter first: renga translated {slug}"
            ))),
            (Some(record), None) => self.plan_all(record),
            (Some(record), Some(n)) => self.plan_block(record, n),
        }
    }

    fn plan_all(&self, record: &Record) -> Result<Plan, Diagnostic> {
        let mut plan = Plan {
            record: Record::default(),
            recorded: 0,
            left: vec![],
        };
        for slot in &self.slots {
            match (slot.en.index(), slot.ja.index()) {
                (Some(e), Some(j)) => {
                    plan.record.block.push(self.pair(e, j)?);
                    plan.recorded += 1;
                }
                (None, None) => {}
                (e, j) => {
                    let (lang, i) = match e {
                        Some(e) => (Lang::En, e),
                        None => (Lang::Ja, j.unwrap_or_default()),
                    };
                    let other = language_name(lang.other());
                    let message = match slot.entry {
                        Some(r) => {
                            plan.record.block.push(record.block[r].clone());
                            format!(
                                "{} is not recorded: its {other} counterpart was removed, so it stays stale",
                                self.name(lang, i)
                            )
                        }
                        None => format!(
                            "{} is not recorded: it has no {other} translation and stays untranslated",
                            self.name(lang, i)
                        ),
                    };
                    plan.left.push(
                        Diagnostic::warning("translation-unpaired", message)
                            .at(self.at(lang, i))
                            .hint("`renga status` shows how the blocks pair"),
                    );
                }
            }
        }
        Ok(plan)
    }

    /// Whether `renga translated --block N` would record block N, without
    /// making the record.
    pub fn check_block(&self, n: usize) -> Result<(), Diagnostic> {
        self.block_slot(n).map(|_| ())
    }

    /// The slot of the pair en.md block N, ja.md block N, checked.
    fn block_slot(&self, n: usize) -> Result<usize, Diagnostic> {
        let i = n.wrapping_sub(1);
        let chosen = self
            .slots
            .iter()
            .position(|s| s.en.index() == Some(i) && s.ja.index() == Some(i))
            .ok_or_else(|| self.not_a_pair(n))?;
        self.check_pair(i, i)?;
        Ok(chosen)
    }

    fn plan_block(&self, record: &Record, n: usize) -> Result<Plan, Diagnostic> {
        let chosen = self.block_slot(n)?;
        let i = n - 1;
        let pair = RecordBlock::new(&self.en[i], &self.ja[i]);
        let mut block = Vec::with_capacity(record.block.len() + 1);
        for (k, slot) in self.slots.iter().enumerate() {
            if k == chosen {
                block.push(pair.clone());
            } else if let Some(r) = slot.entry {
                block.push(record.block[r].clone());
            }
        }
        Ok(Plan {
            record: Record { block },
            recorded: 1,
            left: vec![],
        })
    }

    /// Why block N cannot be recorded alone.
    fn not_a_pair(&self, n: usize) -> Diagnostic {
        let i = n.wrapping_sub(1);
        let detail = |lang: Lang| -> String {
            let other = lang.other();
            match self.slots.iter().find(|s| s.side(lang).index() == Some(i)) {
                None => format!("{lang}.md has no block {n}"),
                Some(s) => match (s.side(other).index(), s.entry) {
                    (Some(m), _) => format!(
                        "{} pairs with {other}.md block {}",
                        self.name(lang, i),
                        m + 1
                    ),
                    (None, Some(_)) => format!(
                        "{}'s {} counterpart was removed",
                        self.name(lang, i),
                        language_name(other)
                    ),
                    (None, None) => format!(
                        "{} is new and has no {} translation",
                        self.name(lang, i),
                        language_name(other)
                    ),
                },
            }
        };
        let at = [Lang::En, Lang::Ja]
            .into_iter()
            .find(|l| i < self.blocks(*l).len())
            .map_or_else(|| Location::file(self.path(Lang::En)), |l| self.at(l, i));
        let kinds_agree = self
            .slots
            .iter()
            .all(|s| match (s.en.index(), s.ja.index()) {
                (Some(e), Some(j)) => self.en[e].kind == self.ja[j].kind,
                _ => true,
            });
        let hint = if kinds_agree {
            format!(
                "`renga translated {}` records every pair that `renga status` shows",
                self.chapter.slug
            )
        } else {
            "`renga status` shows how the blocks pair".to_string()
        };
        Diagnostic::error(
            "translation-pair",
            format!(
                "block {n} cannot be recorded alone: {}; {}",
                detail(Lang::En),
                detail(Lang::Ja)
            ),
        )
        .at(at)
        .hint(hint)
    }

    /// En block `e` and ja block `j` as one record entry, refused when they
    /// are blocks of different kinds.
    fn pair(&self, e: usize, j: usize) -> Result<RecordBlock, Diagnostic> {
        self.check_pair(e, j)?;
        Ok(RecordBlock::new(&self.en[e], &self.ja[j]))
    }

    fn check_pair(&self, e: usize, j: usize) -> Result<(), Diagnostic> {
        let (en, ja) = (&self.en[e], &self.ja[j]);
        if en.kind != ja.kind {
            return Err(Diagnostic::error(
                "translation-pair",
                format!(
                    "{} is {} and {} is {}: a record pairs only blocks of the same kind",
                    self.name(Lang::En, e),
                    kind_name(en.kind),
                    self.name(Lang::Ja, j),
                    kind_name(ja.kind)
                ),
            )
            .at(self.at(Lang::En, e))
            .hint("`renga status` shows how the blocks pair; give both languages the same headings, paragraphs, lists and tables in the same order"));
        }
        Ok(())
    }

    fn path(&self, lang: Lang) -> String {
        format!("chapters/{}/{lang}.md", self.chapter.slug)
    }

    fn at(&self, lang: Lang, i: usize) -> Location {
        Location::new(self.path(lang), self.blocks(lang)[i].line, 1)
    }

    /// `en.md block 3 (line 9)`.
    fn name(&self, lang: Lang, i: usize) -> String {
        format!(
            "{lang}.md block {} (line {})",
            i + 1,
            self.blocks(lang)[i].line
        )
    }
}

/// "a heading", "a paragraph": a block kind in a sentence.
fn kind_name(kind: &str) -> String {
    match kind {
        "code" => "a code block".into(),
        "quote" => "a block quote".into(),
        "html" => "an HTML block".into(),
        "rule" => "a rule".into(),
        "other" => "another kind of block".into(),
        kind => format!("a {kind}"),
    }
}

/// Each language's blocks aligned with the record, then the two languages'
/// alignments merged, entry by entry, into slots.
fn align(record: &Record, en: &[Block], ja: &[Block], budget: &review::Budget) -> Vec<Slot> {
    let n = record.block.len();
    // Where each record entry is now, and the new blocks with the record
    // entry they come before (`n`: at the end), in order.
    let per_lang = |lang: Lang, blocks: &[Block]| -> (Vec<Side>, Vec<(usize, usize)>) {
        let old: Vec<&str> = record.block.iter().map(|b| b.hash(lang)).collect();
        let new: Vec<String> = blocks.iter().map(|b| hash(&b.text)).collect();
        let new: Vec<&str> = new.iter().map(String::as_str).collect();
        let bags = review::WordBags::new(
            record.block.iter().map(|b| b.text(lang)),
            blocks.iter().map(|b| b.text.as_str()),
        );
        let pairs = review::match_units(
            &old,
            &new,
            |_, _| true,
            |a, b| bags.similarity_within(a, b, budget),
            budget,
        );
        let mut now = vec![Side::Absent; n];
        let mut added = Vec::new();
        let mut next_old = 0;
        for pair in pairs {
            match pair {
                Pair::Same(o, i) => {
                    now[o] = Side::Same(i);
                    next_old = o + 1;
                }
                Pair::Changed(o, i) => {
                    now[o] = Side::Changed(i);
                    next_old = o + 1;
                }
                Pair::Removed(o) => next_old = o + 1,
                Pair::Added(i) => added.push((next_old, i)),
            }
        }
        (now, added)
    };
    let (en_now, en_added) = per_lang(Lang::En, en);
    let (ja_now, ja_added) = per_lang(Lang::Ja, ja);
    let mut slots = Vec::with_capacity(n + en_added.len().max(ja_added.len()));
    let (mut e, mut j) = (0, 0);
    for anchor in 0..=n {
        // Blocks both languages gained at the same place pair in order (to
        // be confirmed); a block only one language gained is untranslated.
        loop {
            let en_new = en_added.get(e).filter(|a| a.0 == anchor).map(|a| a.1);
            let ja_new = ja_added.get(j).filter(|a| a.0 == anchor).map(|a| a.1);
            if en_new.is_none() && ja_new.is_none() {
                break;
            }
            e += usize::from(en_new.is_some());
            j += usize::from(ja_new.is_some());
            slots.push(Slot {
                entry: None,
                en: en_new.map_or(Side::Absent, Side::Added),
                ja: ja_new.map_or(Side::Absent, Side::Added),
            });
        }
        if anchor < n {
            slots.push(Slot {
                entry: Some(anchor),
                en: en_now[anchor],
                ja: ja_now[anchor],
            });
        }
    }
    slots
}

/// A block that a draft build marks "translation pending" and that
/// `--strict` refuses.
#[derive(Debug, Clone)]
pub struct Stale {
    pub slug: String,
    /// The language of the text the mark goes into.
    pub lang: Lang,
    /// The top-level block the mark goes into (its first line).
    pub block: usize,
    pub diagnostic: Diagnostic,
}

/// The stale blocks of every chapter that has a record, with a warning for
/// each; a record that cannot be read is a warning too (the build does not
/// depend on it), but for a link out of the project.
pub fn stale_blocks(project: &Project) -> (Vec<Stale>, Vec<Diagnostic>) {
    let mut stale = Vec::new();
    let mut problems = Vec::new();
    for chapter in &project.chapters {
        let record = match Record::load(&project.root, &chapter.slug) {
            Ok(Some(record)) => record,
            Ok(None) => continue,
            Err(mut d) => {
                // A link out of the project stays an error: it is never
                // followed, and CI must not pass a pull request that has one.
                if d.code != "outside-project" {
                    d.severity = crate::diag::Severity::Warning;
                }
                problems.push(d);
                continue;
            }
        };
        let Ok(aligned) = Aligned::new(chapter, Some(&record)) else {
            continue;
        };
        let State::Recorded(findings) = aligned.state() else {
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
            let line = aligned.blocks(lang).get(block).map_or(1, |b| b.line);
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
        use crate::load::project::{ChapterText, FrontMatter};
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
    fn a_spent_budget_gives_a_coarser_status_that_leaves_no_changed_block_in_sync() {
        // Paragraphs that read almost alike, every third one edited in
        // English: pairing them is the work a budget bounds.
        let text = |lang: &str, edited: bool| {
            (0..60)
                .map(|i| {
                    let word = if edited && i % 3 == 0 {
                        "audited"
                    } else {
                        "reviewed"
                    };
                    format!(
                        "The {lang} agency {word} service {} and found the figures agreed.\n\n",
                        i % 4
                    )
                })
                .collect::<String>()
        };
        let (en, ja) = (text("en", false), text("ja", false));
        let r = record(&en, &ja);
        let ch = chapter(&text("en", true), &ja);
        let edited: Vec<usize> = (0..60).filter(|i| i % 3 == 0).collect();
        let stale_ja = |aligned: &Aligned| {
            let State::Recorded(found) = aligned.state() else {
                panic!("recorded")
            };
            assert!(found.iter().all(|f| f.lang == Some(Lang::Ja)), "{found:?}");
            let mut blocks: Vec<usize> = found.iter().filter_map(|f| f.block).collect();
            blocks.sort();
            blocks.dedup();
            (found, blocks)
        };

        // With the budget every command has: each edited paragraph's
        // translation is stale, as a change.
        let aligned = Aligned::new(&ch, Some(&r)).unwrap();
        let (found, blocks) = stale_ja(&aligned);
        assert_eq!(blocks, edited);
        assert!(found.iter().all(|f| f.reason == Reason::SourceChanged));
        assert!(!aligned.budget.expired());

        // With none, or too little to finish: coarser (an edited paragraph is
        // a removed one and an added one, its words replaced whole), but
        // the same translations are stale and no other.
        for steps in [0, 3_700] {
            let aligned = Aligned::within(&ch, Some(&r), review::Budget::new(steps)).unwrap();
            assert!(aligned.budget.expired());
            let (found, blocks) = stale_ja(&aligned);
            assert_eq!(blocks, edited, "budget {steps}");
            assert!(
                found.iter().any(|f| f.reason == Reason::SourceRemoved),
                "budget {steps}: the coarse result, not the full one"
            );
            // Every edited English paragraph is shown as new.
            let mut added: Vec<usize> = found
                .iter()
                .filter(|f| f.reason == Reason::SourceAdded)
                .filter_map(|f| f.en_block)
                .chain(
                    found
                        .iter()
                        .filter(|f| f.reason == Reason::SourceChanged)
                        .filter_map(|f| f.en_block),
                )
                .collect();
            added.sort();
            assert_eq!(added, edited, "budget {steps}");
        }
    }

    #[test]
    fn records_are_plain_toml_that_reads_back() {
        let r = record(EN, "## 一\n\n「引用」と\"quotes\"。\n\n二番目の段落。\n");
        let text = r.to_toml();
        assert!(text.contains("[[block]]\nen = \""), "{text}");
        assert_eq!(toml::from_str::<Record>(&text).unwrap(), r);
    }
}
