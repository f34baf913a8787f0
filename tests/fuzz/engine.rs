//! The fuzz engine: runs a target's cases in a child process (a worker), so that an abort — a
//! stack overflow, an allocation over the hard cap, a hang stopped by the watchdog — is a reported
//! failure with its input on disk rather than the end of the test run.
//!
//! Each `#[test]` of tests/fuzz.rs is a parent: it starts this test binary again as a worker
//! (`fuzz_worker`, ignored in ordinary runs), which runs cases one by one and records in-process
//! failures (a panic, a broken promise such as an unlocated error, a case over the memory bound).
//! When the worker dies, the parent reads which case was running from the files the worker
//! writes before each case, records the crash, and starts a new worker at the next case.

use super::mutate;
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A promise a target found broken: its class (a short stable name) and what happened.
pub struct Broken {
    pub class: &'static str,
    pub detail: String,
}

pub type Outcome = Result<(), Broken>;

pub fn broken(class: &'static str, detail: impl Into<String>) -> Outcome {
    Err(Broken {
        class,
        detail: detail.into(),
    })
}

pub struct Target {
    /// Also the directory of its regression inputs under tests/data/fuzz-regressions/.
    pub name: &'static str,
    pub run: fn(&[u8]) -> Outcome,
    pub seeds: fn() -> Vec<Vec<u8>>,
    /// Cases in a default run.
    pub cases: u64,
}

// ---------------------------------------------------------------------------------------------
// Memory: a counting allocator.

/// Peak heap one case may use above what was live when it started; far above what a real file
/// needs (a 2 MiB input parses in a few tens of MiB) and far below a machine's memory.
pub const CASE_MEMORY_BOUND: usize = 256 << 20;
/// Past this an allocation fails, which aborts the worker: a case that would otherwise take the
/// machine down (an alias bomb) ends as a recorded crash.
const HARD_MEMORY_CAP: usize = 1 << 30;
/// A case running longer than this is a hang: the watchdog aborts the worker. Debug builds on a
/// busy two-core machine parse the largest inputs in well under a second.
const CASE_TIME_LIMIT: Duration = Duration::from_secs(10);
/// Cases run on a thread with the stack plumb gives every command and rayon worker.
const CASE_STACK: usize = plumb::limits::STACK_BYTES;

pub struct CountingAllocator;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static CAPPED: AtomicBool = AtomicBool::new(false);

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !reserve(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded unchanged to the system allocator.
        let ptr = unsafe { System.alloc(layout) };
        if ptr.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let grow = new_size.saturating_sub(layout.size());
        if !reserve(grow) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded unchanged to the system allocator.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if new.is_null() {
            LIVE.fetch_sub(grow, Ordering::Relaxed);
        } else {
            LIVE.fetch_sub(layout.size().saturating_sub(new_size), Ordering::Relaxed);
        }
        new
    }
}

fn reserve(size: usize) -> bool {
    let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
    if CAPPED.load(Ordering::Relaxed) && live > HARD_MEMORY_CAP {
        LIVE.fetch_sub(size, Ordering::Relaxed);
        return false;
    }
    PEAK.fetch_max(live, Ordering::Relaxed);
    true
}

// ---------------------------------------------------------------------------------------------
// Settings.

pub const DEFAULT_SEED: u64 = 0x706c_756d_6266_757a; // "plumbfuz"

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let text = text.trim();
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={text} is not a number")))
}

fn seed() -> u64 {
    env_number("PLUMB_FUZZ_SEED").unwrap_or(DEFAULT_SEED)
}

fn cases(default: u64) -> u64 {
    env_number("PLUMB_FUZZ_CASES").unwrap_or(default)
}

fn work_dir(target: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("fuzz")
        .join(target);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz-regressions")
}

/// Written straight to the process's stderr, past the test harness's capture: a line the
/// developer sees even when the process then dies.
fn say(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Known failures: tests/data/fuzz-regressions/KNOWN.

/// What KNOWN lists: regression files not to run, and classes of failure a target may still hit.
#[derive(Default)]
pub struct Known {
    /// `target/file` → why.
    pub files: BTreeMap<String, String>,
    /// `(target, class)` → why.
    pub classes: BTreeMap<(String, String), String>,
}

pub fn known() -> Known {
    let path = regressions_dir().join("KNOWN");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut known = Known::default();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or_default();
        if first == "class" {
            let target = words.next().expect("KNOWN: `class TARGET CLASS REASON`");
            let class = words.next().expect("KNOWN: `class TARGET CLASS REASON`");
            let reason = words.collect::<Vec<_>>().join(" ");
            known
                .classes
                .insert((target.to_string(), class.to_string()), reason);
        } else {
            let reason = words.collect::<Vec<_>>().join(" ");
            assert!(
                regressions_dir().join(first).is_file(),
                "KNOWN lists {first}, which is not a file under tests/data/fuzz-regressions"
            );
            known.files.insert(first.to_string(), reason);
        }
    }
    known
}

