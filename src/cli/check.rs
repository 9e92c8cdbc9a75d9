//! `renga check`: everything `compile` verifies, with no PDF or HTML written.

use crate::cli::args::CheckArgs;
use crate::cli::compile::{editions, finish};
use crate::diag::Diagnostics;
use crate::pipeline::{self, Timings};

pub fn run(args: &CheckArgs, quiet: bool) -> i32 {
    let root = args.project.project.clone();
    let mut diags = Diagnostics::default();
    let mut timings = Timings::default();
    let editions = editions(&args.project);
    if let Some(prepared) = pipeline::prepare(&root, &editions, &mut diags, &mut timings) {
        // The PDF is made and thrown away: its export enforces PDF/A and PDF/UA.
        let plan =
            crate::cli::compile::plan(&args.project, args.low_memory, &prepared, &editions, quiet);
        prepared.typeset_editions(
            &editions,
            plan.jobs,
            plan.caches,
            &|_| {},
            &mut diags,
            &mut timings,
        );
        // So are the web editions, when the build makes them.
        if crate::render::web::wanted(args.project.html, &prepared) {
            crate::render::web::build(&prepared, &editions, &mut diags, &mut timings);
        }
    }
    let code = finish(&root, &args.project, &mut diags, quiet);
    if code == 0 && !quiet && args.project.diagnostics.format == crate::diag::Format::Human {
        eprintln!("ok: {} warning(s)", diags.warning_count());
    }
    code
}
