"""Leave-one-speaker-out sweep of deep-network variants on EmoDB, many runs at once.

Made for a GPU machine with many cores (it wrote ``results/emodb-deep-speed-gpu.md``), and it
runs on a CPU too, slowly. The log-mel frames of every clip, and of its speed-changed copies,
are extracted once with ``make_deep_pipeline``'s extractor and cached. Each variant then trains
the pipeline's network fold by fold, in its own process:

- the frames are standardised by the training clips of the fold, copies included;
- test clips are never changed;
- unless a variant says otherwise, the network trains on the pipeline's schedule.

Usage::

    python benchmarks/deep_variants.py --data-dir "$SKLEARN_SER_EMODB" --device cuda \
        --workers 16 --variants cnn,cnn_sp,crnn_sp --deadline 480 --json sweep.json

The script prints each finished variant and a table at the end: pooled UAR over all test
clips, and UAR per test speaker. Each finished fold is appended to ``--folds-log``, so the
folds of variants that the deadline stops are kept too. With ``--json PATH`` it writes
``{variant: {"uar": ..., "folds": {speaker: uar}, "seconds": ...}}``.
"""

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context

import numpy as np

SPEEDS = (0.9, 1.1)
MASKS = dict(time_masks=2, freq_masks=2)

#: name -> (network kind, options): seed, speed copies, network parameters.
VARIANTS = {
    "cnn": ("cnn", {}),
    "cnn_s1": ("cnn", dict(seed=1)),
    "cnn_s2": ("cnn", dict(seed=2)),
    "cnn_sp": ("cnn", dict(speed=True)),
    "cnn_sp_s1": ("cnn", dict(speed=True, seed=1)),
    "cnn_sp_s2": ("cnn", dict(speed=True, seed=2)),
    "cnn_sp_s3": ("cnn", dict(speed=True, seed=3)),
    "cnn_sp_mask": ("cnn", dict(speed=True, params=MASKS)),
    "cnn_mask": ("cnn", dict(params=MASKS)),
    "cnn_mask_s1": ("cnn", dict(params=MASKS, seed=1)),
    "cnn_e100": ("cnn", dict(params=dict(max_epochs=100))),
    "cnn_wd": ("cnn", dict(params=dict(weight_decay=5e-4))),
    "cnn_drop5": ("cnn", dict(params=dict(dropout=0.5))),
    "cnn_mixup": ("cnn", dict(params=dict(mixup=0.2))),
    "crnn": ("crnn", {}),
    "crnn_s1": ("crnn", dict(seed=1)),
    "crnn_sp": ("crnn", dict(speed=True)),
    "crnn_sp_s1": ("crnn", dict(speed=True, seed=1)),
    "lstm": ("lstm", {}),
    "lstm_sp": ("lstm", dict(speed=True)),
}


def extract(data_dir, cache):
    """Write the log-mel frames of every EmoDB clip and of its speed copies to ``cache``,
    unless it is already there (each variant's process loads it)."""
    if os.path.exists(cache):
        return
    from sklearn_ser.augmentation import change_speed
    from sklearn_ser.datasets import load_emodb
    from sklearn_ser.pipelines import make_deep_pipeline

    corpus = load_emodb(data_dir, return_clips=True)
    extractor = make_deep_pipeline("cnn", speed_perturbation=None).steps[0][1]
    clips = list(corpus.data)
    out = {"y": np.asarray(corpus.target), "g": np.asarray(corpus.groups),
           "X": extractor.fit_transform(clips).astype(np.float16)}
    for rate in SPEEDS:
        copies = [change_speed(c, sr=corpus.sr, rate=rate).astype(np.float32) for c in clips]
        out[f"X{rate}"] = extractor.transform(copies).astype(np.float16)
    np.savez(cache, **out)


