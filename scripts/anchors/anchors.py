"""The tools a team would pick instead of aimo, run on the same data as aimo's side of
scripts/bench-anchors.ts, one task per process so peak memory is the task's own.

  python anchors.py drift <ref.parquet> <cur.parquet> <spec.json>
  python anchors.py quality <table.parquet> <spec.json>
  python anchors.py agree-drift <ref.parquet> <cur.parquet> <aimo-report.json>

Prints one JSON line: seconds (the tool's work, the Parquet load excluded), peak RSS
in MB, and what the tool found.
"""

import json
import resource
import sys
import time
import warnings

warnings.filterwarnings("ignore")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def drift(ref_path: str, cur_path: str, spec_path: str) -> dict:
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    spec = json.load(open(spec_path))
    ref = pd.read_parquet(ref_path)
    cur = pd.read_parquet(cur_path)
    definition = DataDefinition(numerical_columns=spec["numeric"], categorical_columns=spec["categorical"])
    started = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(cur, data_definition=definition), Dataset.from_pandas(ref, data_definition=definition)
    )
    result = snapshot.dict()
    seconds = time.perf_counter() - started
    drifted = None
    for metric in result.get("metrics", []):
        name = str(metric.get("metric_name") or metric.get("metric_id") or "")
        if "DriftedColumnsCount" in name:
            value = metric.get("value")
            drifted = value.get("count") if isinstance(value, dict) else value
    return {"seconds": seconds, "peakMb": peak_mb(), "drifted": drifted}


def quality(table_path: str, spec_path: str) -> dict:
    import great_expectations as gx
    import pandas as pd

    spec = json.load(open(spec_path))
    df = pd.read_parquet(table_path)
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("bench")
        .add_dataframe_asset("table")
        .add_batch_definition_whole_dataframe("whole")
        .get_batch(batch_parameters={"dataframe": df})
    )
    expectations = []
    for e in spec["expectations"]:
        kind = e["kind"]
        if kind == "row_count":
            expectations.append(gx.expectations.ExpectTableRowCountToBeBetween(min_value=e.get("min"), max_value=e.get("max")))
        elif kind == "not_null":
            expectations.append(gx.expectations.ExpectColumnValuesToNotBeNull(column=e["column"]))
        elif kind == "unique":
            expectations.append(gx.expectations.ExpectColumnValuesToBeUnique(column=e["columns"][0]))
        elif kind == "in_set":
            expectations.append(gx.expectations.ExpectColumnValuesToBeInSet(column=e["column"], value_set=e["values"]))
        elif kind == "between":
            expectations.append(gx.expectations.ExpectColumnValuesToBeBetween(column=e["column"], min_value=e.get("min"), max_value=e.get("max")))
    suite = context.suites.add(gx.ExpectationSuite(name="bench", expectations=expectations))
    started = time.perf_counter()
    validation = batch.validate(suite)
    seconds = time.perf_counter() - started
    # Results come back in GE's own order: matched to the specs by expectation id.
    by_id = {}
    for r in validation.results:
        result = r.result or {}
        by_id[str(r.expectation_config.id)] = int(result["unexpected_count"]) if "unexpected_count" in result else (0 if r.success else result.get("observed_value"))
    counts = [by_id.get(str(e.id)) for e in suite.expectations]
    return {"seconds": seconds, "peakMb": peak_mb(), "unexpected": counts}


def agree_drift(ref_path: str, cur_path: str, report_path: str) -> dict:
    """aimo's numbers against scipy on the raw values: KS exactly, PSI and JS on aimo's own bins."""
    import numpy as np
    import pandas as pd
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import ks_2samp

    report = json.load(open(report_path))
    ref = pd.read_parquet(ref_path)
    cur = pd.read_parquet(cur_path)
    worst = {"ks": 0.0, "psi": 0.0, "js": 0.0}
    for f in report["features"]:
        name = f["feature"]
        r = ref[name].dropna()
        c = cur[name].dropna()
        if f["kind"] == "categorical":
            cats = [b["category"] for b in f["bins"]]
            kept = set(x for x in cats if x is not None)
            rc = np.array([(r == x).sum() if x is not None else (~r.isin(kept)).sum() for x in cats], dtype=float)
            cc = np.array([(c == x).sum() if x is not None else (~c.isin(kept)).sum() for x in cats], dtype=float)
        else:
            worst["ks"] = max(worst["ks"], abs(ks_2samp(r.to_numpy(), c.to_numpy()).statistic - f["ks"]))
            edges = [b["upper"] for b in f["bins"][:-1]]
            rc = np.bincount(np.searchsorted(edges, r.to_numpy(), side="right"), minlength=len(edges) + 1).astype(float)
            cc = np.bincount(np.searchsorted(edges, c.to_numpy(), side="right"), minlength=len(edges) + 1).astype(float)
        rs, cs = rc / rc.sum(), cc / cc.sum()
        rp, cp = np.where(rs > 0, rs, 1e-4), np.where(cs > 0, cs, 1e-4)
        psi = float(np.sum((cp - rp) * np.log(cp / rp)))
        js = float(jensenshannon(rs, cs, base=2))
        worst["psi"] = max(worst["psi"], abs(psi - f["psi"]))
        worst["js"] = max(worst["js"], abs(js - f["jsDistance"]))
    return worst


def main() -> int:
    task, *args = sys.argv[1:]
    result = {"drift": drift, "quality": quality, "agree-drift": agree_drift}[task](*args)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
