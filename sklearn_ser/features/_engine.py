"""How the feature kernels run: threads, spectra shared between extractors, shares of clips.

Nothing here computes a feature, and no feature depends on it: every function below returns
what the plain loop ``[fn(item) for item in items]`` would, however the work is spread. The
signal processing (``_framing`` and the extractors) calls it at three points:

* **Threads.** :func:`map_chunks` runs independent chunks of clips on as many threads as
  OpenMP may use (:func:`kernel_threads`). The kernels spend their time in numpy and
  ``scipy.fft`` calls on whole chunks, which release the GIL. A call made from one of these
  threads, or inside :func:`serial_kernels`, runs serially, so thread pools never nest.
* **Sharing.** Inside :func:`sharing`, :func:`shared` computes a value once per set of clips
  and parameters and hands the same read-only result to every later caller: extractors
  with the same STFT settings then frame and transform each chunk once between them, and
  every extractor reads one voice-activity mask per clip. ``ExtractorUnion`` opens one
  scope per share of clips, so the values are held for one share at most.
* **Shares.** :func:`run_shares` runs a function over shares of clips: in this process on
  the kernel threads, or through joblib (``n_jobs``), whose backend decides where (loky
  processes, threads, Dask, Ray). Worker processes get each share as one array, pickled
  (not memory-mapped: see :func:`run_shares`).

The state that travels with a call (open sharing scopes, the clip numbering of warnings, the
serial flag) lives in :mod:`contextvars`, and the kernel threads run in a copy of their
caller's context, so a thread reads and fills its caller's scopes while a scope it opens
itself stays its own. How much each of these pays is measured in benchmarks/README.md,
"Feature extraction speed"; a mechanism that paid less than a tenth was removed.
"""

import contextvars
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
from joblib import effective_n_jobs
from sklearn.utils.parallel import Parallel, delayed

from ..utils._compat import _openmp_effective_n_threads

# Shares of clips per worker (or kernel thread) in run_shares: several, so that a worker
# that drew slow clips does not hold up the others, but few, so that each share's fixed
# cost (a pickled copy of the fitted extractors for a worker process) stays small.
TASKS_PER_WORKER = 4

# Upper bound on a share's samples (131 s at 16 kHz): the values shared between extractors
# are held for a whole share, so a long corpus is cut into more shares rather than larger.
MAX_SHARE_SAMPLES = 2**21

_serial = contextvars.ContextVar("sklearn_ser_serial_kernels", default=False)
_clip_offset = contextvars.ContextVar("sklearn_ser_clip_offset", default=0)
_scopes = contextvars.ContextVar("sklearn_ser_sharing_scopes", default=())
_scopes_lock = threading.Lock()


# Threads ------------------------------------------------------------------------------


def kernel_threads():
    """Threads the frame kernels may use: the OpenMP thread count sklearn's own code uses.

    That is the number of cores unless ``OMP_NUM_THREADS`` or a ``threadpoolctl`` limit says
    otherwise; joblib sets such a limit inside its worker processes, so ``n_jobs`` workers
    do not each start a full set of threads.
    """
    return max(1, _openmp_effective_n_threads())


@contextmanager
def serial_kernels():
    """Within this block, :func:`map_chunks` runs serially in this thread (for work that a
    thread pool of the caller already spreads over the cores)."""
    token = _serial.set(True)
    try:
        yield
    finally:
        _serial.reset(token)


def map_chunks(fn, items):
    """``[fn(item) for item in items]``, spread over :func:`kernel_threads` threads.

    Each thread takes every n-th item (interleaved, so that long and short items spread
    evenly) in a copy of the caller's context, marked serial. Runs serially for one item,
    one thread, or inside :func:`serial_kernels` and the threads of another ``map_chunks``.
    """
    items = list(items)
    n_threads = min(kernel_threads(), len(items))
    if n_threads <= 1 or _serial.get():
        return [fn(item) for item in items]

    # One task per thread: a future per chunk costs more than the threads gain.
    def every_nth(first):
        _serial.set(True)  # in this thread's own copy of the context
        return [fn(item) for item in items[first::n_threads]]

    contexts = [contextvars.copy_context() for _ in range(n_threads)]
    with ThreadPoolExecutor(n_threads) as pool:
        parts = list(pool.map(lambda i: contexts[i].run(every_nth, i), range(n_threads)))
    results = [None] * len(items)
    for first, part in enumerate(parts):
        results[first::n_threads] = part
    return results


def chunked_frames(frame_fn, clips, chunks, **params):
    """Run ``frame_fn(clips[chunk], **params) -> (stacked, counts)`` over ``chunks`` (slices
    of ``clips``) on :func:`map_chunks` threads, and join the results."""
    parts = map_chunks(lambda part: frame_fn(clips[part], **params), chunks)
    return (np.concatenate([p[0] for p in parts], axis=0),
            np.concatenate([p[1] for p in parts]))


def frames_per_clip(frame_fn, clips, chunks, **params):
    """Each clip's frame features, a list of arrays, from ``frame_fn(clips[chunk], **params)
    -> (stacked, counts)`` over ``chunks`` on :func:`map_chunks` threads.

    Each chunk's stack is split into its clips' arrays (views) on the thread that computed
    it: no joined copy of every frame.
    """
    def split(part):
        features, counts = frame_fn(clips[part], **params)
        starts = np.concatenate(([0], np.cumsum(counts))).tolist()
        return [features[a:b] for a, b in zip(starts[:-1], starts[1:])]

    return [frames for part in map_chunks(split, chunks) for frames in part]


