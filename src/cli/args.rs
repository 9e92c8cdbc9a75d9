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
    /// Rebuild the editions on every save, keeping typst's caches warm.
    #[command(
        after_help = "Example:\n  renga watch --lang en         # rebuild out/*.en.pdf on every save\n\nA save that breaks the project prints the error and keeps the last good PDF;\nfixing it rebuilds without a restart. Stop with Ctrl-C."
    )]
    Watch(WatchArgs),
    /// Preview in a browser: `watch --html` with a local web server whose
    /// pages reload after every save and show a broken build's errors.
    #[command(
        after_help = "Examples:\n  renga serve --open            # opens the bilingual page\n  renga serve --port 0          # any free port; the first line says which\n\nServes only on this machine (127.0.0.1) unless --host says otherwise.\nCtrl-C stops it (exit status 0)."
    )]
    Serve(ServeArgs),
    /// Create a new report project that compiles at once.
    #[command(
        after_help = "Example:\n  renga init my-report && renga compile my-report\n\nRefuses to overwrite an existing project."
    )]
    Init(InitArgs),
    /// Show what changed between two versions of the report: chapters,
    /// sections, paragraphs and words, and metric values.
    #[command(
        after_help = "Examples:\n  renga diff                    # HEAD against the working tree\n  renga diff v1.0 v1.1 --format markdown\n  renga diff ../old-report . --pdf redline.pdf\n\nFROM and TO are git revisions of the project, or two project folders.\nA name that is both a folder and a revision is refused: write ./NAME for the\nfolder or NAME^{commit} for the revision.\nExit status: 0 success, 1 a version could not be read (or, with --pdf, the new\nversion has errors `renga check` reports), 2 usage."
    )]
    Diff(DiffArgs),
    /// List every chapter's translation status: in sync, stale or missing.
    #[command(
        after_help = "Example:\n  renga status --strict         # exit 1 if any translation is stale\n\nRecord an updated translation with `renga translated CHAPTER`."
    )]
    Status(StatusArgs),
    /// Record that a chapter's translation (or one block of it) is up to date
    /// with its source language.
    #[command(
        after_help = "Examples:\n  renga translated 02-digital-identity\n  renga translated 02-digital-identity --block 7\n\nThe record is chapters/<chapter>/translation.toml: plain text, reviewed like the chapters."
    )]
    Translated(TranslatedArgs),
    /// Hand the blocks that need translation to a translator as XLIFF 1.2,
    /// and take the translations back.
    #[command(subcommand)]
    Xliff(XliffCommand),
    /// The glossary (glossary.toml) as TBX-Basic for translation tools.
    #[command(subcommand)]
    Tbx(TbxCommand),
    /// The block pairs in sync as a TMX translation memory.
    #[command(subcommand)]
    Tmx(TmxCommand),
    /// Print a shell completion script.
    #[command(after_help = "Example:\n  renga completions bash > /etc/bash_completion.d/renga")]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print renga's manual page (roff), generated from these definitions.
    #[command(after_help = "Example:\n  renga man > renga.1 && man ./renga.1")]
    Man,
}

/// `--format` for the commands whose output is their diagnostics: one
/// definition, so the option reads the same in every command's help.
#[derive(Debug, Clone, Args)]
pub struct DiagnosticsArgs {
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Clone, Args)]
pub struct ProjectArgs {
    /// The report project folder (the one with report.toml).
    #[arg(default_value = ".")]
    pub project: PathBuf,

    #[command(flatten)]
    pub diagnostics: DiagnosticsArgs,

    /// Treat warnings as errors.
    #[arg(long)]
    pub strict: bool,

    /// Editions to build (repeatable); all three by default.
    #[arg(long = "lang", value_enum)]
    pub editions: Vec<Edition>,

    /// How many editions to lay out at once (default: as many as the
    /// machine has cores and memory for; 1 builds them one at a time).
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,

