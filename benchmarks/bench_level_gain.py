"""The plain SVM end to end with its noisy copies at their own level or at a random gain.

EmoDB leave one speaker out through ``evaluate``: the ``svm`` model as ``make_named_pipeline``
builds it, once with ``noise__gain_range=None`` and once with the default gain range, for each
seed (the seed of the pipeline's copies and of the test conditions). Test conditions: white
noise and babble at 20 and 10 dB, a -20 dB gain and a +20 dB gain clipped at full scale. One
JSON row per seed and variant on stdout.

Usage::

    python benchmarks/bench_level_gain.py --data-dir $SKLEARN_SER_EMODB --seeds 0,1
"""

import argparse
import json
import time
import warnings

from joblib import Memory

from sklearn_ser.datasets import load_emodb
from sklearn_ser.model_selection import evaluate
from sklearn_ser.pipelines import make_named_pipeline


def run(bunch, seed, gain, memory, n_jobs):
    pipe = make_named_pipeline("svm", memory=memory, random_state=seed)
    if not gain:
        pipe.set_params(noise__gain_range=None)
    start = time.time()
    report = evaluate(pipe, list(bunch.data), bunch.target, groups=bunch.groups, cv="loso",
                      n_jobs=n_jobs, random_state=seed, test_snr=[20, 10],
                      test_noise=["white", "babble"], test_gain=[-20, 20])
    row = {"seed": seed, "gain_range": str(pipe.get_params()["noise__gain_range"]),
           "seconds": round(time.time() - start)}
    for condition in report.to_dict()["conditions"]:
        row[condition["condition"]] = round(condition["uar"], 4)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--cache", default=None, help="joblib cache folder for the features")
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    bunch = load_emodb(args.data_dir, return_clips=True, n_jobs=args.n_jobs)
    memory = Memory(args.cache, verbose=0) if args.cache else None
    for seed in (int(s) for s in args.seeds.split(",")):
        for gain in (False, True):
            print(json.dumps(run(bunch, seed, gain, memory, args.n_jobs)), flush=True)


if __name__ == "__main__":
    main()
