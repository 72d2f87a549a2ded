"""``sklearn-ser datasets``: list the corpus loaders, or check a corpus folder."""

import os
import sys
import warnings

#: name -> (loader, environment variable, download function or None, what the folder holds)
LOADERS = {
    "emodb": ("load_emodb", "SKLEARN_SER_EMODB", "fetch_emodb",
              "Berlin EmoDB: wav/ with names like 03a01Wa.wav"),
    "ravdess": ("load_ravdess", "SKLEARN_SER_RAVDESS", "fetch_ravdess",
                "RAVDESS speech: Actor_01/03-01-05-01-01-01-01.wav ..."),
    "tess": ("load_tess", "SKLEARN_SER_TESS", None,
             "Toronto emotional speech set: OAF_back_angry.wav ..."),
    "cremad": ("load_cremad", "SKLEARN_SER_CREMAD", None,
               "CREMA-D: AudioWAV/1001_DFA_ANG_XX.wav ..."),
    "folder": ("load_folder", None, None,
               "your own corpus: one sub-folder per label, or a CSV of path,label[,speaker]"),
}


def add_parser(commands):
    """Register the ``datasets`` subcommand."""
    parser = commands.add_parser(
        "datasets",
        help="list the corpus loaders and where they look, or check a corpus folder",
        description="Without --check: list the corpus loaders, their environment variables "
        "and whether their data is found. With --check DIR: load the folder with a loader and "
        "report the clips per emotion and speaker, the total duration and every file that "
        "cannot be used. The loader is recognised from the file names (EmoDB, RAVDESS, TESS, "
        "CREMA-D; else folder) unless --dataset names one.",
    )
    parser.add_argument("--check", metavar="DIR", default=None,
                        help="corpus folder to check")
    parser.add_argument("--dataset", choices=sorted(LOADERS), default=None,
                        help="loader to check the folder with (default: the corpus whose "
                        "file names the folder holds, else folder: one sub-folder per label)")
    parser.add_argument("--decode", action="store_true",
                        help="also decode every file (slower; finds files whose header reads "
                        "but whose audio does not)")
    parser.add_argument("--n-jobs", type=int, default=None,
                        help="files decoded in parallel with --decode (joblib)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)
    return parser


def _where(name):
    from ..datasets import resolve_data_dir

    loader, env_var, fetch, _ = LOADERS[name]
    if env_var is None:
        return "any folder: pass it (--data-dir, --check)"
    try:
        return resolve_data_dir(None, corpus=name, env_var=env_var, fetch_name=fetch)
    except FileNotFoundError:
        return "not found" + (f" (download: sklearn_ser.datasets.{fetch}())" if fetch else "")


def list_loaders():
    """The table printed by ``sklearn-ser datasets``."""
    lines = [f"{'name':<9} {'loader':<13} {'environment variable':<22} data"]
    for name, (loader, env_var, _, describe) in LOADERS.items():
        lines.append(f"{name:<9} {loader:<13} {env_var or '-':<22} {_where(name)}")
        lines.append(f"{'':<9} {'':<13} {'':<22} {describe}")
    lines.append(f"{'synthetic':<9} {'make_emotional_speech':<36} generated, no files needed")
    return "\n".join(lines)


def run(args, argv):
    """Run ``sklearn-ser datasets``."""
    if args.check is None:
        print(list_loaders())
        return 0
    from .. import datasets
    from ..exceptions import SklearnSerWarning

    if not os.path.isdir(args.check):
        raise FileNotFoundError(f"No such folder: '{args.check}'.")
    name, note = choose_loader(args.check, args.dataset)
    if note:
        print(note)
    loader = getattr(datasets, LOADERS[name][0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SklearnSerWarning)
        bunch = loader(args.check, return_clips=args.decode, n_jobs=args.n_jobs,
                       verbose=0 if args.quiet else 1)
    print(check_report(bunch, args.check, name))
    problems = [str(w.message) for w in caught if issubclass(w.category, SklearnSerWarning)]
    for message in problems:
        print(f"  problem: {message}")
    if problems:
        print(f"{len(problems)} problem(s) need attention (see above).")
    else:
        print("No problems found.")
    for w in caught:
        if not issubclass(w.category, SklearnSerWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    sys.stdout.flush()
    return 1 if problems else 0


#: Names of the known corpora, as the messages of --check write them.
_CORPUS_NAMES = {"emodb": "EmoDB", "ravdess": "RAVDESS", "tess": "TESS", "cremad": "CREMA-D"}


def choose_loader(folder, dataset):
    """The loader to check ``folder`` with, and a line that says why (or None).

    Without ``--dataset``, the corpus whose file names most files follow; else ``folder``.
    With it, that loader, and a hint when the names say another corpus: the folder loader
    would take EmoDB's ``wav/`` for one emotion named "wav".
    """
    from ..datasets import detect_corpus

    found, n_matching, n_files = detect_corpus(folder)
    share = f"{n_matching} of {n_files} file names"
    if dataset is None and found:
        return found, (f"Recognised {_CORPUS_NAMES[found]} ({share} follow its naming); "
                       f"checking with --dataset {found}.")
    if dataset is None:
        return "folder", ("No known corpus's naming (EmoDB, RAVDESS, TESS, CREMA-D) found; "
                          "checking with --dataset folder (one sub-folder per label).")
    if found and found != dataset:
        return dataset, (f"note: {share} follow {_CORPUS_NAMES[found]}'s naming; if this is "
                         f"{_CORPUS_NAMES[found]}, pass --dataset {found}.")
    return dataset, None


def check_report(bunch, folder, name):
    """Counts per emotion and per speaker of a loaded corpus, as text."""
    frame = bunch.frame
    rates = ", ".join(str(int(r)) for r in sorted(frame["native_sr"].unique()))
    lines = [f"{name} corpus in {folder}: {len(frame)} clips, "
             f"{frame['duration'].sum() / 60:.1f} min, {frame['speaker'].nunique()} "
             f"speaker(s), sample rate(s) {rates} Hz"]
    lines.append("clips per emotion:")
    for emotion, count in frame["emotion"].value_counts().sort_index().items():
        lines.append(f"  {emotion:<14} {count:>6}")
    lines.append("clips per speaker:")
    counts = frame["speaker"].astype(str).value_counts().sort_index()
    for speaker, count in counts.items():
        lines.append(f"  {speaker:<14} {count:>6}")
    short = int((frame["duration"] < 0.5).sum())
    if short:
        lines.append(f"  note: {short} clip(s) shorter than 0.5 s")
    return "\n".join(lines)
