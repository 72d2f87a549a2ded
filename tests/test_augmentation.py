"""Augmenter and its effects: measured effects, sampling, and no augmentation of test folds."""

import hashlib

import numpy as np
import pytest
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.pipeline import Pipeline
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.preprocessing import StandardScaler

from sklearn_ser.augmentation import (
    Augmenter,
    NoiseAugmenter,
    SpeedPerturber,
    add_noise,
    change_speed,
    colored_noise,
    echo,
    make_babble,
    pitch_shift,
    reverberate,
    room_impulse_response,
)
from sklearn_ser.utils._compat import InvalidParameterError

SR = 16000


# -- a step that records the clips it sees, to prove what reaches fit and predict -----------

#: log name -> list of (phase, [clip hashes]); phase is "fit" or "predict".
LOGS = {}


def clip_hash(clip):
    return hashlib.sha1(np.ascontiguousarray(clip, dtype=np.float32).tobytes()).hexdigest()


def band_features(clips, n_bands=6):
    """Log energy in a few FFT bands plus zero-crossing rate: a cheap pooled feature."""
    rows = []
    for clip in clips:
        x = np.asarray(clip, dtype=np.float64)
        spec = np.abs(np.fft.rfft(x)) ** 2
        bands = np.array_split(spec, n_bands)
        energy = [np.log(b.sum() / max(len(x), 1) + 1e-10) for b in bands]
        zcr = np.mean(np.abs(np.diff(np.signbit(x).astype(int)))) if len(x) > 1 else 0.0
        rows.append(energy + [zcr])
    return np.asarray(rows)


class RecordingFeatures(TransformerMixin, BaseEstimator):
    """Log the identity of every clip seen in fit and in transform; output band features."""

    def __init__(self, log="default"):
        self.log = log

    def _record(self, phase, X):
        LOGS.setdefault(self.log, []).append((phase, [clip_hash(c) for c in X]))

    def fit(self, X, y=None):
        self._record("fit", X)
        self.fitted_ = True
        return self

    def fit_transform(self, X, y=None):
        self.fit(X, y)
        return band_features(X)

    def transform(self, X):
        self._record("predict", X)
        return band_features(X)


def tone(f0, seconds=1.0, sr=SR, amp=0.3):
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * f0 * t)).astype(np.float32)


def peak_frequency(y, sr=SR):
    """Frequency of the spectral peak, refined by parabolic interpolation."""
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    k = int(np.argmax(spec[1:-1])) + 1
    a, b, c = np.log(spec[k - 1 : k + 2] + 1e-12)
    offset = 0.5 * (a - c) / (a - 2 * b + c)
    return (k + offset) * sr / len(y)


def small_corpus(n_per_class=(8, 8, 4), n_speakers=4, seed=0):
    """Tone clips of three classes (different pitches), spread over speakers."""
    rng = np.random.default_rng(seed)
    X, y, groups = [], [], []
    for label, (f0, n) in enumerate(zip((150, 300, 600), n_per_class)):
        for i in range(n):
            n_samples = int(SR * rng.uniform(0.3, 0.6))
            t = np.arange(n_samples) / SR
            clip = 0.3 * np.sin(2 * np.pi * f0 * (1 + 0.05 * rng.standard_normal()) * t)
            X.append((clip + 0.01 * rng.standard_normal(n_samples)).astype(np.float32))
            y.append(f"c{label}")
            groups.append(f"s{i % n_speakers}")
    return X, np.asarray(y), np.asarray(groups)


# -- measured effects ------------------------------------------------------------------------

@pytest.mark.parametrize("noise", ["white", "pink", "brown", "clip", "babble"])
@pytest.mark.parametrize("snr", [20.0, 5.0, 0.0, -5.0])
def test_add_noise_hits_the_requested_snr(noise, snr):
    clean = tone(220).astype(np.float64)
    source = noise
    if noise == "clip":
        source = colored_noise(3000, color="pink", random_state=3)
    elif noise == "babble":
        source = make_babble(small_corpus()[0], len(clean), random_state=3)
    noisy = add_noise(clean, snr=snr, noise=source, random_state=0)
    measured = 10 * np.log10(np.sum(clean**2) / np.sum((noisy - clean) ** 2))
    assert abs(measured - snr) < 0.5


def test_pink_noise_falls_3db_per_octave():
    noise = colored_noise(2**18, color="pink", random_state=0)
    power = np.abs(np.fft.rfft(noise)) ** 2
    freqs = np.fft.rfftfreq(len(noise), 1 / SR)
    band = lambda lo: power[(freqs >= lo) & (freqs < 2 * lo)].mean()  # noqa: E731
    slope = 10 * np.log10(band(2000) / band(1000))
    assert -4.0 < slope < -2.0


