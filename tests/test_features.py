"""Feature extraction: correctness against references, pooling, bad input."""

import librosa
import numpy as np
import pandas as pd
import pytest
import scipy.fft
import scipy.linalg
import scipy.stats
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_ser.exceptions import AudioWarning
from sklearn_ser.features import (
    FUNCTIONALS,
    LogMelExtractor,
    LPCCExtractor,
    MFCCExtractor,
    ProsodyExtractor,
    SpectralExtractor,
    levinson_durbin,
    lpc_to_cepstrum,
    lpcc,
    mfcc,
)
from sklearn_ser.features import _engine, _framing
from sklearn_ser.features._pooling import deltas, pool


@pytest.mark.parametrize(
    "params",
    [
        dict(n_mfcc=20, n_fft=512, hop_length=160, n_mels=40),
        dict(n_mfcc=13, n_fft=1024, hop_length=256, n_mels=64, fmin=50.0, fmax=7000.0),
        dict(n_mfcc=24, n_fft=512, hop_length=128, n_mels=40, lifter=22),
    ],
)
def test_mfcc_matches_librosa(tone_clips, params):
    y = tone_clips[0]
    expected = librosa.feature.mfcc(y=y, sr=16000, **params)
    got = mfcc([y], sr=16000, **params)[0].T
    assert got.shape == expected.shape
    # float32 rounding of values up to a few hundred: 1e-4 absolute, 1e-5 relative. Liftering
    # multiplies a coefficient, and its rounding, by up to 1 + lifter / 2.
    atol = 1e-4 * (1 + params.get("lifter", 0) / 2)
    np.testing.assert_allclose(got, expected, atol=atol, rtol=1e-5)


def test_levinson_matches_solve_toeplitz(tone_clips):
    order = 14
    frame = tone_clips[3][1000:1400].astype(np.float64) * np.hamming(400)
    r = np.correlate(frame, frame, "full")[399 : 399 + order + 1]
    a, error = levinson_durbin(r[None, :], order)
    expected = scipy.linalg.solve_toeplitz(r[:order], -r[1 : order + 1])
    np.testing.assert_allclose(a[0, 1:], expected, rtol=1e-8, atol=1e-10)
    # The prediction error is what the predictor leaves of r[0].
    np.testing.assert_allclose(error[0], r[0] + r[1 : order + 1] @ expected, rtol=1e-8)


def test_lpcc_matches_fft_cepstrum():
    """The recursion equals the cepstrum of log(error / |A|^2) computed by FFT."""
    rng = np.random.default_rng(1)
    order, n_ceps = 10, 25
    signal = scipy.signal.lfilter([1.0], [1.0, -1.3, 0.8], rng.standard_normal(4000))
    r = np.correlate(signal, signal, "full")[3999 : 3999 + order + 1]
    a, error = levinson_durbin(r[None, :], order)
    recursion = lpc_to_cepstrum(a, error, n_ceps)[0]
    n = 8192
    log_spectrum = np.log(error[0] / np.abs(np.fft.rfft(a[0], n)) ** 2)
    by_fft = scipy.fft.irfft(log_spectrum, n)[:n_ceps]
    np.testing.assert_allclose(recursion, by_fft, atol=1e-6)


def test_lpcc_shapes_and_finite(tone_clips):
    out = lpcc(tone_clips, order=12)
    assert [o.shape[1] for o in out] == [13] * len(tone_clips)
    assert all(np.isfinite(o).all() for o in out)


def _reference_functional(name, x):
    if name == "slope":
        return np.polyfit(np.arange(len(x)), x, 1)[0] if len(x) > 1 else np.zeros(x.shape[1])
    table = {
        "mean": lambda v: v.mean(0), "std": lambda v: v.std(0), "min": lambda v: v.min(0),
        "max": lambda v: v.max(0), "range": lambda v: np.ptp(v, 0),
        "median": lambda v: np.median(v, 0), "p10": lambda v: np.percentile(v, 10, 0),
        "p25": lambda v: np.percentile(v, 25, 0), "p75": lambda v: np.percentile(v, 75, 0),
        "p90": lambda v: np.percentile(v, 90, 0),
        "iqr": lambda v: np.percentile(v, 75, 0) - np.percentile(v, 25, 0),
        "skew": lambda v: scipy.stats.skew(v, 0), "kurtosis": lambda v: scipy.stats.kurtosis(v, 0),
    }
    return table[name](x)


