"""``sklearn-ser benchmark``: a speaker-independent comparison of recognisers on one corpus."""

import contextlib
import json
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__

#: Record keys of results.json, in order (the contract of the benchmark output).
RECORD_KEYS = (
    "model", "dataset", "protocol", "n_folds", "uar", "uar_ci_low", "uar_ci_high", "wa",
    "macro_f1", "fit_seconds",
)

DATASETS = ("synthetic", "emodb", "ravdess", "tess", "cremad", "folder")


@dataclass
class Corpus:
    """Clips, labels and speakers of the corpus under test."""

    name: str
    clips: list
    target: np.ndarray
    groups: np.ndarray
    sr: int


def load_corpus(name, *, data_dir=None, sr=16000, n_samples=420, random_state=0, n_jobs=None,
                verbose=0):
    """Load a corpus by benchmark name as clips, labels and speaker groups."""
    from .. import datasets

    if name == "synthetic":
        bunch = datasets.make_emotional_speech(n_samples, sr=sr, random_state=random_state)
        return Corpus(name, list(bunch.data), np.asarray(bunch.target),
                      np.asarray(bunch.groups), sr)
    if name == "folder" and data_dir is None:
        raise SystemExit("--dataset folder needs --data-dir PATH (sub-folders named by label).")
    loader = getattr(datasets, f"load_{name}")
    bunch = loader(data_dir, return_clips=True, sr=sr, n_jobs=n_jobs, verbose=verbose)
    return Corpus(name, list(bunch.data), np.asarray(bunch.target), np.asarray(bunch.groups), sr)


def build_model(name, *, sr, random_state, memory=None):
    """The pipeline a benchmark model name stands for (see ``make_named_pipeline``)."""
    from ..pipelines import make_named_pipeline

    try:
        return make_named_pipeline(name, sr=sr, memory=memory, random_state=random_state)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


def run_benchmark(corpus, models, *, cv="loso", n_jobs=None, random_state=0, verbose=1,
                  test_snr=None, test_noise="white", test_gain=None, test_padding=None,
                  cache_dir=None):
    """Evaluate each model on the same speaker-independent folds.

    The models share one feature cache (``cache_dir``, or a temporary folder removed at the
    end; ``cache_dir=False`` for none): models with the same extractors, and a fusion's
    members and inner folds, extract each fold's features once. A model's ``fit_seconds``
    then leaves out the extraction that an earlier model already did.

    ``test_snr``, ``test_noise``, ``test_gain`` and ``test_padding`` are those of
    :func:`~sklearn_ser.model_selection.evaluate`: corrupted copies of the test clips.

    Returns
    -------
    records : list of dict
        One record per model with the keys of ``RECORD_KEYS``; with ``test_snr`` or
        ``test_gain`` also one ``uar_<condition>`` key per test condition, in evaluate's
        order: ``uar_snr20`` (white noise at 20 dB), ``uar_pink20``, ``uar_brown10``,
        ``uar_babble0``, ``uar_gain-20``, ``uar_gain+20``, ``uar_zeros0.5``; and for the
        zero-padding conditions ``agree_zeros0.5``, the fraction of clips whose prediction
        did not change with the padding. A model whose evaluation raised does not stop the
        others: its record has None scores and an ``error`` key, ``"ValueError: ..."``.
    reports : dict of str to EvaluationReport
        The full report of each model that ran.
    """
    from ..model_selection import make_cv

    splitter = make_cv(cv)
    with contextlib.ExitStack() as stack:
        if cache_dir is None:  # a private cache for this run; False turns caching off

            cache_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="sklearn-ser-"))
        return _run_models(corpus, models, splitter, cv=cv, n_jobs=n_jobs,
                           random_state=random_state, verbose=verbose, test_snr=test_snr,
                           test_noise=test_noise, test_gain=test_gain,
                           test_padding=test_padding, cache_dir=cache_dir or None)


