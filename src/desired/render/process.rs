//! Running a render tool as a child process with a deadline.
//!
//! A chart that loops forever or a kustomization that waits on the network must not stall a
//! nightly audit: past its timeout the child is killed and the render reported as failed. The
//! standard library has no `wait` with a timeout, so the child is polled; stdout and stderr are
//! drained on their own threads so a chatty tool never blocks on a full pipe. Neither is kept
//! without bound: a tool that prints more than [`MAX_TOOL_OUTPUT_BYTES`] is stopped (a template
//! that loops over a huge range must not take the machine's memory), and of its stderr only the
//! first [`MAX_TOOL_STDERR_BYTES`] are kept.

use crate::limits::{MAX_TOOL_OUTPUT_BYTES, MAX_TOOL_STDERR_BYTES};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot start {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("waiting for {program}: {source}")]
    Wait {
        program: String,
        source: std::io::Error,
    },
    #[error("{program} did not finish within {seconds}s and was stopped")]
    Timeout { program: String, seconds: u64 },
    #[error(
        "{program} printed more than {limit} bytes and was stopped\n  help: a render this large is almost certainly a template loop; check the chart's or kustomization's inputs"
    )]
    OutputTooLarge { program: String, limit: usize },
}

/// What a finished child printed, and whether it succeeded.
#[derive(Debug)]
pub struct Output {
    pub success: bool,
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    /// The first [`MAX_TOOL_STDERR_BYTES`] of stderr.
    pub stderr: Vec<u8>,
    /// Bytes of stderr past those, dropped.
    pub stderr_dropped: usize,
}

/// Runs `program args…` in `dir`, killing it after `timeout` or once its output passes
/// [`MAX_TOOL_OUTPUT_BYTES`].
pub fn run(
    program: &Path,
    args: &[String],
    dir: &Path,
    env: &[(&str, &str)],
    timeout: Duration,
) -> Result<Output, ProcessError> {
    run_bounded(
        program,
        args,
        dir,
        env,
        timeout,
        MAX_TOOL_OUTPUT_BYTES,
        MAX_TOOL_STDERR_BYTES,
    )
}

/// A pipe's contents, up to a bound, and how many bytes past it were read and dropped.
struct Drained {
    kept: Vec<u8>,
    dropped: usize,
}

/// Reads `pipe` to its end, keeping the first `limit` bytes. With `stop_past_limit`, reading
/// stops at the limit and `over` is set (the caller then kills the child); without, the rest is
/// read and dropped so the child never blocks on a full pipe.
fn drain(
    pipe: Option<Box<dyn Read + Send>>,
    limit: usize,
    stop_past_limit: bool,
    over: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Drained> {
    std::thread::spawn(move || {
        let mut drained = Drained {
            kept: Vec::new(),
            dropped: 0,
        };
        let Some(mut pipe) = pipe else {
            return drained;
        };
        let mut chunk = vec![0u8; 64 << 10];
        loop {
            let n = match pipe.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            let room = limit.saturating_sub(drained.kept.len());
            drained.kept.extend_from_slice(&chunk[..n.min(room)]);
            drained.dropped += n.saturating_sub(room);
            if drained.dropped > 0 && stop_past_limit {
                over.store(true, Ordering::Relaxed);
                break;
            }
        }
        drained
    })
}

/// [`run`] with explicit bounds on stdout and stderr.
fn run_bounded(
    program: &Path,
    args: &[String],
    dir: &Path,
    env: &[(&str, &str)],
    timeout: Duration,
    max_stdout: usize,
    max_stderr: usize,
) -> Result<Output, ProcessError> {
    let name = program.display().to_string();
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    // Its own process group, so a timeout stops what the tool started too (a wrapper script's
    // helm, a kustomize plugin), not only the process plumb started.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().map_err(|source| ProcessError::Spawn {
        program: name.clone(),
        source,
    })?;
    let too_much = Arc::new(AtomicBool::new(false));
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        max_stdout,
        true,
        too_much.clone(),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        max_stderr,
        false,
        too_much.clone(),
    );
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    let status = loop {
        if too_much.load(Ordering::Relaxed) {
            kill_group(&mut child);
            let _ = child.wait();
            return Err(ProcessError::OutputTooLarge {
                program: name,
                limit: max_stdout,
            });
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                kill_group(&mut child);
                let _ = child.wait();
                return Err(ProcessError::Timeout {
                    program: name,
                    seconds: timeout.as_secs(),
                });
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(source) => {
                kill_group(&mut child);
                return Err(ProcessError::Wait {
                    program: name,
                    source,
                });
            }
        }
    };
    let stdout = stdout.join().map_or_else(|_| Vec::new(), |d| d.kept);
    if too_much.load(Ordering::Relaxed) {
        return Err(ProcessError::OutputTooLarge {
            program: name,
            limit: max_stdout,
        });
    }
    let (stderr, stderr_dropped) = stderr
        .join()
        .map_or_else(|_| (Vec::new(), 0), |d| (d.kept, d.dropped));
    Ok(Output {
        success: status.success(),
        code: status.code(),
        stdout,
        stderr,
        stderr_dropped,
    })
}

/// Kills the child and every process in its group.
fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals the process group the child leads (it was
        // started with process_group(0)); it touches no memory.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_status() {
        let out = run(
            Path::new("/bin/sh"),
            &["-c".into(), "echo out; echo err >&2; exit 3".into()],
            Path::new("/"),
            &[],
            Duration::from_secs(10),
        )
        .unwrap();
        assert!(!out.success);
        assert_eq!(out.code, Some(3));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
    }

    #[test]
    fn kills_a_child_past_its_timeout() {
        let started = Instant::now();
        let err = run(
            Path::new("/bin/sh"),
            &["-c".into(), "sleep 30; echo late".into()],
            Path::new("/"),
            &[],
            Duration::from_millis(200),
        )
        .unwrap_err();
        assert!(matches!(err, ProcessError::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_child_printing_past_the_bound_is_stopped() {
        let started = Instant::now();
        // `yes` never ends on its own: only the bound stops it.
        let err = run_bounded(
            Path::new("/bin/sh"),
            &["-c".into(), "yes plumb".into()],
            Path::new("/"),
            &[],
            Duration::from_secs(60),
            1 << 20,
            1 << 10,
        )
        .unwrap_err();
        assert!(
            matches!(err, ProcessError::OutputTooLarge { limit, .. } if limit == 1 << 20),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_secs(30));
    }

    #[test]
    fn stderr_is_kept_up_to_its_bound_and_the_rest_dropped() {
        let out = run_bounded(
            Path::new("/bin/sh"),
            &[
                "-c".into(),
                "head -c 100000 /dev/zero >&2; echo done".into(),
            ],
            Path::new("/"),
            &[],
            Duration::from_secs(30),
            1 << 20,
            1000,
        )
        .unwrap();
        assert!(out.success);
        assert_eq!(out.stderr.len(), 1000);
        assert_eq!(out.stderr_dropped, 99_000);
        assert_eq!(out.stdout, b"done\n");
    }
}
