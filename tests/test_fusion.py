"""Fusion: stacking and voting over whole pipelines, speaker-aware; feature fusion."""

import functools
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.exceptions import SklearnSerWarning
from sklearn_ser.model_selection import LeaveOneSpeakerOut, SpeakerStratifiedKFold, evaluate
from sklearn_ser.pipelines import (
    SpeakerStackingClassifier,
    SpeakerVotingClassifier,
    make_classic_pipeline,
    make_fusion_pipeline,
    make_named_pipeline,
)


@pytest.fixture(scope="module")
def member(tmp_path_factory):
    """Quick members: MFCC functionals only, one feature cache shared by all tests."""
    cache = str(tmp_path_factory.mktemp("features"))

    def build(name):
        kind, sn = (name[:-3], True) if name.endswith("-sn") else (name, False)
        return name, make_classic_pipeline(kind, features="mfcc", speaker_norm=sn,
                                           memory=cache, random_state=0)

    return build


@pytest.fixture(scope="module")
def corpus():
    return make_emotional_speech(72, n_speakers=4, emotions=["anger", "sadness", "neutral"],
                                 duration=(0.8, 1.2), random_state=3)


class SpeakerLog(ClassifierMixin, BaseEstimator):
    """A classifier that records the speakers it is fitted on and asked to predict."""

    log = []

    def fit(self, X, y, groups=None):
        self.classes_ = np.unique(y)
        self.fit_speakers_ = None if groups is None else set(groups)
        type(self).log.append(("fit", self.fit_speakers_))
        return self

    def predict_proba(self, X, groups=None):
        type(self).log.append(("predict", self.fit_speakers_, None if groups is None
                               else set(groups)))
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))

    def predict(self, X, groups=None):
        return self.classes_[np.zeros(len(X), dtype=int)]


