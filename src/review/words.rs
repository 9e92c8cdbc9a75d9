//! The words that changed inside a changed block: tokens for every script
//! (a kanji, a kana run, a Latin word), a word diff within a work budget, and
//! how alike two texts are.

use super::*;

// ---- Words -------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    Space,
    /// Latin letters and digits with the punctuation written against them.
    Word,
    Kanji,
    Hiragana,
    Katakana,
    /// Japanese punctuation and symbols, one token each.
    Mark,
}

pub(super) fn class(c: char) -> Class {
    if c.is_whitespace() {
        return Class::Space;
    }
    match c as u32 {
        // 々 〆 〇 ヶ count as kanji.
        0x3005..=0x3007
        | 0x30F6
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xF900..=0xFAFF
        | 0x20000..=0x3FFFF => Class::Kanji,
        0x3041..=0x309F => Class::Hiragana,
        // Katakana with the long vowel mark ー, but not the middle dot ・.
        0x30A0..=0x30FA | 0x30FC..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F => Class::Katakana,
        // Full-width letters and digits are words like their ASCII forms.
        0xFF10..=0xFF19 | 0xFF21..=0xFF3A | 0xFF41..=0xFF5A => Class::Word,
        _ if is_cjk(c) => Class::Mark,
        _ => Class::Word,
    }
}

/// Hiragana sequences that continue the word before them (okurigana,
/// auxiliary verbs, nouns written in kana) even though they start like a
/// particle. Checked before [`PARTICLES`].
pub(super) const CONTINUATIONS: &[&str] = &[
    "でしょう",
    "でした",
    "です",
    "でき",
    "または",
    "すでに",
    "ともに",
    "んで",
    "いで",
    "して",
    "した",
    "する",
    "され",
    "させ",
    "いる",
    "いた",
    "ある",
    "あり",
    "なる",
    "なっ",
    "おり",
    "れる",
    "られ",
    "ます",
    "ませ",
];

/// Nouns written in kana that start like a particle: words of their own.
pub(super) const KANA_NOUNS: &[&str] = &["ところ", "こと", "もの", "とき", "はず"];

/// Particles end the word before them and are words of their own, so that
/// a sentence written in kana is never one token. Longest first.
pub(super) const PARTICLES: &[&str] = &[
    "について",
    "によって",
    "における",
    "において",
    "として",
    "ながら",
    "により",
    "による",
    "からの",
    "までの",
    "くらい",
    "ばかり",
    "だけ",
    "から",
    "まで",
    "より",
    "では",
    "には",
    "とは",
    "でも",
    "にも",
    "とも",
    "への",
    "での",
    "との",
    "ので",
    "のに",
    "など",
    "ほど",
    "しか",
    "は",
    "が",
    "を",
    "に",
    "で",
    "と",
    "も",
    "へ",
    "の",
    "や",
    "か",
];

/// Splits text into the units a reader sees as words, whitespace kept as
/// tokens of its own so that the tokens put together are the text again.
///
/// English (and any text with spaces): words with their punctuation.
/// Japanese: runs of one script (kanji, katakana, Latin letters and digits),
/// each punctuation mark alone, and hiragana split after particles; a kanji
/// or katakana run keeps the kana that inflect it (`利用している`).
pub fn tokens(text: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let at = |k: usize| chars.get(k).map_or(text.len(), |&(b, _)| b);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        let cls = class(chars[i].1);
        match cls {
            Class::Mark => {
                i += 1;
                out.push(&text[at(start)..at(i)]);
            }
            Class::Space | Class::Word => {
                while i < chars.len() && class(chars[i].1) == cls {
                    i += 1;
                }
                out.push(&text[at(start)..at(i)]);
            }
            Class::Kanji | Class::Katakana => {
                while i < chars.len() && class(chars[i].1) == cls {
                    i += 1;
                }
                i = kana(text, &chars, start, i, &mut out);
            }
            Class::Hiragana => i = kana(text, &chars, start, i, &mut out),
        }
    }
    out
}

