"""Multi-task recogniser with continuous auxiliary heads on the synthetic corpus (issue 23, part 5).

The synthetic corpus (``make_emotional_speech``) generates each clip's arousal, valence and
intensity as ground truth beside its emotion. A dense :class:`MultiTaskClassifier` on the
speaker-normalised classic functionals (the ``svm-sn`` chain of ``make_classic_pipeline``
without training copies, its SVC replaced by the network) is trained, leave one speaker out,

* ``single-task``: on the emotion alone;
* ``mtl <targets>``: on the emotion plus regression heads for the continuous targets
  (``fit(X, y, aux=DataFrame)``; float columns are regression tasks, standardised, squared
  error, weight ``--aux-weight``).

For each it reports the emotion UAR of the pooled out-of-fold predictions and, for the
multi-task models, the CCC, Pearson r and MAE of each auxiliary head's predictions
(``predict_aux``) on the held-out speakers, with a 95% speaker-bootstrap interval of the CCC.
The reference for the CCC is the dedicated regressor ``svr-sn`` on the same corpus and folds
(``make_regression_pipeline("svr", speaker_norm=True)``), run here too unless ``--no-svr``.
Several network seeds are run; the table gives the mean over seeds and their spread.

Usage::

    python benchmarks/bench_multitask_continuous.py \\
        --json benchmarks/results/multitask_continuous_synthetic.json
"""

import argparse
import json
import platform
import subprocess
import time

import numpy as np
import pandas as pd
import sklearn

from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.metrics import (
    concordance_correlation_coefficient,
    continuous_confidence_intervals,
    unweighted_average_recall,
)
from sklearn_ser.model_selection import LeaveOneSpeakerOut
from sklearn_ser.neural import MultiTaskClassifier
from sklearn_ser.pipelines import make_classic_pipeline, make_regression_pipeline
from sklearn_ser.utils import request_speakers

TARGETS = ("arousal", "valence", "intensity")


def network_pipeline(memory, seed, aux_weight):
    """The ``svm-sn`` chain without copies, ending in a dense multi-task network."""
    pipe = make_classic_pipeline("svm", speaker_norm=True, reduce=None, speed_perturbation=None,
                                 noise_augmentation=None, memory=memory)
    network = MultiTaskClassifier(hidden_layer_sizes=(256, 128), aux_weight=aux_weight,
                                  max_epochs=100, random_state=seed, device="cpu")
    network.set_fit_request(groups=True, aux=True)
    pipe.steps[-1] = ("multitaskclassifier", network)
    return pipe


def run_network(corpus, splits, targets, *, memory, seed, aux_weight):
    """Out-of-fold emotion predictions and auxiliary predictions of one seed."""
    clips, y, groups = list(corpus.data), corpus.target, corpus.groups
    y_pred = np.empty(len(y), dtype=object)
    aux_pred = {name: np.full(len(y), np.nan) for name in targets}
    aux = corpus.frame[list(targets)].astype(float) if targets else None
    for train, test in splits:
        pipe = network_pipeline(memory, seed, aux_weight)
        fit_params = {"groups": groups[train]}
        if aux is not None:
            fit_params["aux"] = aux.iloc[train].reset_index(drop=True)
        pipe.fit([clips[i] for i in train], y[train], **fit_params)
        test_clips = [clips[i] for i in test]
        y_pred[test] = pipe.predict(test_clips, groups=groups[test])
        if targets:
            features = pipe[:-1].transform(test_clips, groups=groups[test])
            for name, values in pipe[-1].predict_aux(features).items():
                aux_pred[name][test] = values
    return y_pred, aux_pred


def run_svr(corpus, splits, target, *, memory):
    """Out-of-fold predictions of the dedicated regressor ``svr-sn``."""
    clips, groups = list(corpus.data), corpus.groups
    values = corpus.frame[target].to_numpy(dtype=float)
    pred = np.full(len(values), np.nan)
    for train, test in splits:
        pipe = make_regression_pipeline("svr", speaker_norm=True, memory=memory)
        request_speakers(pipe)
        pipe.fit([clips[i] for i in train], values[train], groups=groups[train])
        pred[test] = pipe.predict([clips[i] for i in test], groups=groups[test])
    return pred


def continuous_scores(truth, pred, groups):
    low, high = continuous_confidence_intervals(truth, pred, groups)["ccc"]
    return {"ccc": float(concordance_correlation_coefficient(truth, pred)),
            "ccc_ci": [float(low), float(high)],
            "pearson": float(np.corrcoef(truth, pred)[0, 1]),
            "mae": float(np.mean(np.abs(truth - pred)))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-samples", type=int, default=420)
    parser.add_argument("--n-speakers", type=int, default=8)
    parser.add_argument("--seeds", default="0,1,2", help="network seeds")
    parser.add_argument("--aux-weight", type=float, default=0.3)
    parser.add_argument("--cache-dir", default=None, help="joblib cache of the features")
    parser.add_argument("--no-svr", action="store_true", help="skip the svr-sn reference")
    parser.add_argument("--json", required=True)
    args = parser.parse_args(argv)

    corpus = make_emotional_speech(args.n_samples, n_speakers=args.n_speakers, random_state=0)
    splits = list(LeaveOneSpeakerOut().split(corpus.data, corpus.target, corpus.groups))
    seeds = [int(s) for s in args.seeds.split(",")]
    variants = {"single-task": (), "mtl intensity": ("intensity",), "mtl all three": TARGETS}
    results = {"corpus": f"make_emotional_speech({args.n_samples}, n_speakers="
                          f"{args.n_speakers}, random_state=0)",
               "protocol": "leave one speaker out", "seeds": seeds,
               "aux_weight": args.aux_weight, "rows": []}
    with sklearn.config_context(enable_metadata_routing=True):
        for variant, targets in variants.items():
            for seed in seeds:
                start = time.perf_counter()
                y_pred, aux_pred = run_network(corpus, splits, targets, memory=args.cache_dir,
                                               seed=seed, aux_weight=args.aux_weight)
                row = {"model": variant, "seed": seed,
                       "uar": float(unweighted_average_recall(corpus.target, y_pred)),
                       "seconds": time.perf_counter() - start}
                for name in targets:
                    truth = corpus.frame[name].to_numpy(dtype=float)
                    row[name] = continuous_scores(truth, aux_pred[name], corpus.groups)
                print(json.dumps(row), flush=True)
                results["rows"].append(row)
        if not args.no_svr:
            for name in TARGETS:
                truth = corpus.frame[name].to_numpy(dtype=float)
                pred = run_svr(corpus, splits, name, memory=args.cache_dir)
                row = {"model": "svr-sn", "target": name,
                       **continuous_scores(truth, pred, corpus.groups)}
                print(json.dumps(row), flush=True)
                results["rows"].append(row)
    results["environment"] = {
        "python": platform.python_version(), "machine": platform.machine(),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                 text=True).stdout.strip(),
        "date": time.strftime("%Y-%m-%d")}
    with open(args.json, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
