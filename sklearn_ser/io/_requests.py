"""Metadata requests (``set_fit_request(groups=True)``, ...) through a model file.

scikit-learn keeps an estimator's requests in a ``MetadataRequest`` that points back to the
estimator; skops cannot store such a cycle. ``save_model`` therefore stores a copy of the model
in which each request object is replaced by its plain content (method -> {parameter: alias}),
and ``load_model`` sets the requests again through the estimators' public ``set_*_request``
methods. Only the methods scikit-learn and imbalanced-learn route are accepted from a file.
"""

import copy

import numpy as np

__all__ = ["restore_requests", "without_requests"]

_KEY = "_metadata_request"
_PLAIN_KEY = "_sklearn_ser_metadata_requests"
_METHODS = ("fit", "partial_fit", "predict", "predict_proba", "predict_log_proba",
            "decision_function", "score", "split", "transform", "inverse_transform",
            "fit_resample")


def _objects(obj, seen=None):
    """Every object reachable from ``obj`` through attributes and containers."""
    seen = set() if seen is None else seen
    stack = [obj]
    while stack:
        item = stack.pop()
        if id(item) in seen or isinstance(item, (str, bytes, int, float, bool, type(None))):
            continue
        seen.add(id(item))
        if type(item).__module__.split(".")[0] in ("torch", "skorch"):
            continue  # networks hold no requests, and walking them is slow
        yield item
        if isinstance(item, np.ndarray):
            if item.dtype == object:
                stack.extend(item.ravel())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif hasattr(item, "__dict__") and not isinstance(item, type):
            stack.extend(vars(item).values())


def _holders(obj, key):
    return [o for o in _objects(obj)
            if not isinstance(o, type) and key in getattr(o, "__dict__", {})]


def _plain(request):
    plain = {}
    for method in _METHODS:
        requests = getattr(getattr(request, method, None), "requests", None) or {}
        kept = {param: alias for param, alias in requests.items()
                if alias is None or isinstance(alias, bool)
                or (isinstance(alias, str) and not alias.startswith("$"))}
        if kept:
            plain[method] = kept
    return plain


def without_requests(estimator):
    """``estimator``, or a deep copy of it whose requests are plain dicts (see above)."""
    if not _holders(estimator, _KEY):
        return estimator
    estimator = copy.deepcopy(estimator)
    for holder in _holders(estimator, _KEY):
        holder.__dict__[_PLAIN_KEY] = _plain(holder.__dict__.pop(_KEY))
    return estimator


def restore_requests(model):
    """Set again the requests that :func:`without_requests` stored as plain dicts.

    Raises
    ------
    ValueError
        A stored request names a method or value that no estimator would have set.
    """
    from sklearn import config_context

    for holder in _holders(model, _PLAIN_KEY):
        plain = holder.__dict__.pop(_PLAIN_KEY)
        if not isinstance(plain, dict):
            raise ValueError("a stored metadata request is not a mapping")
        for method, requests in plain.items():
            setter = getattr(holder, f"set_{method}_request", None)
            if method not in _METHODS or setter is None or not isinstance(requests, dict):
                raise ValueError(f"a stored metadata request names {method!r}, which "
                                 f"{type(holder).__name__} does not route")
            with config_context(enable_metadata_routing=True):  # the setters need it on
                setter(**requests)