// ---------------------------------------------------------------------------------------------
// The parent.

/// One failure: which case, what broke, where its input is.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Failure {
    pub case: u64,
    pub class: String,
    /// Distinguishes failures of one class (a panic's location); equal signatures are one bug.
    pub signature: String,
    pub detail: String,
    pub input: String,
    pub minimized: Option<String>,
}

/// What the worker runs.
enum Job {
    Generated { seed: u64, cases: u64 },
    Files(Vec<PathBuf>),
}

impl Job {
    fn len(&self) -> u64 {
        match self {
            Job::Generated { cases, .. } => *cases,
            Job::Files(files) => files.len() as u64,
        }
    }
}

/// Fuzzes one target for the configured number of cases; fails the test on any failure a
/// KNOWN class does not cover.
pub fn fuzz(targets: &[Target], name: &str) {
    let target = targets.iter().find(|t| t.name == name).unwrap();
    if let Ok(input) = std::env::var("PLUMB_FUZZ_INPUT") {
        // Reproducing one input: in this process, so the panic and its backtrace show.
        let bytes = std::fs::read(&input).unwrap();
        if let Err(b) = (target.run)(&bytes) {
            panic!("{input}: {}: {}", b.class, b.detail);
        }
        return;
    }
    let seed = seed();
    let job = Job::Generated {
        seed,
        cases: cases(target.cases),
    };
    let started = Instant::now();
    let failures = run_job(target, &job);
    let known = known();
    let mut unexpected = Vec::new();
    for failure in failures {
        match known
            .classes
            .get(&(name.to_string(), failure.class.clone()))
        {
            Some(reason) => say(&format!(
                "fuzz {name}: known failure class `{}` at case {} ({reason}); input in {}",
                failure.class, failure.case, failure.input
            )),
            None => unexpected.push(failure),
        }
    }
    say(&format!(
        "fuzz {name}: {} cases, seed {seed:#x}, {:.1}s",
        job.len(),
        started.elapsed().as_secs_f64()
    ));
    assert!(
        unexpected.is_empty(),
        "fuzz target `{name}` (seed {seed:#x}) failed:\n{}\nReproduce one input in-process: \
         PLUMB_FUZZ_INPUT=FILE cargo test --test fuzz fuzz_{} -- --exact --nocapture; keep it as \
         a regression input under tests/data/fuzz-regressions/{name}/",
        describe(&unexpected),
        name.replace('-', "_")
    );
}

