use clap::Parser;
use plumb::exit::Exit;
use std::process::ExitCode;

// plumb allocates millions of small values (every key and scalar of every object) from several
// threads; mimalloc does that faster than the system allocator (see docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs before `main` (and before Rust's runtime puts `/dev/null` on a closed standard
/// descriptor): notes whether stdout was closed (`plumb … >&-`), so a report written there is an
/// error instead of vanishing with exit 0. Only the ELF constructor list runs early enough.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static NOTE_CLOSED_STDOUT: extern "C" fn() = note_closed_stdout;

#[cfg(target_os = "linux")]
extern "C" fn note_closed_stdout() {
    // SAFETY: F_GETFD only reads the flags of descriptor 1; it fails (EBADF) when it is closed.
    if unsafe { libc::fcntl(1, libc::F_GETFD) } == -1 {
        plumb::app::note_stdout_closed_at_start();
    }
}

fn main() -> ExitCode {
    let cli = plumb::cli::Cli::parse();
    // `--color always|never` decides for error messages too; `auto` leaves it to miette, which
    // already honours a terminal, `NO_COLOR` and `TERM=dumb`.
    let color = match cli.global.color {
        plumb::cli::ColorChoice::Always => Some(true),
        plumb::cli::ColorChoice::Never => Some(false),
        plumb::cli::ColorChoice::Auto => None,
    };
    // Long paths in CI logs must stay on one line to be found and clicked.
    let _ = miette::set_hook(Box::new(move |_| {
        let options = miette::MietteHandlerOpts::new().wrap_lines(false);
        Box::new(
            match color {
                Some(color) => options.color(color),
                None => options,
            }
            .build(),
        )
    }));
    let exit = match plumb::app::run(cli) {
        Ok(exit) => exit,
        Err(error) => {
            eprintln!("{:?}", miette::Report::new(error));
            Exit::BadInput
        }
    };
    ExitCode::from(exit.code())
}
