"""CCC of the regressors with and without ``ConcordantRegressor``'s rescaling, on both corpora.

A screening on precomputed features: the default five feature sets are extracted once per
corpus (cached under ``--cache-dir``) and standardised per speaker (each speaker by their own
clips, as ``SpeakerNormalizer`` does for training and test speakers alike), then every fold
fits ``StandardScaler -> ConcordantRegressor(SVR or RidgeCV)`` on its training speakers, with
``rescale=False`` and ``rescale=True`` on the same folds. The speakers reach the rescaling's
inner folds as they do inside ``make_regression_pipeline``. Folds: leave one speaker out on
the synthetic corpus (420 clips, 8 speakers, seed 0) and EmoDB; RAVDESS in the benchmark's 6
speaker-grouped folds (``--cv kfold:6``). End-to-end figures of the pipelines come from
``sklearn-ser benchmark --target ...`` (``benchmarks/results/continuous-rescaled/``).

``--svr-grid`` screens the SVR's own settings instead, on the same folds and features, all
rescaled: gamma at 0.1, 0.3, 1 and 3 times scikit-learn's "scale" (1 / n_features on the
standardised features), C at 1, 3 and 10, epsilon at 0.1 and 0.3 (of the standardised
target).

``--select`` screens feature selection before the default SVR: the k functionals most
correlated with the target in each fold's training speakers (``SelectKBest(f_regression)``),
k at 200, 300 and 500 against all of them.

Usage::

    python benchmarks/bench_rescaling.py --emodb $SKLEARN_SER_EMODB \
        --ravdess $SKLEARN_SER_RAVDESS --cache-dir /tmp/rescale-cache \
        --output benchmarks/results/rescaling_screen.json
    python benchmarks/bench_rescaling.py --svr-grid ... --output svr_grid.jsonl
    python benchmarks/bench_rescaling.py --select ... --output select.jsonl
"""

import argparse
import json
import time
import warnings

import numpy as np

CASES = (("synthetic", "arousal"), ("synthetic", "valence"), ("synthetic", "intensity"),
         ("emodb", "arousal"), ("ravdess", "intensity"), ("ravdess", "arousal"))


def speaker_features(name, data_dir, target, memory):
    """Default features of a corpus, standardised per speaker, its targets and speakers."""
    from sklearn_ser.cli._benchmark import load_corpus
    from sklearn_ser.features import SpeakerNormalizer
    from sklearn_ser.pipelines import make_features

    corpus = load_corpus(name, data_dir=data_dir, target=target)
    _, features = make_features(memory=memory)
    X = features.fit_transform(corpus.clips)
    groups = np.asarray(corpus.groups)
    return (SpeakerNormalizer().fit_transform(X, groups=groups),
            np.asarray(corpus.target, dtype=float), groups)


def folds(name, X, y, groups):
    from sklearn.model_selection import LeaveOneGroupOut

    from sklearn_ser.model_selection import SpeakerStratifiedKFold

    if name == "ravdess":  # as evaluate's kfold:6 splits a continuous target: by quintile
        quintile = np.searchsorted(np.quantile(y, [0.2, 0.4, 0.6, 0.8]), y, side="right")
        return list(SpeakerStratifiedKFold(6).split(X, quintile, groups))
    return list(LeaveOneGroupOut().split(X, y, groups))


def out_of_fold(kind, rescale, X, y, groups, splits):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn_ser.pipelines import REGRESSORS, ConcordantRegressor

    pred = np.empty(len(y))
    for train, test in splits:
        model = make_pipeline(StandardScaler(),
                              ConcordantRegressor(REGRESSORS[kind](), rescale=rescale))
        model.fit(X[train], y[train], concordantregressor__groups=groups[train])
        pred[test] = model.predict(X[test])
    return pred


SVR_GRID = [(g, c, e) for g in (0.1, 0.3, 1.0, 3.0) for c in (1.0, 3.0, 10.0)
            for e in (0.1, 0.3)]


def svr_grid(name, target, X, y, groups, splits, output):
    """Rows of CCC for every SVR setting of ``SVR_GRID``, appended to ``output`` (JSONL)."""
    from sklearn.svm import SVR

    for gamma, C, epsilon in SVR_GRID:
        svr = SVR(C=C, epsilon=epsilon, gamma=gamma / X.shape[1])
        append_row(output, screened(name, target, [], svr, X, y, groups, splits),
                   gamma_times_scale=gamma, C=C, epsilon=epsilon)


