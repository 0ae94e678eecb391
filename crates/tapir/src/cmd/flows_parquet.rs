//! Flow records as Parquet, hive-partitioned by the UTC date of the flow's start
//! (`DIR/date=YYYY-MM-DD/part-0.parquet`), so Spark, DataFusion and Trino read the folder as one
//! table with a `date` partition column. Behind the `parquet` feature: arrow and parquet are heavy.
//!
//! Types are chosen for the engines, not for Rust: signed integers only (Spark has no unsigned
//! types) and microsecond UTC timestamps (Spark before 3.x rejects nanosecond ones); the exact
//! nanosecond times are kept beside them as `start_ns`/`end_ns`.

use anyhow::Context;
use arrow_array::{
    ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::sync::Arc;
use tapir_flow::{proto, FlowRecord};

fn schema() -> Arc<Schema> {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let i32f = |n: &str| Field::new(n, DataType::Int32, false);
    let i64f = |n: &str| Field::new(n, DataType::Int64, false);
    let s = |n: &str, null| Field::new(n, DataType::Utf8, null);
    Arc::new(Schema::new(vec![
        s("src", false),
        s("dst", false),
        i32f("src_port"),
        i32f("dst_port"),
        i32f("proto"),
        s("proto_name", false),
        Field::new("start", ts.clone(), false),
        Field::new("end", ts, false),
        i64f("start_ns"),
        i64f("end_ns"),
        i64f("packets_fwd"),
        i64f("bytes_fwd"),
        i64f("packets_rev"),
        i64f("bytes_rev"),
        i32f("tos"),
        i32f("dscp"),
        i32f("tcp_flags"),
        s("tunnel", true),
        s("end_reason", false),
        s("source", false),
        s("exporter", true),
    ]))
}

fn batch(rows: &[&FlowRecord]) -> anyhow::Result<RecordBatch> {
    let i32c = |f: &dyn Fn(&FlowRecord) -> i32| -> ArrayRef {
        Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| f(r))))
    };
    let i64c = |f: &dyn Fn(&FlowRecord) -> u64| -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| i64::try_from(f(r)).unwrap_or(i64::MAX)),
        ))
    };
    let tsc = |f: &dyn Fn(&FlowRecord) -> i64| -> ArrayRef {
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(rows.iter().map(|r| f(r).div_euclid(1000)))
                .with_timezone("UTC"),
        )
    };
    let ns = |f: &dyn Fn(&FlowRecord) -> i64| -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| f(r))))
    };
    let strs = |f: &dyn Fn(&FlowRecord) -> Option<String>| -> ArrayRef {
        Arc::new(rows.iter().map(|r| f(r)).collect::<StringArray>())
    };
    let cols: Vec<ArrayRef> = vec![
        strs(&|r| Some(r.src.to_string())),
        strs(&|r| Some(r.dst.to_string())),
        i32c(&|r| r.src_port as i32),
        i32c(&|r| r.dst_port as i32),
        i32c(&|r| r.proto as i32),
        strs(&|r| Some(proto::name(r.proto))),
        tsc(&|r| r.start.0),
        tsc(&|r| r.end.0),
        ns(&|r| r.start.0),
        ns(&|r| r.end.0),
        i64c(&|r| r.packets_fwd),
        i64c(&|r| r.bytes_fwd),
        i64c(&|r| r.packets_rev),
        i64c(&|r| r.bytes_rev),
        i32c(&|r| r.tos as i32),
        i32c(&|r| r.dscp() as i32),
        i32c(&|r| r.tcp_flags as i32),
        strs(&|r| r.tunnel.map(|t| t.name().to_string())),
        strs(&|r| Some(r.end_reason.to_string())),
        strs(&|r| Some(r.source.name().to_string())),
        strs(&|r| r.source.exporter().map(|e| e.to_string())),
    ];
    Ok(RecordBatch::try_new(schema(), cols)?)
}

/// Write `rows` under `dir`, one partition per start date. The folder is built beside `dir` and
/// renamed into place at the end, so a failure leaves no half-written table.
pub fn write_partitioned(dir: &Path, rows: &[FlowRecord]) -> anyhow::Result<()> {
    if dir.exists() && fs::read_dir(dir)?.next().is_some() {
        anyhow::bail!(
            "{} exists and is not empty: give a new folder for the Parquet table",
            dir.display()
        );
    }
    let mut by_date: BTreeMap<(i64, u32, u32), Vec<&FlowRecord>> = BTreeMap::new();
    for r in rows {
        by_date
            .entry(tapir_capture::civil_from_days(
                r.start.0.div_euclid(86_400_000_000_000),
            ))
            .or_default()
            .push(r);
    }
    let tmp = crate::interrupt::sibling(dir, "tmp");
    let result = (|| -> anyhow::Result<()> {
        crate::interrupt::create_temp_dir(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        for ((y, m, d), rs) in &by_date {
            let part = tmp.join(format!("date={y:04}-{m:02}-{d:02}"));
            fs::create_dir_all(&part)?;
            let f = fs::File::create(part.join("part-0.parquet"))?;
            let mut w = ArrowWriter::try_new(f, schema(), Some(props.clone()))?;
            // Row groups of 64 k records keep memory flat on large captures.
            for chunk in rs.chunks(65_536) {
                w.write(&batch(chunk)?)?;
            }
            w.close()?;
        }
        if dir.exists() {
            fs::remove_dir(dir)?;
        }
        crate::interrupt::commit(&tmp, dir)
            .with_context(|| format!("cannot move {} to {}", tmp.display(), dir.display()))?;
        Ok(())
    })();
    if result.is_err() {
        crate::interrupt::discard(&tmp);
    }
    result
}
