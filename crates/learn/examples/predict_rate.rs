//! Classification rate of a model file on real windows: every row of a `tapir extract` CSV
//! (its feature columns, in the model's order) classified one at a time on one thread, the
//! rows over and over for at least two seconds, as a live classifier does it.
//!
//! ```text
//! tapir extract data/sample/plain --features burst -o /tmp/rows.csv
//! cargo run --release -p tapir-learn --example predict_rate -- crates/tapir/models/default.tapir /tmp/rows.csv
//! ```
//!
//! The rows must have the features the model was trained on (`tapir classify` checks that; this
//! only checks their number).

use std::io::BufRead;
use std::path::Path;
use std::time::Instant;

use tapir_learn::{read_model_file, Classifier, Model, ModelFile};

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, rows] = &args[..] else {
        return Err("usage: predict_rate MODEL.tapir ROWS.csv".into());
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
    let mut p = vec![0.0; mf.model.n_classes()];
    let mut done = 0u64;
    let mut sink = 0.0;
    let t = Instant::now();
    while t.elapsed().as_secs_f64() < 2.0 {
        for row in x.chunks_exact(d) {
            mf.model.predict_proba_into(row, &mut p);
            sink += p[0];
        }
        done += n as u64;
    }
    std::hint::black_box(sink);
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{}: {} model, {d} features, {n} windows: {:.0} windows/s (one thread, one window at a time, {:.2} µs each)",
        model,
        mf.model.kind().name(),
        done as f64 / secs,
        secs * 1e6 / done as f64
    );
    Ok(())
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