def octave_slopes(noise):
    """Power change in dB from each octave band to the next, 250 Hz to 4 kHz."""
    power = np.abs(np.fft.rfft(noise)) ** 2
    freqs = np.fft.rfftfreq(len(noise), 1 / SR)
    bands = [power[(freqs >= lo) & (freqs < 2 * lo)].mean() for lo in (250, 500, 1000, 2000)]
    return 10 * np.diff(np.log10(bands))


def test_brown_noise_falls_6db_per_octave_steeper_than_pink():
    brown = colored_noise(2**18, color="brown", random_state=0)
    pink = colored_noise(2**18, color="pink", random_state=0)
    assert brown.std() == pytest.approx(1.0) and abs(brown.mean()) < 0.1
    assert np.all((octave_slopes(brown) > -7.0) & (octave_slopes(brown) < -5.0))
    assert np.all(octave_slopes(brown) < octave_slopes(pink) - 2.0)


def test_unknown_noise_color_lists_the_choices():
    with pytest.raises(ValueError, match="white.*pink.*brown"):
        colored_noise(100, color="purple")
    with pytest.raises(ValueError, match="brown"):
        add_noise(tone(220), snr=10, noise="purple", random_state=0)


def whole_cycle_tones(freqs, amps, n=1600):
    """Tones that fit whole cycles in ``n`` samples: looped, they stay pure tones."""
    t = np.arange(n) / SR
    return [a * np.sin(2 * np.pi * f * t + f) for f, a in zip(freqs, amps)]


def test_babble_sums_equally_loud_talkers_from_the_sources_only():
    freqs = [500, 1000, 1500, 2000, 2500]  # 50 to 250 whole cycles in 1600 samples
    sources = whole_cycle_tones(freqs, [0.05, 0.5, 0.9, 0.2, 0.3])
    babble = make_babble(sources, 8000, n_talkers=3, random_state=0)
    assert babble.shape == (8000,) and np.sqrt(np.mean(babble**2)) == pytest.approx(1.0)
    power = np.abs(np.fft.rfft(babble)) ** 2
    bins = np.rint(np.array(freqs) * len(babble) / SR).astype(int)
    share = power[bins] / power.sum()
    assert share.sum() > 0.999  # nothing but the sources
    talking = share[share > 0.01]
    assert len(talking) == 3  # three distinct talkers ...
    np.testing.assert_allclose(talking, 1 / 3, rtol=1e-6)  # ... each at the same level
    same = make_babble(sources, 8000, n_talkers=3, random_state=0)
    np.testing.assert_array_equal(babble, same)


