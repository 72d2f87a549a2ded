"""Preprocessing transformers: measured effects, containers, independence, no in-place edits."""

import numpy as np
import pytest

from sklearn_ser.exceptions import AudioWarning
from sklearn_ser.preprocessing import (
    BandpassFilter,
    Denoiser,
    FixedDuration,
    LoudnessNormalizer,
    SilenceTrimmer,
    denoise,
    integrated_loudness,
    k_weighting_sos,
    split_windows,
)
from sklearn_ser.utils._compat import InvalidParameterError

SR = 16000
ALL = [Denoiser(), BandpassFilter(), LoudnessNormalizer(), LoudnessNormalizer(method="lufs"),
       SilenceTrimmer(), FixedDuration(duration=0.5)]


def sine(f, seconds=1.0, sr=SR, amp=0.5):
    return amp * np.sin(2 * np.pi * f * np.arange(int(seconds * sr)) / sr)


def snr_db(reference, x):
    return 10 * np.log10(np.sum(reference**2) / np.sum((x - reference) ** 2))


def tone_bursts_in_noise(snr, seed=0):
    """A tone that is on for 0.5 s in the middle of 1.5 s, plus white noise at ``snr`` dB."""
    t = np.arange(int(1.5 * SR)) / SR
    clean = np.where((t > 0.5) & (t < 1.0), 0.3 * np.sin(2 * np.pi * 440 * t), 0.0)
    noise = np.random.default_rng(seed).standard_normal(len(t))
    noise *= np.sqrt(np.mean(clean**2) / np.mean(noise**2) / 10 ** (snr / 10))
    return clean, clean + noise


# -- shared contract ---------------------------------------------------------------------------

@pytest.mark.parametrize("est", ALL, ids=lambda e: repr(e))
def test_inputs_are_never_modified(est, tone_clips):
    before = [c.copy() for c in tone_clips]
    est.fit_transform(tone_clips)
    assert all(np.array_equal(a, b) for a, b in zip(tone_clips, before))


@pytest.mark.parametrize("est", ALL, ids=lambda e: repr(e))
def test_each_clip_is_processed_independently(est, tone_clips):
    batch = est.fit_transform(tone_clips)
    alone = [est.transform([c])[0] for c in tone_clips]
    for a, b in zip(batch, alone):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("est", ALL, ids=lambda e: repr(e))
def test_same_container_kind_and_dtype(est, tone_clips):
    out = est.fit_transform(tone_clips)
    assert isinstance(out, list) and all(o.dtype == np.float32 for o in out)
    objects = np.empty(len(tone_clips), dtype=object)
    objects[:] = tone_clips
    out = est.transform(objects)
    assert isinstance(out, np.ndarray) and out.dtype == object
    batch = np.stack([c[:6000] for c in tone_clips]).astype(np.float64)
    out = est.transform(batch)
    if isinstance(est, SilenceTrimmer):  # lengths may differ: ragged output is a list
        assert isinstance(out, (list, np.ndarray))
    else:
        assert isinstance(out, np.ndarray) and out.ndim == 2 and out.dtype == np.float64


def test_bad_input_names_the_clip():
    with pytest.raises(ValueError, match=r"X\[1\]"):
        Denoiser().fit_transform([np.zeros(100), np.array([np.nan, 1.0])])
    with pytest.raises(ValueError, match="Reshape your data"):
        Denoiser().fit_transform(np.zeros(100))


@pytest.mark.parametrize(
    "est",
    [Denoiser(method="median"), Denoiser(quiet_fraction=0), BandpassFilter(order=0),
     LoudnessNormalizer(method="ebu"), SilenceTrimmer(top_db=-1), FixedDuration(duration=0),
     FixedDuration(align="left")],
    ids=repr,
)
def test_bad_parameters_raise(est, tone_clips):
    with pytest.raises(InvalidParameterError):
        est.fit(tone_clips)


# -- Denoiser --------------------------------------------------------------------------------

@pytest.mark.parametrize("method, min_gain", [("gating", 8.0), ("wiener", 5.0)])
def test_denoiser_raises_snr_of_a_tone_in_white_noise(method, min_gain):
    clean, noisy = tone_bursts_in_noise(snr=0.0)
    out = Denoiser(method=method).fit_transform([noisy])[0]
    gain = snr_db(clean, out) - snr_db(clean, noisy)
    assert gain > min_gain  # measured: gating +13.6 dB, wiener +8.0 dB at 0 dB input


