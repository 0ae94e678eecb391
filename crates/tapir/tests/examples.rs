//! Every `tapir …` example a user is shown runs as written: the lines of the code blocks in
//! README.md and docs/*.md, and the examples of every `--help`. They are read from those files
//! and from the built binary's help, so a new example is tested without touching this file.
//!
//! The examples of each document (and of each command's help) run in order in a folder of their
//! own that mirrors the repository root (one symbolic link per top-level entry), so paths such as
//! `data/sample/...` resolve as they do for a user at the root, while what an example writes
//! (`-o ipsec.tapir`, `--plots plots/`, `> meta.jsonl`) lands in that folder, never in the
//! repository. A later example of a document may read what an earlier one wrote, as a reader
//! going down the page would. Help examples too long for one line continue with `\`. The shell
//! is bash (`set -e -o pipefail`) with the built `tapir` first on the PATH.

#![cfg(unix)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

/// Examples that need what a test cannot have. A command containing the pattern is not run;
/// each pattern must match at least one example, so that a stale entry is noticed.
const EXCEPTIONS: &[(&str, &str)] = &[
    (
        "tcpdump -i eth0",
        "a live interface (and root); reading standard input is tested by tests/input.rs",
    ),
    (
        "<(ssh router",
        "a remote router over ssh; reading a pipe is tested by tests/input.rs",
    ),
    (
        "flows --listen",
        "a collector that runs until Ctrl-C, waiting for an exporter; tests/flows.rs feeds one",
    ),
    (
        "--live ",
        "a live interface, root and the binary built with --features live; tests/live.rs runs \
         it in a network namespace",
    ),
    (
        "--format parquet",
        "needs the binary built with --features parquet, which the default test build is not",
    ),
    (
        "tapir experiment",
        "the full experiment takes minutes even in a release build; tests/experiment.rs runs it \
         on a small dataset",
    ),
];

/// The repository root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// One example and where a user reads it.
#[derive(Debug, Clone)]
struct Example {
    /// `README.md:54` or `tapir defend --help`.
    place: String,
    /// Examples of one document (or one `--help`) run in one folder, in order.
    block: String,
    command: String,
}

/// Is this shell line a `tapir` command (alone, after a pipe, or after `&&`)?
fn runs_tapir(line: &str) -> bool {
    line.starts_with("tapir ")
        || line.contains("| tapir ")
        || line.contains("&& tapir ")
        || line.contains("; tapir ")
}

/// The `tapir` lines of the fenced code blocks of a Markdown file; `\` continuations joined,
/// a leading `$ ` prompt dropped.
fn markdown_examples(path: &Path) -> Vec<Example> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path
        .strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string();
    let mut out = Vec::new();
    let mut in_block = false;
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with("```") {
            in_block = !in_block;
            pending = None;
            continue;
        }
        if !in_block {
            continue;
        }
        let (start, mut joined) = match pending.take() {
            Some((start, head)) => (start, format!("{head} {line}")),
            None => (i + 1, line.strip_prefix("$ ").unwrap_or(line).to_string()),
        };
        if let Some(head) = joined.strip_suffix('\\') {
            joined = head.trim_end().to_string();
            pending = Some((start, joined));
            continue;
        }
        if runs_tapir(&joined) {
            out.push(Example {
                place: format!("{name}:{start}"),
                block: name.clone(),
                command: joined,
            });
        }
    }
    out
}

fn help(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args(args)
        .arg("--help")
        .output()
        .expect("run tapir --help");
    assert!(o.status.success(), "tapir {args:?} --help failed");
    String::from_utf8(o.stdout).expect("help is UTF-8")
}

/// The subcommands `tapir --help` lists.
fn subcommands() -> Vec<String> {
    let top = help(&[]);
    let mut names = Vec::new();
    let mut in_list = false;
    for line in top.lines() {
        if line.starts_with("Commands:") {
            in_list = true;
            continue;
        }
        if in_list {
            if !line.starts_with("  ") {
                break;
            }
            // Wrapped description lines are indented further than the names.
            if line.starts_with("   ") {
                continue;
            }
            let name = line.split_whitespace().next().unwrap_or("");
            if !name.is_empty() && name != "help" {
                names.push(name.to_string());
            }
        }
    }
    assert!(
        names.len() >= 10,
        "too few subcommands in tapir --help: {names:?}"
    );
    names
}

/// The examples of one `--help` text: the indented lines after `Example:` or `Examples:`.
/// Returns the examples and the lines that continue one (an example wrapped by the help's line
/// width, which a user cannot paste).
fn help_examples(args: &[&str]) -> (Vec<Example>, Vec<String>) {
    let text = help(args);
    let what = if args.is_empty() {
        "tapir --help".to_string()
    } else {
        format!("tapir {} --help", args.join(" "))
    };
    let mut out = Vec::new();
    let mut wrapped = Vec::new();
    let mut in_examples = false;
    let mut pending: Option<String> = None;
    for line in text.lines() {
        if line == "Example:" || line == "Examples:" {
            in_examples = true;
            continue;
        }
        if !in_examples {
            continue;
        }
        if line.trim().is_empty() {
            in_examples = false;
            continue;
        }
        let cmd = match pending.take() {
            Some(head) => format!("{head} {}", line.trim()),
            None if runs_tapir(line.trim()) => line.trim().to_string(),
            None => {
                wrapped.push(format!("{what}: {line:?}"));
                continue;
            }
        };
        match cmd.strip_suffix('\\') {
            Some(head) => pending = Some(head.trim_end().to_string()),
            None => out.push(Example {
                place: what.clone(),
                block: what.clone(),
                command: cmd,
            }),
        }
    }
    (out, wrapped)
}

