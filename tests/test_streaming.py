"""StreamingRecognizer: windows, ring buffer, silence, smoothing, sources and the mic path."""

import sys
import types

import numpy as np
import pytest
import soundfile as sf
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import NotFittedError

from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.exceptions import AudioWarning
from sklearn_ser.pipelines import make_classic_pipeline, make_deep_pipeline
from sklearn_ser.streaming import StreamingRecognizer, score_clips
from sklearn_ser.streaming._recognizer import StreamingWarning

SR = 16000


@pytest.fixture(scope="module")
def corpus():
    return make_emotional_speech(24, n_speakers=3, random_state=0)


@pytest.fixture(scope="module")
def model(corpus):
    return make_classic_pipeline("lr", features="mfcc").fit(corpus.data, corpus.target)


@pytest.fixture(scope="module")
def audio(corpus):
    return np.concatenate(corpus.data[:3])  # several seconds of "speech"


class CountingClassifier(DummyClassifier):
    """A prior classifier that counts the clips it scores and checks their length."""

    def predict_proba(self, X):
        self.scored_ = getattr(self, "scored_", 0) + len(X)
        return super().predict_proba(X)


def _counting(labels=("anger", "calm", "calm")):
    return CountingClassifier(strategy="prior").fit([[0]] * len(labels), list(labels))


def test_windows_tile_the_stream_and_the_tail_is_flushed():
    rng = np.random.default_rng(0)
    clf = _counting()
    recognizer = StreamingRecognizer(clf, window=1.0, hop=0.5, n_threads=None)
    audio = (0.1 * rng.normal(size=int(3.2 * SR))).astype(np.float32)
    events = list(recognizer.stream(audio, chunk=0.3))
    assert [(e.start, e.end) for e in events] == [
        (0.0, 1.0), (0.5, 1.5), (1.0, 2.0), (1.5, 2.5), (2.0, 3.0), (2.2, 3.2)]
    assert all(e.is_speech and e.label == "calm" for e in events)
    assert events[0].probabilities == pytest.approx({"anger": 1 / 3, "calm": 2 / 3})
    assert clf.scored_ == 6
    # A stream shorter than one window is scored once as a whole; a tiny one is not scored.
    assert [(e.start, e.end) for e in recognizer.reset().stream(audio[:8000])] == [(0.0, 0.5)]
    (tiny,) = recognizer.reset().stream(audio[:1000])
    assert not tiny.is_speech and tiny.proba is None


