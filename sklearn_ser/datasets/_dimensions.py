"""Continuous emotion targets from what the corpora hold: derived arousal and valence,
and the intensity levels of RAVDESS and CREMA-D as numbers.

Acted corpora such as EmoDB, RAVDESS, TESS and CREMA-D have categories, not ratings. A
category can stand for a point in the arousal-valence plane (Russell's circumplex), which
gives a continuous target to train and score regressors on. Such a target is **derived**:
every clip of a category gets the same value, and the values are a convention, not ratings
of these clips. Corpora rated per clip (MSP-Podcast, IEMOCAP) have loaders of their own.
"""

import numpy as np
import pandas as pd

__all__ = ["EMOTION_DIMENSIONS", "INTENSITY_LEVELS", "emotion_dimensions", "intensity_scores"]

#: Arousal and valence of each canonical emotion, in [-1, 1]: rounded placements in the
#: arousal-valence plane after Russell's circumplex of affect (Russell 1980; Posner, Russell
#: and Peterson 2005), with neutral at the origin. A convention to derive continuous targets
#: from categories, not measured ratings.
EMOTION_DIMENSIONS = {
    "anger": {"arousal": 0.8, "valence": -0.6},
    "boredom": {"arousal": -0.6, "valence": -0.3},
    "calm": {"arousal": -0.6, "valence": 0.4},
    "disgust": {"arousal": 0.3, "valence": -0.7},
    "fear": {"arousal": 0.7, "valence": -0.7},
    "happiness": {"arousal": 0.6, "valence": 0.8},
    "neutral": {"arousal": 0.0, "valence": 0.0},
    "sadness": {"arousal": -0.6, "valence": -0.7},
    "surprise": {"arousal": 0.7, "valence": 0.2},
}

#: Numbers for the intensity levels of the corpus loaders' ``intensity`` column, in [0, 1]:
#: RAVDESS's ``normal`` and ``strong``, CREMA-D's ``low``, ``medium`` and ``high``. CREMA-D's
#: ``unspecified`` (every sentence but one) has no number and maps to NaN.
INTENSITY_LEVELS = {"normal": 0.0, "strong": 1.0, "low": 0.0, "medium": 0.5, "high": 1.0,
                    "unspecified": np.nan}


def emotion_dimensions(labels):
    """Derived arousal and valence of emotion categories (see ``EMOTION_DIMENSIONS``).

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Canonical emotion names, as the corpus loaders return them in ``target``.

    Returns
    -------
    dimensions : pandas.DataFrame of shape (n_samples, 2)
        Columns ``arousal`` and ``valence`` in [-1, 1]. Derived from the category, so every
        clip of one emotion gets the same values.

    Raises
    ------
    ValueError
        For a label that is not a canonical emotion, naming it and its first position.

    References
    ----------
    .. [1] J. A. Russell, "A circumplex model of affect", Journal of Personality and Social
           Psychology 39(6), 1980.
    .. [2] J. Posner, J. A. Russell and B. S. Peterson, "The circumplex model of affect",
           Development and Psychopathology 17(3), 2005.

    Examples
    --------
    >>> from sklearn_ser.datasets import emotion_dimensions
    >>> emotion_dimensions(["anger", "sadness"])
       arousal  valence
    0      0.8     -0.6
    1     -0.6     -0.7
    """
    labels = np.asarray(labels, dtype=object)
    unknown = [i for i, label in enumerate(labels) if label not in EMOTION_DIMENSIONS]
    if unknown:
        raise ValueError(
            f"labels[{unknown[0]}] is {labels[unknown[0]]!r}, which has no arousal and valence; "
            f"emotion_dimensions knows {', '.join(EMOTION_DIMENSIONS)}. Map the corpus's "
            "labels to these names first, or drop the clips without one."
        )
    return pd.DataFrame([EMOTION_DIMENSIONS[label] for label in labels],
                        columns=["arousal", "valence"])


def intensity_scores(levels):
    """The intensity levels of a loader's ``intensity`` column as numbers in [0, 1].

    Parameters
    ----------
    levels : array-like of shape (n_samples,)
        ``load_ravdess(...).frame["intensity"]`` (``normal``, ``strong``) or
        ``load_cremad(...).frame["intensity"]`` (``low``, ``medium``, ``high``,
        ``unspecified``).

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        ``INTENSITY_LEVELS`` of each level: NaN for CREMA-D's ``unspecified``, so that a
        caller drops those clips knowingly.

    Raises
    ------
    ValueError
        For a level not in ``INTENSITY_LEVELS``.

    Examples
    --------
    >>> from sklearn_ser.datasets import intensity_scores
    >>> intensity_scores(["normal", "strong", "medium"]).tolist()
    [0.0, 1.0, 0.5]
    """
    levels = np.asarray(levels, dtype=object)
    unknown = [i for i, level in enumerate(levels) if level not in INTENSITY_LEVELS]
    if unknown:
        raise ValueError(
            f"levels[{unknown[0]}] is {levels[unknown[0]]!r}; intensity levels are "
            f"{', '.join(INTENSITY_LEVELS)} (the intensity column of load_ravdess and "
            "load_cremad)."
        )
    return np.array([INTENSITY_LEVELS[level] for level in levels], dtype=float)
