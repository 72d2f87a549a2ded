"""Saving and loading fitted models: ``save_model`` / ``load_model``.

A model file (``.sser`` by convention) is one zip archive holding

* ``manifest.json``: the format version, the creation date, the estimator's class, its labels,
  the versions of the packages its pickle refers to (plus Python's) and any user metadata;
* ``model.joblib``: the estimator, pickled with joblib, and its SHA-256 in the manifest.

``load_model`` reads the manifest first and refuses a file whose package versions differ from
the installed ones with a :class:`~sklearn_ser.exceptions.ModelVersionError` that names each
package, instead of letting an unpickling error (or, worse, silently different predictions)
surface later. The file is still a pickle: load only files you trust.
"""

import datetime
import hashlib
import io
import json
import os
import pickle
import platform
import sys
import warnings
import zipfile
from importlib import metadata as importlib_metadata

import joblib
import numpy as np

from ..exceptions import ModelVersionError, ModelVersionWarning

FORMAT = "sklearn_ser-model"
FORMAT_VERSION = 1
_MANIFEST = "manifest.json"
_PICKLE = "model.joblib"

# Import name -> distribution name, for the packages whose version decides whether a pickle
# loads and predicts the same. ``exact`` packages must match to the patch release (scikit-learn
# itself only guarantees pickles within one version); the others to the minor release.
_PACKAGES = {
    "sklearn_ser": ("sklearn-ser", "exact"),
    "sklearn": ("scikit-learn", "exact"),
    "numpy": ("numpy", "minor"),
    "scipy": ("scipy", "minor"),
    "joblib": ("joblib", "minor"),
    "imblearn": ("imbalanced-learn", "minor"),
    "torch": ("torch", "minor"),
    "skorch": ("skorch", "minor"),
}
# Always recorded and checked, whatever the pickle refers to.
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


class _ModuleRecorder(pickle.Pickler):
    """A pickler into nowhere that notes the top-level package of every object it meets."""

    def __init__(self):
        super().__init__(io.BytesIO(), protocol=pickle.HIGHEST_PROTOCOL)
        self.modules = set()

    def persistent_id(self, obj):
        owner = obj if isinstance(obj, type) or callable(obj) else type(obj)
        module = getattr(owner, "__module__", None) or type(obj).__module__
        if isinstance(module, str):
            self.modules.add(module.split(".")[0])
        return None


def _referenced_packages(estimator):
    """The packages of ``_PACKAGES`` that the estimator's pickle refers to."""
    recorder = _ModuleRecorder()
    try:
        recorder.dump(estimator)
    except Exception:  # noqa: BLE001 - fall back to the modules loaded now
        recorder.modules = {m for m in _PACKAGES if m in sys.modules}
    found = set(_ALWAYS) | (recorder.modules & set(_PACKAGES))
    if "skorch" in found:
        found.add("torch")  # skorch stores the weights with torch.save
    return [m for m in _PACKAGES if m in found]


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
    pipeline steps, labels, package versions, your metadata) and ``model.joblib`` (the
    estimator pickled by joblib). Any picklable estimator works: classic and deep pipelines
    alike, with their labels and preprocessing. Networks keep their weights; a model trained
    on a GPU loads on a CPU-only machine (skorch maps the weights to the CPU).

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
        joblib compression level of the pickle (0 to 9).

    Returns
    -------
    manifest : dict
        The manifest written into the file.

    See Also
    --------
    load_model : Load the estimator back, checking the package versions first.
    read_manifest : Read a file's manifest without unpickling the model.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn_ser.io import load_model, save_model
    >>> model = DummyClassifier().fit([[0], [1]], ["calm", "anger"])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.sser")
    >>> manifest = save_model(model, path)
    >>> manifest["classes"]
    ['anger', 'calm']
    >>> load_model(path).predict([[0]]).tolist()
    ['anger']
    """
    path = os.fspath(path)
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict or None, got {type(metadata).__name__}.")
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer, compress=compress)
    payload = buffer.getvalue()
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **_describe(estimator),
        "versions": {m: _installed_version(m) for m in _referenced_packages(estimator)},
        "python": platform.python_version(),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "metadata": metadata or {},
    }
    text = json.dumps(manifest, indent=2)  # fails here, before writing, if metadata is not JSON
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(_MANIFEST, text + "\n")
            archive.writestr(_PICKLE, payload)
        os.replace(tmp, path)  # a crash mid-write never leaves a half-written model behind
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return manifest


def _open(path):
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such model file: '{path}'.")
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"'{path}' is not a sklearn_ser model file (expected a zip archive written by "
            "sklearn_ser.io.save_model). A plain joblib pickle loads with joblib.load."
        )
    return zipfile.ZipFile(path)


def read_manifest(path):
    """Read a model file's manifest without unpickling the model.

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
    """
    with _open(path) as archive:
        return _read_manifest(archive, os.fspath(path))


def _read_manifest(archive, path):
    try:
        manifest = json.loads(archive.read(_MANIFEST))
    except KeyError:
        raise ValueError(f"'{path}' is a zip archive but has no {_MANIFEST}: it was not "
                         "written by sklearn_ser.io.save_model.") from None
    if manifest.get("format") != FORMAT:
        raise ValueError(f"'{path}' is not a sklearn_ser model file (format "
                         f"{manifest.get('format')!r}).")
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise ModelVersionError(
            f"'{path}' uses model file format {manifest['format_version']}, newer than the "
            f"format {FORMAT_VERSION} this sklearn_ser reads; upgrade sklearn_ser."
        )
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


def load_model(path, *, allow_version_mismatch=False):
    """Load an estimator saved by :func:`save_model`, checking the package versions first.

    Parameters
    ----------
    path : str or os.PathLike
        The model file.
    allow_version_mismatch : bool, default=False
        Load even when the installed versions differ from the saved ones, with a
        :class:`~sklearn_ser.exceptions.ModelVersionWarning`. Predictions may then differ, or
        unpickling may fail.

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
        The file is not a model file written by :func:`save_model`, or it is corrupt.
    sklearn_ser.exceptions.ModelVersionError
        A package version differs from the saved one (the message names each one).

    Warnings
    --------
    The model is a pickle: loading it can run arbitrary code. Load only files you trust.
    """
    path = os.fspath(path)
    with _open(path) as archive:
        manifest = _read_manifest(archive, path)
        mismatches = version_mismatches(manifest)
        if mismatches:
            listed = "; ".join(f"{name} {saved} when saved, "
                               f"{installed or 'not installed'} here"
                               for name, saved, installed in mismatches)
            if not allow_version_mismatch:
                pins = " ".join(f"{name}=={saved}" for name, saved, _ in mismatches
                                if name != "python")
                raise ModelVersionError(
                    f"Model '{path}' was saved with other package versions: {listed}. "
                    f"Install the saved versions (pip install {pins}) to load it, retrain it "
                    "here, or pass allow_version_mismatch=True to load it anyway (predictions "
                    "may differ or unpickling may fail)."
                )
            warnings.warn(f"Loading model '{path}' despite other package versions: {listed}.",
                          ModelVersionWarning, stacklevel=2)
        try:
            payload = archive.read(_PICKLE)
        except KeyError:
            raise ValueError(f"Model file '{path}' has no {_PICKLE}; it is incomplete.") from None
    if hashlib.sha256(payload).hexdigest() != manifest.get("sha256"):
        raise ValueError(f"Model file '{path}' is corrupt: the checksum of {_PICKLE} does not "
                         "match its manifest. Copy or save it again.")
    return joblib.load(io.BytesIO(payload))
