"""CCC of the regressors with and without noisy training copies, clean and in noise.

``make_regression_pipeline(kind, speaker_norm=..., noise_augmentation=...)`` end to end
through :func:`~sklearn_ser.model_selection.evaluate` (``--models``: ``svr-sn`` by default):
no copies against two noisy copies of every training clip (made as the classic pipelines
make theirs), on the clean test clips and on the test clips in white noise and in babble of
other speakers at 20 and 10 dB SNR (training clips clean; the test conditions are seeded,
the same for both variants). Folds: leave one speaker out on the synthetic corpus (420
clips, 8 speakers, seed 0) and EmoDB (arousal derived from the category); RAVDESS in 6
speaker-grouped folds (intensity levels and derived arousal), as ``sklearn-ser benchmark
--target`` runs them.

Usage::

    python benchmarks/bench_regression_noise.py --emodb $SKLEARN_SER_EMODB \
        --ravdess $SKLEARN_SER_RAVDESS --cache-dir /tmp/regnoise-cache \
        --output benchmarks/results/regression_noise.json
"""

import argparse
import json
import time
import warnings

CASES = (("synthetic", "arousal", "loso"), ("synthetic", "valence", "loso"),
         ("synthetic", "intensity", "loso"), ("emodb", "arousal", "loso"),
         ("ravdess", "intensity", "kfold:6"), ("ravdess", "arousal", "kfold:6"))
SNRS, NOISES = [20, 10], ["white", "babble"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--emodb", default=None, help="EmoDB folder (skipped without)")
    parser.add_argument("--ravdess", default=None, help="RAVDESS folder (skipped without)")
    parser.add_argument("--cache-dir", default=None, help="feature cache (joblib.Memory)")
    parser.add_argument("--copies", default="0,2", help="noisy copies per clip to compare")
    parser.add_argument("--models", default="svr-sn",
                        help="svr-sn, svr, ridge-sn or ridge, comma-separated")
    parser.add_argument("--cases", default=None,
                        help="corpus:target pairs to run (default: all that have data)")
    parser.add_argument("--output", required=True, help="JSON file of the rows")
    args = parser.parse_args(argv)

    from sklearn_ser.cli._benchmark import load_corpus
    from sklearn_ser.model_selection import evaluate
    from sklearn_ser.pipelines import make_regression_pipeline

    warnings.simplefilter("ignore")
    dirs = {"synthetic": None, "emodb": args.emodb, "ravdess": args.ravdess}
    rows = []
    chosen = None if args.cases is None else set(args.cases.split(","))
    for name, target, cv in CASES:
        if name != "synthetic" and not dirs[name]:
            continue
        if chosen is not None and f"{name}:{target}" not in chosen:
            continue
        corpus = load_corpus(name, data_dir=dirs[name], target=target)
        for model_name, copies in [(m, int(c)) for m in args.models.split(",")
                                   for c in args.copies.split(",")]:
            kind, _, sn = model_name.partition("-")
            model = make_regression_pipeline(kind, speaker_norm=sn == "sn",
                                             noise_augmentation=copies,
                                             memory=args.cache_dir, random_state=0)
            start = time.perf_counter()
            report = evaluate(model, corpus.clips, corpus.target, groups=corpus.groups, cv=cv,
                              test_snr=SNRS, test_noise=NOISES, random_state=0)
            row = {"corpus": name, "target": target, "cv": cv, "model": model_name,
                   "noisy_copies": copies,
                   "ccc": round(report.ccc, 4), "pearson": round(report.pearson, 4),
                   "mae": round(report.mae, 4),
                   **{f"ccc_{k}": round(v, 4) for k, v in report.ccc_by_condition.items()},
                   "seconds": round(time.perf_counter() - start, 1)}
            rows.append(row)
            print(json.dumps(row), flush=True)
            with open(args.output, "w") as f:
                json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
