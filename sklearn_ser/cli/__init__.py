"""The ``sklearn-ser`` command line."""

import argparse
import re
import shlex
import sys

from .. import __version__
from ._benchmark import DATASETS, DEFAULT_MODELS, DEFAULT_REGRESSION_MODELS, add_target_argument

#: Noises of ``--test-noise`` (those of ``evaluate(..., test_noise=...)``).
_TEST_NOISES = ("white", "pink", "brown", "babble")

#: Options whose value may start with a minus sign (``--test-gain -20,20``).
_SIGNED_LIST_OPTIONS = ("--test-snr", "--test-gain")


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="sklearn-ser",
        description="Speech emotion recognition with scikit-learn: benchmark recognisers "
        "speaker-independently, train and save one, label files, stream a file or the "
        "microphone, check a corpus, extract features to a table.",
    )
    parser.add_argument("--version", action="version", version=f"sklearn-ser {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    bench = commands.add_parser(
        "benchmark",
        help="compare recognisers on one corpus with speaker-independent cross-validation",
        description="Evaluate each model on the same speaker-independent folds and write "
        "results.json, results.csv, report.md and confusion-matrix PNGs. A model that fails "
        "does not stop the run: its row gives the error, the other models' results are "
        "kept, and the exit status is 1 only when every model failed (or any, with "
        "--strict).",
    )
    bench.add_argument("--dataset", choices=DATASETS, default="synthetic",
                       help="corpus to use (default: the embedded synthetic corpus)")
    bench.add_argument("--data-dir", default=None,
                       help="folder of the corpus (default: the loader's env variable or cache)")
    bench.add_argument("--models", default=None,
                       help=f"comma-separated model names (default: {DEFAULT_MODELS}; with "
                       f"--target: {DEFAULT_REGRESSION_MODELS}); "
                       "classic: svm, linear-svm, lr, nb, dt, rf, knn, each also with "
                       "per-speaker standardisation as <name>-sn (svm-sn, ...); deep "
                       "(PyTorch): cnn, lstm, crnn, also as cnn-sn, ...; fusion (svm-sn and "
                       "lr-sn on MFCC, LPCC, spectral, prosodic and log-mel functionals, "
                       "stacked; inner folds split by speaker); fusion-deep (soft vote of "
                       "svm-sn, lr-sn and crnn-sn); names joined by + for a soft vote of "
                       "those models (cnn+crnn); openSMILE reference sets (the [opensmile] "
                       "extra): egemaps-svm, egemaps-lr, compare-svm, compare-lr, each also "
                       "as <name>-sn")
    add_target_argument(bench)
    bench.add_argument("--cv", default="loso",
                       help="'loso' (leave one speaker out) or 'kfold:N' (N speaker-grouped, "
                       "stratified folds); default: loso")
    bench.add_argument("--output", default="benchmark-output",
                       help="folder for the results (default: ./benchmark-output)")
    bench.add_argument("--n-jobs", type=int, default=None,
                       help="folds evaluated in parallel (joblib; -1 = all cores)")
    bench.add_argument("--n-samples", type=int, default=420,
                       help="clips generated for --dataset synthetic (default: 420)")
    bench.add_argument("--random-state", type=int, default=0, help="seed (default: 0)")
    bench.add_argument("--test-snr", type=_snr_list, default=None, metavar="SNRS",
                       help="also test every model on its test clips with noise at these SNRs "
                       "in dB, e.g. 20,10,0 (columns uar_snr20, ... for white noise); training "
                       "clips stay clean")
    bench.add_argument("--test-noise", type=_noise_list, default=None, metavar="NOISES",
                       help="comma-separated noises of --test-snr, each run at every SNR: "
                       f"{', '.join(_TEST_NOISES)} (default: white). Columns uar_snr20 for "
                       "white, uar_pink20, uar_brown20, uar_babble20 for the others; babble "
                       "is mixed from the training speakers of each fold only")
    bench.add_argument("--test-gain", type=_gain_list, default=None, metavar="GAINS",
                       help="also test every model on its test clips scaled by these gains "
                       "in dB, e.g. -20,20 (columns uar_gain-20, uar_gain+20); samples "
                       "pushed past full scale are clipped to [-1, 1]")
    bench.add_argument("--test-padding", type=_seconds_list, default=None, metavar="SECONDS",
                       help="also test every model on its test clips with this much exact "
                       "silence (zeros) before and after them, e.g. 0.5 (columns "
                       "uar_zeros0.5 and agree_zeros0.5, the fraction of unchanged "
                       "predictions)")
    bench.add_argument("--cache-dir", default=None,
                       help="feature cache shared by the models, kept after the run (default: "
                       "a temporary folder, removed at the end)")
    bench.add_argument("--no-cache", action="store_true",
                       help="extract features anew for every model and fit (fit times then "
                       "include extraction for every model)")
    bench.add_argument("--strict", action="store_true",
                       help="exit with status 1 when any model fails (default: only when "
                       "every model fails; a failed model's row in the table and results "
                       "files names its error, and the other models' results are kept)")
    bench.add_argument("--quiet", action="store_true", help="no progress output")

    # train, predict, stream, datasets: each module registers its parser and its run().
    from . import _datasets, _extract, _predict, _stream, _train

    for command in (_train, _predict, _stream, _datasets, _extract):
        command.add_parser(commands)
    return parser


