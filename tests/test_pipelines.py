"""Classic pipelines from clips: every kind fits, parameters are reachable, grid search works."""

import numpy as np
import pytest
from imblearn.over_sampling import RandomOverSampler
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.preprocessing import StandardScaler

from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.metrics import get_scorer
from sklearn_ser.pipelines import CLASSIFIERS, ResamplingPipeline, make_classic_pipeline


@pytest.fixture(scope="module")
def corpus():
    return make_emotional_speech(84, n_speakers=4, emotions=["anger", "sadness", "neutral"],
                                 duration=(0.8, 1.2), random_state=0)


@pytest.mark.parametrize("kind", sorted(CLASSIFIERS))
def test_every_kind_fits_clips_and_returns_labels(kind, corpus):
    pipe = make_classic_pipeline(kind, features="mfcc", random_state=0)
    pipe.fit(corpus.data[:60], corpus.target[:60])
    pred = pipe.predict(corpus.data[60:])
    assert set(pred) <= set(corpus.target)
    assert pred.dtype == corpus.target.dtype


@pytest.mark.parametrize("reduce, n_components", [("pca", 0.95), ("lda", 2)])
def test_reduction_steps(reduce, n_components, corpus):
    pipe = make_classic_pipeline("svm", features="mfcc", reduce=reduce, n_components=n_components)
    pipe.fit(corpus.data, corpus.target)
    assert reduce in pipe.named_steps
    assert pipe.score(corpus.data, corpus.target) > 0.5


def test_classic_defaults_depend_on_speaker_normalisation(corpus):
    """Without speaker normalisation: two noisy copies and speed copies of every clip in fit
    (nine times the clips reach the classifier) and a shrunk LDA; with it, two noisy copies
    and speed copies of the original clips as speakers of their own, no LDA. Each is one
    argument away."""
    pipe = make_classic_pipeline("svm", features="mfcc", random_state=0)
    assert [name for name, _ in pipe.steps] == ["noise", "speed", "mfcc", "guard", "scaler",
                                                "lda", "svc"]
    assert pipe.named_steps["speed"].rates == (0.9, 1.1)
    assert pipe.named_steps["noise"].n_copies == 2
    pipe.fit(corpus.data[:60], corpus.target[:60])
    assert pipe.named_steps["svc"].shape_fit_[0] == 540
    assert pipe.predict(corpus.data[60:]).shape == (len(corpus.data) - 60,)
    normalised = make_classic_pipeline("svm", features="mfcc", speaker_norm=True)
    assert [n for n, _ in normalised.steps] == ["noise", "speed", "mfcc", "guard",
                                                "speakernormalizer", "scaler", "svc"]
    assert normalised.named_steps["noise"].n_copies == 2
    speed = normalised.named_steps["speed"]
    assert (speed.rates, speed.copy_groups, speed.sources) == ((0.9, 1.1), "apart",
                                                               "originals")
    assert pipe.named_steps["speed"].copy_groups == "same"
    plain = make_classic_pipeline("svm", features="mfcc", reduce=None, speed_perturbation=None,
                                  noise_augmentation=None)
    assert [name for name, _ in plain.steps] == ["mfcc", "guard", "scaler", "svc"]
    both = make_classic_pipeline("nb", features="mfcc", speaker_norm=True, reduce="lda",
                                 speed_perturbation=(0.95,), noise_augmentation=0)
    assert [n for n, _ in both.steps][:2] == ["speed", "mfcc"] and "lda" in both.named_steps
    with pytest.raises(ValueError, match="noise_augmentation"):
        make_classic_pipeline("svm", noise_augmentation="lots")


