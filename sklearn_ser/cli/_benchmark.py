"""``sklearn-ser benchmark``: a speaker-independent comparison of recognisers on one corpus.

With ``--target arousal|valence|intensity`` the models are regressors of that continuous
target and the records carry CCC, Pearson's r and MAE instead of UAR.
"""

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

#: Record keys of results.json for a continuous target (``--target arousal`` ...).
REGRESSION_RECORD_KEYS = (
    "model", "dataset", "protocol", "target", "n_folds", "ccc", "ccc_ci_low", "ccc_ci_high",
    "pearson", "pearson_ci_low", "pearson_ci_high", "mae", "fit_seconds",
)

DATASETS = ("synthetic", "emodb", "ravdess", "tess", "cremad", "folder")

#: Targets of ``--target``: the emotion category, or a continuous one.
TARGETS = ("emotion", "arousal", "valence", "intensity")

#: Models of a benchmark without --models: one of each classic family.
DEFAULT_MODELS = "svm,nb,dt"
#: Models of a continuous target when ``--models`` is not given: the SVR that also learns from
#: the corpus's emotion labels (every corpus the command loads has them), beside the same SVR
#: on the features alone; the first was better on every corpus and target measured
#: (benchmarks/README.md, "Category probabilities beside the features").
DEFAULT_REGRESSION_MODELS = "svr-cat-sn,svr-sn"


def add_target_argument(parser):
    """Add ``--target`` to the benchmark's argument parser."""
    parser.add_argument(
        "--target", choices=TARGETS, default="emotion",
        help="what the models predict (default: emotion, the category, scored by UAR). "
        "arousal, valence, intensity: a continuous target scored by CCC, Pearson r and MAE, "
        "with regressors (svr, ridge, cnn-reg, lstm-reg, crnn-reg, each also -sn; default "
        f"models: {DEFAULT_REGRESSION_MODELS}). The synthetic corpus generates all three per "
        "clip; on the other corpora arousal and valence are derived from the emotion category "
        "(datasets.EMOTION_DIMENSIONS) and intensity is RAVDESS's normal/strong or "
        "CREMA-D's low/medium/high level")


def default_models(models, target):
    """The ``--models`` text, or the default models of ``target`` when it is None."""
    if models is not None:
        return models
    return DEFAULT_MODELS if target == "emotion" else DEFAULT_REGRESSION_MODELS


@dataclass
class Corpus:
    """Clips, labels and speakers of the corpus under test."""

    name: str
    clips: list
    target: np.ndarray
    groups: np.ndarray
    sr: int
    target_name: str = "emotion"
    #: The emotion labels, for a continuous target's models that learn from them too.
    categories: np.ndarray = None

    @property
    def continuous(self):
        """Whether the target is a continuous one (arousal, valence, intensity)."""
        return self.target_name != "emotion"


def load_corpus(name, *, data_dir=None, sr=16000, n_samples=420, random_state=0, n_jobs=None,
                verbose=0, target="emotion"):
    """Load a corpus by benchmark name as clips, targets and speaker groups.

    ``target`` is ``"emotion"`` (the labels) or a continuous target: the synthetic corpus's
    own ``arousal``, ``valence`` or ``intensity``; on the other corpora arousal and valence
    derived from the category (``datasets.emotion_dimensions``) and intensity from the
    frame's ``intensity`` levels (RAVDESS, CREMA-D), leaving out, with a warning, the clips
    whose level is unspecified.
    """
    from .. import datasets

    if target not in TARGETS:
        raise SystemExit(f"Unknown target {target!r}; choose from {', '.join(TARGETS)}.")
    if name == "synthetic":
        bunch = datasets.make_emotional_speech(n_samples, sr=sr, random_state=random_state)
        values = bunch.target if target == "emotion" else bunch[target]
        return Corpus(name, list(bunch.data), np.asarray(values), np.asarray(bunch.groups), sr,
                      target, np.asarray(bunch.target))
    if name == "folder" and data_dir is None:
        raise SystemExit("--dataset folder needs --data-dir PATH (sub-folders named by label).")
    loader = getattr(datasets, f"load_{name}")
    bunch = loader(data_dir, return_clips=True, sr=sr, n_jobs=n_jobs, verbose=verbose)
    clips, groups = list(bunch.data), np.asarray(bunch.groups)
    values = np.asarray(bunch.target) if target == "emotion" else _continuous_target(
        name, bunch, target)
    keep = np.flatnonzero(~np.isnan(values)) if target != "emotion" else np.arange(len(clips))
    if len(keep) < len(clips):
        from .._validation import warn_user
        from ..exceptions import DataWarning

        warn_user(f"{len(clips) - len(keep)} of {len(clips)} {name} clips have no {target} "
                  f"value (level 'unspecified') and are left out of the benchmark.",
                  DataWarning)
    return Corpus(name, [clips[i] for i in keep], values[keep], groups[keep], sr, target,
                  np.asarray(bunch.target)[keep])


