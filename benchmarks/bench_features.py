"""Feature extraction speed against per-clip librosa, and peak memory on long corpora.

Every ratio compares two timings taken in the same run, interleaved repeat by repeat, because
this shared 2-core machine is noisy (its speed drifts by a third within minutes). Each timed
call follows an untimed call of the same function (``--no-warm`` turns this off), so none is
timed in the allocator and cache state that another left behind. The table gives the median
of ``--repeats`` (the headline figure) and the best repeat, timeit's choice of statistic
("higher values are typically caused by other processes interfering"); both are in the JSON:

* ``mfcc``: sklearn_ser's batched ``mfcc`` against ``librosa.feature.mfcc`` called per clip
  with the same parameters (25 ms Hann window, 10 ms hop, 40 mel bands, 20 coefficients);
* ``lpcc``: sklearn_ser's ``lpcc`` (LPC order 16 + cepstra, every frame) against
  ``librosa.lpc`` per clip over the same Hamming-windowed frames (LPC only; warmed up first,
  so its one-off numba compilation is not counted);
* ``full_classic``: the default classic feature step (``make_features()``: MFCC, LPCC,
  spectral, prosodic and log-mel functionals) against a per-clip librosa equivalent (MFCC + deltas,
  spectral centroid, bandwidth, roll-off, flatness, contrast, ZCR, RMS, YIN pitch).

Our kernels spread the work of one call over threads, as many as OpenMP would use (the
cores, unless ``OMP_NUM_THREADS`` or threadpoolctl says otherwise): chunks of clips in
``mfcc`` and ``lpcc``, shares of clips in the feature step. Those rows are that default, and
the ``_1thread`` rows the same calls held to one thread (threadpoolctl), for comparison with
librosa on one core. ``full_classic`` runs with ``n_jobs=None`` (one process, its shares on
the kernel threads); ``full_classic_n_jobs2`` is the same feature step with ``n_jobs=2``:
its ``ExtractorUnion`` cuts the clips into shares and runs each share through all the
extractors in one of two joblib workers (loky processes, joblib's default, which hold each
worker to one thread; joblib memory-maps each share's audio for them), and
``full_classic_n_jobs2_threads`` the same with joblib's threading backend, all against the
same reference.

``--also-features SETS`` also times the feature step of other feature sets (for example
``mfcc,lpcc,spectral,prosody``, the default without log-mel), in one process and with
``n_jobs=2`` (rows ``full_classic_sets`` and ``full_classic_sets_n_jobs2``).

``--baseline DIR`` also times the feature step of another copy of the package, interleaved
with ours in the same run (rows ``full_classic_baseline``, ``..._n_jobs2_baseline`` and
``..._1thread_baseline``): DIR holds it as ``sklearn_ser_baseline``, for example the
committed code, ``git archive HEAD sklearn_ser | tar -x -C DIR`` then
``mv DIR/sklearn_ser DIR/sklearn_ser_baseline`` (its imports are relative).

librosa's references multiply by the mel basis through BLAS, whose thread pool stalls when
other jobs hold the cores; so every reference is also timed with BLAS held to one thread
(threadpoolctl), and each ratio is taken against the *faster* of the two reference timings.
Our kernels make no BLAS calls.

``rtf`` is the real-time factor: seconds of audio processed per second of compute. The load
average of the machine is printed before and after the timings.
Peak memory runs the default feature step over 10 hours of audio in a subprocess and reports
its peak resident memory (the clips are 3-s views of one buffer, so the figure is the
extraction's own footprint plus the output, not the audio).

Usage: python benchmarks/bench_features.py [--n-clips 500] [--json PATH] [--skip-memory]
       [--baseline DIR] [--also-features SETS]
"""

import argparse
import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np


def make_clips(n_clips, seconds, sr, seed=0):
    from sklearn_ser.datasets import make_emotional_speech

    corpus = make_emotional_speech(n_clips, n_speakers=10, sr=sr, duration=seconds,
                                   random_state=seed)
    return list(corpus.data)


def one_blas_thread(fn):
    """``fn`` run with BLAS (and OpenMP) pools held to one thread."""
    from threadpoolctl import threadpool_limits

    def limited():
        with threadpool_limits(1):
            return fn()

    return limited


