"""The tools a team would pick instead of aimo, run on the same data as aimo's side of
scripts/bench-anchors.ts, one task per process so peak memory is the task's own.

  python anchors.py drift <ref.parquet> <cur.parquet> <spec.json>
  python anchors.py quality <table.parquet> <spec.json>
  python anchors.py agree-drift <ref.parquet> <cur.parquet> <aimo-report.json>
  python anchors.py train <training.parquet> <spec.json>
  python anchors.py evaluate <training.parquet> <spec.json>
  python anchors.py classifier-fixture <out.json>

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


def _design(df, spec):
    import numpy as np

    x = df[spec["features"]].to_numpy(dtype=float)
    return x, df[spec["label"]].to_numpy(dtype=float)


def train(table_path: str, spec_path: str) -> dict:
    """scikit-learn's LogisticRegression (lbfgs, its default tolerance) on the same standardised
    objective as aimo: C = 1/l2, population standard deviations, intercept not penalised."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    spec = json.load(open(spec_path))
    df = pd.read_parquet(table_path)
    df = df[df[spec["split"]] == spec["train"]]
    started = time.perf_counter()
    x, y = _design(df, spec)
    mean, std = x.mean(axis=0), x.std(axis=0)
    model = LogisticRegression(C=1.0 / spec["l2"], **({"tol": spec["tol"]} if "tol" in spec else {}), max_iter=1000)
    model.fit((x - mean) / std, y)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peakMb": peak_mb(),
        "iterations": int(model.n_iter_[0]),
        "intercept": float(model.intercept_[0]),
        "coefficients": dict(zip(spec["features"], map(float, model.coef_[0]))),
        "mean": dict(zip(spec["features"], map(float, mean))),
        "std": dict(zip(spec["features"], map(float, std))),
    }


def evaluate(table_path: str, spec_path: str) -> dict:
    """Scores a holdout with aimo's model and computes AUC, log loss, Brier and ten quantile
    calibration bins with scikit-learn, as a data scientist would on the same predictions."""
    import numpy as np
    import pandas as pd
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    spec = json.load(open(spec_path))
    model = spec["model"]
    df = pd.read_parquet(table_path)
    df = df[df[spec["split"]] == spec["holdout"]]
    started = time.perf_counter()
    x, y = _design(df, spec)
    mean = np.array([model["standardisation"][f]["mean"] for f in spec["features"]])
    std = np.array([model["standardisation"][f]["std"] for f in spec["features"]])
    coef = np.array([model["coefficients"][f] for f in spec["features"]])
    p = 1.0 / (1.0 + np.exp(-(model["intercept"] + ((x - mean) / std) @ coef)))
    auc = roc_auc_score(y, p)
    loss = log_loss(y, np.clip(p, 1e-15, 1 - 1e-15))
    brier = brier_score_loss(y, p)
    calibration_curve(y, p, n_bins=10, strategy="quantile")
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peakMb": peak_mb(), "auc": float(auc), "logLoss": float(loss), "brier": float(brier)}


def classifier_fixture(out_path: str) -> dict:
    """A small fixed data set with scikit-learn's answers, for aimo's tests (test/fixtures/sklearn-classifier.json).
    Rows come from an integer hash, so the file holds the data as well as the answers."""
    import math

    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    def unit(i: int, salt: int) -> float:
        # splitmix64 of (row, salt): independent streams per salt
        h = (i * 0x9E3779B97F4A7C15 + salt * 0xD1B54A32D192ED03) % 2**64
        h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
        h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) % 2**64
        return ((h ^ (h >> 31)) >> 11) / 2**53

    rows = []
    for i in range(2000):
        x1 = round(4 * unit(i, 1) - 2, 6)
        x2 = 1 if unit(i, 2) < 0.3 else 0
        x3 = math.floor(10 * unit(i, 3))  # whole numbers: many ties
        eta = -0.4 + 1.3 * x1 - 0.9 * x2 + 0.15 * x3
        label = 1 if unit(i, 4) < 1 / (1 + math.exp(-eta)) else 0
        # A given score with two decimals (ties), for the holdout metrics.
        score = round(1 / (1 + math.exp(-(eta + 0.8 * (unit(i, 5) - 0.5)))), 2)
        rows.append({"id": i, "x1": x1, "x2": x2, "x3": x3, "label": label, "score": score, "split": "holdout" if i % 4 == 0 else "train"})
    train = [r for r in rows if r["split"] == "train"]
    holdout = [r for r in rows if r["split"] == "holdout"]
    features = ["x1", "x2", "x3"]
    x = np.array([[r[f] for f in features] for r in train], dtype=float)
    y = np.array([r["label"] for r in train], dtype=float)
    mean, std = x.mean(axis=0), x.std(axis=0)
    fits = {}
    for l2 in (1.0, 0.01):
        model = LogisticRegression(C=1.0 / l2, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit((x - mean) / std, y)
        fits[str(l2)] = {"intercept": float(model.intercept_[0]), "coefficients": dict(zip(features, map(float, model.coef_[0])))}
    hy = np.array([r["label"] for r in holdout], dtype=float)
    hp = np.array([r["score"] for r in holdout], dtype=float)
    import sklearn

    fixture = {
        "about": "generated by scripts/anchors/anchors.py classifier-fixture with scikit-learn " + sklearn.__version__,
        "features": features,
        "rows": rows,
        "fits": fits,
        "holdout": {
            "auc": float(roc_auc_score(hy, hp)),
            "logLoss": float(log_loss(hy, np.clip(hp, 1e-15, 1 - 1e-15))),
            "brier": float(brier_score_loss(hy, hp)),
        },
    }
    with open(out_path, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    return {"rows": len(rows), "fits": fits, "holdout": fixture["holdout"]}


def main() -> int:
    task, *args = sys.argv[1:]
    tasks = {"drift": drift, "quality": quality, "agree-drift": agree_drift, "train": train, "evaluate": evaluate, "classifier-fixture": classifier_fixture}
    result = tasks[task](*args)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