def test_denoiser_barely_touches_clean_speechlike_input():
    clean, _ = tone_bursts_in_noise(snr=0.0)
    out = denoise(clean + 1e-4 * np.random.default_rng(0).standard_normal(len(clean)))
    assert snr_db(clean, out) > 20


@pytest.mark.parametrize("method", ["gating", "wiener"])
def test_denoiser_measures_noise_beside_digital_silence(method):
    # Zero padding once gave the Wiener gain a zero noise estimate and NaN output, and left
    # gating nothing to remove: the noise must be measured in the frames that hold signal.
    clean, noisy = tone_bursts_in_noise(snr=0.0)
    zeros = np.zeros(8000)
    padded = np.concatenate([zeros, noisy, zeros])
    out = denoise(padded, method=method)
    assert np.all(np.isfinite(out))
    gain_padded = snr_db(clean, out[8000:-8000]) - snr_db(clean, noisy)
    gain_plain = snr_db(clean, denoise(noisy, method=method)) - snr_db(clean, noisy)
    assert gain_padded > gain_plain - 1.5  # frames straddling the padding measure it lower


def test_denoiser_keeps_an_all_zero_clip_zero():
    for method in ("gating", "wiener"):
        out = denoise(np.zeros(16000), method=method)
        assert np.all(out == 0)


def test_denoiser_hop_must_divide_n_fft(tone_clips):
    with pytest.raises(ValueError, match="multiple of hop_length"):
        Denoiser(n_fft=500, hop_length=128).fit(tone_clips)


# -- BandpassFilter --------------------------------------------------------------------------

def test_bandpass_removes_hum_keeps_voice_band_and_is_zero_phase():
    hum, voice = sine(30), sine(1000)
    out_hum = BandpassFilter(fmin=100, fmax=4000).fit_transform([hum])[0]
    out_voice = BandpassFilter(fmin=100, fmax=4000).fit_transform([voice])[0]
    mid = slice(2000, -2000)
    assert 20 * np.log10(np.std(out_hum[mid]) / np.std(hum[mid])) < -40
    assert abs(20 * np.log10(np.std(out_voice[mid]) / np.std(voice[mid]))) < 0.1
    # Zero phase: the filtered waveform lies on the input (a delay of even one sample at
    # 1 kHz would leave a difference of 0.2 at amplitude 0.5).
    assert np.max(np.abs(out_voice[mid] - voice[mid])) < 0.02


def test_bandpass_high_and_low_pass_and_short_clips():
    x = np.random.default_rng(0).standard_normal(3)
    assert BandpassFilter(fmin=None, fmax=2000).fit_transform([x])[0].shape == (3,)
    assert BandpassFilter(fmin=100, fmax=None).fit_transform([x])[0].shape == (3,)
    np.testing.assert_array_equal(BandpassFilter(fmin=None, fmax=None).fit_transform([x])[0], x)


@pytest.mark.parametrize("params", [dict(fmax=8000), dict(fmin=4000, fmax=3000)])
def test_bandpass_rejects_impossible_bands(params, tone_clips):
    with pytest.raises(ValueError, match="BandpassFilter"):
        BandpassFilter(**params).fit(tone_clips)


# -- LoudnessNormalizer ----------------------------------------------------------------------

def test_k_weighting_matches_bs1770_at_48k():
    expected = np.array([
        [1.53512485958697, -2.69169618940638, 1.19839281085285,
         1.0, -1.69065929318241, 0.73248077421585],
        [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621],
    ])
    np.testing.assert_allclose(k_weighting_sos(48000), expected, atol=1e-9)


def test_lufs_of_a_full_scale_1khz_sine_is_minus_3():
    # BS.1770: a 0 dBFS 997 Hz sine in one channel reads -3.01 LKFS.
    assert abs(integrated_loudness(sine(997, 5.0, 48000, amp=1.0), sr=48000) + 3.01) < 0.1


@pytest.mark.parametrize("method, target", [("peak", -3.0), ("rms", -25.0), ("lufs", -30.0)])
def test_loudness_normalizer_reaches_target(method, target):
    from sklearn_ser.preprocessing import level_db

    clips = [sine(300, amp=0.02), sine(800, amp=0.3) + 0.01 * sine(5000)]
    out = LoudnessNormalizer(method=method, target=target).fit_transform(clips)
    for clip in out:
        assert abs(level_db(clip, method=method, sr=SR) - target) < 0.05


