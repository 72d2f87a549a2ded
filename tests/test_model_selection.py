"""Tests of sklearn_ser.model_selection: speaker splitters, leakage checks and evaluate."""

import json

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    GroupShuffleSplit,
    KFold,
    LeaveOneGroupOut,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_ser.exceptions import SpeakerLeakageError
from sklearn_ser.metrics import unweighted_average_recall, uar_scorer
from sklearn_ser.model_selection import (
    EvaluationReport,
    LeaveOneSpeakerOut,
    SpeakerStratifiedKFold,
    check_speaker_independence,
    evaluate,
    make_cv,
)

N_SPEAKERS = 8


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """Tiny fits run fastest on one BLAS thread; on a busy shared machine, extra threads
    made each LogisticRegression fit 20 times slower."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def data():
    """Three emotions, eight speakers whose samples are interleaved, string labels."""
    X, y = make_classification(
        n_samples=240, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    y = np.array(["anger", "neutral", "sadness"])[y]
    groups = np.random.RandomState(0).permutation(
        np.repeat([f"spk{i}" for i in range(N_SPEAKERS)], 240 // N_SPEAKERS)
    )
    return X, y, groups


class GroupsRecorder(ClassifierMixin, BaseEstimator):
    """A majority-class classifier that remembers the groups and sample weights it got."""

    def fit(self, X, y, groups=None, sample_weight=None):
        self.groups_ = None if groups is None else np.asarray(groups)
        self.sample_weight_ = sample_weight
        self.n_fit_samples_ = len(y)
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[np.argmax(counts)]
        return self

    def predict(self, X):
        return np.full(len(X), self.majority_)


class FailingClassifier(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        raise RuntimeError("boom")

    def predict(self, X):
        return np.zeros(len(X))


def _assert_speaker_partition(splits, groups):
    """No speaker on both sides, and every sample tested exactly once."""
    tested = np.concatenate([test for _, test in splits])
    assert np.array_equal(np.sort(tested), np.arange(len(groups)))
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])
        assert len(train) + len(test) == len(groups)


# --- splitters ------------------------------------------------------------------------------


def test_loso_one_fold_per_speaker(data):
    X, y, groups = data
    cv = LeaveOneSpeakerOut()
    splits = list(cv.split(X, y, groups))
    assert cv.get_n_splits(X, y, groups) == len(splits) == N_SPEAKERS
    _assert_speaker_partition(splits, groups)
    assert [np.unique(groups[test]).tolist() for _, test in splits] == [
        [f"spk{i}"] for i in range(N_SPEAKERS)
    ]
    assert all(test.dtype.kind == "i" for _, test in splits)


def test_loso_splits_a_list_of_clips(data):
    _, y, groups = data
    clips = [np.zeros(100 + i) for i in range(len(y))]
    _assert_speaker_partition(list(LeaveOneSpeakerOut().split(clips, y, groups)), groups)


def test_loso_without_groups_explains_the_fix(data):
    X, y, _ = data
    with pytest.raises(ValueError, match=r"speaker ids.*groups=\.\.\."):
        LeaveOneSpeakerOut().split(X, y)
    with pytest.raises(ValueError, match="groups="):
        LeaveOneSpeakerOut().get_n_splits(X, y)
    with pytest.raises(ValueError, match="at least 2 distinct speakers"):
        LeaveOneSpeakerOut().split(X, y, ["s1"] * len(y))


def test_loso_rejects_groups_of_wrong_length(data):
    X, y, groups = data
    with pytest.raises(ValueError):
        list(LeaveOneSpeakerOut().split(X, y, groups[:-1]))


@pytest.mark.parametrize("shuffle, random_state", [(False, None), (True, 0)])
def test_speaker_stratified_kfold_partitions_speakers(data, shuffle, random_state):
    X, y, groups = data
    cv = SpeakerStratifiedKFold(n_splits=4, shuffle=shuffle, random_state=random_state)
    splits = list(cv.split(X, y, groups))
    assert cv.get_n_splits() == len(splits) == 4
    _assert_speaker_partition(splits, groups)


def test_speaker_stratified_kfold_errors(data):
    X, y, groups = data
    with pytest.raises(ValueError, match=f"at least 10 distinct speakers.*holds {N_SPEAKERS}"):
        SpeakerStratifiedKFold(n_splits=10).split(X, y, groups)
    with pytest.raises(ValueError, match="groups="):
        SpeakerStratifiedKFold(n_splits=3).split(X, y)
    with pytest.raises(ValueError, match="needs y"):
        SpeakerStratifiedKFold(n_splits=3).split(X, None, groups)


@pytest.mark.parametrize("cv", [LeaveOneSpeakerOut(), SpeakerStratifiedKFold(n_splits=4)])
def test_splitters_work_in_sklearn_tools(data, cv):
    X, y, groups = data
    scores = cross_validate(LogisticRegression(), X, y, groups=groups, cv=cv)
    assert len(scores["test_score"]) == cv.get_n_splits(X, y, groups)
    search = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=cv, scoring=uar_scorer)
    search.fit(X, y, groups=groups)
    assert search.n_splits_ == cv.get_n_splits(X, y, groups)


def test_splitters_repr_and_clone():
    assert repr(LeaveOneSpeakerOut()) == "LeaveOneSpeakerOut()"
    assert "n_splits=3" in repr(SpeakerStratifiedKFold(3))


# --- check_speaker_independence and make_cv -------------------------------------------------


@pytest.mark.filterwarnings("ignore:The groups parameter is ignored:UserWarning")
def test_check_speaker_independence_names_fold_and_speakers(data):
    X, y, groups = data
    with pytest.raises(SpeakerLeakageError, match=r"Fold 0 of KFold.*spk\d") as info:
        check_speaker_independence(KFold(3), X, y, groups)
    assert "LeaveOneSpeakerOut" in str(info.value)


def test_check_speaker_independence_returns_integer_splits(data):
    X, y, groups = data
    splits = check_speaker_independence(GroupKFold(4), X, y, groups)
    assert len(splits) == 4
    _assert_speaker_partition(splits, groups)


def test_check_speaker_independence_accepts_masks_and_specs(data):
    X, y, groups = data
    masks = [(groups != "spk0", groups == "spk0")]
    ((train, test),) = check_speaker_independence(masks, X, y, groups)
    assert np.array_equal(test, np.flatnonzero(groups == "spk0"))
    assert len(check_speaker_independence("loso", X, y, groups)) == N_SPEAKERS


def test_make_cv_specs():
    assert isinstance(make_cv("loso"), LeaveOneSpeakerOut)
    assert make_cv("kfold:3").n_splits == 3
    assert make_cv(" KFold:4 ").n_splits == 4
    assert make_cv(6).n_splits == 6
    assert make_cv("kfold").n_splits == 5
    splitter = GroupKFold(2)
    assert make_cv(splitter) is splitter


@pytest.mark.parametrize("spec", ["loo", "kfold:x", "kfold:1", 1, "loso:3"])
def test_make_cv_bad_spec(spec):
    with pytest.raises(ValueError, match="kfold"):
        make_cv(spec)


def test_make_cv_bad_type():
    with pytest.raises(TypeError, match="loso"):
        make_cv(2.5)


# --- evaluate -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def loso_report(data):
    X, y, groups = data
    return evaluate(LogisticRegression(), X, y, groups=groups, return_estimators=True)


def test_evaluate_requires_groups(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="speaker ids"):
        evaluate(LogisticRegression(), X, y, groups=None)


@pytest.mark.filterwarnings("ignore:The groups parameter is ignored:UserWarning")
def test_evaluate_refuses_leaky_splitter(data):
    X, y, groups = data
    with pytest.raises(SpeakerLeakageError, match=r"speakers \['spk\d"):
        evaluate(LogisticRegression(), X, y, groups=groups, cv=KFold(4))


def test_evaluate_equals_a_hand_made_loop(data, loso_report):
    X, y, groups = data
    y_pred = np.empty_like(y)
    fold_uars = []
    for train, test in LeaveOneGroupOut().split(X, y, groups):
        y_pred[test] = LogisticRegression().fit(X[train], y[train]).predict(X[test])
        fold_uars.append(unweighted_average_recall(y[test], y_pred[test]))
    report = loso_report

    assert isinstance(report, EvaluationReport)
    assert np.array_equal(report.y_true, y)
    assert np.array_equal(report.y_pred, y_pred)
    assert np.array_equal(report.groups, groups)
    assert np.array_equal(report.indices, np.arange(len(y)))
    assert report.uar == pytest.approx(unweighted_average_recall(y, y_pred))
    assert report.wa == pytest.approx(accuracy_score(y, y_pred))
    assert report.macro_recall == pytest.approx(report.uar)
    assert list(report.labels) == ["anger", "neutral", "sadness"]
    assert np.array_equal(report.confusion_matrix, confusion_matrix(y, y_pred))
    assert report.n_folds == N_SPEAKERS == len(report.estimators)
    assert np.allclose(report.per_fold["uar"], fold_uars)
    assert report.uar_ci_low <= report.uar <= report.uar_ci_high
    assert report.fit_seconds == pytest.approx(report.per_fold["fit_seconds"].sum())


def test_evaluate_tables(data, loso_report):
    X, y, groups = data
    report = loso_report
    assert list(report.per_fold.columns) == [
        "fold", "test_speakers", "n_train", "n_test", "uar", "wa", "macro_f1",
        "fit_seconds", "predict_seconds",
    ]
    assert list(report.per_speaker.columns) == ["speaker", "n", "uar", "wa"]
    assert report.per_speaker["n"].sum() == len(y)
    assert report.per_speaker["speaker"].tolist() == sorted(set(groups))
    for _, row in report.per_fold.iterrows():
        assert np.array_equal(
            np.unique(report.groups[report.fold == row["fold"]]), row["test_speakers"]
        )
        assert row["n_train"] + row["n_test"] == len(y)
    # With LOSO, a fold is a speaker: both tables must agree.
    assert np.allclose(report.per_fold["uar"], report.per_speaker["uar"])
    assert list(report.per_class.index[-2:]) == ["macro avg", "weighted avg"]
    assert report.y_proba.shape == (len(y), 3)
    assert np.allclose(report.y_proba.sum(axis=1), 1.0)


def test_evaluate_summary_to_dict_and_plot(loso_report, tmp_path):
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    text = loso_report.summary()
    assert "UAR" in text and "speaker" in text and len(text.splitlines()) >= 3
    figures = json.loads(json.dumps(loso_report.to_dict(), allow_nan=False))
    assert figures["uar"] == pytest.approx(loso_report.uar)
    assert figures["n_folds"] == N_SPEAKERS
    assert figures["labels"] == ["anger", "neutral", "sadness"]
    assert len(figures["per_fold"]) == N_SPEAKERS
    ax = loso_report.plot_confusion_matrix()
    assert isinstance(ax, Axes)
    ax.figure.savefig(tmp_path / "report.png")
    assert (tmp_path / "report.png").stat().st_size > 0
    plt.close(ax.figure)


def test_evaluate_parallel_equals_serial(data, loso_report):
    X, y, groups = data
    parallel = evaluate(LogisticRegression(), X, y, groups=groups, n_jobs=2)
    assert np.array_equal(parallel.y_pred, loso_report.y_pred)
    assert parallel.uar == loso_report.uar
    assert (parallel.uar_ci_low, parallel.uar_ci_high) == (
        loso_report.uar_ci_low,
        loso_report.uar_ci_high,
    )


def test_evaluate_passes_training_groups_to_fit(data):
    X, y, groups = data
    report = evaluate(
        GroupsRecorder(), X, y, groups=groups, cv="kfold:4", return_estimators=True
    )
    assert report.n_folds == 4
    for estimator, fold in zip(report.estimators, range(4)):
        tested = report.groups[report.fold == fold]
        assert estimator.groups_ is not None
        assert len(estimator.groups_) == estimator.n_fit_samples_
        assert not set(estimator.groups_) & set(tested)


def test_evaluate_grid_search_gets_grouped_inner_cv(data):
    X, y, groups = data
    search = GridSearchCV(
        LogisticRegression(), {"C": [0.1, 1.0]}, cv=GroupKFold(3), scoring=uar_scorer
    )
    # GroupKFold raises without groups, so success means the training groups arrived.
    report = evaluate(search, X, y, groups=groups, cv=4, return_estimators=True)
    assert report.n_folds == 4
    assert all(est.n_splits_ == 3 for est in report.estimators)


def test_evaluate_routes_groups_with_metadata_routing(data):
    X, y, groups = data
    pipeline = make_pipeline(
        StandardScaler(), GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=GroupKFold(3))
    )
    with sklearn.config_context(enable_metadata_routing=True):
        report = evaluate(pipeline, X, y, groups=groups, cv="kfold:4")
        plain = evaluate(LogisticRegression(), X, y, groups=groups, cv="kfold:4")
    assert report.n_folds == plain.n_folds == 4


def test_evaluate_slices_per_sample_fit_params(data):
    X, y, groups = data
    weights = np.arange(len(y), dtype=float)
    report = evaluate(
        GroupsRecorder(), X, y, groups=groups, fit_params={"sample_weight": weights},
        return_estimators=True,
    )
    for estimator, fold in zip(report.estimators, range(report.n_folds)):
        train = np.flatnonzero(report.fold != fold)
        assert np.array_equal(estimator.sample_weight_, weights[train])
    with pytest.raises(ValueError, match="must not contain 'groups'"):
        evaluate(GroupsRecorder(), X, y, groups=groups, fit_params={"groups": groups})


def test_evaluate_dummy_is_at_chance(data):
    X, y, groups = data
    report = evaluate(DummyClassifier(strategy="most_frequent"), X, y, groups=groups)
    # Each fold predicts one class for a speaker who has all three: UAR 1/3 per fold.
    assert np.allclose(report.per_fold["uar"], 1 / 3)
    assert report.y_proba is not None


def test_evaluate_list_of_clips_and_dataframe(data):
    X, y, groups = data
    clips = [np.random.RandomState(i).normal(row[0], 1.0, 50 + i) for i, row in enumerate(X)]
    pooled = FunctionTransformer(lambda c: np.array([[x.mean(), x.std()] for x in c]))
    report = evaluate(make_pipeline(pooled, LogisticRegression()), clips, y, groups=groups)
    assert len(report.y_pred) == len(clips)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    from_frame = evaluate(LogisticRegression(), frame, y, groups=groups)
    from_array = evaluate(LogisticRegression(), X, y, groups=groups)
    assert np.array_equal(from_frame.y_pred, from_array.y_pred)


def test_evaluate_partial_coverage_and_overlap(data):
    X, y, groups = data
    report = evaluate(
        LogisticRegression(), X, y, groups=groups,
        cv=GroupShuffleSplit(n_splits=1, test_size=2, random_state=0),
    )
    assert len(np.unique(report.groups)) == 2
    assert np.array_equal(report.y_true, y[report.indices])
    spk0, spk1 = np.flatnonzero(groups == "spk0"), np.flatnonzero(groups == "spk1")
    others = np.flatnonzero(~np.isin(groups, ["spk0", "spk1"]))
    overlapping = [(others, np.r_[spk0, spk1]), (others, spk0)]
    with pytest.raises(ValueError, match="more than one fold"):
        evaluate(LogisticRegression(), X, y, groups=groups, cv=overlapping)


def test_evaluate_input_errors(data):
    X, y, groups = data
    with pytest.raises(ValueError, match="one speaker id per sample"):
        evaluate(LogisticRegression(), X, y, groups=groups[:-1])
    with pytest.raises(TypeError, match="fit and predict"):
        evaluate(object(), X, y, groups=groups)
    with pytest.raises(ValueError, match="1-D"):
        evaluate(LogisticRegression(), X, np.c_[y, y], groups=groups)


def test_evaluate_fold_error_names_the_speakers(data):
    X, y, groups = data
    with pytest.raises(RuntimeError, match="boom") as info:
        evaluate(FailingClassifier(), X, y, groups=groups)
    # Notes exist from Python 3.11 on; before that the bare error is still raised.
    notes = getattr(info.value, "__notes__", ["spk0"])
    assert any("spk0" in note for note in notes)


def test_evaluate_verbose_shows_a_progress_bar(data, capsys):
    X, y, groups = data
    evaluate(DummyClassifier(), X, y, groups=groups, cv="kfold:2", verbose=1)
    assert "2/2" in capsys.readouterr().err
    evaluate(DummyClassifier(), X, y, groups=groups, cv="kfold:2", verbose=0)
    assert capsys.readouterr().err == ""


def test_evaluate_warns_when_a_search_does_not_split_by_speaker():
    import warnings

    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, GroupKFold, KFold

    from sklearn_ser.exceptions import SklearnSerWarning
    from sklearn_ser.model_selection import evaluate

    X, y = make_classification(n_samples=90, n_classes=3, n_informative=4, random_state=0)
    speakers = np.repeat(np.arange(6), 15)
    leaky = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=KFold(3))
    with pytest.warns(SklearnSerWarning, match="does not split by speaker"):
        evaluate(leaky, X, y, groups=speakers, cv="kfold:3")
    grouped = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=GroupKFold(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", SklearnSerWarning)
        evaluate(grouped, X, y, groups=speakers, cv="kfold:3")


# -- evaluate's test conditions: noises, babble of other speakers, gains ----------------------

SR = 16000
TONE_SAMPLES = 1600

#: Clips passed to _KeepClips.transform, one list per call (folds run in this process).
SEEN_CLIPS = []


def _tone_corpus(n_speakers=4, per_speaker=6):
    """Each speaker speaks one pure tone of their own (500, 1000, ... Hz) that fits whole
    cycles in the clip, so looped excerpts of it, and babble made of them, stay pure tones
    at the speaker's frequency. The label is the loudness."""
    t = np.arange(TONE_SAMPLES) / SR
    X, y, groups = [], [], []
    for s in range(n_speakers):
        for i in range(per_speaker):
            loud = i % 2
            X.append(((0.2 + 0.2 * loud) * np.sin(2 * np.pi * 500 * (s + 1) * t + i))
                     .astype(np.float32))
            y.append(["quiet", "loud"][loud])
            groups.append(f"spk{s}")
    return X, np.asarray(y), np.asarray(groups)


