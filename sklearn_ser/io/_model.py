"""Saving and loading fitted models: ``save_model`` / ``load_model``.

A model file (``.sser`` by convention) is one zip archive holding

* ``manifest.json``: the format version, the creation date, the estimator's class, its labels,
  the versions of the packages its model data refers to (plus Python's), the SHA-256 of the
  model data and any user metadata;
* ``model.skops``: the estimator in the format of :mod:`skops.io` (format 2). It is a tree of
  typed nodes with numpy arrays, not a pickle; networks are stored as weight arrays.

``load_model`` checks the file before building anything from it: a damaged file gets one
``ValueError`` that names it and says what is wrong; a newer format or other package versions
get a :class:`~sklearn_ser.exceptions.ModelVersionError` naming each package; then skops lists
the types the model data names, and any type outside the rule of ``_trust.py`` (estimators,
samplers and pipelines of sklearn_ser, scikit-learn and imbalanced-learn, and a short list of
named helpers) is refused with an :class:`~sklearn_ser.exceptions.UntrustedModelError`, unless
``trusted=`` names it. Loading a file therefore never runs code from it by default.

Files of format 1 (a joblib pickle, written by earlier versions) still load, but only with
``trusted=True``: a pickle runs whatever it contains and cannot be checked first.
"""

import datetime
import hashlib
import io
import json
import os
import platform
import sys
import warnings
import zipfile
from importlib import metadata as importlib_metadata

import numpy as np

from ..exceptions import ModelVersionError, ModelVersionWarning, UntrustedModelError
from ._requests import restore_requests, without_requests
from ._trust import check_loaded, is_trusted_type

FORMAT = "sklearn_ser-model"
FORMAT_VERSION = 2
_MANIFEST = "manifest.json"
_MODEL = "model.skops"
_PICKLE = "model.joblib"  # format 1
_MEMBERS = {1: _PICKLE, 2: _MODEL}
_ZIP_MAGIC = b"PK\x03\x04"

# Import name -> distribution name, for the packages whose version decides whether a model
# loads and predicts the same. ``exact`` packages must match to the patch release (scikit-learn
# itself only guarantees its estimators within one version); the others to the minor release.
_PACKAGES = {
    "sklearn_ser": ("sklearn-ser", "exact"),
    "sklearn": ("scikit-learn", "exact"),
    "numpy": ("numpy", "minor"),
    "scipy": ("scipy", "minor"),
    "joblib": ("joblib", "minor"),
    "imblearn": ("imbalanced-learn", "minor"),
    "torch": ("torch", "minor"),
    "skorch": ("skorch", "minor"),
    "transformers": ("transformers", "minor"),
}
# Always recorded and checked, whatever the model refers to.
_ALWAYS = ("sklearn_ser", "sklearn", "numpy")


def _installed_version(module):
    if module == "sklearn_ser":
        from .. import __version__

        return __version__
    mod = sys.modules.get(module)
    version = getattr(mod, "__version__", None)
    if version is None:
        try:
            version = importlib_metadata.version(_PACKAGES[module][0])
        except importlib_metadata.PackageNotFoundError:
            return None
    return str(version).split("+")[0]  # "2.13.0+cpu" -> "2.13.0": the build does not matter


# -- saving ----------------------------------------------------------------------------------

