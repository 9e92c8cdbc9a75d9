//! typst's layout iterations, run by renga so that what an iteration no
//! longer uses is freed before the next one is laid out.
//!
//! typst lays a document out again until every introspection (page numbers,
//! counters, the outline) gives the answer it gave in the iteration before:
//! three times for this report and for a book. `typst::compile` keeps every
//! iteration's document, and typst's caches keep every layout of every
//! iteration until someone evicts them, so the bilingual edition of a
//! 760-page book held 2.6 GB at its peak. Here the loop keeps only the
//! document the next iteration asks its questions of, and, between
//! iterations, evicts from the caches what the iteration before did not use
//! ([`Evictions`]): the same PDF, bytes for bytes, for about a quarter less
//! memory and the same time (numbers in the README, "Speed and memory").
//!
//! A document whose introspections do not settle within typst's limit is
//! laid out once more by `typst::compile` itself, for typst's own account
//! of what did not settle.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use typst::World;
use typst::comemo::{self, Track};
use typst::diag::{SourceDiagnostic, SourceResult, Warned};
use typst::engine::{Engine, Route, Sink, Traced};
use typst::foundations::{Output, StyleChain, Target, TargetElem};
use typst::introspection::{EmptyIntrospector, Introspector, MAX_ITERS};
use typst::syntax::Span;
use typst::utils::Protected;
use typst_layout::{PagedDocument, PagedIntrospector};

use crate::pipeline::Edition;

/// The editions being laid out at once, and when typst's caches may be
/// evicted between their iterations.
///
/// The caches are shared by every edition in the process, and an eviction
/// ages every entry in them: an entry survives one eviction, and goes at
/// the next unless a layout used it in between. So an eviction is made only
/// once every edition being laid out has begun a new iteration since the
/// last one: an entry goes only when no edition used it for a whole
/// iteration of its own. With a `max_age` of 0 ([`crate::pipeline::Caches::Lean`]),
/// every entry goes then: each iteration lays its edition out afresh.
#[derive(Debug)]
pub struct Evictions {
    state: Mutex<State>,
    /// Evictions an entry no layout uses survives.
    max_age: usize,
    /// [`crate::pipeline::evict`]; another function in tests.
    evict: fn(usize),
}

