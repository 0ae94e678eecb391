//! Classification rate of a model file on real windows: every row of a `tapir extract` CSV
//! (its feature columns, in the model's order) classified one at a time on one thread, the
//! rows over and over for at least two seconds, as a live classifier does it. Besides windows
//! per second of wall time it prints windows per second of the thread's own CPU time (on
//! Linux), which other work on a shared machine disturbs less.
//!
//! ```text
//! tapir extract data/sample/plain --features burst -o /tmp/rows.csv
//! cargo run --release -p tapir-learn --example predict_rate -- crates/tapir/models/default.tapir /tmp/rows.csv
//! ```
//!
//! A third argument runs that many threads, each classifying every row the same way, and
//! prints their windows per second together.
//!
//! The rows must have the features the model was trained on (`tapir classify` checks that; this
//! only checks their number).

use std::io::BufRead;
use std::path::Path;
use std::time::Instant;

use tapir_learn::{read_model_file, Classifier, Model, ModelFile};

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (model, rows, threads) = match &args[..] {
        [model, rows] => (model, rows, 1),
        [model, rows, threads] => match threads.parse::<usize>() {
            Ok(t) if t > 0 => (model, rows, t),
            _ => return Err(format!("{threads:?} is not a thread count")),
        },
        _ => return Err("usage: predict_rate MODEL.tapir ROWS.csv [THREADS]".into()),
    };
    let mf: ModelFile<Model, serde_json::Value> =
        read_model_file(Path::new(model)).map_err(|e| e.to_string())?;
    let d = mf.model.n_features();
    let file = std::fs::File::open(rows).map_err(|e| format!("{rows}: {e}"))?;
    let mut x: Vec<f32> = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate().skip(1) {
        let line = line.map_err(|e| format!("{rows}: {e}"))?;
        // The unit column may be quoted with commas inside; features are the last d fields.
        let fields: Vec<&str> = line.rsplitn(d + 1, ',').collect();
        if fields.len() != d + 1 {
            return Err(format!(
                "{rows}: line {}: fewer than {d} feature columns",
                i + 1
            ));
        }
        for f in fields[..d].iter().rev() {
            x.push(
                f.parse()
                    .map_err(|_| format!("{rows}: line {}: {f:?}", i + 1))?,
            );
        }
    }
    let n = x.len() / d.max(1);
    if n == 0 {
        return Err(format!("{rows}: no rows"));
    }
    // Each thread classifies every row, one at a time, for two seconds.
    let run = || {
        let mut p = vec![0.0; mf.model.n_classes()];
        let mut done = 0u64;
        let mut sink = 0.0;
        let t = Instant::now();
        let cpu = thread_cpu_ns();
        while t.elapsed().as_secs_f64() < 2.0 {
            for row in x.chunks_exact(d) {
                mf.model.predict_proba_into(row, &mut p);
                sink += p[0];
            }
            done += n as u64;
        }
        std::hint::black_box(sink);
        let cpu = match (cpu, thread_cpu_ns()) {
            (Some(a), Some(b)) if b > a => Some((b - a) as f64 * 1e-9),
            _ => None,
        };
        (done, t.elapsed().as_secs_f64(), cpu)
    };
    let runs: Vec<(u64, f64, Option<f64>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads).map(|_| s.spawn(run)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let done: u64 = runs.iter().map(|r| r.0).sum();
    let secs = runs.iter().map(|r| r.1).fold(0.0, f64::max);
    // On a shared machine the wall-clock rate counts time the threads waited for a core; the
    // rate per second of their own CPU time does not.
    let cpu: Option<f64> = runs.iter().map(|r| r.2).sum();
    let on_cpu = match cpu {
        Some(c) => format!(", {:.0} windows per CPU-second", done as f64 / c),
        None => String::new(),
    };
    let how = if threads == 1 {
        "one thread".to_string()
    } else {
        format!("{threads} threads")
    };
    println!(
        "{}: {} model, {d} features, {n} windows: {:.0} windows/s ({how}, one window at a time, {:.2} µs each){on_cpu}",
        model,
        mf.model.kind().name(),
        done as f64 / secs,
        secs * 1e6 * threads as f64 / done as f64
    );
    Ok(())
}

/// Nanoseconds this thread has run, from Linux's `/proc/thread-self/schedstat` (`None`
/// elsewhere).
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("predict_rate: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