def test_babble_with_few_sources_repeats_them_and_skips_silence():
    sources = [np.zeros(500), np.zeros(0), *whole_cycle_tones([1000], [0.2], n=800)]
    babble = make_babble(sources, 3200, n_talkers=4, random_state=1)
    assert babble.shape == (3200,) and np.all(np.isfinite(babble))
    power = np.abs(np.fft.rfft(babble)) ** 2
    assert power[1000 * 3200 // SR] / power.sum() > 0.99  # the one voiced clip, 4 times
    with pytest.raises(ValueError, match="non-silent"):
        make_babble([np.zeros(100)], 100, random_state=0)
    with pytest.raises(ValueError, match="n_talkers"):
        make_babble(sources, 100, n_talkers=0)


@pytest.mark.parametrize("n_steps", [-3.0, -1.0, 2.0, 4.0])
def test_pitch_shift_moves_f0_by_the_requested_semitones(n_steps):
    y = tone(220)
    shifted = pitch_shift(y, sr=SR, n_steps=n_steps)
    assert len(shifted) == len(y)
    expected = 220 * 2 ** (n_steps / 12)
    assert abs(peak_frequency(shifted) - expected) / expected < 0.02


@pytest.mark.parametrize("rate", [0.8, 0.9, 1.1, 1.25])
def test_speed_change_scales_duration_and_pitch(rate):
    y = tone(200, seconds=1.0)
    fast = change_speed(y, sr=SR, rate=rate)
    assert abs(len(fast) - len(y) / rate) <= 1
    assert abs(peak_frequency(fast) / (200 * rate) - 1) < 0.02


def test_room_response_has_requested_drr_and_decay():
    h = room_impulse_response(sr=SR, rt60=0.5, drr_db=6.0, random_state=0)
    assert h[0] == 1.0
    assert abs(10 * np.log10(1.0 / np.sum(h[1:] ** 2)) - 6.0) < 1e-6
    # Energy falls by about 60 dB per rt60: compare two 50 ms windows 0.25 s apart.
    e = lambda t: np.sum(h[int(t * SR) : int((t + 0.05) * SR)] ** 2)  # noqa: E731
    assert abs(10 * np.log10(e(0.05) / e(0.30)) - 30.0) < 6.0


def test_reverberate_keeps_length_and_level():
    y = tone(300)
    wet = reverberate(y, sr=SR, rt60=0.4, random_state=0)
    assert wet.shape == y.shape
    assert np.isclose(np.sqrt(np.mean(wet**2)), np.sqrt(np.mean(y.astype(float) ** 2)))


def test_echo_repeats_the_clip_after_each_delay_with_decaying_level():
    burst = np.zeros(SR)
    burst[:160] = np.hanning(160)  # a 10 ms blip
    wet = echo(burst, sr=SR, delay=0.2, decay=0.5)
    assert wet.shape == burst.shape
    assert np.isclose(np.sqrt(np.mean(wet**2)), np.sqrt(np.mean(burst**2)))
    # Repetitions at 0.2, 0.4, 0.6 and 0.8 s, each half the one before; silence between.
    peaks = [wet[int(k * 0.2 * SR) : int(k * 0.2 * SR) + 160].max() for k in range(5)]
    np.testing.assert_allclose(np.array(peaks[1:]) / peaks[:-1], 0.5, rtol=1e-6)
    assert np.all(wet[200:3200] == 0)


def test_echo_leaves_a_clip_shorter_than_the_delay_unchanged():
    y = tone(300, seconds=0.1)
    np.testing.assert_allclose(echo(y, sr=SR, delay=0.25, decay=0.5), y, rtol=1e-6)


@pytest.mark.parametrize("params", [dict(delay=0.0), dict(decay=1.0), dict(decay=-0.1)])
def test_echo_rejects_bad_settings_with_the_rule(params):
    with pytest.raises(ValueError, match="echo: (delay must be > 0|decay must lie in)"):
        echo(tone(300), sr=SR, **params)


# -- the sampler -----------------------------------------------------------------------------

def test_augmenter_adds_copies_and_records_sources():
    X, y, _ = small_corpus()
    before = [c.copy() for c in X]
    X_res, y_res = Augmenter(n_copies=2, random_state=0).fit_resample(X, y)
    aug = Augmenter(n_copies=2, random_state=0)
    aug.fit_resample(X, y)
    assert len(X_res) == len(y_res) == 3 * len(X)
    assert isinstance(X_res, list) and all(c.dtype == np.float32 for c in X_res)
    np.testing.assert_array_equal(y_res, y[aug.sample_indices_])
    assert aug.sample_indices_[: len(X)].tolist() == list(range(len(X)))
    assert len(aug.augmentations_) == 2 * len(X)
    assert all(np.array_equal(a, b) for a, b in zip(X, before))  # inputs untouched
    assert all(np.max(np.abs(c)) <= 1.0 for c in X_res)


def test_augmenter_is_seeded_in_fit_resample():
    X, y, _ = small_corpus()
    aug = Augmenter(n_copies=1, random_state=7)
    first, _ = aug.fit_resample(X, y)
    again, _ = aug.fit_resample(X, y)
    other, _ = Augmenter(n_copies=1, random_state=8).fit_resample(X, y)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first[len(X):], other[len(X):]))


def test_augmenter_parallel_matches_serial():
    X, y, _ = small_corpus()
    serial, _ = Augmenter(n_copies=1, random_state=0).fit_resample(X, y)
    parallel, _ = Augmenter(n_copies=1, random_state=0, n_jobs=2).fit_resample(X, y)
    assert all(np.array_equal(a, b) for a, b in zip(serial, parallel))


@pytest.mark.parametrize("strategy", ["auto", "not majority", {"c2": 12}])
def test_augmenter_balances_classes_like_imblearn(strategy):
    X, y, _ = small_corpus(n_per_class=(8, 6, 4))
    aug = Augmenter(n_copies=0, sampling_strategy=strategy, random_state=0)
    _, y_res = aug.fit_resample(X, y)
    counts = {c: int(np.sum(y_res == c)) for c in np.unique(y)}
    if strategy == {"c2": 12}:
        assert counts == {"c0": 8, "c1": 6, "c2": 12}
    else:
        assert counts == {"c0": 8, "c1": 8, "c2": 8}
    # Balancing copies come from the class they are labelled with.
    np.testing.assert_array_equal(y_res, y[aug.sample_indices_])