/// Replays every regression input; those KNOWN lists are skipped with a note.
pub fn replay(targets: &[Target]) {
    let known = known();
    let mut failures = Vec::new();
    let mut replayed = 0;
    for target in targets {
        let dir = regressions_dir().join(target.name);
        let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
            Err(_) => continue,
        };
        files.sort();
        files.retain(|file| {
            let key = format!(
                "{}/{}",
                target.name,
                file.file_name().unwrap().to_string_lossy()
            );
            match known.files.get(&key) {
                Some(reason) => {
                    say(&format!("fuzz regressions: skipping {key}: {reason}"));
                    false
                }
                None => true,
            }
        });
        replayed += files.len();
        if files.is_empty() {
            continue;
        }
        for failure in run_job(target, &Job::Files(files.clone())) {
            failures.push((target.name, failure));
        }
    }
    assert!(replayed > 0, "no regression inputs found");
    assert!(
        failures.is_empty(),
        "regression inputs fail again:\n{}",
        failures
            .iter()
            .map(|(t, f)| format!("  {t}: {}: {} ({})", f.input, f.class, f.detail))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn describe(failures: &[Failure]) -> String {
    let mut by_signature: BTreeMap<&str, Vec<&Failure>> = BTreeMap::new();
    for f in failures {
        by_signature.entry(&f.signature).or_default().push(f);
    }
    by_signature
        .values()
        .map(|group| {
            let f = group[0];
            format!(
                "  {} ×{}: {}\n    first at case {}: {}{}",
                f.class,
                group.len(),
                truncate(&f.detail, 600),
                f.case,
                f.input,
                f.minimized
                    .as_deref()
                    .map(|m| format!(" (minimized: {m})"))
                    .unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// Runs the given files as the cases of one target, in workers; for the engine's own test.
pub fn run_files(targets: &[Target], name: &str, files: Vec<PathBuf>) -> Vec<Failure> {
    let target = targets.iter().find(|t| t.name == name).unwrap();
    run_job(target, &Job::Files(files))
}

fn run_job(target: &Target, job: &Job) -> Vec<Failure> {
    let dir = work_dir(target.name);
    let records = dir.join("failures.jsonl");
    let _ = std::fs::remove_file(&records);
    let list = dir.join("files");
    let (kind, seed) = match job {
        Job::Generated { seed, .. } => ("generated", *seed),
        Job::Files(files) => {
            let text: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            std::fs::write(&list, text.join("\n")).unwrap();
            ("files", 0)
        }
    };
    say(&format!(
        "fuzz {}: {} {kind} cases; the running input is kept in {}",
        target.name,
        job.len(),
        dir.join("current").display()
    ));
    let mut crashes = Vec::new();
    let mut from = 0;
    while from < job.len() {
        let _ = std::fs::remove_file(dir.join("done"));
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "fuzz_worker",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("PLUMB_FUZZ_WORKER", target.name)
            .env("PLUMB_FUZZ_JOB", kind)
            .env("PLUMB_FUZZ_SEED", seed.to_string())
            .env("PLUMB_FUZZ_FROM", from.to_string())
            .env("PLUMB_FUZZ_CASES", job.len().to_string())
            .env("PLUMB_FUZZ_FILES", &list)
            .env_remove("PLUMB_FUZZ_INPUT")
            .output()
            .unwrap();
        if dir.join("done").is_file() && output.status.success() {
            break;
        }
        // The worker died: the case it was running is the crash.
        let stderr = String::from_utf8_lossy(&output.stderr);
        let case: u64 = std::fs::read_to_string(dir.join("current.case"))
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or_else(|| panic!("the fuzz worker died before its first case:\n{stderr}"));
        let class = if stderr.contains("has overflowed its stack") {
            "stack-overflow"
        } else if stderr.contains("memory allocation of") {
            "memory-cap"
        } else if stderr.contains("PLUMB_FUZZ_HANG") {
            "hang"
        } else {
            "crash"
        };
        let kept = dir.join(format!("{class}-{case}.input"));
        std::fs::copy(dir.join("current"), &kept).unwrap();
        let tail: String = stderr
            .lines()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join(" | ");
        say(&format!(
            "fuzz {}: the worker died at case {case} ({class}); input kept in {}",
            target.name,
            kept.display()
        ));
        crashes.push(Failure {
            case,
            class: class.into(),
            signature: class.into(),
            detail: format!("{} ({}): {tail}", output.status, describe_input(&kept)),
            input: kept.display().to_string(),
            minimized: None,
        });
        from = case + 1;
    }
    let mut failures: Vec<Failure> = std::fs::read_to_string(&records)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    failures.extend(crashes);
    failures.sort_by_key(|f| f.case);
    failures
}

fn describe_input(path: &Path) -> String {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    format!("{size} bytes")
}

// ---------------------------------------------------------------------------------------------
// The worker.

/// Milliseconds since the worker started at which the running case started; 0 between cases.
static CASE_STARTED: AtomicU64 = AtomicU64::new(0);
static PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Runs in the child process: `PLUMB_FUZZ_WORKER` names the target.
pub fn worker(targets: &[Target]) {
    let Ok(name) = std::env::var("PLUMB_FUZZ_WORKER") else {
        return;
    };
    let target = targets.iter().find(|t| t.name == name).unwrap();
    let dir = work_dir(target.name);
    let from = env_number("PLUMB_FUZZ_FROM").unwrap_or(0);
    let count = env_number("PLUMB_FUZZ_CASES").unwrap();
    let job = match std::env::var("PLUMB_FUZZ_JOB").as_deref() {
        Ok("files") => Job::Files(
            std::fs::read_to_string(std::env::var("PLUMB_FUZZ_FILES").unwrap())
                .unwrap()
                .lines()
                .map(PathBuf::from)
                .collect(),
        ),
        _ => Job::Generated {
            seed: seed(),
            cases: count,
        },
    };
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        *PANIC.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!("{location}\t{message}"));
    }));
    let epoch = Instant::now();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(200));
            let started = CASE_STARTED.load(Ordering::Relaxed);
            let now = epoch.elapsed().as_millis() as u64;
            if started > 0 && now - started > CASE_TIME_LIMIT.as_millis() as u64 {
                say("PLUMB_FUZZ_HANG: a case ran past the time limit");
                std::process::abort();
            }
        }
    });
    let corpus = match &job {
        Job::Generated { .. } => (target.seeds)(),
        Job::Files(_) => Vec::new(),
    };
    // Failures of a known class are kept but not minimized: that time goes to new cases.
    let known_classes: Vec<String> = known()
        .classes
        .into_keys()
        .filter(|(t, _)| t == target.name)
        .map(|(_, class)| class)
        .collect();
    CAPPED.store(true, Ordering::Relaxed);
    let run = target.run;
    let target_name = target.name;
    let worker_dir = dir.clone();
    std::thread::Builder::new()
        .stack_size(CASE_STACK)
        .spawn(move || {
            let dir = worker_dir;
            let mut records = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join("failures.jsonl"))
                .unwrap();
            let mut seen = std::collections::BTreeSet::new();
            for case in from..job.len() {
                let (input, source) = match &job {
                    Job::Generated { seed, .. } => {
                        (mutate::case_input(&corpus, *seed, target_name, case), None)
                    }
                    Job::Files(files) => {
                        let file = &files[case as usize];
                        (std::fs::read(file).unwrap(), Some(file.clone()))
                    }
                };
                std::fs::write(dir.join("current"), &input).unwrap();
                std::fs::write(dir.join("current.case"), case.to_string()).unwrap();
                CASE_STARTED.store(epoch.elapsed().as_millis().max(1) as u64, Ordering::Relaxed);
                let result = run_one(run, &input);
                CASE_STARTED.store(0, Ordering::Relaxed);
                let Err((class, signature, detail)) = result else {
                    continue;
                };
                // Keep the first input of each bug, minimized; later ones are only counted.
                let (kept, minimized) = match source {
                    Some(file) => (file.display().to_string(), None),
                    None => {
                        let kept = dir.join(format!("{class}-{case}.input"));
                        std::fs::write(&kept, &input).unwrap();
                        let new_bug =
                            !known_classes.contains(&class) && seen.insert(signature.clone());
                        let minimized = new_bug.then(|| {
                            let small = minimize(run, &input, &signature);
                            let path = dir.join(format!("{class}-{case}.min"));
                            std::fs::write(&path, small).unwrap();
                            path.display().to_string()
                        });
                        (kept.display().to_string(), minimized)
                    }
                };
                let failure = Failure {
                    case,
                    class: class.to_string(),
                    signature,
                    detail,
                    input: kept,
                    minimized,
                };
                writeln!(records, "{}", serde_json::to_string(&failure).unwrap()).unwrap();
            }
        })
        .unwrap()
        .join()
        .unwrap();
    std::fs::write(dir.join("done"), "").unwrap();
}

