"""Multi-task and transfer learning on EmoDB, against their single-task / from-scratch baselines.

Everything runs on the classic pooled features (``make_features()``: MFCC, LPCC, spectral and
prosody functionals, 1,468 per clip), extracted once and cached with joblib.Memory, followed by
a StandardScaler and a dense :class:`~sklearn_ser.neural.MultiTaskClassifier` (trunk 256-128).

**A. Multi-task, leave-one-speaker-out (10 folds).** The same network trained on

* ``single-task``: the emotion alone;
* ``mtl gender``: emotion + the speaker's gender (aux_weight 0.3);
* ``mtl gender+speaker``: emotion + gender + speaker identity (of the training speakers).

Early stopping holds out one training speaker (grouped split, emotion loss only). Each is run
with several seeds; the table gives the mean UAR over seeds (each seed's UAR pools the ten test
speakers' predictions) and the spread. An RBF SVC on the same features is the classic reference.

**B. Transfer, speaker-independent few-shot.** The ten speakers are split into two halves of five
(A = 03 08 09 10 11, B = 12 13 14 15 16), used both ways round. A network is pre-trained on all
clips of one half. For each speaker s of the other half, a model gets k labelled clips per
emotion from each of the *other four* speakers of that half (k = 1 or 3; about 28 or 84 clips)
and is tested on all clips of s: no label of the test speaker is ever used. Compared on the same
labelled clips:

* ``scratch``: the network trained on the few clips only (its scaler fitted on them);
* ``pre-trained, no tuning``: the half-A network applied as it is (zero-shot on new speakers);
* ``fine-tune``: init_from the pre-trained network, all layers trained (its scaler kept);
* ``fine-tune, frozen trunk``: only the output layer trained;
* ``pooled``: one network trained from scratch on half A and the few clips together;
* ``fine-tune from 4 emotions``: pre-trained on anger/happiness/neutral/sadness only, so the
  output layer is replaced for the seven emotions (rows of the four shared ones kept).

UAR pools the predictions of all ten test speakers (both directions); repeated over several
draws of the few-shot clips (and seeds): mean and spread over repeats.

Usage::

    python benchmarks/bench_multitask_transfer.py --data-dir /path/to/emodb \\
        --json benchmarks/results/multitask_transfer_emodb.json \\
        --markdown benchmarks/results/multitask_transfer_emodb.md
    SKLEARN_SER_EMODB=/path/to/emodb python benchmarks/bench_multitask_transfer.py --quick
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

import joblib
import numpy as np
import sklearn
import torch
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklearn_ser.datasets import load_emodb
from sklearn_ser.metrics import unweighted_average_recall
from sklearn_ser.model_selection import evaluate
from sklearn_ser.neural import MultiTaskClassifier
from sklearn_ser.pipelines import make_features

HALF_A = ("03", "08", "09", "10", "11")
FOUR_EMOTIONS = ("anger", "happiness", "neutral", "sadness")
NET = dict(hidden_layer_sizes=(256, 128), dropout=0.3, lr=1e-3, batch_size=32, max_epochs=100,
           patience=10, validation_fraction=0.1, device="cpu")
# Few labels leave nothing to validate on: fixed epoch budgets, chosen before the runs.
SCRATCH = dict(NET, validation_fraction=None, max_epochs=100)
FINE_TUNE = dict(NET, validation_fraction=None, max_epochs=40)


def features(data_dir, cache):
    """Pooled features of every EmoDB clip (cached), the corpus frame, labels and speakers."""
    memory = joblib.Memory(cache, verbose=0)

    @memory.cache
    def extract(data_dir):
        corpus = load_emodb(data_dir, return_clips=True, n_jobs=2)
        X = make_features(n_jobs=2)[1].fit_transform(corpus.data)
        return np.asarray(X, dtype=np.float32), corpus.target, corpus.groups, corpus.frame

    return extract(str(data_dir))


def speaker_code(groups):
    return np.array([g.split(":")[-1] for g in groups])


# -- A. multi-task ------------------------------------------------------------------------------

def run_multitask(X, y, groups, frame, seeds):
    aux_sets = {
        "single-task": None,
        "mtl gender": frame[["gender"]].reset_index(drop=True),
        "mtl gender+speaker": frame[["gender", "speaker"]].astype(str).reset_index(drop=True),
    }
    rows = []
    svc = Pipeline([("scaler", StandardScaler()), ("svc", SVC(C=3.0, gamma="scale"))])
    start = time.perf_counter()
    report = evaluate(svc, X, y, groups=groups, cv="loso", n_bootstraps=200)
    rows.append(dict(model="svc (rbf, reference)", uars=[report.uar],
                     seconds=time.perf_counter() - start))
    print(f"  {rows[-1]['model']:<22} UAR {report.uar:.3f}", flush=True)
    for name, aux in aux_sets.items():
        uars, start = [], time.perf_counter()
        for seed in seeds:
            model = Pipeline([("scaler", StandardScaler()),
                              ("mtl", MultiTaskClassifier(**NET, random_state=seed))])
            fit_params = {"mtl__groups": groups}  # grouped early-stopping split
            if aux is not None:
                fit_params["mtl__aux"] = aux
            report = evaluate(model, X, y, groups=groups, cv="loso", fit_params=fit_params,
                              n_bootstraps=200)
            uars.append(report.uar)
            print(f"  {name:<22} seed {seed}: UAR {report.uar:.3f}", flush=True)
        rows.append(dict(model=name, uars=uars, seconds=time.perf_counter() - start))
    return rows


# -- B. transfer --------------------------------------------------------------------------------

def few_shot(y, speakers, pool, k, rng):
    """Indices of k random clips per emotion from each speaker of ``pool``."""
    chosen = []
    for s in pool:
        for emotion in np.unique(y):
            members = np.flatnonzero((speakers == s) & (y == emotion))
            if len(members):
                chosen.extend(rng.choice(members, size=min(k, len(members)), replace=False))
    return np.sort(np.array(chosen))


def pretrain(X, y, groups, index, seed):
    model = Pipeline([("scaler", StandardScaler()),
                      ("mtl", MultiTaskClassifier(**NET, random_state=seed))])
    return model.fit(X[index], y[index], mtl__groups=groups[index])


def fine_tuned(pre, X, y, seed, freeze=None):
    """The pre-trained pipeline with its network fine-tuned on (X, y); its scaler is kept."""
    net = MultiTaskClassifier(**FINE_TUNE, init_from=FrozenEstimator(pre[-1]), freeze=freeze,
                              random_state=seed)
    scaler = pre[0]
    return Pipeline([("scaler", FrozenEstimator(scaler)), ("mtl", net.fit(scaler.transform(X), y))])


def run_transfer(X, y, groups, ks, repeats):
    speakers = speaker_code(groups)
    half_a = np.array(HALF_A)
    half_b = np.array(sorted(set(speakers) - set(HALF_A)))
    names = ["scratch", "pre-trained, no tuning", "fine-tune", "fine-tune, frozen trunk",
             "pooled (A + few, scratch)", "fine-tune from 4 emotions"]
    preds = {(name, k, r): np.empty(len(y), dtype=object) for name in names for k in ks
             for r in range(repeats)}
    n_labels = {k: [] for k in ks}
    start = time.perf_counter()
    for source, target in ((half_a, half_b), (half_b, half_a)):
        source_index = np.flatnonzero(np.isin(speakers, source))
        four = source_index[np.isin(y[source_index], FOUR_EMOTIONS)]
        for r in range(repeats):
            pre = pretrain(X, y, groups, source_index, seed=r)
            pre4 = pretrain(X, y, groups, four, seed=r)
            for s in target:
                test = np.flatnonzero(speakers == s)
                pool = [t for t in target if t != s]
                preds[("pre-trained, no tuning", ks[0], r)][test] = pre.predict(X[test])
                for k in ks:
                    rng = np.random.default_rng([r, k, int(s)])
                    few = few_shot(y, speakers, pool, k, rng)
                    n_labels[k].append(len(few))
                    scratch = Pipeline([("scaler", StandardScaler()),
                                        ("mtl", MultiTaskClassifier(**SCRATCH, random_state=r))])
                    scratch.fit(X[few], y[few])
                    pooled_index = np.concatenate([source_index, few])
                    pooled = Pipeline([("scaler", StandardScaler()),
                                       ("mtl", MultiTaskClassifier(**NET, random_state=r))])
                    pooled.fit(X[pooled_index], y[pooled_index], mtl__groups=groups[pooled_index])
                    models = {
                        "scratch": scratch,
                        "fine-tune": fine_tuned(pre, X[few], y[few], seed=r),
                        "fine-tune, frozen trunk": fine_tuned(pre, X[few], y[few], seed=r,
                                                              freeze="trunk"),
                        "pooled (A + few, scratch)": pooled,
                        "fine-tune from 4 emotions": fine_tuned(pre4, X[few], y[few], seed=r),
                    }
                    for name, model in models.items():
                        preds[(name, k, r)][test] = model.predict(X[test])
            print(f"  transfer {''.join(source)} -> {''.join(target)}, repeat {r}: "
                  f"{time.perf_counter() - start:.0f} s", flush=True)
    rows = []
    for name in names:
        for k in ks:
            if name == "pre-trained, no tuning" and k != ks[0]:
                continue
            uars = [unweighted_average_recall(y, preds[(name, k, r)]) for r in range(repeats)]
            rows.append(dict(model=name, k=None if name == "pre-trained, no tuning" else k,
                             n_labels=None if name == "pre-trained, no tuning"
                             else float(np.mean(n_labels[k])), uars=uars))
    return rows


# -- report -------------------------------------------------------------------------------------

def _fmt(uars):
    uars = np.asarray(uars)
    spread = f" ± {uars.std(ddof=1):.3f}" if len(uars) > 1 else ""
    return f"{uars.mean():.3f}{spread}"


def markdown(result):
    a, b = result["multitask"], result["transfer"]
    lines = [
        "# Multi-task and transfer learning on EmoDB",
        "",
        f"Generated by `benchmarks/bench_multitask_transfer.py` ({result['date']}, "
        f"{result['machine']}, {result['seconds']:.0f} s in all). Features: the classic "
        f"pooled set (`make_features()`, {result['n_features']} per clip), StandardScaler, "
        "then a dense `MultiTaskClassifier` (trunk 256-128, dropout 0.3, Adam 1e-3). "
        "UAR = unweighted average recall (balanced accuracy), pooled over the test speakers; "
        "± is the standard deviation over seeds / repeats (not a confidence interval).",
        "",
        "## A. Multi-task learning, leave-one-speaker-out (10 folds, 535 clips)",
        "",
        "Early stopping on one held-out training speaker (emotion loss only); auxiliary loss "
        f"weight 0.3 per task; seeds {result['seeds']}.",
        "",
        "| model | UAR (mean ± sd over seeds) | per seed | time |",
        "|---|---|---|---|",
    ]
    for row in a:
        per_seed = ", ".join(f"{u:.3f}" for u in row["uars"])
        lines.append(f"| {row['model']} | {_fmt(row['uars'])} | {per_seed} | "
                     f"{row['seconds']:.0f} s |")
    lines += [
        "",
        "## B. Transfer: pre-train on five speakers, fine-tune with few labels of the others",
        "",
        "Halves A = 03 08 09 10 11 and B = 12 13 14 15 16, both ways round. For each test "
        "speaker of the target half, k labelled clips per emotion come from each of the four "
        "*other* speakers of that half; the test speaker's labels are never used "
        "(speaker-independent). UAR pools all ten test speakers; "
        f"{result['repeats']} repeats (few-shot draws and seeds).",
        "",
        "| model | k per emotion per speaker | labelled target clips | UAR (mean ± sd) |",
        "|---|---|---|---|",
    ]
    for row in b:
        k = "-" if row["k"] is None else row["k"]
        n = "0" if row["n_labels"] is None else f"{row['n_labels']:.0f}"
        lines.append(f"| {row['model']} | {k} | {n} | {_fmt(row['uars'])} |")
    lines += ["", "## Reading", "", result.get("reading", "").strip(), ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("SKLEARN_SER_EMODB"),
                        help="EmoDB root (default: $SKLEARN_SER_EMODB)")
    parser.add_argument("--cache", default="/tmp/sklearn_ser_bench_cache",
                        help="joblib.Memory folder for the extracted features")
    parser.add_argument("--seeds", type=int, default=3, help="seeds of part A")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of part B")
    parser.add_argument("--k", type=int, nargs="+", default=[1, 3],
                        help="labelled clips per emotion and speaker in part B")
    parser.add_argument("--quick", action="store_true", help="one seed, one repeat, k=3")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: these small nets gain nothing from more, and "
                             "oversubscribe a shared machine)")
    parser.add_argument("--skip", choices=["multitask", "transfer"], default=None)
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--markdown", type=Path, default=None, help="write the table here")
    parser.add_argument("--reading", type=Path, default=None,
                        help="a text file whose content is the report's 'Reading' section")
    parser.add_argument("--render", type=Path, default=None,
                        help="re-render the Markdown of a --json file (with --reading), "
                             "without running anything")
    args = parser.parse_args(argv)
    if args.render is not None:
        result = json.loads(args.render.read_text())
        if args.reading is not None:
            result["reading"] = args.reading.read_text()
            args.render.write_text(json.dumps(result, indent=2, default=str) + "\n")
        text = markdown(result)
        print(text)
        if args.markdown is not None:
            args.markdown.write_text(text)
        return
    if args.quick:
        args.seeds, args.repeats, args.k = 1, 1, [3]
    torch.set_num_threads(args.threads)

    start = time.perf_counter()
    X, y, groups, frame = features(args.data_dir, args.cache)
    print(f"features {X.shape} ({time.perf_counter() - start:.0f} s)", flush=True)
    result = dict(
        date=time.strftime("%Y-%m-%d"), machine=f"{platform.machine()}, "
        f"{os.cpu_count()} CPUs, torch {torch.__version__}, sklearn {sklearn.__version__}",
        n_clips=len(y), n_features=int(X.shape[1]), seeds=list(range(args.seeds)),
        repeats=args.repeats, k=args.k, net=NET, scratch=SCRATCH, fine_tune=FINE_TUNE,
        multitask=[], transfer=[],
    )
    if args.skip != "multitask":
        print("A. multi-task, leave-one-speaker-out", flush=True)
        result["multitask"] = run_multitask(X, y, groups, frame, result["seeds"])
    if args.skip != "transfer":
        print("B. transfer", flush=True)
        result["transfer"] = run_transfer(X, y, groups, args.k, args.repeats)
    result["seconds"] = time.perf_counter() - start
    if args.reading is not None:
        result["reading"] = args.reading.read_text()
    text = markdown(result)
    print(text)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2, default=str) + "\n")
    if args.markdown is not None:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
