//! Every bound plumb puts on its input, in one place, each with the reason for its value.
//!
//! Any input may be hostile: a manifest in a pull request, a chart's output, a snapshot file, a
//! policy. Each limit sits far above what real input reaches and far below what would crash or
//! stall plumb; exceeding one is an error that says which limit and where, never a crash, a hang
//! or a silently shortened result. docs/security.md lists them with the threat model.

/// Nesting depth of any value (mappings and lists, the document itself counted), checked while
/// parsing, before anything recurses over it. serde_json reads every cluster response and JSON
/// file with a fixed recursion limit of 128, which lets 127 nested containers through; YAML gets
/// the same bound, so a value means the same whatever its syntax. The deepest real input measured
/// is 17 (a snapshot); the deepest CRD schemas (Prometheus Operator's) reach about 30. Every
/// recursive stage (normalize, diff, CEL, output, drop) is tested at this depth on a
/// [`STACK_BYTES`] stack.
pub const MAX_DEPTH: usize = 127;

/// Stack of every thread that parses or walks values: the thread a command runs on and rayon's
/// workers (the defaults, 8 MiB for `main` and 2 MiB for spawned threads, are not a bound plumb
/// controls). A debug build needs about 3 MiB to parse a YAML value [`MAX_DEPTH`] deep (the
/// parser takes ~23 KiB a level), a whole command at that depth about 4 MiB, a release build far
/// less: four times that. Only the pages a thread touches are committed.
pub const STACK_BYTES: usize = 16 << 20;

/// Bytes of one plumb.yaml, policy file or policy-test file: these are written by hand.
pub const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// Bytes of one manifest file (from Git, a directory, or a tool's output): the Kubernetes API
/// stores at most about 1.5 MiB per object, so this holds thousands of real objects.
pub const MAX_MANIFEST_BYTES: u64 = 256 << 20;

/// Bytes of a previous JSON report (`--baseline`) or metrics file plumb reads back.
pub const MAX_REPORT_BYTES: u64 = 256 << 20;

/// Bytes of one live-state file (a snapshot or a `kubectl get` List): a whole cluster.
pub const MAX_LIVE_FILE_BYTES: u64 = 2 << 30;

/// Nodes one YAML stream may produce once aliases are expanded (a "billion laughs" document
/// expands a few hundred bytes into billions of nodes).
pub const MAX_YAML_NODES: usize = 50_000_000;

/// Alias uses in one YAML stream.
pub const MAX_YAML_ALIASES: usize = 100_000;

/// Parser events that aliases may replay in one YAML stream, and events recorded under anchors
/// to be replayed (each about one node): what bounds a "billion laughs" document, whose 200 bytes
/// expand to 10^9 nodes. Kubernetes manifests use aliases for a shared label block or env list,
/// tens of nodes each; tools never write them. Measured in a debug build: a bomb is refused after
/// 1 s and 64 MB at this bound, and after 9 s and 280 MB at a million (serde-saphyr's default),
/// which a fuzzer on a busy machine sees as a hang.
pub const MAX_YAML_ALIAS_EXPANSION: usize = 100_000;

/// Bytes a render tool may print on stdout before it is stopped.
pub const MAX_TOOL_OUTPUT_BYTES: usize = 512 << 20;

/// Bytes of a render tool's stderr kept for its error message (the rest is dropped).
pub const MAX_TOOL_STDERR_BYTES: usize = 64 << 10;

/// Files one source may bring (a directory of manifests, a render's output).
pub const MAX_FILES_PER_SOURCE: usize = 100_000;

/// Entries of two lists without keys (both sides together) that are aligned as sequences, like
/// lines in a text diff. Aligning lists that share nothing costs up to (left + right)² steps; past
/// this bound entries are matched by position, one step each.
pub const MAX_ALIGNED_ENTRIES: usize = 4_096;

/// Bytes of a tool's stderr (a render tool, a credential plugin) shown in a report's error
/// message: enough for the error a tool ends with; the whole kept stderr (scrubbed, like the
/// excerpt) is in the `-vv` debug log.
pub const MAX_TOOL_STDERR_EXCERPT_BYTES: usize = 4 << 10;

/// Characters below which a value is not treated as a secret to scrub out of a tool's text: a
/// `set:` value of `1` or `true` would otherwise erase every `1` and `true` of the message.
pub const MIN_SCRUBBED_SECRET_CHARS: usize = 4;

