//! Records what `plumb version` says plumb was built from: the commit (`git rev-parse HEAD`, or
//! "unknown" outside a checkout, as from a source tarball) and the build date (UTC;
//! `SOURCE_DATE_EPOCH` wins, for reproducible builds). Runs again only when the checkout's HEAD
//! moves, so an edit elsewhere does not make cargo rebuild plumb for a new date.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let git = |args: &[&str]| -> Option<String> {
        let output = Command::new("git").args(args).output().ok()?;
        let text = String::from_utf8(output.stdout).ok()?;
        (output.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
    };
    let commit = git(&["rev-parse", "HEAD"]);
    // HEAD itself (a branch switch) and its log (every commit, checkout and reset), in this
    // worktree's own git directory.
    for path in ["HEAD", "logs/HEAD"] {
        if let Some(file) = git(&["rev-parse", "--git-path", path]) {
            println!("cargo:rerun-if-changed={file}");
        }
    }
    println!(
        "cargo:rustc-env=PLUMB_BUILD_COMMIT={}",
        commit.as_deref().unwrap_or("unknown")
    );
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()
                .map(|d| d.as_secs() as i64)
        });
    let date = seconds.map_or_else(
        || "unknown".to_string(),
        |s| civil_date(s.div_euclid(86_400)),
    );
    println!("cargo:rustc-env=PLUMB_BUILD_DATE={date}");
}

/// `YYYY-MM-DD` of a day counted from 1970-01-01 (Howard Hinnant's days-to-civil algorithm).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