def _numeric(n_speakers=5, per_speaker=12, seed=0):
    rng = np.random.RandomState(seed)
    y = np.tile(np.repeat(["anger", "sadness", "neutral"], per_speaker // 3), n_speakers)
    X = rng.normal(size=(len(y), 6)) + 2 * (y == "anger")[:, None] - 2 * (y == "sadness")[:, None]
    groups = np.repeat([f"s{k}" for k in range(n_speakers)], per_speaker)
    return X, y, groups


def test_stacking_inner_folds_never_share_a_speaker():
    X, y, groups = _numeric()
    SpeakerLog.log = []
    stack = SpeakerStackingClassifier([("log", SpeakerLog())], cv=5)
    stack.fit(X, y, groups=groups)
    predictions = [entry for entry in SpeakerLog.log if entry[0] == "predict"]
    assert len(predictions) == 5  # one out-of-fold block per inner fold
    for _, trained_on, predicted in predictions:
        assert trained_on and predicted and not trained_on & predicted
    # Together the out-of-fold blocks cover every speaker; the full fit sees them all.
    assert set().union(*(p[2] for p in predictions)) == set(groups)
    assert ("fit", set(groups)) in SpeakerLog.log
    # At prediction time the test speakers reach the member.
    SpeakerLog.log = []
    stack.predict_proba(X[:4], groups=["new"] * 4)
    assert SpeakerLog.log == [("predict", set(groups), {"new"})]


def test_speaker_normalised_members_get_the_speakers_everywhere(corpus, member):
    fusion = make_fusion_pipeline([member("svm-sn"), member("nb-sn")], cv=2)
    with warnings.catch_warnings():
        # SpeakerNormalizer warns when it gets no groups: here it always must get them.
        warnings.filterwarnings("error", message=".*got no groups", category=SklearnSerWarning)
        fusion.fit(corpus.data, corpus.target, groups=corpus.groups)
        proba = fusion.predict_proba(corpus.data, groups=corpus.groups)
    assert proba.shape == (len(corpus.data), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    with pytest.warns(SklearnSerWarning, match="got no groups"):
        fusion.predict(corpus.data[:10])


def test_stacking_beats_chance_in_speaker_independent_evaluation(corpus, member):
    fusion = make_fusion_pipeline([member("svm-sn"), member("lr-sn")], cv=3)
    report = evaluate(fusion, corpus.data, corpus.target, groups=corpus.groups, cv="loso")
    assert report.uar > 0.5  # chance is 1/3


def test_grid_search_reaches_member_parameters(corpus, member):
    fusion = make_fusion_pipeline([member("svm-sn"), member("nb")], cv=2)
    search = GridSearchCV(fusion, {"svm-sn__svc__C": [0.1, 10.0],
                                   "final_estimator__C": [0.1, 1.0]},
                          cv=SpeakerStratifiedKFold(2))
    # With metadata routing the speakers reach both the search's split and the fusion.
    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*no groups", category=SklearnSerWarning)
        search.fit(corpus.data, corpus.target, groups=corpus.groups)
        pred = search.best_estimator_.predict(corpus.data, groups=corpus.groups)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert len(search.cv_results_["params"]) == 4
    assert set(pred) <= set(corpus.target)


def test_voting_averages_the_members_probabilities(corpus):
    X, y, groups = _numeric()
    vote = SpeakerVotingClassifier([("lr", LogisticRegression()), ("nb", GaussianNB())],
                                   weights=[3, 1]).fit(X, y, groups=groups)
    lr = LogisticRegression().fit(X, y)
    nb = GaussianNB().fit(X, y)
    expected = (3 * lr.predict_proba(X) + nb.predict_proba(X)) / 4
    np.testing.assert_allclose(vote.predict_proba(X), expected)
    np.testing.assert_array_equal(vote.predict(X), lr.classes_[expected.argmax(axis=1)])
    hard = SpeakerVotingClassifier([("lr", LogisticRegression()), ("nb", GaussianNB())],
                                   voting="hard").fit(X, y)
    assert set(hard.predict(X)) <= set(y)


def test_voting_over_clip_pipelines_in_evaluate(corpus, member):
    svm = member("svm-sn")
    fusion = make_fusion_pipeline([svm, member("nb-sn")], method="voting")
    # The SVM has no predict_proba: a calibrated copy of it votes with probabilities, and
    # the pipeline given is left as it was.
    assert fusion.voting == "soft"
    assert type(fusion.estimators[0][1].steps[-1][1]).__name__ == "CalibratedClassifierCV"
    assert type(svm[1].steps[-1][1]).__name__ == "SVC"
    report = evaluate(fusion, corpus.data, corpus.target, groups=corpus.groups,
                      cv=LeaveOneSpeakerOut())
    assert report.uar > 0.5


def test_with_probabilities_wraps_only_what_lacks_them():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC

    from sklearn_ser.pipelines import with_probabilities

    lr = LogisticRegression()
    assert with_probabilities(lr) is lr
    assert isinstance(with_probabilities(SVC()), CalibratedClassifierCV)
    X, y, _ = _numeric()
    calibrated = with_probabilities(make_pipeline(StandardScaler(), SVC())).fit(X, y)
    proba = calibrated.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (calibrated.classes_[proba.argmax(axis=1)] == y).mean() > 0.8


def test_names_joined_by_plus_are_a_soft_vote():
    vote = make_named_pipeline("nb-sn+cnn")
    assert [name for name, _ in vote.estimators] == ["nb-sn", "cnn"]
    assert vote.voting == "soft"
    with pytest.raises(ValueError, match="Unknown model 'gpt'"):
        make_named_pipeline("svm+gpt")


def test_deep_fusion_is_a_soft_vote_of_classic_and_deep_members():
    fusion = make_named_pipeline("fusion-deep")
    assert [name for name, _ in fusion.estimators] == ["svm-sn", "lr-sn", "crnn-sn"]
    assert fusion.voting == "soft" and hasattr(fusion, "predict_proba")
    network = fusion.estimators[2][1][-1]
    with sklearn.config_context(enable_metadata_routing=True):  # early stopping by speaker
        assert network.get_metadata_routing().fit.requests["groups"] is True


def test_classic_and_deep_members_mix(corpus, member, monkeypatch):
    from sklearn_ser.neural import CNNClassifier

    seen = []
    original = CNNClassifier.fit

    @functools.wraps(original)
    def recording(self, X, y, groups=None):
        seen.append(None if groups is None else len(set(groups)))
        return original(self, X, y, groups=groups)

    monkeypatch.setattr(CNNClassifier, "fit", recording)
    cnn = make_named_pipeline("cnn", random_state=0)
    cnn.set_params(cnnclassifier__max_epochs=3, cnnclassifier__channels=(4,),
                   cnnclassifier__n_hidden=8, cnnclassifier__device="cpu",
                   cnnclassifier__crop_frames=None)
    fusion = make_fusion_pipeline([("cnn", cnn), member("lr-sn")], cv=2, random_state=0)
    fusion.fit(corpus.data, corpus.target, groups=corpus.groups)
    # The network got the speakers for its early-stopping split, in every fit (2 inner + 1).
    assert seen == [4, 2, 2] or sorted(seen) == [2, 2, 4]
    pred = fusion.predict(corpus.data[:6], groups=corpus.groups[:6])
    assert set(pred) <= set(corpus.target)


def test_feature_fusion_joins_every_extractor():
    pipe = make_fusion_pipeline(["svm-sn"], method="features")
    names = [name for name, _ in pipe.named_steps["features"].transformer_list]
    assert names == ["mfcc", "lpcc", "spectral", "prosody", "logmel"]
    assert "speakernormalizer" in pipe.named_steps
    with pytest.raises(ValueError, match="one classic model"):
        make_fusion_pipeline(["svm", "nb"], method="features")


def _tiny_network(fusion, name):
    """Shrink the network of a feature fusion's deep member, for speed."""
    prefix = f"features__{name}__cnnclassifier__"
    return fusion.set_params(**{prefix + "max_epochs": 2, prefix + "channels": (4,),
                                prefix + "n_hidden": 8, prefix + "device": "cpu"})


def test_feature_fusion_with_a_network_trains_it_on_training_clips_only(corpus, monkeypatch):
    from sklearn_ser.neural import CNNClassifier

    seen = []
    original = CNNClassifier.fit

    @functools.wraps(original)
    def recording(self, X, y, groups=None):
        seen.append((len(X), None if groups is None else set(groups)))
        return original(self, X, y, groups=groups)

    monkeypatch.setattr(CNNClassifier, "fit", recording)
    fusion = _tiny_network(make_fusion_pipeline(["lr-sn", "cnn-sn"], method="features",
                                                features=["mfcc"], random_state=0), "cnn-sn")
    assert [n for n, _ in fusion.named_steps["features"].transformer_list] == [
        "classic", "cnn-sn"]
    with warnings.catch_warnings():
        # The speakers reach every speaker normaliser, the network's frame one included.
        warnings.filterwarnings("error", message=".*no groups", category=SklearnSerWarning)
        report = evaluate(fusion, corpus.data, corpus.target, groups=corpus.groups,
                          cv="kfold:2", return_estimators=True)
    assert report.uar > 0.5
    # One network per fold, trained on the fold's training clips, their two noisy copies
    # and their two speed copies (speakers of their own), never on a test speaker.
    assert len(seen) == 2
    for (n_clips, speakers), test_speakers in zip(seen, report.per_fold["test_speakers"]):
        training = set(corpus.groups) - set(test_speakers)
        assert n_clips == 5 * int(np.isin(corpus.groups, list(training)).sum())
        assert training <= speakers and not speakers & set(test_speakers)
    # The classifier sees the classic features and the network's embedding side by side.
    fitted = report.estimators[0]
    n_classic = fitted.named_steps["features"].transformer_list[0][1].transform(
        corpus.data[:2]).shape[1]
    with sklearn.config_context(enable_metadata_routing=True):
        fused = fitted.named_steps["features"].transform(corpus.data[:2],
                                                         groups=corpus.groups[:2])
    assert fused.shape == (2, n_classic + 8)


def test_feature_fusion_members_are_checked():
    from sklearn_ser.pipelines import make_deep_pipeline

    with pytest.raises(ValueError, match="one classic model and networks"):
        make_fusion_pipeline(["svm", "gpt"], method="features")
    with pytest.raises(ValueError, match="without samplers"):
        make_fusion_pipeline(["svm", ("cnn", make_deep_pipeline("cnn"))], method="features")
    with pytest.raises(ValueError, match="distinct member names"):
        make_fusion_pipeline(["svm", "cnn", ("cnn", make_deep_pipeline(
            "cnn", speed_perturbation=None))], method="features")
    own = make_deep_pipeline("crnn", speed_perturbation=None)
    fusion = make_fusion_pipeline(["svm", ("mine", own)], method="features")
    assert fusion.named_steps["features"].transformer_list[1] == ("mine", own)


def test_stacking_without_speakers_warns():
    X, y, _ = _numeric()
    with pytest.warns(SklearnSerWarning, match="no groups"):
        SpeakerStackingClassifier([("lr", LogisticRegression())]).fit(X, y)


@pytest.mark.parametrize("kwargs, match", [
    (dict(method="bagging"), "method must be"),
    (dict(members=[]), "at least one member"),
    (dict(members=["svm", "gpt"]), "Unknown model 'gpt'"),
])
def test_bad_fusion_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_fusion_pipeline(**kwargs)


def test_named_pipeline_matches_the_classic_factory():
    a = make_named_pipeline("lr-sn", random_state=0)
    b = make_classic_pipeline("lr", speaker_norm=True, random_state=0)
    assert [n for n, _ in a.steps] == [n for n, _ in b.steps]
    assert a.get_params()["logisticregression__C"] == b.get_params()["logisticregression__C"]


def test_cross_validate_routes_the_speakers_to_the_fusion(corpus, member):
    from sklearn.model_selection import cross_validate

    fusion = make_fusion_pipeline([member("svm-sn"), member("lr-sn")], cv=2)
    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
        # Neither the stack nor a SpeakerNormalizer may miss the speakers, in fit or score.
        warnings.filterwarnings("error", message=".*no groups", category=SklearnSerWarning)
        result = cross_validate(fusion, corpus.data, corpus.target,
                                cv=LeaveOneSpeakerOut(), params={"groups": corpus.groups})
    assert len(result["test_score"]) == 4
    assert np.mean(result["test_score"]) > 0.5
