"""Tests of sklearn_ser.io: load_audio and AudioLoader, on audio synthesised into tmp_path."""

import pickle
import struct
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from sklearn.base import clone
from sklearn.utils import estimator_checks

from sklearn_ser.exceptions import AudioLoadError, AudioWarning
from sklearn_ser.io import AudioLoader, load_audio
from sklearn_ser.utils._compat import InvalidParameterError


def tone(sr=16000, seconds=0.25, freq=440.0, amplitude=0.5):
    """A sine wave as float64 in [-amplitude, amplitude]."""
    t = np.arange(int(sr * seconds)) / sr
    return amplitude * np.sin(2 * np.pi * freq * t)


def write(path, data, sr=16000, **kwargs):
    sf.write(path, data, sr, **kwargs)
    return str(path)


def peak_frequency(y, sr):
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return np.fft.rfftfreq(len(y), 1 / sr)[np.argmax(spectrum)]


def wav_with_list_chunk(path, samples, sr):
    """A 16-bit mono WAV with a LIST/INFO chunk between fmt and data, built byte by byte."""
    pcm = (samples * 32767).astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, sr, sr * 2, 2, 16)
    name = b"sklearn_ser test\x00"  # 17 bytes: odd, so the chunk needs a pad byte
    info = b"INFO" + b"INAM" + struct.pack("<I", len(name)) + name + b"\x00"
    body = (
        b"WAVE"
        + b"fmt " + struct.pack("<I", len(fmt)) + fmt
        + b"LIST" + struct.pack("<I", len(info)) + info
        + b"data" + struct.pack("<I", len(pcm)) + pcm
    )
    Path(path).write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return str(path)


# ---------------------------------------------------------------------------- load_audio


@pytest.mark.parametrize(
    "subtype, tolerance",
    [("PCM_16", 1e-4), ("PCM_24", 1e-6), ("PCM_32", 1e-6), ("FLOAT", 1e-7), ("PCM_U8", 1e-2)],
)
def test_load_audio_pcm_widths(tmp_path, subtype, tolerance):
    x = tone()
    path = write(tmp_path / f"{subtype}.wav", x, subtype=subtype)
    y = load_audio(path)
    assert y.dtype == np.float32 and y.shape == x.shape
    assert np.abs(y).max() <= 1.0
    np.testing.assert_allclose(y, x, atol=tolerance)


def test_load_audio_accepts_pathlike_and_flac(tmp_path):
    x = tone()
    path = Path(write(tmp_path / "a.flac", x))
    np.testing.assert_allclose(load_audio(path), x, atol=1e-4)


def test_load_audio_stereo_mixdown(tmp_path):
    x = tone()
    stereo = np.stack([x, -0.5 * x], axis=1)
    path = write(tmp_path / "stereo.wav", stereo, subtype="FLOAT")
    np.testing.assert_allclose(load_audio(path), 0.25 * x, atol=1e-6)
    both = load_audio(path, mono=False)
    assert both.shape == (len(x), 2) and both.dtype == np.float32
    assert load_audio(write(tmp_path / "mono.wav", x), mono=False).shape == (len(x), 1)


@pytest.mark.parametrize("native_sr", [44100, 8000])
def test_load_audio_resamples(tmp_path, native_sr):
    path = write(tmp_path / "tone.wav", tone(sr=native_sr, seconds=1.0, freq=1000), native_sr)
    y = load_audio(path, sr=16000)
    assert y.shape == (16000,) and y.dtype == np.float32
    assert abs(peak_frequency(y, 16000) - 1000) < 2
    assert np.abs(y).max() <= 1.0


def test_load_audio_sr_none_keeps_native_rate(tmp_path):
    path = write(tmp_path / "tone.wav", tone(sr=22050), 22050)
    assert load_audio(path, sr=None).shape == (int(22050 * 0.25),)


def test_load_audio_aiff_named_wav(tmp_path):
    x = tone()
    path = write(tmp_path / "really_aiff.wav", x, format="AIFF", subtype="PCM_16")
    assert sf.info(path).format == "AIFF"
    np.testing.assert_allclose(load_audio(path), x, atol=1e-4)


def test_load_audio_wav_with_list_chunk(tmp_path):
    x = tone()
    path = wav_with_list_chunk(tmp_path / "list.wav", x, 16000)
    np.testing.assert_allclose(load_audio(path), x, atol=1e-4)


