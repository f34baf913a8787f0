use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = plumb::cli::Cli::parse();
    match plumb::app::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("{:?}", miette::Report::new(error));
            ExitCode::from(2)
        }
    }
}
