//! Inputs for the fuzz targets: a seeded PRNG and mutations that matter to YAML and JSON readers.
//!
//! Case `i` of a run is a pure function of (seed, target, i): it picks seeds from the corpus and
//! stacks a few mutations on them. Nothing carries over from one case to the next, so a run can be
//! resumed at any case (after a crash kills the worker) and any case reproduced alone.

/// SplitMix64: small, fast, and good enough to drive mutations; the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A stable 64-bit hash of a name (FNV-1a), to give each target its own stream of cases.
pub fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// No input grows past this: far above any hand-written file, small enough that a debug build
/// parses it in well under a second.
const MAX_INPUT: usize = 2 << 20;

/// The input of case `index`: one or two seeds, then one to four mutations.
pub fn case_input(corpus: &[Vec<u8>], seed: u64, target: &str, index: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed ^ name_hash(target) ^ index.wrapping_mul(0xa076_1d64_78bd_642f));
    let mut input = rng.pick(corpus).clone();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        mutate(&mut input, corpus, &mut rng);
        input.truncate(MAX_INPUT);
    }
    input
}

/// Bytes that mean something to a YAML or JSON reader.
const SIGNIFICANT: &[u8] = b"\n\r\t :-[]{}\"'&*!|>#%@`,?~\\0";

/// Control bytes, a BOM, Unicode line separators, and bytes that are not UTF-8.
const ODD_BYTES: &[&[u8]] = &[
    b"\x00",
    b"\x07",
    b"\x1b[31m",
    b"\x7f",
    b"\x0c",
    b"\x0b",
    b"\xef\xbb\xbf",
    "\u{2028}".as_bytes(),
    "\u{85}".as_bytes(),
    "\u{200b}".as_bytes(),
    "\u{1f600}".as_bytes(),
    b"\xff\xfe",
    b"\xc3",
    b"\xed\xa0\x80",
];

/// Scalars of every type, and YAML spellings that parse as something surprising.
const SCALARS: &[&str] = &[
    "null",
    "~",
    "[]",
    "{}",
    "true",
    "no",
    "0",
    "-1",
    "0644",
    "0o17",
    "0x1F",
    "1e999",
    "-.inf",
    ".nan",
    "123456789012345678901234567890",
    "18446744073709551616",
    "\"\"",
    "''",
    "\"\\u0000\\ud800\"",
    "!!binary aGk=",
    "!!str 1",
    "!!int x",
    "!!map {}",
    "!custom x",
    "2027-13-45",
    "2027-02-29",
    "9999999-01-01",
    "|\n  block\n  text",
    ">-\n  folded",
    "[a, [b, {c: d}]]",
    "{a: 1, a: 2}",
    "*undefined",
    "&x value",
    "<script>alert(1)</script>",
    "`backticks`",
    "a\\nb",
];

/// Fragments a reader has to be ready for, spliced in at a line start.
const FRAGMENTS: &[&str] = &[
    "---\n",
    "...\n",
    "%YAML 1.2\n---\n",
    "%TAG ! tag:example.com,2000:\n---\n",
    "kind: List\n",
    "items:\n",
    "items: null\n",
    "kind: PlumbSnapshot\nversion: 1\n",
    "<<: {a: 1}\n",
    "<<: *a\n",
    "? [complex, key]\n: value\n",
    "!!set {a, b}\n",
    "a: &a [x, x]\nb: [*a, *a]\n",
    "version: 1\n",
    "apiVersion: v1\n",
    "metadata: {name: x, namespace: y}\n",
    "# comment\n",
    "\"key with spaces\": 1\n",
    "- \n",
];

/// Prefixes that nest one level each, repeated to build deep values.
const NESTERS: &[(&str, &str)] = &[
    ("- ", ""),
    ("[", "]"),
    ("{a: ", "}"),
    ("{\"a\":", "}"),
    ("a: {", "}"),
    ("? ", ""),
];