fn all_examples() -> (Vec<Example>, Vec<String>) {
    let root = root();
    let mut docs: Vec<PathBuf> = fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    let mut examples = markdown_examples(&root.join("README.md"));
    for d in &docs {
        examples.extend(markdown_examples(d));
    }
    let (top, mut wrapped) = help_examples(&[]);
    examples.extend(top);
    for sub in subcommands() {
        let (ex, w) = help_examples(&[&sub]);
        assert!(!ex.is_empty(), "tapir {sub} --help shows no example");
        examples.extend(ex);
        wrapped.extend(w);
    }
    (examples, wrapped)
}

fn exception(command: &str) -> Option<&'static str> {
    EXCEPTIONS
        .iter()
        .find(|(pattern, _)| command.contains(pattern))
        .map(|(_, why)| *why)
}

#[test]
fn examples_are_found_and_every_exception_is_used() {
    let (examples, wrapped) = all_examples();
    for e in &examples {
        eprintln!("{}: {}", e.place, e.command);
    }
    assert!(
        wrapped.is_empty(),
        "examples wrapped by --help's line width (a user cannot paste them; keep each under 98 \
         columns, or continue with `\\`):\n{}",
        wrapped.join("\n")
    );
    // README, docs and help all have examples; a parser that found none would pass vacuously.
    for place in ["README.md", "docs/", "tapir --help", "tapir defend --help"] {
        assert!(
            examples.iter().any(|e| e.place.starts_with(place)),
            "no example found in {place}"
        );
    }
    assert!(
        examples.len() >= 40,
        "only {} examples found",
        examples.len()
    );
    for (pattern, _) in EXCEPTIONS {
        assert!(
            examples.iter().any(|e| e.command.contains(pattern)),
            "the exception {pattern:?} matches no example any more: remove it"
        );
    }
    let skipped = examples
        .iter()
        .filter(|e| exception(&e.command).is_some())
        .count();
    assert!(
        skipped * 4 < examples.len(),
        "{skipped} of {} examples are exceptions",
        examples.len()
    );
}

/// A folder that looks like the repository root to the examples: a symbolic link per entry.
fn mirror(dir: &Path) {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).unwrap();
    for entry in fs::read_dir(root()).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        std::os::unix::fs::symlink(entry.path(), dir.join(&name)).unwrap();
    }
}

/// Size and modification time of every file of the repository (build output and `.git` left
/// out), to prove that the examples created nothing in it.
fn snapshot(dir: &Path, out: &mut BTreeMap<PathBuf, (u64, Option<SystemTime>)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let path = entry.path();
        let meta = fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            snapshot(&path, out);
        } else {
            out.insert(path, (meta.len(), meta.modified().ok()));
        }
    }
}

#[test]
fn every_example_runs_as_written() {
    let (examples, _) = all_examples();
    let mut before = BTreeMap::new();
    snapshot(&root(), &mut before);
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_tapir")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let base = std::env::temp_dir().join(format!("tapir-examples-{}", std::process::id()));
    let mut blocks: Vec<(String, Vec<Example>)> = Vec::new();
    for e in examples {
        match blocks.iter_mut().find(|(b, _)| *b == e.block) {
            Some((_, v)) => v.push(e),
            None => blocks.push((e.block.clone(), vec![e])),
        }
    }
    let mut failures = Vec::new();
    let mut ran = 0;
    for (i, (_, block)) in blocks.iter().enumerate() {
        let dir = base.join(i.to_string());
        mirror(&dir);
        for e in block {
            if let Some(why) = exception(&e.command) {
                eprintln!("skipped {}: {} ({why})", e.place, e.command);
                continue;
            }
            let start = Instant::now();
            let o = Command::new("bash")
                .arg("-c")
                .arg(format!("set -e -o pipefail\n{}", e.command))
                .current_dir(&dir)
                .env("PATH", &path)
                .output()
                .expect("run bash");
            ran += 1;
            eprintln!(
                "{:>6.1} s  {}: {}",
                start.elapsed().as_secs_f64(),
                e.place,
                e.command
            );
            if !o.status.success() {
                let err = String::from_utf8_lossy(&o.stderr);
                let tail: Vec<&str> = err.lines().rev().take(6).collect();
                failures.push(format!(
                    "{}: {}\n  exit {:?}; stderr ends:\n    {}",
                    e.place,
                    e.command,
                    o.status.code(),
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n    ")
                ));
            }
        }
    }
    let _ = fs::remove_dir_all(&base);
    let mut after = BTreeMap::new();
    snapshot(&root(), &mut after);
    // New files only: a file edited while the test runs is not the examples' doing.
    let created: Vec<_> = after
        .keys()
        .filter(|p| !before.contains_key(*p))
        .map(|p| p.display().to_string())
        .collect();
    if !created.is_empty() {
        failures.push(format!("examples wrote into the repository: {created:?}"));
    }
    assert!(ran >= 30, "only {ran} examples ran");
    assert!(
        failures.is_empty(),
        "{} of {ran} examples failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