# Clip numbering of warnings --------------------------------------------------------------


@contextmanager
def numbered_from(offset):
    """Within this block, warnings name clips ``offset`` higher: the call sees a share of X
    that starts at ``X[offset]``, and messages must name the clips of X."""
    token = _clip_offset.set(_clip_offset.get() + offset)
    try:
        yield
    finally:
        _clip_offset.reset(token)


def clip_offset():
    """Index in the caller's X of the first clip of the current call (see numbered_from)."""
    return _clip_offset.get()


# Sharing -------------------------------------------------------------------------------


@contextmanager
def sharing():
    """Within this block, :func:`shared` computes each value once and hands it out again.

    The values are held until the block ends: open it around a bounded number of clips.
    """
    token = _scopes.set(_scopes.get() + ({},))
    try:
        yield
    finally:
        _scopes.reset(token)


def shared(key, clips, compute):
    """``compute()``, computed once per ``key`` and ``clips`` inside :func:`sharing`.

    ``clips`` are identified by their ids, and kept with the value, so that no other array
    can take their ids while it is held. The value is shared between callers, which must
    not write into it. Outside any scope this is ``compute()``.
    """
    scopes = _scopes.get()
    if not scopes:
        return compute()
    key = (key, tuple(map(id, clips)))
    with _scopes_lock:
        hit = next((scope[key] for scope in scopes if key in scope), None)
    if hit is not None:
        return hit[1]
    value = compute()
    with _scopes_lock:
        scopes[-1][key] = (list(clips), value)
    return value


def open_scopes():
    """Number of sharing scopes open in this context (0 outside :func:`sharing`)."""
    return len(_scopes.get())


# Shares of clips ---------------------------------------------------------------------


def share_slices(clips, n_workers):
    """Slices of ``clips``: about ``TASKS_PER_WORKER`` per worker of equal total length,
    none over ``MAX_SHARE_SAMPLES`` (a longer clip gets a share of its own)."""
    lengths = [len(c) for c in clips]
    size = min(math.ceil(sum(lengths) / (n_workers * TASKS_PER_WORKER)), MAX_SHARE_SAMPLES)
    slices, start, total = [], 0, 0
    for i, length in enumerate(lengths):
        if total and total + length > size:
            slices.append(slice(start, i))
            start, total = i, 0
        total += length
    slices.append(slice(start, len(lengths)))
    return slices


class _PackedClips:
    """Clips laid end to end in one float32 array, and their lengths: one array pickles
    as a single buffer copy, where a list of short clips pickles object by object."""

    def __init__(self, clips):
        self.lengths = np.fromiter((len(c) for c in clips), dtype=np.int64, count=len(clips))
        self.samples = np.concatenate(clips) if clips else np.zeros(0, np.float32)

    def unpack(self):
        samples = np.asarray(self.samples)  # plain ndarray views, whatever the backend sent
        ends = np.cumsum(self.lengths).tolist()
        return [samples[end - n : end] for end, n in zip(ends, self.lengths.tolist())]


def _run_share(fn, clips, offset, caller_pid, record):
    """``fn(clips)`` for a share that starts at ``X[offset]``, in a sharing scope.

    In a worker process, warnings are recorded by ``record`` (a joblib worker would only
    print them) and returned with the result; in the caller's process (joblib's threading
    backend) they are raised as they come, and the extractors' kernels run serially, since
    joblib's threads already use the cores.
    """
    if isinstance(clips, _PackedClips):
        clips = clips.unpack()
    if os.getpid() == caller_pid:
        with serial_kernels(), numbered_from(offset), sharing():
            return fn(clips), []
    with numbered_from(offset), sharing():
        return record(fn, clips)


def run_shares(fn, clips, n_jobs, record):
    """``fn`` over shares of ``clips``, each in a sharing scope; the results in order.

    With one joblib worker (``effective_n_jobs(n_jobs) == 1``), the shares run on the
    kernel threads of this process, each share serially in its thread. Otherwise each
    share is a joblib task, as one packed array (see :class:`_PackedClips`), pickled rather
    than memory-mapped: joblib removes its memory maps at the end of every call, and waits
    a tenth of a second whenever the resource tracker has not yet unlinked them
    (``joblib.disk.delete_folder``), a fixed cost per ``transform`` that a share's pickled
    copy does not have. A share holds at most ``MAX_SHARE_SAMPLES``, so the copies in flight
    stay small.

    ``record(fn, clips) -> (result, warnings)`` records the warnings of a share run in a
    worker process; they are returned for the caller to raise again.

    Returns
    -------
    results : list
        ``fn`` of each share, in order.
    caught : list of (category, message)
        Warnings recorded in worker processes.
    """
    n_workers = effective_n_jobs(n_jobs)
    if n_workers == 1:
        shares = share_slices(clips, kernel_threads())

        def one_share(part):
            with numbered_from(part.start), sharing():
                return fn(clips[part])

        return map_chunks(one_share, shares), []
    pid = os.getpid()
    done = Parallel(n_jobs=n_jobs, max_nbytes=None)(
        delayed(_run_share)(fn, _PackedClips(clips[part]), part.start, pid, record)
        for part in share_slices(clips, n_workers))
    return [result for result, _ in done], [w for _, caught in done for w in caught]
