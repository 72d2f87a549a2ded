"""``sklearn-ser predict``: label audio files with a saved model and write a CSV."""

import csv
import os
import sys
import warnings

import numpy as np

SPEAKER_MODES = ("all", "dir", "none")


def add_parser(commands):
    """Register the ``predict`` subcommand."""
    parser = commands.add_parser(
        "predict",
        help="label audio files with a saved model; writes a CSV of file, label and class "
        "probabilities",
        description="Label audio files with a model saved by sklearn-ser train or "
        "sklearn_ser.io.save_model. Folders are searched recursively for audio files. The CSV "
        "has the columns file, label, prob_<class> for each class (no probabilities for a "
        "model without predict_proba) and out_of_range: true where the model's guard step "
        "found the file's features far outside its training range (silence, a wild level, a "
        "broken file), so that its label is an extrapolation; such files are also named in "
        "one warning.",
        epilog="Speaker-normalised models (svm-sn, ...) standardise features per speaker and "
        "so need to know who speaks: --speaker-mode all (default) treats all the given files "
        "as one speaker, dir takes each file's folder as its speaker, none uses the pooled "
        "training statistics for every file (as for a single clip). Give a speaker several "
        "clips: statistics of one or two clips are noisy.",
    )
    parser.add_argument("model", help="model file (.sser)")
    parser.add_argument("paths", nargs="+", metavar="FILE|DIR", help="audio files or folders")
    parser.add_argument("--output", "-o", default=None,
                        help="CSV file to write (default: print the CSV)")
    parser.add_argument("--speaker-mode", choices=SPEAKER_MODES, default="all",
                        help="who speaks, for speaker-normalised models (see below; default: "
                        "all)")
    parser.add_argument("--batch-size", type=int, default=32,
                        help="clips scored at once (default: 32)")
    parser.add_argument("--n-jobs", type=int, default=None,
                        help="files read in parallel (joblib; -1 = all cores)")
    parser.add_argument("--n-threads", type=int, default=1,
                        help="torch threads while scoring, BLAS capped at one (default: 1, "
                        "steadiest on small machines; 0 leaves the thread pools alone)")
    parser.add_argument("--allow-version-mismatch", action="store_true",
                        help="load a model saved with other package versions anyway")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(run=run)
    return parser


def collect_files(paths):
    """Expand folders into their audio files; keep files as given."""
    from ..datasets._base import list_audio_files

    files = []
    for path in paths:
        if os.path.isdir(path):
            found = list_audio_files(path)
            if not found:
                raise FileNotFoundError(f"No audio files (.wav, .flac, ...) in folder '{path}'.")
            files += found
        elif os.path.exists(path):
            files.append(path)
        else:
            raise FileNotFoundError(f"No such file or folder: '{path}'.")
    return files


def model_sr(model, manifest):
    """The sample rate the model was trained at: from the manifest, else its parameters."""
    sr = (manifest.get("metadata") or {}).get("sr")
    if sr:
        return int(sr)
    for name, value in model.get_params().items():
        if (name == "sr" or name.endswith("__sr")) and isinstance(value, (int, np.integer)):
            return int(value)
    return 16000


def _load(model_path, allow_version_mismatch):
    from ..io import load_model, read_manifest

    manifest = read_manifest(model_path)
    return load_model(model_path, allow_version_mismatch=allow_version_mismatch), manifest


def run(args, argv):
    """Run ``sklearn-ser predict``."""
    from tqdm.auto import tqdm

    from ..io._audio import load_many
    from ..streaming._recognizer import _has_speaker_normalizer

    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1; got {args.batch_size}.")
    model, manifest = _load(args.model, args.allow_version_mismatch)
    files = collect_files(args.paths)
    sr = model_sr(model, manifest)
    quiet = args.quiet

    clips, kept, failed = [], [], []
    bar = tqdm(total=len(files), desc="Reading", unit="file", disable=quiet, file=sys.stderr)
    for i in range(0, len(files), 256):
        batch = files[i:i + 256]
        for path, clip in zip(batch, load_many(batch, sr=sr, n_jobs=args.n_jobs,
                                                on_error="return")):
            if isinstance(clip, Exception):
                failed.append((path, clip))
            else:
                clips.append(clip)
                kept.append(path)
        bar.update(len(batch))
    bar.close()
    for path, error in failed:
        print(f"sklearn-ser predict: skipped '{path}': {error}", file=sys.stderr)
    if not clips:
        raise ValueError(f"None of the {len(files)} file(s) could be read.")

    has_proba = hasattr(model, "predict_proba")
    classes = np.asarray(model.classes_)
    n_threads = args.n_threads or None
    if _has_speaker_normalizer(model) and args.speaker_mode != "none":
        proba, labels, caught = _predict_by_speaker(model, clips, kept, args.speaker_mode,
                                                    has_proba, n_threads, quiet)
    else:
        proba, labels, caught = _predict_in_batches(model, clips, args.batch_size, has_proba,
                                                    n_threads, quiet)
    flags, worst = _out_of_range(caught, len(kept), _guard_input_names(model))
    if flags.any():
        print(f"sklearn-ser predict: warning: {_out_of_range_message(kept, flags, worst)}",
              file=sys.stderr)
    if not has_proba:
        print("sklearn-ser predict: note: the model has no predict_proba; the CSV has labels "
              "only.", file=sys.stderr)

    out = open(args.output, "w", newline="") if args.output else sys.stdout
    try:
        writer = csv.writer(out)
        writer.writerow(["file", "label"] + ([f"prob_{c}" for c in classes] if has_proba
                                             else []) + ["out_of_range"])
        for k, path in enumerate(kept):
            row = [path, labels[k]]
            if has_proba:
                row += [f"{p:.6f}" for p in proba[k]]
            writer.writerow(row + ["true" if flags[k] else "false"])
    finally:
        if args.output:
            out.close()
    if args.output and not quiet:
        print(f"Wrote {len(kept)} prediction(s) to {args.output}", file=sys.stderr)
    return 1 if failed else 0


