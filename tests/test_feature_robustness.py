"""Every extractor on the inputs users really bring: silence, padding, DC, clipping, low level.

Each case is checked for finite, bounded features that stay put when a tiny dither (Gaussian,
standard deviation 1e-7, about one step of a 24-bit converter) is added: a feature that jumps under such a dither
sits on a numerical singularity (an unfloored log or ratio, a count of crossings of zero).

Tolerance, stated once: deviations are measured in units of each feature's standard deviation
over a reference set of normal clips; the 99th percentile over the features must stay under
``DITHER_TOLERANCE`` and the median under a tenth of it. Slopes and kurtoses of a clip with a
handful of speech frames can move more than that in those units (their spread over normal
clips is tiny), which is why a percentile and not the maximum is bounded.
"""

import warnings

import numpy as np
import pytest

from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.exceptions import AudioWarning
from sklearn_ser.features import (
    LogMelExtractor,
    LPCCExtractor,
    MFCCExtractor,
    ProsodyExtractor,
    SpectralExtractor,
)
from sklearn_ser.features import speech_blocks

DITHER_TOLERANCE = 1.5
# No feature of any real input may be larger than this (features are dB, Hz, ratios, counts).
BOUND = 1e5

EXTRACTORS = [
    MFCCExtractor(functionals="full"),
    LPCCExtractor(),
    SpectralExtractor(functionals="full"),
    ProsodyExtractor(functionals="full"),
    LogMelExtractor(pooling="stats"),
]


@pytest.fixture(scope="module")
def reference():
    """Synthetic utterances with a studio-like noise floor (-70 dB below their level)."""
    rng = np.random.default_rng(0)
    clips = make_emotional_speech(12, random_state=0).data
    return [(c + 3e-4 * rng.standard_normal(len(c))).astype(np.float32) for c in clips]


def _cases(clip):
    zeros = np.zeros(8000, dtype=np.float32)
    return {
        "zero padding": np.concatenate([zeros, clip, zeros]),
        "dc offset": (clip + 0.2).astype(np.float32),
        "clipping": np.clip(20 * clip, -1, 1).astype(np.float32),
        "-60 dBFS": (clip * 10 ** (-60 / 20) / np.abs(clip).max()).astype(np.float32),
        "short voiced part": np.concatenate([2 * zeros, clip[4000:4800], 2 * zeros]),
    }


def _dithered(clip, seed=1):
    rng = np.random.default_rng(seed)
    return (clip + 1e-7 * rng.standard_normal(len(clip))).astype(np.float32)


def _transform(est, clips):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AudioWarning)
        return est.transform(clips)


@pytest.mark.parametrize("est", EXTRACTORS, ids=lambda e: type(e).__name__)
def test_odd_inputs_give_finite_features_that_dither_does_not_move(est, reference):
    est = est.fit(reference)
    scale = _transform(est, reference).std(axis=0) + 1e-12
    for name, clip in _cases(reference[0]).items():
        plain, dithered = _transform(est, [clip, _dithered(clip)])
        assert np.isfinite(plain).all(), name
        assert np.abs(plain).max() < BOUND, name
        deviation = np.abs(plain - dithered) / scale
        assert np.quantile(deviation, 0.99) < DITHER_TOLERANCE, name
        assert np.median(deviation) < DITHER_TOLERANCE / 10, name


@pytest.mark.parametrize("est", EXTRACTORS, ids=lambda e: type(e).__name__)
def test_digital_silence_is_finite_bounded_and_warned(est, reference):
    est = est.fit(reference)
    with pytest.warns(AudioWarning, match="silent"):
        features = est.transform([np.zeros(16000, dtype=np.float32), reference[1]])
    assert np.isfinite(features).all()
    assert np.abs(features).max() < BOUND


@pytest.mark.parametrize("est", EXTRACTORS, ids=lambda e: type(e).__name__)
def test_padding_with_silence_moves_speech_features_little(est, reference):
    """0.5 s of zeros at both ends: with the speech mask, its span (``"edges"``) or the
    frames outside digital silence (``"audible"``) almost nothing moves, without any
    (``speech_only=False``) the functionals pool the padding too."""
    zeros = np.zeros(8000, dtype=np.float32)
    padded = [np.concatenate([zeros, c, zeros]) for c in reference]
    moved = {}
    for speech_only in (True, "edges", "audible", False):
        fitted = est.set_params(speech_only=speech_only).fit(reference)
        plain = _transform(fitted, reference)
        scale = plain.std(axis=0) + 1e-12
        deviation = np.abs(_transform(fitted, padded) - plain) / scale
        moved[speech_only] = np.mean(deviation.max(axis=0) > 1.0)
    est.set_params(speech_only=True)
    assert moved[True] <= 0.02
    assert moved["edges"] <= 0.02
    assert moved["audible"] <= 0.02
    if not isinstance(est, ProsodyExtractor):  # its pitch functionals are voiced-only anyway
        assert moved[False] > 5 * moved[True]


