"""``sklearn-ser predict``: label audio files with a saved model and write a CSV."""

import contextlib
import csv
import os
import re
import sys
import warnings

import numpy as np

SPEAKER_MODES = ("all", "dir", "none")


def add_parser(commands):
    """Register the ``predict`` subcommand."""
    from ._model_file import add_trust_option

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
        "one warning. A file that cannot be read or scored (unreadable, empty, NaN samples) "
        "does not stop the others: its row has an empty label and the reason in the error "
        "column (empty for the others), and it is named on stderr. The exit status is 1 "
        "only when no file could be labelled, or with --strict when any could not. A "
        "regressor's file (sklearn-ser train --target arousal, ...) gives its values "
        "instead of the label and probabilities: a column named after its target.",
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
    add_trust_option(parser)
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 1 when any file could not be labelled (its "
                        "CSV row still gives the error)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(run=run)
    return parser


def collect_files(paths):
    """Expand folders into their audio files; keep files as given."""
    from ..datasets import list_audio_files

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
    from ..utils import estimator_sr

    sr = (manifest.get("metadata") or {}).get("sr")
    if sr:
        return int(sr)
    return estimator_sr(model, default=16000)


def _load(model_path, allow_version_mismatch, trust=False):
    from ._model_file import load_model_file

    return load_model_file(model_path, trust=trust,
                           allow_version_mismatch=allow_version_mismatch)


def run(args, argv):
    """Run ``sklearn-ser predict``."""
    from sklearn.base import is_regressor

    from ..utils import has_speaker_normalizer

    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1; got {args.batch_size}.")
    model, manifest = _load(args.model, args.allow_version_mismatch, args.trust)
    files = collect_files(args.paths)
    results = _Results(files)
    clips = _read_files(files, model_sr(model, manifest), args.n_jobs, args.quiet, results)
    good = [k for k in range(len(files)) if k not in results.errors]
    regressor = is_regressor(model)
    method = "predict_proba" if hasattr(model, "predict_proba") else "predict"
    n_threads = args.n_threads or None
    if good and has_speaker_normalizer(model) and args.speaker_mode != "none":
        _predict_by_speaker(model, method, clips, good, results, args.speaker_mode, n_threads,
                            args.quiet)
    elif good:
        _predict_in_batches(model, method, clips, good, results, args.batch_size, n_threads,
                            args.quiet)
    flags, worst = _out_of_range(results.caught, len(files), _guard_input_names(model))
    if flags.any():
        print(f"sklearn-ser predict: warning: {_out_of_range_message(files, flags, worst)}",
              file=sys.stderr)
    if regressor:
        columns = _value_columns(manifest, results)
    else:
        if method == "predict":
            print("sklearn-ser predict: note: the model has no predict_proba; the CSV has "
                  "labels only.", file=sys.stderr)
        columns = _label_columns(np.asarray(model.classes_), method == "predict_proba")
    _write_csv(args.output, results, columns, flags)
    if args.output and not args.quiet:
        print(f"Wrote {len(files) - len(results.errors)} prediction(s) to {args.output}",
              file=sys.stderr)
    return _report_errors(results, strict=args.strict,
                          verb="score" if regressor else "label",
                          done="scored" if regressor else "labelled")


class _Results:
    """What became of each file: its output (probabilities or a label) or its error.

    ``caught`` holds the guard's out-of-range warnings as ``(file indices, warning)``: the
    warning's own indices count the clips of the call that raised it.
    """

    def __init__(self, files):
        self.files = files
        self.values = [None] * len(files)
        self.errors = {}
        self.caught = []

    def fail(self, k, exc):
        self.errors[k] = _describe_error(exc, [self.files[k]])

    def attempt(self, score, idx):
        """Score the files ``idx`` together and keep their outputs; or return the exception.

        Warnings are issued again with the files' paths for the clip indices they name, and
        only when the call succeeds: a failed batch is scored again, clip by clip.
        """
        from ..features import catch_out_of_range

        try:
            with _warnings_by_file([self.files[k] for k in idx]), \
                    catch_out_of_range() as found:
                values = score(idx)
        except Exception as exc:  # noqa: BLE001 - a bad file must cost its own row only
            return exc
        for k, value in zip(idx, values):
            self.values[k] = value
        self.caught += [(np.asarray(idx), warning) for warning in found]
        return None

    def attempt_each(self, score, idx):
        """Score each file of ``idx`` alone, keeping the error of each one that fails."""
        for k in idx:
            exc = self.attempt(score, [k])
            if exc is not None:
                self.fail(k, exc)

    def probe(self, score, k):
        """Whether file ``k`` can be scored alone (its output is not kept); keeps its error."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                score([k])
        except Exception as exc:  # noqa: BLE001 - a bad file must cost its own row only
            self.fail(k, exc)
            return False
        return True


def _read_files(files, sr, n_jobs, quiet, results):
    """Decode every file; those that cannot be read get an error.

    ``load_many`` already refuses files with NaN or infinite samples (naming the sample), so
    such a file fails here, alone, rather than failing the batch it would be scored in.
    """
    from tqdm.auto import tqdm

    from ..io import load_many

    clips = []
    bar = tqdm(total=len(files), desc="Reading", unit="file", disable=quiet, file=sys.stderr)
    for i in range(0, len(files), 256):
        batch = files[i:i + 256]
        clips += load_many(batch, sr=sr, n_jobs=n_jobs, on_error="return")
        bar.update(len(batch))
    bar.close()
    for k, clip in enumerate(clips):
        if isinstance(clip, Exception):
            results.fail(k, clip)
    return clips


#: Clip indices in a message: ``X[3]``, ``X[3, 7]``, ``X[3, 7, ... (5 more)]``.
_CLIP_INDICES = re.compile(r"X\[(\d+(?:, \d+)*)((?:, \.\.\. \(\d+ more\))?)\]")


def _name_files(message, paths):
    """``message`` with the clip indices it names (``X[3]``) replaced by the files' paths."""

    def files(match):
        named = [f"'{paths[int(i)]}'" if int(i) < len(paths) else f"X[{i}]"
                 for i in match[1].split(", ")]
        return ", ".join(named) + match[2]

    return _CLIP_INDICES.sub(files, message)


def _describe_error(exc, paths):
    """``"ValueError: message"`` on one line, naming files rather than clip indices."""
    message = _name_files(" ".join(str(exc).split()), paths)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


@contextlib.contextmanager
def _warnings_by_file(paths):
    """Issue the block's warnings again, naming the files ``paths`` instead of ``X[i]``.

    The features number the clips of the call they got (a batch), which mean nothing to
    someone who gave file names. Nothing is issued when the block raises.
    """
    with warnings.catch_warnings(record=True) as seen:
        yield
    for note in seen:
        warnings.warn(_name_files(str(note.message), paths), note.category, stacklevel=3)


def _label_columns(classes, has_proba):
    """A classifier's CSV columns and each row's cells: the label, then its probabilities."""
    if not has_proba:
        return ["label"], lambda value: [value]
    return (["label"] + [f"prob_{c}" for c in classes],
            lambda value: [classes[np.argmax(value)]] + [f"{p:.6f}" for p in value])


def _value_columns(manifest, results):
    """A regressor's CSV columns, named after its target (``arousal``; ``value`` when the
    model file does not say), one per output for a model of several targets."""
    from ._model_file import target_name

    name = target_name(manifest)
    shapes = {np.shape(v) for v in results.values if v is not None}
    n_outputs = max((shape[0] for shape in shapes if shape), default=0)
    if not n_outputs:
        return [name], lambda value: [f"{float(value):.6f}"]
    return ([f"{name}_{j}" for j in range(n_outputs)],
            lambda value: [f"{float(v):.6f}" for v in value])


def _write_csv(output, results, columns, flags):
    """One row per file, in the order given; a file that failed has only its error.

    ``columns`` is ``(names, cells)``: the model's output columns and the function that
    turns one file's output into them.
    """
    names, cells = columns
    header = ["file", *names, "out_of_range", "error"]
    out = open(output, "w", newline="") if output else sys.stdout
    try:
        writer = csv.writer(out)
        writer.writerow(header)
        for k, path in enumerate(results.files):
            if k in results.errors:
                writer.writerow([path] + [""] * (len(header) - 2) + [results.errors[k]])
                continue
            writer.writerow([path, *cells(results.values[k]),
                             "true" if flags[k] else "false", ""])
    finally:
        if output:
            out.close()


def _report_errors(results, *, strict, command="predict", verb="label", done="labelled",
                   where="CSV rows"):
    """Name each file that failed on stderr; 1 when none was ``done`` (or any, if strict).

    Shared by ``predict`` and ``extract``: ``results`` has ``files`` and ``errors``.
    """
    errors = results.errors
    for k in sorted(errors):
        print(f"sklearn-ser {command}: could not {verb} '{results.files[k]}': {errors[k]}",
              file=sys.stderr)
    if errors:
        print(f"sklearn-ser {command}: {len(errors)} of {len(results.files)} file(s) could not "
              f"be {done}; their {where} give the error (--strict: exit status 1 then).",
              file=sys.stderr)
    return 1 if errors and (strict or len(errors) == len(results.files)) else 0


def _predict_in_batches(model, method, clips, good, results, batch_size, n_threads, quiet):
    """Score the files ``good`` in batches; a batch that fails is scored file by file.

    ``method`` is ``"predict_proba"`` (through ``ClipScorer``, which skips the padding
    frames of deep pipelines) or ``"predict"`` (labels, or a regressor's values)."""
    from tqdm.auto import tqdm

    from ..streaming import ClipScorer, limit_threads

    with warnings.catch_warnings():
        # "none" speaker mode of a speaker-normalised model: the user chose pooled statistics.
        warnings.filterwarnings("ignore", message="SpeakerNormalizer got no groups")
        warnings.filterwarnings("ignore", message="The pipeline normalises features per")
        predict = ClipScorer(model) if method == "predict_proba" else model.predict

        def score(idx):
            return predict([clips[k] for k in idx])

        bar = tqdm(total=len(good), desc="Predicting", unit="file", disable=quiet,
                   file=sys.stderr)
        with limit_threads(n_threads):
            for i in range(0, len(good), batch_size):
                batch = good[i:i + batch_size]
                if results.attempt(score, batch) is not None:
                    results.attempt_each(score, batch)
                bar.update(len(batch))
        bar.close()


def _predict_by_speaker(model, method, clips, good, results, mode, n_threads, quiet):
    """Speaker-normalised models: each speaker's clips are standardised together.

    When the whole call fails, each speaker is scored alone; in a speaker that still fails,
    the files that fail on their own are set apart and the others scored together again.
    """
    import sklearn

    from ..streaming import limit_threads

    if mode == "all":
        groups = np.array(["speaker"] * len(clips))
    else:
        groups = np.array([os.path.basename(os.path.dirname(os.path.abspath(p)))
                           for p in results.files])
    if not quiet:
        how = "all files as one" if mode == "all" else "one per folder"
        print(f"Speaker normalisation: {len(np.unique(groups[good]))} speaker(s) ({how}; see "
              "--speaker-mode)", file=sys.stderr)

    def score(idx):
        return getattr(model, method)([clips[k] for k in idx], groups=groups[idx])

    with sklearn.config_context(enable_metadata_routing=True), limit_threads(n_threads):
        if results.attempt(score, good) is None:
            return
        for speaker in np.unique(groups[good]):
            _score_speaker(score, [k for k in good if groups[k] == speaker], results)


def _score_speaker(score, idx, results):
    """Score one speaker's files together, without the files that fail on their own."""
    if results.attempt(score, idx) is None:
        return
    rest = [k for k in idx if results.probe(score, k)]
    exc = results.attempt(score, rest) if rest else None
    for k in rest if exc is not None else []:
        results.fail(k, exc)


def _out_of_range(caught, n_clips, names=None):
    """Flags of the clips that any guard named, and each one's worst features.

    ``caught`` holds ``(positions, warning)``: the warning's indices count the clips of the
    call that raised it, and ``positions`` maps them to the files. A fusion has one guard per
    member, so a clip may be named more than once. ``names`` (or None) replaces the guard's
    generic names ``x12`` by the features' own.
    """
    flags = np.zeros(n_clips, dtype=bool)
    worst = {}
    for positions, warning in caught:
        features = list(warning.features) + [()] * (len(warning.indices) - len(warning.features))
        for index, found in zip(warning.indices, features):
            flags[positions[index]] = True
            worst.setdefault(int(positions[index]), tuple(_rename(f, names) for f in found))
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