def _continuous_target(name, bunch, target):
    """The continuous ``target`` of a loaded corpus, NaN where a clip has none."""
    from .. import datasets

    if target == "intensity":
        if "intensity" not in bunch.frame:
            raise SystemExit(f"--target intensity needs a corpus with intensity levels "
                             f"(ravdess, cremad, synthetic); {name} has none.")
        return datasets.intensity_scores(bunch.frame["intensity"])
    try:
        return datasets.emotion_dimensions(bunch.target)[target].to_numpy(dtype=float)
    except ValueError as exc:
        raise SystemExit(f"--target {target} on {name}: {exc}") from None


def _category_fit_params(model, corpus):
    """``fit_params`` handing the corpus's emotion labels to a model that learns from them
    (``svr-cat``: a ``CategoryStackingRegressor`` asks for ``categories``), else None."""
    from ..utils import requested_metadata

    wanted = requested_metadata(model, "fit", ("categories",))
    return {"categories": corpus.categories} if wanted else None


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
                              test_padding=test_padding,
                              fit_params=_category_fit_params(model, corpus))
        except Exception as exc:  # noqa: BLE001 - one failing model must not lose the others
            records.append(failed_record(name, corpus.name, cv, exc,
                                         target=corpus.target_name))
            if verbose:
                print(f"[{name}] failed: {records[-1]['error']}", flush=True)
            continue
        wall = time.perf_counter() - start
        reports[name] = report
        records.append(_record(name, corpus.name, cv, report, target=corpus.target_name))
        if verbose:
            score = (f"CCC {report.ccc:.3f}" if corpus.continuous
                     else f"UAR {report.uar:.3f}")
            print(f"[{name}] {score} in {wall:.1f} s", flush=True)
    return records, reports


def describe_error(exc):
    """``"ValueError: message"`` on one line, for a table cell."""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def failed_record(model, dataset, protocol, exc, *, target="emotion"):
    """The record of a model whose evaluation raised: no scores, and the error."""
    record = dict.fromkeys(RECORD_KEYS if target == "emotion" else REGRESSION_RECORD_KEYS)
    record.update(model=model, dataset=dataset, protocol=protocol, error=describe_error(exc))
    if target != "emotion":
        record["target"] = target
    return record


def _is_regression(records):
    return any("ccc" in record for record in records)


def _regression_record(model, dataset, protocol, report, target):
    values = {"model": model, "dataset": dataset, "protocol": protocol, "target": target,
              "n_folds": int(report.n_folds)}
    values.update({key: getattr(report, key) for key in REGRESSION_RECORD_KEYS[5:]})
    for condition, ccc in (report.ccc_by_condition or {}).items():
        if condition != "clean":
            values[f"ccc_{condition}"] = ccc
    return {k: (None if isinstance(v, float) and np.isnan(v) else v)
            for k, v in _rounded(values).items()}


def _rounded(values):
    return {k: (round(float(v), 4) if isinstance(v, (float, np.floating)) else v)
            for k, v in values.items()}


def failed(records):
    """The records of the models that failed, in run order."""
    return [r for r in records if r.get("error")]


def _record(model, dataset, protocol, report, *, target="emotion"):
    if target != "emotion":
        return _regression_record(model, dataset, protocol, report, target)
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
        keys += [k for k in record if k.startswith(("uar_", "agree_", "ccc_"))
                 and k not in RECORD_KEYS and k not in REGRESSION_RECORD_KEYS
                 and k not in keys]
    return keys


def leaderboard(records):
    """Records as a DataFrame sorted by UAR, best first; failed models last.

    An ``error`` column is added when some model failed: empty for the others.
    """
    regression = _is_regression(records)
    keys = REGRESSION_RECORD_KEYS if regression else RECORD_KEYS
    columns = list(keys) + _condition_keys(records)
    if failed(records):
        columns.append("error")
    frame = pd.DataFrame(records, columns=columns)
    if "error" in frame:
        frame["error"] = frame["error"].fillna("")
        # A failed model has no fold count; keep the others' counts integers (2, not 2.0).
        frame["n_folds"] = frame["n_folds"].astype("Int64")
    return frame.sort_values("ccc" if regression else "uar", ascending=False, kind="stable",
                             na_position="last").reset_index(drop=True)


def format_leaderboard(records):
    """A plain-text leaderboard for the terminal; a failed model's row gives its error.

    Labels: UAR with its interval, WA and macro-F1; continuous targets: CCC with its
    interval, Pearson's r and MAE. Then the fit time and one column per test condition.
    """
    regression = _is_regression(records)
    score = "ccc" if regression else "uar"
    figures = ([("Pearson", "pearson", 7), ("MAE", "mae", 6)] if regression
               else [("WA", "wa", 6), ("macro-F1", "macro_f1", 8)])
    noisy = _condition_keys(records)
    # uar_snr20 is shown as snr20; agreement keys keep their agree_ prefix.
    labels = {k: k[4:] if k.startswith("uar_") else k for k in noisy}
    widths = {k: max(7, len(labels[k])) for k in noisy}  # babble10 is wider than a UAR
    lines = [f"{'model':<12} {score.upper():>6} {'95% CI':>15}"
             + "".join(f" {title:>{width}}" for title, _, width in figures)
             + f" {'fit s':>8}" + "".join(f" {labels[k]:>{widths[k]}}" for k in noisy)]
    for row in leaderboard(records).to_dict(orient="records"):
        if row.get("error"):
            lines.append(f"{row['model']:<12} failed: {row['error']}")
            continue
        ci = f"[{_num(row[score + '_ci_low'])}, {_num(row[score + '_ci_high'])}]"
        lines.append(f"{row['model']:<12} {_num(row[score]):>6} {ci:>15}"
                     + "".join(f" {_num(row[key]):>{width}}" for _, key, width in figures)
                     + f" {row['fit_seconds']:>8.1f}"
                     + "".join(f" {_num(row[k]):>{widths[k]}}" for k in noisy))
    return "\n".join(lines)