    /// Also build the web editions: one self-contained HTML file per
    /// edition (`[output] html = true` in report.toml does this always).
    #[arg(long)]
    pub html: bool,
}

/// `--low-memory`, for compile and check.
const LOW_MEMORY_HELP: &str = "Lay out with the least memory: one edition at a time, typst's caches emptied between layout iterations (1.4 to 1.7 times the time; chosen by itself when the memory available is short of one edition's estimate)";

#[derive(Debug, Args)]
pub struct CompileArgs {
    #[command(flatten)]
    pub project: ProjectArgs,

    #[arg(long, conflicts_with = "jobs", help = LOW_MEMORY_HELP)]
    pub low_memory: bool,

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

    #[arg(long, conflicts_with = "jobs", help = LOW_MEMORY_HELP)]
    pub low_memory: bool,
}

#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub project: ProjectArgs,

    /// Where to write the PDFs (default: PROJECT/out).
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Milliseconds of quiet after a change before rebuilding.
    #[arg(long, default_value_t = 150)]
    pub debounce: u64,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub watch: WatchArgs,

    /// The port to listen on (0: any free port, printed on the first line).
    #[arg(long, default_value_t = 3000)]
    pub port: u16,

    /// The address to listen on. Anything but loopback lets other machines
    /// read the report.
    #[arg(long, default_value_t = crate::cli::serve::DEFAULT_HOST)]
    pub host: std::net::IpAddr,

    /// Open the bilingual page (or the first edition's) in the default
    /// browser after the first build.
    #[arg(long)]
    pub open: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The folder to create the project in.
    #[arg(default_value = ".")]
    pub dir: PathBuf,

    /// Do not copy the default templates into the project.
    #[arg(long)]
    pub bare: bool,

    #[command(flatten)]
    pub diagnostics: DiagnosticsArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// Coloured text for a terminal (plain when piped or NO_COLOR is set);
    /// problems as `compile --format human` prints them.
    #[value(alias = "human")]
    Terminal,
    /// Markdown for a pull request comment; problems as `human`.
    Markdown,
    /// JSON lines: each problem as `compile --format json` prints it, then
    /// the comparison as one document on the last line.
    Json,
    /// The text of `terminal`, plain, with problems as GitHub workflow
    /// annotations.
    Github,
}

impl DiffFormat {
    /// How problems are printed in this format.
    pub fn diagnostics(self) -> Format {
        match self {
            DiffFormat::Terminal | DiffFormat::Markdown => Format::Human,
            DiffFormat::Json => Format::Json,
            DiffFormat::Github => Format::Github,
        }
    }
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old version: a git revision or a project folder (default: HEAD).
    pub from: Option<String>,

    /// The new version: a git revision or a project folder (default: the working tree).
    pub to: Option<String>,

    /// The project folder inside the git repository.
    #[arg(long, short = 'C', default_value = ".")]
    pub project: PathBuf,

    /// How to print the comparison and any problems found on the way.
    #[arg(long, value_enum, default_value_t = DiffFormat::Terminal)]
    pub format: DiffFormat,

    /// Also write a redline edition of the new version: insertions and
    /// deletions marked in both languages, with a summary page.
    #[arg(long)]
    pub pdf: Option<PathBuf>,

    /// With `--format markdown`: the longest comment, in characters as
    /// GitHub counts them (it refuses comments over 65,536). A longer
    /// comment is cut, saying what was left out, or written in parts with
    /// `--out`.
    #[arg(long, default_value_t = 65_536, value_parser = clap::value_parser!(u64).range(2_000..))]
    pub max_size: u64,

    /// With `--format markdown`: write the comment into this folder in
    /// parts of at most `--max-size` characters, `comment-1.md`,
    /// `comment-2.md`, …, each to be posted as a comment, instead of
    /// printing it.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The report project folder.
    #[arg(default_value = ".")]
    pub project: PathBuf,

