"""Speaker ids and how they reach the estimators that use them.

Speakers travel as ``groups``: checked once where they enter (:func:`check_speakers`), asked
for by a step through scikit-learn's metadata routing (:func:`request_speakers`), and handed
on only to estimators that ask (:func:`requests_groups`; :func:`requested_metadata` for
other metadata, such as a regressor's ``categories``). The splitters, the evaluation, the
fusions, streaming and the command line all read them through these helpers, re-exported by
:mod:`sklearn_ser.utils`.
"""

import numpy as np
from sklearn import config_context
from sklearn.utils.metadata_routing import get_routing_for_object

__all__ = ["check_speakers", "has_speaker_normalizer", "request_speakers", "requested_metadata",
           "requests_groups"]

_GROUPS_HINT = (
    "pass one speaker id per sample via groups=..., e.g. "
    "cv.split(X, y, groups=speakers) or cross_validate(..., groups=speakers)"
)


def check_speakers(groups, owner, *, n_samples=None, min_speakers=1):
    """Validate speaker ids and return them as a 1-D array.

    Parameters
    ----------
    groups : array-like of shape (n_samples,) or None
        Speaker ids.
    owner : str
        Name used in error messages (``"LeaveOneSpeakerOut.split"``).
    n_samples : int, default=None
        Expected length, when known.
    min_speakers : int, default=1
        Fewest distinct speakers the caller can work with.

    Returns
    -------
    groups : ndarray of shape (n_samples,)

    Examples
    --------
    >>> from sklearn_ser.utils import check_speakers
    >>> check_speakers(["a", "a", "b"], "example", n_samples=3).tolist()
    ['a', 'a', 'b']
    """
    if groups is None:
        raise ValueError(f"{owner} needs speaker ids but got groups=None; {_GROUPS_HINT}.")
    groups = np.asarray(groups)
    if groups.ndim != 1:
        raise ValueError(
            f"{owner} expects groups to be a 1-D sequence of speaker ids; got shape "
            f"{groups.shape}. Pass one id per sample."
        )
    if n_samples is not None and len(groups) != n_samples:
        raise ValueError(
            f"{owner} got {len(groups)} speaker ids for {n_samples} samples; "
            "groups must hold exactly one speaker id per sample."
        )
    try:
        n_speakers = len(np.unique(groups))
    except TypeError as exc:  # e.g. None mixed with strings
        raise ValueError(
            f"{owner} could not sort the speaker ids in groups ({exc}); use ids of one "
            "type, e.g. all strings, with no missing values."
        ) from exc
    if n_speakers < min_speakers:
        raise ValueError(
            f"{owner} needs at least {min_speakers} distinct speakers; groups holds "
            f"{n_speakers}. Add speakers, or use fewer folds."
        )
    return groups


def requests_groups(estimator, method):
    """Whether any part of ``estimator`` asks, through metadata routing, for ``groups``.

    Parameters
    ----------
    estimator : estimator or Pipeline
    method : str
        ``"fit"``, ``"predict"``, ...

    Returns
    -------
    bool
        False as well for an estimator without routing support, which asks for nothing.
    """
    return "groups" in requested_metadata(estimator, method, ("groups",))


def requested_metadata(estimator, method, names):
    """Which of ``names`` some part of ``estimator`` asks for in ``method``, through
    metadata routing.

    Parameters
    ----------
    estimator : estimator or Pipeline
    method : str
        ``"fit"``, ``"predict"``, ...
    names : sequence of str
        Metadata to ask about, e.g. ``("groups", "categories")``.

    Returns
    -------
    set of str
        Empty as well for an estimator without routing support, which asks for nothing.
    """
    with config_context(enable_metadata_routing=True):
        try:
            routing = get_routing_for_object(estimator)
        except (TypeError, ValueError, AttributeError):  # an estimator without routing support
            return set()
        return set(routing.consumes(method, list(names)))


def request_speakers(estimator):
    """Ask the network that ``estimator`` is or ends in for the training speakers.

    The network holds out whole speakers for its early stopping when ``groups`` reaches its
    ``fit``; inside a Pipeline that takes a metadata request. The request is stored on the
    network and is harmless while routing is off. Other estimators are left as they are.

    Parameters
    ----------
    estimator : estimator or Pipeline

    Returns
    -------
    estimator
        The same object.
    """
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    # By module name, so that asking never imports torch.
    if type(final).__module__.startswith("sklearn_ser.neural"):
        with config_context(enable_metadata_routing=True):  # set_*_request needs it on
            final.set_fit_request(groups=True)
    return estimator


def has_speaker_normalizer(estimator):
    """Whether ``estimator`` standardises by speaker: a ``SpeakerNormalizer`` among its steps.

    Pipelines (``steps``) and unions (``transformer_list``) are searched, nested ones too.

    Parameters
    ----------
    estimator : estimator or Pipeline

    Returns
    -------
    bool
    """
    from ..features import SpeakerNormalizer  # at call time: utils sits below features

    if isinstance(estimator, SpeakerNormalizer):
        return True
    for _, step in getattr(estimator, "steps", None) or []:
        if has_speaker_normalizer(step):
            return True
    for _, part in getattr(estimator, "transformer_list", None) or []:
        if has_speaker_normalizer(part):
            return True
    return False
