"""``sklearn-ser train``: fit a named recogniser on a corpus and save it to one model file."""

import shlex
import sys
import time

import numpy as np

DEFAULT_OUTPUT = "model.sser"


def add_parser(commands):
    """Register the ``train`` subcommand."""
    from ._benchmark import DATASETS

    parser = commands.add_parser(
        "train",
        help="fit a named recogniser on a corpus and save it (load it with sklearn-ser predict "
        "or sklearn_ser.io.load_model)",
        description="Fit one model on every clip of a corpus and save it, with its labels, "
        "preprocessing and package versions, to a single model file. SVM models are "
        "wrapped in CalibratedClassifierCV(svc, ensemble=False) so that predict and stream can "
        "report class probabilities.",
    )
    parser.add_argument("--dataset", choices=DATASETS, default="synthetic",
                        help="corpus to train on (default: the embedded synthetic corpus)")
    parser.add_argument("--data-dir", default=None,
                        help="folder of the corpus (default: the loader's env variable or "
                        "cache; required for --dataset folder: one sub-folder per label)")
    parser.add_argument("--model", default="svm",
                        help="model name as in sklearn-ser benchmark (default: svm): svm, "
                        "linear-svm, lr, nb, dt, rf, knn, each also as <name>-sn with "
                        "per-speaker standardisation; cnn, lstm, crnn (PyTorch), also as "
                        "cnn-sn, ... with per-speaker standardisation of the frames")
    parser.add_argument("--output", default=DEFAULT_OUTPUT,
                        help=f"model file to write (default: ./{DEFAULT_OUTPUT})")
    parser.add_argument("--max-epochs", type=int, default=None,
                        help="upper bound on training epochs of a deep model (default: the "
                        "pipeline's 100, with early stopping)")
    parser.add_argument("--n-samples", type=int, default=420,
                        help="clips generated for --dataset synthetic (default: 420)")
    parser.add_argument("--n-jobs", type=int, default=None,
                        help="files read in parallel (joblib; -1 = all cores)")
    parser.add_argument("--random-state", type=int, default=0, help="seed (default: 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.set_defaults(run=run)
    return parser


def _progress(quiet, message):
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def fit_with_groups(model, X, y, groups):
    """Fit, routing the speakers to every step that asks for them.

    Speaker normalisation needs the training speakers; a network's early-stopping split uses
    them to hold out whole speakers. Steps that want nothing get nothing.
    """
    import sklearn

    from ..utils import request_speakers

    request_speakers(model)
    with sklearn.config_context(enable_metadata_routing=True):
        wants = model.get_metadata_routing().consumes("fit", ["groups"])
        if wants:
            return model.fit(X, y, groups=groups)
        return model.fit(X, y)


def run(args, argv):
    """Run ``sklearn-ser train``."""
    from sklearn.base import is_regressor

    from ..io import save_model
    from ..pipelines import NETWORKS, parse_model_name, with_probabilities
    from ._benchmark import build_model, load_corpus

    verbose = 0 if args.quiet else 1
    if args.max_epochs is not None and args.max_epochs < 1:
        raise ValueError(f"--max-epochs must be at least 1; got {args.max_epochs}.")
    model = build_model(args.model, sr=16000, random_state=args.random_state)
    if is_regressor(model):
        # predict and stream report emotion labels and their probabilities; a regressor's
        # file would have neither, so it is refused here rather than failing there.
        raise ValueError(
            f"--model {args.model!r} is a regressor of a continuous target; train fits "
            "emotion recognisers (categories) only. Evaluate regressors with sklearn-ser "
            "benchmark --target arousal|valence|intensity, or fit one in Python "
            "(sklearn_ser.pipelines.make_regression_pipeline) and save it with "
            "sklearn_ser.io.save_model.")
    # Probabilities for predict and stream: an SVC gets sigmoid calibration on internal folds.
    model = with_probabilities(model)
    kind, speaker_norm = parse_model_name(args.model)
    deep = kind in NETWORKS
    params = {}
    if deep:
        net_step = model.steps[-1][0]
        params[f"{net_step}__verbose"] = verbose  # one line per epoch: the progress bar
        if args.max_epochs is not None:
            params[f"{net_step}__max_epochs"] = args.max_epochs
    elif args.max_epochs is not None:
        raise ValueError(f"--max-epochs applies to deep models ({', '.join(NETWORKS)}), not "
                         f"{args.model!r}.")
    model.set_params(**params)

    corpus = load_corpus(args.dataset, data_dir=args.data_dir, n_samples=args.n_samples,
                         random_state=args.random_state, n_jobs=args.n_jobs, verbose=verbose)
    classes, counts = np.unique(corpus.target, return_counts=True)
    speakers = np.unique(corpus.groups)
    _progress(args.quiet, f"Training {args.model} on {len(corpus.clips)} clips of "
              f"{corpus.name} ({len(classes)} classes, {len(speakers)} speakers) ...")
    start = time.perf_counter()
    fit_with_groups(model, corpus.clips, corpus.target, corpus.groups)
    seconds = time.perf_counter() - start
    metadata = {
        "model": args.model,
        "dataset": corpus.name,
        "data_dir": args.data_dir,
        "sr": corpus.sr,
        "n_clips": len(corpus.clips),
        "n_speakers": int(len(speakers)),
        "class_counts": {str(c): int(n) for c, n in zip(classes, counts)},
        "speaker_norm": speaker_norm,
        "fit_seconds": round(seconds, 2),
        "command": "sklearn-ser " + " ".join(shlex.quote(a) for a in argv),
    }
    save_model(model, args.output, metadata=metadata)
    print(f"Trained {args.model} in {seconds:.1f} s on {len(corpus.clips)} clips "
          f"({', '.join(f'{c} {n}' for c, n in zip(classes, counts))}); saved to "
          f"{args.output}")
    return 0
