"""Robustness report of the ready-made recognisers: noise, level and digital silence.

Runs ``sklearn-ser benchmark`` (its :func:`~sklearn_ser.cli._benchmark.run_benchmark`) on a
corpus with every test condition of :func:`~sklearn_ser.model_selection.evaluate`: white,
pink, brown and babble noise at 20, 10 and 0 dB SNR on the test clips (babble from the fold's
training speakers only), gains of -20 and +20 dB (the latter clips), and 0.5 s of exact zeros
at both ends of every test clip. Training clips are never touched by the test conditions (the
pipelines' own noisy training copies are part of their defaults). Writes a Markdown table and
the records as JSON; ``--from-results`` formats the ``results.json`` of an earlier
``sklearn-ser benchmark`` run with these options instead of running again.

Usage::

    python benchmarks/bench_robustness.py --data-dir /path/to/emodb --models svm-sn,svm,fusion \
        --output benchmarks/results/robustness_emodb
    python benchmarks/bench_robustness.py --from-results runs/robustness-emodb/results.json \
        --output benchmarks/results/robustness_emodb
    python benchmarks/bench_robustness.py --denoiser-only   # Wiener vs gating, output SNR
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from sklearn_ser.augmentation import add_noise
from sklearn_ser.preprocessing import denoise

TEST_SNR = (20, 10, 0)
TEST_NOISE = ("white", "pink", "brown", "babble")
TEST_GAIN = (-20, 20)
TEST_PADDING = (0.5,)
NOISE_LABELS = {"white": "snr", "pink": "pink", "brown": "brown", "babble": "babble"}


def denoiser_table(n_clips=40, snrs=(20, 10, 0), seed=1):
    """Output SNR (dB, against the clean clip) of each Denoiser method on synthetic speech."""
    from sklearn_ser.datasets import make_emotional_speech

    clips = make_emotional_speech(n_clips, random_state=0).data
    rng = np.random.default_rng(seed)
    rows = []
    for snr in snrs:
        row = {"input_snr": snr}
        scores = {"none": [], "wiener": [], "gating": []}
        for clip in clips:
            clean = np.asarray(clip, dtype=np.float64)
            noisy = add_noise(clean, snr=snr, random_state=rng)
            for method, out in (("none", noisy), ("wiener", denoise(noisy, method="wiener")),
                                ("gating", denoise(noisy, method="gating"))):
                scores[method].append(
                    10 * np.log10(np.sum(clean**2) / np.sum((out - clean) ** 2))
                )
        row.update({k: float(np.mean(v)) for k, v in scores.items()})
        rows.append(row)
    return rows


def markdown(records, meta):
    """One table of UAR per model and condition, and one of the must-show differences."""
    header = ["model", "clean"]
    keys = []
    for noise in TEST_NOISE:
        for snr in TEST_SNR:
            header.append(f"{noise} {snr} dB")
            keys.append(f"uar_{NOISE_LABELS[noise]}{snr}")
    header += [f"gain {g:+d} dB" for g in TEST_GAIN] + ["zeros 0.5 s", "same label, zeros"]
    keys += [f"uar_gain{g:+d}" for g in TEST_GAIN] + ["uar_zeros0.5", "agree_zeros0.5"]
    lines = [
        f"# Robustness of the ready-made recognisers: {meta['dataset']}, {meta['protocol']}",
        "",
        f"- command: `{meta['command']}`",
        f"- {meta['note']}" if meta.get("note") else "",
        "- UAR of pooled out-of-fold predictions; every test condition is applied to the test "
        "clips only (seeded, the same for every model); babble is five talkers from the "
        "fold's training speakers; +20 dB gain clips at full scale; the last column is the "
        "fraction of clips whose label did not change with 0.5 s of zeros at both ends",
        f"- {meta['platform']}, {meta['date']}",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for r in records:
        cells = [f"`{r['model']}`", f"{r['uar']:.3f}"]
        cells += [f"{r[k]:.3f}" if k in r else "" for k in keys]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Points below clean (white noise and babble):", "",
              "| model | white 20 | white 10 | babble 20 | babble 10 |", "|---|---|---|---|---|"]
    for r in records:
        diffs = [100 * (r["uar"] - r.get(k, np.nan)) for k in
                 ("uar_snr20", "uar_snr10", "uar_babble20", "uar_babble10")]
        lines.append(f"| `{r['model']}` | " + " | ".join(f"{d:.1f}" for d in diffs) + " |")
    return "\n".join(line for line in lines if line is not None) + "\n"


def run(args):
    from sklearn_ser.cli._benchmark import load_corpus, run_benchmark

    corpus = load_corpus(args.dataset, data_dir=args.data_dir, n_samples=args.n_samples,
                         random_state=0, n_jobs=args.n_jobs, verbose=1)
    records, _ = run_benchmark(corpus, args.models.split(","), cv=args.cv, n_jobs=args.n_jobs,
                               random_state=0, test_snr=TEST_SNR, test_noise=TEST_NOISE,
                               test_gain=TEST_GAIN, test_padding=TEST_PADDING)
    return records


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="emodb")
    parser.add_argument("--data-dir", default=None, help="corpus folder (or its env variable)")
    parser.add_argument("--models", default="svm-sn,svm,fusion")
    parser.add_argument("--cv", default="loso")
    parser.add_argument("--n-samples", type=int, default=280, help="synthetic corpus size")
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.add_argument("--from-results", default=None,
                        help="results.json of a sklearn-ser benchmark run to format")
    parser.add_argument("--command", default=None, help="the command that made --from-results")
    parser.add_argument("--note", default=None, help="a line added to the header")
    parser.add_argument("--output", default=None,
                        help="path prefix for .md and .json (default: print only)")
    parser.add_argument("--denoiser-only", action="store_true",
                        help="print the Wiener-vs-gating output-SNR table and exit")
    args = parser.parse_args(argv)

    if args.denoiser_only:
        print(f"{'input SNR':>10} {'none':>8} {'wiener':>8} {'gating':>8}")
        for row in denoiser_table():
            print(f"{row['input_snr']:>10} {row['none']:>8.2f} {row['wiener']:>8.2f} "
                  f"{row['gating']:>8.2f}")
        return 0
    if args.from_results:
        records = json.loads(Path(args.from_results).read_text())
        command = args.command or f"formatted from {args.from_results}"
    else:
        records = run(args)
        command = "python benchmarks/bench_robustness.py " + " ".join(argv or [])
    first = records[0]
    meta = {"dataset": first.get("dataset", args.dataset),
            "protocol": first.get("protocol", args.cv), "command": command,
            "note": args.note,
            "platform": f"Python {platform.python_version()}, {platform.machine()}, "
                        f"{os.cpu_count()} CPUs",
            "date": time.strftime("%Y-%m-%d")}
    text = markdown(records, meta)
    if args.output:
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".md").write_text(text)
        out.with_suffix(".json").write_text(
            json.dumps({"meta": meta, "records": records}, indent=2) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(__import__("sys").argv[1:]))