/// Runs one case: `Err((class, signature, detail))` when it panicked, broke a promise, or used
/// more memory than [`CASE_MEMORY_BOUND`].
fn run_one(run: fn(&[u8]) -> Outcome, input: &[u8]) -> Result<(), (String, String, String)> {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let result = std::panic::catch_unwind(|| run(input));
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    match result {
        Err(_) => {
            let text = PANIC
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .unwrap_or_default();
            let (location, message) = text.split_once('\t').unwrap_or((&text, ""));
            Err((
                "panic".into(),
                format!("panic at {location}"),
                format!("panic at {location}: {message}"),
            ))
        }
        Ok(Err(b)) => Err((b.class.to_string(), b.class.to_string(), b.detail)),
        Ok(Ok(())) if peak > CASE_MEMORY_BOUND => Err((
            "memory".into(),
            "memory".into(),
            format!(
                "the case used {} MiB of heap (bound {} MiB) for {} bytes of input",
                peak >> 20,
                CASE_MEMORY_BOUND >> 20,
                input.len()
            ),
        )),
        Ok(Ok(())) => Ok(()),
    }
}

/// Shrinks an input while it still fails the same way: drops chunks, halving their size, then
/// single bytes; bounded so that minimizing never takes longer than a few seconds.
fn minimize(run: fn(&[u8]) -> Outcome, input: &[u8], signature: &str) -> Vec<u8> {
    let still_fails =
        |candidate: &[u8]| matches!(run_one(run, candidate), Err((_, s, _)) if s == signature);
    let mut best = input.to_vec();
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut chunk = best.len().div_ceil(2).max(1);
    while chunk >= 1 && Instant::now() < deadline {
        let mut at = 0;
        while at < best.len() && Instant::now() < deadline {
            let end = (at + chunk).min(best.len());
            let mut candidate = best[..at].to_vec();
            candidate.extend_from_slice(&best[end..]);
            if still_fails(&candidate) {
                best = candidate;
            } else {
                at += chunk;
            }
        }
        if chunk == 1 {
            break;
        }
        chunk /= 2;
    }
    best
}
