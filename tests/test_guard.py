"""FeatureRangeGuard: clips far outside the training range are named, never altered."""

import csv
import io
import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from numpy.testing import assert_array_equal
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklearn_ser.cli import main
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.exceptions import OutOfRangeWarning, SklearnSerWarning
from sklearn_ser.features import FeatureRangeGuard
from sklearn_ser.features._guard import catch_out_of_range, find_guards, flagged_mask
from sklearn_ser.io import save_model
from sklearn_ser.pipelines import make_classic_pipeline, make_deep_pipeline
from sklearn_ser.streaming import StreamingRecognizer

SR = 16000


def _out_of_range_warnings(call, *args):
    """Run ``call(*args)``; return its result and the OutOfRangeWarnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call(*args)
    return result, [w.message for w in caught if issubclass(w.category, OutOfRangeWarning)]


def _far_off(clip):
    """What the guard is for: digital silence, and the clip a thousand times too loud."""
    return [np.zeros_like(clip), np.clip(1000 * clip, -1, 1).astype(np.float32)]


@pytest.fixture(scope="module")
def corpus():
    return make_emotional_speech(24, n_speakers=3, emotions=["anger", "neutral", "sadness"],
                                 random_state=0)


@pytest.fixture(scope="module")
def pipelines(corpus):
    """The same recogniser with and without the guard, fitted on 18 clips (no noisy copies:
    they widen the training range, see test_noisy_copies_widen_the_guarded_range)."""
    def build(guard):
        return make_classic_pipeline("lr", features="mfcc", speed_perturbation=None,
                                     noise_augmentation=None, guard=guard).fit(
            corpus.data[:18], corpus.target[:18])

    return build(True), build(False)


# -- the transformer -----------------------------------------------------------------------


def test_transform_returns_its_input_and_names_far_off_rows_in_one_warning():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    guard = FeatureRangeGuard().fit(X)
    assert guard.tolerance_ == 100.0 and guard.sequences_ is False
    X_new = rng.normal(size=(30, 5))
    X_new[[4, 17], [2, 0]] += 1e4
    X_new[17, 3] -= 1e3
    out, caught = _out_of_range_warnings(guard.transform, X_new)
    assert out is X_new and len(caught) == 1
    warning = caught[0]
    assert isinstance(warning, SklearnSerWarning)
    assert warning.indices.tolist() == [4, 17]
    assert warning.features == [("x2",), ("x0", "x3")]  # worst first
    assert "2 of 30 clip(s)" in str(warning) and "clips [4, 17]" in str(warning)
    assert_array_equal(guard.out_of_range(X_new), np.isin(np.arange(30), [4, 17]))
    table = guard.explain(X_new)
    assert list(table.columns) == ["clip", "feature", "excess"]
    assert table[["clip", "feature"]].values.tolist() == [[4, "x2"], [17, "x0"], [17, "x3"]]
    assert (table["excess"] > 500).all()
    # In range: no warning, and explain has no row.
    _, caught = _out_of_range_warnings(guard.transform, X)
    assert caught == [] and guard.explain(X).empty
    # The attributes survive pickling (a joblib worker's warning).
    copy = pickle.loads(pickle.dumps(warning))
    assert copy.indices.tolist() == [4, 17] and copy.features == warning.features


def test_the_rule_is_tolerance_scales_beyond_the_training_range():
    X = np.column_stack([np.linspace(0.0, 10.0, 101), np.full(101, 5.0)])
    guard = FeatureRangeGuard(tolerance=2.0).fit(X)
    scale = (7.5 - 2.5) / 1.3489795003921634  # the interquartile range in sigma units
    assert guard.scale_[0] == pytest.approx(scale) and guard.scale_[1] == 1.0  # constant
    assert guard.data_min_.tolist() == [0.0, 5.0] and guard.data_max_.tolist() == [10.0, 5.0]
    probe = np.array([[10 + 1.9 * scale, 5.0], [10 + 2.1 * scale, 5.0], [-2.1 * scale, 5.0],
                      [5.0, 7.5], [5.0, 6.9]])
    assert guard.out_of_range(probe).tolist() == [False, True, True, True, False]
    assert guard.excess(probe)[1, 0] == pytest.approx(2.1)


def test_nan_is_left_out_of_the_statistics_and_never_flagged():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 3))
    X[::5, 1] = np.nan
    X[:, 2] = np.nan  # never observed
    guard = FeatureRangeGuard().fit(X)
    assert np.isfinite(guard.data_max_[:2]).all() and np.isnan(guard.data_max_[2])
    probe = np.array([[0.0, np.nan, 1e9], [np.nan, 0.0, 0.0]])
    _, caught = _out_of_range_warnings(guard.transform, probe)
    assert caught == []
    with pytest.raises(ValueError, match="infinity"):
        guard.transform(np.array([[0.0, np.inf, 0.0]]))


def test_feature_names_of_a_dataframe_pass_through_and_name_the_culprits():
    X = pd.DataFrame({"f0_mean": np.arange(20.0), "loudness": np.arange(20.0) % 3})
    guard = FeatureRangeGuard().fit(X)
    assert guard.get_feature_names_out().tolist() == ["f0_mean", "loudness"]
    probe = pd.DataFrame({"f0_mean": [5.0, 5.0], "loudness": [1.0, 1e5]})
    _, (warning,) = _out_of_range_warnings(guard.transform, probe)
    assert warning.features == [("loudness",)] and "loudness" in str(warning)
    guard.set_output(transform="pandas")
    out, _ = _out_of_range_warnings(guard.transform, probe)
    assert list(out.columns) == ["f0_mean", "loudness"]


def test_bad_parameters_and_shapes():
    with pytest.raises(ValueError, match="tolerance"):
        FeatureRangeGuard(tolerance=-1.0).fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="tolerance"):
        FeatureRangeGuard(tolerance="wide").fit(np.ones((3, 2)))
    guard = FeatureRangeGuard().fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="2 features"):
        guard.transform(np.ones((3, 4)))
    with pytest.raises(ValueError, match="3-D frame sequences"):
        FeatureRangeGuard().fit(np.ones((3, 4, 2))).transform(np.ones((3, 2)))
    with pytest.raises(ValueError, match="max_features"):
        guard.explain(np.ones((3, 2)), max_features=0)


# -- frame sequences -------------------------------------------------------------------------


def _sequences(rng, n_clips, n_frames=30, n_coeffs=4):
    X = rng.normal(size=(n_clips, n_frames, n_coeffs)).astype(np.float32)
    lengths = rng.integers(10, n_frames + 1, size=n_clips)
    for i, n in enumerate(lengths):
        X[i, n:] = np.nan
    return X, lengths


def test_sequences_use_real_frames_and_the_median_frame_of_each_clip():
    rng = np.random.default_rng(2)
    X, lengths = _sequences(rng, 40)
    guard = FeatureRangeGuard().fit(X)
    assert guard.sequences_ and guard.tolerance_ == 3.0 and guard.n_features_in_ == 4
    real = X[~np.isnan(X).all(axis=2)]
    assert_array_equal(guard.data_max_, real.max(axis=0))
    probe, probe_lengths = _sequences(rng, 4)
    n = probe_lengths
    probe[0, 0, 1] = 1e4  # one odd frame: the median frame is ordinary
    probe[1, : n[1] // 2 + 1, 2] = 1e4  # more than half of the frames far off
    probe[2, : n[2], 3] = -1e4  # all of them
    out, caught = _out_of_range_warnings(guard.transform, probe)
    assert out is probe
    (warning,) = caught
    assert warning.indices.tolist() == [1, 2]
    assert warning.features == [("x2",), ("x3",)]
    assert guard.out_of_range(probe).tolist() == [False, True, True, False]
    with pytest.raises(ValueError, match="coefficients per frame"):
        guard.transform(probe[:, :, :3])


def test_deep_pipeline_guards_its_frame_sequences(corpus):
    pipe = make_deep_pipeline("cnn", n_mels=16, max_frames=80, channels=(4,), n_hidden=4,
                              max_epochs=1, speed_perturbation=None, device="cpu",
                              random_state=0)
    assert [name for name, _ in pipe.steps] == ["logmel", "guard", "framewise",
                                                "cnnclassifier"]
    pipe.fit(corpus.data[:12], corpus.target[:12])
    clips = [corpus.data[20], *_far_off(corpus.data[20]), corpus.data[21]]
    proba, caught = _out_of_range_warnings(pipe.predict_proba, clips)
    assert [w.indices.tolist() for w in caught] == [[1, 2]]
    pipe.set_params(guard="passthrough")
    unguarded, caught = _out_of_range_warnings(pipe.predict_proba, clips)
    assert caught == []
    assert_array_equal(proba, unguarded)


# -- the ready-made pipelines ----------------------------------------------------------------


def test_in_range_clips_raise_no_warning(corpus, pipelines):
    guarded, _ = pipelines
    _, caught = _out_of_range_warnings(guarded.predict, corpus.data)
    assert caught == []


def test_far_off_clips_are_named_and_predictions_do_not_change(corpus, pipelines):
    guarded, unguarded = pipelines
    assert "guard" in guarded.named_steps and "guard" not in unguarded.named_steps
    clips = [*corpus.data[18:21], *_far_off(corpus.data[18]), corpus.data[21]]
    labels, caught = _out_of_range_warnings(guarded.predict, clips)
    assert [w.indices.tolist() for w in caught] == [[3, 4]]
    assert all(name.startswith("x") for names in caught[0].features for name in names)
    plain, caught = _out_of_range_warnings(unguarded.predict, clips)
    assert caught == []
    assert_array_equal(labels, plain)
    proba, _ = _out_of_range_warnings(guarded.predict_proba, clips)
    plain_proba, _ = _out_of_range_warnings(unguarded.predict_proba, clips)
    assert_array_equal(proba, plain_proba)


def test_the_guard_step_can_be_switched_off(corpus, pipelines):
    guarded, _ = pipelines
    pipe = make_classic_pipeline("lr", features="mfcc", speaker_norm=True)
    assert [name for name, _ in pipe.steps][:5] == ["noise", "speed", "mfcc", "guard",
                                                    "speakernormalizer"]
    off = make_classic_pipeline("lr", features="mfcc", speed_perturbation=None,
                                noise_augmentation=None)
    off.set_params(guard="passthrough").fit(corpus.data[:18], corpus.target[:18])
    _, caught = _out_of_range_warnings(off.predict, _far_off(corpus.data[18]))
    assert caught == [] and find_guards(off) == []
    assert find_guards(guarded) == [guarded.named_steps["guard"]]


def test_find_guards_looks_inside_fusions(corpus, pipelines):
    from sklearn_ser.pipelines import SpeakerVotingClassifier

    guarded, _ = pipelines
    vote = SpeakerVotingClassifier([
        ("a", make_classic_pipeline("lr", features="mfcc", speed_perturbation=None)),
        ("b", make_pipeline(FeatureRangeGuard(), LogisticRegression())),
    ], voting="soft")
    assert len(find_guards(vote)) == 2  # unfitted: the members as given
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    fitted = SpeakerVotingClassifier([("b", make_pipeline(FeatureRangeGuard(),
                                                          LogisticRegression()))]).fit(X, y)
    probe = X[:3].copy()
    probe[1] += 1e5
    with catch_out_of_range() as caught:
        fitted.predict(probe)
    assert flagged_mask(caught, 3).tolist() == [False, True, False]


def test_catch_out_of_range_passes_other_warnings_on():
    guard = FeatureRangeGuard().fit(np.arange(20.0).reshape(10, 2))
    with pytest.warns(UserWarning, match="something else"):
        with catch_out_of_range() as caught:
            guard.transform(np.array([[1e6, 0.0]]))
            warnings.warn("something else", UserWarning)
    assert [w.indices.tolist() for w in caught] == [[0]]


# -- streaming and the command line ----------------------------------------------------------


def test_stream_events_carry_out_of_range(corpus, pipelines):
    guarded, unguarded = pipelines
    ordinary = corpus.data[19]
    loud = np.clip(1000 * corpus.data[20], -1, 1).astype(np.float32)
    audio = np.concatenate([ordinary, loud])
    events = list(StreamingRecognizer(guarded, window=1.0, hop=1.0).stream(audio))
    flags = [e.out_of_range for e in events]
    first_loud = int(np.ceil(len(ordinary) / SR))
    assert not any(flags[: len(ordinary) // SR]) and all(flags[first_loud:-1])
    plain = list(StreamingRecognizer(unguarded, window=1.0, hop=1.0).stream(audio))
    assert not any(e.out_of_range for e in plain)
    for event, reference in zip(events, plain):
        assert_array_equal(event.raw_proba, reference.raw_proba)


def test_predict_csv_has_an_out_of_range_column(corpus, pipelines, tmp_path, capsys):
    model = tmp_path / "lr.sser"
    save_model(pipelines[0], model, metadata={"sr": SR})
    folder = tmp_path / "clips"
    folder.mkdir()
    clip = corpus.data[22]
    for name, audio in [("a_ordinary.wav", clip), ("b_loud.wav", _far_off(clip)[1]),
                        ("c_ordinary.wav", corpus.data[23])]:
        sf.write(folder / name, audio, SR)
    assert main(["predict", str(model), str(folder), "--quiet"]) == 0
    out, err = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(out)))
    assert "out_of_range" in rows[0] and list(rows[0])[-1] == "error"
    flags = {r["file"].rsplit("/", 1)[-1]: r["out_of_range"] for r in rows}
    assert flags == {"a_ordinary.wav": "false", "b_loud.wav": "true", "c_ordinary.wav": "false"}
    assert err.count("out_of_range column") == 1 and "b_loud.wav" in err
    assert "1 of 3 file(s)" in err and "a_ordinary.wav" not in err
    named = err.split("b_loud.wav")[1]
    assert "mfcc" in named and not re.search(r"\bx\d", named)  # by name, not as x12


def test_noisy_copies_widen_the_guarded_range(corpus):
    """The guard learns the range of everything the features saw in fit, the pipeline's noisy
    training copies included: it stays quiet on in-range clips either way, and its range is
    wider with the copies (so fewer far-off clips stand out)."""
    def fitted(noise):
        return make_classic_pipeline("lr", features="mfcc", speed_perturbation=None,
                                     noise_augmentation=noise, random_state=0).fit(
            corpus.data[:18], corpus.target[:18])

    clean, noisy = fitted(None), fitted(2)
    for pipe in (clean, noisy):
        _, caught = _out_of_range_warnings(pipe.predict, corpus.data[18:])
        assert caught == []
    span = {name: p.named_steps["guard"].data_max_ - p.named_steps["guard"].data_min_
            for name, p in (("clean", clean), ("noisy", noisy))}
    assert np.median(span["noisy"] / span["clean"]) > 1.0
