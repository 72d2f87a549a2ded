"""The one place that imports scikit-learn's private helpers.

See CONTRIBUTING.md, "The estimator contract".

They can move between minor releases; routing them through here keeps that to one edit.
"""

from sklearn.base import _fit_context  # noqa: F401
from sklearn.utils._param_validation import (  # noqa: F401
    HasMethods,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)
from sklearn.utils.validation import validate_data  # noqa: F401

__all__ = [
    "HasMethods",
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "_fit_context",
    "validate_data",
]