def test_load_audio_falls_back_to_librosa(tmp_path, monkeypatch):
    # Stand in for a format soundfile cannot read: make sf.read fail, librosa.load must decode.
    import sklearn_ser.io._audio as audio

    def refuse(*args, **kwargs):
        raise sf.LibsndfileError(1, prefix="Error opening file: ")

    monkeypatch.setattr(audio.sf, "read", refuse)
    x = tone(sr=8000)
    path = write(tmp_path / "a.wav", x, 8000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # librosa's own fallback chatter is silenced
        y = load_audio(path, sr=None)
    np.testing.assert_allclose(y, x, atol=1e-4)


def test_load_audio_missing_file(tmp_path):
    path = tmp_path / "nowhere.wav"
    with pytest.raises(FileNotFoundError, match="nowhere.wav"):
        load_audio(path)


def test_load_audio_folder(tmp_path):
    with pytest.raises(IsADirectoryError, match="load_folder"):
        load_audio(tmp_path)


def test_load_audio_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioLoadError, match=r"empty\.wav.*empty \(0 bytes\)"):
        load_audio(path)


def test_load_audio_zero_frames(tmp_path):
    path = write(tmp_path / "silent.wav", np.zeros(0))
    with pytest.raises(AudioLoadError, match=r"silent\.wav.*no audio frames"):
        load_audio(path)


@pytest.mark.parametrize("content", [b"this is not audio" * 50, b"RIFF\x24\x00\x00\x00WAVEfmt "])
def test_load_audio_corrupt_file(tmp_path, content):
    path = tmp_path / "corrupt.wav"
    path.write_bytes(content)
    with pytest.raises(AudioLoadError, match=r"corrupt\.wav.*convert it"):
        load_audio(path)


def test_load_audio_clips_float_overload(tmp_path):
    path = write(tmp_path / "loud.wav", 1.5 * tone(amplitude=1.0), subtype="FLOAT")
    with pytest.warns(AudioWarning, match=r"loud\.wav.*clipped"):
        y = load_audio(path)
    assert np.abs(y).max() == pytest.approx(1.0)


@pytest.mark.parametrize("sr, error", [(0, ValueError), (-5, ValueError), (1.5, TypeError)])
def test_load_audio_bad_sr(tmp_path, sr, error):
    path = write(tmp_path / "a.wav", tone())
    with pytest.raises(error, match="sr must be"):
        load_audio(path, sr=sr)


def test_load_audio_bad_path_type():
    with pytest.raises(TypeError, match="str or os.PathLike"):
        load_audio(123)


# ---------------------------------------------------------------------------- AudioLoader


@pytest.fixture
def paths(tmp_path):
    """Three files of different rates, lengths and channel counts."""
    return [
        write(tmp_path / "a.wav", tone(seconds=0.25)),
        write(tmp_path / "b.wav", tone(sr=44100, seconds=0.5), 44100),
        write(tmp_path / "c.wav", np.stack([tone(), tone()], axis=1)),
    ]


def test_audio_loader_transform(paths):
    clips = AudioLoader().fit_transform(paths)
    assert isinstance(clips, list)
    assert [c.shape for c in clips] == [(4000,), (8000,), (4000,)]
    assert all(c.dtype == np.float32 and c.ndim == 1 for c in clips)


def test_audio_loader_parallel_equals_serial(paths):
    serial = AudioLoader(n_jobs=1).transform(paths)
    parallel = AudioLoader(n_jobs=2).transform(paths)
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)


def test_audio_loader_accepts_arrays_series_and_pathlike(paths):
    expected = AudioLoader().transform(paths)
    for X in (np.asarray(paths), pd.Series(paths), [Path(p) for p in paths], tuple(paths)):
        for a, b in zip(AudioLoader().transform(X), expected):
            np.testing.assert_array_equal(a, b)


def test_audio_loader_sr_none_and_mono_false(paths):
    clips = AudioLoader(sr=None, mono=False).transform(paths)
    assert [c.shape for c in clips] == [(4000, 1), (22050, 1), (4000, 2)]


def test_audio_loader_verbose_progress_bar(paths, capsys):
    AudioLoader(verbose=1).transform(paths)
    assert "Loading audio" in capsys.readouterr().err


def test_audio_loader_process_backend(paths, tmp_path):
    # Threads are only joblib's default here; worker processes must give the same clips,
    # and the warnings they cannot show must reach the caller.
    from joblib import parallel_config

    loud = write(tmp_path / "loud.wav", 1.5 * tone(amplitude=1.0), subtype="FLOAT")
    expected = AudioLoader().transform(paths)
    with parallel_config(backend="loky"), pytest.warns(AudioWarning, match="loud.wav"):
        clips = AudioLoader(n_jobs=2).transform(paths + [loud])
    for a, b in zip(clips, expected):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "X, error, match",
    [
        ("a.wav", TypeError, r"single path.*\[path\]"),
        (Path("a.wav"), TypeError, "single path"),
        ([], ValueError, "0 paths"),
        (["a.wav", 3], TypeError, r"X\[1\]"),
        (["a.wav", b"b.wav"], TypeError, r"X\[1\]"),
        ([np.zeros(10)], TypeError, r"X\[0\]"),
        (np.array([["a.wav", "b.wav"]]), ValueError, "1-D sequence"),
    ],
)
def test_audio_loader_bad_input(X, error, match):
    with pytest.raises(error, match=match):
        AudioLoader().transform(X)