def test_pool_matches_per_clip_numpy():
    rng = np.random.default_rng(2)
    counts = np.array([5, 1, 17, 40])
    features = rng.standard_normal((counts.sum(), 3))
    pooled = pool(features, counts, FUNCTIONALS)
    pieces = np.split(features, np.cumsum(counts)[:-1])
    for i, x in enumerate(pieces):
        expected = np.concatenate(
            [np.nan_to_num(np.atleast_1d(_reference_functional(f, x))) for f in FUNCTIONALS]
        )
        if len(x) == 1:  # shape statistics of a single frame are defined as 0
            expected[-9:-3] = 0.0
        np.testing.assert_allclose(pooled[i], expected, atol=1e-9, err_msg=f"clip {i}")


def test_deltas_stay_within_each_clip():
    rng = np.random.default_rng(3)
    counts = np.array([7, 3, 12])
    features = rng.standard_normal((counts.sum(), 2))
    together = deltas(features, counts, order=2)
    alone = [deltas(x, np.array([len(x)]), order=2) for x in np.split(features, [7, 10])]
    np.testing.assert_allclose(together, np.vstack(alone))


@pytest.mark.parametrize("Extractor", [MFCCExtractor, LPCCExtractor])
def test_clip_features_do_not_depend_on_the_batch(Extractor, tone_clips, monkeypatch):
    est = Extractor().fit(tone_clips)
    batch = est.transform(tone_clips)
    one_by_one = np.vstack([est.transform([c]) for c in tone_clips])
    np.testing.assert_allclose(batch, one_by_one, rtol=1e-5, atol=1e-5)
    # Tiny chunks give the same answer: chunking only bounds memory.
    monkeypatch.setattr(_framing, "CHUNK_SAMPLES", 5000)
    np.testing.assert_allclose(est.transform(tone_clips), batch, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("chunk_samples", [None, 20000])
def test_each_clip_is_floored_at_its_own_peak(chunk_samples, monkeypatch):
    # The log and the top_db floor run once over all the chunks of a call: a clip 100 dB
    # quieter than its neighbours must still be floored 80 dB below its own peak.
    if chunk_samples is not None:
        monkeypatch.setattr(_framing, "CHUNK_SAMPLES", chunk_samples)
    rng = np.random.default_rng(5)
    loud = rng.standard_normal(16000).astype(np.float32)
    quiet = (1e-5 * rng.standard_normal(12000)).astype(np.float32)
    clips = [loud, quiet, loud[:9000], quiet[:5000]]
    for got, clip in zip(mfcc(clips), clips):
        np.testing.assert_allclose(got, mfcc([clip])[0], rtol=1e-5, atol=1e-4)
    sequences = LogMelExtractor().fit(clips).transform(clips)
    for got, clip in zip(sequences, clips):
        alone = LogMelExtractor().fit([clip]).transform([clip])[0]
        np.testing.assert_allclose(got[: len(alone)], alone, rtol=1e-5, atol=1e-4)
        assert np.nanmax(got) - np.nanmin(got) <= 80.0 + 1e-3


@pytest.mark.parametrize("Extractor", [MFCCExtractor, LPCCExtractor])
def test_feature_names_and_pandas_output(Extractor, tone_clips):
    est = Extractor(deltas=1, functionals=("mean", "std")).fit(tone_clips)
    names = est.get_feature_names_out()
    X = est.transform(tone_clips)
    assert X.shape == (len(tone_clips), len(names))
    assert len(set(names)) == len(names)
    frame = est.set_output(transform="pandas").transform(tone_clips)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(names)


def test_mfcc_feature_names_follow_the_pattern(tone_clips):
    names = MFCCExtractor(n_mfcc=13, deltas=2, functionals="basic").fit(tone_clips)
    names = list(names.get_feature_names_out())
    assert names[:2] == ["mfcc0_mean", "mfcc1_mean"]
    assert "mfcc3_d1_std" in names and "mfcc12_d2_mean" in names
    assert len(names) == 13 * 3 * 2


def test_ragged_list_and_2d_batch_agree(tone_clips):
    equal = np.stack([c[:6000] for c in tone_clips])
    est = MFCCExtractor().fit(equal)
    np.testing.assert_allclose(est.transform(equal), est.transform(list(equal)))


def test_extractor_does_not_modify_input(tone_clips):
    copies = [c.copy() for c in tone_clips]
    MFCCExtractor().fit_transform(tone_clips)
    LPCCExtractor().fit_transform(tone_clips)
    for a, b in zip(copies, tone_clips):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("Extractor", [MFCCExtractor, LPCCExtractor, SpectralExtractor,
                                       ProsodyExtractor, LogMelExtractor])
def test_memory_caches_features_on_clips_and_parameters(Extractor, tone_clips, tmp_path,
                                                        monkeypatch):
    calls = []
    original = Extractor._extract

    def counting(self, clips):
        calls.append(len(clips))
        return original(self, clips)

    monkeypatch.setattr(Extractor, "_extract", counting)
    plain = Extractor().fit(tone_clips).transform(tone_clips)
    cache = str(tmp_path / "cache")
    cached = Extractor(memory=cache).fit(tone_clips)
    np.testing.assert_array_equal(cached.transform(tone_clips), plain)
    np.testing.assert_array_equal(cached.transform(tone_clips), plain)  # a hit
    assert calls == [len(tone_clips)] * 2  # the uncached run, then one miss
    # Other clips or other parameters are other entries.
    cached.transform(tone_clips[:2])
    Extractor(memory=cache, functionals="basic").fit(tone_clips).transform(tone_clips)
    assert calls == [len(tone_clips)] * 2 + [2, len(tone_clips)]


@pytest.mark.parametrize("pooling", ["stats", None])
def test_parallel_chunks_give_the_serial_features(tone_clips, monkeypatch, pooling):
    monkeypatch.setattr(_framing, "CHUNK_SAMPLES", 5000)  # several chunks to share out
    serial = MFCCExtractor(pooling=pooling).fit(tone_clips).transform(tone_clips)
    parallel = MFCCExtractor(pooling=pooling, n_jobs=2).fit(tone_clips).transform(tone_clips)
    np.testing.assert_allclose(parallel, serial, rtol=1e-6, atol=1e-6)


def test_kernel_threads_follow_thread_limits_and_keep_the_features(tone_clips, monkeypatch):
    """Chunks run on as many threads as OpenMP may use; one thread gives the same numbers."""
    from threadpoolctl import threadpool_limits

    from sklearn_ser.pipelines import make_features

    monkeypatch.setattr(_framing, "CHUNK_SAMPLES", 5000)  # several chunks per call
    threads = []
    original = _engine.ThreadPoolExecutor

    def spy(n_threads, **kwargs):
        threads.append(n_threads)
        return original(n_threads, **kwargs)

    monkeypatch.setattr(_engine, "ThreadPoolExecutor", spy)
    monkeypatch.setattr(_engine, "kernel_threads", lambda: 2)
    step = make_features(sr=16000)[1].fit(tone_clips)
    threaded = step.transform(tone_clips)
    assert threads and set(threads) == {2}
    monkeypatch.undo()
    monkeypatch.setattr(_framing, "CHUNK_SAMPLES", 5000)
    with threadpool_limits(1):
        assert _engine.kernel_threads() == 1
        serial = step.transform(tone_clips)
    np.testing.assert_array_equal(threaded, serial)


def test_map_chunks_does_not_nest_thread_pools(monkeypatch):
    monkeypatch.setattr(_engine, "kernel_threads", lambda: 2)
    inner = _engine.map_chunks(lambda i: _engine.map_chunks(lambda j: (i, j), range(3)),
                               range(4))
    assert inner == [[(i, j) for j in range(3)] for i in range(4)]


@pytest.mark.parametrize("n_items", [1, 2, 5, 9])
def test_map_chunks_runs_one_task_per_thread_and_keeps_order(monkeypatch, n_items):
    import threading

    monkeypatch.setattr(_engine, "kernel_threads", lambda: 3)
    workers = []

    def square(i):
        workers.append(threading.get_ident())
        return i * i

    assert _engine.map_chunks(square, range(n_items)) == [i * i for i in range(n_items)]
    assert len(set(workers)) <= min(3, n_items)


@pytest.mark.parametrize("Extractor", [MFCCExtractor, ProsodyExtractor])
def test_cache_hit_still_warns_about_bad_clips(Extractor, tone_clips, tmp_path):
    # MFCC warns before extracting, prosody while extracting (no voiced frame).
    clips = tone_clips[:3] + [np.zeros(8000, dtype=np.float32)]
    est = Extractor(memory=str(tmp_path)).fit(clips)
    for _ in range(2):  # a miss, then a hit
        with pytest.warns(AudioWarning) as record:
            est.transform(clips)
        assert any("X[3]" in str(w.message) for w in record)
    if Extractor is ProsodyExtractor:
        assert any("no voiced frame" in str(w.message) for w in record)


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("Extractor", [MFCCExtractor, LPCCExtractor])
def test_silent_clip_warns_and_stays_finite(Extractor, tone_clips):
    clips = tone_clips[:3] + [np.zeros(8000, dtype=np.float32)]
    with pytest.warns(AudioWarning, match=r"silent.*X\[3\]"):
        X = Extractor().fit(clips).transform(clips)
    assert np.isfinite(X).all()


@pytest.mark.parametrize("Extractor", [MFCCExtractor, LPCCExtractor])
def test_clip_shorter_than_one_frame_warns(Extractor, tone_clips):
    clips = tone_clips[:2] + [tone_clips[2][:50]]
    with pytest.warns(AudioWarning, match=r"shorter than one analysis frame.*X\[2\]"):
        X = Extractor().fit(clips).transform(clips)
    assert np.isfinite(X).all()


def test_int16_clips_are_scaled_with_a_warning(tone_clips):
    floats = [np.round(c * 32767) / 32768 for c in tone_clips[:2]]
    ints = [np.round(c * 32767).astype(np.int16) for c in tone_clips[:2]]
    est = MFCCExtractor().fit(floats)
    with pytest.warns(AudioWarning, match=r"integer PCM \(X\[0\] is int16\)"):
        got = est.transform(ints)
    np.testing.assert_allclose(got, est.transform(floats), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize(
    "X, error, match",
    [
        ([], ValueError, "0 clips"),
        ([np.zeros(0, dtype=np.float32)], ValueError, r"X\[0\]"),
        ([np.array([0.1, np.nan, 0.2] * 200)], ValueError, r"NaN.*X\[0\]|X\[0\].*NaN"),
        ([np.zeros((8000, 2), dtype=np.float32)], ValueError, "multi-channel"),
        ([np.zeros((2, 8000), dtype=np.float32)], ValueError, "multi-channel"),
        (np.zeros(8000, dtype=np.float32), ValueError, "Reshape your data"),
        (["clip.wav"], TypeError, "AudioLoader"),
    ],
)
def test_bad_input_gets_a_clear_error(X, error, match):
    with pytest.raises(error, match=match):
        MFCCExtractor().fit(X)


@pytest.mark.parametrize(
    "params, error, match",
    [
        (dict(n_mfcc=0), InvalidParameterError, "n_mfcc"),
        (dict(deltas=3), InvalidParameterError, "deltas"),
        (dict(n_mfcc=50, n_mels=40), ValueError, "n_mfcc=50 exceeds n_mels=40"),
        (dict(fmax=9000), ValueError, "fmax"),
        (dict(functionals=["mean", "mode"]), ValueError, "functionals"),
        (dict(win_length=1024, n_fft=512), ValueError, "win_length"),
    ],
)
def test_bad_parameters(params, error, match, tone_clips):
    with pytest.raises(error, match=match):
        MFCCExtractor(**params).fit(tone_clips)


def test_lpcc_order_must_fit_the_frame(tone_clips):
    with pytest.raises(ValueError, match="order=400"):
        LPCCExtractor(order=400).fit(tone_clips)


# --- frame sequences -------------------------------------------------------------------------


def test_sequences_are_nan_padded_and_keep_lengths(tone_clips):
    from sklearn_ser.features import LogMelExtractor, sequence_lengths
    from sklearn_ser.features._framing import frame_counts

    est = LogMelExtractor(n_mels=32).fit(tone_clips)
    seq = est.transform(tone_clips)
    counts = frame_counts([len(c) for c in tone_clips], n_fft=512, hop_length=160)
    assert seq.shape == (len(tone_clips), counts.max(), 32) and seq.dtype == np.float32
    np.testing.assert_array_equal(sequence_lengths(seq), counts)
    # The real frames are exactly the stacked log-mel frames of each clip.
    pooled_mean = LogMelExtractor(n_mels=32, pooling="stats", functionals=["mean"])
    means = pooled_mean.fit_transform(tone_clips)
    np.testing.assert_allclose(np.nanmean(seq, axis=1), means, rtol=1e-4, atol=1e-3)


def test_sequences_are_centre_cropped_to_max_frames(tone_clips):
    est = MFCCExtractor(pooling=None, max_frames=20, deltas=0).fit(tone_clips)
    seq = est.transform(tone_clips)
    full = MFCCExtractor(pooling=None, deltas=0).fit(tone_clips).transform(tone_clips)
    n = int((~np.isnan(full[0, :, 0])).sum())
    start = (n - 20) // 2
    np.testing.assert_allclose(seq[0], full[0, start : start + 20])
    assert est.get_feature_names_out().tolist() == [f"mfcc{k}" for k in range(20)]


def test_framewise_scaler_ignores_padding(tone_clips):
    from sklearn.preprocessing import StandardScaler

    from sklearn_ser.features import FrameWise, LogMelExtractor

    seq = LogMelExtractor(n_mels=16).fit_transform(tone_clips)
    scaled = FrameWise(StandardScaler()).fit_transform(seq)
    real = ~np.isnan(seq[:, :, 0])
    np.testing.assert_array_equal(~np.isnan(scaled[:, :, 0]), real)
    np.testing.assert_allclose(scaled[real].mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(scaled[real].std(axis=0), 1, atol=1e-3)


def test_framewise_lda_uses_clip_labels_on_every_frame(tone_clips):
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    from sklearn_ser.features import FrameWise, LogMelExtractor

    y = np.array([i % 3 for i in range(len(tone_clips))])
    seq = LogMelExtractor(n_mels=16).fit_transform(tone_clips)
    out = FrameWise(LinearDiscriminantAnalysis(n_components=2)).fit(seq, y).transform(seq)
    assert out.shape == seq.shape[:2] + (2,)


@pytest.mark.parametrize(
    "X, match",
    [
        (np.zeros((3, 4)), "3-D frame sequences"),
        (np.full((2, 3, 2), np.nan), "no real frame"),
        (np.array([[[1.0, np.nan]], [[1.0, 2.0]]]), "NaN in frame 0 of clip 0"),
    ],
)
def test_framewise_bad_input(X, match):
    from sklearn.preprocessing import StandardScaler

    from sklearn_ser.features import FrameWise

    with pytest.raises(ValueError, match=match):
        FrameWise(StandardScaler()).fit(X)


def test_framewise_speaker_normalizer_uses_each_speakers_frames():
    """Per-clip metadata is copied onto the clip's frames: each speaker is standardised by
    the statistics of all real frames of their own clips, and padding stays NaN."""
    import sklearn

    from sklearn_ser.features import FrameWise, SpeakerNormalizer

    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 5, 2)).astype(np.float32)
    X[2:] += 10.0  # speaker b sits far from speaker a
    X[1, 3:] = np.nan  # clip 1 is 3 frames long
    groups = np.array(["a", "a", "b", "b"])
    with sklearn.config_context(enable_metadata_routing=True):
        est = FrameWise(SpeakerNormalizer())
        out = est.fit_transform(X, groups=groups)
        again = est.transform(X, groups=groups)
    np.testing.assert_allclose(out, again, equal_nan=True)
    assert np.isnan(out[1, 3:]).all() and not np.isnan(out[1, :3]).any()
    for speaker in ("a", "b"):
        frames = X[groups == speaker].reshape(-1, 2)
        frames = frames[~np.isnan(frames).any(axis=1)]
        expected = (frames - frames.mean(0)) / frames.std(0)
        got = out[groups == speaker].reshape(-1, 2)
        np.testing.assert_allclose(got[~np.isnan(got).any(axis=1)], expected, rtol=1e-4,
                                   atol=1e-5)


def test_framewise_metadata_needs_routing():
    from sklearn.preprocessing import StandardScaler

    from sklearn_ser.features import FrameWise

    X = np.ones((2, 3, 2), dtype=np.float32)
    with pytest.raises(ValueError, match="enable_metadata_routing"):
        FrameWise(StandardScaler()).fit(X, groups=["a", "b"])


# --- spectral and prosodic features ----------------------------------------------------------


@pytest.mark.parametrize("pitch_sr", [8000, None])  # decimated (the default) or at 16 kHz
@pytest.mark.parametrize("f0", [85.0, 120.0, 180.0, 250.0, 400.0, 480.0])
def test_pitch_within_two_percent_on_tones(f0, pitch_sr):
    from sklearn_ser.features import pitch

    t = np.arange(24000) / 16000
    # A harmonic tone with a weak fundamental, the hard case for autocorrelation trackers.
    tone = sum(np.sin(2 * np.pi * k * f0 * t) * a for k, a in [(1, 0.3), (2, 0.5), (3, 0.4)])
    track = pitch([tone.astype(np.float32)], pitch_sr=pitch_sr)[0]
    voiced = track[~np.isnan(track)]
    assert len(voiced) > 0.9 * len(track)
    assert np.all(np.abs(voiced[2:-2] / f0 - 1) < 0.02)


def test_decimated_pitch_keeps_frame_times_and_counts():
    from sklearn_ser.features import ProsodyExtractor, pitch
    from sklearn_ser.features._prosody import decimation_factor

    assert decimation_factor(16000, 8000, 320, 500.0) == 2
    assert decimation_factor(16000, None, 320, 500.0) == 1
    assert decimation_factor(16000, 8000, 321, 500.0) == 1  # hop not whole at 8 kHz
    assert decimation_factor(8000, 8000, 320, 500.0) == 1
    rng = np.random.default_rng(0)
    t = np.arange(20000) / 16000
    clips = [(np.sin(2 * np.pi * 200 * t[:n]) + 0.01 * rng.standard_normal(n)).astype(np.float32)
             for n in (20000, 19999, 16319, 16320, 641, 300)]
    for hop in (160, 320):
        low, full = pitch(clips, hop_length=hop), pitch(clips, hop_length=hop, pitch_sr=None)
        assert [len(c) for c in low] == [len(c) for c in full] == [1 + len(c) // hop
                                                                  for c in clips]
    # Sequences are sized at fit from the same count.
    est = ProsodyExtractor(pooling=None).fit(clips)
    assert est.max_frames_ == 1 + 20000 // 320
    assert np.isfinite(est.transform(clips)[0]).all()


def test_prosody_separates_high_and_low_pitch_and_loudness():
    from sklearn_ser.features import ProsodyExtractor

    t = np.arange(16000) / 16000
    low = (0.05 * np.sin(2 * np.pi * 110 * t)).astype(np.float32)
    high = (0.5 * np.sin(2 * np.pi * 260 * t)).astype(np.float32)
    est = ProsodyExtractor(functionals=["mean"], deltas=0).fit([low, high])
    names = list(est.get_feature_names_out())
    X = est.transform([low, high])
    f0 = 27.5 * 2 ** (X[:, names.index("f0_mean")] / 12)
    np.testing.assert_allclose(f0, [110, 260], rtol=0.02)
    assert X[1, names.index("loudness_mean")] - X[0, names.index("loudness_mean")] > 15
    assert np.all(X[:, names.index("voiced_fraction")] > 0.9)


def test_unvoiced_clip_warns_and_has_zero_pitch():
    from sklearn_ser.features import ProsodyExtractor

    noise = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    est = ProsodyExtractor(functionals=["mean"], deltas=0).fit([noise])
    with pytest.warns(AudioWarning, match=r"no voiced frame.*X\[0\]"):
        X = est.transform([noise])
    names = list(est.get_feature_names_out())
    assert X[0, names.index("f0_mean")] == 0 and np.isfinite(X).all()


def test_spectral_centroid_and_rolloff_follow_the_tone():
    from sklearn_ser.features import spectral

    t = np.arange(16000) / 16000
    low, high = (np.sin(2 * np.pi * f * t).astype(np.float32) for f in (500, 3000))
    frames = spectral([low, high])
    centroids = [np.median(f[:, 0]) for f in frames]
    np.testing.assert_allclose(centroids, [500, 3000], rtol=0.05)


@pytest.mark.parametrize("name", ["dc_offset", "clipped", "silent"])
@pytest.mark.parametrize("Extractor", ["MFCCExtractor", "LPCCExtractor", "SpectralExtractor",
                                       "ProsodyExtractor", "LogMelExtractor"])
def test_degenerate_clips_never_give_nan(name, Extractor):
    import warnings

    import sklearn_ser.features as features

    t = np.arange(16000) / 16000
    tone = 0.3 * np.sin(2 * np.pi * 200 * t)
    clip = {"dc_offset": tone + 0.5, "clipped": np.clip(4 * tone, -1, 1),
            "silent": np.zeros_like(tone)}[name].astype(np.float32)
    est = getattr(features, Extractor)(pooling="stats")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AudioWarning)
        X = est.fit_transform([clip, tone.astype(np.float32)])
    assert np.isfinite(X).all()


