//! The `digest` binary: parse arguments, set up logging, run, map errors to exit codes.

use clap::Parser;
use paper_digest::cli::Cli;

fn main() {
    let cli = Cli::parse();
    paper_digest::app::init_logging(&cli.global);
    if let Err(err) = paper_digest::run(cli) {
        if paper_digest::exit::is_broken_pipe(&err) {
            return;
        }
        let message = format!("{err:#}").replace(['\r', '\n'], " ");
        eprintln!("digest: error: {message}");
        std::process::exit(paper_digest::exit::exit_code(&err).code());
    }
}
