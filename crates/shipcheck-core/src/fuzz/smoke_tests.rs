//! The fuzz targets' smoke run in the normal test suite (and so in CI): every target meets a
//! fixed number of mutants of its seeds, made by a small deterministic mutator in the manner
//! of libFuzzer's (bit flips, random and "interesting" bytes, erased, duplicated and spliced
//! ranges, the whole input repeated, cut ends), stacked one to four deep. It is no substitute for `bench/fuzz.sh`
//! (coverage-guided, minutes per target), which needs the nightly toolchain and a build of its
//! own that takes longer than CI's whole run; it is what CI can afford, and it is seeded, so a
//! failure is the same failure on every machine.
//!
//! `SHIPCHECK_FUZZ_SMOKE=N` multiplies the number of mutants (default 1). A mutant that panics
//! is written to the system's temporary folder and named in the failure, to be kept as a unit
//! test once the bug is fixed.

use super::TARGETS;
use super::seeds_tests::seeds;

/// Mutants per seed-set for each target at the default scale: the slow readers (the config
/// loader with its error renderer, the log scanner that builds a pattern per input) get fewer.
fn budget(target: &str) -> usize {
    match target {
        "config" | "logscan" => 300,
        "journal" => 150,
        "flytoml" | "fly_logs" | "github" => 800,
        _ => 2_000,
    }
}

/// Tokens the readers care about: the syntax of TOML, JSON and durations, numbers at their
/// limits, text that is not what it looks like.
const INTERESTING: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"{",
    b"}",
    b"[",
    b"]",
    b"[[",
    b",",
    b":",
    b"=",
    b"\n",
    b"#",
    b"'''",
    b"\"\"\"",
    b"null",
    b"true",
    b"-1",
    b"0",
    b"1e999",
    b"-0.0",
    b"NaN",
    b"18446744073709551616",
    b"9223372036854775807",
    b"4294967296",
    b"\\u0000",
    b"\\ud800",
    b"\xff\xfe",
    b"\xe2\x80\xae",
    b"\x1b[2J",
    b"\r\n",
    b"1000000000s",
    b"99999h",
    b"  ",
    b"<html><title>",
    b"{\"message\":",
];

/// xorshift64*: small, seeded, the same sequence everywhere.
struct Rng(u64);

impl Rng {
    fn new(seed: &str) -> Rng {
        // FNV-1a of the target's name, never zero.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in seed.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Rng(h | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One mutation of `data`, `other` being another seed of the same target to splice with.
fn mutate(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8]) {
    let len = data.len();
    match rng.below(10) {
        0 if len > 0 => {
            let i = rng.below(len);
            data[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            data[i] = rng.next() as u8;
        }
        2 => {
            let i = rng.below(len + 1);
            let n = 1 + rng.below(8);
            let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            data.splice(i..i, bytes);
        }
        3 if len > 0 => {
            let i = rng.below(len);
            let n = 1 + rng.below((len - i).min(64));
            data.drain(i..i + n);
        }
        4 if len > 0 => {
            // A range copied elsewhere (repeated keys, nested objects).
            let i = rng.below(len);
            let n = 1 + rng.below((len - i).min(256));
            let piece = data[i..i + n].to_vec();
            let at = rng.below(len + 1);
            data.splice(at..at, piece);
        }
        5 => {
            let token = INTERESTING[rng.below(INTERESTING.len())];
            let at = rng.below(len + 1);
            data.splice(at..at, token.iter().copied());
        }
        6 if len > 0 && !other.is_empty() => {
            // This seed's start, the other's end.
            let cut = rng.below(len);
            let from = rng.below(other.len());
            data.truncate(cut);
            data.extend_from_slice(&other[from..]);
        }
        7 if len > 0 => {
            data.truncate(rng.below(len));
        }
        8 if len > 0 => {
            // A digit run made long (counts, ports, timestamps).
            let at = rng.below(len);
            let n = 1 + rng.below(40);
            data.splice(at..at, std::iter::repeat_n(b'9', n));
        }
        9 if len > 0 && len < 2048 => {
            // The whole input again after a separator (a list, a sum, a second document).
            let sep: &[u8] = [b" ".as_slice(), b"\n", b",", b""][rng.below(4)];
            let copy = data.clone();
            data.extend_from_slice(sep);
            data.extend_from_slice(&copy);
        }
        _ => data.push(rng.next() as u8),
    }
}

fn scale() -> usize {
    std::env::var("SHIPCHECK_FUZZ_SMOKE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// Where a panicking mutant is kept.
fn keep(target: &str, n: usize, bytes: &[u8]) -> String {
    let dir = std::env::temp_dir().join("shipcheck-fuzz-smoke");
    let path = dir.join(format!("{target}-{n}"));
    match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, bytes)) {
        Ok(()) => path.display().to_string(),
        Err(e) => format!("(not kept: {e})"),
    }
}

#[test]
fn every_fuzz_target_survives_its_smoke_run_of_mutants() {
    let seeds = seeds();
    let mut failures = Vec::new();
    let mut total = 0;
    for (name, run) in TARGETS {
        let mine: Vec<&[u8]> = seeds
            .iter()
            .filter(|(t, _, _)| t == name)
            .map(|(_, _, b)| b.as_slice())
            .collect();
        assert!(!mine.is_empty(), "fuzz target {name} has no seed");
        let mut rng = Rng::new(name);
        let n = budget(name) * scale();
        for i in 0..n {
            let seed = mine[i % mine.len()];
            let other = mine[rng.below(mine.len())];
            let mut data = seed.to_vec();
            for _ in 0..1 + rng.below(4) {
                mutate(&mut rng, &mut data, other);
            }
            // Inputs stay the size the fuzzer uses (-max_len 4096 by default for new inputs;
            // the seeds themselves may be longer).
            data.truncate(seed.len().max(4096) + 512);
            if std::panic::catch_unwind(|| run(&data)).is_err() {
                failures.push(format!(
                    "{name}: mutant {i} panicked; kept in {}",
                    keep(name, i, &data)
                ));
            }
        }
        total += n;
    }
    assert!(
        failures.is_empty(),
        "{} of {total} mutants panicked:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_mutator_changes_its_input_and_is_the_same_everywhere() {
    let mut a = Rng::new("config");
    let mut b = Rng::new("config");
    let seed = b"[fly]\ncommand = [\"flyctl\"]\n".to_vec();
    let mut changed = 0;
    for _ in 0..100 {
        let (mut x, mut y) = (seed.clone(), seed.clone());
        mutate(&mut a, &mut x, b"{}");
        mutate(&mut b, &mut y, b"{}");
        assert_eq!(x, y, "the same seed gives the same mutants");
        changed += usize::from(x != seed);
    }
    assert!(
        changed > 90,
        "only {changed} of 100 mutants differ from their seed"
    );
}
