use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Long paths in CI logs must stay on one line to be found and clicked.
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(miette::MietteHandlerOpts::new().wrap_lines(false).build())
    }));
    let cli = plumb::cli::Cli::parse();
    match plumb::app::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("{:?}", miette::Report::new(error));
            ExitCode::from(2)
        }
    }
}
