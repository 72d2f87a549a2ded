"""A FeatureUnion of extractors whose parallel work is split over clips, not extractors."""

import math

import numpy as np
from joblib import effective_n_jobs
from scipy import sparse
from sklearn.pipeline import FeatureUnion
from sklearn.utils.parallel import Parallel, delayed

from .._validation import check_clips
from ._framing import iter_chunks

# Tasks per joblib worker: several, so that a worker that drew slow clips does not hold up
# the others, but few, so that each task's fixed cost (a pickled copy of the fitted
# extractors, process start-up of the chunk kernels) stays small. On the 2-core machine, 500
# clips of 3 s took 1.90 s in 2 tasks, 1.63 s in 8 and 1.70 s in 16.
TASKS_PER_WORKER = 4


def _transform_rows(union, clips):
    """The union's features of some clips, as one dense array (run inside a worker)."""
    weights = union.transformer_weights or {}
    blocks = []
    for name, transformer in union.transformer_list:
        if transformer == "drop":
            continue
        block = transformer.transform(clips)
        block = block.toarray() if sparse.issparse(block) else np.asarray(block)
        if name in weights:
            block = block * weights[name]
        blocks.append(block)
    return np.concatenate(blocks, axis=1)


class ExtractorUnion(FeatureUnion):
    """Concatenate the features of several extractors, with ``n_jobs`` splitting the clips.

    scikit-learn's :class:`~sklearn.pipeline.FeatureUnion` runs its transformers in parallel,
    so every worker receives every clip, once per transformer, and the slowest extractor sets
    the pace. Here each joblib worker receives a share of the clips once and runs all the
    extractors on it: the audio crosses to the workers a single time and the work is split
    evenly whatever the extractors cost. Each clip's features depend on that clip alone, so
    the result equals the serial one.

    Parameters
    ----------
    transformer_list : list of (str, transformer)
        The extractors, as for :class:`~sklearn.pipeline.FeatureUnion`. Each must take clips
        and return dense 2-D features; ``"drop"`` skips one.
    n_jobs : int or None, default=None
        Joblib workers over shares of the clips (-1: all cores). None means 1 unless in a
        ``joblib.parallel_config`` context, whose backend (loky, Dask, Ray) decides where the
        shares run. Leave the extractors' own ``n_jobs`` at None: each worker runs them
        serially.
    transformer_weights : dict or None, default=None
        Multipliers of each extractor's features, keyed by name.
    verbose : bool, default=False
        Report the time of each transformer when fitting, as FeatureUnion does.
    verbose_feature_names_out : bool, default=True
        Prefix each output feature name with its extractor's name.

    Attributes
    ----------
    named_transformers : Bunch
        The extractors by name.
    n_features_in_ : int
        Not defined for waveform input (a clip's length is not a feature count).

    See Also
    --------
    sklearn.pipeline.FeatureUnion : The parent class, parallel over transformers.
    sklearn_ser.pipelines.make_features : Builds this union of the default extractors.

    Notes
    -----
    With ``n_jobs`` above 1, ``transform`` splits the clips into about four shares per worker
    of equal total duration, and ``fit_transform`` is ``fit`` then ``transform`` (extractors
    learn nothing from the clips in ``fit``). Metadata passed to ``transform`` (routed
    parameters) cannot follow a split, so it makes the union run serially.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.features import ExtractorUnion, MFCCExtractor, SpectralExtractor
    >>> rng = np.random.default_rng(0)
    >>> clips = [rng.standard_normal(8000).astype(np.float32) * 0.1 for _ in range(4)]
    >>> union = ExtractorUnion([("mfcc", MFCCExtractor(functionals="basic")),
    ...                         ("spectral", SpectralExtractor(functionals="basic"))])
    >>> union.fit_transform(clips).shape
    (4, 154)
    """

    def transform(self, X, **params):
        """Features of every extractor, side by side, one row per clip.

        Parameters
        ----------
        X : list of ndarray of shape (n_samples_i,) or ndarray of shape (n_clips, n_samples)
            Mono clips.
        **params : dict
            Metadata routed to the extractors' ``transform`` (runs serially).

        Returns
        -------
        ndarray of shape (n_clips, n_features_out)
            The extractors' features, concatenated in ``transformer_list`` order.
        """
        shares = self._shares(X, params)
        if shares is None:
            return super().transform(X, **params)
        clips, parts = shares
        blocks = Parallel(n_jobs=self.n_jobs)(
            delayed(_transform_rows)(self, clips[part]) for part in parts)
        return np.concatenate(blocks, axis=0)

    def fit_transform(self, X, y=None, **params):
        """Fit the extractors, then transform ``X`` (split over clips when parallel).

        Parameters
        ----------
        X : list of ndarray of shape (n_samples_i,) or ndarray of shape (n_clips, n_samples)
            Mono clips.
        y : array-like of shape (n_clips,) or None, default=None
            Targets, passed on to the extractors' ``fit``.
        **params : dict
            Parameters routed to the extractors' ``fit``.

        Returns
        -------
        ndarray of shape (n_clips, n_features_out)
        """
        if self._shares(X, {}) is None:
            return super().fit_transform(X, y, **params)
        return self.fit(X, y, **params).transform(X)

    def _shares(self, X, params):
        """``(clips, slices)`` for a split run, or None where the union runs serially."""
        n_workers = effective_n_jobs(self.n_jobs)
        if n_workers == 1 or params or any(t == "passthrough" for _, t in self.transformer_list):
            return None
        clips = check_clips(X)
        total = sum(len(c) for c in clips)
        parts = list(iter_chunks(clips, math.ceil(total / (n_workers * TASKS_PER_WORKER))))
        return (clips, parts) if len(parts) > 1 else None
