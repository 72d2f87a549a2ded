"""Deep + classic feature fusion against the stacked ``fusion`` model, speaker-independent.

The feature fusion is ``make_fusion_pipeline(["svm-sn", "crnn-sn"], method="features")``: the
speaker-normalised CRNN is trained inside each fold's ``fit`` on the training speakers' clips
(and the fusion's noisy copies), and its embeddings (``transform``, the pooled penultimate
layer) join the classic functionals under the speaker-normalised RBF SVM. The reference is the
stacked ``fusion`` model (``svm-sn`` + ``lr-sn``) and ``svm-sn`` alone, on the same folds.

Usage::

    python benchmarks/bench_deep_feature_fusion.py --data-dir "$SKLEARN_SER_EMODB" \
        --output benchmarks/results/deep_feature_fusion_emodb.json
    # a quick check that it runs: the first 2 leave-one-speaker-out folds, 5 epochs
    python benchmarks/bench_deep_feature_fusion.py --folds 2 --max-epochs 5 \
        --models features-crnn-sn --output /tmp/check.json

``--models`` picks a subset (``svm-sn``, ``fusion``, ``features-crnn-sn``, or any
``features-<classic>-<network>`` such as ``features-svm-sn-cnn``). The classic features are
cached under ``--cache-dir`` and shared by the models. Each model is evaluated with
:func:`sklearn_ser.model_selection.evaluate` (leave one speaker out, the training speakers
handed to ``fit``); the script prints each fold as it ends and writes a JSON file with every fold's predictions,
then each model's pooled UAR, its speaker-bootstrap interval and the time. The file is
rewritten after every fold, and a run with the same ``--output`` resumes after the last fold
done (models and folds already in it are skipped).
"""

import argparse
import json
import os
import sys
import time


def build(name, *, memory, random_state, device, max_epochs=None):
    """The model a name stands for."""
    from sklearn_ser.pipelines import make_fusion_pipeline, make_named_pipeline

    if not name.startswith("features-"):
        return make_named_pipeline(name, memory=memory, random_state=random_state)
    classic, network = _split_members(name[len("features-"):])
    fusion = make_fusion_pipeline([classic, network], method="features", memory=memory,
                                  random_state=random_state)
    prefix = f"features__{network}__{network.split('-')[0]}classifier__"
    fusion.set_params(**{prefix + "device": device})
    if max_epochs is not None:
        fusion.set_params(**{prefix + "max_epochs": max_epochs})
    return fusion


def _split_members(spec):
    """``"svm-sn-crnn-sn"`` -> ``("svm-sn", "crnn-sn")``; a network alone goes with svm-sn."""
    from sklearn_ser.pipelines import NETWORKS

    for kind in NETWORKS:
        for network in (f"{kind}-sn", kind):
            if spec == network:
                return "svm-sn", network
            if spec.endswith("-" + network):
                return spec[:-len(network) - 1], network
    raise SystemExit(f"cannot read {spec!r}: use features-<classic>-<network>, "
                     f"e.g. features-svm-sn-crnn-sn")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("SKLEARN_SER_EMODB"))
    parser.add_argument("--models", default="svm-sn,fusion,features-crnn-sn")
    parser.add_argument("--folds", type=int, default=None,
                        help="evaluate only the first N leave-one-speaker-out folds")
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--max-epochs", type=int, default=None,
                        help="the network's epochs (default: the pipeline's); for a quick check")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--output", required=True, help="JSON file of the results")
    args = parser.parse_args(argv)
    if not args.data_dir:
        parser.error("give --data-dir or set SKLEARN_SER_EMODB")

    from sklearn_ser.datasets import load_emodb
    from sklearn_ser.model_selection import LeaveOneSpeakerOut, evaluate

    corpus = load_emodb(args.data_dir, return_clips=True)
    clips = list(corpus.data)
    splits = list(LeaveOneSpeakerOut().split(clips, corpus.target, corpus.groups))
    if args.folds is not None:
        splits = splits[:args.folds]
    test_speakers = [sorted(set(corpus.groups[test])) for _, test in splits]
    results = _load_progress(args.output, test_speakers)
    results["command"] = " ".join([sys.argv[0], *sys.argv[1:]])
    for name in args.models.split(","):
        done = results["models"].setdefault(name, {"folds": {}})
        for index, split in enumerate(splits):
            if str(index) in done["folds"]:
                continue
            model = build(name, memory=args.cache_dir, random_state=args.random_state,
                          device=args.device, max_epochs=args.max_epochs)
            start = time.perf_counter()
            report = evaluate(model, clips, corpus.target, groups=corpus.groups, cv=[split])
            done["folds"][str(index)] = {
                "test_speakers": test_speakers[index],
                "uar": report.uar,
                "seconds": time.perf_counter() - start,
                "y_true": report.y_true.tolist(),
                "y_pred": report.y_pred.tolist(),
                "groups": report.groups.tolist(),
            }
            print(f"{name} fold {index} {test_speakers[index]}: UAR {report.uar:.3f} "
                  f"({done['folds'][str(index)]['seconds']:.0f} s)", flush=True)
            _save(args.output, results)  # after every fold: a stopped run resumes from here
        done.update(_pooled(done["folds"]))
        print(f"{name}: UAR {done['uar']:.3f} [{done['uar_ci_low']:.3f}, "
              f"{done['uar_ci_high']:.3f}] over {len(done['folds'])} folds", flush=True)
        _save(args.output, results)


def _load_progress(path, test_speakers):
    """The results of an earlier run on the same folds, so that it resumes; else a new dict."""
    if os.path.exists(path):
        with open(path) as f:
            results = json.load(f)
        if results.get("folds") == test_speakers:
            return results
        raise SystemExit(f"{path} holds a run on other folds; give another --output")
    return {"folds": test_speakers, "models": {}}


def _pooled(folds):
    """UAR, WA and the speaker-bootstrap interval of the pooled out-of-fold predictions."""
    import numpy as np

    from sklearn_ser.metrics import uar_confidence_interval, unweighted_average_recall

    y_true = np.concatenate([f["y_true"] for f in folds.values()])
    y_pred = np.concatenate([f["y_pred"] for f in folds.values()])
    groups = np.concatenate([f["groups"] for f in folds.values()])
    low, high = uar_confidence_interval(y_true, y_pred, groups)
    return {"uar": unweighted_average_recall(y_true, y_pred), "wa": float(np.mean(y_true == y_pred)),
            "uar_ci_low": low, "uar_ci_high": high,
            "fit_and_predict_seconds": sum(f["seconds"] for f in folds.values())}


def _save(path, results):
    with open(path + ".tmp", "w") as f:
        json.dump(results, f, indent=1, default=float)
    os.replace(path + ".tmp", path)

if __name__ == "__main__":
    main()