# --- speaker normalisation -------------------------------------------------------------------


def test_speaker_normalizer_uses_each_speakers_own_statistics():
    from sklearn_ser.features import SpeakerNormalizer

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (20, 3)), rng.normal(10, 5, (20, 3))])
    groups = np.repeat(["a", "b"], 20)
    out = SpeakerNormalizer().fit_transform(X, groups=groups)
    for speaker in ("a", "b"):
        rows = groups == speaker
        np.testing.assert_allclose(out[rows].mean(axis=0), 0, atol=1e-12)
        np.testing.assert_allclose(out[rows].std(axis=0), 1, atol=1e-12)
    # A new speaker at transform time is standardised by its own clips only.
    new = rng.normal(-4, 2, (10, 3))
    est = SpeakerNormalizer().fit(X, groups=groups)
    got = est.transform(new, groups=np.repeat("c", 10))
    np.testing.assert_allclose(got, (new - new.mean(0)) / new.std(0))


def test_speaker_normalizer_without_groups_warns_and_uses_training_statistics():
    from sklearn_ser.exceptions import SklearnSerWarning
    from sklearn_ser.features import SpeakerNormalizer

    X = np.arange(12.0).reshape(6, 2)
    est = SpeakerNormalizer().fit(X)
    with pytest.warns(SklearnSerWarning, match="no groups"):
        out = est.transform(X)
    np.testing.assert_allclose(out, (X - X.mean(0)) / X.std(0))


