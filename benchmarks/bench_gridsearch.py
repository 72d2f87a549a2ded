"""No repeated work: a grid search extracts features once per fold, not once per fit.

A 20-point grid (5 values of C x 4 of gamma) over the RBF SVM of ``make_classic_pipeline("svm")``
(MFCC, LPCC, spectral and prosodic functionals), 5 speaker-grouped stratified folds on EmoDB,
run twice in one process:

* ``uncached``: ``make_classic_pipeline("svm")``: every candidate re-extracts its fold's
  training and test clips (100 fits, then the refit);
* ``cached``: ``make_classic_pipeline("svm", memory=DIR)``: the extractors cache their features
  on the clips and parameters, so each fold's clips are extracted once, then the refit.

The script counts the clips each extractor actually extracts (a counting wrapper around the
extraction, cache hits excluded) and prints them as passes over the corpus, with the time of
each run and the ratio uncached / cached.

Usage::

    python benchmarks/bench_gridsearch.py --data-dir "$SKLEARN_SER_EMODB" \
        --json benchmarks/results/bench_gridsearch.json
    python benchmarks/bench_gridsearch.py --dataset synthetic    # no EmoDB needed
"""

import argparse
import json
import os
import platform
import tempfile
import time
from collections import Counter

import numpy as np
from sklearn.model_selection import GridSearchCV

from sklearn_ser.features._base import _PooledFrameExtractor
from sklearn_ser.metrics import uar_scorer
from sklearn_ser.model_selection import SpeakerStratifiedKFold
from sklearn_ser.pipelines import make_classic_pipeline

GRID = {"svc__C": [0.3, 1.0, 3.0, 10.0, 30.0], "svc__gamma": ["scale", 3e-4, 1e-3, 3e-3]}
N_FOLDS = 5


def load(args):
    if args.dataset == "synthetic":
        from sklearn_ser.datasets import make_emotional_speech

        bunch = make_emotional_speech(args.n_samples, random_state=0)
    else:
        from sklearn_ser.datasets import load_emodb

        bunch = load_emodb(args.data_dir, return_clips=True, n_jobs=2)
    return list(bunch.data), np.asarray(bunch.target), np.asarray(bunch.groups)


class ExtractionCounter:
    """Counts the clips each extractor class really extracts (cache hits never get here)."""

    def __init__(self):
        self.clips = Counter()
        self._original = _PooledFrameExtractor._extract

    def __enter__(self):
        original, clips = self._original, self.clips

        def counting(extractor, batch):
            clips[type(extractor).__name__] += len(batch)
            return original(extractor, batch)

        _PooledFrameExtractor._extract = counting
        return self

    def __exit__(self, *exc):
        _PooledFrameExtractor._extract = self._original


def run(mode, X, y, groups, cache_dir):
    memory = cache_dir if mode == "cached" else None
    search = GridSearchCV(make_classic_pipeline("svm", memory=memory), GRID,
                          cv=SpeakerStratifiedKFold(N_FOLDS), scoring=uar_scorer, n_jobs=1)
    with ExtractionCounter() as counter:
        start = time.perf_counter()
        search.fit(X, y, groups=groups)
        seconds = time.perf_counter() - start
    # Every extractor sees the same clips; report the passes of one (they are equal).
    passes = {name: n / len(X) for name, n in counter.clips.items()}
    return {
        "seconds": seconds,
        "corpus_passes": max(passes.values()),
        "passes_per_extractor": passes,
        "best_params": {k: v for k, v in search.best_params_.items()},
        "best_uar": float(search.best_score_),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("emodb", "synthetic"), default="emodb")
    parser.add_argument("--data-dir", default=os.environ.get("SKLEARN_SER_EMODB"))
    parser.add_argument("--n-samples", type=int, default=280, help="synthetic corpus size")
    parser.add_argument("--json", default=None, help="write the figures to this JSON file")
    args = parser.parse_args()

    X, y, groups = load(args)
    n_candidates = len(GRID["svc__C"]) * len(GRID["svc__gamma"])
    results = {}
    with tempfile.TemporaryDirectory() as cache_dir:
        for mode in ("uncached", "cached"):
            results[mode] = run(mode, X, y, groups, cache_dir)
            print(f"{mode}: {results[mode]['seconds']:.1f} s", flush=True)
    ratio = results["uncached"]["seconds"] / results["cached"]["seconds"]
    same = results["uncached"]["best_params"] == results["cached"]["best_params"]

    audio_s = sum(len(c) for c in X) / 16000
    print(f"\n{n_candidates}-point grid x {N_FOLDS} speaker-grouped folds on {args.dataset} "
          f"({len(X)} clips, {audio_s / 60:.1f} min of audio)\n")
    print("| run | fits | corpus passes of feature extraction | seconds | best UAR |")
    print("|---|---|---|---|---|")
    for mode, r in results.items():
        print(f"| {mode} | {n_candidates * N_FOLDS} + refit | {r['corpus_passes']:.1f} | "
              f"{r['seconds']:.1f} | {r['best_uar']:.3f} |")
    print(f"\nuncached / cached time: {ratio:.1f}x; same best parameters: {same}")
    print(f"Expected passes: cached = {N_FOLDS} folds x (training + test = 1 pass) + refit = "
          f"{N_FOLDS + 1}; uncached = {n_candidates * N_FOLDS} + 1.")

    if args.json:
        figures = {
            "dataset": args.dataset, "n_clips": len(X), "audio_minutes": audio_s / 60,
            "n_candidates": n_candidates, "n_folds": N_FOLDS, **results,
            "ratio_uncached_over_cached": ratio, "same_best_params": same,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "load_avg": os.getloadavg()},
        }
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
        print(f"Wrote {args.json}")


if __name__ == "__main__":
    main()
