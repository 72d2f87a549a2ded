"""Speaker enrolment, profile files and few-shot adaptation of speaker-normalised recognisers."""

import warnings

import numpy as np
import pytest
import sklearn

from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.exceptions import SklearnSerWarning
from sklearn_ser.features import SpeakerNormalizer
from sklearn_ser.io import load_model, save_model
from sklearn_ser.pipelines import (
    adapt_to_speaker,
    enroll_speaker,
    load_profiles,
    make_classic_pipeline,
    make_fusion_pipeline,
    save_profiles,
)


@pytest.fixture(scope="module")
def corpus():
    data = make_emotional_speech(120, n_speakers=4, random_state=0)
    groups = np.asarray(data.groups)
    new = groups == np.unique(groups)[-1]
    return {
        "X": [c for c, n in zip(data.data, new) if not n], "y": data.target[~new],
        "groups": groups[~new], "new": [c for c, n in zip(data.data, new) if n],
        "new_y": data.target[new], "speaker": str(np.unique(groups)[-1]),
    }


def _fitted(corpus, features="mfcc"):
    pipe = make_classic_pipeline("svm", features=features, speaker_norm=True,
                                 noise_augmentation=None, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        return pipe.fit(corpus["X"], corpus["y"], groups=corpus["groups"])


def _predict(pipe, clips, speaker):
    with sklearn.config_context(enable_metadata_routing=True):
        return pipe.predict(clips, groups=np.full(len(clips), speaker, dtype=object))


@pytest.fixture(scope="module")
def fitted(corpus):
    return _fitted(corpus)


def test_normalizer_profile_merges_exactly_and_is_used_for_single_clips():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    norm = SpeakerNormalizer(profile_prior=0).fit(X, groups=np.repeat(["a", "b"], 20))
    new = rng.normal(loc=5.0, scale=2.0, size=(12, 3))
    norm.enroll(new[:4], "c").enroll(new[4:], "c", update=True)
    mean, scale = norm.profile_statistics("c")
    np.testing.assert_allclose(mean, new.mean(axis=0))
    np.testing.assert_allclose(scale, new.std(axis=0))
    # A single clip of an enrolled speaker gets the profile, with no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", SklearnSerWarning)
        one = norm.transform(new[:1], groups=["c"])
    np.testing.assert_allclose(one, (new[:1] - mean) / scale, rtol=1e-6)


def test_profile_prior_shrinks_towards_training_statistics():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 2))
    norm = SpeakerNormalizer(profile_prior=1e9).fit(X, groups=np.repeat(["a", "b"], 20))
    norm.enroll(rng.normal(loc=9.0, size=(3, 2)), "c")
    mean, scale = norm.profile_statistics("c")
    np.testing.assert_allclose(mean, norm.mean_, atol=1e-6)
    np.testing.assert_allclose(scale, norm.speaker_scale_, rtol=1e-6)


def _voices(rng, n_speakers=12, n_clips=40):
    """Feature 0 tells voices apart by level, feature 1 does not; feature 2's spread is the
    voice's own, feature 3's the same for every voice."""
    level = rng.normal(scale=5.0, size=n_speakers)
    spread = np.exp(rng.normal(scale=1.0, size=n_speakers))
    rows = []
    for s in range(n_speakers):
        noise = rng.normal(size=(n_clips, 4))
        rows.append(np.column_stack([level[s] + noise[:, 0], noise[:, 1],
                                     spread[s] * noise[:, 2], noise[:, 3]]))
    return np.vstack(rows), np.repeat(np.arange(n_speakers), n_clips)


def test_auto_prior_trusts_few_clips_where_voices_differ():
    rng = np.random.default_rng(2)
    X, groups = _voices(rng)
    norm = SpeakerNormalizer().fit(X, groups=groups)
    assert norm.profile_prior == "auto"
    # Level: voices differ far more than clips do, so a few clips are trusted.
    assert norm.mean_prior_[0] < 0.2 < 20 < norm.mean_prior_[1]
    # Spread: a voice's own spread is trusted where voices differ in it.
    assert norm.variance_prior_[2] < 5 < 20 < norm.variance_prior_[3]
    new = np.array([12.0, 3.0, 0.0, 0.0]) + rng.normal(size=(3, 4)) * [1, 1, 4, 1]
    norm.enroll(new, "new")
    mean, scale = norm.profile_statistics("new")
    assert abs(mean[0] - new[:, 0].mean()) < 0.5  # the enrolment clips' own level
    assert abs(mean[1] - norm.mean_[1]) < 0.3  # the training level
    own = new[:, 2].std()
    assert abs(scale[2] - own) < abs(norm.speaker_scale_[2] - own)
    np.testing.assert_allclose(scale[3], norm.speaker_scale_[3], rtol=0.1)


