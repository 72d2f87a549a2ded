"""OpenSmileExtractor: openSMILE's sets as an extractor over clips, and their model names."""

import pickle
import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.preprocessing import StandardScaler

from sklearn_ser.exceptions import AudioWarning
from sklearn_ser.features import FrameWise, OpenSmileExtractor, check_sequences

from conftest import SR, make_tone_clips


def test_missing_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "opensmile", None)  # makes `import opensmile` fail
    with pytest.raises(ImportError, match=r'pip install "sklearn-ser\[opensmile\]"'):
        OpenSmileExtractor().fit(make_tone_clips(2))


opensmile = pytest.importorskip("opensmile")


def test_functionals_are_opensmiles_own_values_and_names():
    clips = make_tone_clips(3)
    extractor = OpenSmileExtractor(feature_set="eGeMAPSv02").fit(clips)
    features = extractor.transform(clips)
    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                            feature_level=opensmile.FeatureLevel.Functionals)
    expected = np.vstack([smile.process_signal(c, SR).to_numpy() for c in clips])
    assert features.shape == (3, 88) and features.dtype == np.float64
    np.testing.assert_allclose(features, expected, rtol=1e-6)
    assert list(extractor.get_feature_names_out()) == smile.feature_names
    assert "loudness_sma3_amean" in extractor.get_feature_names_out()


def test_compare_set_and_pandas_output_carry_the_set_names():
    clips = make_tone_clips(2)
    frame = OpenSmileExtractor(feature_set="ComParE_2016").set_output(
        transform="pandas").fit_transform(clips)
    assert frame.shape == (2, 6373)
    assert frame.columns[0] == "audspec_lengthL1norm_sma_range"
    assert np.isfinite(frame.to_numpy()).all()


def test_each_clip_alone_equals_it_in_a_batch_and_in_parallel():
    clips = make_tone_clips(6)
    extractor = OpenSmileExtractor().fit(clips)
    together = extractor.transform(clips)
    alone = np.vstack([extractor.transform([c]) for c in clips[::-1]])[::-1]
    parallel = clone(extractor).set_params(n_jobs=2).fit(clips).transform(clips * 20)
    np.testing.assert_array_equal(together, alone)
    np.testing.assert_array_equal(parallel[: len(clips)], together)
    np.testing.assert_array_equal(parallel[-len(clips):], together)


def test_descriptors_are_nan_padded_frame_sequences():
    clips = make_tone_clips(4)
    extractor = OpenSmileExtractor(feature_level="lld").fit(clips)
    seq = extractor.transform(clips)
    X, mask = check_sequences(seq)  # the padding contract holds
    lengths = mask.sum(axis=1)
    assert seq.dtype == np.float32 and seq.shape == (4, extractor.max_frames_, 25)
    assert lengths.max() == extractor.max_frames_
    # 10 ms hops: a clip's frame count follows its duration.
    assert np.argsort(lengths).tolist() == np.argsort([len(c) for c in clips]).tolist()
    assert np.all(np.abs(lengths - np.array([len(c) for c in clips]) / (SR / 100)) <= 6)
    assert extractor.get_feature_names_out()[0] == "Loudness_sma3"
    scaled = FrameWise(StandardScaler()).fit_transform(seq)
    np.testing.assert_array_equal(np.isnan(scaled), np.isnan(seq))


def test_descriptor_deltas_and_max_frames_crop_long_clips():
    clips = make_tone_clips(3)
    seq = OpenSmileExtractor(feature_set="ComParE_2016", feature_level="lld_deltas",
                             max_frames=20).fit_transform(clips)
    assert seq.shape == (3, 20, 65)
    assert not np.isnan(seq).any()  # every clip is longer than 20 frames: cropped, no padding


def test_deltas_of_the_gemaps_family_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="defines no delta descriptors; use feature_level='lld'"):
        OpenSmileExtractor(feature_level="lld_deltas").fit(make_tone_clips(2))


