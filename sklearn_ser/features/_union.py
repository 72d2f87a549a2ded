"""A FeatureUnion of extractors whose parallel work is split over clips, not extractors."""

import math
import os
import shutil
import tempfile
from functools import partial

import numpy as np
from joblib import effective_n_jobs
from scipy import sparse
from sklearn.pipeline import FeatureUnion
from sklearn.utils.parallel import Parallel, delayed

from .._validation import check_clips
from ._base import call_recording_warnings, raise_again
from ._framing import (
    iter_chunks,
    kernel_threads,
    map_chunks,
    numbered_from,
    serial_kernels,
    shared_power_spectra,
)

# Tasks per joblib worker: several, so that a worker that drew slow clips does not hold up
# the others, but few, so that each task's fixed cost (a pickled copy of the fitted
# extractors, process start-up of the chunk kernels) stays small. One task per worker and
# many tasks per worker were both slower (benchmarks/README.md, "Measurements behind the
# feature kernels").
TASKS_PER_WORKER = 4

# Upper bound on a share's samples (131 s at 16 kHz): the spectra shared between extractors
# are held for a whole share (about 10 MB at this size), so a long corpus is cut into more
# shares rather than larger ones.
MAX_SHARE_SAMPLES = 2**21


def _transform_rows(union, clips, offset):
    """The union's features of one share of clips (``X[offset:]``), and its warnings.

    ``clips`` is a list of clips, or a :class:`_PackedClips` in a file that a worker process
    maps instead of receiving the samples through a pipe.

    The extractors run one after the other on the share, and those with the same STFT
    settings compute each chunk's spectra once between them. Warnings are recorded, naming
    clips by their index in X, and returned as ``(category, message)`` pairs: a joblib worker
    process would only print them, where the caller must be able to see and filter them.
    """
    if isinstance(clips, _PackedClips):
        clips = clips.unpack()
    with numbered_from(offset), shared_power_spectra():
        return call_recording_warnings(_share_features, union, clips)


def _share_rows(union, clips, part):
    """The union's features of the share ``clips[part]``, its warnings raised as they come."""
    with numbered_from(part.start), shared_power_spectra():
        return _share_features(union, clips[part])


def _share_rows_serially(union, clips, part):
    """:func:`_share_rows` with the extractors' kernels serial, in a thread of joblib's."""
    with serial_kernels():
        return _share_rows(union, clips, part)


def _share_features(union, clips):
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


class _PackedClips:
    """Clips laid end to end in one float32 array (a read-only memory map), and their lengths.

    joblib's process backends hand a memory-mapped array to a worker as its file name and
    offset, and the worker maps the same pages: a share's audio is neither pickled nor sent
    through a pipe.
    """

    def __init__(self, samples, lengths):
        self.samples = samples
        self.lengths = lengths

    def unpack(self):
        """The clips, as views of the samples."""
        samples = np.asarray(self.samples)  # plain ndarray views of the map
        ends = np.cumsum(self.lengths).tolist()
        return [samples[end - n : end] for end, n in zip(ends, self.lengths.tolist())]


class _ShareFiles:
    """Shares of clips written to files that worker processes map, one file per share.

    The parent process then neither pickles the audio nor pushes it through the workers'
    pipes, which was slower and cost the parent more CPU time (benchmarks/README.md,
    "Measurements behind the feature kernels"). Each file is deleted as soon as its share's
    features have come back, so at most the shares in flight lie on disk (mostly still in the
    page cache).
    """

    def __init__(self):
        # Where joblib puts its own memory maps when told (JOBLIB_TEMP_FOLDER), else the
        # system's temporary directory (TMPDIR), not a hard-coded RAM-backed folder: a
        # disk-backed one was no slower for files this short-lived, and a RAM-backed folder
        # may be small or absent.
        self.folder = tempfile.mkdtemp(prefix="sklearn_ser_shares_",
                                       dir=os.environ.get("JOBLIB_TEMP_FOLDER") or None)
        self.paths = []

    def pack(self, clips):
        lengths = np.fromiter((len(c) for c in clips), dtype=np.int64, count=len(clips))
        path = os.path.join(self.folder, f"share{len(self.paths)}.f32")
        self.paths.append(path)
        # Written with write() calls, clip after clip: faster than filling a writable map,
        # whose every page faults in.
        with open(path, "wb") as file:
            for clip in clips:
                file.write(np.ascontiguousarray(clip, dtype=np.float32).data)
        return _PackedClips(np.memmap(path, dtype=np.float32, mode="r"), lengths)

    def release(self, index):
        """Delete the file of share ``index`` (a worker that still maps it keeps its pages)."""
        try:
            os.remove(self.paths[index])
        except OSError:
            pass

    def close(self):
        shutil.rmtree(self.folder, ignore_errors=True)


