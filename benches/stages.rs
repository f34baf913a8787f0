//! Per-stage timings of plumb's pipeline on an in-memory corpus (docs/benchmarks.md).
//!
//!     cargo bench --bench stages
//!     STAGES_OBJECTS=10000 cargo bench --bench stages
//!
//!     STAGES_DIR=target/bench/10000 cargo bench --bench stages   # a gen-corpus corpus instead
//!
//! A plain `std::time::Instant` harness (no criterion): builds two environments of YAML text in
//! Rust (STAGES_OBJECTS objects each, default 4000; about 10% of pairs differ, 1% unpaired) — or
//! reads STAGES_DIR/staging and STAGES_DIR/production — then times each stage on one thread:
//! parse, inventory, normalize, raw diff, parity (pairing, value rewriting and diff), report
//! (findings, JSON), and the policy stages with the shipped policies plus 50 user rules (noise
//! removal, equal-value scans, judgement, checks), and prints ns per object and the policy share. Every stage is repeated until it has run
//! for STAGES_MIN_MS (default 400 ms) and at least 3 times; the fastest repetition is reported.
//! Inputs are cloned before the clock starts.
//!
//! Memory: a counting global allocator reports the heap bytes requested (malloc's own overhead
//! not included) that each stage's output holds, and the peak while parity and the report run.
//!
//! plumb runs parse and normalize on all cores (rayon); everything else is single-threaded, as here.

use plumb::compare::pairing::Mapping;
use plumb::compare::parity::{Sides, parity};
use plumb::model::{Inventory, Resource, Scopes};
use plumb::normalize::{Fingerprinter, Normalizer};
use plumb::policy::checks::{CheckResults, Side};
use plumb::policy::eval::{Judgement, Policies};
use plumb::policy::{Place, Scope};
use plumb::policy::{builtin, rules};
use plumb::report::{EnvironmentInput, Inputs, Report};
use plumb::yaml::{Document, parse_documents};
use serde_json::Value;
use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Counts live heap bytes; tracks the peak only while asked to (a `fetch_max` on every
/// allocation would cost as much as the allocation).
struct Counting;

/// Where the bench's findings are: the pair `left`, `right`, and each side alone.
const PAIR: Place<'static> = Place {
    envs: &["left", "right"],
    edge: false,
};
const LEFT: Place<'static> = Place {
    envs: &["left"],
    edge: false,
};
const RIGHT: Place<'static> = Place {
    envs: &["right"],
    edge: false,
};

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static TRACK_PEAK: AtomicBool = AtomicBool::new(false);

fn grew(size: usize) {
    let now = LIVE.fetch_add(size, Relaxed) + size;
    if TRACK_PEAK.load(Relaxed) {
        PEAK.fetch_max(now, Relaxed);
    }
}

// SAFETY: every call is passed straight to the system allocator; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is the system allocator's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> usize {
    LIVE.load(Relaxed)
}

/// Runs `f` and returns its output with the peak of live bytes above the starting level.
fn peak_of<O>(f: impl FnOnce() -> O) -> (O, usize) {
    let start = live();
    PEAK.store(start, Relaxed);
    TRACK_PEAK.store(true, Relaxed);
    let out = f();
    TRACK_PEAK.store(false, Relaxed);
    (out, PEAK.load(Relaxed).saturating_sub(start))
}

fn mib(bytes: f64) -> f64 {
    bytes / (1024.0 * 1024.0)
}

/// A small deterministic generator (xorshift64*), so runs compare.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const WORDS: &[&str] = &[
    "api", "auth", "billing", "cart", "catalog", "checkout", "courier", "edge", "feed", "gateway",
    "index", "ledger", "mailer", "metrics", "orders", "payments", "pricing", "search", "session",
    "vault",
];
const CPU: &[&str] = &["50m", "100m", "250m", "500m", "1", "2"];
const MEMORY: &[&str] = &["64Mi", "128Mi", "256Mi", "512Mi", "1Gi", "2Gi"];

/// What differs on the right side of one pair.
#[derive(Clone, Copy, PartialEq)]
enum Variant {
    Same,
    Differs,
}

