"""Which types a model file may hold, and the checks of what skops rebuilt from them.

skops stores an estimator as a tree of typed nodes and, before building anything, lists the
types outside its own trusted set (:func:`skops.io.get_untrusted_types`). ``load_model`` accepts
such a type only under the rule of :func:`is_trusted_type`:

* a **class** that subclasses scikit-learn's ``BaseEstimator`` (every estimator, sampler and
  pipeline of sklearn_ser, scikit-learn and imbalanced-learn, private helpers such as
  ``_SigmoidCalibration`` included) or one of its cross-validation splitter bases. Rebuilding
  one creates it without ``__init__`` and sets its attributes: estimators hold parameters
  and fitted values, not behaviour taken from the file. skorch's ``NeuralNet`` is excluded:
  its ``__setstate__`` unpickles its modules, which runs whatever the bytes say. The networks
  of sklearn_ser never put one in a file: they store plain weight arrays (see
  ``sklearn_ser/neural/_state.py``), so no torch or skorch type is trusted at all;
* the few **named types** of ``_NAMED`` that the ready-made pipelines need beyond that, each
  with the reason it is safe.

Nothing is trusted by package prefix: ``numpy.load``, ``torch.load`` or ``builtins.eval`` are
callables inside trusted packages, and skops calls some callables while rebuilding. A name is
resolved to an object only inside the packages of ``_ROOTS`` (importing their modules runs only
their own code), and never through a ``__main__`` module or a dunder attribute.

Two of the named types, the node arrays of decision trees and the index of k-nearest
neighbours, are compiled code that reads its arrays without bounds checks: skops itself leaves
them untrusted because a crafted file could make ``predict`` read outside memory. They are
trusted here together with :func:`check_loaded`, which verifies every index of each such
object after loading and before the model is returned.
"""

import importlib
import sys

import numpy as np

__all__ = ["check_loaded", "is_trusted_type"]

# Packages whose modules may be imported to look a type up.
_ROOTS = frozenset({"sklearn_ser", "sklearn", "imblearn", "skorch", "torch", "numpy", "scipy"})

# Bases whose subclasses are trusted, and those excluded from the rule (by qualified name, so
# that checking a name never imports skorch).
_TRUSTED_BASES = (
    "sklearn.base.BaseEstimator",
    "sklearn.model_selection._split.BaseCrossValidator",
    "sklearn.model_selection._split.BaseShuffleSplit",
)
_EXCLUDED_BASES = ("skorch.net.NeuralNet",)

# Types outside the class rule that the ready-made pipelines need, and why each is safe.
_NAMED = {
    "sklearn.calibration._CalibratedClassifier":
        "the fitted classifier and calibrators of CalibratedClassifierCV: plain attributes",
    "sklearn.utils._bunch.Bunch": "a dict with attribute access (stacking's named members)",
    "sklearn.metrics._dist_metrics.EuclideanDistance64":
        "the distance of k-nearest neighbours: a few numbers",
    "sklearn.tree._tree.Tree": "decision-tree nodes, index-checked by check_loaded",
    "sklearn.neighbors._kd_tree.KDTree": "the k-d tree of k-nearest neighbours, "
                                         "index-checked by check_loaded",
}


