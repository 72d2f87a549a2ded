"""Capping the native thread pools while a fitted model scores clips.

BLAS is reached through ``threadpoolctl``. A pool that ``threadpoolctl`` does not control the
way the package needs (torch's intra-op pool) is registered by the part that owns it, with
:func:`register_thread_pool`, so that this module and its callers never import that library.
"""

from contextlib import ExitStack, contextmanager

__all__ = ["limit_threads", "register_thread_pool"]

#: (get_num_threads, set_num_threads) of each registered pool, in registration order.
_POOLS = []

_CONTROLLER = None


def register_thread_pool(get_num_threads, set_num_threads):
    """Let :func:`limit_threads` cap one more native thread pool.

    The part that owns the pool registers it when it is imported (:mod:`sklearn_ser.neural`
    registers torch's), so the pool is capped exactly when it can be in use. Registering the
    same pair twice has no further effect.

    Parameters
    ----------
    get_num_threads : callable
        ``get_num_threads() -> int``, the pool's current size.
    set_num_threads : callable
        ``set_num_threads(n)``, resizes it.
    """
    if (get_num_threads, set_num_threads) not in _POOLS:
        _POOLS.append((get_num_threads, set_num_threads))


@contextmanager
def limit_threads(n_threads):
    """Cap the native thread pools for the duration of a block.

    On a machine with few cores, BLAS (OpenBLAS/MKL) and torch's OpenMP pools each start one
    thread per core and spin while waiting; scoring a single clip then stalls on their
    contention, above all in the tail of the latencies under load
    (benchmarks/results/bench_inference.md). Inside this block BLAS runs on one thread and
    every registered pool (see :func:`register_thread_pool`; torch's once
    :mod:`sklearn_ser.neural` is imported) on ``n_threads``; their sizes are restored
    afterwards.

    Parameters
    ----------
    n_threads : int or None
        Threads of the registered pools; None leaves every pool as it is.

    Examples
    --------
    >>> from sklearn_ser.utils import limit_threads
    >>> with limit_threads(1):
    ...     pass
    """
    if n_threads is None:
        yield
        return
    with ExitStack() as stack:
        stack.enter_context(_blas_controller().limit(limits=1, user_api="blas"))
        for get, set_ in list(_POOLS):
            previous = get()
            if previous != n_threads:
                set_(n_threads)
                stack.callback(set_, previous)
        yield


def _blas_controller():
    # Building a ThreadpoolController scans the loaded libraries, which is not free: once.
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER
