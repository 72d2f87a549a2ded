"""Tests of the synthetic emotional speech corpus (datasets/_synthetic.py)."""

import librosa
import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import LeaveOneGroupOut, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklearn_ser.datasets._synthetic import (
    CANONICAL_EMOTIONS,
    EMODB_EMOTIONS,
    make_emotional_speech,
)


@pytest.fixture(scope="module")
def corpus():
    return make_emotional_speech(56, n_speakers=4, random_state=0)


def mfcc_stats(clips, sr):
    """Per-clip mean and standard deviation of 20 MFCCs: the classic baseline."""
    feats = [librosa.feature.mfcc(y=x, sr=sr, n_mfcc=20) for x in clips]
    return np.array([np.r_[m.mean(axis=1), m.std(axis=1)] for m in feats])


def voiced_f0(clip, sr):
    """Median YIN F0 over the loud (voiced) frames of a clip."""
    f0 = librosa.yin(clip, fmin=60, fmax=500, sr=sr, frame_length=1024, hop_length=256)
    rms = librosa.feature.rms(y=clip, frame_length=1024, hop_length=256)[0][: len(f0)]
    return np.median(f0[: len(rms)][rms > 0.3 * rms.max()])


# ---------------------------------------------------------------- shape and types


def test_bunch_fields(corpus):
    n = 56
    assert set(corpus) >= {"data", "target", "target_names", "groups", "frame", "sr", "DESCR"}
    assert isinstance(corpus.data, list) and len(corpus.data) == n
    assert isinstance(corpus.target, np.ndarray) and corpus.target.shape == (n,)
    assert isinstance(corpus.groups, np.ndarray) and corpus.groups.shape == (n,)
    assert all(isinstance(t, str) for t in corpus.target)
    assert all(isinstance(g, str) for g in corpus.groups)
    assert corpus.sr == 16000 and isinstance(corpus.sr, int)
    assert list(corpus.target_names) == list(EMODB_EMOTIONS)
    assert "source-filter" in corpus.DESCR


def test_frame(corpus):
    frame = corpus.frame
    assert isinstance(frame, pd.DataFrame) and len(frame) == len(corpus.data)
    for column in ["emotion", "speaker", "gender", "f0_mean", "duration", "syllable_rate",
                   "loudness_db", "jitter", "shimmer", "breathiness"]:
        assert column in frame.columns
    np.testing.assert_array_equal(frame["emotion"], corpus.target)
    np.testing.assert_array_equal(frame["speaker"], corpus.groups)
    np.testing.assert_allclose(frame["duration"], [len(x) / corpus.sr for x in corpus.data])
    assert set(frame["gender"]) == {"male", "female"}
    assert frame["f0_mean"].between(60, 500).all()


def test_clips_are_float32_audio(corpus):
    for x in corpus.data:
        assert isinstance(x, np.ndarray) and x.ndim == 1 and x.dtype == np.float32
        assert np.isfinite(x).all()
        assert np.abs(x).max() <= 1.0
        assert np.abs(x).max() > 0.01  # not silent


def test_lengths_vary_within_bounds():
    corpus = make_emotional_speech(14, n_speakers=2, duration=(0.5, 1.0), sr=8000,
                                   random_state=1)
    lengths = np.array([len(x) for x in corpus.data])
    assert lengths.min() >= 0.5 * 8000 and lengths.max() <= 1.0 * 8000
    assert len(set(lengths)) > 1
    assert corpus.sr == 8000


def test_scalar_duration_gives_equal_lengths():
    corpus = make_emotional_speech(7, n_speakers=1, duration=0.4, random_state=0)
    assert {len(x) for x in corpus.data} == {int(0.4 * 16000)}


# ---------------------------------------------------------------- determinism


def test_same_random_state_same_corpus(corpus):
    again = make_emotional_speech(56, n_speakers=4, random_state=0)
    assert len(again.data) == len(corpus.data)
    for a, b in zip(corpus.data, again.data):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(corpus.target, again.target)
    np.testing.assert_array_equal(corpus.groups, again.groups)
    pd.testing.assert_frame_equal(corpus.frame, again.frame)


def test_random_state_instance_is_accepted():
    a = make_emotional_speech(7, n_speakers=1, random_state=np.random.RandomState(3))
    b = make_emotional_speech(7, n_speakers=1, random_state=3)
    for x, y in zip(a.data, b.data):
        np.testing.assert_array_equal(x, y)


def test_other_random_state_other_corpus(corpus):
    other = make_emotional_speech(56, n_speakers=4, random_state=1)
    same = [len(a) == len(b) and np.array_equal(a, b) for a, b in zip(corpus.data, other.data)]
    assert not any(same)


# ---------------------------------------------------------------- emotions and speakers


def test_emotion_subset():
    corpus = make_emotional_speech(12, n_speakers=2, emotions=["calm", "surprise", "anger"],
                                   random_state=0)
    assert set(corpus.target) == {"calm", "surprise", "anger"}
    assert list(corpus.target_names) == ["calm", "surprise", "anger"]


def test_every_canonical_emotion_is_accepted():
    corpus = make_emotional_speech(9, n_speakers=3, emotions=CANONICAL_EMOTIONS,
                                   duration=0.3, random_state=0)
    assert set(corpus.target) == set(CANONICAL_EMOTIONS)


def test_unknown_emotion_lists_the_valid_names():
    with pytest.raises(ValueError, match="angry") as info:
        make_emotional_speech(10, emotions=["angry", "sadness"])
    for name in CANONICAL_EMOTIONS:
        assert name in str(info.value)