/// The hiragana from char `from`, continuing the unit that starts at
/// `unit` (the kanji or katakana before it, if any). Returns the index
/// after the hiragana.
pub(super) fn kana<'t>(
    text: &'t str,
    chars: &[(usize, char)],
    mut unit: usize,
    from: usize,
    out: &mut Vec<&'t str>,
) -> usize {
    let at = |k: usize| chars.get(k).map_or(text.len(), |&(b, _)| b);
    let mut k = from;
    while k < chars.len() && class(chars[k].1) == Class::Hiragana {
        let rest = &text[at(k)..];
        if let Some(c) = CONTINUATIONS.iter().find(|c| rest.starts_with(*c)) {
            k += c.chars().count();
            continue;
        }
        if let Some(p) = KANA_NOUNS
            .iter()
            .chain(PARTICLES)
            .find(|p| rest.starts_with(*p))
        {
            if unit < k {
                out.push(&text[at(unit)..at(k)]);
            }
            let end = k + p.chars().count();
            out.push(&text[at(k)..at(end)]);
            k = end;
            unit = k;
            continue;
        }
        k += 1;
    }
    if unit < k {
        out.push(&text[at(unit)..at(k)]);
    }
    k
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Equal,
    Insert,
    Delete,
}

/// A run of words that stayed, was inserted or was deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub op: Op,
    pub text: String,
}

impl Change {
    pub(super) fn new(op: Op, text: impl Into<String>) -> Self {
        Self {
            op,
            text: text.into(),
        }
    }
}

/// No diff of one block may take longer than this; past it the diff is
/// coarser but still correct.
pub(super) const DEADLINE: Duration = Duration::from_millis(500);

/// The work one command may spend matching blocks and words in all,
/// counted in steps (a pair of blocks compared, a word merged or diffed)
/// rather than in seconds, so that the same versions always give the same
/// diff however busy the machine is. Once it is spent, changed regions are
/// no longer paired block by block and changed blocks are no longer diffed
/// word by word: a pathological pair of versions ends with a coarser diff
/// (whole blocks removed and added) that still shows every change.
#[derive(Debug)]
pub struct Budget {
    left: Cell<u64>,
}

/// About a second of matching: a chapter of 2,000 near-identical
/// paragraphs in sections of 150–250 takes a tenth of it.
pub(super) const WORK: u64 = 400_000_000;

impl Budget {
    pub fn new(steps: u64) -> Self {
        Self {
            left: Cell::new(steps),
        }
    }

    pub fn expired(&self) -> bool {
        self.left.get() == 0
    }

    /// Takes `steps` from the budget; false (and the budget spent) if
    /// there are not that many left.
    pub fn spend(&self, steps: u64) -> bool {
        let left = self.left.get();
        self.left.set(left.saturating_sub(steps));
        left >= steps
    }
}

impl Default for Budget {
    /// The budget of one command's matching.
    fn default() -> Self {
        Self::new(WORK)
    }
}

impl Budget {
    /// Pays for a Myers diff of `n` items in all, as if all of them
    /// differed (`n²` steps, its worst case): the diff then runs to the
    /// end, the same on any machine. One the budget cannot pay for gets
    /// [`DEADLINE`] of time and may end coarser.
    pub(super) fn myers(&self, n: u64) -> Option<Instant> {
        if self.spend(n.saturating_mul(n)) {
            None
        } else {
            Some(Instant::now() + DEADLINE)
        }
    }
}

/// The words of `new` against those of `old`: equal runs, deletions and
/// insertions, in reading order (a deletion before the insertion that
/// replaces it).
pub fn word_diff(old: &str, new: &str) -> Vec<Change> {
    word_diff_within(old, new, &Budget::default())
}

/// [`word_diff`] within `budget`: once it is spent, the old text is
/// deleted and the new one inserted whole (coarser, still correct).
pub fn word_diff_within(old: &str, new: &str, budget: &Budget) -> Vec<Change> {
    let a = tokens(old);
    let b = tokens(new);
    if old != new && budget.expired() {
        let mut whole = Vec::new();
        push(&mut whole, Op::Delete, old);
        push(&mut whole, Op::Insert, new);
        return whole;
    }
    let ops = capture_diff_slices_deadline(
        Algorithm::Myers,
        &a,
        &b,
        budget.myers((a.len() + b.len()) as u64),
    );
    let mut raw: Vec<Change> = Vec::new();
    for op in ops {
        let (tag, o, n) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => push(&mut raw, Op::Equal, &b[n].concat()),
            DiffTag::Delete => push(&mut raw, Op::Delete, &a[o].concat()),
            DiffTag::Insert => push(&mut raw, Op::Insert, &b[n].concat()),
            DiffTag::Replace => {
                push(&mut raw, Op::Delete, &a[o].concat());
                push(&mut raw, Op::Insert, &b[n].concat());
            }
        }
    }
    absorb_spaces(raw)
}

