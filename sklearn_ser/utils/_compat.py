"""The one place that imports scikit-learn's private helpers.

See CONTRIBUTING.md, "The estimator contract".

They can move between minor releases; routing them through here keeps that to one edit.
"""

from sklearn.base import _fit_context  # noqa: F401
from sklearn.utils import _safe_indexing  # noqa: F401
from sklearn.utils._param_validation import (  # noqa: F401
    HasMethods,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)
from sklearn.utils.metadata_routing import _raise_for_params, _routing_enabled  # noqa: F401
from sklearn.utils.validation import _num_samples, validate_data  # noqa: F401

try:
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
except ImportError:  # moved in some release: the callers then run on one thread

    def _openmp_effective_n_threads():
        """One thread: scikit-learn's helper could not be imported."""
        return 1


__all__ = [
    "HasMethods",
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "Tree",
    "_fit_context",
    "_num_samples",
    "_openmp_effective_n_threads",
    "_raise_for_params",
    "_routing_enabled",
    "_safe_indexing",
    "validate_data",
]


def __getattr__(name):
    # sklearn.tree's node arrays, for the model-file checks only: imported on first use so
    # that importing this module does not import sklearn.tree.
    if name == "Tree":
        from sklearn.tree._tree import Tree

        return Tree
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