def in_threads(fn, *args):
    """``fn(*args)`` with joblib's threading backend (no copies of the clips to workers)."""
    from joblib import parallel_config

    with parallel_config(backend="threading"):
        return fn(*args)


def time_repeats(functions, repeats, warm=True):
    """Seconds of each function in every repeat, running them interleaved ``repeats`` times.

    With ``warm``, each timed call follows an untimed call of the same function, so that no
    function is timed in the state (allocator, caches) that a different one left behind:
    measured here, our MFCC took 0.13-0.15 s after itself and 0.17-0.18 s right after
    librosa's. Every function, the references included, gets the same treatment.
    """
    times = {name: [] for name in functions}
    for _ in range(repeats):
        for name, fn in functions.items():
            if warm:
                fn()
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def librosa_mfcc(clips, sr):
    import librosa

    return [librosa.feature.mfcc(y=c, sr=sr, n_mfcc=20, n_fft=512, hop_length=160,
                                 win_length=400, n_mels=40) for c in clips]


def librosa_lpc(clips):
    import librosa

    window = np.hamming(400).astype(np.float32)[:, None]
    out = []
    for c in clips:
        frames = librosa.util.frame(np.pad(c, 200), frame_length=400, hop_length=160)
        out.append(librosa.lpc(np.ascontiguousarray(frames * window), order=16, axis=0))
    return out


def librosa_classic(clips, sr):
    import librosa

    rows = []
    for y in clips:
        kw = dict(n_fft=512, hop_length=160, win_length=400)
        S = np.abs(librosa.stft(y, **kw)) ** 2
        mf = librosa.feature.mfcc(S=librosa.power_to_db(
            librosa.feature.melspectrogram(S=S, sr=sr, n_mels=40)), n_mfcc=20)
        parts = [mf, librosa.feature.delta(mf, mode="nearest"),
                 librosa.feature.spectral_centroid(S=S, sr=sr),
                 librosa.feature.spectral_bandwidth(S=S, sr=sr),
                 librosa.feature.spectral_rolloff(S=S, sr=sr),
                 librosa.feature.spectral_flatness(S=S),
                 librosa.feature.spectral_contrast(S=S, sr=sr, fmin=200.0),
                 librosa.feature.zero_crossing_rate(y, frame_length=400, hop_length=160),
                 librosa.feature.rms(y=y, frame_length=400, hop_length=160)]
        n = min(p.shape[1] for p in parts)
        frames = np.vstack([p[:, :n] for p in parts])
        f0 = librosa.yin(y, fmin=60, fmax=500, sr=sr, frame_length=1024, hop_length=320)
        rows.append(np.concatenate([frames.mean(1), frames.std(1), [f0.mean(), f0.std()]]))
    return np.array(rows)


def baseline_steps(directory, sr, clips):
    """The default feature step, in one process and with ``n_jobs=2``, of the package copy
    ``sklearn_ser_baseline`` in ``directory`` (None: no baseline)."""
    if directory is None:
        return None, None
    import importlib

    make_features = importlib.import_module("sklearn_ser_baseline.pipelines").make_features
    _, step = make_features(sr=sr)
    step.fit(clips[:4])
    _, parallel = make_features(sr=sr, n_jobs=2)
    parallel.fit(clips[:4])
    parallel.transform(clips[:40])  # start its joblib workers outside the timing
    return step, parallel


def feature_sets_steps(sets, sr, clips):
    """The feature step of the named ``sets`` (comma-separated), in one process and with
    ``n_jobs=2`` (None: no such rows)."""
    if sets is None:
        return None, None
    from sklearn_ser.pipelines import make_features

    names = sets.split(",")
    _, step = make_features(names, sr=sr)
    step.fit(clips[:4])
    _, parallel = make_features(names, sr=sr, n_jobs=2)
    parallel.fit(clips[:4])
    parallel.transform(clips[:40])  # start its joblib workers outside the timing
    return step, parallel