fn labels(out: &mut String, indent: &str, app: &str, ns: &str) {
    let _ = write!(
        out,
        "{indent}labels:\n{indent}  app.kubernetes.io/name: {app}\n{indent}  app.kubernetes.io/part-of: {ns}\n\
         {indent}  app.kubernetes.io/managed-by: argocd\n{indent}  helm.sh/chart: service-0.14.2\n"
    );
}

fn deployment(out: &mut String, rng: &mut Rng, app: &str, ns: &str, v: Variant) {
    let replicas = 1 + rng.below(4) + if v == Variant::Differs { 2 } else { 0 };
    let tag = format!(
        "1.{}.{}",
        rng.below(30),
        rng.below(10) + if v == Variant::Differs { 1 } else { 0 }
    );
    let level = if v == Variant::Differs {
        "warn"
    } else {
        "info"
    };
    let (cpu, mem) = (rng.below(4) as usize, rng.below(4) as usize);
    let _ = write!(
        out,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}\n  namespace: {ns}\n"
    );
    labels(out, "  ", app, ns);
    let _ = write!(
        out,
        "spec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: {app}\n\
         \x20 strategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 25%\n      maxUnavailable: 0\n\
         \x20 template:\n    metadata:\n"
    );
    labels(out, "      ", app, ns);
    let _ = write!(
        out,
        "      annotations:\n        prometheus.io/scrape: \"true\"\n        checksum/config: {:016x}{:016x}\n\
         \x20   spec:\n      serviceAccountName: {app}\n      securityContext:\n        runAsNonRoot: true\n        runAsUser: 10001\n\
         \x20     containers:\n      - name: {app}\n        image: ghcr.io/acme/{app}:{tag}\n        imagePullPolicy: IfNotPresent\n\
         \x20       args: [\"--config=/etc/app/config.yaml\", \"--listen=:8080\"]\n\
         \x20       ports:\n        - name: http\n          containerPort: 8080\n        - name: metrics\n          containerPort: 9090\n\
         \x20       env:\n        - name: APP_NAME\n          value: {app}\n        - name: LOG_LEVEL\n          value: {level}\n\
         \x20       - name: DB_HOST\n          value: {app}-db.{ns}.svc.cluster.local\n\
         \x20       - name: POD_NAME\n          valueFrom:\n            fieldRef:\n              fieldPath: metadata.name\n\
         \x20       - name: DB_PASSWORD\n          valueFrom:\n            secretKeyRef:\n              name: {app}-secrets\n              key: db-password\n",
        rng.next(),
        rng.next()
    );
    for i in 0..3 + rng.below(5) {
        let _ = write!(
            out,
            "        - name: FLAG_{i}_ENABLED\n          value: \"{}\"\n",
            rng.chance(50)
        );
    }
    let _ = write!(
        out,
        "        resources:\n          requests:\n            cpu: {}\n            memory: {}\n\
         \x20         limits:\n            cpu: \"{}\"\n            memory: {}\n\
         \x20       readinessProbe:\n          httpGet:\n            path: /healthz/ready\n            port: http\n          periodSeconds: 10\n\
         \x20       livenessProbe:\n          httpGet:\n            path: /healthz/live\n            port: http\n          initialDelaySeconds: 15\n\
         \x20       volumeMounts:\n        - name: config\n          mountPath: /etc/app\n          readOnly: true\n        - name: tmp\n          mountPath: /tmp\n\
         \x20     volumes:\n      - name: config\n        configMap:\n          name: {app}-config\n          defaultMode: 0644\n\
         \x20     - name: tmp\n        emptyDir: {{}}\n",
        CPU[cpu],
        MEMORY[mem],
        CPU[cpu + 1],
        MEMORY[mem + 1 + if v == Variant::Differs { 1 } else { 0 }],
    );
}

fn configmap(out: &mut String, rng: &mut Rng, app: &str, ns: &str, v: Variant) {
    let _ = write!(
        out,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}-config\n  namespace: {ns}\n"
    );
    labels(out, "  ", app, ns);
    let timeout = if v == Variant::Differs { 60 } else { 10 };
    let _ = write!(
        out,
        "data:\n  LOG_FORMAT: json\n  REQUEST_TIMEOUT: \"{timeout}s\"\n  config.yaml: |\n    server:\n      listen: \":8080\"\n    upstreams:\n"
    );
    for _ in 0..2 + rng.below(6) {
        let w = rng.pick(WORDS);
        let _ = write!(
            out,
            "      - name: {w}\n        url: http://{w}.{ns}.svc.cluster.local:8080\n        retries: {}\n",
            rng.below(5)
        );
    }
}