def _run_models(corpus, models, splitter, *, cv, n_jobs, random_state, verbose, test_snr,
                test_noise, test_gain, test_padding, cache_dir):
    from ..model_selection import evaluate

    # Every name is built before any is run, so that a typo stops the run at once rather
    # than after the models before it have run.
    built = {name: build_model(name, sr=corpus.sr, random_state=random_state,
                               memory=cache_dir) for name in models}
    records, reports = [], {}
    for name, model in built.items():
        if verbose:
            print(f"[{name}] evaluating on {corpus.name} ({cv}) ...", flush=True)
        start = time.perf_counter()
        try:
            report = evaluate(model, corpus.clips, corpus.target, groups=corpus.groups,
                              cv=splitter, n_jobs=n_jobs, verbose=verbose, test_snr=test_snr,
                              test_noise=test_noise, test_gain=test_gain,
                              test_padding=test_padding)
        except Exception as exc:  # noqa: BLE001 - one failing model must not lose the others
            records.append(failed_record(name, corpus.name, cv, exc))
            if verbose:
                print(f"[{name}] failed: {records[-1]['error']}", flush=True)
            continue
        wall = time.perf_counter() - start
        reports[name] = report
        records.append(_record(name, corpus.name, cv, report))
        if verbose:
            print(f"[{name}] UAR {report.uar:.3f} in {wall:.1f} s", flush=True)
    return records, reports


def describe_error(exc):
    """``"ValueError: message"`` on one line, for a table cell."""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def failed_record(model, dataset, protocol, exc):
    """The record of a model whose evaluation raised: no scores, and the error."""
    record = dict.fromkeys(RECORD_KEYS)
    record.update(model=model, dataset=dataset, protocol=protocol, error=describe_error(exc))
    return record


def failed(records):
    """The records of the models that failed, in run order."""
    return [r for r in records if r.get("error")]


def _record(model, dataset, protocol, report):
    values = {
        "model": model,
        "dataset": dataset,
        "protocol": protocol,
        "n_folds": int(report.n_folds),
        "uar": report.uar,
        "uar_ci_low": report.uar_ci_low,
        "uar_ci_high": report.uar_ci_high,
        "wa": report.wa,
        "macro_f1": report.macro_f1,
        "fit_seconds": report.fit_seconds,
    }
    for condition, uar in (report.uar_by_condition or {}).items():
        if condition != "clean":
            values[f"uar_{condition}"] = uar  # uar_snr20, uar_babble10, uar_gain-20, ...
    if report.conditions is not None:
        for row in report.conditions.itertuples():
            if row.noise == "zeros":
                values[f"agree_{row.condition}"] = row.agreement
    return {k: (round(float(v), 4) if isinstance(v, (float, np.floating)) else v)
            for k, v in values.items()}


def _condition_keys(records):
    """The ``uar_<condition>`` keys of corrupted test conditions, in first-seen order."""
    keys = []
    for record in records:
        keys += [k for k in record if k.startswith(("uar_", "agree_"))
                 and k not in RECORD_KEYS and k not in keys]
    return keys


def leaderboard(records):
    """Records as a DataFrame sorted by UAR, best first; failed models last.

    An ``error`` column is added when some model failed: empty for the others.
    """
    columns = list(RECORD_KEYS) + _condition_keys(records)
    if failed(records):
        columns.append("error")
    frame = pd.DataFrame(records, columns=columns)
    if "error" in frame:
        frame["error"] = frame["error"].fillna("")
        # A failed model has no fold count; keep the others' counts integers (2, not 2.0).
        frame["n_folds"] = frame["n_folds"].astype("Int64")
    return frame.sort_values("uar", ascending=False, kind="stable",
                             na_position="last").reset_index(drop=True)


def format_leaderboard(records):
    """A plain-text leaderboard for the terminal; a failed model's row gives its error."""
    noisy = _condition_keys(records)
    # uar_snr20 is shown as snr20; agreement keys keep their agree_ prefix.
    labels = {k: k[4:] if k.startswith("uar_") else k for k in noisy}
    widths = {k: max(7, len(labels[k])) for k in noisy}  # babble10 is wider than a UAR
    lines = [f"{'model':<12} {'UAR':>6} {'95% CI':>15} {'WA':>6} {'macro-F1':>8} {'fit s':>8}"
             + "".join(f" {labels[k]:>{widths[k]}}" for k in noisy)]
    for row in leaderboard(records).to_dict(orient="records"):
        if row.get("error"):
            lines.append(f"{row['model']:<12} failed: {row['error']}")
            continue
        ci = f"[{row['uar_ci_low']:.3f}, {row['uar_ci_high']:.3f}]"
        lines.append(f"{row['model']:<12} {row['uar']:>6.3f} {ci:>15} {row['wa']:>6.3f} "
                     f"{row['macro_f1']:>8.3f} {row['fit_seconds']:>8.1f}"
                     + "".join(f" {row[k]:>{widths[k]}.3f}" for k in noisy))
    return "\n".join(lines)