def measure_speed(clips, sr, repeats, warm=True, baseline=None, also_features=None):
    from sklearn_ser.features import lpcc, mfcc
    from sklearn_ser.pipelines import make_features

    audio_seconds = sum(len(c) for c in clips) / sr
    _, feature_step = make_features(sr=sr)
    feature_step.fit(clips[:4])
    _, parallel_step = make_features(sr=sr, n_jobs=2)
    parallel_step.fit(clips[:4])
    parallel_step.transform(clips[:40])  # start the joblib workers outside the timing
    librosa_lpc(clips[:2])  # numba compiles on first call: keep that out of the timing
    pairs = {
        "mfcc": {
            "ours": lambda: mfcc(clips, sr=sr, n_mfcc=20, n_fft=512, hop_length=160,
                                 win_length=400, n_mels=40),
            "reference": lambda: librosa_mfcc(clips, sr),
        },
        "lpcc": {
            "ours": lambda: lpcc(clips, sr=sr, order=16),
            "reference": lambda: librosa_lpc(clips),
        },
        "full_classic": {
            "ours": lambda: feature_step.transform(clips),
            "ours_n_jobs2": lambda: parallel_step.transform(clips),
            "ours_n_jobs2_threads": lambda: in_threads(parallel_step.transform, clips),
            "reference": lambda: librosa_classic(clips, sr),
        },
    }
    base_step, base_parallel = baseline_steps(baseline, sr, clips)
    if base_step is not None:
        pairs["full_classic"].update(
            ours_baseline=lambda: base_step.transform(clips),
            ours_n_jobs2_baseline=lambda: base_parallel.transform(clips),
            ours_1thread_baseline=one_blas_thread(lambda: base_step.transform(clips)))
    sets_step, sets_parallel = feature_sets_steps(also_features, sr, clips)
    if sets_step is not None:
        pairs["full_classic"].update(
            ours_sets=lambda: sets_step.transform(clips),
            ours_sets_n_jobs2=lambda: sets_parallel.transform(clips))
    figures = {}
    for name, fns in pairs.items():
        fns = dict(fns, ours_1thread=one_blas_thread(fns["ours"]),
                   reference_1thread=one_blas_thread(fns["reference"]))
        runs = time_repeats(fns, repeats, warm=warm)
        times = {k: float(np.median(v)) for k, v in runs.items()}
        best = {k: float(np.min(v)) for k, v in runs.items()}
        reference = min(times["reference"], times["reference_1thread"])
        best_reference = min(best["reference"], best["reference_1thread"])
        for variant in [v for v in fns if v.startswith("ours")]:
            key = name + variant[len("ours"):]
            figures[key] = {
                "seconds": round(times[variant], 4),
                "reference_seconds": round(reference, 4),
                "reference_seconds_blas_default": round(times["reference"], 4),
                "reference_seconds_blas_1thread": round(times["reference_1thread"], 4),
                "rtf": round(audio_seconds / times[variant], 1),
                "reference_rtf": round(audio_seconds / reference, 1),
                "ratio": round(reference / times[variant], 2),
                "best_seconds": round(best[variant], 4),
                "best_reference_seconds": round(best_reference, 4),
                "best_rtf": round(audio_seconds / best[variant], 1),
                "best_ratio": round(best_reference / best[variant], 2),
                "all_seconds": [round(t, 4) for t in runs[variant]],
            }
    return audio_seconds, figures


_MEMORY_SCRIPT = """
import sys, time, warnings
import numpy as np
warnings.simplefilter("ignore")
from sklearn_ser.pipelines import make_features
hours, sr = float(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
base = (0.1 * rng.standard_normal(3 * sr)).astype(np.float32)
clips = [base] * int(hours * 3600 / 3)
_, step = make_features(sr=sr)

def high_water_mb():
    # VmHWM belongs to this process image; ru_maxrss would carry the parent's peak over exec.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

before = high_water_mb()
start = time.perf_counter()
X = step.fit(clips[:2]).transform(clips)
seconds = time.perf_counter() - start
print(before, high_water_mb(), seconds, X.shape[0], X.shape[1])
"""