fn secret(out: &mut String, rng: &mut Rng, app: &str, ns: &str, v: Variant) {
    let _ = write!(
        out,
        "apiVersion: v1\nkind: Secret\ntype: Opaque\nmetadata:\n  name: {app}-secrets\n  namespace: {ns}\n"
    );
    labels(out, "  ", app, ns);
    let password = rng.next() ^ if v == Variant::Differs { 1 } else { 0 };
    let _ = write!(
        out,
        "data:\n  db-password: {}\n  api-key: {}\n",
        base64_of(password),
        base64_of(rng.next())
    );
}

fn base64_of(n: u64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{n:020}"))
}

fn service(out: &mut String, _rng: &mut Rng, app: &str, ns: &str, v: Variant) {
    let _ = write!(
        out,
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {app}\n  namespace: {ns}\n"
    );
    labels(out, "  ", app, ns);
    let port = if v == Variant::Differs { 8080 } else { 80 };
    let _ = write!(
        out,
        "spec:\n  type: ClusterIP\n  selector:\n    app.kubernetes.io/name: {app}\n  ports:\n  - name: http\n    port: {port}\n    targetPort: http\n\
         \x20 - name: metrics\n    port: 9090\n    targetPort: metrics\n"
    );
}

fn service_account(out: &mut String, _rng: &mut Rng, app: &str, ns: &str, v: Variant) {
    let _ = write!(
        out,
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {app}\n  namespace: {ns}\n"
    );
    labels(out, "  ", app, ns);
    let account = if v == Variant::Differs {
        "210987654321"
    } else {
        "123456789012"
    };
    let _ = write!(
        out,
        "  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::{account}:role/{ns}-{app}\n"
    );
}

fn hpa(out: &mut String, rng: &mut Rng, app: &str, ns: &str, v: Variant) {
    let _ = write!(
        out,
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: {app}\n  namespace: {ns}\n"
    );
    labels(out, "  ", app, ns);
    let max = 4 + rng.below(6) + if v == Variant::Differs { 10 } else { 0 };
    let _ = write!(
        out,
        "spec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: {app}\n  minReplicas: 2\n  maxReplicas: {max}\n\
         \x20 metrics:\n  - type: Resource\n    resource:\n      name: cpu\n      target:\n        type: Utilization\n        averageUtilization: 70\n"
    );
}

type Generator = fn(&mut String, &mut Rng, &str, &str, Variant);
const BUNDLE: &[Generator] = &[service_account, configmap, secret, deployment, service, hpa];

/// Two environments as YAML files of 25 documents each, and how many objects each side holds.
fn corpus(objects: usize) -> (Vec<String>, Vec<String>) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut left, mut right) = (Vec::new(), Vec::new());
    let (mut l, mut r) = (String::new(), String::new());
    let mut count = 0;
    let mut app_index = 0;
    while count < objects {
        let ns = format!("team-{}", app_index / 16);
        let app = format!("{}-{}-{app_index}", rng.pick(WORDS), rng.pick(WORDS));
        app_index += 1;
        for generate in BUNDLE {
            if count == objects {
                break;
            }
            let seed = rng.next();
            let roll = rng.below(100);
            // The same seed on both sides: identical objects unless the variant says otherwise.
            l.push_str("---\n");
            generate(&mut l, &mut Rng(seed | 1), &app, &ns, Variant::Same);
            r.push_str("---\n");
            if roll == 0 {
                // One percent: a different object on the right (one only-in finding per side).
                generate(
                    &mut r,
                    &mut Rng(seed | 1),
                    &format!("{app}-canary"),
                    &ns,
                    Variant::Same,
                );
            } else {
                let variant = if roll <= 10 {
                    Variant::Differs
                } else {
                    Variant::Same
                };
                generate(&mut r, &mut Rng(seed | 1), &app, &ns, variant);
            }
            count += 1;
            if count % 25 == 0 {
                left.push(std::mem::take(&mut l));
                right.push(std::mem::take(&mut r));
            }
        }
    }
    if !l.is_empty() {
        left.push(l);
        right.push(r);
    }
    (left, right)
}