def _backend_kind(n_jobs):
    """Where ``Parallel(n_jobs)`` would run its tasks: ``"processes"`` (loky or
    multiprocessing workers of this machine, which can map a file that this process writes),
    ``"threads"`` (joblib's threading backend) or ``"other"`` (Dask, Ray, ...)."""
    try:
        from joblib.parallel import (
            LokyBackend,
            MultiprocessingBackend,
            ThreadingBackend,
            get_active_backend,
        )
    except ImportError:  # joblib moved them: treat the backend as any other
        return "other"
    backend, _ = get_active_backend()
    if isinstance(backend, ThreadingBackend):
        return "threads"
    if os.name == "posix" and isinstance(backend, (LokyBackend, MultiprocessingBackend)):
        return "processes"
    return "other"


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
    equal total duration, none longer than ``MAX_SHARE_SAMPLES`` (131 s at 16 kHz: the
    shared spectra of a share are held until it is done). Worker processes of this machine
    (loky, multiprocessing) read each share's audio from a memory-mapped file in
    ``JOBLIB_TEMP_FOLDER``, else the system's temporary directory. ``fit_transform`` is
    ``fit`` then ``transform``: extractors learn nothing from the clips in ``fit``. Metadata
    routed to ``transform`` cannot follow the shares, so with it the union runs as a plain
    FeatureUnion.

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
        if effective_n_jobs(self.n_jobs) == 1:
            # In this process: the shares go to the kernel threads, each share through every
            # extractor (whose own chunks then run serially in that thread). Warnings are
            # raised from the threads as they happen: recording them (catch_warnings) is
            # not thread-safe.
            shares = self._shares(clips, kernel_threads())
            return np.concatenate(map_chunks(partial(_share_rows, self, clips), shares), axis=0)
        shares = self._shares(clips, effective_n_jobs(self.n_jobs))
        kind = _backend_kind(self.n_jobs)
        if kind == "threads":
            # joblib's threads are this process's threads too: the same as above, with the
            # extractors' kernels serial inside each (no threads started per share).
            return np.concatenate(Parallel(n_jobs=self.n_jobs)(
                delayed(_share_rows_serially)(self, clips, part) for part in shares), axis=0)
        if kind == "processes":
            results = self._transform_through_files(clips, shares)
        else:
            results = Parallel(n_jobs=self.n_jobs)(
                delayed(_transform_rows)(self, clips[part], part.start) for part in shares)
        for _, caught in results:
            raise_again(caught)
        return np.concatenate([block for block, _ in results], axis=0)

    def _transform_through_files(self, clips, shares):
        """``_transform_rows`` of each share in worker processes that map the share's audio
        from a file (see :class:`_ShareFiles`)."""
        files = _ShareFiles()
        try:
            tasks = (delayed(_transform_rows)(self, files.pack(clips[part]), part.start)
                     for part in shares)
            results = []
            for index, result in enumerate(
                    Parallel(n_jobs=self.n_jobs, return_as="generator")(tasks)):
                files.release(index)
                results.append(result)
            return results
        finally:
            files.close()

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

    def _shares(self, clips, n_workers):
        """Slices of ``clips``: about TASKS_PER_WORKER per worker, none over the size cap."""
        total = sum(len(c) for c in clips)
        size = min(math.ceil(total / (n_workers * TASKS_PER_WORKER)), MAX_SHARE_SAMPLES)
        return list(iter_chunks(clips, size))
