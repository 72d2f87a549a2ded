"""``sklearn-ser train``: fit a named recogniser on a corpus and save it to one model file."""

import shlex
import sys
import time

import numpy as np

DEFAULT_OUTPUT = "model.sser"


def add_parser(commands):
    """Register the ``train`` subcommand."""
    from ._benchmark import DATASETS, DEFAULT_REGRESSION_MODELS, add_target_argument

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
    parser.add_argument("--model", default=None,
                        help="model name as in sklearn-ser benchmark (default: svm, or "
                        f"{DEFAULT_REGRESSION_MODELS.split(',')[0]} for a continuous --target):"
                        " svm, linear-svm, lr, nb, dt, rf, knn, each also as <name>-sn with "
                        "per-speaker standardisation; cnn, lstm, crnn (PyTorch), also as "
                        "cnn-sn, ... with per-speaker standardisation of the frames; with "
                        "--target arousal|valence|intensity a regressor: svr, ridge, cnn-reg, "
                        "lstm-reg, crnn-reg, each also -sn")
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
    add_target_argument(parser)
    parser.set_defaults(run=run)
    return parser


def _progress(quiet, message):
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def fit_with_groups(model, X, y, groups, categories=None):
    """Fit, routing the speakers (and the emotion labels) to every step that asks for them.

    Speaker normalisation needs the training speakers; a network's early-stopping split uses
    them to hold out whole speakers; a regressor that learns from the categories too
    (``svr-cat``) needs the labels. Steps that want nothing get nothing.
    """
    import sklearn

    from ..utils import request_speakers, requested_metadata

    request_speakers(model)
    given = {"groups": groups, "categories": categories}
    wants = requested_metadata(model, "fit", given)
    with sklearn.config_context(enable_metadata_routing=True):
        return model.fit(X, y, **{key: given[key] for key in wants})


def run(args, argv):
    """Run ``sklearn-ser train``."""
    from ..io import save_model
    from ..pipelines import parse_model_name
    from ._benchmark import build_model, load_corpus

    continuous = args.target != "emotion"
    name = args.model or _default_model(continuous)
    if args.max_epochs is not None and args.max_epochs < 1:
        raise ValueError(f"--max-epochs must be at least 1; got {args.max_epochs}.")
    model = _fit_ready(build_model(name, sr=16000, random_state=args.random_state), name,
                       args)
    corpus = load_corpus(args.dataset, data_dir=args.data_dir, n_samples=args.n_samples,
                         random_state=args.random_state, n_jobs=args.n_jobs,
                         verbose=0 if args.quiet else 1, target=args.target)
    speakers = np.unique(corpus.groups)
    what = (_target_summary(corpus.target) if continuous
            else f"{len(np.unique(corpus.target))} classes")
    _progress(args.quiet, f"Training {name} on {len(corpus.clips)} clips of "
              f"{corpus.name} ({what}, {len(speakers)} speakers) ...")
    start = time.perf_counter()
    fit_with_groups(model, corpus.clips, corpus.target, corpus.groups, corpus.categories)
    seconds = time.perf_counter() - start
    metadata = {
        "model": name,
        "dataset": corpus.name,
        "data_dir": args.data_dir,
        "sr": corpus.sr,
        "n_clips": len(corpus.clips),
        "n_speakers": int(len(speakers)),
        "target": args.target,
        **(_target_metadata(corpus) if continuous else _class_metadata(corpus.target)),
        "speaker_norm": parse_model_name(name)[1],
        "fit_seconds": round(seconds, 2),
        "command": "sklearn-ser " + " ".join(shlex.quote(a) for a in argv),
    }
    save_model(model, args.output, metadata=metadata)
    print(f"Trained {name} in {seconds:.1f} s on {len(corpus.clips)} clips ({what}); saved "
          f"to {args.output}")
    return 0


def _default_model(continuous):
    from ._benchmark import DEFAULT_REGRESSION_MODELS

    return DEFAULT_REGRESSION_MODELS.split(",")[0] if continuous else "svm"


def _fit_ready(model, name, args):
    """``model`` checked against ``--target`` and set up for ``--max-epochs`` and progress.

    A classifier gets probabilities for predict and stream (an SVC: sigmoid calibration on
    internal folds); a regressor is kept as it is.
    """
    from sklearn.base import is_regressor

    from ..pipelines import with_probabilities

    if is_regressor(model) != (args.target != "emotion"):
        raise ValueError(_target_mismatch(name, args.target, is_regressor(model)))
    if not is_regressor(model):
        model = with_probabilities(model)
    net_step, network = model.steps[-1]
    deep = "max_epochs" in network.get_params(deep=False)
    if args.max_epochs is not None and not deep:
        raise ValueError(f"--max-epochs applies to deep models (cnn, lstm, crnn and their "
                         f"-sn and -reg forms), not {name!r}.")
    if deep:
        params = {f"{net_step}__verbose": 0 if args.quiet else 1}  # one line per epoch
        if args.max_epochs is not None:
            params[f"{net_step}__max_epochs"] = args.max_epochs
        model.set_params(**params)
    return model


def _target_mismatch(name, target, regressor):
    from ._benchmark import DEFAULT_REGRESSION_MODELS

    if regressor:
        return (f"--model {name!r} is a regressor of a continuous target; give the target "
                "with --target arousal|valence|intensity, or an emotion classifier (svm, "
                "svm-sn, crnn, ...) to train on the categories.")
    return (f"--model {name!r} is an emotion classifier, but --target {target} is a "
            f"continuous target: give a regressor ({DEFAULT_REGRESSION_MODELS.replace(',', ', ')}"
            ", svr, ridge, cnn-reg, lstm-reg, crnn-reg; -sn for per-speaker standardisation).")


def _class_metadata(target):
    classes, counts = np.unique(target, return_counts=True)
    return {"class_counts": {str(c): int(n) for c, n in zip(classes, counts)}}


def _target_metadata(corpus):
    """What predict needs to name the column, and a record of the training targets."""
    from ._benchmark import target_origin

    values = np.asarray(corpus.target, dtype=float)
    return {"target_mean": round(float(values.mean()), 6),
            "target_sd": round(float(values.std()), 6),
            "target_range": [float(values.min()), float(values.max())],
            "target_origin": target_origin(corpus)}


def _target_summary(values):
    values = np.asarray(values, dtype=float)
    return f"mean {values.mean():.3f}, sd {values.std():.3f}"
