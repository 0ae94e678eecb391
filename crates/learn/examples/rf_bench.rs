//! tapir side of the benchmark: fit time, test accuracy and prediction rate of the random forest
//! (100 trees), naive Bayes and logistic regression on the data of
//! `scripts/sklearn/make_bench_data.py`.
//!
//! ```text
//! cargo run --release -p tapir-learn --example rf_bench -- [DIR] [--threads N]
//! ```
//!
//! The prediction rate is one thread's, one window at a time; with more than one thread (N, or
//! every core without `--threads`), that many threads also classify side by side and the sum of
//! their rates is printed beside it.
//!
//! `scripts/sklearn/rf_bench.sh` generates the data and runs this and scikit-learn side by side.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use tapir_learn::{metrics, Classifier, Dataset, LrParams, NbParams, RfParams};

fn read_le<const N: usize>(path: &PathBuf) -> Result<Vec<[u8; N]>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() % N != 0 {
        return Err(format!("{}: size is not a multiple of {N}", path.display()));
    }
    Ok(bytes
        .chunks_exact(N)
        .map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            a
        })
        .collect())
}

fn run() -> Result<(), String> {
    let mut dir = PathBuf::from("/tmp/tapir-rf-bench");
    let mut threads = 0usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--threads" {
            threads = args
                .next()
                .and_then(|v| v.parse().ok())
                .ok_or("--threads needs a number")?;
        } else {
            dir = PathBuf::from(a);
        }
    }
    let meta: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("meta.json"))
            .map_err(|e| format!("{}: {e}; run make_bench_data.py first", dir.display()))?,
    )
    .map_err(|e| e.to_string())?;
    let get = |k: &str| {
        meta[k]
            .as_u64()
            .map(|v| v as usize)
            .ok_or(format!("meta.json lacks {k}"))
    };
    let (n_rows, d, n_train) = (get("n_rows")?, get("n_features")?, get("n_train")?);
    let classes: Vec<String> = meta["classes"]
        .as_array()
        .ok_or("meta.json lacks classes")?
        .iter()
        .map(|c| c.as_str().unwrap_or("?").to_string())
        .collect();
    let x: Vec<f32> = read_le::<4>(&dir.join("x.f32"))?
        .into_iter()
        .map(f32::from_le_bytes)
        .collect();
    let y: Vec<usize> = read_le::<4>(&dir.join("y.u32"))?
        .into_iter()
        .map(|b| u32::from_le_bytes(b) as usize)
        .collect();
    if x.len() != n_rows * d || y.len() != n_rows || n_train >= n_rows {
        return Err("data files do not match meta.json".into());
    }
    let ds =
        Dataset::new(x, d, y, classes, (0..n_rows as u32).collect()).map_err(|e| e.to_string())?;
    let train = ds
        .subset(&(0..n_train).collect::<Vec<_>>())
        .map_err(|e| e.to_string())?;
    let test = ds
        .subset(&(n_train..n_rows).collect::<Vec<_>>())
        .map_err(|e| e.to_string())?;

    // Prediction on every core as well: as many threads as fitting used (all cores for 0).
    let cores = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let report = |name: &str, secs: f64, model: &dyn Classifier| {
        let pred: Vec<usize> = (0..test.n_rows())
            .map(|i| model.predict(test.row(i)))
            .collect();
        let together = if cores > 1 {
            let rates: Vec<f64> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..cores)
                    .map(|_| s.spawn(|| predict_rate(model, &test)))
                    .collect();
                handles.into_iter().filter_map(|h| h.join().ok()).collect()
            });
            format!(
                "; {:.0} on {cores} threads together",
                rates.iter().sum::<f64>()
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            std::io::stdout(),
            "tapir   {name}: fit {secs:7.3} s  test accuracy {:.4}  ({} x {d})  \
             predict {:.0} windows/s (one thread, one window at a time{together})",
            metrics::accuracy(&test.y, &pred),
            train.n_rows(),
            predict_rate(model, &test)
        );
    };

    let t = Instant::now();
    let rf = RfParams {
        n_threads: threads,
        ..Default::default()
    }
    .fit(&train)
    .map_err(|e| e.to_string())?;
    report("rf", t.elapsed().as_secs_f64(), &rf);
    let file = tapir_learn::ModelFile {
        format_version: tapir_learn::FORMAT_VERSION,
        tapir_version: env!("CARGO_PKG_VERSION").into(),
        feature_config: serde_json::Value::Null,
        classes: train.classes.clone(),
        model: tapir_learn::Model::Rf(rf),
        unknown_threshold: None,
        training: serde_json::Value::Null,
    };
    let postcard_len = tapir_learn::to_bytes(&file)
        .map_err(|e| e.to_string())?
        .len();
    let json_len = serde_json::to_vec(&file).map_err(|e| e.to_string())?.len();
    let _ = writeln!(
        std::io::stdout(),
        "tapir   rf model: {} nodes, model file {:.1} MB (as JSON it would be {:.1} MB)",
        match &file.model {
            tapir_learn::Model::Rf(rf) => rf.n_nodes(),
            _ => 0,
        },
        postcard_len as f64 / 1e6,
        json_len as f64 / 1e6
    );

    let t = Instant::now();
    let nb = NbParams::default().fit(&train).map_err(|e| e.to_string())?;
    report("nb", t.elapsed().as_secs_f64(), &nb);

    let t = Instant::now();
    let lr = LrParams {
        tol: 1e-4,
        ..Default::default()
    }
    .fit(&train)
    .map_err(|e| e.to_string())?;
    report("lr", t.elapsed().as_secs_f64(), &lr);
    Ok(())
}

/// Windows classified per second on one thread, one at a time into one reused buffer, as a
/// live classifier does: the test rows over and over for at least half a second. Threads that
/// run it side by side each give their own rate; their sum is what the cores classify together.
fn predict_rate(model: &dyn Classifier, test: &Dataset) -> f64 {
    let mut p = vec![0.0; model.n_classes()];
    let mut n = 0u64;
    let mut sink = 0.0;
    let t = Instant::now();
    while t.elapsed().as_secs_f64() < 0.5 {
        for i in 0..test.n_rows() {
            model.predict_proba_into(test.row(i), &mut p);
            sink += p[0];
        }
        n += test.n_rows() as u64;
    }
    std::hint::black_box(sink);
    n as f64 / t.elapsed().as_secs_f64()
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rf_bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