def measure_memory(hours, sr):
    out = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, str(hours), str(sr)],
                         capture_output=True, text=True, check=True).stdout.split()
    before, peak, seconds, n_clips, n_features = map(float, out)
    return {"hours": hours, "clips": int(n_clips), "features": int(n_features),
            "peak_mb": round(peak, 1), "baseline_mb": round(before, 1),
            "seconds": round(seconds, 1), "rtf": round(hours * 3600 / seconds, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-clips", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--sr", type=int, default=16000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--memory-hours", type=float, default=10.0)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--no-warm", action="store_true",
                        help="time each call without an untimed call of it just before")
    parser.add_argument("--json", default=None, help="write the figures to this file")
    parser.add_argument("--baseline", default=None, metavar="DIR",
                        help="also time the feature step of DIR/sklearn_ser_baseline")
    parser.add_argument("--also-features", default=None, metavar="SETS",
                        help="also time the feature step of these comma-separated sets "
                             "(e.g. mfcc,lpcc,spectral,prosody), rows full_classic_sets*")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.baseline:
        # Before any worker starts: loky workers import the baseline's functions by name.
        sys.path.insert(0, args.baseline)
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [args.baseline] + [p for p in [os.environ.get("PYTHONPATH")] if p])

    clips = make_clips(args.n_clips, args.seconds, args.sr)
    load_before = os.getloadavg()
    audio_seconds, figures = measure_speed(clips, args.sr, args.repeats,
                                           warm=not args.no_warm, baseline=args.baseline,
                                           also_features=args.also_features)
    figures["warm"] = not args.no_warm
    load_after = os.getloadavg()
    figures["load_average"] = {"before": [round(x, 2) for x in load_before],
                               "after": [round(x, 2) for x in load_after],
                               "cpus": os.cpu_count()}
    print(f"{args.n_clips} clips x {args.seconds:g} s = {audio_seconds:.0f} s of audio at "
          f"{args.sr} Hz; median and best of {args.repeats} interleaved repeats"
          f"{', each after an untimed call of the same function' if not args.no_warm else ''}")
    print(f"load average (1, 5, 15 min) on {os.cpu_count()} CPUs: before "
          f"{' '.join(f'{x:.2f}' for x in load_before)}, after "
          f"{' '.join(f'{x:.2f}' for x in load_after)}\n")
    print(f"{'':<30}{'---------- median ----------':>45}{'---- best ----':>16}")
    print(f"{'feature':<30}{'ours s':>9}{'ours RTF':>10}{'ref s':>9}{'ref RTF':>9}"
          f"{'ratio':>8}{'RTF':>8}{'ratio':>8}  target")
    targets = {"mfcc": "ratio >= 5", "mfcc_1thread": "(one thread)", "lpcc": "ratio >= 5",
               "lpcc_1thread": "(one thread)", "full_classic": "RTF >= 1000",
               "full_classic_1thread": "(one thread)",
               "full_classic_n_jobs2": "RTF >= 1000 (2 cores)",
               "full_classic_n_jobs2_threads": "RTF >= 1000 (2 cores)",
               "full_classic_baseline": "(baseline)",
               "full_classic_n_jobs2_baseline": "(baseline, 2 cores)",
               "full_classic_1thread_baseline": "(baseline, one thread)",
               "full_classic_sets": f"({args.also_features})",
               "full_classic_sets_n_jobs2": f"({args.also_features}, 2 cores)"}
    for name, f in figures.items():
        if name not in targets:
            continue
        print(f"{name:<30}{f['seconds']:>9.3f}{f['rtf']:>10.0f}{f['reference_seconds']:>9.3f}"
              f"{f['reference_rtf']:>9.0f}{f['ratio']:>8.2f}{f['best_rtf']:>8.0f}"
              f"{f['best_ratio']:>8.2f}  {targets[name]}")
    if not args.skip_memory:
        memory = measure_memory(args.memory_hours, args.sr)
        figures["memory"] = memory
        print(f"\n{memory['hours']:g} h of audio ({memory['clips']} clips, "
              f"{memory['features']} features each): peak RSS {memory['peak_mb']:.0f} MB "
              f"(process before extraction: {memory['baseline_mb']:.0f} MB), "
              f"{memory['seconds']:.0f} s, RTF {memory['rtf']:.0f}; target < 2048 MB")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh, indent=2)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
