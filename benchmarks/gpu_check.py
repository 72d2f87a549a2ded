"""Train each sequence network on CUDA and on the CPU on the same data; print the speed ratio.

Usage::

    python benchmarks/gpu_check.py [--n-clips 512] [--n-frames 300] [--epochs 5] [--json PATH]

Where CUDA is not available, the script says so and exits 0: nothing here needs a GPU. Where it
is, it also checks that a model trained on the GPU unpickles and predicts in a process that sees
no GPU (``CUDA_VISIBLE_DEVICES=""``), with the same predictions.
"""

import argparse
import json
import os
import pickle
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np


def make_sequences(n_clips, n_frames, n_coeffs, n_classes=4, seed=0):
    """Random NaN-padded sequences with class-dependent means and varying lengths."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n_clips)
    X = rng.normal(size=(n_clips, n_frames, n_coeffs)).astype(np.float32)
    X += 0.3 * y[:, None, None]
    lengths = rng.integers(n_frames // 3, n_frames + 1, n_clips)
    for i, n in enumerate(lengths):
        X[i, n:] = np.nan
    return X, y


_NETWORKS = {
    "cnn": ("CNNClassifier", {}),
    "lstm": ("LSTMClassifier", {}),
    "crnn": ("CRNNClassifier", {}),
}


def time_fit(name, device, X, y, epochs, batch_size):
    from sklearn_ser import neural

    cls_name, params = _NETWORKS[name]
    est = getattr(neural, cls_name)(max_epochs=epochs, batch_size=batch_size,
                                    validation_fraction=None, device=device, random_state=0,
                                    **params)
    est.fit(X[:64], y[:64])  # warm-up: CUDA context, cuDNN autotuning, allocator
    if device.startswith("cuda"):
        import torch
        torch.cuda.synchronize()
    start = time.perf_counter()
    est.fit(X, y)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    est.predict(X)
    predict_seconds = time.perf_counter() - start
    return est, seconds, predict_seconds


_UNPICKLE = """
import pickle, sys, numpy as np, torch, warnings
assert not torch.cuda.is_available()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    est = pickle.load(open(sys.argv[1], "rb"))
X = np.load(sys.argv[2])
print(est.device_, " ".join(map(str, est.predict(X).tolist())))
"""


def check_cpu_unpickle(est, X):
    """Unpickle a GPU-trained model in a process without CUDA; return whether it agrees."""
    with tempfile.TemporaryDirectory() as tmp:
        model, data = os.path.join(tmp, "model.pkl"), os.path.join(tmp, "X.npy")
        with open(model, "wb") as f:
            pickle.dump(est, f)
        np.save(data, X)
        env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
        out = subprocess.run([sys.executable, "-c", _UNPICKLE, model, data], env=env,
                             capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        return {"ok": False, "error": out.stderr[-2000:]}
    device, *pred = out.stdout.split()
    same = np.mean(np.asarray(pred, dtype=est.classes_.dtype) == est.predict(X))
    return {"ok": bool(same == 1.0), "device_after_unpickle": device, "agreement": float(same)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-clips", type=int, default=512)
    parser.add_argument("--n-frames", type=int, default=300)
    parser.add_argument("--n-coeffs", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--models", default="cnn,lstm,crnn")
    parser.add_argument("--json", dest="json_path", default=None)
    args = parser.parse_args(argv)

    import torch

    if not torch.cuda.is_available():
        print("gpu_check: CUDA is not available here (torch "
              f"{torch.__version__}); nothing to compare. Every network runs with "
              "device='cpu' (or 'auto'), so no GPU is required.")
        if args.json_path:
            with open(args.json_path, "w") as f:
                json.dump({"cuda": False, "torch": torch.__version__}, f, indent=2)
        return 0

    X, y = make_sequences(args.n_clips, args.n_frames, args.n_coeffs)
    gpu_name = torch.cuda.get_device_name(0)
    rows = []
    for name in args.models.split(","):
        est_gpu, gpu_s, gpu_pred_s = time_fit(name, "cuda", X, y, args.epochs, args.batch_size)
        _, cpu_s, cpu_pred_s = time_fit(name, "cpu", X, y, args.epochs, args.batch_size)
        portable = check_cpu_unpickle(est_gpu, X[:64])
        rows.append({
            "model": name,
            "cpu_fit_s": round(cpu_s, 3),
            "gpu_fit_s": round(gpu_s, 3),
            "fit_speedup": round(cpu_s / gpu_s, 2),
            "cpu_predict_s": round(cpu_pred_s, 3),
            "gpu_predict_s": round(gpu_pred_s, 3),
            "gpu_model_unpickles_on_cpu": portable,
        })

    print(f"gpu_check: {args.n_clips} clips x {args.n_frames} frames x {args.n_coeffs} coeffs, "
          f"{args.epochs} epochs, batch {args.batch_size}; GPU {gpu_name}; CPU "
          f"{platform.processor() or platform.machine()} with {torch.get_num_threads()} "
          "torch threads")
    print(f"{'model':<6} {'CPU fit s':>10} {'GPU fit s':>10} {'speed-up':>9} "
          f"{'CPU pred s':>11} {'GPU pred s':>11} {'GPU->CPU pickle':>16}")
    for r in rows:
        ok = "ok" if r["gpu_model_unpickles_on_cpu"]["ok"] else "FAILED"
        print(f"{r['model']:<6} {r['cpu_fit_s']:>10.2f} {r['gpu_fit_s']:>10.2f} "
              f"{r['fit_speedup']:>8.1f}x {r['cpu_predict_s']:>11.3f} {r['gpu_predict_s']:>11.3f} "
              f"{ok:>16}")
    if args.json_path:
        with open(args.json_path, "w") as f:
            json.dump({"cuda": True, "gpu": gpu_name, "torch": torch.__version__,
                       "cpu_threads": torch.get_num_threads(), "n_clips": args.n_clips,
                       "n_frames": args.n_frames, "n_coeffs": args.n_coeffs,
                       "epochs": args.epochs, "batch_size": args.batch_size, "results": rows},
                      f, indent=2)
    return 0 if all(r["gpu_model_unpickles_on_cpu"]["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