def write_outputs(output, corpus, records, reports, *, command=""):
    """Write results.json, results.csv, report.md and one confusion-matrix PNG per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    (output / "results.json").write_text(json.dumps(records, indent=2) + "\n")
    leaderboard(records).to_csv(output / "results.csv", index=False)
    figures = {}
    for name, report in reports.items():
        fig, ax = plt.subplots(figsize=(6, 5))
        report.plot_confusion_matrix(ax=ax)
        ax.set_title(f"{name} on {corpus.name}: UAR {report.uar:.3f}")
        fig.tight_layout()
        figures[name] = f"confusion_{name}.png"
        fig.savefig(output / figures[name], dpi=100)
        plt.close(fig)
    (output / "report.md").write_text(_markdown_report(corpus, records, reports, figures, command))
    return output


def _markdown_table(frame, floatfmt="{:.3f}"):
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = []
    for row in frame.itertuples(index=False):
        cells = [_cell(v, floatfmt) for v in row]
        body.append("| " + " | ".join(cells) + " |")
    return "\n".join([header, rule, *body])


def _cell(value, floatfmt):
    if value is None or (isinstance(value, (float, np.floating)) and np.isnan(value)):
        return ""  # the scores of a failed model
    if isinstance(value, (float, np.floating)):
        return floatfmt.format(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        return ", ".join(str(v) for v in value)
    return str(value).replace("|", "\\|")  # a "|" in an error message would split the cell


def _markdown_report(corpus, records, reports, figures, command):
    classes, counts = np.unique(corpus.target, return_counts=True)
    errors = ["error"] if failed(records) else []
    board = leaderboard(records)[["model", "uar", "uar_ci_low", "uar_ci_high", "wa",
                                  "macro_f1", "fit_seconds", *_condition_keys(records),
                                  *errors]]
    # The fold count comes from a model that ran; a failed one may not have got that far.
    ran = [r for r in records if not r.get("error")] or records
    parts = [
        f"# sklearn_ser benchmark: {corpus.name}",
        "",
        f"- command: `{command}`" if command else "",
        f"- protocol: {ran[0]['protocol']} ({ran[0]['n_folds'] or '?'} folds, "
        "speaker-independent: no speaker in both training and test)",
        f"- clips: {len(corpus.clips)}, speakers: {len(np.unique(corpus.groups))}, "
        f"sample rate: {corpus.sr} Hz",
        "- classes: " + ", ".join(f"{c} ({n})" for c, n in zip(classes, counts)),
        f"- sklearn_ser {__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}, {time.strftime('%Y-%m-%d')}",
        "- UAR: unweighted average recall of the pooled out-of-fold predictions; CI: 95% "
        "speaker bootstrap; WA: accuracy; fit s: training time summed over folds.",
        "",
        "## Leaderboard",
        "",
        _markdown_table(board),
    ]
    for record in failed(records):
        parts += ["", f"## {record['model']}", "", f"Failed: {record['error']}"]
    for name, report in reports.items():
        # per_class lists the classes of y_true; a class only ever predicted has no recall.
        recall = report.per_class.loc[[c for c in report.labels if c in report.per_class.index],
                                      "recall"]
        per_fold = report.per_fold[["test_speakers", "n_test", "uar", "wa"]]
        parts += [
            "",
            f"## {name}",
            "",
            "Recall per class: " + ", ".join(f"{c} {r:.2f}" for c, r in recall.items()),
            "",
            f"![confusion matrix of {name}]({figures[name]})",
            "",
            "<details><summary>Per fold</summary>",
            "",
            _markdown_table(per_fold),
            "",
            "</details>",
        ]
    return "\n".join(p for p in parts if p is not None) + "\n"