def test_loudness_normalizer_never_clips_and_leaves_silence():
    out = LoudnessNormalizer(method="rms", target=0.0).fit_transform([sine(300, amp=0.1)])
    assert np.max(np.abs(out[0])) <= 1.0 + 1e-6
    with pytest.warns(AudioWarning, match="silent"):
        out = LoudnessNormalizer().fit_transform([np.zeros(1000)])
    assert not np.any(out[0])


# -- SilenceTrimmer, FixedDuration, split_windows --------------------------------------------

def test_silence_trimmer_trims_leading_and_trailing_silence():
    voice = sine(200, 0.5)
    clip = np.concatenate([np.zeros(SR), voice, np.zeros(SR // 2)])
    out = SilenceTrimmer().fit_transform([clip])[0]
    assert len(voice) <= len(out) <= len(voice) + 512
    assert np.max(np.abs(out)) == np.max(np.abs(voice))


def test_silence_trimmer_never_trims_to_nothing():
    with pytest.warns(AudioWarning, match="min_duration"):
        out = SilenceTrimmer(min_duration=0.2).fit_transform([np.zeros(SR), np.zeros(100)])
    assert len(out[0]) == int(0.2 * SR)
    assert len(out[1]) == 100  # shorter than the minimum: kept whole


@pytest.mark.parametrize("align, expected", [("start", [1, 2, 3, 0, 0]),
                                             ("center", [0, 1, 2, 3, 0]),
                                             ("end", [0, 0, 1, 2, 3])])
def test_fixed_duration_pads_where_asked(align, expected):
    est = FixedDuration(sr=1, duration=5, align=align)
    assert est.fit_transform([np.array([1.0, 2.0, 3.0])])[0].tolist() == expected


def test_fixed_duration_crops_and_wraps():
    x = np.arange(10.0)
    assert FixedDuration(sr=1, duration=4, align="center").fit_transform([x])[0].tolist() == [
        3, 4, 5, 6]
    assert FixedDuration(sr=1, duration=5, align="start", pad_mode="wrap").fit_transform(
        [np.array([1.0, 2.0])])[0].tolist() == [1, 2, 1, 2, 1]
    out = FixedDuration(duration=1.0).fit_transform(np.zeros((3, 8000)))
    assert out.shape == (3, 16000)


def test_split_windows_returns_windows_and_sources():
    clips = [np.arange(35.0), np.arange(5.0), np.arange(22.0)]
    windows, source = split_windows(clips, sr=1, duration=10, min_fraction=0.5)
    assert source.tolist() == [0, 0, 0, 0, 1, 2, 2]
    assert all(len(w) == 10 for w in windows)
    assert windows[3][:5].tolist() == [30, 31, 32, 33, 34] and not np.any(windows[3][5:])
    windows, source = split_windows(clips[:1], sr=1, duration=10, hop=5, min_fraction=1.0)
    assert [w[0] for w in windows] == [0, 5, 10, 15, 20, 25]
    with pytest.raises(ValueError, match="duration"):
        split_windows(clips, duration=0)


def test_denoiser_keeps_speech_when_the_quiet_frames_are_digital_zeros():
    """Studio clips start with exact zeros; they must not make the gate remove everything,
    and the room tone in the speech's pauses is what the gate removes."""
    from sklearn_ser.preprocessing import Denoiser

    rng = np.random.default_rng(3)
    t = np.arange(16000) / 16000
    voiced = (t % 0.5) < 0.3  # 0.3 s bursts, 0.2 s pauses
    room = 0.003 * rng.standard_normal(len(t))
    voice = 0.3 * np.sin(2 * np.pi * 200 * t) * voiced + room
    clip = np.concatenate([np.zeros(4000), voice, np.zeros(4000)]).astype(np.float32)
    out = Denoiser().fit_transform([clip])[0][4000:-4000]
    inner = voiced & (np.abs((t % 0.5) - 0.15) < 0.1)  # bursts, away from their edges
    pause = ~voiced & (np.abs((t % 0.5) - 0.4) < 0.05)
    assert np.sqrt(np.mean(out[inner] ** 2) / np.mean(voice[inner] ** 2)) > 0.8
    assert np.sqrt(np.mean(out[pause] ** 2) / np.mean(voice[pause] ** 2)) < 0.5