def test_speakers(corpus):
    assert sorted(set(corpus.groups)) == [f"synthetic:{i:02d}" for i in range(1, 5)]
    counts = pd.Series(corpus.groups).value_counts()
    assert counts.max() - counts.min() <= 1
    genders = corpus.frame.groupby("speaker")["gender"].nunique()
    assert (genders == 1).all()  # a speaker keeps one gender


def test_classes_balanced():
    corpus = make_emotional_speech(100, n_speakers=3, duration=0.2, random_state=0)
    counts = pd.Series(corpus.target).value_counts()
    assert len(counts) == 7 and counts.max() - counts.min() <= 1
    # Every speaker gets every emotion.
    per_speaker = pd.crosstab(corpus.groups, corpus.target)
    assert (per_speaker > 0).all().all()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 6}, "n_samples"),
        ({"n_samples": 2.5}, "n_samples"),
        ({"n_speakers": 0}, "n_speakers"),
        ({"sr": 0}, "sr"),
        ({"sr": -16000}, "sr"),
        ({"duration": (2.0, 1.0)}, "duration"),
        ({"duration": (0.0, 1.0)}, "duration"),
        ({"duration": -1.0}, "duration"),
        ({"duration": "long"}, "duration"),
        ({"noise_level": -0.1}, "noise_level"),
        ({"emotions": []}, "emotions"),
        ({"emotions": "anger"}, "list"),
        ({"emotions": ["anger", "anger"]}, "duplicates"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_emotional_speech(**{"n_samples": 14, **kwargs})


# ---------------------------------------------------------------- speech-likeness


def test_high_arousal_voice_is_higher_than_sadness():
    corpus = make_emotional_speech(16, n_speakers=2, emotions=["anger", "sadness"],
                                   duration=1.0, random_state=0)
    f0 = np.array([voiced_f0(x, corpus.sr) for x in corpus.data])
    anger, sadness = f0[corpus.target == "anger"], f0[corpus.target == "sadness"]
    assert anger.mean() > 1.1 * sadness.mean()
    # The generator's own record agrees with what YIN hears.
    frame = corpus.frame
    assert (frame.loc[frame.emotion == "anger", "f0_mean"].mean()
            > frame.loc[frame.emotion == "sadness", "f0_mean"].mean())


def test_speaker_grouped_baseline_learns_but_not_perfectly():
    corpus = make_emotional_speech(140, n_speakers=4, duration=(1.0, 1.5), random_state=0)
    X = mfcc_stats(corpus.data, corpus.sr)
    model = make_pipeline(StandardScaler(), SVC())
    scores = cross_val_score(model, X, corpus.target, groups=corpus.groups,
                             cv=LeaveOneGroupOut(), scoring="balanced_accuracy")
    chance = 1 / len(corpus.target_names)
    assert 1.5 * chance < scores.mean() < 0.98


# ------------------------------------------------------------- continuous targets


def test_seed_zero_corpus_is_unchanged():
    # Many tests and a committed benchmark rely on the audio and labels of a seed: the
    # continuous targets must not draw from the generator's stream.
    corpus = make_emotional_speech(14, n_speakers=2, random_state=0)
    assert [len(x) for x in corpus.data] == [32806, 25946, 33653, 41596, 45187, 41727, 33434,
                                             25570, 44951, 43847, 44573, 26548, 39061, 27000]
    assert corpus.target.tolist() == ["fear", "boredom", "sadness", "anger", "disgust",
                                      "neutral", "neutral", "happiness", "anger", "fear",
                                      "happiness", "disgust", "boredom", "sadness"]
    rms = [np.sqrt(np.mean(x.astype(float) ** 2)) for x in corpus.data]
    np.testing.assert_allclose(rms, [0.0435075, 0.0681113, 0.0330429, 0.066576, 0.0506503,
                                     0.0464077, 0.0554013, 0.0798175, 0.1391812, 0.0743309,
                                     0.0741727, 0.0291634, 0.0334841, 0.0234067], rtol=1e-5)


def test_continuous_targets_in_bunch_and_frame(corpus):
    for name in ("arousal", "valence", "intensity"):
        values = corpus[name]
        assert values.dtype == float and values.shape == (len(corpus.data),)
        np.testing.assert_array_equal(corpus.frame[name], values)
    assert corpus.arousal.min() >= -1 and corpus.arousal.max() <= 1
    assert corpus.valence.min() >= -1 and corpus.valence.max() <= 1
    assert corpus.intensity.min() >= 0 and corpus.intensity.max() <= 1


def test_continuous_targets_follow_the_circumplex_and_vary_per_clip():
    corpus = make_emotional_speech(140, n_speakers=4, random_state=1)
    frame = corpus.frame
    means = frame.groupby("emotion")[["arousal", "valence", "intensity"]].mean()
    assert means.loc["anger", "arousal"] > means.loc["neutral", "arousal"] > \
        means.loc["sadness", "arousal"]
    assert means.loc["happiness", "valence"] > 0 > means.loc["disgust", "valence"]
    assert means.loc["neutral", "intensity"] < means.drop("neutral")["intensity"].min()
    # Ground truth per clip, not per category: within an emotion the arousal moves with the
    # clip's own loudness (the speaker's habits aside).
    neutral = frame[frame["emotion"] == "neutral"]
    assert neutral["arousal"].nunique() == len(neutral)
    within = frame.groupby("speaker")["loudness_db"].transform(lambda s: s - s.mean())
    for emotion, rows in frame.assign(level=within).groupby("emotion"):
        assert np.corrcoef(rows["level"], rows["arousal"])[0, 1] > 0.2, emotion
