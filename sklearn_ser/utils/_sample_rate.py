"""The sample rate an estimator expects, read from its parameters.

Shared by the parts that sit on top of fitted models (``model_selection``, ``streaming``); it
reads ``get_params`` only, so it knows no estimator class and imports nothing of the package.
"""

import numbers


def find_sr(estimator):
    """The first ``sr`` parameter of an estimator (deep), as ``(name, rate)``, or None.

    Parameters are read in ``get_params(deep=True)`` order, so in a Pipeline the first step
    with an ``sr`` (the one that receives the clips) decides.

    Parameters
    ----------
    estimator : object
        Any estimator, Pipeline or search; objects without ``get_params`` have no rate.

    Returns
    -------
    found : tuple of (str, int) or None
        The parameter's name (``"mfcc__sr"``) and its value.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.svm import SVC
    >>> from sklearn_ser.features import MFCCExtractor
    >>> find_sr(make_pipeline(MFCCExtractor(sr=8000), SVC()))
    ('mfccextractor__sr', 8000)
    >>> find_sr(SVC()) is None
    True
    """
    if not hasattr(estimator, "get_params"):
        return None
    for name, value in estimator.get_params(deep=True).items():
        if ((name == "sr" or name.endswith("__sr")) and isinstance(value, numbers.Integral)
                and not isinstance(value, bool)):
            return name, int(value)
    return None


def estimator_sr(estimator, default=16000):
    """The sample rate of an estimator's clips: its (or its first step's) ``sr``.

    Parameters
    ----------
    estimator : object
        Any estimator.
    default : int or None, default=16000
        Returned when no part of the estimator has an integer ``sr``.

    Returns
    -------
    sr : int or None
    """
    found = find_sr(estimator)
    return default if found is None else found[1]