def _snr_list(text):
    """Parse ``--test-snr 20,10,0`` into a list of floats."""
    return _db_list(text, "SNRs in dB", "20,10,0")


def _gain_list(text):
    """Parse ``--test-gain -20,20`` into a list of floats."""
    return _db_list(text, "gains in dB", "-20,20")


def _seconds_list(text):
    """Parse ``--test-padding 0.5,1`` into a list of positive floats."""
    values = _db_list(text, "durations in seconds", "0.5")
    if any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"durations must be > 0 seconds, e.g. 0.5; got "
                                         f"{text!r}")
    return values


def _db_list(text, what, example):
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated {what} such as {example}; got {text!r}"
        )
    return values


def _noise_list(text):
    """Parse ``--test-noise white,babble`` into a list of noise names."""
    names = [v.strip() for v in text.split(",") if v.strip()]
    unknown = [n for n in names if n not in _TEST_NOISES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated noises from {', '.join(_TEST_NOISES)}; got {text!r}"
        )
    return list(dict.fromkeys(names))


def _join_signed_values(argv):
    """Write ``--test-gain -20,20`` as ``--test-gain=-20,20``.

    argparse reads a value that starts with "-" and is not a plain number as an option, so
    a list of dB values that starts with a negative one would be refused.
    """
    joined, i = [], 0
    while i < len(argv):
        if (argv[i] in _SIGNED_LIST_OPTIONS and i + 1 < len(argv)
                and re.fullmatch(r"-[\d.][\d.,+\-eE]*", argv[i + 1])):
            joined.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            joined.append(argv[i])
            i += 1
    return joined


def _benchmark_command(args, argv):
    from ._benchmark import (
        default_models,
        format_leaderboard,
        load_corpus,
        run_benchmark,
        write_outputs,
    )

    verbose = 0 if args.quiet else 1
    models = [m.strip() for m in default_models(args.models, args.target).split(",")
              if m.strip()]
    if not models:
        raise SystemExit("--models is empty; name at least one model, e.g. --models svm")
    if args.test_noise and not args.test_snr:
        raise SystemExit("--test-noise needs --test-snr: the SNRs at which to add the noises, "
                         "e.g. --test-snr 20,10,0")
    corpus = load_corpus(args.dataset, data_dir=args.data_dir, n_samples=args.n_samples,
                         random_state=args.random_state, n_jobs=args.n_jobs, verbose=verbose,
                         target=args.target)
    records, reports = run_benchmark(corpus, models, cv=args.cv, n_jobs=args.n_jobs,
                                     random_state=args.random_state, verbose=verbose,
                                     test_snr=args.test_snr, test_noise=args.test_noise or "white",
                                     test_gain=args.test_gain,
                                     test_padding=args.test_padding,
                                     cache_dir=False if args.no_cache else args.cache_dir)
    command = "sklearn-ser " + " ".join(shlex.quote(a) for a in argv)
    output = write_outputs(args.output, corpus, records, reports, command=command)
    print(format_leaderboard(records))
    print(f"\nWrote results.json, results.csv, report.md and plots to {output}/")
    return _benchmark_status(records, strict=args.strict)


def _benchmark_status(records, *, strict):
    """Report failed models on stderr; 1 when all failed (or any, with ``--strict``)."""
    from ._benchmark import failed

    bad = failed(records)
    for record in bad:
        print(f"sklearn-ser benchmark: model {record['model']!r} failed: {record['error']}",
              file=sys.stderr)
    if bad:
        kept = len(records) - len(bad)
        print(f"sklearn-ser benchmark: {len(bad)} of {len(records)} model(s) failed; the "
              f"results of the other {kept} are kept, and results.json, results.csv and "
              "report.md give each failure in their error field.", file=sys.stderr)
    return 1 if bad and (strict or len(bad) == len(records)) else 0


def main(argv=None):
    """Entry point of the ``sklearn-ser`` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _build_parser().parse_args(_join_signed_values(argv))
    try:
        if args.command == "benchmark":
            return _benchmark_command(args, argv)
        if hasattr(args, "run"):
            return args.run(args, argv)
    except (FileNotFoundError, ValueError) as exc:
        # Errors of the user's making get one clear line, not a traceback.
        print(f"sklearn-ser {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 1


__all__ = ["main"]
