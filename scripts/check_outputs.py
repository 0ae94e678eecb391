"""Loads tapir's machine-readable outputs with pandas and DuckDB, as a user would, and checks
that they are usable as they are. Run by crates/tapir/tests/outputs.rs, which writes the outputs
and a manifest (JSON): a list of {"name", "csv", "jsonl", "time_unit"}, "csv" or "jsonl" null when
the command has no such format, "time_unit" the documented unit of its time columns ("ns": integer
nanoseconds since the epoch; "s (relative)": seconds from the start of a trace). Prints one line per output, "ok NAME" or "bad NAME: reasons".

Checks: pandas and DuckDB load each file with no option beyond the format and agree on its
columns and rows; a .jsonl file has one flat JSON object per line (no comment line, no nested
object or list); CSV and JSON lines of one command have the same columns in the same order and
the same time values; every time column is in the documented unit.
"""

import json
import sys

import duckdb
import pandas as pd

# Columns holding a point in time, whatever the output.
TIME_COLUMNS = {"start", "end", "time", "first_seen", "last_seen", "first", "last"}



def same_values(a, b):
    """Equal lists; floats within a nanosecond, since pandas' CSV and JSON parsers may round the
    same decimal text to neighbouring doubles."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if isinstance(x, float) or isinstance(y, float):
            try:
                if abs(float(x) - float(y)) > 1e-9:
                    return False
            except (TypeError, ValueError):
                return False
        elif x != y:
            return False
    return True

def unit_of(values):
    """The unit of epoch timestamps, told by their magnitude (2001 to 2286)."""
    values = [v for v in values if v is not None and not (isinstance(v, float) and v != v)]
    if not values:
        return None
    if any(isinstance(v, str) for v in values):
        return "text"
    lo, hi = min(values), max(values)
    if 0 <= lo and hi < 1e8:
        return "s (relative)"
    for unit, scale in (("s", 1e9), ("ms", 1e12), ("us", 1e15), ("ns", 1e18)):
        if scale <= lo and hi < scale * 10:
            if unit == "ns" and any(isinstance(v, float) and not v.is_integer() for v in values):
                return "ns (fractional)"
            return unit
    return f"unknown ({lo}..{hi})"


def check_jsonl(path, problems):
    columns = []
    # One finding per kind, at its first line, with how many lines have it.
    found = {}

    def note(kind, n, text):
        first, count = found.get(kind, (f"{path}:{n}: {text}", 0))
        found[kind] = (first, count + 1)

    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                note("blank", n, "blank line")
                continue
            if line.lstrip().startswith("#"):
                note("comment", n, "comment line")
                continue
            try:
                obj = json.loads(line)
            except ValueError as e:
                note("json", n, f"not JSON ({e})")
                continue
            if not isinstance(obj, dict):
                note("object", n, "not an object")
                continue
            nested = [k for k, v in obj.items() if isinstance(v, (dict, list))]
            if nested:
                note("nested", n, f"nested values in {nested}")
            for k in obj:
                if k not in columns:
                    columns.append(k)
    for first, count in found.values():
        problems.append(first + (f" (and {count - 1} more lines)" if count > 1 else ""))
    frame = pd.read_json(path, lines=True, dtype=False, convert_dates=False)
    db = duckdb.sql(f"SELECT * FROM read_json_auto('{path}', format='newline_delimited')")
    return frame, db, columns


def check_csv(path, problems):
    frame = pd.read_csv(path)
    db = duckdb.sql(f"SELECT * FROM read_csv_auto('{path}')")
    return frame, db, list(frame.columns)


def check(entry):
    problems = []
    loaded = {}
    for kind, reader in (("csv", check_csv), ("jsonl", check_jsonl)):
        path = entry.get(kind)
        if not path:
            continue
        try:
            frame, db, columns = reader(path, problems)
        except Exception as e:  # a file that does not load is the finding
            problems.append(f"{kind}: does not load: {type(e).__name__}: {e}".splitlines()[0])
            continue
        if len(frame) == 0:
            problems.append(f"{kind}: no rows (the test's input should give some)")
        if list(frame.columns) != list(db.columns):
            problems.append(f"{kind}: pandas columns {list(frame.columns)} != DuckDB's {db.columns}")
        rows = db.aggregate("count(*)").fetchone()[0]
        if rows != len(frame):
            problems.append(f"{kind}: pandas reads {len(frame)} rows, DuckDB {rows}")
        loaded[kind] = (frame, columns)
        for col in frame.columns:
            if col in TIME_COLUMNS:
                unit = unit_of(frame[col].tolist())
                if unit is not None and unit != entry["time_unit"]:
                    problems.append(
                        f"{kind}: column {col} is in {unit}, documented {entry['time_unit']}"
                    )
    if "csv" in loaded and "jsonl" in loaded:
        (c, ccols), (j, jcols) = loaded["csv"], loaded["jsonl"]
        if ccols != jcols:
            only_c = [x for x in ccols if x not in jcols][:6]
            only_j = [x for x in jcols if x not in ccols][:6]
            problems.append(
                f"CSV and JSON lines differ in columns: only CSV {only_c}, only JSON lines {only_j}"
                + ("" if only_c or only_j else f" (order: {ccols} vs {jcols})")
            )
        elif len(c) == len(j):
            for col in ccols:
                if col in TIME_COLUMNS and not same_values(c[col].tolist(), j[col].tolist()):
                    problems.append(f"CSV and JSON lines differ in column {col}")
    return problems


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        manifest = json.load(f)
    for entry in manifest:
        problems = check(entry)
        if problems:
            print(f"bad {entry['name']}: " + "; ".join(problems))
        else:
            print(f"ok {entry['name']}")


if __name__ == "__main__":
    main()