def _schema_modules(payload):
    """The ``__module__`` of every node in the skops data: what the model refers to."""
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        schema = json.loads(archive.read("schema.json"))
    modules, stack = set(), [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("__module__"), str):
                modules.add(node["__module__"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return modules


def _referenced_packages(modules):
    """The packages of ``_PACKAGES`` a model with nodes from ``modules`` depends on."""
    found = set(_ALWAYS) | ({m.split(".")[0] for m in modules} & set(_PACKAGES))
    if any(m.startswith("sklearn_ser.neural") for m in modules):
        found |= {"torch", "skorch"}  # the networks are rebuilt with them
    if "sklearn_ser.neural._pretrained" in modules:
        found.add("transformers")  # a kept encoder is rebuilt with it
    return [m for m in _PACKAGES if m in found]


def _dump(estimator, compress):
    import skops.io as sio

    compression = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    try:
        payload = sio.dumps(without_requests(estimator), compression=compression,
                            compresslevel=compress or None)
    except Exception as exc:  # noqa: BLE001 - skops refuses in many ways; say which object
        raise TypeError(
            f"save_model cannot store this {type(estimator).__name__} without a pickle: "
            f"{type(exc).__name__}: {exc}. Estimators of sklearn_ser, scikit-learn and "
            "imbalanced-learn can be saved; for other objects use joblib.dump (a pickle: load "
            "it only from a source you trust)."
        ) from exc
    modules = _schema_modules(payload)
    foreign = sorted(m for m in modules if m.split(".")[0] in ("torch", "skorch"))
    if foreign:
        # skops would write a torch or skorch object without its tensors, and skorch nets
        # rebuild themselves through pickle: refuse rather than write a model that is wrong.
        raise TypeError(
            f"save_model cannot store the torch/skorch objects ({', '.join(foreign[:3])}) of "
            f"this {type(estimator).__name__}: only sklearn_ser's networks, which keep their "
            "weights as arrays, can be saved. Use joblib.dump for other networks (a pickle: "
            "load it only from a source you trust)."
        )
    return payload, modules


def _jsonable(values):
    out = []
    for value in np.asarray(values, dtype=object).ravel().tolist():
        if isinstance(value, np.generic):
            value = value.item()
        out.append(value if isinstance(value, (str, int, float, bool)) or value is None
                   else str(value))
    return out


def _describe(estimator):
    cls = type(estimator)
    info = {"class": f"{cls.__module__}.{cls.__qualname__}"}
    steps = getattr(estimator, "steps", None)
    if steps is not None:
        info["steps"] = [[name, f"{type(step).__module__}.{type(step).__qualname__}"]
                         for name, step in steps]
    classes = getattr(estimator, "classes_", None)
    if classes is not None:
        info["classes"] = _jsonable(classes)
    return info


def save_model(estimator, path, *, metadata=None, compress=3):
    """Save a fitted estimator, with a manifest of the package versions, to one file.

    The file is a zip archive with ``manifest.json`` (format version, creation date, class,
    pipeline steps, labels, package versions, checksum, your metadata) and ``model.skops``
    (the estimator in :mod:`skops.io`'s format, no pickle). Estimators, samplers and pipelines
    of sklearn_ser, scikit-learn and imbalanced-learn work: classic, fusion and deep pipelines
    alike, with their labels and preprocessing. Networks keep their weights (as arrays); a
    model trained on a GPU loads on a CPU-only machine.

    Parameters
    ----------
    estimator : object
        The fitted estimator or pipeline.
    path : str or os.PathLike
        The file to write (``.sser`` by convention); an existing file is replaced.
    metadata : dict, default=None
        JSON-serialisable facts to keep with the model (training corpus, command line, ...);
        :func:`read_manifest` returns them under ``"metadata"``.
    compress : int, default=3
        Deflate level of the model data (0 stores it uncompressed, up to 9).

    Returns
    -------
    manifest : dict
        The manifest written into the file.

    Raises
    ------
    TypeError
        ``metadata`` is not a dict, or the estimator holds an object that skops cannot store
        (the message names it).

    See Also
    --------
    load_model : Load the estimator back, checking the file and the package versions first.
    read_manifest : Read a file's manifest without loading the model.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn_ser.io import load_model, save_model
    >>> model = DummyClassifier().fit([[0], [1]], ["calm", "anger"])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.sser")
    >>> manifest = save_model(model, path)
    >>> manifest["classes"], manifest["format_version"]
    (['anger', 'calm'], 2)
    >>> load_model(path).predict([[0]]).tolist()
    ['anger']
    """
    path = os.fspath(path)
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict or None, got {type(metadata).__name__}.")
    payload, modules = _dump(estimator, compress)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **_describe(estimator),
        "versions": {m: _installed_version(m) for m in _referenced_packages(modules)},
        "python": platform.python_version(),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "metadata": metadata or {},
    }
    text = json.dumps(manifest, indent=2)  # fails here, before writing, if metadata is not JSON
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(_MANIFEST, text + "\n")
            archive.writestr(_MODEL, payload)
        os.replace(tmp, path)  # a crash mid-write never leaves a half-written model behind
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return manifest


# -- reading the archive -----------------------------------------------------------------------

def _damaged(path, what):
    return ValueError(f"Model file '{path}' is damaged: {what}. Copy it again from its source, "
                      "or save the model again.")


def _open(path):
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such model file: '{path}'.")
    if os.path.isdir(path):
        raise ValueError(f"'{path}' is a folder, not a model file (.sser).")
    with open(path, "rb") as f:
        head = f.read(4)
    if not head:
        raise _damaged(path, "it is empty")
    if not zipfile.is_zipfile(path):
        if head == _ZIP_MAGIC:  # starts as a zip, but its end (the directory) is unreadable
            raise _damaged(path, "it is not a complete zip archive (truncated or overwritten)")
        raise ValueError(
            f"'{path}' is not a sklearn_ser model file (expected a zip archive written by "
            "sklearn_ser.io.save_model). A plain joblib pickle loads with joblib.load, which "
            "runs any code it contains: use it only on files you trust."
        )
    try:
        return zipfile.ZipFile(path)
    except Exception as exc:  # noqa: BLE001 - BadZipFile, OSError, ...: all mean damaged
        raise _damaged(path, f"its zip directory cannot be read ({exc})") from None


def _read_member(archive, name, path):
    try:
        return archive.read(name)
    except KeyError:
        raise _damaged(path, f"it has no {name} (an incomplete archive)") from None
    except Exception as exc:  # noqa: BLE001 - bad CRC, bad header, truncated data, zlib.error
        raise _damaged(path, f"{name} cannot be read ({type(exc).__name__}: {exc})") from None


def read_manifest(path):
    """Read a model file's manifest without loading the model.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save_model`.

    Returns
    -------
    manifest : dict
        ``format``, ``format_version``, ``created``, ``class``, ``steps`` (pipelines),
        ``classes`` (classifiers), ``versions`` (package -> version at save time),
        ``python``, ``sha256`` and ``metadata``.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        The file is not a model file, or it is damaged (the message says how).
    sklearn_ser.exceptions.ModelVersionError
        The file uses a newer format than this sklearn_ser reads.
    """
    with _open(path) as archive:
        return _read_manifest(archive, os.fspath(path))


def _read_manifest(archive, path):
    if _MANIFEST not in archive.namelist():
        raise ValueError(f"'{path}' is a zip archive but has no {_MANIFEST}: it was not "
                         "written by sklearn_ser.io.save_model.")
    try:
        manifest = json.loads(_read_member(archive, _MANIFEST, path))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _damaged(path, f"its {_MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise ValueError(f"'{path}' is not a sklearn_ser model file (format {found!r}).")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _damaged(path, f"its manifest has no valid format_version ({version!r})")
    if version > FORMAT_VERSION:
        raise ModelVersionError(
            f"'{path}' uses model file format {version}, newer than the format "
            f"{FORMAT_VERSION} this sklearn_ser reads; upgrade sklearn_ser."
        )
    if not isinstance(manifest.get("versions", {}), dict):
        raise _damaged(path, "its manifest's package versions are not a mapping")
    return manifest


def _release(version, level):
    parts = str(version).split("+")[0].split(".")
    return tuple(parts[:3] if level == "exact" else parts[:2])


def version_mismatches(manifest):
    """Packages whose installed version differs from the one recorded in a manifest.

    Parameters
    ----------
    manifest : dict
        From :func:`read_manifest`.

    Returns
    -------
    mismatches : list of (str, str, str or None)
        ``(package, saved version, installed version)``; installed is None when the package
        is missing. scikit-learn and sklearn_ser must match exactly; numpy, scipy, joblib,
        imbalanced-learn, torch and skorch to the minor release (2.13.x).
    """
    mismatches = []
    for module, saved in manifest.get("versions", {}).items():
        if module not in _PACKAGES or saved is None:
            continue
        installed = _installed_version(module)
        level = _PACKAGES[module][1]
        if installed is None or _release(saved, level) != _release(installed, level):
            mismatches.append((_PACKAGES[module][0], saved, installed))
    saved_py = manifest.get("python")
    if saved_py and _release(saved_py, "minor") != _release(platform.python_version(), "minor"):
        mismatches.append(("python", saved_py, platform.python_version()))
    return mismatches


# -- loading ---------------------------------------------------------------------------------

def _check_trusted_argument(trusted):
    if trusted is None or trusted is True or trusted is False:
        return trusted or None
    names = None if isinstance(trusted, (str, bytes)) else list(_iterate(trusted))
    if names is None or not all(isinstance(name, str) for name in names):
        raise TypeError("trusted must be None, True or a list of type names such as "
                        f"['sklearn.tree._tree.Tree']; got {trusted!r}.")
    return names


def _iterate(values):
    try:
        return iter(values)
    except TypeError:
        return iter([values])  # not iterable: reported with the others as not a name


def _check_versions(manifest, path, allow_version_mismatch):
    mismatches = version_mismatches(manifest)
    if not mismatches:
        return
    listed = "; ".join(f"{name} {saved} when saved, {installed or 'not installed'} here"
                       for name, saved, installed in mismatches)
    if not allow_version_mismatch:
        pins = " ".join(f"{name}=={saved}" for name, saved, _ in mismatches if name != "python")
        raise ModelVersionError(
            f"Model '{path}' was saved with other package versions: {listed}. Install the "
            f"saved versions (pip install {pins}) to load it, retrain it here, or pass "
            "allow_version_mismatch=True to load it anyway (predictions may differ or loading "
            "may fail)."
        )
    warnings.warn(f"Loading model '{path}' despite other package versions: {listed}.",
                  ModelVersionWarning, stacklevel=3)


def _refuse_pickle(path):
    return UntrustedModelError(
        f"Model file '{path}' is in format 1, written by an older sklearn_ser: a joblib "
        "pickle, which runs any code it contains while loading and cannot be checked first, "
        "so it is refused by default. If you trust its source, load it with "
        f"load_model({path!r}, trusted=True) (--trust on the command line), then save it "
        "again with save_model to get a checked format-2 file."
    )


def _load_pickle(payload, path):
    import joblib

    try:
        return joblib.load(io.BytesIO(payload))
    except Exception as exc:  # noqa: BLE001 - whatever the trusted pickle raises
        raise ValueError(f"Model file '{path}' could not be unpickled ("
                         f"{type(exc).__name__}: {exc}): the file is damaged, or was written "
                         "for other package versions.") from None


def _refused_types(names, trusted):
    if trusted is True:
        return []
    extra = set(trusted or ())
    return [name for name in names if name not in extra and not is_trusted_type(name)]


def _load_skops(payload, path, trusted):
    import skops.io as sio

    try:
        names = sio.get_untrusted_types(data=payload)
    except Exception as exc:  # noqa: BLE001 - any failure to parse is a damaged file
        raise _damaged(path, f"its model data cannot be read ({type(exc).__name__}: "
                             f"{exc})") from None
    refused = _refused_types(names, trusted)
    if refused:
        raise UntrustedModelError(
            f"Model file '{path}' holds types that sklearn_ser does not trust by default: "
            f"{', '.join(refused)}. Building them could run code from the file, so nothing "
            "was loaded. If you trust the file's source, pass load_model(path, "
            f"trusted={refused!r}) (or trusted=True for everything in it), or --trust to "
            "sklearn-ser predict / stream.",
            types=refused,
        )
    try:
        model = sio.loads(payload, trusted=names)
        restore_requests(model)
        check_loaded(model)
    except Exception as exc:  # noqa: BLE001 - say which file could not be rebuilt, and why
        raise ValueError(f"Model file '{path}' could not be rebuilt from its model data "
                         f"({type(exc).__name__}: {exc}): the file is damaged, or was "
                         "written for other package versions. Copy it again from its source, "
                         "or save the model again.") from None
    return model


def load_model(path, *, trusted=None, allow_version_mismatch=False):
    """Load an estimator saved by :func:`save_model`, checking the file before building it.

    The checks, in order: the archive and its manifest; the file format; the package
    versions; the checksum of the model data; the types the model data names. By default only
    the estimators, samplers and pipelines of sklearn_ser, scikit-learn and imbalanced-learn
    and a few named helpers are built (see ``sklearn_ser/io/_trust.py`` for the rule); no
    pickle is read, so loading a file does not run code from it.

    Parameters
    ----------
    path : str or os.PathLike
        The model file.
    trusted : list of str, True or None, default=None
        Types to accept beyond the default rule, by the names the
        :class:`~sklearn_ser.exceptions.UntrustedModelError` lists; or True to accept every
        type in the file and to read format-1 files (pickles). Building an untrusted type can
        run code from the file: pass this only for files from a source you trust.
    allow_version_mismatch : bool, default=False
        Load even when the installed versions differ from the saved ones, with a
        :class:`~sklearn_ser.exceptions.ModelVersionWarning`. Predictions may then differ, or
        loading may fail.

    Returns
    -------
    estimator : object
        The fitted estimator, ready to predict. Networks trained on a GPU run on the CPU
        when no GPU is available here.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        The file is not a model file written by :func:`save_model`, or it is damaged
        (truncated, a member missing or unreadable, checksum mismatch): one message names the
        file and what is wrong.
    sklearn_ser.exceptions.ModelVersionError
        A package version differs from the saved one (the message names each one), or the
        file format is newer than this sklearn_ser.
    sklearn_ser.exceptions.UntrustedModelError
        The file names types outside the trusted ones, or is a format-1 pickle, and
        ``trusted`` does not cover them. Nothing from the file was built.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_ser.io import load_model, save_model
    >>> path = os.path.join(tempfile.mkdtemp(), "model.sser")
    >>> _ = save_model(LogisticRegression().fit([[0], [1]], ["calm", "anger"]), path)
    >>> load_model(path).classes_.tolist()
    ['anger', 'calm']
    """
    path = os.fspath(path)
    trusted = _check_trusted_argument(trusted)
    with _open(path) as archive:
        manifest = _read_manifest(archive, path)
        version = manifest["format_version"]
        if version == 1 and trusted is not True:
            raise _refuse_pickle(path)
        _check_versions(manifest, path, allow_version_mismatch)
        member = _MEMBERS[version]
        payload = _read_member(archive, member, path)
    if hashlib.sha256(payload).hexdigest() != manifest.get("sha256"):
        raise _damaged(path, f"the checksum of {member} does not match its manifest")
    if version == 1:
        return _load_pickle(payload, path)
    return _load_skops(payload, path, trusted)
