"""skorch overhead: CNNClassifier.fit against a plain PyTorch loop on the same module and data.

Usage::

    python benchmarks/bench_training.py [--repeats 5] [--epochs 3] [--json PATH]

Both train the same ``CNNModule`` (same initial weights, Adam, batch size, shuffling, epochs, no
validation split) on the same NaN-padded sequences. The two runs alternate (A B A B ...) so that
load drift on a shared machine hits both alike; the ratio reported is the median of the per-pair
ratios (target <= 1.05), with the best times beside it.
"""

import argparse
import json
import platform
import statistics
import sys
import time

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from sklearn_ser.neural import CNNClassifier, check_frame_sequences
from sklearn_ser.neural._modules import CNNModule


def make_data(n_clips, n_frames, n_coeffs, n_classes=4, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n_clips)
    X = rng.normal(size=(n_clips, n_frames, n_coeffs)).astype(np.float32) + 0.3 * y[:, None, None]
    for i, n in enumerate(rng.integers(n_frames // 2, n_frames + 1, n_clips)):
        X[i, n:] = np.nan
    return X, y


def plain_loop(X, y, params, epochs, batch_size, lr, seed):
    """The loop one would write by hand: DataLoader, forward, cross-entropy, backward, step."""
    values, lengths = check_frame_sequences(X, owner="bench")
    torch.manual_seed(seed)
    module = CNNModule(n_coeffs=X.shape[2], n_classes=len(np.unique(y)), **params)
    optimizer = torch.optim.Adam(module.parameters(), lr=lr)
    criterion = torch.nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(torch.from_numpy(values), torch.from_numpy(lengths),
                                      torch.from_numpy(y.astype(np.int64))),
                        batch_size=batch_size, shuffle=True, drop_last=len(y) > batch_size)
    module.train()
    for _ in range(epochs):
        for xb, lb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(module(xb, lb), yb)
            loss.backward()
            optimizer.step()
    return module


def skorch_fit(X, y, params, epochs, batch_size, lr, seed):
    return CNNClassifier(**params, lr=lr, max_epochs=epochs, batch_size=batch_size,
                         validation_fraction=None, device="cpu", random_state=seed).fit(X, y)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-clips", type=int, default=256)
    parser.add_argument("--n-frames", type=int, default=100)
    parser.add_argument("--n-coeffs", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", dest="json_path", default=None)
    args = parser.parse_args(argv)

    X, y = make_data(args.n_clips, args.n_frames, args.n_coeffs)
    params = dict(channels=(16, 32, 64), n_hidden=64)
    run = dict(epochs=args.epochs, batch_size=args.batch_size, lr=1e-3, seed=0)
    # Warm-up of both paths (thread pools, allocator, first-call overheads).
    plain_loop(X[:64], y[:64], params, **dict(run, epochs=1))
    skorch_fit(X[:64], y[:64], params, **dict(run, epochs=1))

    plain, wrapped = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        plain_loop(X, y, params, **run)
        plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        skorch_fit(X, y, params, **run)
        wrapped.append(time.perf_counter() - start)
    ratios = [w / p for w, p in zip(wrapped, plain)]
    result = {
        "ratio_median": round(statistics.median(ratios), 4),
        "ratio_best_times": round(min(wrapped) / min(plain), 4),
        "ratios": [round(r, 4) for r in ratios],
        "plain_seconds": [round(t, 3) for t in plain],
        "skorch_seconds": [round(t, 3) for t in wrapped],
        "target": 1.05,
        "setup": dict(vars(args), module="CNNModule", channels=params["channels"],
                      torch=torch.__version__, threads=torch.get_num_threads(),
                      machine=platform.machine(), python=platform.python_version()),
    }
    print(f"bench_training: {args.n_clips} clips x {args.n_frames} frames x {args.n_coeffs}, "
          f"{args.epochs} epochs, batch {args.batch_size}, {args.repeats} interleaved repeats, "
          f"{torch.get_num_threads()} torch threads")
    print(f"plain PyTorch loop s : {' '.join(f'{t:.2f}' for t in plain)}")
    print(f"CNNClassifier.fit s  : {' '.join(f'{t:.2f}' for t in wrapped)}")
    print(f"ratio (median of pairs) {result['ratio_median']:.3f}; ratio of best times "
          f"{result['ratio_best_times']:.3f}; target <= 1.05")
    if args.json_path:
        with open(args.json_path, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