def test_edges_trim_the_silence_around_speech_and_keep_its_pauses(reference):
    """``speech_only="edges"``: zero padding at both ends leaves the frame sequence as it is,
    a pause inside the utterance stays in it, where the voice-activity mask drops it."""
    clip = reference[0]
    zeros = np.zeros(8000, dtype=np.float32)
    padded = np.concatenate([zeros, clip, zeros])
    paused = np.concatenate([clip, zeros, clip])
    est = LogMelExtractor(pooling=None, speech_only="edges", max_frames=400).fit([paused])
    plain, padded_seq = est.transform([clip]), est.transform([padded])
    np.testing.assert_allclose(padded_seq, plain, rtol=1e-5, atol=1e-6)
    real = {mode: np.isfinite(est.set_params(speech_only=mode).transform([paused])[0, :, 0]).sum()
            for mode in ("edges", True, False)}
    pause_frames = len(zeros) // est.hop_length
    assert real["edges"] >= real[True] + pause_frames - 2
    assert real["edges"] <= real[False]
    with pytest.raises(ValueError, match="speech_only"):
        LogMelExtractor(speech_only="middle").fit([clip])


def test_audible_drops_digital_silence_and_keeps_natural_silence(reference):
    """``speech_only="audible"``: the frames of exact zeros go, wherever they are; a quiet
    pause that holds the recording's noise floor stays, as with every frame."""
    rng = np.random.default_rng(1)
    clip = reference[0]
    zeros = np.zeros(8000, dtype=np.float32)
    hiss = (1e-4 * rng.standard_normal(8000)).astype(np.float32)
    est = LogMelExtractor(pooling=None, speech_only="audible", max_frames=400).fit([clip])
    plain = est.transform([clip])
    padded = est.transform([np.concatenate([zeros, clip, zeros])])
    gapped = est.transform([np.concatenate([clip, zeros, clip])])
    np.testing.assert_allclose(padded, plain, rtol=1e-5, atol=1e-6)
    n_real = lambda seq: int(np.isfinite(seq[0, :, 0]).sum())  # noqa: E731
    assert n_real(gapped) <= 2 * n_real(plain) + 2
    quiet = [np.concatenate([clip, hiss, clip])]
    every = est.set_params(speech_only=False).transform(quiet)
    np.testing.assert_array_equal(est.set_params(speech_only="audible").transform(quiet), every)


def test_flatness_of_silent_frames_is_one_not_the_bin_count(reference):
    est = SpectralExtractor(functionals=["max"], deltas=0, speech_only=False).fit(reference)
    names = list(est.get_feature_names_out())
    with pytest.warns(AudioWarning):
        silent = est.transform([np.zeros(8000, dtype=np.float32)])
    assert silent[0, names.index("spectral_flatness_max")] == pytest.approx(1.0)
    assert _transform(est, reference)[:, names.index("spectral_flatness_max")].max() <= 1.0


def test_contrast_does_not_change_with_gain(reference):
    est = SpectralExtractor(functionals=["mean"], deltas=0).fit(reference)
    names = list(est.get_feature_names_out())
    contrast = [i for i, n in enumerate(names) if "contrast" in n]
    loud, quiet = _transform(est, [reference[2], reference[2] * np.float32(0.01)])
    np.testing.assert_allclose(loud[contrast], quiet[contrast], rtol=1e-3, atol=1e-3)


def test_speech_blocks_follow_the_clip_not_its_gain_or_padding(reference):
    clip = reference[3]
    flags = speech_blocks(clip, sr=16000)
    assert 0 < flags.sum() < len(flags) + 1
    np.testing.assert_array_equal(speech_blocks(clip * np.float32(1e-3), sr=16000), flags)
    padded = np.concatenate([np.zeros(1600, dtype=np.float32), clip])
    np.testing.assert_array_equal(speech_blocks(padded, sr=16000)[10:10 + len(flags)], flags)
    assert not speech_blocks(padded, sr=16000)[:10].any()


def test_speech_blocks_fall_back_without_speech():
    assert speech_blocks(np.zeros(1600, dtype=np.float32), sr=16000).all()
    one_click = np.zeros(1600, dtype=np.float32)
    one_click[800] = 0.5
    flags = speech_blocks(one_click, sr=16000)
    # Fewer than three speech blocks: every non-silent block is kept (here the click's).
    np.testing.assert_array_equal(np.flatnonzero(flags), [5])