def _num(value):
    return "n/a" if value is None or (isinstance(value, float) and np.isnan(value)) \
        else f"{value:.3f}"


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
        if corpus.continuous:
            report.plot_predictions(ax=ax)
            ax.set_title(f"{name} on {corpus.name} {corpus.target_name}: CCC {report.ccc:.3f}")
            figures[name] = f"predictions_{name}.png"
        else:
            report.plot_confusion_matrix(ax=ax)
            ax.set_title(f"{name} on {corpus.name}: UAR {report.uar:.3f}")
            figures[name] = f"confusion_{name}.png"
        fig.tight_layout()
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


def _report_head(corpus, records, command, *, title, columns, corpus_line, legend):
    """The lines every Markdown report opens with: title, run facts, the leaderboard of
    ``columns`` (with the fit time, the test conditions and any errors), then a section per
    failed model."""
    errors = ["error"] if failed(records) else []
    board = leaderboard(records)[["model", *columns, "fit_seconds", *_condition_keys(records),
                                  *errors]]
    # The fold count comes from a model that ran; a failed one may not have got that far.
    ran = [r for r in records if not r.get("error")] or records
    parts = [
        f"# sklearn_ser benchmark: {title}",
        "",
        f"- command: `{command}`" if command else "",
        f"- protocol: {ran[0]['protocol']} ({ran[0]['n_folds'] or '?'} folds, "
        "speaker-independent: no speaker in both training and test)",
        f"- clips: {len(corpus.clips)}, speakers: {len(np.unique(corpus.groups))}, "
        f"sample rate: {corpus.sr} Hz",
        corpus_line,
        f"- sklearn_ser {__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}, {time.strftime('%Y-%m-%d')}",
        legend,
        "",
        "## Leaderboard",
        "",
        _markdown_table(board),
    ]
    for record in failed(records):
        parts += ["", f"## {record['model']}", "", f"Failed: {record['error']}"]
    return parts


def _markdown_report(corpus, records, reports, figures, command):
    if corpus.continuous:
        return _markdown_regression_report(corpus, records, reports, figures, command)
    classes, counts = np.unique(corpus.target, return_counts=True)
    parts = _report_head(
        corpus, records, command, title=corpus.name,
        columns=["uar", "uar_ci_low", "uar_ci_high", "wa", "macro_f1"],
        corpus_line="- classes: " + ", ".join(f"{c} ({n})" for c, n in zip(classes, counts)),
        legend="- UAR: unweighted average recall of the pooled out-of-fold predictions; CI: "
        "95% speaker bootstrap; WA: accuracy; fit s: training time summed over folds.")
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


def target_origin(corpus):
    """Where a corpus's continuous target comes from, in words (None for the categories)."""
    if not corpus.continuous:
        return None
    if corpus.name == "synthetic":
        return "generated with the clips"
    if corpus.target_name == "intensity":
        return "the corpus's intensity levels"
    return "derived from the emotion category: datasets.EMOTION_DIMENSIONS"


def _markdown_regression_report(corpus, records, reports, figures, command):
    origin = target_origin(corpus)
    derived = f" ({origin})" if origin.startswith("derived") else ""
    target = np.asarray(corpus.target, dtype=float)
    parts = _report_head(
        corpus, records, command, title=f"{corpus.name}, {corpus.target_name}",
        columns=["ccc", "ccc_ci_low", "ccc_ci_high", "pearson", "mae"],
        corpus_line=f"- target: {corpus.target_name}{derived}, mean {target.mean():.3f}, "
        f"sd {target.std():.3f}, {len(np.unique(target))} distinct values",
        legend="- CCC: Lin's concordance correlation of the pooled out-of-fold predictions; "
        "CI: 95% speaker bootstrap; Pearson: r; MAE: mean absolute error; fit s: training "
        "time summed over folds.")
    for name, report in reports.items():
        per_fold = report.per_fold[["test_speakers", "n_test", "ccc", "pearson", "mae"]]
        parts += ["", f"## {name}", "", f"![predictions of {name}]({figures[name]})", "",
                  "<details><summary>Per fold</summary>", "", _markdown_table(per_fold), "",
                  "</details>"]
    return "\n".join(p for p in parts if p is not None) + "\n"