def _predict_in_batches(model, clips, batch_size, has_proba, n_threads, quiet):
    """Probabilities (or None), labels, and the guard's warnings as (offset, warning)."""
    from tqdm.auto import tqdm

    from ..features._guard import catch_out_of_range
    from ..streaming._recognizer import _Scorer, limit_threads

    classes = np.asarray(model.classes_)
    with warnings.catch_warnings():
        # "none" speaker mode of a speaker-normalised model: the user chose pooled statistics.
        warnings.filterwarnings("ignore", message="SpeakerNormalizer got no groups")
        warnings.filterwarnings("ignore", message=".*has no predict_proba")
        warnings.filterwarnings("ignore", message="The pipeline normalises features per")
        scorer = _Scorer(model)
        parts, caught = [], []
        bar = tqdm(total=len(clips), desc="Predicting", unit="file", disable=quiet,
                   file=sys.stderr)
        with limit_threads(n_threads):
            for i in range(0, len(clips), batch_size):
                batch = clips[i:i + batch_size]
                with catch_out_of_range() as found:  # named once, by file, at the end
                    parts.append(scorer(batch) if has_proba else model.predict(batch))
                caught += [(i, warning) for warning in found]
                bar.update(len(batch))
        bar.close()
    if has_proba:
        proba = np.concatenate(parts)
        return proba, classes[np.argmax(proba, axis=1)], caught
    return None, np.concatenate(parts), caught


def _predict_by_speaker(model, clips, paths, mode, has_proba, n_threads, quiet):
    """Speaker-normalised models: each speaker's clips are standardised together."""
    import sklearn

    from ..features._guard import catch_out_of_range
    from ..streaming._recognizer import limit_threads

    if mode == "all":
        groups = np.array(["speaker"] * len(clips))
    else:
        groups = np.array([os.path.basename(os.path.dirname(os.path.abspath(p)))
                           for p in paths])
    if not quiet:
        how = "all files as one" if mode == "all" else "one per folder"
        print(f"Speaker normalisation: {len(np.unique(groups))} speaker(s) ({how}; see "
              "--speaker-mode)", file=sys.stderr)
    with sklearn.config_context(enable_metadata_routing=True), limit_threads(n_threads), \
            catch_out_of_range() as found:
        if has_proba:
            proba = model.predict_proba(clips, groups=groups)
            labels = np.asarray(model.classes_)[np.argmax(proba, axis=1)]
        else:
            proba, labels = None, model.predict(clips, groups=groups)
    return proba, labels, [(0, warning) for warning in found]


def _out_of_range(caught, n_clips, names=None):
    """Flags of the clips that any guard named, and each one's worst features.

    ``caught`` holds ``(offset, warning)``: the warning's indices count from the first clip of
    its batch. A fusion has one guard per member, so a clip may be named more than once.
    ``names`` (or None) replaces the guard's generic names ``x12`` by the features' own.
    """
    flags = np.zeros(n_clips, dtype=bool)
    worst = {}
    for offset, warning in caught:
        features = list(warning.features) + [()] * (len(warning.indices) - len(warning.features))
        for index, found in zip(warning.indices, features):
            flags[offset + index] = True
            worst.setdefault(int(offset + index), tuple(_rename(f, names) for f in found))
    return flags, worst


def _guard_input_names(model):
    """Names of the features the model's ``guard`` step sees, or None.

    The guard gets an array from the extractors, so its own names are ``x0``, ``x1``, ...;
    the steps before it know the real ones. Only a guard that is a step of the model itself
    is looked at: in a fusion the members' features differ and a name would be ambiguous.
    """
    from sklearn.exceptions import NotFittedError

    steps = [name for name, _ in getattr(model, "steps", None) or []]
    if "guard" not in steps or steps.index("guard") == 0:
        return None
    try:
        return np.asarray(model[:steps.index("guard")].get_feature_names_out())
    except (AttributeError, NotFittedError, TypeError, ValueError):
        return None


def _rename(feature, names):
    if names is None or not feature.startswith("x") or not feature[1:].isdigit():
        return feature
    column = int(feature[1:])
    return str(names[column]) if column < len(names) else feature


def _out_of_range_message(files, flags, worst, shown=10):
    """One message that names the flagged files (the first ``shown``) and their features."""
    flagged = np.flatnonzero(flags)
    named = [f"{files[k]}" + (f" ({', '.join(worst[k])})" if worst.get(k) else "")
             for k in flagged[:shown]]
    more = f" and {len(flagged) - shown} more" if len(flagged) > shown else ""
    return (f"{len(flagged)} of {len(files)} file(s) have features far outside the model's "
            "training range, so their labels are extrapolations (silence, a wild level, a "
            f"broken file?): {'; '.join(named)}{more}. The CSV marks them in its "
            "out_of_range column.")