def test_lda_reduction_holds_with_more_features_than_clips():
    """The LDA reducer shrinks its covariance, so it still separates unseen clips when the
    features outnumber the training clips (where plain LDA fits noise)."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    rng = np.random.default_rng(0)
    n_features, shift = 400, 0.4
    y = np.repeat([0, 1, 2], 100)
    # Each class shifts its own third of the features.
    own_third = (np.arange(n_features) // (n_features // 3 + 1))[None, :] == y[:, None]
    X = rng.normal(size=(len(y), n_features)) + shift * own_third
    train = np.arange(len(y)) % 5 == 0          # 60 training rows for 400 features
    lda = make_classic_pipeline("svm", reduce="lda").named_steps["lda"]
    shrunk = lda.fit(X[train], y[train]).score(X[~train], y[~train])
    plain = LinearDiscriminantAnalysis().fit(X[train], y[train]).score(X[~train], y[~train])
    assert shrunk > 0.8 and shrunk > plain + 0.2


def test_parameter_names_reachable():
    single = make_classic_pipeline("svm", features="mfcc")
    single.set_params(mfcc__n_mfcc=13, svc__C=1.0)
    assert single.named_steps["mfcc"].n_mfcc == 13
    fused = make_classic_pipeline("nb")
    fused.set_params(features__mfcc__n_mfcc=12, features__lpcc__order=10,
                     gaussiannb__var_smoothing=1e-8)
    assert fused.get_params()["features__lpcc__order"] == 10
    assert clone(fused).get_params()["features__mfcc__n_mfcc"] == 12


def test_speaker_grouped_grid_search_on_clips(corpus):
    pipe = make_classic_pipeline("svm", features="mfcc")
    grid = GridSearchCV(
        pipe,
        {"mfcc__n_mfcc": [8, 13], "svc__C": [0.3, 3.0]},
        cv=GroupKFold(n_splits=2),
        scoring=get_scorer("uar"),
        n_jobs=1,
    )
    grid.fit(corpus.data, corpus.target, groups=corpus.groups)
    assert set(grid.best_params_) == {"mfcc__n_mfcc", "svc__C"}
    assert len(grid.cv_results_["mean_test_score"]) == 4
    assert set(grid.predict(corpus.data[:5])) <= set(corpus.target)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(kind="xgboost"), "Unknown classic model"),
        (dict(features=["mfcc", "wav2vec"]), "Unknown feature set"),
        (dict(reduce="ica"), "reduce must be"),
    ],
)
def test_bad_pipeline_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_classic_pipeline(**kwargs)


def test_default_svm_learns_the_synthetic_corpus_speaker_independently():
    from sklearn_ser.model_selection import evaluate

    data = make_emotional_speech(140, n_speakers=5, random_state=1)
    report = evaluate(make_classic_pipeline("svm"), data.data, data.target,
                      groups=data.groups, cv="loso")
    chance = 1 / len(np.unique(data.target))
    assert 2 * chance < report.uar < 0.99


def test_memory_extracts_each_folds_features_once_in_a_grid_search(corpus, tmp_path,
                                                                  monkeypatch):
    """Six C values x 2 folds: with a cache, features are extracted per fold, not per fit."""
    from sklearn_ser.features import MFCCExtractor

    calls = []
    original = MFCCExtractor._frame_features

    def counting(self, clips):
        calls.append(len(clips))
        return original(self, clips)

    monkeypatch.setattr(MFCCExtractor, "_frame_features", counting)
    grid = {"svc__C": [0.1, 0.3, 1.0, 3.0, 10.0, 30.0]}

    def fit_counting(memory):
        calls.clear()
        # No training copies: each fold's training clips, as given, are what gets cached.
        pipe = make_classic_pipeline("svm", features="mfcc", memory=memory,
                                     speed_perturbation=None, noise_augmentation=None)
        GridSearchCV(pipe, grid, cv=GroupKFold(n_splits=2)).fit(
            corpus.data, corpus.target, groups=corpus.groups)
        return sum(calls)

    uncached = fit_counting(None)
    cached = fit_counting(str(tmp_path / "cache"))
    n = len(corpus.data)
    # Uncached: every candidate re-extracts its training half and its test half, then refit.
    assert uncached == 6 * 2 * n + n
    # Cached: each distinct set of clips once. With two folds, one fold's training half is the
    # other's test half, so each half is extracted once; then the refit on all clips.
    assert cached == n + n
    # A second search over other C values reuses the whole cache: no extraction at all.
    calls.clear()
    pipe = make_classic_pipeline("svm", features="mfcc", memory=str(tmp_path / "cache"),
                                 speed_perturbation=None, noise_augmentation=None)
    GridSearchCV(pipe, {"svc__C": [0.5, 5.0]}, cv=GroupKFold(n_splits=2)).fit(
        corpus.data, corpus.target, groups=corpus.groups)
    assert sum(calls) == 0


class _GroupsRecorder(ClassifierMixin, BaseEstimator):
    """Predicts the majority class; keeps the rows and groups its fit received."""

    def fit(self, X, y, groups=None):
        self.fit_rows_, self.fit_groups_ = np.asarray(X), groups
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def _speakers_data(n=12):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    X[:, 0] = np.arange(n)  # a clip id that travels with every copy
    return X, np.array(["a", "b"] * (n // 2)), np.repeat([f"s{i}" for i in range(n // 4)], 4)


def test_resampling_pipeline_carries_groups_to_the_copies():
    """Each copy keeps its source clip's speaker, with routing on and with step params."""
    X, y, groups = _speakers_data()
    sampler = RandomOverSampler(sampling_strategy={"a": 9, "b": 6}, random_state=0)
    with config_context(enable_metadata_routing=True):
        pipe = ResamplingPipeline([("over", sampler), ("scale", StandardScaler()),
                                   ("rec", _GroupsRecorder().set_fit_request(groups=True))])
        pipe.fit(X, y, groups=groups)
    rec = pipe.named_steps["rec"]
    assert len(rec.fit_groups_) == len(rec.fit_rows_) == 15
    np.testing.assert_array_equal(rec.fit_groups_, groups[pipe.named_steps["over"].sample_indices_])
    assert pipe.named_steps["over"] is sampler  # fitted in place, like imblearn's Pipeline
    # Routing off: the step-prefixed argument follows the copies too.
    pipe = ResamplingPipeline([("over", clone(sampler)), ("rec", _GroupsRecorder())])
    pipe.fit(X, y, rec__groups=groups)
    rec = pipe.named_steps["rec"]
    sources = rec.fit_rows_[:, 0].astype(int)  # the clip ids of what the step received
    np.testing.assert_array_equal(rec.fit_groups_, groups[sources])
    assert len(pipe.predict(X)) == len(X)