def test_auto_prior_without_speakers_falls_back_to_five_clips():
    rng = np.random.default_rng(3)
    X, groups = _voices(rng)
    for fitted in (SpeakerNormalizer().fit(X), SpeakerNormalizer().fit(X[:40], groups=groups[:40])):
        np.testing.assert_array_equal(fitted.mean_prior_, 5.0)
        np.testing.assert_array_equal(fitted.variance_prior_, 5.0)


def test_auto_prior_is_finite_for_constant_features():
    X = np.column_stack([np.ones(40), np.repeat([0.0, 1.0], 20)])
    norm = SpeakerNormalizer().fit(X, groups=np.repeat(["a", "b"], 20))
    assert np.all(np.isfinite(norm.mean_prior_)) and np.all(np.isfinite(norm.variance_prior_))
    norm.enroll(X[:3], "c")
    assert np.all(np.isfinite(norm.transform(X[:2], groups=["c", "c"])))


def test_enrolment_jitter_standardises_a_share_by_other_clips_of_the_speaker():
    rng = np.random.default_rng(4)
    X = rng.normal(loc=3.0, scale=2.0, size=(300, 2))
    groups = np.repeat(np.arange(100), 3)
    plain = SpeakerNormalizer(profile_prior=0).fit(X, groups=groups).transform(X, groups=groups)
    norm = SpeakerNormalizer(profile_prior=0, enrolment_jitter=0.4, random_state=0)
    out = norm.fit_transform(X, groups=groups)
    jittered = np.flatnonzero(~np.isclose(out, plain).all(axis=1))
    assert 0.3 < len(jittered) / len(X) < 0.5
    # Three clips per speaker: a jittered clip's profile is its speaker's two other clips.
    for i in jittered[:20]:
        others = [j for j in np.flatnonzero(groups == groups[i]) if j != i]
        mean, scale = X[others].mean(axis=0), X[others].std(axis=0)
        np.testing.assert_allclose(out[i], (X[i] - mean) / scale, rtol=1e-9)
    # fit then transform is untouched, and a seed repeats the draws.
    np.testing.assert_array_equal(norm.transform(X, groups=groups), plain)
    again = SpeakerNormalizer(profile_prior=0, enrolment_jitter=0.4, random_state=0)
    np.testing.assert_array_equal(again.fit_transform(X, groups=groups), out)


def test_enrolment_jitter_skips_speakers_too_small_for_a_profile():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(20, 2))
    groups = np.repeat(np.arange(10), 2)  # two clips: no two others to draw a profile from
    norm = SpeakerNormalizer(enrolment_jitter=1.0, random_state=0)
    np.testing.assert_array_equal(norm.fit_transform(X, groups=groups),
                                  norm.transform(X, groups=groups))


def test_enrolment_jitter_reaches_the_normaliser_in_a_fitted_pipeline(corpus):
    pipe = make_classic_pipeline("svm", features="mfcc", speaker_norm=True,
                                 noise_augmentation=None, random_state=0)
    pipe.set_params(speakernormalizer__enrolment_jitter=0.5)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe.fit(corpus["X"], corpus["y"], groups=corpus["groups"])
    plain = _fitted(corpus)
    # The scaler after the normaliser was fitted on the jittered training features.
    assert not np.allclose(pipe.named_steps["scaler"].scale_, plain.named_steps["scaler"].scale_)
    enrolled = enroll_speaker(pipe, corpus["speaker"], corpus["new"][:5])
    predicted = _predict(enrolled, corpus["new"][5:], corpus["speaker"])
    assert len(predicted) == len(corpus["new"]) - 5


def test_enrolment_with_all_clips_equals_full_speaker_normalisation(corpus, fitted):
    pipe = _fitted(corpus)
    pipe.set_params(speakernormalizer__profile_prior=0)
    clips = corpus["new"]
    full = _predict(pipe, clips, corpus["speaker"])  # the speaker's own clips in X
    enroll_speaker(pipe, corpus["speaker"], clips)
    one_by_one = [_predict(pipe, [clip], corpus["speaker"])[0] for clip in clips]
    assert list(one_by_one) == list(full)


def test_enrolled_single_clips_differ_from_training_statistics(corpus):
    pipe = _fitted(corpus)
    clips = [0.05 * c for c in corpus["new"]]  # a quiet speaker: far from the training level
    enroll_speaker(pipe, "quiet", clips[:6])
    norm = pipe.named_steps["speakernormalizer"]
    Z = pipe[:-3].transform(clips[6:8])
    with pytest.warns(SklearnSerWarning, match="no groups"):
        plain = norm.transform(Z)
    enrolled = norm.transform(Z, groups=["quiet", "quiet"])
    assert not np.allclose(plain, enrolled)