def test_augmenter_balances_after_copies():
    X, y, _ = small_corpus(n_per_class=(8, 6, 4))
    _, y_res = Augmenter(n_copies=1, sampling_strategy="auto", random_state=0).fit_resample(X, y)
    assert [int(np.sum(y_res == c)) for c in ("c0", "c1", "c2")] == [16, 16, 16]


def test_augmenter_uses_noise_clips():
    X, y, _ = small_corpus()
    babble = [colored_noise(4000, random_state=1).astype(np.float32)]
    aug = Augmenter(n_copies=1, p_noise=1.0, noise_types=["clips"], noise_clips=babble,
                    random_state=0)
    aug.fit_resample(X, y)
    assert {log["noise"] for log in aug.augmentations_} == {"clips"}


def test_augmenter_babble_comes_from_other_training_clips():
    """Each clip is a pure tone of its own frequency: a copy's babble holds the other clips'
    tones and never its source's own."""
    sr, n = 16000, 8000
    t = np.arange(n) / sr
    freqs = 200.0 + 100.0 * np.arange(8)
    X = [(0.3 * np.sin(2 * np.pi * f * t)).astype(np.float32) for f in freqs]
    y = np.array(["a", "b"] * 4)
    aug = Augmenter(n_copies=1, p_noise=1.0, snr_range=(0.0, 0.0), noise_types=["babble"],
                    p_reverb=0, p_speed=0, p_pitch=0, p_gain=0, random_state=0)
    X_res, _ = aug.fit_resample(X, y)
    bins = np.fft.rfftfreq(n, 1 / sr)
    for copy, source in zip(X_res[8:], aug.sample_indices_[8:]):
        added = np.abs(np.fft.rfft(copy.astype(np.float64) - X[source]))
        power = {f: added[np.argmin(np.abs(bins - f))] for f in freqs}
        others = [power[f] for f in freqs if f != freqs[source]]
        assert power[freqs[source]] < 1e-3 * max(others)
        assert sum(p > 0.05 * max(others) for p in others) == 5  # five talkers
    assert {log["noise"] for log in aug.augmentations_} == {"babble"}


def test_augmenter_echo_repeats_each_copy_at_its_logged_delay():
    X = [np.zeros(SR, dtype=np.float32) for _ in range(4)]
    for clip in X:
        clip[:160] = 0.5 * np.hanning(160)
    y = np.array(["a", "b"] * 2)
    aug = Augmenter(n_copies=2, p_noise=0, p_reverb=0, p_speed=0, p_pitch=0, p_gain=0,
                    p_echo=1.0, echo_delay_range=(0.1, 0.3), echo_decay_range=(0.3, 0.5),
                    random_state=0)
    X_res, _ = aug.fit_resample(X, y)
    for copy, log in zip(X_res[len(X):], aug.augmentations_):
        assert set(log) == {"echo_delay", "echo_decay"}
        assert 0.1 <= log["echo_delay"] <= 0.3 and 0.3 <= log["echo_decay"] <= 0.5
        lag = int(round(log["echo_delay"] * SR))
        first, second = copy[:160].max(), copy[lag : lag + 160].max()
        assert np.isclose(second / first, log["echo_decay"], rtol=1e-4)
        assert np.all(copy[200 : lag - 10] == 0)


def test_augmenter_echo_off_by_default_leaves_the_copies_of_a_seed_alone():
    X, y, _ = small_corpus()
    plain, _ = Augmenter(n_copies=1, random_state=3).fit_resample(X, y)
    other_ranges, _ = Augmenter(n_copies=1, echo_delay_range=(0.3, 0.35),
                                random_state=3).fit_resample(X, y)
    with_echo = Augmenter(n_copies=1, p_echo=1.0, random_state=3)
    echoed, _ = with_echo.fit_resample(X, y)
    assert all(np.array_equal(a, b) for a, b in zip(plain, other_ranges))
    assert all("echo_delay" in log for log in with_echo.augmentations_)
    assert not any(np.array_equal(a, b) for a, b in zip(plain[len(X):], echoed[len(X):]))


def test_augmenter_brown_noise_is_accepted():
    X, y, _ = small_corpus()
    aug = Augmenter(n_copies=1, p_noise=1.0, noise_types=["brown"], random_state=0)
    aug.fit_resample(X, y)
    assert {log["noise"] for log in aug.augmentations_} == {"brown"}


