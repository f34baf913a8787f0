//! The test suite's fake Kubernetes API server as a program, for the demo's fake clusters
//! (`scripts/demo-cluster`) and for CI's check of the fake with real kubectl.
//!
//!     fake-apiserver [--port N] [--pre-aggregated] [--broken-aggregated-api] [--forbid RESOURCE]...
//!                    [--page-size N] [--delay-ms N] FILE...
//!
//! FILE: a `kubectl get -o json|yaml` List, a plumb snapshot, or YAML manifests — the objects to
//! serve. Prints the server's URL on its first line, then serves until killed.

#[path = "../tests/support/fake_apiserver.rs"]
#[allow(dead_code)]
mod fake_apiserver;

use fake_apiserver::{FakeApiServer, Switches};
use serde_json::Value;

fn main() {
    let mut switches = Switches::default();
    let mut port = 0u16;
    let mut objects: Vec<Value> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |what: &str| {
            args.next()
                .unwrap_or_else(|| exit(&format!("{arg} needs {what}")))
        };
        match arg.as_str() {
            "--port" => port = value("a port").parse().unwrap_or_else(|_| exit("bad port")),
            "--pre-aggregated" => switches.pre_aggregated = true,
            "--broken-aggregated-api" => switches.broken_aggregated_api = true,
            "--forbid" => switches.forbidden.push(value("a resource")),
            "--delay-ms" => {
                let ms: u64 = value("milliseconds")
                    .parse()
                    .unwrap_or_else(|_| exit("bad delay"));
                switches.delay = std::time::Duration::from_millis(ms)
            }
            "--page-size" => {
                switches.page_size =
                    Some(value("a size").parse().unwrap_or_else(|_| exit("bad size")))
            }
            file => objects.extend(read_objects(file)),
        }
    }
    let server = FakeApiServer::start_on(&format!("127.0.0.1:{port}"), objects, switches);
    println!("{}", server.url());
    loop {
        std::thread::park();
    }
}

fn read_objects(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| exit(&format!("{path}: {e}")));
    let documents =
        plumb::yaml::parse_documents(&text, path).unwrap_or_else(|e| exit(&format!("{path}: {e}")));
    let mut out = Vec::new();
    for document in documents {
        let mut value = document.value;
        let items = match value["kind"].as_str() {
            Some("PlumbSnapshot") => value["objects"].take(),
            Some(kind) if kind.ends_with("List") => value["items"].take(),
            _ => Value::Array(vec![value]),
        };
        out.extend(items.as_array().cloned().unwrap_or_default());
    }
    out
}

fn exit(message: &str) -> ! {
    eprintln!("fake-apiserver: {message}");
    std::process::exit(2)
}