def test_audio_loader_missing_and_broken_files(paths, tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        AudioLoader().transform(paths + [str(tmp_path / "missing.wav")])
    (tmp_path / "broken.wav").write_bytes(b"garbage" * 30)
    with pytest.raises(AudioLoadError, match="broken.wav"):
        AudioLoader(n_jobs=2).transform(paths + [str(tmp_path / "broken.wav")])


@pytest.mark.parametrize(
    "params", [{"sr": 0}, {"sr": 16000.0}, {"mono": "yes"}, {"n_jobs": 1.5}, {"verbose": -1}]
)
def test_audio_loader_bad_params(params, paths):
    with pytest.raises(InvalidParameterError):
        AudioLoader(**params).fit(paths)
    with pytest.raises(InvalidParameterError):
        AudioLoader(**params).transform(paths)


def test_audio_loader_fit_returns_self_and_stores_nothing(paths):
    loader = AudioLoader(sr=8000)
    before = dict(vars(loader))
    assert loader.fit(paths) is loader
    assert loader.fit() is loader
    assert vars(loader) == before


def test_audio_loader_clone_pickle_get_params(paths):
    loader = AudioLoader(sr=8000, mono=False, n_jobs=2, verbose=0)
    assert loader.get_params() == {"sr": 8000, "mono": False, "n_jobs": 2, "verbose": 0}
    copy = clone(loader)
    assert copy is not loader and copy.get_params() == loader.get_params()
    restored = pickle.loads(pickle.dumps(loader))
    assert restored.get_params() == loader.get_params()
    for a, b in zip(restored.transform(paths), loader.transform(paths)):
        np.testing.assert_array_equal(a, b)


def test_audio_loader_tags():
    tags = AudioLoader().__sklearn_tags__()
    assert tags.requires_fit is False
    assert tags.input_tags.two_d_array is False
    assert tags.input_tags.string is True
    assert not hasattr(AudioLoader(), "set_output")


@pytest.mark.parametrize(
    "check",
    [
        "check_estimator_cloneable",
        "check_no_attributes_set_in_init",
        "check_parameters_default_constructible",
        "check_get_params_invariance",
        "check_set_params",
        "check_do_not_raise_errors_in_init_or_set_params",
        "check_mixin_order",
        "check_valid_tag_types",
    ],
)
def test_audio_loader_data_free_checks(check):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(estimator_checks, check)("AudioLoader", AudioLoader())


def test_audio_loader_in_pipeline(paths):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    lengths = FunctionTransformer(lambda clips: np.array([[len(c)] for c in clips]))
    out = make_pipeline(AudioLoader(sr=8000), lengths).fit_transform(paths)
    np.testing.assert_array_equal(out.ravel(), [2000, 4000, 2000])


def test_audio_warnings_point_at_the_caller(tmp_path):
    path = write(tmp_path / "loud.wav", 1.5 * tone(amplitude=1.0), subtype="FLOAT")
    for load in (load_audio, lambda p: AudioLoader().transform([p])):
        with pytest.warns(AudioWarning) as record:
            load(path)
        assert record[0].filename == __file__


def test_stream_audio_blocks_join_to_load_audio(tmp_path):
    from sklearn_ser.io import stream_audio

    stereo = np.c_[tone(seconds=0.5), tone(seconds=0.5, freq=300.0)]
    path = write(tmp_path / "stereo.wav", stereo, subtype="FLOAT")
    blocks = list(stream_audio(path, sr=16000, block_size=3000))
    assert [len(b) for b in blocks] == [3000, 3000, 2000]
    np.testing.assert_allclose(np.concatenate(blocks), load_audio(path), atol=1e-7)
    # Another rate: decoded and resampled whole, as load_audio does, then cut.
    resampled = np.concatenate(list(stream_audio(path, sr=8000, block_size=1500)))
    np.testing.assert_array_equal(resampled, load_audio(path, sr=8000))
    native = np.concatenate(list(stream_audio(Path(path), sr=None, block_size=5000)))
    np.testing.assert_allclose(native, load_audio(path), atol=1e-7)


def test_stream_audio_checks_as_load_audio_does(tmp_path):
    from sklearn_ser.io import stream_audio

    loud = write(tmp_path / "loud.wav", 1.5 * tone(amplitude=1.0), subtype="FLOAT")
    with pytest.warns(AudioWarning, match="clipped"):
        assert max(np.abs(b).max() for b in stream_audio(loud, block_size=1000)) <= 1.0
    bad = tone()
    bad[2500] = np.nan
    nan_path = write(tmp_path / "nan.wav", bad, subtype="FLOAT")
    with pytest.raises(AudioLoadError, match="nan.wav"):
        list(stream_audio(nan_path, block_size=1000))
    with pytest.raises(FileNotFoundError):
        list(stream_audio(tmp_path / "missing.wav"))
    with pytest.raises(ValueError, match="block_size"):
        list(stream_audio(loud, block_size=0))