/// Every file under `dir` (hidden ones skipped), in path order, as text.
fn read_dir_texts(dir: &Path) -> Vec<String> {
    fn collect(path: &Path, out: &mut Vec<PathBuf>) {
        if path.is_dir() {
            let entries =
                std::fs::read_dir(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            for entry in entries {
                let entry = entry.expect("directory entry");
                if !entry.file_name().to_string_lossy().starts_with('.') {
                    collect(&entry.path(), out);
                }
            }
        } else {
            out.push(path.to_path_buf());
        }
    }
    let mut paths = Vec::new();
    collect(dir, &mut paths);
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect()
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `body` on a fresh input from `setup` until `min` has passed (and at least 3 times); the
/// fastest run.
fn time<I, O>(
    min: Duration,
    mut setup: impl FnMut() -> I,
    mut body: impl FnMut(I) -> O,
) -> Duration {
    let mut best = Duration::MAX;
    let started = Instant::now();
    let mut runs = 0;
    while runs < 3 || started.elapsed() < min {
        let input = setup();
        let t = Instant::now();
        let output = body(input);
        let elapsed = t.elapsed();
        drop(black_box(output));
        best = best.min(elapsed);
        runs += 1;
    }
    best
}

fn parse_all(files: &[String], name: &str) -> Vec<Document> {
    files
        .iter()
        .enumerate()
        .flat_map(|(i, text)| {
            parse_documents(text, &format!("{name}/{i}.yaml")).expect("generated YAML parses")
        })
        .collect()
}

fn build(env: &str, documents: Vec<Document>) -> Inventory {
    plumb::inventory::build(env, documents, None, &Scopes::default())
        .expect("generated objects have identities")
}

/// builtin:parity-baseline, builtin:security and 50 user rules written by scripts/gen-policies,
/// then builtin:noise — what `scripts/bench` runs as "plumb +policies".
fn full_policies() -> Policies {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::temp_dir().join(format!("plumb-stages-{}.yaml", std::process::id()));
    let status = std::process::Command::new("python3")
        .arg(root.join("scripts/gen-policies"))
        .arg(&out)
        .arg("50")
        .status()
        .expect("python3 runs scripts/gen-policies");
    assert!(status.success(), "scripts/gen-policies failed");
    let text = std::fs::read_to_string(&out).expect("gen-policies wrote its file");
    let _ = std::fs::remove_file(&out);
    let shipped = |name| builtin::load(name).expect("shipped").expect("parses");
    Policies::new(
        vec![
            shipped("builtin:parity-baseline"),
            shipped("builtin:security"),
            rules::parse(&text, "team.yaml").expect("generated rules parse"),
            shipped(builtin::NOISE),
        ],
        0,
    )
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument means nothing here.
    let objects = env_number("STAGES_OBJECTS", 4000) as usize;
    let min = Duration::from_millis(env_number("STAGES_MIN_MS", 400));
    let total = Instant::now();

    let (left_files, right_files) = match std::env::var_os("STAGES_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            (
                read_dir_texts(&dir.join("staging")),
                read_dir_texts(&dir.join("production")),
            )
        }
        None => corpus(objects),
    };
    let bytes: usize = left_files.iter().chain(&right_files).map(String::len).sum();
    let before_parse = live();
    let ((left_docs, right_docs), parse_peak) = peak_of(|| {
        (
            parse_all(&left_files, "left"),
            parse_all(&right_files, "right"),
        )
    });
    let documents_bytes = (live() - before_parse) as f64;
    let n = (left_docs.len() + right_docs.len()) as f64;
    println!(
        "stages: {} + {} objects in {} files, {:.1} MB of YAML; one thread; best of >= 3 runs, >= {} ms per stage",
        left_docs.len(),
        right_docs.len(),
        left_files.len() + right_files.len(),
        bytes as f64 / 1e6,
        min.as_millis()
    );

    let mut rows: Vec<(&str, Duration, f64, &str)> = Vec::new();

    // 1. parse: YAML text to documents (serde-saphyr to serde_json::Value).
    let parse = time(
        min,
        || (),
        |()| {
            (
                parse_all(&left_files, "left"),
                parse_all(&right_files, "right"),
            )
        },
    );
    rows.push(("parse (YAML)", parse, n, "both sides"));

    // Reference: the same objects as JSON text through the same entry point (serde_json fast path).
    let json_files: Vec<String> = left_docs
        .chunks(25)
        .chain(right_docs.chunks(25))
        .map(|chunk| {
            chunk
                .iter()
                .map(|d| d.value.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    let parse_json = time(
        min,
        || (),
        |()| {
            json_files
                .iter()
                .map(|t| parse_documents(t, "x.json").expect("JSON parses").len())
                .sum::<usize>()
        },
    );
    rows.push(("  same as JSON", parse_json, n, "reference: serde_json"));

    // 2. inventory: identities, namespaces, duplicate check.
    let inventory = time(
        min,
        || (left_docs.clone(), right_docs.clone()),
        |(l, r)| (build("left", l), build("right", r)),
    );
    rows.push(("inventory", inventory, n, "both sides"));

    // 3. normalize: secrets fingerprinted (HMAC), canonical forms (noise is a policy stage, below).
    let normalizer = Normalizer::new(Fingerprinter::with_key(b"k"));
    let normalize = time(
        min,
        || {
            (
                build("left", left_docs.clone()),
                build("right", right_docs.clone()),
            )
        },
        |(mut l, mut r)| {
            for inv in [&mut l, &mut r] {
                for resource in inv.resources.values_mut() {
                    normalizer.normalize_object(&resource.id.kind, &mut resource.object);
                }
            }
            (l, r)
        },
    );
    rows.push(("normalize", normalize, n, "both sides"));

    // The inventories take the documents' values over; measured as what they add to a copy.
    let (left_copy, right_copy) = (left_docs.clone(), right_docs.clone());
    let before_inventory = live();
    let mut left_inv = build("left", left_copy);
    let mut right_inv = build("right", right_copy);
    let inventory_bytes = documents_bytes + live() as f64 - before_inventory as f64;
    for resource in left_inv
        .resources
        .values_mut()
        .chain(right_inv.resources.values_mut())
    {
        normalizer.normalize(resource, false);
    }
    let normalized_bytes = documents_bytes + live() as f64 - before_inventory as f64;

    // 4. diff: the structural diff alone, on every pair (matched by identity outside the clock).
    let pairs: Vec<(&Value, &Value)> = left_inv
        .resources
        .iter()
        .filter_map(|(id, l)| right_inv.resources.get(id).map(|r| (&l.object, &r.object)))
        .collect();
    let diff = time(
        min,
        || (),
        |()| {
            pairs
                .iter()
                .map(|(l, r)| plumb::diff::diff(l, r).len())
                .sum::<usize>()
        },
    );
    let changes: usize = pairs
        .iter()
        .map(|(l, r)| plumb::diff::diff(l, r).len())
        .sum();
    rows.push(("diff", diff, pairs.len() as f64, "per pair"));

    // 5. parity: pairing, hash-suffix and mapping rewrites (a copy of every left object), diff.
    let sides = Sides {
        left: "left",
        right: "right",
    };
    let mapping = Mapping::default();
    let parity_time = time(
        min,
        || (),
        |()| parity(&left_inv, &right_inv, &mapping, &sides).expect("no ambiguity"),
    );
    let (differences, parity_peak) =
        peak_of(|| parity(&left_inv, &right_inv, &mapping, &sides).expect("no ambiguity"));
    rows.push((
        "parity",
        parity_time,
        pairs.len() as f64,
        "per pair, includes diff",
    ));

    // 6. report: judge, finding ids (SHA-256) and messages, sort, JSON text.
    let policies = Policies::none();
    let report = time(
        min,
        || differences.clone(),
        |found| {
            let mut report = Report::new(
                "parity",
                Inputs {
                    environments: vec![
                        EnvironmentInput {
                            name: "left".into(),
                            ..Default::default()
                        },
                        EnvironmentInput {
                            name: "right".into(),
                            ..Default::default()
                        },
                    ],
                    ..Default::default()
                },
            );
            for d in found {
                if let Judgement::Finding(verdict) = policies.judge(&d, &PAIR, &mut Vec::new()) {
                    report.add(d, &["left", "right"], verdict);
                }
            }
            report.finish();
            plumb::report::json::render(&report).len()
        },
    );
    rows.push((
        "report (JSON)",
        report,
        differences.len() as f64,
        "per finding",
    ));

    // 7. policies: the shipped policies plus 50 user rules (scripts/gen-policies) — noise removed
    // before comparison, `require-different` equal-value scans during it, every difference judged,
    // every check run on both sides. Each is what a policy-less run (builtin:noise only) does not do.
    let full = full_policies();
    let prepared = || (left_inv.clone(), right_inv.clone());
    let noise = time(min, prepared, |(mut l, mut r)| {
        for resource in l.resources.values_mut().chain(r.resources.values_mut()) {
            full.remove_noise(resource, Scope::Parity);
        }
        (l, r)
    });
    rows.push(("policy: noise", noise, n, "both sides"));
    let resource_pairs: Vec<(&Resource, &Resource)> = left_inv
        .resources
        .iter()
        .filter_map(|(id, l)| right_inv.resources.get(id).map(|r| (l, r)))
        .collect();
    let scans = time(
        min,
        || (),
        |()| {
            resource_pairs
                .iter()
                .map(|(l, r)| full.equal_values(l, r, &PAIR).len())
                .sum::<usize>()
        },
    );
    rows.push(("policy: equal", scans, pairs.len() as f64, "per pair"));
    let judge = time(
        min,
        || (),
        |()| {
            let mut errors = Vec::new();
            differences
                .iter()
                .filter(|d| matches!(full.judge(d, &PAIR, &mut errors), Judgement::Finding(_)))
                .count()
        },
    );
    rows.push((
        "policy: judge",
        judge,
        differences.len() as f64,
        "per finding",
    ));
    // Checks run on every core in plumb; here on one, like the other stages.
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a one-thread pool");
    let checks = time(
        min,
        || (),
        |()| {
            one_thread.install(|| {
                let mut results = CheckResults::default();
                results.add(&full, left_inv.par_values(), Side::Desired, &LEFT);
                results.add(&full, right_inv.par_values(), Side::Desired, &RIGHT);
                results.judge(&full, &RIGHT, &mut Vec::new()).len()
            })
        },
    );
    rows.push(("policy: checks", checks, n, "both sides"));

    println!(
        "{:<16} {:>12} {:>14}  unit",
        "stage", "total ms", "ns / unit"
    );
    for (name, elapsed, units, what) in &rows {
        println!(
            "{:<16} {:>12.2} {:>14.0}  {}",
            name,
            elapsed.as_secs_f64() * 1e3,
            elapsed.as_nanos() as f64 / units,
            what
        );
    }
    let pipeline = parse + inventory + normalize + parity_time + report;
    println!(
        "pipeline (parse + inventory + normalize + parity + report): {:.2} ms, {:.0} ns per object; \
         {} pairs, {} field changes, {} findings",
        pipeline.as_secs_f64() * 1e3,
        pipeline.as_nanos() as f64 / n,
        pairs.len(),
        changes,
        differences.len()
    );
    let policy = noise + scans + judge + checks;
    println!(
        "policy evaluation (shipped policies + 50 user rules): {:.2} ms, {:.1}% of pipeline + policy",
        policy.as_secs_f64() * 1e3,
        100.0 * policy.as_secs_f64() / (pipeline + policy).as_secs_f64()
    );
    let found = differences.clone();
    let (_, report_peak) = peak_of(move || {
        let mut report = Report::new("parity", Inputs::default());
        for d in found {
            if let Judgement::Finding(verdict) = policies.judge(&d, &PAIR, &mut Vec::new()) {
                report.add(d, &["left", "right"], verdict);
            }
        }
        report.finish();
        plumb::report::json::render(&report)
    });
    println!(
        "memory (heap bytes requested): YAML text {:.1} MiB; parsed documents {:.1} MiB \
         ({:.0} bytes per object, {:.1}x the text); parse peak {:.1} MiB",
        mib(bytes as f64),
        mib(documents_bytes),
        documents_bytes / n,
        documents_bytes / bytes as f64,
        mib(parse_peak as f64),
    );
    println!(
        "  inventories {:.1} MiB, normalized {:.1} MiB; parity peak +{:.1} MiB; report peak +{:.1} MiB",
        mib(inventory_bytes),
        mib(normalized_bytes),
        mib(parity_peak as f64),
        mib(report_peak as f64),
    );
    println!("stages: done in {:.1} s", total.elapsed().as_secs_f64());
}