@pytest.mark.parametrize(
    "params, error",
    [
        (dict(n_copies=-1), InvalidParameterError),
        (dict(p_noise=1.5), InvalidParameterError),
        (dict(snr_range=(10, 0)), ValueError),
        (dict(speed_range=(0.1, 1.0)), ValueError),
        (dict(noise_types=["clips"]), ValueError),
        (dict(noise_types=["purple"]), ValueError),
        (dict(p_echo=1.5), InvalidParameterError),
        (dict(echo_decay_range=(0.5, 1.0)), ValueError),
        (dict(echo_delay_range=(0.0, 0.2)), ValueError),
    ],
)
def test_augmenter_rejects_bad_parameters(params, error):
    X, y, _ = small_corpus()
    with pytest.raises(error):
        Augmenter(**params).fit_resample(X, y)


def test_augmenter_needs_labels():
    X, _, _ = small_corpus()
    with pytest.raises(ValueError, match="requires y"):
        Augmenter().fit_resample(X, None)


def test_augmenter_has_no_transform_and_sklearn_pipeline_refuses_it():
    assert not hasattr(Augmenter(), "transform")
    from sklearn.pipeline import Pipeline as SkPipeline

    X, y, _ = small_corpus()
    with pytest.raises(TypeError):
        SkPipeline([("aug", Augmenter()), ("clf", LogisticRegression())]).fit(X, y)


# -- the test fold is never augmented --------------------------------------------------------

def _augmented_model(log, n_copies=2):
    return Pipeline([
        ("augmenter", Augmenter(n_copies=n_copies, p_noise=1.0, random_state=0)),
        ("features", RecordingFeatures(log=log)),
        ("scaler", StandardScaler()),
        ("clf", LogisticRegression(max_iter=500)),
    ])


def _check_logs(entries, X, splits, n_copies):
    """Every fit saw its training clips plus copies; every predict saw exactly a test fold."""
    hashes = np.asarray([clip_hash(c) for c in X])
    fits = [h for phase, h in entries if phase == "fit"]
    predicts = [h for phase, h in entries if phase == "predict"]
    assert len(fits) == len(splits)
    # cross_validate predicts each test fold (scoring); it may also score the training part.
    for (train, test), seen_fit in zip(splits, fits):
        train_h, test_h = set(hashes[train]), set(hashes[test])
        assert len(seen_fit) == len(train) * (1 + n_copies)
        assert seen_fit[: len(train)] == hashes[train].tolist()  # originals, in order
        copies = set(seen_fit[len(train):])
        assert not copies & (train_h | test_h)  # copies are new clips
        assert not set(seen_fit) & test_h  # no test clip, original or augmented
        test_predicts = [p for p in predicts if set(p) == test_h]
        assert test_predicts and all(p == hashes[test].tolist() for p in test_predicts)
    all_copies = set().union(*(set(f[len(t):]) for f, (t, _) in zip(fits, splits)))
    for seen in predicts:
        assert not set(seen) & all_copies  # predict never sees an augmented clip
        assert set(seen) <= set(hashes)


def test_speed_perturber_adds_one_copy_per_rate():
    X, y, _ = small_corpus()
    X_res, y_res = SpeedPerturber(rates=(0.9, 1.1)).fit_resample(X, y)
    n = len(X)
    assert len(X_res) == 3 * n and list(y_res) == list(y) * 3
    for i in (0, n - 1):
        assert np.array_equal(X_res[i], X[i])
        for block, rate in enumerate((0.9, 1.1), start=1):
            copy = X_res[block * n + i]
            assert copy.dtype == np.float32
            np.testing.assert_allclose(copy, change_speed(X[i], sr=SR, rate=rate), atol=1e-6)
    # A 1.1x copy of a 300 Hz tone is a tenth shorter and a tenth higher.
    clip = tone(300.0)
    _, slow, fast = SpeedPerturber().fit_resample([clip], ["a"])[0]
    assert len(fast) == pytest.approx(len(clip) / 1.1, abs=1)
    assert peak_frequency(fast) == pytest.approx(330.0, rel=0.01)
    assert peak_frequency(slow) == pytest.approx(270.0, rel=0.01)


def test_speed_perturber_records_sources_and_runs_in_parallel():
    X, y, _ = small_corpus()
    serial = SpeedPerturber(rates=(0.8,))
    X_ser, _ = serial.fit_resample(X, y)
    np.testing.assert_array_equal(serial.sample_indices_, np.tile(np.arange(len(X)), 2))
    X_par, _ = SpeedPerturber(rates=(0.8,), n_jobs=2).fit_resample(X, y)
    assert all(np.array_equal(a, b) for a, b in zip(X_ser, X_par))


