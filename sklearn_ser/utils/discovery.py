"""Find every public estimator in sklearn_ser, so the common tests cover new ones automatically."""

import importlib
import inspect
import pkgutil

from sklearn.base import BaseEstimator

_SKIP_MODULES = ("sklearn_ser.cli", "sklearn_ser.tests")


def all_estimators(type_filter=None):
    """Return ``(name, class)`` for every public estimator class in sklearn_ser.

    Parameters
    ----------
    type_filter : {"classifier", "transformer", "sampler"} or None, default=None
        Keep only estimators with that role (``predict``, ``transform`` or
        ``fit_resample``).

    Returns
    -------
    estimators : list of (str, type)
        Sorted by name; each class is listed once, under its public name.
    """
    import sklearn_ser

    found = {}
    for info in pkgutil.walk_packages(sklearn_ser.__path__, prefix="sklearn_ser."):
        name = info.name
        if any(name.startswith(skip) for skip in _SKIP_MODULES):
            continue
        if any(part.startswith("_") for part in name.split(".")[1:]) and not info.ispkg:
            # Private modules are reached through the package that re-exports them.
            continue
        module = importlib.import_module(name)
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, BaseEstimator)
                and cls.__module__.startswith("sklearn_ser")
                and not cls_name.startswith("_")
                and not inspect.isabstract(cls)
            ):
                found[cls_name] = cls
    roles = {"classifier": "predict", "transformer": "transform", "sampler": "fit_resample"}
    if type_filter is not None:
        method = roles[type_filter]
        found = {k: v for k, v in found.items() if hasattr(v, method)}
    return sorted(found.items())
