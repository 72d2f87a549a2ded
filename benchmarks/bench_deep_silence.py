"""Which frames of a clip a deep model's network gets, and its robustness with each.

This script evaluates a ready-made deep model (by its benchmark name) with each given
``speech_only`` of its sequence extractor: every frame (``0``), the frames of the clip's
voice-activity mask only, as the classic pipelines pool (``1``), the frames from the first to
the last speech frame, pauses kept (``edges``), or every frame but those of exact digital
silence (``audible``, the deep pipelines' default). Folds and test conditions are those of
``sklearn-ser benchmark``: white noise and babble at 20 and 10 dB SNR on the test clips, and
0.5 s of exact zeros at both ends (with the share of clips whose label the padding leaves
unchanged).

Usage::

    python benchmarks/bench_deep_silence.py --data-dir $SKLEARN_SER_EMODB --model crnn-sn \
        --speech-only 0,1,edges,audible --output deep_silence_emodb.json
    python benchmarks/bench_deep_silence.py --dataset ravdess \
        --data-dir $SKLEARN_SER_RAVDESS --cv kfold:3 --speech-only 0,edges,audible \
        --output deep_silence_ravdess.json

The files in ``benchmarks/results/`` gather the rows of several such runs, each row with
the commit and date it ran at.

``--noise-copies 2`` trains the network with two noisy copies of every training clip
(``make_deep_pipeline(noise_augmentation=2)``), as the classic pipelines, the -sn networks
and the plain LSTM do by default; ``--noise-copies 0`` (the default here) trains without.
"""

import argparse
import json
import time
import warnings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="emodb")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--cv", default="loso")
    parser.add_argument("--model", default="crnn-sn")
    parser.add_argument("--speech-only", default="0,1",
                        help="comma-separated 0, 1, edges or audible: the sequence "
                             "extractor's speech_only")
    parser.add_argument("--noise-copies", type=int, default=0,
                        help="noisy training copies (make_deep_pipeline's "
                             "noise_augmentation; 0: none, the default of every network but "
                             "the -sn ones and the plain lstm)")
    parser.add_argument("--output", required=True, help="JSON file of the rows")
    args = parser.parse_args(argv)

    from sklearn_ser.cli._benchmark import load_corpus
    from sklearn_ser.model_selection import evaluate, make_cv

    warnings.simplefilter("ignore")
    corpus = load_corpus(args.dataset, data_dir=args.data_dir)
    rows = []
    for speech_only in (_speech_only(v) for v in args.speech_only.split(",")):
        model = with_noise_copies(args.model, args.noise_copies, sr=corpus.sr)
        # the sequence extractor, after the noisy copies' step if any
        extractor = next(name for name, _ in model.steps if name in ("logmel", "mfcc"))
        model.set_params(**{f"{extractor}__speech_only": speech_only})
        start = time.perf_counter()
        report = evaluate(model, corpus.clips, corpus.target, groups=corpus.groups,
                          cv=make_cv(args.cv), test_snr=[20, 10], test_noise=["white", "babble"],
                          test_padding=[0.5])
        row = {"dataset": args.dataset, "cv": args.cv, "model": args.model,
               "speech_only": speech_only, "noise_copies": args.noise_copies, "uar": round(report.uar, 4),
               **{f"uar_{k}": round(v, 4) for k, v in report.uar_by_condition.items()},
               **{f"agree_{c}": round(float(a), 4) for c, a in zip(
                   report.conditions["condition"], report.conditions["agreement"])
                  if c.startswith("zeros")},
               "seconds": round(time.perf_counter() - start, 1)}
        rows.append(row)
        print(json.dumps(row), flush=True)
        with open(args.output, "w") as f:
            json.dump(rows, f, indent=1)


def with_noise_copies(name, copies, *, sr):
    """The deep model ``name`` as the benchmark builds it, with ``copies`` noisy copies of
    every training clip."""
    from sklearn_ser.pipelines import make_deep_pipeline, parse_model_name

    kind, speaker_norm = parse_model_name(name)
    return make_deep_pipeline(kind, speaker_norm=speaker_norm, sr=sr, random_state=0,
                              noise_augmentation=copies)


def _speech_only(value):
    """The extractor's ``speech_only`` from the command line: ``0``, ``1``, ``edges`` or
    ``audible``."""
    return value if value in ("edges", "audible") else bool(int(value))


if __name__ == "__main__":
    main()