def test_speed_copies_apart_from_the_originals_after_noisy_copies():
    """After a NoiseAugmenter, ``sources="originals"`` copies only the original clips, and
    ``copy_groups="apart"`` makes each rate's copies speakers of their own; without groups
    every clip is copied, with a warning that says so."""
    from sklearn_ser.augmentation import NoiseAugmenter, source_speakers

    X, y, groups = small_corpus()
    n = len(X)
    noise = NoiseAugmenter(n_copies=2, random_state=0)
    X_noisy, y_noisy = noise.fit_resample(X, y, groups=groups)
    speed = SpeedPerturber(copy_groups="apart", sources="originals")
    X_res, y_res = speed.fit_resample(X_noisy, y_noisy, groups=noise.groups_)
    assert len(X_res) == 5 * n and list(y_res) == list(y_noisy) + list(y) * 2
    np.testing.assert_array_equal(speed.sample_indices_[3 * n:], np.tile(np.arange(n), 2))
    np.testing.assert_allclose(X_res[3 * n], change_speed(X[0], sr=SR, rate=0.9), atol=1e-6)
    ids = np.asarray(groups).astype(str)
    np.testing.assert_array_equal(speed.groups_[3 * n:4 * n], np.char.add(ids, "/speed0.9"))
    np.testing.assert_array_equal(speed.groups_[4 * n:], np.char.add(ids, "/speed1.1"))
    # Every copy traces back to its source speaker, for splits made after the copies.
    np.testing.assert_array_equal(source_speakers(speed.groups_), np.tile(ids, 5))
    # The default keeps the speakers' ids and copies every clip it gets.
    same = SpeedPerturber()
    same.fit_resample(X_noisy, y_noisy, groups=noise.groups_)
    np.testing.assert_array_equal(same.groups_, np.tile(noise.groups_, 3))
    with pytest.warns(UserWarning, match="no groups.*copies all 30 clips"):
        X_all, _ = SpeedPerturber(sources="originals").fit_resample(X_noisy[:30], y_noisy[:30])
    assert len(X_all) == 90
    with pytest.raises(ValueError, match="SpeedPerturber: groups has 3 entries for 20 clips"):
        SpeedPerturber(copy_groups="apart").fit_resample(X, y, groups=groups[:3])


@pytest.mark.parametrize("rates", [(), (0.1,), (1.1, 5.0), ("fast",)])
def test_speed_perturber_rejects_bad_rates(rates):
    X, y, _ = small_corpus()
    with pytest.raises(ValueError, match="rates must be a non-empty sequence"):
        SpeedPerturber(rates=rates).fit_resample(X, y)
    with pytest.raises(ValueError, match="requires y"):
        SpeedPerturber().fit_resample(X, None)


def test_cross_validate_never_speed_perturbs_the_test_fold():
    X, y, groups = small_corpus()
    LOGS.clear()
    cv = GroupKFold(n_splits=4)
    model = Pipeline([("speed", SpeedPerturber()), ("features", RecordingFeatures("sp")),
                      ("lr", LogisticRegression())])
    cross_validate(model, X, y, groups=groups, cv=cv)
    originals = {clip_hash(c) for c in X}
    for phase, seen in LOGS["sp"]:
        if phase == "predict":
            assert set(seen) <= originals
        else:
            assert len(seen) == 3 * len(set(seen) & originals)


def test_cross_validate_never_augments_the_test_fold():
    X, y, groups = small_corpus()
    LOGS.clear()
    cv = GroupKFold(n_splits=4)
    splits = list(cv.split(X, y, groups))
    result = cross_validate(_augmented_model("cv"), X, y, groups=groups, cv=cv)
    assert len(result["test_score"]) == 4
    _check_logs(LOGS["cv"], X, splits, n_copies=2)
    predicts = [h for phase, h in LOGS["cv"] if phase == "predict"]
    assert [len(p) for p in predicts] == [len(test) for _, test in splits]


