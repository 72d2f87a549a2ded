"""``sklearn-ser extract``: features of audio files or a corpus, one row per file, to a table.

Any extractor the package has: the classic pipelines' default feature set, the benchmark's
feature names (``mfcc``, ``lpcc``, ...), openSMILE's standard sets (``egemaps``,
``compare``) and a pretrained speech encoder (``hf:<model>``). A folder that holds a known
corpus is read with that corpus's loader, as ``sklearn-ser datasets --check`` reads it, so
that the speaker and label columns are filled.
"""

import os
import sys
import warnings

import numpy as np

from ._predict import _read_files, _report_errors

#: ``--features`` names of openSMILE's sets, besides ``opensmile:<any set>``.
OPENSMILE_NAMES = {"egemaps": "eGeMAPSv02", "compare": "ComParE_2016"}

#: Output formats by file extension.
FORMATS = (".csv", ".parquet")

_HF_PREFIX = "hf:"
_OPENSMILE_PREFIX = "opensmile:"


def add_parser(commands):
    """Register the ``extract`` subcommand."""
    parser = commands.add_parser(
        "extract",
        help="write the features of audio files or a corpus to a CSV or Parquet table",
        description="Extract features from audio files or folders (searched recursively) "
        "and write one row per file: file, speaker, label, one column per feature (named "
        "as the extractor's get_feature_names_out names them) and error. A folder that holds "
        "EmoDB, RAVDESS, TESS or CREMA-D (recognised from the file names, as sklearn-ser "
        "datasets --check does) is read with that corpus's loader, which fills the speaker "
        "and label columns; --dataset names the loader instead. A file that cannot be read "
        "or whose features cannot be computed does not stop the others: its row gives the "
        "reason in the error column and it is named on stderr. The exit status is 1 only "
        "when no file could be extracted, or with --strict when any could not.",
        epilog="Feature names (comma-separated; several are concatenated): the classic "
        "pipelines' extractors mfcc, lpcc, spectral, prosody, logmel (default: all five, "
        "with the pipelines' settings); egemaps (openSMILE eGeMAPSv02 functionals) and "
        "compare (ComParE 2016), or opensmile:<set> for another openSMILE set (IS09, "
        "emobase, ...), with the [opensmile] extra; hf:<model name or folder> for a "
        "pretrained speech encoder (wav2vec 2.0, HuBERT, WavLM, ...), with the [embeddings] "
        "extra.",
    )
    parser.add_argument("paths", nargs="+", metavar="FILE|DIR", help="audio files or folders")
    parser.add_argument("--output", "-o", required=True,
                        help="table to write: .csv, or .parquet (needs pyarrow or "
                        "fastparquet)")
    parser.add_argument("--features", default=None,
                        help="comma-separated feature names (see below; default: mfcc, lpcc, "
                        "spectral, prosody, logmel)")
    parser.add_argument("--dataset", default=None,
                        choices=("emodb", "ravdess", "tess", "cremad", "folder"),
                        help="loader for a folder's speakers and labels (default: the corpus "
                        "its file names follow, if any; folder: one sub-folder per label)")
    parser.add_argument("--sr", type=int, default=16000,
                        help="sample rate the files are resampled to (default: 16000)")
    parser.add_argument("--batch-size", type=int, default=64,
                        help="files extracted at once (default: 64)")
    parser.add_argument("--n-jobs", type=int, default=None,
                        help="files read and features extracted in parallel (joblib; -1 = "
                        "all cores)")
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 1 when any file could not be extracted (its "
                        "row still gives the error)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(run=run)
    return parser


def run(args, argv):
    """Run ``sklearn-ser extract``."""
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1; got {args.batch_size}.")
    check_output(args.output)
    files, meta = collect(args.paths, args.dataset, quiet=args.quiet)
    table = _Table(files, meta)
    try:
        extractor = build_extractor(args.features, sr=args.sr, n_jobs=args.n_jobs)
        clips = _read_files(files, args.sr, args.n_jobs, args.quiet, table)
        good = [k for k in range(len(files)) if k not in table.errors]
        if good:
            _extract(extractor, clips, good, table, args.batch_size, args.quiet)
    except ImportError as exc:  # a missing extra: one line that says what to install
        print(f"sklearn-ser extract: error: {exc}", file=sys.stderr)
        return 2
    frame = table.frame()
    write_table(frame, args.output)
    n_ok = len(files) - len(table.errors)
    if not args.quiet:
        print(f"Wrote {n_ok} row(s) of {table.n_features} feature(s) to {args.output}",
              file=sys.stderr)
    return _report_errors(table, strict=args.strict, command="extract", verb="extract",
                          done="extracted", where="rows")


# -- the extractor ---------------------------------------------------------------------------

def build_extractor(features, *, sr=16000, n_jobs=None):
    """The extractor that ``--features`` names: one, or an ``ExtractorUnion`` of several.

    Raises ValueError for an unknown name, with the names there are.
    """
    from ..features import ExtractorUnion
    from ..pipelines import DEFAULT_FEATURES

    names = list(DEFAULT_FEATURES) if features is None else [
        n.strip() for n in features.split(",") if n.strip()]
    if not names:
        raise ValueError("--features is empty; name at least one feature set, e.g. mfcc.")
    built = [_one_extractor(name, sr=sr, n_jobs=n_jobs) for name in names]
    if len(built) == 1:
        return built[0][1]
    # The union hands each worker a share of the clips to run through every extractor.
    serial = [(name, est.set_params(n_jobs=None) if "n_jobs" in est.get_params() else est)
              for name, est in built]
    return ExtractorUnion(serial, n_jobs=n_jobs)


def _one_extractor(name, *, sr, n_jobs):
    from ..pipelines import EXTRACTORS, make_features

    if name in EXTRACTORS:
        return make_features(name, sr=sr, n_jobs=n_jobs)
    if name in OPENSMILE_NAMES or name.startswith(_OPENSMILE_PREFIX):
        from ..features import OPENSMILE_FEATURE_SETS, OpenSmileExtractor

        feature_set = OPENSMILE_NAMES.get(name, name[len(_OPENSMILE_PREFIX):])
        if feature_set not in OPENSMILE_FEATURE_SETS:
            raise ValueError(f"Unknown openSMILE set {feature_set!r} in --features; choose "
                             f"from {', '.join(OPENSMILE_FEATURE_SETS)}.")
        return name, OpenSmileExtractor(feature_set=feature_set, sr=sr, n_jobs=n_jobs)
    if name.startswith(_HF_PREFIX) and len(name) > len(_HF_PREFIX):
        return name, _pretrained_extractor(name[len(_HF_PREFIX):], sr=sr)
    known = sorted(EXTRACTORS) + sorted(OPENSMILE_NAMES) + ["opensmile:<set>", "hf:<model>"]
    raise ValueError(f"Unknown feature set {name!r} in --features; choose from "
                     f"{', '.join(known)}.")


def _pretrained_extractor(model, *, sr):
    # Imported at call time: it needs torch and the [embeddings] extra, and another part of
    # the package provides it.
    try:
        from ..neural import PretrainedSpeechExtractor
    except ImportError as exc:
        raise ImportError(
            f"--features hf:{model} needs sklearn_ser.neural.PretrainedSpeechExtractor, "
            f"which could not be imported ({exc}). Install the extra: pip install "
            '"sklearn-ser[embeddings]".'
        ) from exc
    return PretrainedSpeechExtractor(model, sr=sr)


# -- the files -------------------------------------------------------------------------------

def collect(paths, dataset=None, *, quiet=False):
    """The audio files of ``paths``, in order, and what a corpus loader knows of them.

    Returns
    -------
    files : list of str
        Files as given, then each folder's audio files (recursively, sorted); each file once.
    meta : dict of str to (str, str)
        ``(speaker, label)`` by absolute path, for the files of folders read with a loader.
    """
    from ..datasets import list_audio_files

    files, meta = [], {}
    for path in paths:
        if os.path.isdir(path):
            found = list_audio_files(path)
            if not found:
                raise FileNotFoundError(f"No audio files (.wav, .flac, ...) in folder '{path}'.")
            files += found
            meta.update(_corpus_labels(path, dataset, quiet))
        elif os.path.exists(path):
            files.append(path)
        else:
            raise FileNotFoundError(f"No such file or folder: '{path}'.")
    return list(dict.fromkeys(files)), meta


def _corpus_labels(folder, dataset, quiet):
    """Speakers and labels of a folder's files, from the corpus loader that fits it.

    The loader is the one ``sklearn-ser datasets --check`` picks (the corpus whose naming
    the files follow), or ``dataset``. A folder of no known corpus gets no labels unless
    ``--dataset folder`` says its sub-folders are labels. The loader's warnings (files it
    skips, and why) are shown; a skipped file is still extracted, without labels.
    """
    from .. import datasets
    from ._datasets import LOADERS, choose_loader

    found, _, _ = datasets.detect_corpus(folder)
    if dataset is None and found is None:
        print(f"note: '{folder}' follows no known corpus's naming (EmoDB, RAVDESS, TESS, "
              "CREMA-D): speaker and label are left empty (--dataset folder takes labels "
              "from sub-folder names).", file=sys.stderr)
        return {}
    name, note = choose_loader(folder, dataset)
    if note and not quiet:
        print(note.replace("checking with", "reading speakers and labels with"),
              file=sys.stderr)
    loader = getattr(datasets, LOADERS[name][0])
    bunch = loader(folder)
    return {os.path.abspath(path): (str(speaker), str(label))
            for path, speaker, label in zip(bunch.data, bunch.groups, bunch.target)}


class _Table:
    """Each file's features or error, and its speaker and label when known."""

    def __init__(self, files, meta):
        self.files = files
        self.meta = meta
        self.rows = [None] * len(files)
        self.errors = {}
        self.names = None

    @property
    def n_features(self):
        return 0 if self.names is None else len(self.names)

    def fail(self, k, exc):
        from ._predict import _describe_error

        self.errors[k] = _describe_error(exc, [self.files[k]])

    def frame(self):
        """The table: file, speaker, label, the features, error."""
        import pandas as pd

        n = self.n_features
        empty = np.full(n, np.nan)
        values = np.vstack([empty if row is None else row for row in self.rows]) if n else \
            np.empty((len(self.files), 0))
        known = [self.meta.get(os.path.abspath(f), ("", "")) for f in self.files]
        head = pd.DataFrame({
            "file": self.files,
            "speaker": [speaker for speaker, _ in known],
            "label": [label for _, label in known],
        })
        features = pd.DataFrame(values, columns=[str(c) for c in (self.names or [])])
        tail = pd.DataFrame({"error": [self.errors.get(k, "") for k in range(len(self.files))]})
        return pd.concat([head, features, tail], axis=1)


def _extract(extractor, clips, good, table, batch_size, quiet):
    """Fit the extractor on the readable clips, then extract batch by batch.

    A batch that fails is extracted again file by file, so a bad file costs its own row.
    Warnings that name clips (``X[3]``) are issued again with the files' paths.
    """
    from tqdm.auto import tqdm

    from ._predict import _warnings_by_file

    fitted = _fit(extractor, clips, good, table)
    if fitted is None:
        return
    bar = tqdm(total=len(good), desc="Extracting", unit="file", disable=quiet,
               file=sys.stderr)
    for i in range(0, len(good), batch_size):
        batch = [k for k in good[i:i + batch_size] if k not in table.errors]
        with _warnings_by_file([table.files[k] for k in batch]):
            failed = _attempt(fitted, clips, batch, table)
        if failed:
            for k in batch:
                with _warnings_by_file([table.files[k]]):
                    exc = _attempt(fitted, clips, [k], table)
                if exc is not None:
                    table.fail(k, exc)
        bar.update(len(batch))
    bar.close()


def _fit(extractor, clips, good, table):
    """The fitted extractor and its column names, or None when no clip can be fitted on.

    Fitting validates the clips together; should that fail, each clip is tried alone and
    those that fail on their own get their error.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # transform raises them again, by file
            fitted = extractor.fit([clips[k] for k in good])
    except ImportError:  # a missing extra is no file's fault
        raise
    except Exception:  # noqa: BLE001 - find the files at fault, keep the others
        ok = []
        for k in good:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    extractor.fit([clips[k]])
                ok.append(k)
            except Exception as exc:  # noqa: BLE001
                table.fail(k, exc)
        if not ok:
            return None
        fitted = extractor.fit([clips[k] for k in ok])
    table.names = [str(n) for n in fitted.get_feature_names_out()]
    return fitted


def _attempt(extractor, clips, idx, table):
    """Extract the clips ``idx`` and keep their rows; return the exception, or None."""
    try:
        values = np.asarray(extractor.transform([clips[k] for k in idx]), dtype=np.float64)
    except Exception as exc:  # noqa: BLE001 - a bad file must cost its own row only
        return exc
    if values.ndim != 2:
        raise ValueError(
            f"extract writes one row per file, but the extractor returned an array of shape "
            f"{values.shape} (frame sequences?); choose pooled features.")
    for k, row in zip(idx, values):
        table.rows[k] = row
    return None


# -- the output ------------------------------------------------------------------------------

def check_output(path):
    """Refuse an output the table cannot be written to, before any work is done."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise ValueError(f"--output must end with {' or '.join(FORMATS)}; got '{path}'.")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"No such folder for --output: '{folder}'.")
    if ext == ".parquet" and _parquet_engine() is None:
        raise ValueError("Writing .parquet needs pyarrow or fastparquet, and neither is "
                         "installed: pip install pyarrow, or write a .csv file.")


def _parquet_engine():
    """The first Parquet engine pandas can use, or None."""
    import importlib

    for engine in ("pyarrow", "fastparquet"):
        try:
            importlib.import_module(engine)
        except ImportError:
            continue
        return engine
    return None


def write_table(frame, path):
    """Write the table as CSV or Parquet, by the file's extension."""
    if path.lower().endswith(".parquet"):
        frame.to_parquet(path, index=False, engine=_parquet_engine())
    else:
        frame.to_csv(path, index=False)