    /// How to print: a table (human), one JSON document on one line with
    /// the diagnostics inside (json), or the table after workflow
    /// annotations (github).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Exit with 1 when any translation is stale or missing.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct TranslatedArgs {
    /// The chapter folder name, e.g. `02-digital-identity`.
    pub chapter: String,

    /// Only this block: en.md block N with ja.md block N, when `renga
    /// status` shows them as a pair.
    #[arg(long)]
    pub block: Option<usize>,

    /// The report project folder.
    #[arg(long, short = 'C', default_value = ".")]
    pub project: PathBuf,

    #[command(flatten)]
    pub diagnostics: DiagnosticsArgs,
}

#[derive(Debug, Subcommand)]
pub enum XliffCommand {
    /// Write the blocks that need translation (stale, untranslated, changed
    /// in both languages) as one XLIFF 1.2 file for a translation tool.
    #[command(
        after_help = "Examples:\n  renga xliff export --out to-translate.xlf\n  renga xliff export --chapter 02-digital-identity --direction en-ja\n\nEach unit holds the block's text with its markdown as protected codes, the\ncurrent translation when there is one, and what changed since the last one.\nExit status: 0 written, 1 errors in the project, 2 usage."
    )]
    Export(XliffExportArgs),
    /// Write the translations of an XLIFF file into the chapters and record
    /// them as in sync; all files or none.
    #[command(
        after_help = "Examples:\n  renga xliff import translated.xlf\n  renga xliff import translated.xlf --partial\n\nRefuses a unit whose source changed since the export, whose placeholders\nwere lost or duplicated, or that is not translated; --partial imports the\nothers. Exit status: 0 all imported, 1 a unit was refused, 2 usage."
    )]
    Import(XliffImportArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Direction {
    /// English source, Japanese translation.
    EnJa,
    /// Japanese source, English translation.
    JaEn,
}

#[derive(Debug, Args)]
pub struct XliffExportArgs {
    /// The report project folder.
    #[arg(default_value = ".")]
    pub project: PathBuf,

    /// Write to this file (atomically) instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Only this chapter (folder name; repeatable). All chapters by default.
    #[arg(long = "chapter")]
    pub chapters: Vec<String>,

    /// Only blocks to translate in this direction. By default each block
    /// goes the way it needs: from the language that changed; a block
    /// changed in both languages goes English to Japanese.
    #[arg(long, value_enum)]
    pub direction: Option<Direction>,

    /// Every paired block, in sync or not, with its current translation
    /// (for a translation memory, or a review of the whole report).
    #[arg(long)]
    pub all: bool,

    #[command(flatten)]
    pub diagnostics: DiagnosticsArgs,
}

#[derive(Debug, Args)]
pub struct XliffImportArgs {
    /// The translated XLIFF file.
    pub file: PathBuf,

    /// The report project folder.
    #[arg(long, short = 'C', default_value = ".")]
    pub project: PathBuf,

    /// Import the units that can be imported and list the others, instead
    /// of importing nothing when one is refused.
    #[arg(long)]
    pub partial: bool,

    #[command(flatten)]
    pub diagnostics: DiagnosticsArgs,
}

#[derive(Debug, Subcommand)]
pub enum TbxCommand {
    /// Write glossary.toml as TBX-Basic (ISO 30042): forbidden variants as
    /// deprecated terms.
    #[command(after_help = "Example:\n  renga tbx export --out glossary.tbx")]
    Export(TbxExportArgs),
}

#[derive(Debug, Args)]
pub struct TbxExportArgs {
    /// The report project folder.
    #[arg(default_value = ".")]
    pub project: PathBuf,

    /// Write to this file (atomically) instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum TmxCommand {
    /// Write every block pair the translation records show in sync as TMX
    /// 1.4b; stale pairs are left out.
    #[command(after_help = "Example:\n  renga tmx export --out report.tmx")]
    Export(TbxExportArgs),
}
