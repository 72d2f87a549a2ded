"""Continuous targets with and without the emotion categories' probabilities beside the features.

A screening on precomputed features (the default five sets, speech frames), clean clips, no
noisy copies: per-speaker standardisation and a standard scaler fitted on the training
speakers, then ``ConcordantRegressor(SVR(C=3, epsilon=0.1))`` (the ``svr-sn`` regressor) on
the features alone (weight 0) or inside :class:`CategoryStackingRegressor` with each of
``--weights``. Folds: leave one speaker out (synthetic corpus, EmoDB), 6 speaker-grouped folds
(RAVDESS). CCC and Pearson r of the pooled out-of-fold predictions. The end-to-end figures of
the model names (``svr-sn`` against ``svr-cat-sn``) come from ``sklearn-ser benchmark
--target ...``; this script chose the weight.

Targets: the synthetic corpus's generated arousal, valence and intensity; RAVDESS intensity
(normal/strong, rated by the actors' instruction, not derived from the category) and
arousal/valence derived from the category on RAVDESS and EmoDB (``emotion_dimensions``: there
the category is the target, so its probabilities help by construction).

Usage: python benchmarks/bench_category_stacking.py --corpus synthetic --seed 0 \
           [--data-dir DIR] [--weights 0,1,2,4] [--output rows.jsonl] [--cache DIR]
"""

import argparse
import json
import warnings

import numpy as np
from joblib import Memory
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR

from sklearn_ser import datasets
from sklearn_ser.features import SpeakerNormalizer
from sklearn_ser.metrics import concordance_correlation_coefficient
from sklearn_ser.model_selection import make_cv
from sklearn_ser.pipelines import CategoryStackingRegressor, ConcordantRegressor, make_features


def load(corpus, data_dir, seed):
    """Clips, category labels, speakers and the continuous targets of a corpus."""
    if corpus == "synthetic":
        bunch = datasets.make_emotional_speech(420, sr=16000, random_state=seed)
        targets = {t: np.asarray(bunch[t], dtype=float)
                   for t in ("arousal", "valence", "intensity")}
        return list(bunch.data), np.asarray(bunch.target), np.asarray(bunch.groups), targets
    loader = {"emodb": datasets.load_emodb, "ravdess": datasets.load_ravdess}[corpus]
    bunch = loader(data_dir, return_clips=True, n_jobs=2)
    dims = datasets.emotion_dimensions(bunch.target)
    targets = {t: dims[t].to_numpy(dtype=float) for t in ("arousal", "valence")}
    if corpus == "ravdess":
        targets["intensity"] = np.asarray(datasets.intensity_scores(bunch.frame["intensity"]),
                                          dtype=float)
    return list(bunch.data), np.asarray(bunch.target), np.asarray(bunch.groups), targets


def features(memory, corpus, seed, clips):
    @memory.cache(ignore=["clips"])
    def extract(corpus, seed, clips):
        _, union = make_features(n_jobs=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return union.fit(clips[:2]).transform(clips)

    return extract(corpus, seed, clips)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=("synthetic", "emodb", "ravdess"), required=True)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seed", type=int, default=0, help="synthetic corpus seed")
    parser.add_argument("--weights", default="0,1,2,4")
    parser.add_argument("--output", default=None)
    parser.add_argument("--cache", default="/tmp/sser-category-cache")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    clips, labels, groups, targets = load(args.corpus, args.data_dir, args.seed)
    F = features(Memory(args.cache, verbose=0), args.corpus, args.seed, clips)
    weights = [float(w) for w in args.weights.split(",")]
    cv = make_cv("kfold:6" if args.corpus == "ravdess" else "loso")
    pred = {(t, w): np.zeros(len(labels)) for t in targets for w in weights}
    for train, test in cv.split(F, labels, groups):
        norm = SpeakerNormalizer()
        Z = norm.fit_transform(F[train], groups=groups[train])
        scaler = StandardScaler().fit(Z)
        Z_train = scaler.transform(Z)
        Z_test = scaler.transform(norm.transform(F[test], groups=groups[test]))
        for w in weights:
            for name, y in targets.items():
                model = ConcordantRegressor(SVR(C=3.0, epsilon=0.1))
                if w > 0:
                    model = CategoryStackingRegressor(model, weight=w)
                    model.fit(Z_train, y[train], categories=labels[train],
                              groups=groups[train])
                else:
                    model.fit(Z_train, y[train], groups=groups[train])
                pred[(name, w)][test] = model.predict(Z_test)
    for (name, w), p in pred.items():
        y = targets[name]
        row = {"corpus": args.corpus, "seed": args.seed if args.corpus == "synthetic" else None,
               "target": name, "weight": w,
               "ccc": round(float(concordance_correlation_coefficient(y, p)), 4),
               "pearson": round(float(np.corrcoef(y, p)[0, 1]), 4)}
        print(json.dumps(row), flush=True)
        if args.output:
            with open(args.output, "a") as out:
                out.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