def test_unknown_set_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="eGeMAPSv02"):
        OpenSmileExtractor(feature_set="eGeMAPS_v3").fit(make_tone_clips(2))


def test_short_and_silent_clips_warn_by_index_and_get_finite_features():
    clips = make_tone_clips(2) + [np.full(200, 0.1, dtype=np.float32), np.zeros(SR, np.float32)]
    extractor = OpenSmileExtractor().fit(clips)
    with pytest.warns(AudioWarning) as record:
        features = extractor.transform(clips)
    messages = " ".join(str(w.message) for w in record)
    assert "shorter than one analysis frame" in messages and "X[2]" in messages
    assert "silent" in messages and "X[3]" in messages
    assert np.isfinite(features).all()
    seq = OpenSmileExtractor(feature_level="lld").fit(clips[:2])
    with pytest.warns(AudioWarning):
        short = seq.transform(clips[2:3])
    assert check_sequences(short)[1].sum() >= 1  # a padded clip still has a real frame


def test_memory_extracts_each_clip_once_across_regrouped_folds(tmp_path, monkeypatch):
    calls = []
    original = opensmile.Smile.process_signal

    def counting(self, signal, sampling_rate, *args, **kwargs):
        calls.append(len(signal))
        return original(self, signal, sampling_rate, *args, **kwargs)

    monkeypatch.setattr(opensmile.Smile, "process_signal", counting)
    clips = make_tone_clips(6)
    extractor = OpenSmileExtractor(memory=str(tmp_path)).fit(clips)
    first = extractor.transform(clips[:4])
    assert len(calls) == 4
    again = extractor.transform(clips[2:] + clips[:2])  # another fold: 2 clips are new
    assert len(calls) == 6
    np.testing.assert_array_equal(again[-2:], first[:2])


def test_fitted_extractor_pickles_without_opensmile_objects():
    clips = make_tone_clips(2)
    extractor = OpenSmileExtractor().fit(clips)
    restored = pickle.loads(pickle.dumps(extractor))
    np.testing.assert_array_equal(restored.transform(clips), extractor.transform(clips))


# -- the benchmark's model names -------------------------------------------------------------

@pytest.mark.parametrize("name, set_name, classifier", [
    ("egemaps-svm", "eGeMAPSv02", "svc"),
    ("egemaps-lr-sn", "eGeMAPSv02", "logisticregression"),
    ("compare-svm-sn", "ComParE_2016", "svc"),
    ("compare-lr", "ComParE_2016", "logisticregression"),
])
def test_model_names_build_the_reference_pipelines(name, set_name, classifier):
    from sklearn_ser.pipelines import make_named_pipeline

    pipe = make_named_pipeline(name, sr=8000)
    steps = [step for step, _ in pipe.steps]
    expected = [name.split("-")[0], "guard"] + (
        ["speakernormalizer"] if name.endswith("-sn") else []) + ["scaler", classifier]
    assert steps == expected
    assert pipe.steps[0][1].get_params()["feature_set"] == set_name
    assert pipe.steps[0][1].sr == 8000
    if classifier == "svc":  # the published baselines' plain RBF SVC
        assert pipe[-1].get_params()["C"] == 1.0 and pipe[-1].kernel == "rbf"


@pytest.mark.slow
def test_egemaps_svm_sn_learns_speaker_independently(tmp_path):
    from sklearn_ser.datasets import make_emotional_speech
    from sklearn_ser.model_selection import evaluate
    from sklearn_ser.pipelines import make_named_pipeline

    corpus = make_emotional_speech(48, n_speakers=3, random_state=0)
    pipe = make_named_pipeline("egemaps-svm-sn", memory=str(tmp_path), random_state=0)
    report = evaluate(pipe, corpus.data, corpus.target, groups=corpus.groups, cv="loso")
    chance = 1 / len(np.unique(corpus.target))
    assert report.uar > chance + 0.2
