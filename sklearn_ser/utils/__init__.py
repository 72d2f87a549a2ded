"""Utilities shared by the parts of sklearn_ser.

Estimator discovery for the common tests, the sample rate an estimator expects, the
speaker helpers (checking speaker ids, routing them to the steps that ask) and the cap on
native thread pools while a model scores. scikit-learn's private helpers are imported in
one place only, the private ``_compat`` module.
"""

from ._sample_rate import estimator_sr, find_sr
from ._speakers import (
    check_speakers,
    has_speaker_normalizer,
    request_speakers,
    requested_metadata,
    requests_groups,
)
from ._threads import limit_threads, register_thread_pool
from .discovery import all_estimators

__all__ = [
    "all_estimators",
    "check_speakers",
    "estimator_sr",
    "find_sr",
    "has_speaker_normalizer",
    "limit_threads",
    "register_thread_pool",
    "request_speakers",
    "requested_metadata",
    "requests_groups",
]