SELECT_KS = (None, 200, 300, 500)


def select_screen(name, target, X, y, groups, splits, output):
    """Rows of CCC with the default SVR behind the k features most correlated with the
    target in the training speakers (``SelectKBest(f_regression)``, then standardised again),
    for every k of ``SELECT_KS`` (None: all features), appended to ``output`` (JSONL)."""
    from sklearn.feature_selection import SelectKBest, f_regression
    from sklearn.preprocessing import StandardScaler

    from sklearn_ser.pipelines import REGRESSORS

    for k in SELECT_KS:
        front = [] if k is None else [SelectKBest(f_regression, k=k), StandardScaler()]
        append_row(output, screened(name, target, front, REGRESSORS["svr"](), X, y, groups,
                                    splits), select_k=k)


def screened(name, target, front, regressor, X, y, groups, splits):
    """CCC and Pearson's r of ``StandardScaler -> front -> ConcordantRegressor(regressor)``,
    rescaled, over the folds."""
    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn_ser.metrics import concordance_correlation_coefficient as ccc
    from sklearn_ser.pipelines import ConcordantRegressor

    pred = np.empty(len(y))
    for train, test in splits:
        model = make_pipeline(StandardScaler(), *[clone(step) for step in front],
                              ConcordantRegressor(clone(regressor), rescale=True))
        model.fit(X[train], y[train], concordantregressor__groups=groups[train])
        pred[test] = model.predict(X[test])
    return {"corpus": name, "target": target, "ccc": round(ccc(y, pred), 4),
            "pearson": round(float(np.corrcoef(y, pred)[0, 1]), 4)}


def append_row(output, row, **setting):
    row = {**row, **setting}
    print(json.dumps(row), flush=True)
    with open(output, "a") as f:
        f.write(json.dumps(row) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--emodb", default=None, help="EmoDB folder (skipped without)")
    parser.add_argument("--ravdess", default=None, help="RAVDESS folder (skipped without)")
    parser.add_argument("--cache-dir", default=None, help="feature cache (joblib.Memory)")
    parser.add_argument("--kinds", default="svr,ridge", help="regressors (default: both)")
    parser.add_argument("--variants", default="plain,rescaled",
                        help="without and with the rescaling (default: both)")
    parser.add_argument("--svr-grid", action="store_true",
                        help="screen the SVR's gamma, C and epsilon instead (JSONL rows)")
    parser.add_argument("--select", action="store_true",
                        help="screen feature selection before the SVR instead (JSONL rows)")
    parser.add_argument("--output", required=True, help="JSON file of the rows")
    args = parser.parse_args(argv)

    from sklearn_ser.metrics import concordance_correlation_coefficient as ccc

    warnings.simplefilter("ignore")
    dirs = {"synthetic": None, "emodb": args.emodb, "ravdess": args.ravdess}
    rows = []
    for name, target in CASES:
        if name != "synthetic" and not dirs[name]:
            continue
        X, y, groups = speaker_features(name, dirs[name], target, args.cache_dir)
        splits = folds(name, X, y, groups)
        if args.svr_grid or args.select:
            screen = svr_grid if args.svr_grid else select_screen
            screen(name, target, X, y, groups, splits, args.output)
            continue
        for kind in args.kinds.split(","):
            row = {"corpus": name, "target": target, "model": f"{kind}-sn"}
            for key in args.variants.split(","):
                start = time.perf_counter()
                pred = out_of_fold(kind, key == "rescaled", X, y, groups, splits)
                row[f"ccc_{key}"] = ccc(y, pred)
                row[f"mae_{key}"] = float(np.mean(np.abs(y - pred)))
                row[f"seconds_{key}"] = time.perf_counter() - start
            row["pearson"] = float(np.corrcoef(y, pred)[0, 1])
            rows.append(row)
            print(f"{name:9s} {target:9s} {kind}-sn: " + ", ".join(
                f"{key} CCC {row['ccc_' + key]:.3f} MAE {row['mae_' + key]:.3f}"
                for key in args.variants.split(",")) + f" (r {row['pearson']:.3f})", flush=True)
            with open(args.output, "w") as f:
                json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