def test_grid_search_never_augments_validation_or_test_folds():
    X, y, groups = small_corpus(n_per_class=(8, 8, 8))
    LOGS.clear()
    inner = GroupKFold(n_splits=3)
    search = GridSearchCV(_augmented_model("grid", n_copies=1), {"clf__C": [0.1, 1.0]},
                          cv=inner, refit=True)
    outer = GroupKFold(n_splits=4)
    outer_splits = list(outer.split(X, y, groups))
    cross_validate(search, X, y, groups=groups, cv=outer, params={"groups": groups})
    entries = LOGS["grid"]
    hashes = np.asarray([clip_hash(c) for c in X])
    fits = [set(h) for phase, h in entries if phase == "fit"]
    predicts = [h for phase, h in entries if phase == "predict"]
    # Per outer fold: 2 candidates x 3 inner folds + 1 refit.
    assert len(fits) == 4 * (2 * 3 + 1)
    originals = set(hashes)
    for seen in predicts:
        assert set(seen) <= originals  # inner validation and outer test: never augmented
    for train, test in outer_splits:
        test_h = set(hashes[test])
        assert any(set(p) == test_h and len(p) == len(test) for p in predicts)
    # No fit ever saw a clip of the outer test fold it was fitted for.
    per_outer = 2 * 3 + 1
    for k, (train, test) in enumerate(outer_splits):
        for seen in fits[k * per_outer : (k + 1) * per_outer]:
            assert not seen & set(hashes[test])


# -- class imbalance -------------------------------------------------------------------------

class _CountingClassifier(ClassifierMixin, BaseEstimator):
    """Logistic regression that remembers the class counts it was trained on."""

    def fit(self, X, y):
        self.classes_, self.counts_ = np.unique(y, return_counts=True)
        self.model_ = LogisticRegression(max_iter=500).fit(X, y)
        return self

    def predict(self, X):
        self.n_predicted_ = len(X)
        return self.model_.predict(X)


@pytest.mark.parametrize("sampler", [RandomOverSampler(random_state=0),
                                     SMOTE(k_neighbors=2, random_state=0)])
def test_imblearn_samplers_on_pooled_features_inside_a_pipeline(sampler):
    from sklearn.preprocessing import FunctionTransformer

    X, y, _ = small_corpus(n_per_class=(10, 6, 4))
    model = Pipeline([
        ("features", FunctionTransformer(band_features)),
        ("scaler", StandardScaler()),
        ("sampler", sampler),
        ("clf", _CountingClassifier()),
    ])
    model.fit(X, y)
    assert model["clf"].counts_.tolist() == [10, 10, 10]
    model.predict(X[:5])
    assert model["clf"].n_predicted_ == 5


def test_class_weight_balanced_reaches_the_classifier():
    from sklearn_ser.pipelines import make_classic_pipeline

    pipe = make_classic_pipeline("svm", class_weight="balanced")
    assert pipe.steps[-1][1].class_weight == "balanced"


# -- NoiseAugmenter ----------------------------------------------------------------------------


def _snr_db(clean, noisy):
    clean = np.asarray(clean, dtype=np.float64)
    noise = np.asarray(noisy, dtype=np.float64) - clean
    return 10 * np.log10(np.sum(clean**2) / np.sum(noise**2))


def test_noise_augmenter_gives_each_speaker_and_copy_one_condition():
    X, y, groups = small_corpus()
    aug = NoiseAugmenter(n_copies=2, noise_types=["white", "pink", "brown"], random_state=0)
    X_res, y_res = aug.fit_resample(X, y, groups=groups)
    n = len(X)
    assert len(X_res) == 3 * n
    np.testing.assert_array_equal(aug.sample_indices_, np.concatenate([np.arange(n)] * 3))
    np.testing.assert_array_equal(y_res, np.concatenate([y] * 3))
    assert len(aug.conditions_) == 2 * len(np.unique(groups))
    for condition in aug.conditions_:
        members = np.flatnonzero(groups == condition["group"])
        offset = condition["copy"] * n
        snrs = [_snr_db(X[i], X_res[offset + i]) for i in members]
        # One SNR for all of the speaker's clips in this copy (clipping aside).
        np.testing.assert_allclose(snrs, condition["snr"], atol=0.05)
    assert aug.groups_[n] == f"{groups[0]}/noise1"
    assert aug.groups_[2 * n] == f"{groups[0]}/noise2"


def test_noise_augmenter_without_groups_draws_per_clip_and_same_ids_on_request():
    X, y, groups = small_corpus()
    aug = NoiseAugmenter(random_state=0).fit(X, y)
    assert aug.sampling_strategy_ == {"c0": 8, "c1": 8, "c2": 4}
    aug.fit_resample(X, y)
    assert aug.groups_ is None and len(aug.conditions_) == len(X)
    same = NoiseAugmenter(copy_groups="same", random_state=0)
    same.fit_resample(X, y, groups=groups)
    np.testing.assert_array_equal(same.groups_, np.concatenate([groups, groups]))