pub(super) fn push(out: &mut Vec<Change>, op: Op, text: &str) {
    if text.is_empty() {
        return;
    }
    match out.last_mut() {
        Some(last) if last.op == op => last.text.push_str(text),
        _ => out.push(Change::new(op, text)),
    }
}

/// `[-a-]{+x+} [-b-]{+y+}` reads better as `[-a b-]{+x y+}`: a space alone
/// between two replacements joins them.
pub(super) fn absorb_spaces(changes: Vec<Change>) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::new();
    let (mut del, mut ins) = (String::new(), String::new());
    let flush = |out: &mut Vec<Change>, del: &mut String, ins: &mut String| {
        push(out, Op::Delete, del);
        push(out, Op::Insert, ins);
        del.clear();
        ins.clear();
    };
    for (i, c) in changes.iter().enumerate() {
        match c.op {
            Op::Delete => del.push_str(&c.text),
            Op::Insert => ins.push_str(&c.text),
            Op::Equal => {
                let next_changes = changes.get(i + 1).is_some_and(|n| n.op != Op::Equal);
                if c.text.trim().is_empty() && !del.is_empty() && !ins.is_empty() && next_changes {
                    del.push_str(&c.text);
                    ins.push_str(&c.text);
                } else {
                    flush(&mut out, &mut del, &mut ins);
                    push(&mut out, Op::Equal, &c.text);
                }
            }
        }
    }
    flush(&mut out, &mut del, &mut ins);
    out
}

/// The words of texts as numbers, each text's sorted, so that the share of
/// words two texts have in common is one merge. Pairing blocks compares
/// every old block of a changed region with every new one: the words are
/// split once per block, not once per comparison.
#[derive(Debug, Default)]
pub struct WordBags {
    old: Vec<Vec<u32>>,
    new: Vec<Vec<u32>>,
}

impl WordBags {
    pub fn new<'t>(
        old: impl IntoIterator<Item = &'t str>,
        new: impl IntoIterator<Item = &'t str>,
    ) -> Self {
        let mut ids: HashMap<&'t str, u32> = HashMap::new();
        let old = old.into_iter().map(|t| bag(t, &mut ids)).collect();
        let new = new.into_iter().map(|t| bag(t, &mut ids)).collect();
        Self { old, new }
    }

    /// How much of old text `a`'s and new text `b`'s words are the same.
    pub fn similarity(&self, a: usize, b: usize) -> f32 {
        dice(&self.old[a], &self.new[b])
    }

    /// [`WordBags::similarity`], paid for from `budget` (nothing in
    /// common once it is spent).
    pub fn similarity_within(&self, a: usize, b: usize, budget: &Budget) -> f32 {
        let (a, b) = (&self.old[a], &self.new[b]);
        if budget.spend((a.len() + b.len()) as u64) {
            dice(a, b)
        } else {
            0.0
        }
    }
}

pub(super) fn bag<'t>(text: &'t str, ids: &mut HashMap<&'t str, u32>) -> Vec<u32> {
    let mut words: Vec<u32> = tokens(text)
        .into_iter()
        .filter(|w| !w.trim().is_empty())
        .map(|w| {
            let next = ids.len() as u32;
            *ids.entry(w).or_insert(next)
        })
        .collect();
    words.sort_unstable();
    words
}

/// Twice the words in common over all words (the Dice coefficient of the
/// two word multisets): 1 for the same words, 0 for none in common.
pub(super) fn dice(a: &[u32], b: &[u32]) -> f32 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    2.0 * common as f32 / (a.len() + b.len()) as f32
}

/// How much of two texts' words are the same, from 0 to 1, in any order.
pub fn similarity(old: &str, new: &str) -> f32 {
    WordBags::new([old], [new]).similarity(0, 0)
}
