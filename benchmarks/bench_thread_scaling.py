"""How well ``mfcc`` uses the second core, against work that shares nothing.

``bench_features.py`` finds ``mfcc`` on two kernel threads sometimes 1.8x and sometimes only
1.2x faster than on one, while on one thread it is steady. This script tells whether the
machine or the threads lose the difference: round after round it times

* ``mfcc`` on 500 clips of 3 s held to one thread (threadpoolctl), then on the kernel
  threads (the default), each after an untimed call of the same;
* ``mfcc`` on half the clips, on one thread, in one worker process alone, then in two
  worker processes at once (the same work as the threads share, without sharing a GIL);
* the same batch of real FFTs (pocketfft, the frames of one chunk, as ``mfcc`` computes
  them) in one worker process alone, then in two at once: what the two cores give to
  independent work that is all FFT.

Each scaling is ``time on one / time on two`` (for the processes, twice the work in the
time of the pair). If all three drop together, the cores slow down when both run; if the
threads' scaling drops alone, the loss is in the threads (their hand-overs of the GIL).

Usage: python benchmarks/bench_thread_scaling.py [--rounds 16] [--json PATH]
"""

import argparse
import json
import multiprocessing
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_features import make_clips, one_blas_thread, time_repeats  # noqa: E402

# About the frames of one full kernel chunk (2**17 samples at a 160-sample hop), 512 points.
# Chunks of 3-s clips hold two clips, 602 frames: the FFT rows measure the cores, not mfcc.
FRAMES, N_FFT = 820, 512


# The worker processes' half of the clips, set before they fork.
_HALF = []


def mfcc_half(_):
    """Seconds for ``mfcc`` on ``_HALF`` on one thread in this process (after a warm call)."""
    from sklearn_ser.features import mfcc

    return timed_call(one_blas_thread(lambda: mfcc(_HALF)))


def fft_work(n_calls):
    """Seconds for ``n_calls`` real FFTs of one chunk's frames, in this process."""
    import scipy.fft

    frames = np.random.default_rng(0).standard_normal((FRAMES, N_FFT)).astype(np.float32)
    start = time.perf_counter()
    for _ in range(n_calls):
        scipy.fft.rfft(frames.T, axis=0)
    return time.perf_counter() - start


def timed_call(fn):
    """Seconds for ``fn()``, after an untimed call of it (bench_features' protocol)."""
    return time_repeats({"call": fn}, 1)["call"][0]


def one_round(clips, pool, fft_calls):
    from sklearn_ser.features import mfcc

    one_thread = timed_call(one_blas_thread(lambda: mfcc(clips)))
    two_threads = timed_call(lambda: mfcc(clips))
    half_alone = pool.apply(mfcc_half, (0,))
    half_pair = max(pool.map(mfcc_half, [0, 0], chunksize=1))
    alone = pool.apply(fft_work, (fft_calls,))
    pair = max(pool.map(fft_work, [fft_calls, fft_calls], chunksize=1))
    return {
        "time": time.strftime("%H:%M:%S"),
        "mfcc_1thread_s": round(one_thread, 4),
        "mfcc_threads_s": round(two_threads, 4),
        "mfcc_scaling": round(one_thread / two_threads, 3),
        "mfcc_half_1process_s": round(half_alone, 4),
        "mfcc_half_2processes_s": round(half_pair, 4),
        "mfcc_process_scaling": round(2 * half_alone / half_pair, 3),
        "fft_1process_s": round(alone, 4),
        "fft_2processes_s": round(pair, 4),
        "fft_scaling": round(2 * alone / pair, 3),
    }


def summary(rounds, key):
    values = np.array([r[key] for r in rounds])
    return {"median": round(float(np.median(values)), 3), "min": round(float(values.min()), 3),
            "max": round(float(values.max()), 3)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=16)
    parser.add_argument("--n-clips", type=int, default=500)
    parser.add_argument("--fft-calls", type=int, default=200,
                        help="FFT batches per process per round (about 0.1 s)")
    parser.add_argument("--json", help="write the rounds and their summary to this file")
    args = parser.parse_args(argv)

    from sklearn_ser.features._engine import kernel_threads

    clips = make_clips(args.n_clips, 3.0, 16000)
    _HALF[:] = clips[: len(clips) // 2]
    print(f"{args.n_clips} clips x 3 s at 16 kHz; mfcc on {kernel_threads()} kernel threads "
          f"vs one; mfcc on {len(_HALF)} clips per process; {args.fft_calls} FFTs of "
          f"{FRAMES} x {N_FFT} frames per process")
    print(f"{'':8}  {'---- mfcc, threads ----':>29}  {'- mfcc/2, processes -':>24}  "
          f"{'--- FFT, processes ---':>24}")
    print(f"{'time':>8}  {'1t s':>9}  {'2t s':>9}  {'scaling':>7}  {'1p s':>7}  {'2p s':>7}  "
          f"{'scaling':>7}  {'1p s':>7}  {'2p s':>7}  {'scaling':>7}")
    rounds = []
    # Fork: the workers inherit _HALF instead of receiving the clips pickled.
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(fft_work, [10, 10])
        for _ in range(args.rounds):
            r = one_round(clips, pool, args.fft_calls)
            rounds.append(r)
            print(f"{r['time']:>8}  {r['mfcc_1thread_s']:9.3f}  {r['mfcc_threads_s']:9.3f}  "
                  f"{r['mfcc_scaling']:7.2f}  {r['mfcc_half_1process_s']:7.3f}  "
                  f"{r['mfcc_half_2processes_s']:7.3f}  {r['mfcc_process_scaling']:7.2f}  "
                  f"{r['fft_1process_s']:7.3f}  {r['fft_2processes_s']:7.3f}  "
                  f"{r['fft_scaling']:7.2f}", flush=True)
    keys = ("mfcc_scaling", "mfcc_process_scaling", "fft_scaling")
    result = {"rounds": rounds, **{key: summary(rounds, key) for key in keys}}
    for key in keys:
        s = result[key]
        print(f"{key:>21}: median {s['median']:.2f}, range {s['min']:.2f} to {s['max']:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
