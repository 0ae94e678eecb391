//! End-to-end tests of every `tapir` command on small datasets built here and on the capture
//! crate's recorded and malformed files.

mod common;

use common::{capture_data, stderr, stdout, tapir, temp_dir};
use std::fs;
use std::path::Path;

/// A small deterministic generator (xorshift) so traces differ from file to file.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Two kinds of traffic with different size and timing signatures: "voip" (small packets every
/// 20 ms both ways) and "bulk" (runs of full-size packets down, ACK-sized packets up).
fn write_dataset(dir: &Path, traces_per_class: usize, packets: usize) {
    for class in ["voip", "bulk"] {
        fs::create_dir_all(dir.join(class)).unwrap();
        for t in 0..traces_per_class {
            let mut rng = Rng(0x9e37_79b9 + t as u64 * 7919 + class.len() as u64);
            let mut s = String::from("# generated for tests\n");
            let mut time = 0.0f64;
            for i in 0..packets {
                let (dt, size): (f64, i64) = if class == "voip" {
                    let up = i % 2 == 0;
                    let dt = if up {
                        0.020 + rng.below(3000) as f64 * 1e-6
                    } else {
                        rng.below(2000) as f64 * 1e-6
                    };
                    let size = 120 + rng.below(80) as i64;
                    (dt, if up { size } else { -size })
                } else if i % 8 == 7 {
                    (rng.below(400) as f64 * 1e-6, 52)
                } else {
                    (
                        rng.below(200) as f64 * 1e-6 + if i % 64 == 0 { 0.2 } else { 0.0 },
                        -1500,
                    )
                };
                time += dt;
                s.push_str(&format!("{time:.6} {size}\n"));
            }
            fs::write(dir.join(class).join(format!("{class}-{t}.trace")), s).unwrap();
        }
    }
}

#[test]
fn help_has_examples_and_usage_errors_exit_2() {
    for cmd in ["inspect", "extract", "train", "eval", "classify"] {
        let o = tapir(&[cmd, "--help"]);
        assert!(o.status.success(), "{cmd} --help");
        assert!(
            stdout(&o).contains("Example"),
            "{cmd} --help has no example"
        );
    }
    let o = tapir(&["eval"]);
    assert_eq!(o.status.code(), Some(2));
    let o = tapir(&["eval", "x", "--split", "sideways"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--split"), "{}", stderr(&o));
    let o = tapir(&["eval", "x", "--window", "1"]);
    assert_eq!(o.status.code(), Some(2));
    let o = tapir(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
}

/// A closed-set flag takes only its listed values: a wrong one is a usage error (exit 2) that
/// names the flag and lists every possible value, before any input is read (the inputs here do
/// not exist).
#[test]
fn wrong_choice_is_a_usage_error_listing_the_values() {
    let cases: &[(&[&str], &str, &[&str])] = &[
        (
            &["extract", "x", "--by", "host"],
            "--by",
            &["capture", "flow", "pair"],
        ),
        (
            &["extract", "x", "--format", "xml"],
            "--format",
            &["csv", "jsonl"],
        ),
        (
            &["extract", "x", "--features", "sizes"],
            "--features",
            &["size-iat", "burst", "combined"],
        ),
        (
            &["train", "x", "-o", "m", "--model", "svm"],
            "--model",
            &["nb", "lr", "rf"],
        ),
        (
            &["eval", "x", "--models", "nb,svm"],
            "--models",
            &["nb", "lr", "rf"],
        ),
        (
            &["eval", "x", "--features", "burst,bursts"],
            "--features",
            &["size-iat", "burst", "combined"],
        ),
        (
            &["eval", "x", "--split", "sideways"],
            "--split",
            &["trace", "window"],
        ),
        (
            &["flows", "x.pcap", "--format", "xml"],
            "--format",
            &["table", "csv", "jsonl", "parquet"],
        ),
        (
            &["mail", "x.mbox", "--format", "csv"],
            "--format",
            &["table", "jsonl"],
        ),
        (
            &["watch", "x.jsonl", "--rank", "peers"],
            "--rank",
            &["bytes", "events"],
        ),
        (
            &["volume", "x.jsonl", "--metric", "bits"],
            "--metric",
            &["packets", "bytes", "flows", "messages"],
        ),
        (
            &["sequence", "x.jsonl", "--format", "xml"],
            "--format",
            &["table", "csv", "jsonl"],
        ),
    ];
    for (args, flag, values) in cases {
        let o = tapir(args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(flag), "{args:?} does not name {flag}: {err}");
        let listed = format!("[possible values: {}]", values.join(", "));
        assert!(
            err.contains(&listed),
            "{args:?} does not list {listed}: {err}"
        );
    }
}

/// `--graph FORMAT FILE` takes two values, so its FORMAT is checked after clap: still a usage
/// error (exit 2) listing the formats.
#[test]
fn wrong_graph_format_lists_the_formats() {
    for (args, listed) in [
        (
            ["watch", "x.jsonl", "--graph", "png", "g.png"],
            "[possible values: dot, graphml, json]",
        ),
        (
            ["mail", "x.mbox", "--graph", "svg", "g.svg"],
            "[possible values: dot, graphml, json]",
        ),
    ] {
        let o = tapir(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("--graph"), "{args:?}: {err}");
        assert!(
            err.contains(listed),
            "{args:?} does not list {listed}: {err}"
        );
    }
}

/// `--help` lists the possible values of closed-set flags.
#[test]
fn help_lists_the_possible_values() {
    for (cmd, listed) in [
        ("extract", "[possible values: capture, flow, pair]"),
        ("extract", "[possible values: csv, jsonl]"),
        ("train", "[possible values: nb, lr, rf]"),
        ("eval", "[possible values: size-iat, burst, combined]"),
        ("eval", "[possible values: trace, window]"),
        ("flows", "[possible values: table, csv, jsonl, parquet]"),
        (
            "volume",
            "[possible values: packets, bytes, flows, messages]",
        ),
        ("watch", "[possible values: bytes, events]"),
    ] {
        let o = tapir(&[cmd, "--help"]);
        assert!(o.status.success(), "{cmd} --help");
        // Help text is wrapped to the terminal; join the lines before looking.
        let help = stdout(&o).split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            help.contains(listed),
            "{cmd} --help lacks {listed}:\n{}",
            stdout(&o)
        );
    }
}

/// The flags of a live capture are under their own heading, and only they: the heading of a
/// flattened group holds for the flags after it.
#[test]
fn only_live_flags_are_under_the_live_heading() {
    for cmd in ["extract", "classify", "flows"] {
        let o = tapir(&[cmd, "--help"]);
        let help = stdout(&o);
        let live = help
            .split("Live capture (--live):")
            .nth(1)
            .unwrap_or_else(|| panic!("{cmd} --help has no live heading:\n{help}"));
        // Up to the examples, which may use any flag.
        let live = live.split("Example").next().unwrap_or(live);
        for flag in ["--by ", "--client ", "--window ", "--strict", "--format "] {
            assert!(
                !live.contains(flag),
                "{cmd}: {flag} under the live heading:\n{help}"
            );
        }
        assert!(live.contains("--filter"), "{help}");
    }
}

/// The spellings accepted before the flags had a fixed list still work: `json` for `jsonl`,
/// `size_iat` and any case for feature spaces and models, `flows` for `--rank events`.
#[test]
fn earlier_spellings_are_still_accepted() {
    let cap = capture_data("lo-http.pcap");
    for args in [
        vec!["flows", cap.as_str(), "--format", "json"],
        vec!["extract", cap.as_str(), "--format", "json", "--window", "8"],
        vec![
            "extract",
            cap.as_str(),
            "--features",
            "Size_IAT",
            "--window",
            "8",
        ],
    ] {
        let o = tapir(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        let first = stdout(&o).lines().next().unwrap_or_default().to_string();
        if args.contains(&"json") {
            assert!(
                first.starts_with('{'),
                "{args:?}: JSON lines, got {first:?}"
            );
        } else {
            assert!(
                first.contains("size-iat") && !first.contains("burst"),
                "{args:?}: size-iat columns only, got {first:?}"
            );
        }
    }
    let o = tapir(&["flows", cap.as_str(), "--json", "-o", "/dev/null"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = tapir(&["watch", cap.as_str(), "--rank", "flows", "--format", "csv"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = tapir(&["eval", "x", "--models", "NB,Rf", "--window", "1"]);
    // Past the model names: the window size is what is refused.
    assert!(stderr(&o).contains("--window"), "{}", stderr(&o));
}

/// The single-label traces of one condition in the bundled sample's manifest: their count and
/// their sorted, distinct `wan_profile` values.
fn sample_profiles(cond: &str) -> (u64, Vec<String>) {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample/manifest.csv");
    let text = fs::read_to_string(manifest).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
    let (c, l, w) = (col("condition"), col("label"), col("wan_profile"));
    let mut n = 0;
    let mut values = std::collections::BTreeSet::new();
    for line in lines {
        // app_details holds commas inside quotes.
        let f = split_csv(line);
        if f[c] == cond && ["web", "voip", "video", "p2p"].contains(&f[l].as_str()) {
            n += 1;
            values.insert(f[w].clone());
        }
    }
    (n, values.into_iter().collect())
}

/// One CSV line's fields, quotes honoured.
fn split_csv(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(ch),
        }
    }
    out.push(cur);
    out
}

/// The bundled sample's folder for one condition.
fn sample(cond: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/sample")
        .join(cond)
        .display()
        .to_string()
}

#[test]
fn eval_hold_out_profile_on_the_sample_gives_one_fold_per_profile() {
    let dir = temp_dir("holdout");
    let json = dir.join("h.json");
    let o = tapir(&[
        "eval",
        &sample("ipsec"),
        "--hold-out",
        "profile",
        "--models",
        "nb,lr",
        "--features",
        "size-iat,combined",
        "--compare",
        "size-iat:nb",
        "combined:lr",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let (n_traces, profiles) = sample_profiles("ipsec");
    assert!(
        out.contains(&format!("hold out wan_profile: {} folds", profiles.len())),
        "{out}"
    );
    assert!(out.contains("paired comparison") && out.contains("95% interval"));
    // The hold-out table comes before the within-lab one.
    assert!(out.find("held-out mean").unwrap() < out.find("within-lab trace split").unwrap());
    let v: serde_json::Value = serde_json::from_slice(&fs::read(&json).unwrap()).unwrap();
    let h = &v["hold_out"];
    assert_eq!(h["column"], "wan_profile");
    let values: Vec<&str> = h["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, profiles);
    // Every single-label trace of the sample's ipsec condition, each tested in exactly one fold.
    let traces: u64 = h["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["traces"].as_u64().unwrap())
        .sum();
    assert_eq!(traces, n_traces);
    let cells = h["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 4);
    for c in cells {
        assert_eq!(c["per_value"].as_array().unwrap().len(), profiles.len());
        let (lo, hi) = (
            c["pooled_ci95"][0].as_f64().unwrap(),
            c["pooled_ci95"][1].as_f64().unwrap(),
        );
        let pooled = c["pooled"].as_f64().unwrap();
        assert!(lo <= pooled && pooled <= hi, "{c}");
    }
    assert_eq!(v["compare"]["traces"], n_traces);
    assert_eq!(v["compare"]["resamples"], 2000);

    // Weighting programs equally inside each class changes the training side only: the same
    // folds test the same windows.
    let balanced = dir.join("b.json");
    let o = tapir(&[
        "eval",
        &sample("ipsec"),
        "--hold-out",
        "profile",
        "--balance",
        "program",
        "--models",
        "nb",
        "--features",
        "size-iat",
        "--json",
        balanced.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let b: serde_json::Value = serde_json::from_slice(&fs::read(&balanced).unwrap()).unwrap();
    for (x, y) in b["hold_out"]["values"]
        .as_array()
        .unwrap()
        .iter()
        .zip(h["values"].as_array().unwrap())
    {
        assert_eq!(x["windows"], y["windows"]);
    }

    // No manifest, no column: a usage error naming it.
    let data = dir.join("data");
    write_dataset(&data, 3, 600);
    let o = tapir(&["eval", data.to_str().unwrap(), "--hold-out", "program"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no program column") && stderr(&o).contains("manifest"),
        "{}",
        stderr(&o)
    );
    let o = tapir(&["eval", data.to_str().unwrap(), "--balance", "program"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--balance") && stderr(&o).contains("no program column"),
        "{}",
        stderr(&o)
    );
    let o = tapir(&[
        "eval",
        data.to_str().unwrap(),
        "--compare",
        "combined:rf",
        "x",
    ]);
    assert_eq!(o.status.code(), Some(2));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn eval_train_classify_extract_round_trip() {
    let dir = temp_dir("roundtrip");
    let data = dir.join("data");
    write_dataset(&data, 5, 1200);
    let d = data.to_str().unwrap();

    // eval: the paper's table, with JSON
    let json = dir.join("results.json");
    let o = tapir(&[
        "eval",
        d,
        "--window",
        "256",
        "--trees",
        "20",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for needle in [
        "size-iat",
        "burst",
        "combined",
        "naive Bayes",
        "random forest",
        "precision",
    ] {
        assert!(out.contains(needle), "missing {needle} in\n{out}");
    }
    let v: serde_json::Value = serde_json::from_slice(&fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["results"].as_array().unwrap().len(), 9);
    assert_eq!(v["classes"], serde_json::json!(["bulk", "voip"]));
    assert_eq!(v["traces"], 10);
    assert_eq!(v["windows"], 40);
    // The two kinds are far apart: every model separates them on held-out traces.
    for r in v["results"].as_array().unwrap() {
        assert!(r["accuracy"].as_f64().unwrap() >= 0.99, "{r}");
    }

    // folds and the window split
    let o = tapir(&[
        "eval",
        d,
        "--window",
        "256",
        "--folds",
        "3",
        "--models",
        "nb",
        "--features",
        "size-iat",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains('±'));
    let o = tapir(&[
        "eval", d, "--window", "256", "--split", "window", "--models", "lr",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("optimistic"));

    // train, then classify an unlabelled file
    let model = dir.join("m.tapir");
    let o = tapir(&[
        "train",
        d,
        "--window",
        "256",
        "--model",
        "rf",
        "--trees",
        "10",
        "-o",
        model.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(model.exists());
    let one = data.join("voip/voip-3.trace");
    let o = tapir(&[
        "classify",
        "-m",
        model.to_str().unwrap(),
        one.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    for l in &lines {
        assert_eq!(l["label"], "voip");
        assert!(l["p_voip"].as_f64().unwrap() > 0.5);
        // Integer nanoseconds.
        assert!(l["end"].as_i64().unwrap() >= l["start"].as_i64().unwrap());
    }
    assert_eq!(lines[1]["window"], 1);

    // extract: CSV with header and one row per window
    let csv = dir.join("f.csv");
    let o = tapir(&[
        "extract",
        d,
        "--window",
        "256",
        "--features",
        "burst",
        "-o",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = fs::read_to_string(&csv).unwrap();
    let mut rows = text.lines();
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    assert_eq!(
        &header[..7],
        &["file", "label", "group", "unit", "window", "start", "end"]
    );
    assert_eq!(header.len(), 7 + 1024);
    assert_eq!(rows.clone().count(), 40);
    assert!(rows.all(|r| r.split(',').count() == header.len()));
    let o = tapir(&["extract", d, "--window", "256", "--format", "jsonl"]);
    assert!(o.status.success());
    let first: serde_json::Value =
        serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    // One flat object: the CSV's seven leading columns, then a key per feature.
    assert_eq!(first.as_object().unwrap().len(), 7 + 2048);
    assert!(first["size-iat:size=-1536..-1440:iat_s=1.000e-6..1.778e-6"].is_number());

    // a model file cut in half is a clear error, exit 1
    let bytes = fs::read(&model).unwrap();
    let cut = dir.join("cut.tapir");
    fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let o = tapir(&[
        "classify",
        "-m",
        cut.to_str().unwrap(),
        one.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cut.tapir"), "{}", stderr(&o));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn extract_plots_png_and_svg() {
    let dir = temp_dir("plots");
    write_dataset(&dir.join("data"), 1, 300);
    let plots = dir.join("plots");
    let o = tapir(&[
        "extract",
        dir.join("data/voip/voip-0.trace").to_str().unwrap(),
        "--window",
        "256",
        "--plots",
        plots.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut names: Vec<String> = fs::read_dir(&plots)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "voip-0-u0-w0-burst.png",
            "voip-0-u0-w0-burst.svg",
            "voip-0-u0-w0-size-iat.png",
            "voip-0-u0-w0-size-iat.svg"
        ]
    );
    let png = fs::read(plots.join("voip-0-u0-w0-size-iat.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let svg = fs::read_to_string(plots.join("voip-0-u0-w0-size-iat.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("inter-arrival"));
    // Into the existing folder: the other plots stay, those of the same name are replaced,
    // and nothing is left beside it.
    fs::write(plots.join("mine.txt"), "keep").unwrap();
    fs::write(plots.join("voip-0-u0-w0-burst.svg"), "old").unwrap();
    let o = tapir(&[
        "extract",
        dir.join("data/voip/voip-0.trace").to_str().unwrap(),
        "--window",
        "256",
        "--plots",
        plots.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(fs::read_to_string(plots.join("mine.txt")).unwrap(), "keep");
    let svg = fs::read_to_string(plots.join("voip-0-u0-w0-burst.svg")).unwrap();
    assert!(svg.contains("<svg"), "{svg}");
    assert_eq!(fs::read_dir(&plots).unwrap().count(), 5);
    let beside: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn inspect_real_capture_and_bad_files() {
    let o = tapir(&["inspect", &capture_data("lo-http.pcap"), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert!(v["ip_packets"].as_u64().unwrap() > 0);
    assert!(v["flows"].as_u64().unwrap() >= 1);
    assert_eq!(v["error"], serde_json::Value::Null);
    let o = tapir(&["inspect", &capture_data("lo-http.pcapng")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("flows"));

    // one good and one bad file: the bad one is reported with its name, the good one still read
    let o = tapir(&[
        "inspect",
        &capture_data("cut-record.pcap"),
        &capture_data("lo-http.pcap"),
    ]);
    assert!(o.status.success());
    assert!(
        stderr(&o).contains("cut-record.pcap") && stderr(&o).contains("byte"),
        "{}",
        stderr(&o)
    );
    // only bad files: exit 1, one line each, no panic
    for bad in [
        "empty.pcap",
        "bad-magic.pcap",
        "caplen-2g.pcap",
        "cut-global-header.pcap",
    ] {
        let o = tapir(&["inspect", &capture_data(bad)]);
        assert_eq!(o.status.code(), Some(1), "{bad}: {}", stderr(&o));
        assert!(stderr(&o).contains(bad), "{}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"));
    }
}

#[test]
fn dataset_with_a_bad_file_goes_on_unless_strict() {
    let dir = temp_dir("strict");
    let data = dir.join("data");
    write_dataset(&data, 3, 600);
    fs::copy(
        capture_data("caplen-2g.pcap"),
        data.join("voip/broken.pcap"),
    )
    .unwrap();
    fs::write(
        data.join("bulk/bad-lines.trace"),
        "0.0 100\nnot a line\n0.1 -200\n",
    )
    .unwrap();
    let d = data.to_str().unwrap();
    let o = tapir(&[
        "eval",
        d,
        "--window",
        "128",
        "--models",
        "nb",
        "--features",
        "size-iat",
    ]);
    // The evaluation runs on the other files; the skipped one makes the exit code 1.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!o.stdout.is_empty(), "the evaluation of the other files");
    let err = stderr(&o);
    assert!(err.contains("1 input could not be read"), "{err}");
    assert!(
        err.contains("broken.pcap") && err.contains("caplen"),
        "{err}"
    );
    assert!(
        err.contains("bad-lines.trace") && err.contains("line 2"),
        "{err}"
    );
    let o = tapir(&["eval", d, "--window", "128", "--models", "nb", "--strict"]);
    assert_eq!(o.status.code(), Some(1));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn traces_written_from_a_capture_give_the_same_features() {
    let dir = temp_dir("traces");
    let out = dir.join("traces");
    let pcap = capture_data("lo-http.pcap");
    let o = tapir(&["extract", &pcap, "--traces", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let trace = out.join("lo-http.trace");
    let text = fs::read_to_string(&trace).unwrap();
    // 37 packets on the loopback, whose 64 kB MTU lets some exceed 1500 bytes: split at the
    // default MTU of 1500 they are 55.
    assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 55);
    let features = |input: &str| -> Vec<serde_json::Value> {
        let o = tapir(&["extract", input, "--window", "8", "--format", "jsonl"]);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
            .lines()
            .map(|l| {
                let row = serde_json::from_str::<serde_json::Value>(l).unwrap();
                // The feature columns: every key but the file's and the window's own.
                let lead = ["file", "label", "group", "unit", "window", "start", "end"];
                let features: Vec<serde_json::Value> = row
                    .as_object()
                    .unwrap()
                    .iter()
                    .filter(|(k, _)| !lead.contains(&k.as_str()))
                    .map(|(_, v)| v.clone())
                    .collect();
                serde_json::Value::Array(features)
            })
            .collect()
    };
    let from_pcap = features(&pcap);
    assert_eq!(from_pcap.len(), 6);
    assert_eq!(from_pcap, features(trace.to_str().unwrap()));

    // per flow: one trace file per flow, their packets add up to the capture's
    let flows = dir.join("flows");
    let o = tapir(&[
        "extract",
        &pcap,
        "--by",
        "flow",
        "--traces",
        flows.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut total = 0;
    let mut files = 0;
    for e in fs::read_dir(&flows).unwrap() {
        let text = fs::read_to_string(e.unwrap().path()).unwrap();
        total += text.lines().filter(|l| !l.starts_with('#')).count();
        files += 1;
    }
    assert_eq!((files, total), (3, 55));
    assert!(fs::read_dir(&flows).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with('.')));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn feature_config_file_is_used_and_checked() {
    let dir = temp_dir("fcfg");
    write_dataset(&dir.join("data"), 2, 600);
    let d = dir.join("data");
    let cfg = dir.join("cfg.json");
    fs::write(
        &cfg,
        r#"{"size_axis":{"scale":"linear","min":-1536.0,"max":1536.0,"bins":16},
            "iat_axis":{"scale":"log","min":1e-6,"max":100.0,"bins":16},
            "burst_axis":{"scale":"signed-log","min":32.0,"max":2097152.0,"bins":16},
            "surge_axis":{"scale":"log","min":1e-6,"max":100.0,"bins":16},
            "ack":{"mode":"off"},"surge_gap_ns":300000000}"#,
    )
    .unwrap();
    let o = tapir(&[
        "extract",
        d.to_str().unwrap(),
        "--window",
        "256",
        "--format",
        "jsonl",
        "--feature-config",
        cfg.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let first: serde_json::Value =
        serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(first.as_object().unwrap().len(), 7 + 2 * 16 * 16);
    fs::write(
        &cfg,
        r#"{"size_axis":{"scale":"linear","min":-1536.0,"max":1536.0,"bins":0}}"#,
    )
    .unwrap();
    let o = tapir(&[
        "extract",
        d.to_str().unwrap(),
        "--feature-config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cfg.json"), "{}", stderr(&o));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bundled_default_model_labels_a_sample_capture() {
    let web = sample("ipsec/web/web-04265a45.pcap.gz");
    let o = tapir(&["classify", &web]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.matches("bundled default model").count(), 1, "{err}");
    assert!(
        err.contains("data/sample"),
        "it says what it was trained on: {err}"
    );
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!lines.is_empty());
    let web_windows = lines.iter().filter(|l| l["label"] == "web").count();
    assert!(web_windows * 2 > lines.len(), "{lines:?}");
    // Labelled input (a dataset folder) carries the true label; --summary gives one line per
    // unit with the majority label.
    let o = tapir(&["classify", &sample("ipsec/web"), "--summary"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let captures = fs::read_dir(sample("ipsec/web")).unwrap().count();
    assert_eq!(s.len(), captures, "one summary line per capture");
    for l in &s {
        assert_eq!(l["summary"], "unit");
        assert_eq!(l["true_label"], "web");
        let share = l["share"].as_f64().unwrap();
        assert!(share > 0.0 && share <= 1.0);
        assert!(l["mean_probability"].as_f64().unwrap() <= 1.0);
    }
    assert!(s.iter().filter(|l| l["label"] == "web").count() >= 8);
    // The default model has a background class, which it reports as unknown.
    let o = tapir(&["classify", &sample("ipsec/background"), "--summary"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let unknown = stdout(&o)
        .lines()
        .filter(|l| l.contains("\"label\":\"unknown\""))
        .count();
    assert!(unknown >= 2, "{}", stdout(&o));
}

#[test]
fn unknown_threshold_summary_by_flow_and_old_model_files() {
    let dir = temp_dir("unknown");
    let data = dir.join("data");
    write_dataset(&data, 5, 1200);
    let d = data.to_str().unwrap();
    let model = dir.join("m.tapir");
    let report = dir.join("m.json");
    let o = tapir(&[
        "train",
        d,
        "--window",
        "256",
        "--trees",
        "10",
        "--augment-copies",
        "2",
        "-o",
        model.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["windows"], 40);
    assert_eq!(r["augmented_windows"], 80, "two copies of every window");
    assert_eq!(r["augment_copies"], 2);
    assert!(r["augment"].as_str().unwrap().contains("scale:"));
    let t = r["calibration"]["unknown_threshold"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&t));

    // A threshold above every probability makes every window unknown; 0 turns it off.
    let one = data.join("voip/voip-3.trace");
    let m = model.to_str().unwrap();
    let labels = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["classify", "-m", m, one.to_str().unwrap()];
        args.extend_from_slice(extra);
        let o = tapir(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["label"].as_str().unwrap().to_string()
            })
            .collect()
    };
    // A window is unknown exactly when its highest probability is below the threshold.
    let o = tapir(&["classify", "-m", m, d, "--unknown-threshold", "0.99"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for l in stdout(&o).lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let best = v
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.starts_with("p_"))
            .map(|(_, p)| p.as_f64().unwrap())
            .fold(0.0, f64::max);
        assert_eq!(v["label"] == "unknown", best < 0.99, "{v}");
    }
    assert_eq!(labels(&["--unknown-threshold", "0"]), vec!["voip"; 4]);
    let o = tapir(&["classify", "-m", m, "--unknown-threshold", "2", d]);
    assert_eq!(o.status.code(), Some(2));

    // Per-unit classification: window lines, then one summary line per unit.
    let o = tapir(&["classify", "-m", m, "--by", "flow", one.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[4]["summary"], "unit");
    assert_eq!(lines[4]["windows"], 4);

    // eval: augmentation changes training, never the test windows.
    let count = |aug: &str| {
        let o = tapir(&[
            "eval",
            d,
            "--window",
            "256",
            "--models",
            "nb",
            "--augment",
            aug,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    let (plain, aug) = (count("none"), count("offset:0-80"));
    assert!(aug.contains("augmentation: 4 copies"), "{aug}");
    let first = |s: &str| s.lines().next().unwrap().to_string();
    assert_eq!(first(&plain), first(&aug), "same windows and test windows");
    let o = tapir(&["eval", d, "--augment", "warp:1-2"]);
    assert_eq!(o.status.code(), Some(2));

    // A model file of format version 1 is refused with a request to retrain.
    let mut bytes = fs::read(&model).unwrap();
    bytes[8..12].copy_from_slice(&1u32.to_le_bytes());
    let old = dir.join("old.tapir");
    fs::write(&old, &bytes).unwrap();
    let o = tapir(&[
        "classify",
        "-m",
        old.to_str().unwrap(),
        one.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("model file version 1, this tapir reads version 2: retrain"),
        "{err}"
    );

    // The feature settings are stored typed, with the configuration's fingerprint.
    let bytes = fs::read(&model).unwrap();
    let mf: tapir_learn::ModelFile<tapir_learn::Model, serde_json::Value> =
        tapir_learn::from_bytes(&bytes, &model).unwrap();
    let fp = mf.feature_config["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(fp.len(), 16, "{}", mf.feature_config);
    assert_eq!(mf.feature_config["window"], 256);
    let rewrite = |name: &str, edit: &dyn Fn(&mut serde_json::Value, &mut serde_json::Value)| {
        let mut f = mf.clone();
        edit(&mut f.feature_config, &mut f.training);
        let path = dir.join(name);
        fs::write(&path, tapir_learn::to_bytes(&f).unwrap()).unwrap();
        let o = tapir(&[
            "classify",
            "-m",
            path.to_str().unwrap(),
            one.to_str().unwrap(),
        ]);
        (path, o)
    };
    // Trained under another feature definition: refused, naming the model file.
    let (stale, o) = rewrite("stale.tapir", &|fc, _| {
        fc["fingerprint"] = "0123456789abcdef".into();
    });
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains(stale.to_str().unwrap())
            && err.contains("another feature definition")
            && err.contains("retrain"),
        "{err}"
    );
    // The layout written before the fingerprint moved into the feature settings still loads,
    // and is still checked by the fingerprint of its training record.
    let (_, o) = rewrite("legacy.tapir", &|fc, _| {
        fc.as_object_mut().unwrap().remove("fingerprint");
    });
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        stdout(&tapir(&["classify", "-m", m, one.to_str().unwrap()]))
    );
    let (_, o) = rewrite("legacy-stale.tapir", &|fc, tr| {
        fc.as_object_mut().unwrap().remove("fingerprint");
        tr["feature_fingerprint"] = "0123456789abcdef".into();
    });
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // A stored window the window rule refuses.
    let (_, o) = rewrite("one-packet.tapir", &|fc, _| fc["window"] = 1.into());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("window of 1 packets"), "{}", stderr(&o));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn inspect_and_flows_name_a_tunnel_the_same() {
    let cap = sample("ipsec/web/web-04265a45.pcap.gz");
    let o = tapir(&["inspect", &cap, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The file's line names its tunnel kinds, its tunnel and flow lines one each.
    let text = stdout(&o);
    let o = tapir(&["flows", &cap, "--format", "jsonl"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let kinds: Vec<String> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter_map(|r| r["tunnel"].as_str().map(str::to_string))
        .collect();
    assert!(!kinds.is_empty(), "the capture's tunnel is recognised");
    for k in &kinds {
        assert!(
            text.contains(&format!("\"tunnel\":\"{k}\"")),
            "{k} not in {text}"
        );
    }
}

#[test]
fn inspect_anonymizes_flow_addresses_as_flows_does() {
    let cap = sample("ipsec/web/web-04265a45.pcap.gz");
    let plain = stdout(&tapir(&["inspect", &cap, "--json"]));
    let o = tapir(&["inspect", &cap, "--json", "--anonymize", "test key"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let anon = stdout(&o);
    let o = tapir(&[
        "flows",
        &cap,
        "--format",
        "jsonl",
        "--anonymize",
        "test key",
    ]);
    let flows = stdout(&o);
    let rec: serde_json::Value = serde_json::from_str(flows.lines().next().unwrap()).unwrap();
    let (src, dst) = (rec["src"].as_str().unwrap(), rec["dst"].as_str().unwrap());
    for a in [src, dst] {
        assert!(anon.contains(a), "{a} (from flows) not in {anon}");
        assert!(!plain.contains(a), "{a} is a pseudonym, not the address");
    }
    assert!(anon.len() > 100 && !anon.contains("10.77.3.1"), "{anon}");
    // The table too: every address it prints is a pseudonym.
    let o = tapir(&["inspect", &cap, "--anonymize", "test key"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    assert!(table.contains(src) && table.contains(dst), "{table}");
    assert!(
        !table.contains("10.77.3.1") && !table.contains("10.78.3.2"),
        "{table}"
    );
}

/// `classify` and `extract` name units by their addresses; with `--anonymize` they give the
/// pseudonyms `flows --anonymize` gives under the same key, and the addresses appear nowhere.
#[test]
fn classify_and_extract_anonymize_units_as_flows_does() {
    let cap = sample("ipsec/web/web-04265a45.pcap.gz");
    let ends = |args: &[&str]| {
        let o = tapir(args);
        assert!(o.status.success(), "{}", stderr(&o));
        let rec: serde_json::Value =
            serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
        [rec["src"].clone(), rec["dst"].clone()].map(|v| v.as_str().unwrap().to_string())
    };
    let real = ends(&["flows", &cap, "--format", "jsonl"]);
    let pseudo = ends(&[
        "flows",
        &cap,
        "--format",
        "jsonl",
        "--anonymize",
        "test key",
    ]);
    assert_ne!(real, pseudo);
    let key = ["--anonymize", "test key"];
    for args in [
        vec!["classify", &cap, "--by", "flow"],
        vec!["classify", &cap, "--by", "pair", "--summary"],
        vec!["extract", &cap, "--by", "flow", "--window", "256"],
        vec![
            "extract", &cap, "--by", "pair", "--window", "256", "--format", "jsonl",
        ],
    ] {
        let plain = tapir(&args);
        assert!(plain.status.success(), "{args:?}: {}", stderr(&plain));
        let plain = stdout(&plain);
        let o = tapir(&[args.as_slice(), &key].concat());
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        let anon = stdout(&o);
        assert_eq!(
            anon.lines().count(),
            plain.lines().count(),
            "{args:?}: the same rows"
        );
        for (r, p) in real.iter().zip(&pseudo) {
            assert!(plain.contains(r.as_str()), "{args:?}: {r} not in {plain}");
            assert!(!anon.contains(r.as_str()), "{args:?}: {r} in {anon}");
            assert!(anon.contains(p.as_str()), "{args:?}: {p} not in {anon}");
        }
    }
    // extract --traces names each trace's unit in its first line, pseudonymised too.
    let dir = temp_dir("anon-traces");
    let traces = dir.join("traces");
    let o = tapir(&[
        "extract",
        &cap,
        "--by",
        "pair",
        "--traces",
        traces.to_str().unwrap(),
        "--anonymize",
        "test key",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let heads: String = fs::read_dir(&traces)
        .unwrap()
        .map(|e| fs::read_to_string(e.unwrap().path()).unwrap())
        .map(|t| t.lines().next().unwrap_or_default().to_string())
        .collect();
    assert!(heads.contains(pseudo[0].as_str()), "{heads}");
    assert!(!heads.contains(real[0].as_str()), "{heads}");
    fs::remove_dir_all(&dir).unwrap();
    // A bad key is a usage error.
    let o = tapir(&["classify", &cap, "--anonymize", ""]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// `--min-leaf` and `--max-depth` grow smaller forests, say so in the training record (and
/// only when given, so a default model's record is as before), and reject 0 as usage errors.
#[test]
fn train_min_leaf_and_max_depth_limit_the_forest() {
    let dir = temp_dir("forest-limits");
    let data = dir.join("data");
    write_dataset(&data, 5, 1200);
    let d = data.to_str().unwrap();
    let train = |extra: &[&str], name: &str| {
        let model = dir.join(format!("{name}.tapir"));
        let report = dir.join(format!("{name}.json"));
        let mut args = vec![
            "train",
            d,
            "--window",
            "256",
            "--trees",
            "10",
            "-o",
            model.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = tapir(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        let record: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
        (fs::metadata(&model).unwrap().len(), record)
    };
    let (full, record) = train(&[], "full");
    assert!(record.get("min_leaf").is_none() && record.get("max_depth").is_none());
    let (shallow, record) = train(&["--max-depth", "2"], "shallow");
    assert_eq!(record["max_depth"], 2);
    let (coarse, record) = train(&["--min-leaf", "40"], "coarse");
    assert_eq!(record["min_leaf"], 40);
    assert!(shallow < full && coarse < full, "{shallow} {coarse} {full}");
    for (flag, what) in [
        ("--min-leaf", "window in a leaf"),
        ("--max-depth", "one level"),
    ] {
        let o = tapir(&["train", d, flag, "0", "-o", "x.tapir"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains(what), "{}", stderr(&o));
        let o = tapir(&["eval", d, "--models", "rf", flag, "0"]);
        assert_eq!(o.status.code(), Some(2));
    }
    let o = tapir(&[
        "eval",
        d,
        "--window",
        "256",
        "--models",
        "rf",
        "--trees",
        "5",
        "--min-leaf",
        "3",
        "--max-depth",
        "4",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    fs::remove_dir_all(&dir).unwrap();
}
