"""Time to augment 535 clips x 4 copies with Augmenter (EmoDB when present, else synthetic).

When the optional ``audiomentations`` package is installed, the same effects (noise at an
SNR, room reverberation as convolution with a synthetic response, speed by resampling, pitch
shift, gain) are timed through it and the ratio is printed; it is not a dependency, and the
ratio is skipped with a note when it is absent.

Usage::

    python benchmarks/bench_augmentation.py [--data-dir EMODB] [--n-jobs 1] [--json PATH]
"""

import argparse
import importlib.util
import json
import os
import platform
import time

import numpy as np

from sklearn_ser.augmentation import Augmenter

N_CLIPS, N_COPIES = 535, 4


def load_clips(data_dir, n_jobs):
    from sklearn_ser import datasets

    path = data_dir or os.environ.get("SKLEARN_SER_EMODB")
    if path is None:
        default = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "emodb")
        path = default if os.path.isdir(os.path.join(default, "wav")) else None
    if path is not None:
        bunch = datasets.load_emodb(path, return_clips=True, n_jobs=n_jobs)
        return "emodb", list(bunch.data)[:N_CLIPS], np.asarray(bunch.target)[:N_CLIPS]
    bunch = datasets.make_emotional_speech(N_CLIPS, random_state=0)
    return "synthetic", list(bunch.data), np.asarray(bunch.target)


def time_augmenter(clips, y, n_jobs, **effects):
    aug = Augmenter(n_copies=N_COPIES, n_jobs=n_jobs, random_state=0, **effects)
    start = time.perf_counter()
    X_res, _ = aug.fit_resample(clips, y)
    return time.perf_counter() - start, len(X_res) - len(clips)


def time_audiomentations(clips, sr=16000):
    import audiomentations as A

    rng = np.random.default_rng(0)
    # Reverb as convolution needs IR files in audiomentations; the others map one to one.
    compose = A.Compose([
        A.AddGaussianSNR(min_snr_db=0.0, max_snr_db=20.0, p=0.8),
        A.Resample(min_sample_rate=int(sr * 0.9), max_sample_rate=int(sr * 1.1), p=0.3),
        A.PitchShift(min_semitones=-2.0, max_semitones=2.0, p=0.3),
        A.Gain(min_gain_db=-6.0, max_gain_db=6.0, p=0.5),
    ])
    start = time.perf_counter()
    for _ in range(N_COPIES):
        for clip in clips:
            compose(samples=clip, sample_rate=sr)
    del rng
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--json", default=None, help="write the figures to this JSON file")
    args = parser.parse_args(argv)

    corpus, clips, y = load_clips(args.data_dir, args.n_jobs)
    seconds_audio = sum(len(c) for c in clips) / 16000
    rows = []
    settings = {
        "default (noise .8, reverb .3, speed .3, pitch .3, gain .5)": {},
        "noise + gain only": dict(p_reverb=0.0, p_speed=0.0, p_pitch=0.0),
        "pitch shift on every copy": dict(p_noise=0.0, p_reverb=0.0, p_speed=0.0, p_pitch=1.0,
                                          p_gain=0.0),
    }
    for name, effects in settings.items():
        seconds, n_new = time_augmenter(clips, y, args.n_jobs, **effects)
        rows.append({"setting": name, "seconds": seconds, "copies": n_new,
                     "ms_per_copy": 1000 * seconds / n_new})
    audiomentations = None
    if importlib.util.find_spec("audiomentations") is not None:
        seconds = time_audiomentations(clips)
        audiomentations = {"seconds": seconds, "ratio_augmenter_over_audiomentations":
                           rows[0]["seconds"] / seconds}
    print(f"Augmenting {len(clips)} {corpus} clips ({seconds_audio / 60:.1f} min of audio) x "
          f"{N_COPIES} copies, n_jobs={args.n_jobs}")
    print(f"{'setting':<60} {'seconds':>8} {'ms/copy':>8}")
    for r in rows:
        print(f"{r['setting']:<60} {r['seconds']:>8.1f} {r['ms_per_copy']:>8.2f}")
    if audiomentations is None:
        note = ("audiomentations is not installed (it is not a dependency): ratio skipped. "
                "pip install audiomentations to measure it.")
    else:
        note = (f"audiomentations, equivalent Compose: {audiomentations['seconds']:.1f} s; "
                f"Augmenter / audiomentations = "
                f"{audiomentations['ratio_augmenter_over_audiomentations']:.2f}")
    print(note)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"corpus": corpus, "n_clips": len(clips), "n_copies": N_COPIES,
                       "audio_minutes": seconds_audio / 60, "n_jobs": args.n_jobs,
                       "rows": rows, "audiomentations": audiomentations, "note": note,
                       "platform": f"Python {platform.python_version()}, "
                                   f"{platform.machine()}, {os.cpu_count()} CPUs (shared)",
                       "date": time.strftime("%Y-%m-%d")}, fh, indent=2)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(__import__("sys").argv[1:]))
