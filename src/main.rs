use clap::{CommandFactory, Parser};

use renga::args::{Cli, Command, XliffCommand};

fn main() {
    let cli = Cli::parse();
    let code = match &cli.command {
        Command::Compile(args) => renga::compile::run(args, cli.quiet),
        Command::Check(args) => renga::check::run(args, cli.quiet),
        Command::Watch(args) => renga::watch::run(args, cli.quiet),
        Command::Init(args) => renga::init::run(args, cli.quiet),
        Command::Diff(args) => renga::diff::run(args, cli.quiet),
        Command::Status(args) => renga::status::run(args, cli.quiet),
        Command::Translated(args) => renga::status::record(args, cli.quiet),
        Command::Xliff(XliffCommand::Export(args)) => renga::xliff::export(args, cli.quiet),
        Command::Xliff(XliffCommand::Import(args)) => renga::xliff::import(args, cli.quiet),
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
    };
    std::process::exit(code);
}