def test_resampling_pipeline_refuses_groups_it_cannot_align():
    from imblearn.over_sampling import SMOTE

    X, y, groups = _speakers_data()
    pipe = ResamplingPipeline([("smote", SMOTE(k_neighbors=2, sampling_strategy={"a": 9})),
                               ("rec", _GroupsRecorder())])
    with pytest.raises(ValueError, match="'smote' .*SMOTE.* sample_indices_.*rec__groups"):
        pipe.fit(X, y, rec__groups=groups)
    assert len(pipe.fit(X, y).named_steps["rec"].fit_rows_) == 15  # without groups it runs


def test_model_names_parse_and_build_in_one_registry():
    from sklearn_ser.pipelines import (
        DEFAULT_FUSION_MEMBERS,
        make_fusion_pipeline,
        make_named_pipeline,
        parse_model_name,
    )

    assert parse_model_name("linear-svm-sn") == ("linear-svm", True)
    assert parse_model_name("crnn") == ("crnn", False)
    names = [n for n, _ in make_named_pipeline("fusion").estimators]
    assert names == list(DEFAULT_FUSION_MEMBERS)
    assert [n for n, _ in make_fusion_pipeline().estimators] == names
    steps = [s for s, _ in make_named_pipeline("lr-sn").steps]
    assert "speakernormalizer" in steps and steps[-1] == "logisticregression"
    assert "speakernormalizer" not in [s for s, _ in make_named_pipeline("lr").steps]
    with pytest.raises(ValueError, match="Unknown model 'gpt-sn'.*svm-sn.*fusion-deep"):
        make_named_pipeline("gpt-sn")