def test_enrolment_refuses_too_few_and_warns_about_silent_clips(corpus, fitted):
    clips = corpus["new"]
    with pytest.raises(ValueError, match="Speaker 'solo'.*at least 2"):
        enroll_speaker(fitted, "solo", clips[:1])
    silent = [np.zeros(16000, dtype=np.float32), np.zeros(8000, dtype=np.float32)]
    with pytest.warns(SklearnSerWarning, match="Speaker 'mute'.*silent"):
        with pytest.raises(ValueError, match="Speaker 'mute'"):
            enroll_speaker(fitted, "mute", silent + clips[:1])
    with pytest.warns(SklearnSerWarning, match=r"Speaker 'mixed'.*\[0\].*silent"):
        enroll_speaker(fitted, "mixed", silent[:1] + clips[:3])
    assert fitted.named_steps["speakernormalizer"].profiles_["mixed"]["n_clips"] == 3


def test_enrolment_needs_a_speaker_normaliser(corpus):
    pipe = make_classic_pipeline("nb", features="mfcc", noise_augmentation=None,
                                 speed_perturbation=None, reduce=None)
    pipe.fit(corpus["X"], corpus["y"])
    with pytest.raises(ValueError, match="no SpeakerNormalizer"):
        enroll_speaker(pipe, "x", corpus["new"][:3])


def test_profiles_survive_save_model_and_profile_files(corpus, fitted, tmp_path):
    enroll_speaker(fitted, corpus["speaker"], corpus["new"][:5])
    expected = _predict(fitted, corpus["new"][5:9], corpus["speaker"])
    save_model(fitted, tmp_path / "m.sser")
    loaded = load_model(tmp_path / "m.sser")
    assert list(_predict(loaded, corpus["new"][5:9], corpus["speaker"])) == list(expected)

    assert save_profiles(fitted, tmp_path / "p.sprof", speakers=[corpus["speaker"]]) == [
        corpus["speaker"]]
    fresh = _fitted(corpus)
    assert load_profiles(fresh, tmp_path / "p.sprof") == [corpus["speaker"]]
    assert list(_predict(fresh, corpus["new"][5:9], corpus["speaker"])) == list(expected)


def test_profile_from_another_model_is_refused(corpus, fitted, tmp_path):
    enroll_speaker(fitted, "someone", corpus["new"][:4])
    save_profiles(fitted, tmp_path / "p.sprof", speakers=["someone"])
    other = _fitted(corpus, features="lpcc")
    with pytest.raises(ValueError, match="other features.*Enrol the speakers again"):
        load_profiles(other, tmp_path / "p.sprof")
    (tmp_path / "junk.sprof").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a speaker profile file"):
        load_profiles(fitted, tmp_path / "junk.sprof")


def test_fusion_of_normalised_members_is_enrolled_in_every_member(corpus):
    fusion = make_fusion_pipeline(["svm-sn", "lr-sn"], features="mfcc", random_state=0)
    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fusion.fit(corpus["X"], corpus["y"], groups=corpus["groups"])
    enroll_speaker(fusion, "new", corpus["new"][:4])
    from sklearn_ser.features import find_speaker_normalizers

    sites = find_speaker_normalizers(fusion)
    assert len(sites) == 2 and all("new" in n.profiles_ for _, _, n in sites)
    assert len(_predict(fusion, corpus["new"][4:5], "new")) == 1


def test_adapt_to_speaker_refits_only_the_classifier(corpus, fitted):
    clips, labels = corpus["new"][:8], corpus["new_y"][:8]
    scaler = fitted.named_steps["scaler"]
    adapted = adapt_to_speaker(fitted, clips, labels, speaker="new", X_train=corpus["X"],
                               y_train=corpus["y"], groups_train=corpus["groups"], weight=50.0)
    assert adapted is not fitted and "new" not in fitted.named_steps["speakernormalizer"].profiles_
    np.testing.assert_array_equal(adapted.named_steps["scaler"].mean_, scaler.mean_)
    # Heavily weighted, the new clips are learnt: their own labels come back.
    assert np.mean(_predict(adapted, clips, "new") == labels) >= 0.75
    with pytest.raises(ValueError, match="8 clips but 3 labels"):
        adapt_to_speaker(fitted, clips, labels[:3], speaker="new", X_train=corpus["X"],
                         y_train=corpus["y"], groups_train=corpus["groups"])
