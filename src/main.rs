use clap::Parser;
use std::process::ExitCode;

// plumb allocates millions of small values (every key and scalar of every object) from several
// threads; mimalloc does that faster than the system allocator (see docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
