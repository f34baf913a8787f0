//! A Helm chart repository on 127.0.0.1 that a test starts itself: charts written by the test,
//! packaged with the real helm (`helm package`, `helm repo index`), served by a small HTTP server
//! thread that records every request, so a test can count what plumb fetched.
//!
//! The index lists archives by relative URL, so the repository answers under any path: a file is
//! looked up by the last segment of the request's path (`/mirror/stable/index.yaml` serves
//! `index.yaml`), and the recorded path shows which URL plumb asked for. The server stops when
//! the value is dropped, and by itself after [`MAX_REQUESTS`] requests or [`LIFETIME`].

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The server stops by itself past this many requests (a test makes a handful).
const MAX_REQUESTS: usize = 1_000;
/// ... or past this long.
const LIFETIME: Duration = Duration::from_secs(600);

/// One request the repository received.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    /// The `Authorization` header, when sent.
    pub authorization: Option<String>,
}

pub struct ChartRepo {
    dir: tempfile::TempDir,
    port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    /// A status every request gets instead of the file (0: serve files).
    forced_status: Arc<AtomicU16>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ChartRepo {
    /// An empty repository, served at once.
    pub fn start() -> ChartRepo {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("served")).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let forced_status = Arc::new(AtomicU16::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let served = dir.path().join("served");
        let thread = {
            let (requests, forced_status, stop) =
                (requests.clone(), forced_status.clone(), stop.clone());
            std::thread::spawn(move || {
                let started = Instant::now();
                while !stop.load(Ordering::Relaxed)
                    && started.elapsed() < LIFETIME
                    && requests.lock().unwrap().len() < MAX_REQUESTS
                {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            serve(stream, &served, &requests, &forced_status);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        ChartRepo {
            dir,
            port,
            requests,
            forced_status,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT/PATH` (PATH without leading `/`; empty for the root).
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
            .trim_end_matches('/')
            .to_string()
    }

    /// `http://USER:PASSWORD@127.0.0.1:PORT/PATH`.
    pub fn url_with_credentials(&self, user: &str, password: &str, path: &str) -> String {
        format!("http://{user}:{password}@127.0.0.1:{}/{path}", self.port)
    }

    /// Packages a chart `name` at `version` (one ConfigMap named after the release, holding the
    /// chart's version and `values.greeting`) and re-indexes the repository, with `helm`.
    pub fn add_chart(&self, helm: &Path, name: &str, version: &str) -> &Self {
        let source = self
            .dir
            .path()
            .join("src")
            .join(format!("{name}-{version}"));
        std::fs::create_dir_all(source.join("templates")).unwrap();
        std::fs::write(
            source.join("Chart.yaml"),
            format!("apiVersion: v2\nname: {name}\nversion: {version}\n"),
        )
        .unwrap();
        std::fs::write(source.join("values.yaml"), "greeting: hello\n").unwrap();
        std::fs::write(
            source.join("templates/configmap.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  version: {{ .Chart.Version | quote }}\n  greeting: {{ .Values.greeting | quote }}\n",
        )
        .unwrap();
        let served = self.dir.path().join("served");
        run(
            helm,
            &[
                "package",
                &source.display().to_string(),
                "-d",
                &served.display().to_string(),
            ],
        );
        run(helm, &["repo", "index", &served.display().to_string()]);
        self
    }

    /// Packages the chart in `dir` as it is (a real chart) and re-indexes the repository.
    pub fn add_chart_dir(&self, helm: &Path, dir: &Path) -> &Self {
        let served = self.dir.path().join("served");
        run(
            helm,
            &[
                "package",
                &dir.display().to_string(),
                "-d",
                &served.display().to_string(),
            ],
        );
        run(helm, &["repo", "index", &served.display().to_string()]);
        self
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// The paths requested so far, in order.
    pub fn paths(&self) -> Vec<String> {
        self.requests().into_iter().map(|r| r.path).collect()
    }

    /// Every later request is answered with `status` (0: serve files again).
    pub fn answer_with(&self, status: u16) {
        self.forced_status.store(status, Ordering::Relaxed);
    }
}

impl Drop for ChartRepo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A URL on 127.0.0.1 where nothing listens (a port bound, then released).
pub fn unreachable_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/charts")
}

fn run(helm: &Path, args: &[&str]) {
    let output = std::process::Command::new(helm)
        .args(args)
        .output()
        .expect("helm runs");
    assert!(
        output.status.success(),
        "helm {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Answers one request (HTTP/1.1, one request per connection).
fn serve(
    stream: TcpStream,
    served: &Path,
    requests: &Mutex<Vec<Request>>,
    forced_status: &AtomicU16,
) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut authorization = None;
    for _ in 0..100 {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("authorization")
        {
            authorization = Some(value.trim().to_string());
        }
    }
    requests.lock().unwrap().push(Request {
        path: path.clone(),
        authorization,
    });
    let file: PathBuf = served.join(path.rsplit('/').next().unwrap_or(""));
    let forced = forced_status.load(Ordering::Relaxed);
    let (status, body) = match std::fs::read(&file) {
        _ if forced != 0 => (forced, b"forced failure\n".to_vec()),
        Ok(body) if file.is_file() => (200, body),
        _ => (404, b"not found\n".to_vec()),
    };
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(&body);
    let _ = stream.flush();
}