impl Evictions {
    pub fn new(max_age: usize) -> Self {
        Evictions {
            state: Mutex::default(),
            max_age,
            evict: crate::pipeline::evict,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    /// Editions whose layout has begun and not ended.
    active: BTreeSet<Edition>,
    /// Active editions that have begun an iteration since the last eviction.
    moved_on: BTreeSet<Edition>,
}

impl Evictions {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `edition`'s layout begins.
    pub fn begin(&self, edition: Edition) {
        self.state().active.insert(edition);
    }

    /// `edition`'s layout has ended (laid out, failed, or panicked).
    pub fn end(&self, edition: Edition) {
        let mut state = self.state();
        state.active.remove(&edition);
        state.moved_on.remove(&edition);
    }

    /// `edition` begins an iteration after its first.
    fn next_iteration(&self, edition: Edition) {
        let mut state = self.state();
        state.moved_on.insert(edition);
        if state.moved_on.is_superset(&state.active) {
            state.moved_on.clear();
            (self.evict)(self.max_age);
        }
    }
}

/// Lays out the document of `world` as `typst::compile` does; with
/// `evictions`, `edition`'s iterations free what they no longer use. The
/// time each iteration took is added to `passes`.
pub fn compile(
    world: &dyn World,
    edition: Edition,
    evictions: Option<&Evictions>,
    passes: &mut Vec<std::time::Duration>,
) -> Warned<SourceResult<PagedDocument>> {
    let mut sink = Sink::new();
    match iterate(world, edition, evictions, passes, &mut sink) {
        Some(output) => Warned {
            output: output.map_err(dedup),
            warnings: sink.warnings(),
        },
        None => typst::compile(world),
    }
}

/// The layout loop; `None` when the document did not settle.
fn iterate(
    world: &dyn World,
    edition: Edition,
    evictions: Option<&Evictions>,
    passes: &mut Vec<std::time::Duration>,
    sink: &mut Sink,
) -> Option<SourceResult<PagedDocument>> {
    let traced = Traced::default();
    let (world, traced) = (world.track(), traced.track());
    let library = world.library();
    let target = TargetElem::target.set(Target::Paged).wrap();
    let styles = StyleChain::new(&library.styles);
    let styles = styles.chain(&target);
    let main = match world.source(world.main()) {
        Ok(main) => main,
        Err(error) => {
            return Some(Err(ecow::eco_vec![SourceDiagnostic::error(
                Span::detached(),
                error.to_string(),
            )]));
        }
    };
    let evaluated = typst_eval::eval(
        world,
        library,
        traced,
        sink.track_mut(),
        Route::default().track(),
        &main,
    );
    let content = match evaluated {
        Ok(module) => module.content(),
        Err(errors) => return Some(Err(errors)),
    };
    // What the next iteration's introspections are answered from: the last
    // document's introspector, without its pages, which are dropped as soon
    // as the next iteration begins to lay out its own.
    let mut previous: Option<Arc<PagedIntrospector>> = None;
    for iteration in 1..=MAX_ITERS {
        if iteration > 1
            && let Some(evictions) = evictions
        {
            evictions.next_iteration(edition);
        }
        let empty = EmptyIntrospector;
        let introspector: &dyn Introspector = match &previous {
            Some(introspector) => introspector.as_ref(),
            None => &empty,
        };
        let constraint = comemo::Constraint::new();
        let mut subsink = Sink::new();
        let mut engine = Engine {
            library,
            world,
            introspector: Protected::new(introspector.track_with(&constraint)),
            traced,
            sink: subsink.track_mut(),
            route: Route::default(),
        };
        let start = std::time::Instant::now();
        let created = PagedDocument::create(&mut engine, &content, styles);
        passes.push(start.elapsed());
        let document = match created {
            Ok(document) => document,
            Err(errors) => return Some(Err(errors)),
        };
        if constraint.validate(Output::introspector(&document)) {
            sink.extend_from_sink(subsink);
            let delayed = sink.delayed();
            return Some(if delayed.is_empty() {
                Ok(document)
            } else {
                Err(delayed)
            });
        }
        previous = Some(document.introspector().clone());
    }
    None
}

/// Each error once, as `typst::compile` gives them.
fn dedup(mut errors: ecow::EcoVec<SourceDiagnostic>) -> ecow::EcoVec<SourceDiagnostic> {
    let mut seen = std::collections::HashSet::new();
    errors.retain(|e| seen.insert((e.span, e.message.clone())));
    errors
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::diag::Diagnostics;
    use crate::pipeline::{Timings, prepare};
    use crate::typeset::world::file_id;

    #[test]
    fn caches_are_evicted_only_once_every_edition_laid_out_moved_on() {
        static EVICTED: AtomicUsize = AtomicUsize::new(0);
        fn count(max_age: usize) {
            assert_eq!(max_age, 1, "entries unused for a whole iteration go");
            EVICTED.fetch_add(1, Ordering::SeqCst);
        }
        let evicted = || EVICTED.load(Ordering::SeqCst);
        let evictions = Evictions {
            evict: count,
            ..Evictions::new(1)
        };
        evictions.begin(Edition::En);
        evictions.begin(Edition::Ja);
        evictions.next_iteration(Edition::En);
        evictions.next_iteration(Edition::En);
        // English is two iterations on, Japanese still in its first: its
        // layouts of that iteration are not used yet, and must stay.
        assert_eq!(evicted(), 0);
        evictions.next_iteration(Edition::Ja);
        assert_eq!(evicted(), 1);
        evictions.next_iteration(Edition::Ja);
        assert_eq!(evicted(), 1);
        // Once English is laid out, Japanese alone decides.
        evictions.end(Edition::En);
        evictions.next_iteration(Edition::Ja);
        assert_eq!(evicted(), 2);
        evictions.next_iteration(Edition::Ja);
        assert_eq!(evicted(), 3);
    }

    #[test]
    fn lean_evictions_empty_the_caches_at_every_iteration() {
        static AGES: Mutex<Vec<usize>> = Mutex::new(Vec::new());
        fn record(max_age: usize) {
            AGES.lock().unwrap().push(max_age);
        }
        let evictions = Evictions {
            evict: record,
            ..Evictions::new(0)
        };
        evictions.begin(Edition::Bilingual);
        evictions.next_iteration(Edition::Bilingual);
        evictions.next_iteration(Edition::Bilingual);
        evictions.end(Edition::Bilingual);
        assert_eq!(*AGES.lock().unwrap(), [0, 0]);
    }

    #[test]
    fn the_loop_lays_out_every_edition_as_typst_compile_does() {
        // This repository's report: three iterations per edition, an
        // outline, counters, footnotes, links and figures; with the caches
        // kept between iterations (Caches::Free) and emptied (Caches::Lean).
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let editions = [Edition::En, Edition::Ja, Edition::Bilingual];
        let mut diags = Diagnostics::default();
        let prepared = prepare(root, &editions, &mut diags, &mut Timings::default())
            .expect("the report prepares");
        let pdf = |document: &PagedDocument, edition| {
            typst_pdf::pdf(document, &prepared.pdf_options(edition)).expect("exports")
        };
        for edition in editions {
            let world = prepared.sources.world(file_id(&edition.main_path()));
            let theirs = typst::compile::<PagedDocument>(&world);
            let theirs_pdf = pdf(theirs.output.as_ref().expect("lays out"), edition);
            for max_age in [1, 0] {
                let evictions = Evictions::new(max_age);
                evictions.begin(edition);
                let mut passes = Vec::new();
                let ours = compile(&world, edition, Some(&evictions), &mut passes);
                evictions.end(edition);
                // The outline's page numbers need a second pass at least.
                assert!(passes.len() >= 2, "{edition:?}: {passes:?}");
                assert_eq!(
                    theirs.warnings.len(),
                    ours.warnings.len(),
                    "{edition:?}, max age {max_age}: warnings"
                );
                let ours = ours.output.expect("lays out");
                assert!(
                    theirs_pdf == pdf(&ours, edition),
                    "{edition:?}, max age {max_age}: the PDFs differ"
                );
            }
        }
    }
}