def test_noise_augmenter_draws_per_clip_on_request_and_keeps_speaker_ids():
    X, y, groups = small_corpus()
    aug = NoiseAugmenter(n_copies=2, conditions="clip", noise_types=["white"],
                         random_state=0)
    X_res, _ = aug.fit_resample(X, y, groups=groups)
    n = len(X)
    assert len(aug.conditions_) == 2 * n
    snrs = [_snr_db(X[i], X_res[n + i]) for i in range(n)]
    np.testing.assert_allclose(snrs, [c["snr"] for c in aug.conditions_[:n]], atol=0.05)
    # The clips of one speaker now get different conditions.
    first = np.flatnonzero(groups == groups[0])
    assert np.ptp([snrs[i] for i in first]) > 1.0
    assert aug.groups_[n] == f"{groups[0]}/noise1"


def test_classic_pipelines_draw_noise_per_speaker_only_with_speaker_norm():
    from sklearn_ser.pipelines import make_classic_pipeline

    plain = make_classic_pipeline("svm", features="mfcc")
    normalised = make_classic_pipeline("svm", features="mfcc", speaker_norm=True)
    assert plain.named_steps["noise"].conditions == "clip"
    assert normalised.named_steps["noise"].conditions == "speaker"


@pytest.mark.parametrize("conditions", ["speaker", "clip"])
def test_noise_augmenter_babble_is_other_speakers(conditions):
    """Every speaker is a pure tone: babble added to a speaker's copy holds other tones only."""
    n = 8000
    t = np.arange(n) / SR
    freqs = {"s0": 300.0, "s1": 500.0, "s2": 700.0, "s3": 900.0, "s4": 1100.0, "s5": 1300.0}
    X, groups = [], []
    for speaker, f in freqs.items():
        for _ in range(2):
            X.append((0.3 * np.sin(2 * np.pi * f * t)).astype(np.float32))
            groups.append(speaker)
    y = np.array(["a", "b"] * 6)
    aug = NoiseAugmenter(noise_types=["babble"], snr_range=(0.0, 0.0), conditions=conditions,
                         random_state=0)
    X_res, _ = aug.fit_resample(X, y, groups=np.array(groups))
    bins = np.fft.rfftfreq(n, 1 / SR)
    for i, speaker in enumerate(groups):
        added = np.abs(np.fft.rfft(X_res[12 + i].astype(np.float64) - X[i]))
        power = {s: added[np.argmin(np.abs(bins - f))] for s, f in freqs.items()}
        assert power[speaker] < 1e-3 * max(power.values())


def test_noise_augmenter_rejects_bad_settings():
    X, y, groups = small_corpus()
    with pytest.raises(ValueError, match="noise_types"):
        NoiseAugmenter(noise_types=["purple"]).fit_resample(X, y)
    with pytest.raises(ValueError, match="snr_range"):
        NoiseAugmenter(snr_range=(20, 10)).fit_resample(X, y)
    with pytest.raises(ValueError, match="groups"):
        NoiseAugmenter().fit_resample(X, y, groups=groups[:3])


def test_speaker_normalised_pipeline_standardises_noisy_copies_apart():
    """Through evaluate (metadata routing), the noisy and speed copies reach the
    SpeakerNormalizer as speakers of their own, the speed copies made of the original clips
    only; a plain pipeline gets its copies without being handed groups."""
    from sklearn_ser.model_selection import evaluate
    from sklearn_ser.pipelines import make_classic_pipeline

    X, y, groups = small_corpus()
    sn = make_classic_pipeline("lr", features="mfcc", speaker_norm=True, random_state=0)
    report = evaluate(sn, X, y, groups=groups, cv=GroupKFold(2), return_estimators=True)
    fitted = report.estimators[0]
    n_train_speakers = len(np.unique(fitted.named_steps["noise"].groups_)) // 3
    speed = fitted.named_steps["speed"]
    # Each training speaker, its two noisy copies and its two speed copies.
    assert fitted.named_steps["speakernormalizer"].n_speakers_ == 5 * n_train_speakers
    assert len(speed.sample_indices_) == 5 * len(X) // 2
    copies = speed.groups_[3 * len(X) // 2:]
    assert all(g.endswith(("/speed0.9", "/speed1.1")) and "/noise" not in g for g in copies)
    plain = make_classic_pipeline("lr", features="mfcc", random_state=0)
    report = evaluate(plain, X, y, groups=groups, cv=GroupKFold(2), return_estimators=True)
    noise = report.estimators[0].named_steps["noise"]
    # Half the clips train each fold: they and their two noisy copies.
    assert len(noise.sample_indices_) == 3 * len(X) // 2
