//! Which block of one version is which block of the other: blocks paired
//! by kind and likeness within a work budget, and the ones that moved.

use super::*;

// ---- Blocks ------------------------------------------------------------------

/// How a block of one version corresponds to the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pair {
    /// Old index, new index: the same text.
    Same(usize, usize),
    /// Old index, new index: the same block, its words changed.
    Changed(usize, usize),
    Removed(usize),
    Added(usize),
}

/// Below this share of common words, two blocks are a removal and an
/// addition rather than one block changed (unless they are the only
/// candidates at the same place).
pub(super) const SIMILAR_ENOUGH: f32 = 0.5;

/// Matches blocks between two versions. `old` and `new` are keys that are
/// equal exactly when two blocks are the same. Blocks that differ are paired
/// as changed where `pairable` allows it (blocks of the same kind) and
/// either their words are similar enough or they stand at the same place in
/// a run of blocks that changed one for one. Once `budget` is spent, the
/// regions left are whole blocks removed and added.
pub fn match_units<K: Hash + Eq>(
    old: &[K],
    new: &[K],
    pairable: impl Fn(usize, usize) -> bool,
    similarity: impl Fn(usize, usize) -> f32,
    budget: &Budget,
) -> Vec<Pair> {
    // Keys as numbers: the diff compares them many times over.
    let mut ids: HashMap<&K, u32> = HashMap::new();
    let mut id = |k| {
        let next = ids.len() as u32;
        *ids.entry(k).or_insert(next)
    };
    let old_ids: Vec<u32> = old.iter().map(&mut id).collect();
    let new_ids: Vec<u32> = new.iter().map(&mut id).collect();
    let ops = capture_diff_slices_deadline(
        Algorithm::Myers,
        &old_ids,
        &new_ids,
        budget.myers((old.len() + new.len()) as u64 / 2),
    );
    let mut out = Vec::new();
    for op in ops {
        let (tag, o, n) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => out.extend(o.zip(n).map(|(a, b)| Pair::Same(a, b))),
            DiffTag::Delete => out.extend(o.map(Pair::Removed)),
            DiffTag::Insert => out.extend(n.map(Pair::Added)),
            DiffTag::Replace => pair_region(o, n, &pairable, &similarity, budget, &mut out),
        }
    }
    out
}

/// The largest changed region (old blocks × new blocks) paired block by
/// block; a larger one is left as removals and additions.
pub(super) const MAX_REGION: usize = 250_000;

/// Pairs the blocks of a region that changed so that the paired blocks keep
/// their order and are as similar as possible in total.
pub(super) fn pair_region(
    o: Range<usize>,
    n: Range<usize>,
    pairable: &impl Fn(usize, usize) -> bool,
    similarity: &impl Fn(usize, usize) -> f32,
    budget: &Budget,
    out: &mut Vec<Pair>,
) {
    let (rows, cols) = (o.len(), n.len());
    let pairs = if rows * cols <= MAX_REGION && budget.spend((rows * cols) as u64) {
        best_pairs(o.clone(), n.clone(), pairable, similarity, budget).unwrap_or_default()
    } else {
        Vec::new()
    };
    let (mut a, mut b) = (o.start, n.start);
    for (i, j) in pairs.into_iter().chain([(o.end, n.end)]) {
        out.extend((a..i).map(Pair::Removed));
        out.extend((b..j).map(Pair::Added));
        if i < o.end {
            out.push(Pair::Changed(i, j));
        }
        (a, b) = (i + 1, j + 1);
    }
}

/// The order-keeping pairing of a region with the highest total similarity
/// (a longest-common-subsequence table), or `None` if the budget ran out.
pub(super) fn best_pairs(
    o: Range<usize>,
    n: Range<usize>,
    pairable: &impl Fn(usize, usize) -> bool,
    similarity: &impl Fn(usize, usize) -> f32,
    budget: &Budget,
) -> Option<Vec<(usize, usize)>> {
    let (rows, cols) = (o.len(), n.len());
    let one_for_one = rows == cols;
    let score = |i: usize, j: usize| -> Option<f32> {
        let (a, b) = (o.start + i, n.start + j);
        if !pairable(a, b) {
            return None;
        }
        let s = similarity(a, b);
        // A small bonus so that blocks at the same place pair even
        // when rewritten, unless a better-matching pairing exists.
        (s >= SIMILAR_ENOUGH || (one_for_one && i == j)).then_some(s + 0.01)
    };
    // best[i][j]: the best total over old[..i] and new[..j].
    let width = cols + 1;
    let mut best = vec![0f32; (rows + 1) * width];
    let mut take = vec![false; (rows + 1) * width];
    for i in 1..=rows {
        if budget.expired() {
            return None;
        }
        for j in 1..=cols {
            let mut v = best[(i - 1) * width + j].max(best[i * width + j - 1]);
            if let Some(s) = score(i - 1, j - 1)
                && best[(i - 1) * width + j - 1] + s > v
            {
                v = best[(i - 1) * width + j - 1] + s;
                take[i * width + j] = true;
            }
            best[i * width + j] = v;
        }
    }
    let mut pairs = Vec::new();
    let (mut i, mut j) = (rows, cols);
    while i > 0 && j > 0 {
        if take[i * width + j] {
            pairs.push((o.start + i - 1, n.start + j - 1));
            i -= 1;
            j -= 1;
        } else if best[(i - 1) * width + j] >= best[i * width + j - 1] {
            i -= 1;
        } else {
            j -= 1;
        }
    }
    pairs.reverse();
    Some(pairs)
}

/// What makes two blocks the same block: kind, level and text with its markup.
pub(super) fn block_key(b: &Block) -> String {
    let mut key = format!("{}\u{0}{}\u{0}{}", b.kind, b.level, b.markup);
    for (name, value) in &b.attrs {
        key.push_str(&format!("\u{0}{name}={value}"));
    }
    if let Some((_, code)) = &b.code {
        key.push('\u{0}');
        key.push_str(code);
    }
    key
}

/// Matches two lists of blocks: the same kind and markup are the same block.
pub fn match_blocks(old: &[Block], new: &[Block], budget: &Budget) -> Vec<Pair> {
    let old_keys: Vec<String> = old.iter().map(block_key).collect();
    let new_keys: Vec<String> = new.iter().map(block_key).collect();
    let bags = WordBags::new(
        old.iter().map(|b| b.text.as_str()),
        new.iter().map(|b| b.text.as_str()),
    );
    match_units(
        &old_keys,
        &new_keys,
        |a, b| old[a].kind == new[b].kind,
        |a, b| bags.similarity_within(a, b, budget),
        budget,
    )
}

/// Blocks that [`match_blocks`] found removed in one place and added,
/// the same, in another: they moved (two paragraphs swapped, a section
/// reordered). Maps the new index of each moved block to its old index.
pub fn moves(old: &[Block], new: &[Block], pairs: &[Pair]) -> HashMap<usize, usize> {
    let mut removed: HashMap<String, Vec<usize>> = HashMap::new();
    for p in pairs.iter().rev() {
        if let Pair::Removed(a) = p {
            removed.entry(block_key(&old[*a])).or_default().push(*a);
        }
    }
    let mut out = HashMap::new();
    for p in pairs {
        if let Pair::Added(b) = p
            && let Some(a) = removed.get_mut(&block_key(&new[*b])).and_then(Vec::pop)
        {
            out.insert(*b, a);
        }
    }
    out
}