def _tone_bin(speaker):
    return (int(speaker[3:]) + 1) * 500 * TONE_SAMPLES // SR


class _KeepClips(BaseEstimator):
    """Keep every clip it transforms; output log RMS and peak."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        clips = [np.asarray(c, dtype=np.float64) for c in X]
        SEEN_CLIPS.append(clips)
        return np.array([[np.log(np.mean(c**2) + 1e-12), np.abs(c).max()] for c in clips])


def _tone_model():
    return make_pipeline(_KeepClips(), StandardScaler(), LogisticRegression())


def test_evaluate_runs_every_snr_with_every_noise_then_the_gains():
    X, y, groups = _tone_corpus()
    report = evaluate(_tone_model(), X, y, groups=groups, test_snr=[10, 0],
                      test_noise=["white", "pink", "brown", "babble"], test_gain=[-20, 20])
    names = ["clean", "snr10", "snr0", "pink10", "pink0", "brown10", "brown0", "babble10",
             "babble0", "gain-20", "gain+20"]
    table = report.conditions
    assert list(table["condition"]) == names and list(report.uar_by_condition) == names
    assert list(table.columns) == ["condition", "noise", "snr_db", "gain_db", "uar", "wa",
                                   "macro_f1", "agreement"]
    assert list(table["noise"]) == ["none"] + ["white"] * 2 + ["pink"] * 2 + ["brown"] * 2 + [
        "babble"] * 2 + ["gain"] * 2
    assert list(table["snr_db"]) == [np.inf, 10, 0, 10, 0, 10, 0, 10, 0, np.inf, np.inf]
    assert list(table["gain_db"]) == [0] * 9 + [-20, 20]
    assert set(report.y_pred_by_condition) == set(names[1:])
    figures = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert [row["snr_db"] for row in figures["conditions"]][-3:] == [0, None, None]
    assert list(figures["uar_by_condition"]) == names
    assert "babble0" in report.summary() and "gain+20" in report.summary()


def test_evaluate_test_noise_is_the_same_whatever_else_is_listed():
    X, y, groups = _tone_corpus()
    both = evaluate(_tone_model(), X, y, groups=groups, test_snr=[0],
                    test_noise=["pink", "white"], random_state=3)
    white = evaluate(_tone_model(), X, y, groups=groups, test_snr=[0], random_state=3)
    pink = evaluate(_tone_model(), X, y, groups=groups, test_snr=[0], test_noise="pink",
                    random_state=3)
    assert list(white.uar_by_condition) == ["clean", "snr0"]  # white keeps its old name
    assert list(pink.uar_by_condition) == ["clean", "pink0"]
    np.testing.assert_array_equal(both.y_pred_by_condition["snr0"],
                                  white.y_pred_by_condition["snr0"])
    np.testing.assert_array_equal(both.y_pred_by_condition["pink0"],
                                  pink.y_pred_by_condition["pink0"])


def _clean_and_corrupted_calls(X):
    """Pair each transform call on corrupted clips with the clean call just before it, as
    positions in X (a fold predicts its clean test clips before the corrupted ones)."""
    where = {c.astype(np.float32).tobytes(): i for i, c in enumerate(X)}
    pairs, clean = [], None
    for call in SEEN_CLIPS:
        index = [where.get(c.astype(np.float32).tobytes()) for c in call]
        if all(i is not None for i in index):
            clean = index
        else:
            assert clean is not None and len(clean) == len(call)
            pairs.append((clean, call))
    return pairs


def test_evaluate_babble_never_contains_a_test_speaker():
    X, y, groups = _tone_corpus()
    SEEN_CLIPS.clear()
    evaluate(_tone_model(), X, y, groups=groups, cv="loso", test_snr=[10],
             test_noise="babble")
    pairs = _clean_and_corrupted_calls(X)
    assert len(pairs) == 4  # one babble condition in each of the four folds
    for clean, corrupted in pairs:
        assert len({groups[i] for i in clean}) == 1  # LOSO: one test speaker per fold
        for i, noisy in zip(clean, corrupted):
            power = np.abs(np.fft.rfft(noisy - X[i])) ** 2
            others = [_tone_bin(s) for s in np.unique(groups) if s != groups[i]]
            # The babble is the training speakers' tones and nothing of the test speaker's.
            assert power[_tone_bin(groups[i])] < 1e-6 * power.sum()
            assert power[others].sum() > 0.999 * power.sum()


def test_evaluate_gain_conditions_scale_and_clip_the_test_clips():
    X, y, groups = _tone_corpus()
    SEEN_CLIPS.clear()
    evaluate(_tone_model(), X, y, groups=groups, cv="kfold:2", test_gain=[-20, 20])
    pairs = _clean_and_corrupted_calls(X)
    assert len(pairs) == 4  # two gains in each of the two folds
    quieter, louder = pairs[0::2], pairs[1::2]
    for clean, corrupted in quieter:
        for i, clip in zip(clean, corrupted):
            np.testing.assert_allclose(clip, 0.1 * X[i], atol=1e-7)
    for clean, corrupted in louder:  # 0.2 to 0.4 times 10: the gain that clips
        for i, clip in zip(clean, corrupted):
            assert np.abs(clip).max() == 1.0
            np.testing.assert_allclose(clip, np.clip(10 * X[i].astype(np.float64), -1, 1),
                                       atol=1e-6)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(test_snr=[10], test_noise="purple"),
         "test_noise must be one of 'white', 'pink', 'brown', 'babble'"),
        (dict(test_snr=[10], test_noise=["white", "violet"]), "'brown', 'babble'"),
        (dict(test_snr=[10], test_noise=["pink", "pink"]), "test_noise"),
        (dict(test_snr=[10], test_noise=[]), "test_noise"),
        (dict(test_gain=[20, float("inf")]), "test_gain"),
        (dict(test_gain=[6, 6]), "test_gain"),
        (dict(test_gain="loud"), "test_gain"),
    ],
)
def test_evaluate_refuses_bad_test_conditions(params, match):
    X, y, groups = _tone_corpus()
    with pytest.raises(ValueError, match=match):
        evaluate(_tone_model(), X, y, groups=groups, **params)
