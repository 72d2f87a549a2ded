"""A FeatureUnion of extractors whose parallel work is split over clips, not extractors."""

import numpy as np
from scipy import sparse
from sklearn.pipeline import FeatureUnion

from .._validation import check_clips
from ._base import call_recording_warnings, raise_again
from ._engine import run_shares


class _ShareFeatures:
    """The union's features of one share of clips: every extractor in turn, side by side.

    A picklable callable (a joblib task carries it to a worker) holding the fitted union.
    """

    def __init__(self, union):
        self.union = union

    def __call__(self, clips):
        weights = self.union.transformer_weights or {}
        blocks = []
        for name, transformer in self.union.transformer_list:
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
    the pace. Here the clips are cut into shares, and each share runs through all the
    extractors in one joblib task: the audio crosses to a worker a single time, the work is
    split evenly whatever the extractors cost, and extractors with the same STFT settings
    (the default MFCC and spectral extractors) compute each chunk's spectra once between
    them. Each clip's features depend on that clip alone, so the result equals
    FeatureUnion's.

    Parameters
    ----------
    transformer_list : list of (str, transformer)
        The extractors, as for :class:`~sklearn.pipeline.FeatureUnion`. Each must take clips
        and return dense 2-D features; ``"drop"`` skips one.
    n_jobs : int or None, default=None
        Joblib workers over shares of the clips (-1: all cores). None means 1 unless in a
        ``joblib.parallel_config`` context, whose backend (loky, Dask, Ray) decides where the
        shares run. With one worker, the shares run in this process on the extractors'
        kernel threads (as many as OpenMP would use; see ``threadpoolctl``). Leave the
        extractors' own ``n_jobs`` at None: each worker runs them serially.
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
    ``transform`` cuts the clips into about four shares per worker (or kernel thread) of
    equal total duration, none longer than 131 s at 16 kHz (the shared spectra of a share
    are held until it is done; see ``_engine.py``). A worker process receives each share's
    audio as one pickled array (not memory-mapped; see ``_engine.run_shares``).
    ``fit_transform`` is ``fit`` then ``transform``: extractors learn nothing from the clips
    in ``fit``. Metadata routed to ``transform`` cannot follow the shares, so with it the
    union runs as a plain FeatureUnion.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.features import ExtractorUnion, MFCCExtractor, SpectralExtractor
    >>> rng = np.random.default_rng(0)
    >>> clips = [rng.standard_normal(8000).astype(np.float32) * 0.1 for _ in range(4)]
    >>> union = ExtractorUnion([("mfcc", MFCCExtractor(functionals="basic")),
    ...                         ("spectral", SpectralExtractor(functionals="basic"))])
    >>> union.fit_transform(clips).shape
    (4, 188)
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
        if params or self._has_passthrough():
            return super().transform(X, **params)
        clips = check_clips(X)
        blocks, caught = run_shares(_ShareFeatures(self), clips, self.n_jobs,
                                    record=call_recording_warnings)
        raise_again(caught)
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
        if self._has_passthrough():
            return super().fit_transform(X, y, **params)
        return self.fit(X, y, **params).transform(X)

    def _has_passthrough(self):
        # Passed-through clips cannot be concatenated with features: FeatureUnion's errors.
        return any(t == "passthrough" for _, t in self.transformer_list)
