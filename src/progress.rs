//! Progress notes on stderr: shown on a terminal, silent when piped, in CI, or with `-q`.

use std::io::IsTerminal;

pub struct Progress {
    enabled: bool,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
        Progress {
            enabled: !quiet && !in_ci && std::io::stderr().is_terminal(),
        }
    }

    pub fn note(&self, message: &str) {
        if self.enabled {
            eprintln!("\x1b[2m{message}…\x1b[0m");
        }
    }
}