def test_speaker_normalizer_small_speaker_falls_back_with_warning():
    from sklearn_ser.exceptions import SklearnSerWarning
    from sklearn_ser.features import SpeakerNormalizer

    X = np.arange(12.0).reshape(6, 2)
    est = SpeakerNormalizer(min_clips=3).fit(X, groups=np.repeat(["a", "b"], 3))
    with pytest.warns(SklearnSerWarning, match=r"\['z'\].*fewer than min_clips=3"):
        est.transform(X[:1], groups=["z"])


def test_speaker_normalized_pipeline_routes_groups_in_evaluate(normalizer_speakers):
    """evaluate hands training speakers to fit and test speakers to predict, never mixed."""
    from sklearn_ser.datasets import make_emotional_speech
    from sklearn_ser.model_selection import evaluate
    from sklearn_ser.pipelines import make_classic_pipeline

    seen = normalizer_speakers
    data = make_emotional_speech(60, n_speakers=3, emotions=["anger", "sadness"],
                                 duration=(0.6, 0.8), random_state=0)
    # Without noisy or speed copies, whose speaker ids would join the training speakers.
    pipe = make_classic_pipeline("svm", features="mfcc", speaker_norm=True,
                                 noise_augmentation=None, speed_perturbation=None)
    report = evaluate(pipe, data.data, data.target, groups=data.groups, cv="loso")
    assert None not in seen
    # Each fold: one transform of its two training speakers (fit), one of its test speaker.
    assert sorted(len(s) for s in seen) == [1, 1, 1, 2, 2, 2]
    tested = sorted(s[0] for s in seen if len(s) == 1)
    assert tested == sorted(np.unique(data.groups))
    for training, test in zip(seen[0::2], seen[1::2]):
        assert test[0] not in training
    assert report.uar > 0.5


