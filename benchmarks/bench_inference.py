"""Inference latency of a deep recogniser on one 3-s clip, and the streaming real-time factor.

Usage::

    python benchmarks/bench_inference.py [--repeats 400] [--stream-seconds 60] [--json PATH]

The model is ``make_deep_pipeline("cnn")`` (log-mel frames -> frame-wise scaling -> the
(32, 64, 128) CNN) fitted for a few epochs on synthetic clips: the weights do not matter for
speed. One 3-s clip is scored end to end (features + network), one clip per call, in four
configurations:

* ``untamed``: ``pipeline.predict_proba([clip])`` with the thread pools as they start (torch
  and OpenBLAS each one thread per core). This is the reference.
* ``tamed``: the same call inside ``limit_threads(1)`` (BLAS and torch on one thread).
* ``score_clips``: :func:`sklearn_ser.streaming.score_clips` with ``n_threads=1``, the path of
  ``StreamingRecognizer`` and ``sklearn-ser predict``: tamed threads, and the NaN padding
  frames cut before the network (identical probabilities, checked here).
* ``score_clips-2t``: the same with torch on two threads.

The configurations run in alternating rounds (A B C D A B C D ...), so that load from other
processes on a shared machine hits each alike. Targets: ``score_clips`` median <= 5 ms and
p90 <= 2x its median. The streaming figure is the real-time factor (audio seconds per
wall-clock second) of ``StreamingRecognizer(window=2.0, hop=0.5).stream(path)`` over a
``--stream-seconds`` long WAV file (target >= 50x), tamed and untamed.
"""

import argparse
import json
import os
import platform
import tempfile
import time

import numpy as np
import soundfile as sf
import torch
from threadpoolctl import threadpool_info

from sklearn_ser import __version__
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.pipelines import make_deep_pipeline
from sklearn_ser.streaming import StreamingRecognizer, limit_threads, score_clips

SR = 16000


def _load():
    return [round(x, 2) for x in os.getloadavg()]


def fit_model(n_clips, epochs, seed):
    train = make_emotional_speech(n_clips, n_speakers=4, random_state=seed)
    pipe = make_deep_pipeline("cnn", max_epochs=epochs, validation_fraction=None, device="cpu",
                              random_state=seed)
    return pipe.fit(train.data, train.target)


def latency(pipe, clip, repeats, rounds):
    calls = {
        "untamed": lambda: pipe.predict_proba([clip]),
        "tamed": lambda: _tamed(pipe, clip),
        "score_clips": lambda: score_clips(pipe, [clip], n_threads=1),
        "score_clips-2t": lambda: score_clips(pipe, [clip], n_threads=2),
    }
    reference = pipe.predict_proba([clip])
    for name, call in calls.items():  # warm-up, and the fast paths give the same numbers
        for _ in range(10):
            proba = call()
        np.testing.assert_allclose(proba, reference, rtol=1e-5, atol=1e-7, err_msg=name)
    times = {name: [] for name in calls}
    per_round = max(1, repeats // rounds)
    for _ in range(rounds):
        for name, call in calls.items():
            for _ in range(per_round):
                start = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - start)
    return {name: _stats(np.array(t) * 1e3) for name, t in times.items()}


def _tamed(pipe, clip):
    with limit_threads(1):
        return pipe.predict_proba([clip])


def _stats(ms):
    median = float(np.median(ms))
    return {"median_ms": round(median, 3), "p90_ms": round(float(np.percentile(ms, 90)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3),
            "p90_over_median": round(float(np.percentile(ms, 90)) / median, 2),
            "n_calls": int(len(ms))}


def streaming(pipe, seconds, repeats, seed):
    """Real-time factor of streaming a WAV file, tamed (n_threads=1) and untamed (None)."""
    bunch = make_emotional_speech(int(seconds / 2) + 10, n_speakers=4, random_state=seed + 1)
    rng = np.random.default_rng(seed)
    pieces, total = [], 0
    for clip in bunch.data:  # speech with short pauses of near-silence between utterances
        pause = (0.0005 * rng.normal(size=int(rng.uniform(0.2, 1.0) * SR))).astype(np.float32)
        pieces += [clip, pause]
        total += len(clip) + len(pause)
        if total >= seconds * SR:
            break
    audio = np.concatenate(pieces)[: int(seconds * SR)]
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "stream.wav")
        sf.write(path, audio, SR)
        for name, n_threads in (("tamed", 1), ("untamed", None)):
            rtfs, counts = [], None
            for _ in range(repeats):
                recognizer = StreamingRecognizer(pipe, window=2.0, hop=0.5, n_threads=n_threads)
                start = time.perf_counter()
                events = list(recognizer.stream(path))
                rtfs.append(len(audio) / SR / (time.perf_counter() - start))
                counts = (len(events), sum(e.is_speech for e in events))
            results[name] = {"rtf_median": round(float(np.median(rtfs)), 1),
                             "rtf_min": round(float(np.min(rtfs)), 1),
                             "windows": counts[0], "scored_windows": counts[1]}
    results["audio_seconds"] = round(len(audio) / SR, 1)
    return results