def run_variant(name, cache, device, folds_log, threads):
    """Train variant ``name`` on every leave-one-speaker-out fold; return its scores."""
    import torch
    from sklearn.metrics import recall_score

    from sklearn_ser.pipelines import make_deep_pipeline

    torch.set_num_threads(threads)
    kind, opts = VARIANTS[name]
    data = np.load(cache)
    y, g = data["y"], data["g"]
    X = data["X"].astype(np.float32)
    copies = [data[f"X{r}"].astype(np.float32) for r in SPEEDS] if opts.get("speed") else []
    classes = np.unique(y)
    proba = np.zeros((len(y), len(classes)))
    folds, start = {}, time.time()
    for speaker in np.unique(g):
        train, test = g != speaker, g == speaker
        X_train = np.concatenate([X[train]] + [c[train] for c in copies])
        y_train = np.tile(y[train], 1 + len(copies))
        mean = np.nanmean(X_train, axis=(0, 1))
        std = np.nanstd(X_train, axis=(0, 1))
        std[std == 0] = 1.0
        net = make_deep_pipeline(kind, random_state=opts.get("seed", 0), device=device,
                                 **opts.get("params", {}))[-1]
        net.fit((X_train - mean) / std, y_train)
        proba[test] = net.predict_proba((X[test] - mean) / std)
        folds[str(speaker)] = float(recall_score(y[test], classes[proba[test].argmax(1)],
                                                 average="macro"))
        with open(folds_log, "a") as log:
            log.write(f"{name} {speaker} {folds[str(speaker)]:.3f} "
                      f"{time.time() - start:.0f}s\n")
    uar = float(recall_score(y, classes[proba.argmax(1)], average="macro"))
    return name, dict(uar=uar, folds=folds, seconds=round(time.time() - start))


def print_table(results):
    speakers = sorted({s for r in results.values() for s in r["folds"]})
    print(f"{'variant':14s} {'UAR':>6s}  " + " ".join(f"{s.split(':')[-1]:>4s}"
                                                      for s in speakers))
    for name, r in results.items():
        per = " ".join(f"{r['folds'][s]:4.2f}" if s in r["folds"] else "   -"
                       for s in speakers)
        print(f"{name:14s} {r['uar']:6.3f}  {per}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("SKLEARN_SER_EMODB"),
                        help="EmoDB folder (default: $SKLEARN_SER_EMODB)")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"comma-separated, from: {', '.join(VARIANTS)}")
    parser.add_argument("--device", default="auto", help="cuda, cpu or auto")
    parser.add_argument("--workers", type=int, default=2, help="variants run at once")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per variant")
    parser.add_argument("--deadline", type=float, default=None,
                        help="seconds to wait before stopping unfinished variants")
    parser.add_argument("--cache", default="emodb_deep_features.npz",
                        help="feature cache file (created on first use)")
    parser.add_argument("--folds-log", default="deep_variants_folds.txt")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    names = args.variants.split(",")
    unknown = [n for n in names if n not in VARIANTS]
    if unknown or not args.data_dir:
        parser.error(f"unknown variants {unknown}" if unknown else "give --data-dir")
    extract(args.data_dir, args.cache)
    results = {}
    pool = ProcessPoolExecutor(args.workers, mp_context=get_context("spawn"))
    futures = [pool.submit(run_variant, n, args.cache, args.device, args.folds_log,
                           args.threads) for n in names]
    try:
        for future in as_completed(futures, timeout=args.deadline):
            name, result = future.result()
            results[name] = result
            print(f"{name:14s} UAR {result['uar']:.3f}  {result['seconds']} s", flush=True)
    except TimeoutError:
        print(f"deadline: stopped {sorted(set(names) - set(results))}; their finished folds "
              f"are in {args.folds_log}", flush=True)
    for process in list(getattr(pool, "_processes", {}).values()):
        process.kill()  # unfinished variants must not outlive the deadline
    pool.shutdown(wait=False, cancel_futures=True)
    print_table(results)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
