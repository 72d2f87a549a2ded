"""Shared fixtures: seeded randomness, synthetic clips, and the real EmoDB when present."""

import os
import random
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

SR = 16000


def emodb_dir():
    """EmoDB's folder from SKLEARN_SER_EMODB (the loaders' variable), or None."""
    candidate = os.environ.get("SKLEARN_SER_EMODB")
    if candidate and (Path(candidate) / "wav").is_dir():
        return Path(candidate)
    return None


@pytest.fixture(autouse=True)
def seeds_fixed():
    """Fix the global seeds so that a failing test fails the same way again."""
    random.seed(0)
    np.random.seed(0)


@pytest.fixture
def emodb_path():
    path = emodb_dir()
    if path is None:
        pytest.skip("EmoDB not found: set SKLEARN_SER_EMODB to its folder")
    return path


def make_tone_clips(n_clips=12, *, sr=SR, seed=0):
    """Harmonic tones plus noise, with varied lengths and pitches, as float32 clips."""
    rng = np.random.default_rng(seed)
    clips = []
    for i in range(n_clips):
        n = int(sr * rng.uniform(0.4, 1.2))
        t = np.arange(n) / sr
        f0 = 100 + 25 * (i % 6)
        wave = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 5))
        clips.append((0.2 * wave + 0.02 * rng.standard_normal(n)).astype(np.float32))
    return clips


@pytest.fixture
def tone_clips():
    return make_tone_clips()


@pytest.fixture
def normalizer_speakers(monkeypatch):
    """The speakers each ``SpeakerNormalizer.transform`` call sees, in call order (None when
    it gets no groups)."""
    from sklearn_ser.features import SpeakerNormalizer

    seen = []
    original = SpeakerNormalizer.transform

    def spy(self, X, groups=None):
        seen.append(None if groups is None else tuple(np.unique(groups)))
        return original(self, X, groups=groups)

    monkeypatch.setattr(SpeakerNormalizer, "transform", spy)
    return seen


@pytest.fixture(scope="module")
def lr_model(tmp_path_factory):
    """A logistic-regression model file trained by the CLI on a small synthetic corpus."""
    from sklearn_ser.cli import main

    path = tmp_path_factory.mktemp("models") / "lr.sser"
    assert main(["train", "--model", "lr", "--n-samples", "40", "--output", str(path),
                 "--quiet"]) == 0
    return path