def main(argv=None):
    import sys

    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=400, help="calls per configuration")
    parser.add_argument("--rounds", type=int, default=20, help="alternating rounds")
    parser.add_argument("--stream-seconds", type=float, default=60.0)
    parser.add_argument("--stream-repeats", type=int, default=3)
    parser.add_argument("--train-clips", type=int, default=60)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the figures to this JSON file")
    parser.add_argument("--md", default=None, help="write the report to this Markdown file")
    args = parser.parse_args(argv)

    load_before = _load()
    pipe = fit_model(args.train_clips, args.epochs, args.seed)
    clip = make_emotional_speech(7, n_speakers=1, duration=(3.0, 3.0),
                                 random_state=args.seed + 2).data[0]
    assert len(clip) == 3 * SR
    pools = sorted({f"{p['internal_api']}:{p['num_threads']}" for p in threadpool_info()})
    lat = latency(pipe, clip, args.repeats, args.rounds)
    stream = streaming(pipe, args.stream_seconds, args.stream_repeats, args.seed)
    load_after = _load()

    ref, best = lat["untamed"], lat["score_clips"]
    summary = {
        "median_ms": best["median_ms"],
        "p90_ms": best["p90_ms"],
        "p90_over_median": best["p90_over_median"],
        "untamed_median_over_median": round(ref["median_ms"] / best["median_ms"], 2),
        "untamed_p90_over_p90": round(ref["p90_ms"] / best["p90_ms"], 2),
        "stream_rtf": stream["tamed"]["rtf_median"],
        "targets_met": bool(best["median_ms"] <= 5.0 and best["p90_over_median"] <= 2.0
                            and stream["tamed"]["rtf_median"] >= 50.0),
    }
    env = {
        "sklearn_ser": __version__, "torch": torch.__version__, "python":
        platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
        "thread_pools_at_start": pools, "load_before": load_before, "load_after": load_after,
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    lines = [
        "One 3-s clip end to end: make_deep_pipeline('cnn') (log-mel 40 x 150 frames, CNN "
        "32-64-128)",
        f"{'configuration':<16} {'median ms':>10} {'p90 ms':>8} {'p99 ms':>8} {'p90/median':>11}",
    ]
    for name, s in lat.items():
        lines.append(f"{name:<16} {s['median_ms']:>10.2f} {s['p90_ms']:>8.2f} "
                     f"{s['p99_ms']:>8.2f} {s['p90_over_median']:>11.2f}")
    lines += [
        "",
        f"score_clips vs untamed: median {summary['untamed_median_over_median']:.2f}x lower, "
        f"p90 {summary['untamed_p90_over_p90']:.2f}x lower",
        f"Streaming a {stream['audio_seconds']:.0f}-s file (window 2 s, hop 0.5 s, "
        f"{stream['tamed']['windows']} windows, {stream['tamed']['scored_windows']} scored): "
        f"real-time factor {stream['tamed']['rtf_median']:.0f}x tamed (min "
        f"{stream['tamed']['rtf_min']:.0f}x), {stream['untamed']['rtf_median']:.0f}x untamed",
        f"Targets (median <= 5 ms, p90 <= 2x median, RTF >= 50x): "
        f"{'met' if summary['targets_met'] else 'NOT met'}",
        f"Machine: {env['cpus']} CPUs, load average {load_before} before, {load_after} after; "
        f"torch {env['torch']}; pools at start {', '.join(pools)}",
    ]
    print("\n".join(lines))
    if args.md:
        command = "python benchmarks/bench_inference.py " + " ".join(argv or [])
        with open(args.md, "w") as fh:
            fh.write(f"# bench_inference ({env['date']})\n\n`{command.strip()}`\n\n```\n"
                     + "\n".join(lines) + "\n```\n\n" + __doc__.split("\n\n", 2)[2])
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"summary": summary, "latency": lat, "streaming": stream, "env": env,
                       "args": vars(args)}, fh, indent=2)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