def test_lpcc_stays_finite_on_near_silent_frames():
    """Denoised speech has stretches of tiny values, where float32 LPC used to give NaN."""
    rng = np.random.default_rng(5)
    t = np.arange(32000) / 16000
    clip = 0.3 * np.sin(2 * np.pi * 180 * t) * (t < 1.0)
    clip = clip + 1e-9 * rng.standard_normal(len(t)) * rng.integers(0, 2, len(t))
    X = LPCCExtractor().fit_transform([clip.astype(np.float32)])
    assert np.isfinite(X).all()


def test_unvoiced_warning_names_the_clip_index_in_x_not_in_its_chunk(monkeypatch):
    from sklearn_ser.features import ProsodyExtractor

    monkeypatch.setattr(_framing, "CHUNK_SAMPLES", 20000)  # one clip per chunk
    t = np.arange(16000) / 16000
    tone = (0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)
    noise = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    est = ProsodyExtractor(functionals=["mean"], deltas=0).fit([tone])
    with pytest.warns(AudioWarning, match=r"X\[3\]"):
        est.transform([tone, tone, tone, noise])


def test_spectral_descriptors_match_librosa():
    """Centroid, bandwidth, roll-off, flatness and RMS against librosa's on the same power
    spectra (librosa's centred frames with zero padding, Hann window)."""
    from sklearn_ser.features import spectral
    from sklearn_ser.features._spectral import SPECTRAL_DESCRIPTORS

    rng = np.random.default_rng(3)
    t = np.arange(24000) / 16000
    y = (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t))
         + 0.05 * rng.standard_normal(len(t))).astype(np.float32)
    params = dict(n_fft=512, hop_length=160)
    ours = spectral([y], sr=16000, **params)[0]
    column = {name: ours[:, i] for i, name in enumerate(SPECTRAL_DESCRIPTORS)}
    S = np.abs(librosa.stft(y, **params)) ** 2
    expected = {
        "centroid": librosa.feature.spectral_centroid(S=S, sr=16000)[0],
        "bandwidth": librosa.feature.spectral_bandwidth(S=S, sr=16000)[0],
        "rolloff": librosa.feature.spectral_rolloff(S=S, sr=16000, roll_percent=0.85)[0],
        "flatness": librosa.feature.spectral_flatness(S=S, power=1.0)[0],
    }
    for name, values in expected.items():
        np.testing.assert_allclose(column[name], values, rtol=2e-3, atol=1e-6, err_msg=name)
    rms = librosa.feature.rms(y=y, frame_length=512, hop_length=160)[0]
    np.testing.assert_allclose(column["rms_db"], 10 * np.log10(rms**2 + 1e-10), atol=1e-3)
