"""Speed of PretrainedSpeechExtractor against a plain ``transformers`` loop, on CPU.

Usage::

    python benchmarks/bench_pretrained.py [--clips 8] [--duration 2 4] [--repeats 3]
        [--threads N] [--out benchmarks/results/bench_pretrained.txt]

The encoder is a base-size wav2vec 2.0 (``Wav2Vec2Config()``: 12 layers of 768 units, the
architecture of ``facebook/wav2vec2-base``) with random weights, written to a temporary folder
with ``save_pretrained`` and loaded from it: the compute of a real checkpoint without a
download. The clips are synthetic utterances (``make_emotional_speech``) at 16 kHz.

Three ways of getting one mean-pooled vector per clip run in alternating rounds (A B C A B C
...), so that load from other processes on a shared machine hits each alike:

* ``plain``: the reference, what a user writes with transformers alone: the checkpoint's
  feature extractor and the model, one clip at a time (the Base front end's group norm
  normalises over time, so padded batches would change the features), all hidden states,
  the chosen layer averaged over time;
* ``extractor``: ``PretrainedSpeechExtractor(layer=-1)``, the same last layer, so the same
  compute: the ratio ``extractor / plain`` is the extractor's overhead (target <= 1.05);
* ``extractor-middle``: ``layer=6``, the layer usually recommended for emotion; the layers
  above it are not run, which the plain loop cannot know.

Each figure is the median over the repeats of the wall-clock time for all clips; the
real-time factor is that time over the audio's duration (below 1: faster than real time).
Both paths' features are compared once (they must agree to float rounding).
"""

import argparse
import datetime
import os
import platform
import subprocess
import tempfile
import time

import numpy as np
import torch

from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.neural import PretrainedSpeechExtractor

SR = 16000


def _commit():
    """The commit of the code measured, marked when the package differs from it."""
    def git(*args):
        return subprocess.run(["git", *args], capture_output=True, text=True,
                              check=True).stdout.strip()

    try:
        changed = git("status", "--porcelain", "--", "sklearn_ser",
                      "benchmarks/bench_pretrained.py")
        return git("rev-parse", "--short", "HEAD") + (" + uncommitted changes" if changed else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def save_base_encoder(folder):
    """A wav2vec 2.0 Base configuration with random weights, as a checkpoint folder."""
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model

    torch.manual_seed(0)
    Wav2Vec2Model(Wav2Vec2Config()).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(sampling_rate=SR, do_normalize=True,
                             return_attention_mask=False).save_pretrained(folder)


def plain_loop(folder, layer):
    """The reference: transformers alone, one clip at a time."""
    from transformers import AutoFeatureExtractor, AutoModel

    model = AutoModel.from_pretrained(folder).eval()
    feature_extractor = AutoFeatureExtractor.from_pretrained(folder)

    def run(clips):
        rows = []
        with torch.inference_mode():
            for clip in clips:
                inputs = feature_extractor(clip, sampling_rate=SR, return_tensors="pt")
                hidden = model(**inputs, output_hidden_states=True).hidden_states
                rows.append(hidden[layer][0].mean(dim=0).numpy())
        return np.stack(rows)

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--duration", type=float, nargs=2, default=(2.0, 4.0))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's own choice)")
    parser.add_argument("--out", default=None, help="write the report here too")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    corpus = make_emotional_speech(args.clips, n_speakers=2, duration=tuple(args.duration),
                                   emotions=["anger", "happiness", "neutral", "sadness"],
                                   random_state=0)
    clips = corpus.data
    audio_s = sum(len(c) for c in clips) / SR
    with tempfile.TemporaryDirectory() as folder:
        save_base_encoder(folder)
        plain = plain_loop(folder, layer=12)
        full = PretrainedSpeechExtractor(folder, layer=-1, device="cpu").fit(clips)
        middle = PretrainedSpeechExtractor(folder, layer=6, device="cpu").fit(clips)
        runs = {"plain": plain, "extractor": full.transform,
                "extractor-middle": middle.transform}
        first = {name: run(clips) for name, run in runs.items()}  # untimed warm-up
        agree = float(np.max(np.abs(first["extractor"] - first["plain"])))
        times = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, run in runs.items():
                start = time.perf_counter()
                run(clips)
                times[name].append(time.perf_counter() - start)

    median = {name: float(np.median(t)) for name, t in times.items()}
    lines = [
        f"bench_pretrained: {datetime.date.today().isoformat()}, commit {_commit()}, "
        f"{platform.machine()} with {os.cpu_count()} cores, torch "
        f"{torch.__version__} on {torch.get_num_threads()} threads, "
        f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        f"wav2vec 2.0 Base configuration (random weights), {len(clips)} synthetic clips, "
        f"{audio_s:.1f} s of audio, median of {args.repeats} interleaved repeats",
        "",
        f"{'path':<18} {'seconds':>8} {'real-time factor':>17}   times (s)",
    ]
    for name, t in times.items():
        lines.append(f"{name:<18} {median[name]:8.2f} {median[name] / audio_s:17.3f}   "
                     + " ".join(f"{x:.2f}" for x in t))
    pairs = np.array(times["extractor"]) / np.array(times["plain"])
    lines += [
        "",
        "overhead extractor / plain (last layer, same compute): "
        f"{median['extractor'] / median['plain']:.3f} (median of pairs "
        f"{np.median(pairs):.3f}); target <= 1.05",
        f"extractor-middle / plain (layer 6; layers 7-12 not run): "
        f"{median['extractor-middle'] / median['plain']:.3f}",
        f"largest difference between the two paths' features: {agree:.2e}",
    ]
    report = "\n".join(lines)
    print(report)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(f"$ python benchmarks/bench_pretrained.py --clips {args.clips} "
                     f"--duration {args.duration[0]:g} {args.duration[1]:g} "
                     f"--repeats {args.repeats}"
                     + (f" --threads {args.threads}" if args.threads else "") + "\n")
            fh.write(report + "\n")


if __name__ == "__main__":
    main()