@pytest.mark.parametrize("sizes", [[1], [37, 4001], [16000 * 5], [250, 1, 70000]])
def test_any_chunking_gives_the_probabilities_of_the_windows_themselves(model, audio, sizes):
    recognizer = StreamingRecognizer(model, window=1.5, hop=0.4)
    expected = list(recognizer.stream(audio, chunk=1.0))
    recognizer.reset()
    events, pos, i = [], 0, 0
    while pos < len(audio):
        size = sizes[i % len(sizes)]
        events += recognizer.process(audio[pos:pos + size])
        pos, i = pos + size, i + 1
    events += recognizer.flush()
    assert [(e.start, e.end) for e in events] == [(e.start, e.end) for e in expected]
    for event, reference in zip(events, expected):
        assert_allclose(event.proba, reference.proba)
    # The ring buffer hands each window's own samples to the pipeline.
    for event in events[:: max(1, len(events) // 4)]:
        window = audio[int(round(event.start * SR)):int(round(event.end * SR))]
        assert_allclose(event.raw_proba, model.predict_proba([window])[0], rtol=1e-10)


def test_silent_windows_are_reported_but_not_scored(audio):
    clf = _counting()
    silence = np.zeros(3 * SR, dtype=np.float32)
    stream = np.concatenate([audio[:2 * SR], silence, audio[:2 * SR]])
    events = list(StreamingRecognizer(clf, window=1.0, hop=0.5, n_threads=None).stream(stream))
    ends = [e.end for e in events]
    assert ends == [1.0 + 0.5 * k for k in range(len(events))]  # no hole in the time line
    silent = [e for e in events if not e.is_speech]
    assert [(e.start, e.end) for e in silent] == [(2.0, 3.0), (2.5, 3.5), (3.0, 4.0),
                                                  (3.5, 4.5), (4.0, 5.0)]
    assert all(e.label is None and e.proba is None and e.level_db == -np.inf for e in silent)
    assert clf.scored_ == len(events) - len(silent)
    # Without a threshold, silence is scored too.
    clf = _counting()
    list(StreamingRecognizer(clf, window=1.0, hop=0.5, silence_threshold_db=None,
                             n_threads=None).stream(stream))
    assert clf.scored_ == len(events)


def test_smoothing(model, audio):
    raw = list(StreamingRecognizer(model, window=1.0, hop=0.25).stream(audio))
    probas = np.array([e.raw_proba for e in raw])
    assert len(probas) > 5 and not np.allclose(probas, probas[0])
    assert all(e.proba is e.raw_proba for e in raw)

    ema = list(StreamingRecognizer(model, window=1.0, hop=0.25, smoothing="ema", alpha=0.3)
               .stream(audio))
    expected = probas[0]
    for event, p in zip(ema, probas):
        expected = p if event is ema[0] else 0.3 * p + 0.7 * expected
        assert_allclose(event.raw_proba, p)
        assert_allclose(event.proba, expected)
        assert event.label == model.classes_[np.argmax(expected)]

    mean3 = list(StreamingRecognizer(model, window=1.0, hop=0.25, smoothing=3).stream(audio))
    for k, event in enumerate(mean3):
        assert_allclose(event.proba, probas[max(0, k - 2):k + 1].mean(axis=0))


def test_deep_pipeline_scores_equal_predict_proba(corpus):
    pipe = make_deep_pipeline("cnn", channels=(4,), n_hidden=8, max_epochs=2,
                              validation_fraction=None, device="cpu", random_state=0)
    pipe.fit(corpus.data, corpus.target)
    clips = [corpus.data[0][:SR], corpus.data[1][: SR // 2]]
    # score_clips cuts the padding frames before the network: same numbers, less work.
    assert_allclose(score_clips(pipe, clips), pipe.predict_proba(clips), rtol=1e-5, atol=1e-7)
    events = list(StreamingRecognizer(pipe, window=1.0, hop=0.5).stream(corpus.data[2]))
    window = corpus.data[2][SR // 2:SR // 2 + SR]
    assert_allclose(events[1].raw_proba, pipe.predict_proba([window])[0], rtol=1e-5, atol=1e-7)
    # The fast path runs the fitted module itself: its layout is left alone, and a change of
    # its weights in place reaches the scores.
    import torch

    conv = next(p for p in pipe[-1].net_.module_.parameters() if p.ndim == 4)
    assert conv.is_contiguous()
    before = score_clips(pipe, clips)
    with torch.no_grad():
        for param in pipe[-1].net_.module_.parameters():
            param.mul_(1.5)
    after = score_clips(pipe, clips)
    assert not np.allclose(after, before)
    assert_allclose(after, pipe.predict_proba(clips), rtol=1e-5, atol=1e-7)


def test_file_sources_at_the_stream_rate_and_another(model, audio, tmp_path):
    recognizer = StreamingRecognizer(model, window=1.0, hop=0.5)
    expected = list(recognizer.stream(audio))
    sf.write(tmp_path / "same.wav", audio, SR, subtype="FLOAT")
    events = list(recognizer.reset().stream(tmp_path / "same.wav", chunk=0.7))
    assert len(events) == len(expected)
    assert_allclose([e.proba for e in events], [e.proba for e in expected])
    sf.write(tmp_path / "stereo8k.wav", np.c_[audio[::2], audio[::2]], SR // 2)
    resampled = list(recognizer.reset().stream(str(tmp_path / "stereo8k.wav")))
    # Same windows; the flushed tail may move by a sample (an odd length halved and doubled).
    assert len(resampled) == len(expected)
    assert [e.start for e in resampled[:-1]] == [e.start for e in expected[:-1]]
    assert resampled[-1].end == pytest.approx(expected[-1].end, abs=1.5 / SR)
    with pytest.raises(FileNotFoundError):
        list(recognizer.stream(tmp_path / "missing.wav"))


def test_chunk_iterables_stereo_and_integer_pcm(model, audio):
    recognizer = StreamingRecognizer(model, window=1.0, hop=0.5)
    expected = [e.proba for e in recognizer.stream(audio)]
    chunks = (audio[i:i + 1234] for i in range(0, len(audio), 1234))
    assert_allclose([e.proba for e in recognizer.reset().stream(chunks)], expected)
    # (n, 2) and (2, n) cannot be told apart: a stereo array is refused with the fix.
    stereo = np.c_[audio, audio]
    with pytest.raises(ValueError, match=r"x\.mean\(axis=1\)"):
        list(recognizer.reset().stream(stereo))
    assert_allclose([e.proba for e in recognizer.reset().stream(stereo.mean(axis=1))],
                    expected)
    pcm = np.round(audio * 32767).astype(np.int16)
    as_float = [e.proba for e in recognizer.reset().stream((pcm / 32768).astype(np.float32))]
    with pytest.warns(AudioWarning, match="integer PCM"):
        from_pcm = [e.proba for e in recognizer.reset().stream(pcm)]
    assert_allclose(from_pcm, as_float, rtol=1e-6)
    with pytest.raises(ValueError, match="NaN"):
        recognizer.process(np.full(10, np.nan))
    with pytest.raises(TypeError, match="source"):
        list(recognizer.stream(42))


def test_microphone_path_with_a_fake_sounddevice(model, audio, monkeypatch):
    fake = types.ModuleType("sounddevice")

    class InputStream:
        def __init__(self, *, samplerate, channels, dtype, blocksize, device, callback):
            assert samplerate == SR and channels == 1 and dtype == "float32"
            self.blocksize, self.callback = blocksize, callback

        def __enter__(self):  # the sound card delivers the audio block by block
            for i in range(0, len(audio), self.blocksize):
                self.callback(audio[i:i + self.blocksize, None], self.blocksize, None, None)
            return self

        def __exit__(self, *exc):
            return False

    fake.InputStream = InputStream
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    recognizer = StreamingRecognizer(model, window=1.0, hop=0.5)
    live = list(recognizer.from_microphone(duration=2.0, chunk=0.1))
    expected = list(recognizer.reset().stream(audio[:2 * SR]))
    assert [(e.start, e.end) for e in live] == [(e.start, e.end) for e in expected]
    assert_allclose([e.proba for e in live], [e.proba for e in expected])


def test_microphone_without_sounddevice_says_what_to_install(model, monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)
    recognizer = StreamingRecognizer(model)
    with pytest.raises(ImportError, match="pip install sounddevice"):
        next(recognizer.from_microphone(duration=1.0))


@pytest.mark.parametrize("params, match", [
    (dict(window=0), "window"), (dict(hop=-1), "hop"), (dict(smoothing="median"), "smoothing"),
    (dict(smoothing=0), "smoothing"), (dict(alpha=0), "alpha"), (dict(n_threads=0), "n_threads"),
    (dict(silence_threshold_db="loud"), "silence_threshold_db"), (dict(sr=0), "sr"),
])
def test_bad_parameters(model, params, match):
    with pytest.raises(ValueError, match=match):
        StreamingRecognizer(model, **params)


def test_unfitted_pipeline_and_models_without_probabilities(corpus, audio):
    with pytest.raises(NotFittedError):
        StreamingRecognizer(make_classic_pipeline("lr", features="mfcc"))
    svm = make_classic_pipeline("svm", features="mfcc").fit(corpus.data, corpus.target)
    with pytest.warns(StreamingWarning, match="probability=True"):
        recognizer = StreamingRecognizer(svm, window=1.0, hop=0.5)
    events = list(recognizer.stream(audio[:2 * SR]))
    for event in events:
        assert set(event.proba.tolist()) <= {0.0, 1.0} and event.proba.sum() == 1
        assert_array_equal(event.label, svm.predict([audio[int(event.start * SR):
                                                           int(event.end * SR)]])[0])


def _blas_threads():
    from threadpoolctl import threadpool_info

    return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}


def test_limit_threads_caps_blas_and_registered_pools_and_restores_them(monkeypatch):
    from sklearn_ser.streaming import limit_threads
    from sklearn_ser.utils import _threads, register_thread_pool

    monkeypatch.setattr(_threads, "_POOLS", [])
    pools = {"a": 4, "b": 1}
    for name in pools:
        register_thread_pool(lambda name=name: pools[name],
                             lambda n, name=name: pools.update({name: n}))
    before_blas = _blas_threads()
    with pytest.raises(RuntimeError):  # restored even when the block fails
        with limit_threads(2):
            assert pools == {"a": 2, "b": 2} and _blas_threads() <= {1}
            raise RuntimeError
    assert pools == {"a": 4, "b": 1} and _blas_threads() == before_blas
    with limit_threads(None):  # leaves everything alone
        assert pools == {"a": 4, "b": 1} and _blas_threads() == before_blas


def test_limit_threads_caps_torch_once_the_networks_are_imported():
    import torch

    import sklearn_ser.neural  # noqa: F401 - registers torch's pool
    from sklearn_ser.streaming import limit_threads

    before = torch.get_num_threads()
    with limit_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


# -- speaker profiles and online adaptation -----------------------------------------------


@pytest.fixture(scope="module")
def sn_model(corpus):
    import sklearn

    pipe = make_classic_pipeline("lr", features="mfcc", speaker_norm=True,
                                 noise_augmentation=None)
    with sklearn.config_context(enable_metadata_routing=True):
        return pipe.fit(corpus.data, corpus.target, groups=corpus.groups)


def _windows_proba(model, audio, **params):
    recognizer = StreamingRecognizer(model, window=1.0, hop=0.5, silence_threshold_db=None,
                                     n_threads=None, **params)
    return np.array([e.raw_proba for e in recognizer.stream(audio)])


def test_enrolled_speaker_stream_uses_the_profile(sn_model, corpus, audio):
    import copy

    from sklearn_ser.pipelines import enroll_speaker

    model = enroll_speaker(copy.deepcopy(sn_model), "me", corpus.data[3:9])
    with pytest.raises(ValueError, match="Speaker 'nobody' is not enrolled"):
        StreamingRecognizer(model, speaker="nobody")
    with pytest.warns(StreamingWarning, match="pooled training statistics"):
        plain = _windows_proba(model, audio)
    profiled = _windows_proba(model, audio, speaker="me")
    assert plain.shape == profiled.shape and not np.allclose(plain, profiled)


def test_adaptation_follows_its_warm_up_rule(sn_model, corpus, audio):
    import copy

    import sklearn

    from sklearn_ser.pipelines import enroll_speaker

    with pytest.warns(StreamingWarning):
        plain = _windows_proba(sn_model, audio)
    warmup = 3
    adapted = _windows_proba(sn_model, audio, adapt=True, warmup=warmup)
    # Before the warm-up: the training statistics; from it on, the stream's own.
    assert_allclose(adapted[:warmup - 1], plain[:warmup - 1])
    assert not np.allclose(adapted[warmup:], plain[warmup:])
    # The caller's model learnt nothing.
    assert "__stream__" not in sn_model.named_steps["speakernormalizer"].profiles_
    # Window t after the warm-up equals enrolling windows 1..t and scoring window t.
    windows = [audio[i * 8000:i * 8000 + 16000] for i in range(warmup + 1)]
    model = enroll_speaker(copy.deepcopy(sn_model), "w", windows, min_level_db=None)
    with sklearn.config_context(enable_metadata_routing=True):
        expected = model.predict_proba(windows[-1:], groups=["w"])
    assert_allclose(adapted[warmup], expected[0], rtol=1e-5, atol=1e-8)


def test_adaptation_refuses_no_normaliser_and_bad_warmup(sn_model):
    with pytest.raises(ValueError, match="warmup must be an int of at least 2"):
        StreamingRecognizer(sn_model, adapt=True, warmup=1)
    with pytest.raises(ValueError, match="has no speaker normaliser"):
        StreamingRecognizer(DummyClassifier().fit([[0]], ["a"]), adapt=True)


def test_a_fusion_adapts_every_member(corpus, audio):
    """A fusion of -sn members adapts each member's normaliser: window t after the warm-up
    equals enrolling windows 1..t in a copy of the fusion and scoring window t."""
    import copy

    import sklearn

    from sklearn_ser.features import find_speaker_normalizers
    from sklearn_ser.pipelines import enroll_speaker, make_fusion_pipeline

    fusion = make_fusion_pipeline(["lr-sn", "nb-sn"], method="voting", features=("mfcc",))
    fusion.set_params(**{f"{m}__noise": "passthrough" for m in ("lr-sn", "nb-sn")})
    with sklearn.config_context(enable_metadata_routing=True):
        fusion.fit(corpus.data, corpus.target, groups=corpus.groups)
    assert len(find_speaker_normalizers(fusion)) == 2
    with pytest.warns(StreamingWarning):
        plain = _windows_proba(fusion, audio)
    warmup = 3
    adapted = _windows_proba(fusion, audio, adapt=True, warmup=warmup)
    assert_allclose(adapted[:warmup - 1], plain[:warmup - 1])
    assert not np.allclose(adapted[warmup:], plain[warmup:])
    assert all("__stream__" not in n.profiles_ for _, _, n in find_speaker_normalizers(fusion))
    windows = [audio[i * 8000:i * 8000 + 16000] for i in range(warmup + 1)]
    model = enroll_speaker(copy.deepcopy(fusion), "w", windows, min_level_db=None)
    with sklearn.config_context(enable_metadata_routing=True):
        expected = model.predict_proba(windows[-1:], groups=["w"])
    assert_allclose(adapted[warmup], expected[0], rtol=1e-5, atol=1e-8)


def test_cli_stream_with_a_profile_file(sn_model, corpus, audio, tmp_path, capsys):
    import copy

    from sklearn_ser.cli import main
    from sklearn_ser.io import save_model
    from sklearn_ser.pipelines import enroll_speaker, save_profiles

    save_model(sn_model, tmp_path / "m.sser")
    enrolled = enroll_speaker(copy.deepcopy(sn_model), "me", corpus.data[3:8])
    save_profiles(enrolled, tmp_path / "me.sprof")
    sf.write(tmp_path / "a.wav", audio, SR)
    code = main(["stream", str(tmp_path / "m.sser"), str(tmp_path / "a.wav"), "--json",
                 "--profile", str(tmp_path / "me.sprof"), "--adapt", "--warmup", "3"])
    out = capsys.readouterr()
    assert code == 0 and '"label"' in out.out and "pooled training" not in out.err
    code = main(["stream", str(tmp_path / "m.sser"), str(tmp_path / "a.wav"),
                 "--profile", str(tmp_path / "missing.sprof")])
    assert code == 2 and "No such profile file" in capsys.readouterr().err


# -- regressors: continuous values per window ---------------------------------------------


@pytest.fixture(scope="module")
def arousal_model(corpus):
    from sklearn_ser.pipelines import make_regression_pipeline

    import sklearn

    with sklearn.config_context(enable_metadata_routing=True):
        return make_regression_pipeline("ridge", features="mfcc").fit(
            corpus.data, corpus.arousal, groups=corpus.groups)


def test_a_regressor_streams_the_values_of_its_windows(arousal_model, audio):
    quiet = np.r_[np.zeros(SR), audio]  # one silent second first
    recognizer = StreamingRecognizer(arousal_model, window=1.0, hop=0.5, n_threads=None)
    assert recognizer.classes_ is None
    events = list(recognizer.stream(quiet))
    silent = [e for e in events if not e.is_speech]
    spoken = [e for e in events if e.is_speech]
    assert silent and all(e.value is None and e.label is None for e in silent)
    assert spoken and all(e.label is None and e.proba is None and e.probabilities == {}
                          for e in spoken)
    assert all(isinstance(e.value, float) and e.value == e.raw_value for e in spoken)
    windows = [quiet[int(e.start * SR):int(e.end * SR)] for e in spoken]
    assert_allclose([e.value for e in spoken], arousal_model.predict(windows), rtol=1e-6)


def test_a_regressors_values_are_smoothed_like_probabilities(arousal_model, audio):
    recognizer = StreamingRecognizer(arousal_model, window=1.0, hop=0.5, smoothing="ema",
                                     alpha=0.25, n_threads=None, silence_threshold_db=None)
    events = list(recognizer.stream(audio))
    raw = np.array([e.raw_value for e in events])
    expected = [raw[0]]
    for value in raw[1:]:
        expected.append(0.25 * value + 0.75 * expected[-1])
    assert_allclose([e.value for e in events], expected, rtol=1e-12)
    assert np.std(raw) > 0  # the windows differ, so the smoothing was tested


def test_a_multi_target_regressor_streams_arrays(corpus, audio):
    from sklearn_ser.pipelines import make_regression_pipeline

    import sklearn

    model = make_regression_pipeline("ridge", features="mfcc", rescale=False)
    with sklearn.config_context(enable_metadata_routing=True):
        model.fit(corpus.data, np.column_stack([corpus.arousal, corpus.valence]),
                  groups=corpus.groups)
    events = list(StreamingRecognizer(model, window=1.0, hop=0.5, n_threads=None,
                                      silence_threshold_db=None).stream(audio))
    assert all(e.value.shape == (2,) for e in events)
    windows = [audio[int(e.start * SR):int(e.end * SR)] for e in events]
    assert_allclose(np.array([e.value for e in events]), model.predict(windows), rtol=1e-6)


def test_score_clips_of_a_regressor_matches_predict_and_names_bad_clips(arousal_model, corpus):
    clips = list(corpus.data[:4]) + [np.array([], dtype=np.float32)]
    with pytest.warns(StreamingWarning, match=r"1 of 5 clips could not be scored.*clips\[4\]"):
        values = score_clips(arousal_model, clips)
    assert values.shape == (5,) and np.isnan(values[4])
    assert_allclose(values[:4], arousal_model.predict(corpus.data[:4]), rtol=1e-6)


def test_a_speaker_normalised_regressor_adapts_to_the_stream(corpus, audio):
    import copy

    import sklearn

    from sklearn_ser.pipelines import enroll_speaker, make_regression_pipeline

    model = make_regression_pipeline("ridge", features="mfcc", speaker_norm=True)
    with sklearn.config_context(enable_metadata_routing=True):
        model.fit(corpus.data, corpus.arousal, groups=corpus.groups)
    warmup = 3
    recognizer = StreamingRecognizer(model, window=1.0, hop=0.5, n_threads=None,
                                     silence_threshold_db=None, adapt=True, warmup=warmup)
    adapted = [e.raw_value for e in recognizer.stream(audio)]
    # Window t after the warm-up equals enrolling windows 1..t and predicting window t.
    windows = [audio[i * 8000:i * 8000 + 16000] for i in range(warmup + 1)]
    enrolled = enroll_speaker(copy.deepcopy(model), "w", windows, min_level_db=None)
    with sklearn.config_context(enable_metadata_routing=True):
        expected = enrolled.predict(windows[-1:], groups=["w"])
    assert_allclose(adapted[warmup], expected[0], rtol=1e-5, atol=1e-8)


def test_a_network_regressor_scores_its_windows_without_the_padding(corpus):
    from sklearn_ser.pipelines import make_regression_pipeline

    pipe = make_regression_pipeline("cnn", channels=(4,), n_hidden=8, max_epochs=2,
                                    validation_fraction=None, device="cpu", random_state=0)
    pipe.fit(corpus.data, corpus.arousal)
    clips = [corpus.data[0][:SR], corpus.data[1][: SR // 2]]
    assert_allclose(score_clips(pipe, clips), pipe.predict(clips), rtol=1e-5, atol=1e-6)
    events = list(StreamingRecognizer(pipe, window=1.0, hop=0.5).stream(corpus.data[2]))
    window = corpus.data[2][SR // 2:SR // 2 + SR]
    assert events[1].raw_value == pytest.approx(float(pipe.predict([window])[0]), rel=1e-5)
