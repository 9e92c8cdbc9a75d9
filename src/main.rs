use clap::{CommandFactory, Parser};

use renga::cli::args::{Cli, Command, TbxCommand, TmxCommand, XliffCommand};
use renga::diag::Format;

fn main() {
    let mut cli = Cli::parse();
    locate_project(&mut cli.command);
    // No input may crash renga: a panic (a bug, here or in typst) is one
    // internal error in the command's diagnostic format, exit 1.
    renga::diag::catch_panics();
    if let Some(code) = bound(&cli.command) {
        std::process::exit(code);
    }
    let code =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&cli))).unwrap_or_else(|_| {
            let _ = renga::diag::emit(
                std::path::Path::new("."),
                &[renga::diag::internal_error()],
                format(&cli.command),
            );
            1
        });
    std::process::exit(code);
}

/// The project folder each command means, found as git and cargo find
/// theirs (see `find_root`): from inside a chapter folder, or by its
/// `report.toml`.
fn locate_project(command: &mut Command) {
    use renga::load::project::find_root;
    let project = match command {
        Command::Compile(args) => &mut args.project.project,
        Command::Check(args) => &mut args.project.project,
        Command::Watch(args) => &mut args.project.project,
        Command::Serve(args) => &mut args.watch.project.project,
        Command::Status(args) => &mut args.project,
        Command::Xliff(XliffCommand::Export(args)) => &mut args.project,
        Command::Tbx(TbxCommand::Export(args)) => &mut args.project,
        Command::Tmx(TmxCommand::Export(args)) => &mut args.project,
        _ => return,
    };
    *project = find_root(project);
}

/// Puts a build (`compile`, `check`) under its time and memory budget
/// (see `renga::load::limits`): past it, one error naming the project's
/// templates (the only code a project holds), exit status 1. `Some(2)`
/// when the budget's variables are not numbers.
fn bound(command: &Command) -> Option<i32> {
    let (project, format) = match command {
        Command::Compile(args) => (&args.project.project, args.project.diagnostics.format),
        Command::Check(args) => (&args.project.project, args.project.diagnostics.format),
        _ => return None,
    };
    let budget = match renga::load::limits::Budget::from_env() {
        Ok(budget) => budget,
        Err(message) => {
            eprintln!("error: {message}");
            return Some(2);
        }
    };
    let root = project.clone();
    renga::load::limits::watchdog(budget, move |reason| {
        let own: Vec<String> = ["main.typ", "prelude.typ"]
            .iter()
            .map(|t| format!("templates/{t}"))
            .filter(|t| root.join(t).is_file())
            .collect();
        let mut d = renga::diag::Diagnostic::error(
            "build-limit",
            format!("stopped: {reason}; a template may loop without end"),
        )
        .hint("the limits are RENGA_TIME_LIMIT (seconds) and RENGA_MEMORY_LIMIT (megabytes); see the README's \"What is bounded\"");
        if let Some(first) = own.first() {
            d = d.at(renga::diag::Location::file(first));
            if own.len() > 1 {
                d = d.hint(format!("check the loops in {}", own.join(" and ")));
            }
        }
        let _ = renga::diag::emit(&root, &[d], format);
        std::process::exit(1);
    });
    None
}

/// The diagnostic format the command was asked for.
fn format(command: &Command) -> Format {
    match command {
        Command::Compile(args) => args.project.diagnostics.format,
        Command::Check(args) => args.project.diagnostics.format,
        Command::Watch(args) => args.project.diagnostics.format,
        Command::Serve(args) => args.watch.project.diagnostics.format,
        Command::Init(args) => args.diagnostics.format,
        _ => Format::Human,
    }
}

fn run(cli: &Cli) -> i32 {
    match &cli.command {
        Command::Compile(args) => renga::cli::compile::run(args, cli.quiet),
        Command::Check(args) => renga::cli::check::run(args, cli.quiet),
        Command::Watch(args) => renga::cli::watch::run(args, cli.quiet),
        Command::Serve(args) => renga::cli::serve::run(args, cli.quiet),
        Command::Init(args) => renga::cli::init::run(args, cli.quiet),
        Command::Diff(args) => renga::review::diff::run(args, cli.quiet),
        Command::Status(args) => renga::cli::status::run(args, cli.quiet),
        Command::Translated(args) => renga::cli::status::record(args, cli.quiet),
        Command::Xliff(XliffCommand::Export(args)) => renga::render::xliff::export(args, cli.quiet),
        Command::Xliff(XliffCommand::Import(args)) => renga::render::xliff::import(args, cli.quiet),
        Command::Tbx(TbxCommand::Export(args)) => renga::cli::terms::tbx_export(args, cli.quiet),
        Command::Tmx(TmxCommand::Export(args)) => renga::cli::terms::tmx_export(args, cli.quiet),
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "renga", &mut std::io::stdout());
            0
        }
        Command::Man => {
            match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
                Ok(()) => 0,
                Err(err) => {
                    eprintln!("error: {err}");
                    1
                }
            }
        }
    }
}
