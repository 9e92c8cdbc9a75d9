//! Every command-line definition, with its help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::diag::Format;
use crate::pipeline::Edition;

const AFTER_HELP: &str = "\
Exit status: 0 when the project is clean, 1 when it has errors (or, with
--strict, warnings), 2 when the command line itself is wrong.";

/// renga compiles the joint Singapore–Japan Digital Government Report:
/// chapters in English and Japanese markdown, each agency's metrics in TOML,
/// minijinja templates, typeset by typst into PDF.
#[derive(Debug, Parser)]
#[command(name = "renga", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// Print nothing but diagnostics.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Typeset the report's editions into PDF.
    #[command(
        after_help = "Example:\n  renga compile                 # all three editions of ./ into ./out\n  renga compile --lang ja --out build reports/2026\n\nExit status: 0 clean, 1 errors in the project, 2 usage."
    )]
    Compile(CompileArgs),
    /// Validate the project without writing any PDF: manifest, chapters,
    /// metrics, references, links, images, templates and a full typeset.
    #[command(
        after_help = "Example:\n  renga check --format github --strict\n\nExit status: 0 clean, 1 errors in the project, 2 usage."
    )]
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct ProjectArgs {
    /// The report project folder (the one with report.toml).
    #[arg(default_value = ".")]
    pub project: PathBuf,

    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Treat warnings as errors.
    #[arg(long)]
    pub strict: bool,

    /// Editions to build (repeatable); all three by default.
    #[arg(long = "lang", value_enum)]
    pub editions: Vec<Edition>,
}

#[derive(Debug, Args)]
pub struct CompileArgs {
    #[command(flatten)]
    pub project: ProjectArgs,

    /// Where to write the PDFs and manifest.json (default: PROJECT/out).
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Print the time each stage took.
    #[arg(long)]
    pub timings: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
}