def _qualified(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def _resolve(name):
    """The object a dotted type name stands for, or None when it may not be looked up."""
    parts = name.split(".")
    if parts[0] not in _ROOTS or any(p.startswith("__") or not p for p in parts):
        return None
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            module = sys.modules.get(module_name) or importlib.import_module(module_name)
        except Exception:  # noqa: BLE001 - not a module (or not importable): try a shorter one
            continue
        obj = module
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def is_trusted_type(name):
    """Whether ``load_model`` accepts the type ``name`` of a model file by default.

    Parameters
    ----------
    name : str
        A fully qualified type name, as :func:`skops.io.get_untrusted_types` lists them.

    Returns
    -------
    trusted : bool
    """
    if name in _NAMED:
        return True
    cls = _resolve(name)
    if not isinstance(cls, type):
        return False  # functions, methods and other objects are never trusted by rule
    bases = {_qualified(base) for base in cls.__mro__}
    return bases.isdisjoint(_EXCLUDED_BASES) and not bases.isdisjoint(_TRUSTED_BASES)


# -- checks after loading ----------------------------------------------------------------------

def check_loaded(obj):
    """Verify the indices of every decision tree and k-d tree inside a loaded model.

    Parameters
    ----------
    obj : object
        What skops rebuilt.

    Raises
    ------
    ValueError
        An index points outside its array (a damaged or crafted file); the message says which.
    """
    _visit(obj, None, set())


def _visit(obj, limit, seen):
    if id(obj) in seen or isinstance(obj, (str, bytes, int, float, bool, type(None))):
        return
    if type(obj).__module__.split(".")[0] in ("torch", "skorch"):
        return  # built by sklearn_ser's networks from arrays, never taken from the file
    seen.add(id(obj))
    from sklearn.neighbors import KDTree

    from ..utils._compat import Tree

    if isinstance(obj, Tree):
        _check_tree(obj, limit)
    elif isinstance(obj, KDTree):
        _check_kd_tree(obj)
    elif isinstance(obj, np.ndarray):
        if obj.dtype == object:
            for item in obj.ravel():
                _visit(item, limit, seen)
    elif isinstance(obj, dict):
        for value in obj.values():
            _visit(value, limit, seen)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for item in obj:
            _visit(item, limit, seen)
    elif hasattr(obj, "__dict__"):
        _visit_attributes(vars(obj), limit, seen)


def _visit_attributes(attrs, limit, seen):
    n_in = attrs.get("n_features_in_")
    n_in = int(n_in) if isinstance(n_in, (int, np.integer)) else None
    if limit is not None and n_in is not None and n_in > limit:
        raise ValueError(f"a member estimator expects {n_in} features but its ensemble passes "
                         f"it {limit}")
    for key, value in attrs.items():
        # An ensemble hands its validated X to its members (and a tree estimator to its
        # tree) without checking it again: their feature counts may not exceed its own.
        _visit(value, n_in if key in ("estimators_", "tree_") else None, seen)


def _check_tree(tree, limit):
    n, n_features = tree.node_count, tree.n_features
    if not 1 <= n <= tree.capacity:
        raise ValueError(f"a decision tree has {n} nodes in room for {tree.capacity}")
    if limit is not None and n_features > limit:
        raise ValueError(f"a decision tree splits on {n_features} features but receives "
                         f"{limit}")
    left, right, feature = tree.children_left, tree.children_right, tree.feature
    index = np.arange(n)
    leaf = left == -1
    # Nodes are stored parent first, so children have larger indices: no cycles either.
    inner_ok = ((left > index) & (left < n) & (right > index) & (right < n)
                & (feature >= 0) & (feature < n_features))
    if not np.all((right == -1) == leaf) or not np.all(leaf | inner_ok):
        raise ValueError("a decision tree has child or feature indices out of range")


def _check_kd_tree(tree):
    data, idx, nodes, bounds = tree.get_arrays()
    n, n_nodes = len(data), len(nodes)
    if (np.ndim(data) != 2 or np.shape(idx) != (n,)
            or not np.array_equal(np.sort(idx), np.arange(n))):
        raise ValueError("a k-d tree's index is not a permutation of its points")
    if n_nodes < 1 or np.shape(bounds) != (2, n_nodes, np.shape(data)[1]):
        raise ValueError("a k-d tree's node bounds do not match its nodes")
    start, end, is_leaf = nodes["idx_start"], nodes["idx_end"], nodes["is_leaf"]
    # Queries descend from node i to nodes 2i+1 and 2i+2 until a leaf.
    has_children = 2 * np.arange(n_nodes) + 2 < n_nodes
    if (np.any((start < 0) | (start > end) | (end > n))
            or np.any(~has_children & (is_leaf == 0))):
        raise ValueError("a k-d tree has point ranges or children out of range")