fn mutate(input: &mut Vec<u8>, corpus: &[Vec<u8>], rng: &mut Rng) {
    let len = input.len();
    let at = |rng: &mut Rng| if len == 0 { 0 } else { rng.below(len + 1) };
    match rng.below(16) {
        0 if len > 0 => {
            let i = rng.below(len);
            input[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            input[i] = *rng.pick(SIGNIFICANT);
        }
        2 if len > 0 => {
            // Delete a span.
            let start = rng.below(len);
            let end = (start + 1 + rng.below(64.min(len - start))).min(len);
            input.drain(start..end);
        }
        3 if len > 0 => {
            // Duplicate a span somewhere else.
            let start = rng.below(len);
            let end = (start + 1 + rng.below(256.min(len - start))).min(len);
            let span = input[start..end].to_vec();
            let to = at(rng);
            input.splice(to..to, span);
        }
        4 => {
            // Splice: a prefix of this input, a suffix of another seed, both cut at line starts.
            let other = rng.pick(corpus);
            let cut_here = line_start(input, at(rng));
            let cut_there = line_start(other, rng.below(other.len() + 1));
            input.truncate(cut_here);
            input.extend_from_slice(&other[cut_there..]);
        }
        5 => {
            // Repeat a line: duplicate keys, repeated list items.
            let (start, end) = line_around(input, at(rng));
            let line = input[start..end].to_vec();
            for _ in 0..1 + rng.below(3) {
                input.splice(end..end, line.iter().copied());
            }
        }
        6 => deepen(input, rng),
        7 => {
            // Anchor a value, then alias it elsewhere (or define an alias bomb).
            if rng.chance(4) {
                let levels = 2 + rng.below(9);
                let mut bomb = String::from("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
                for level in 1..levels {
                    let prev = format!("*l{}", level - 1);
                    let items = [prev.as_str(); 10].join(", ");
                    bomb.push_str(&format!("l{level}: &l{level} [{items}]\n"));
                }
                let to = line_start(input, at(rng));
                input.splice(to..to, bomb.into_bytes());
            } else {
                let to = at(rng);
                input.splice(to..to, b"&a ".iter().copied());
                let to = line_start(input, at(rng));
                input.splice(to..to, b"z: *a\n".iter().copied());
            }
        }
        8 => {
            let bytes = rng.pick(ODD_BYTES);
            let to = at(rng);
            input.splice(to..to, bytes.iter().copied());
        }
        9 => {
            // A long string: a long key, a long scalar, a long line.
            let n = *rng.pick(&[1 << 10, 64 << 10, 1 << 20]);
            let byte = *rng.pick(b"xa \"'\\:");
            let to = at(rng);
            input.splice(to..to, std::iter::repeat_n(byte, n));
        }
        10 | 11 => swap_scalar(input, rng),
        12 => {
            let fragment = rng.pick(FRAGMENTS);
            let to = line_start(input, at(rng));
            input.splice(to..to, fragment.bytes());
        }
        13 if len > 0 => input.truncate(rng.below(len)),
        14 => {
            // Re-indent a line: YAML's structure is its indentation.
            let (start, _) = line_around(input, at(rng));
            if rng.chance(2) {
                input.splice(start..start, b"  ".iter().copied());
            } else if input.get(start) == Some(&b' ') {
                input.remove(start);
            } else {
                input.insert(start, b'\t');
            }
        }
        _ => {
            let i = at(rng);
            input.insert(i, rng.next() as u8);
        }
    }
}

/// Nests a line, or the whole input, N levels deep: around the limits (128, 1000) and far past them.
fn deepen(input: &mut Vec<u8>, rng: &mut Rng) {
    let depth = *rng.pick(&[8, 127, 129, 200, 1_001, 5_000, 50_000]);
    let (open, close) = *rng.pick(NESTERS);
    if rng.chance(3) {
        // Block indentation: each level one key deeper.
        let mut text = String::new();
        for level in 0..depth.min(2_000) {
            text.push_str(&" ".repeat(level));
            text.push_str("a:\n");
        }
        let to = line_start(input, rng.below(input.len() + 1));
        input.splice(to..to, text.into_bytes());
        return;
    }
    let to = line_start(input, rng.below(input.len() + 1));
    let mut nested = open.repeat(depth).into_bytes();
    nested.extend_from_slice(b"x");
    nested.extend_from_slice(close.repeat(depth).as_bytes());
    nested.push(b'\n');
    input.splice(to..to, nested);
}

/// Replaces the scalar after a `: ` or `- ` with one of another type.
fn swap_scalar(input: &mut Vec<u8>, rng: &mut Rng) {
    let (start, end) = line_around(input, rng.below(input.len() + 1));
    let line = &input[start..end];
    let value_at = find(line, b": ")
        .map(|i| i + 2)
        .or_else(|| find(line, b"- ").map(|i| i + 2));
    let Some(value_at) = value_at else { return };
    let replacement = rng.pick(SCALARS).as_bytes().to_vec();
    let mut value_end = start + value_at;
    while value_end < end && input[value_end] != b'\n' {
        value_end += 1;
    }
    input.splice(start + value_at..value_end, replacement);
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The start of the line holding byte `at`.
fn line_start(input: &[u8], at: usize) -> usize {
    let at = at.min(input.len());
    input[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

/// The line holding byte `at`, with its newline.
fn line_around(input: &[u8], at: usize) -> (usize, usize) {
    let start = line_start(input, at);
    let end = input[start..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(input.len(), |i| start + i + 1);
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_deterministic_and_differ() {
        let corpus = vec![b"a: 1\nb: [x, y]\n".to_vec(), b"{\"k\": 2}".to_vec()];
        let a = case_input(&corpus, 7, "t", 3);
        assert_eq!(a, case_input(&corpus, 7, "t", 3));
        let distinct: std::collections::BTreeSet<Vec<u8>> =
            (0..50).map(|i| case_input(&corpus, 7, "t", i)).collect();
        assert!(distinct.len() > 40, "{}", distinct.len());
    }
}