/// Column up to which an error in a user's file is shown with a snippet that points at it.
/// miette cannot draw a pointer further right than a format width reaches (65,535 columns, tabs
/// counting four) and panics trying; past this column the error keeps its file:line:column and
/// loses only the drawing, which on a line that long would help nobody anyway.
pub const MAX_SNIPPET_COLUMN: u64 = 4_096;

/// Estimated cost of one CEL program (a condition or a check's assertion), as Kubernetes' CEL
/// cost model counts it (docs/policies.md, "What an expression may cost"): the limit Kubernetes
/// puts on one validation rule's estimate. `plumb policy lint` rejects a program over it.
pub const MAX_CEL_COST: u64 = 10_000_000;

/// Cost one evaluation of a CEL program may spend on one object, counted from the real sizes of
/// what it reads while it runs; then it is stopped and the run is incomplete. Kubernetes' per-call
/// limit, which it sizes at about a tenth of a second; measured in plumb, an evaluation that spends
/// it (eight nested `all()` over ten entries) is stopped after about 0.1 s in a release build,
/// 0.5 s in a debug build.
pub const MAX_CEL_EVALUATION_COST: u64 = 1_000_000;

/// Depth of a CEL program's syntax tree (each operator, call, selection or comprehension is a
/// level), and of the brackets in its text: parsing, evaluating, estimating and projecting all
/// recurse, and checks run on rayon's threads. Measured in a debug build: the cel crate's evaluator
/// overflows a 2 MiB stack at about 56 levels, its parser needs about 150 KiB per
/// bracket. Real conditions and assertions are about a dozen levels deep; a chain of `+` or
/// `.field` is as deep as it is long.
pub const MAX_CEL_DEPTH: usize = 32;

/// Entries the cost estimate assumes for a list whose size the text does not tell (a field of
/// the object). Kubernetes assumes the largest size the schema allows; plumb has no schema, so
/// it assumes the largest list a real object carries: a container's environment or a role's
/// rules run to a few hundred entries. Two nested comprehensions over such lists stay within
/// MAX_CEL_COST; three do not.
pub const ASSUMED_LIST_SIZE: u64 = 500;

/// Characters the cost estimate assumes for a string whose length the text does not tell: a
/// Kubernetes name is at most 253 characters, an image reference or a label value shorter.
pub const ASSUMED_STRING_LENGTH: u64 = 256;

/// Applications one Argo CD ApplicationSet may generate (list elements times directories): each
/// is a copy of its template, and only the one a source names is followed. Real sets generate
/// tens to a few hundred (one per cluster, team or directory); a set past this is refused as a
/// `render` error rather than expanded into millions of copies by a hostile generator.
pub const MAX_GENERATED_APPLICATIONS: usize = 1_000;

/// Bytes of a remote chart's archive (`.tgz`) plumb accepts from a chart repository. Helm stores
/// a release, chart included, in one Secret of at most 1 MiB, so deployed charts are far smaller;
/// the largest common ones (kube-prometheus-stack, with its CRDs) are about 1 MiB compressed.
/// helm writes the archive before plumb can measure it: the render timeout bounds the transfer,
/// this bound what is kept and rendered.
pub const MAX_CHART_ARCHIVE_BYTES: u64 = 32 << 20;

/// Bytes of a chart repository's `index.yaml`: the largest public ones (every version of every
/// chart of a big vendor's repository) reach tens of MiB.
pub const MAX_CHART_INDEX_BYTES: u64 = 128 << 20;

/// Levels of Flux objects a `flux:` source follows through each other's output (a Kustomization
/// whose output holds a Kustomization is one level). Flux repositories nest two or three levels
/// (cluster → infrastructure/apps → a HelmRelease); a cycle is stopped by identity before this.
pub const MAX_FLUX_DEPTH: usize = 16;

/// Flux Kustomizations and HelmReleases one `flux:` source follows: each is a render, and a
/// hostile output could name thousands. The largest estates seen hold a few hundred per cluster.
pub const MAX_FLUX_OBJECTS: usize = 2_000;

/// Post renderers of one HelmRelease (`spec.postRenderers`): each is a kustomization nested in
/// the next, which kustomize builds recursively in one run. Real HelmReleases have one or two; a
/// hostile one naming thousands would nest that deep.
pub const MAX_POST_RENDERERS: usize = 32;

/// The most commits of an environment's history `--history N` may ask for: each one that changed
/// what the environment reads is read (and its renders run, cold) once.
pub const MAX_HISTORY_COMMITS: u32 = 10_000;

/// The most first-parent commits one history walk looks at, changed or not: a repository where
/// the environment's files rarely change is walked this far back at most.
pub const MAX_HISTORY_WALK: usize = 100_000;
