"""ExtractorUnion: a FeatureUnion whose parallel work is split over clips."""

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_config
from sklearn.pipeline import FeatureUnion

from sklearn_ser.features import (
    ExtractorUnion,
    LPCCExtractor,
    MFCCExtractor,
    ProsodyExtractor,
    SpectralExtractor,
)
from sklearn_ser.pipelines import make_features


def _extractors():
    return [("mfcc", MFCCExtractor(functionals="basic")),
            ("spectral", SpectralExtractor(functionals="basic")),
            ("prosody", ProsodyExtractor(functionals="basic"))]


@pytest.fixture
def clips():
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    return [(0.3 * np.sin(2 * np.pi * f0 * t[: n]) + 0.01 * rng.standard_normal(n))
            .astype(np.float32)
            for f0, n in zip(rng.uniform(100, 300, 24), rng.integers(4000, 16000, 24))]


@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_split_over_clips_gives_the_serial_features(clips, backend):
    serial = FeatureUnion(_extractors()).fit(clips).transform(clips)
    union = ExtractorUnion(_extractors(), n_jobs=2)
    with parallel_config(backend=backend):
        split = union.fit(clips).transform(clips)
        np.testing.assert_array_equal(split, serial)
        np.testing.assert_array_equal(union.fit_transform(clips), serial)


def test_each_extractor_sees_every_clip_once_in_shares(clips, monkeypatch):
    seen = []
    original = MFCCExtractor.transform

    def spy(self, X):
        seen.append([float(x[100]) for x in X])
        return original(self, X)

    monkeypatch.setattr(MFCCExtractor, "transform", spy)
    union = ExtractorUnion(_extractors(), n_jobs=2).fit(clips)
    with parallel_config(backend="threading"):
        union.transform(clips)
    # About four shares per worker, which together hold each clip exactly once.
    assert 4 <= len(seen) <= 10
    assert sorted(v for share in seen for v in share) == sorted(float(x[100]) for x in clips)


def test_weights_drop_and_pandas_output(clips):
    weights = {"mfcc": 2.0}
    reference = FeatureUnion(_extractors()[:2], transformer_weights=weights).fit(clips)
    union = ExtractorUnion(_extractors()[:2] + [("prosody", "drop")],
                           transformer_weights=weights, n_jobs=2).fit(clips)
    np.testing.assert_allclose(union.transform(clips), reference.transform(clips))
    frame = union.set_output(transform="pandas").transform(clips)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(reference.get_feature_names_out())
    assert frame.shape[0] == len(clips)


def test_bad_clip_is_named_before_any_worker_starts(clips):
    clips[5] = clips[5].copy()
    clips[5][10] = np.nan
    with pytest.raises(ValueError, match=r"X\[5\]"):
        ExtractorUnion(_extractors(), n_jobs=2).fit(clips[:4]).transform(clips)


def test_make_features_splits_clips_and_keeps_extractors_serial():
    name, step = make_features(n_jobs=2)
    assert name == "features" and isinstance(step, ExtractorUnion) and step.n_jobs == 2
    assert all(est.n_jobs is None for _, est in step.transformer_list)
    name, single = make_features("lpcc", n_jobs=2)
    assert isinstance(single, LPCCExtractor) and single.n_jobs == 2


def test_mfcc_and_spectral_frame_each_clip_once_between_them(clips, monkeypatch):
    from sklearn_ser.features import _engine, _framing

    framed = []
    original = _framing.windowed_frames

    def spy(chunk, **kwargs):
        framed.append(len(chunk))
        return original(chunk, **kwargs)

    monkeypatch.setattr(_framing, "windowed_frames", spy)
    pair = _extractors()[:2]  # MFCC and spectral: the same STFT settings
    shared = ExtractorUnion(pair).fit(clips).transform(clips)
    assert sum(framed) == len(clips)
    framed.clear()
    plain = FeatureUnion(pair).fit(clips).transform(clips)
    assert sum(framed) == 2 * len(clips)
    np.testing.assert_array_equal(shared, plain)
    assert _engine.open_scopes() == 0  # nothing held after the call


@pytest.mark.parametrize("n_jobs, backend", [(None, "loky"), (2, "loky"), (2, "threading")])
def test_warnings_reach_the_caller_and_name_clips_of_x(clips, n_jobs, backend):
    from sklearn_ser.exceptions import AudioWarning

    clips[17] = np.zeros_like(clips[17])  # silent: no voiced frame either
    clips[20] = clips[20][:300]  # shorter than one MFCC frame
    union = ExtractorUnion(_extractors(), n_jobs=n_jobs).fit(clips)
    with pytest.warns(AudioWarning) as record, parallel_config(backend=backend):
        features = union.transform(clips)
    messages = " | ".join(str(w.message) for w in record)
    assert "silent (all zeros): X[17]" in messages
    assert "no voiced frame (silence or noise): X[17]" in messages
    assert "shorter than one analysis frame (512 samples, 32 ms): X[20]" in messages
    assert np.isfinite(features).all()


class _ReadOnlyFlag(MFCCExtractor):
    """One feature per clip: 1 where the clip arrived read-only (memory-mapped)."""

    def transform(self, X):
        return np.array([[0.0 if np.asarray(x).flags.writeable else 1.0] for x in X])


def test_worker_processes_get_pickled_shares_and_no_files(tmp_path, monkeypatch):
    # Shares larger than joblib's max_nbytes (1 MB), which joblib would otherwise memory-map
    # in JOBLIB_TEMP_FOLDER: eight shares of 1.2 MB.
    monkeypatch.setenv("JOBLIB_TEMP_FOLDER", str(tmp_path))
    rng = np.random.default_rng(0)
    clips = [(0.1 * rng.standard_normal(100_000)).astype(np.float32) for _ in range(24)]
    union = ExtractorUnion([("flag", _ReadOnlyFlag())], n_jobs=2).fit(clips[:2])
    with parallel_config(backend="loky"):
        in_processes = union.transform(clips)
    with parallel_config(backend="threading"):
        in_threads = union.transform(clips)
    assert in_processes.ravel().tolist() == [0.0] * len(clips)  # copies, not memory maps
    assert in_threads.ravel().tolist() == [0.0] * len(clips)
    assert list(tmp_path.iterdir()) == []


def test_share_threads_keep_their_own_spectra_scopes(monkeypatch):
    """Two threads of map_chunks each open a scope (a share of the union): each sees its
    own and its caller's, never the other's, so neither stores spectra the other drops."""
    import threading

    from sklearn_ser.features import _engine

    monkeypatch.setattr(_engine, "kernel_threads", lambda: 2)
    both_open = threading.Barrier(2, timeout=30)

    def open_scope(_):
        with _engine.sharing():
            both_open.wait()
            return _engine.open_scopes()

    with _engine.sharing():  # the caller's scope reaches both threads
        assert _engine.map_chunks(open_scope, range(2)) == [2, 2]
    assert _engine.open_scopes() == 0


def test_shared_values_are_computed_once_per_clips_and_key():
    from sklearn_ser.features import _engine

    a, b = np.zeros(10), np.ones(10)
    calls = []

    def compute(value):
        calls.append(value)
        return value

    with _engine.sharing():
        assert _engine.shared("k", [a], lambda: compute(1)) == 1
        assert _engine.shared("k", [a], lambda: compute(2)) == 1  # a hit
        assert _engine.shared("k", [b], lambda: compute(3)) == 3  # other clips
        assert _engine.shared("j", [a], lambda: compute(4)) == 4  # another key
    assert _engine.shared("k", [a], lambda: compute(5)) == 5  # no scope: no sharing
    assert calls == [1, 3, 4, 5]
