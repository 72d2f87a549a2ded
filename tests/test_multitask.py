"""MultiTaskClassifier: auxiliary targets as fit metadata, in cross_validate and GridSearchCV.

Tiny networks on synthetic pooled features (a few seconds each), plus one end-to-end run on
synthetic speech with the speakers' gender as the auxiliary task.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn import config_context
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ser.neural import MultiTaskClassifier

EMOTIONS = np.array(["anger", "neutral", "sadness"])
TINY = dict(hidden_layer_sizes=(32,), max_epochs=30, lr=0.01, batch_size=16, patience=5,
            device="cpu", random_state=0)


def make_features(n=120, n_features=12, seed=0):
    """Features carrying the emotion (columns 0-2) and the gender (column 3); 6 speakers."""
    rng = np.random.default_rng(seed)
    codes = np.arange(n) % 3
    speakers = np.repeat(np.arange(6), n // 6)
    female = speakers % 2 == 0
    X = rng.normal(size=(n, n_features))
    X[:, :3] += 2.0 * (codes[:, None] == np.arange(3)[None, :])
    X[:, 3] += 3.0 * female
    aux = pd.DataFrame({
        "gender": np.where(female, "female", "male"),
        "arousal": (codes == 0) * 1.0 - (codes == 2) * 1.0 + rng.normal(0, 0.1, n),
    })
    groups = np.array([f"spk{s}" for s in speakers])
    return X.astype(np.float32), EMOTIONS[codes], groups, aux


@pytest.fixture(scope="module")
def data():
    return make_features()


@pytest.fixture(scope="module")
def fitted(data):
    X, y, groups, aux = data
    return MultiTaskClassifier(**TINY).fit(X, y, groups=groups, aux=aux)


def test_predicts_the_emotion_and_the_auxiliary_tasks(fitted, data):
    X, y, _, aux = data
    assert fitted.classes_.tolist() == EMOTIONS.tolist()
    assert fitted.aux_names_ == ["gender", "arousal"]
    assert fitted.aux_kinds_ == {"gender": "classification", "arousal": "regression"}
    assert fitted.aux_classes_["gender"].tolist() == ["female", "male"]
    pred = fitted.predict(X)
    assert pred.shape == y.shape and set(pred) <= set(EMOTIONS)
    assert fitted.score(X, y) > 0.8
    proba = fitted.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    aux_pred = fitted.predict_aux(X)
    assert np.mean(aux_pred["gender"] == aux["gender"].to_numpy()) > 0.8
    # Regression heads answer in the original unit.
    assert np.corrcoef(aux_pred["arousal"], aux["arousal"])[0, 1] > 0.7
    assert 1 <= fitted.best_epoch_ <= fitted.n_iter_ <= TINY["max_epochs"]


def test_zero_aux_weight_is_the_single_task_network(data):
    X, y, groups, aux = data
    single = MultiTaskClassifier(**TINY).fit(X, y, groups=groups)
    assert single.aux_names_ == [] and single.predict_aux(X) == {}
    # Same trunk and emotion head initialisation; the auxiliary loss never enters: same net.
    muted = MultiTaskClassifier(**TINY, aux_weight=0.0).fit(X, y, groups=groups, aux=aux)
    np.testing.assert_allclose(muted.predict_proba(X), single.predict_proba(X), atol=1e-6)
    # A per-task dict: unnamed tasks get weight 0, so this is the same network too.
    named = MultiTaskClassifier(**TINY, aux_weight={"gender": 0.0}).fit(
        X, y, groups=groups, aux=aux)
    np.testing.assert_allclose(named.predict_proba(X), single.predict_proba(X), atol=1e-6)
    # With a weight, the auxiliary losses change the trunk.
    joint = MultiTaskClassifier(**TINY, aux_weight=1.0).fit(X, y, groups=groups, aux=aux)
    assert not np.allclose(joint.predict_proba(X), single.predict_proba(X), atol=1e-3)


def test_validation_loss_is_the_emotion_loss(data):
    X, y, _, aux = data
    # Unlearnable auxiliary labels: the training loss carries them, validation does not.
    noise = pd.DataFrame({"junk": np.random.default_rng(1).integers(0, 5, len(y))})
    clf = MultiTaskClassifier(**{**TINY, "patience": None}, aux_weight=5.0).fit(
        X, y, aux=noise)
    first = clf.history_[0]
    assert first["train_loss"] > first["valid_loss"] + 1.0  # 5 x log(5) inside train only


def test_aux_formats_and_missing_values(data):
    X, y, _, aux = data
    as_array = MultiTaskClassifier(**TINY).fit(X, y, aux=aux[["gender"]].to_numpy())
    assert as_array.aux_names_ == ["aux0"]
    as_series = MultiTaskClassifier(**TINY).fit(X, y, aux=aux["gender"])
    assert as_series.aux_names_ == ["gender"]
    gaps = aux.copy()
    gaps.loc[::3, "gender"] = None
    gaps.loc[::4, "arousal"] = np.nan
    clf = MultiTaskClassifier(**TINY).fit(X, y, aux=gaps)
    assert clf.aux_classes_["gender"].tolist() == ["female", "male"]
    assert np.isfinite(clf.history_[:, "train_loss"]).all()


@pytest.mark.parametrize("bad, error, match", [
    ({"gender": ["f"] * 120}, TypeError, "a dict is not cut"),
    (pd.DataFrame({"gender": ["f"] * 10}), ValueError, "aux has 10 rows"),
    (np.zeros((120, 2, 2)), ValueError, "1-D or 2-D"),
    (pd.DataFrame({"gender": [None] * 120}), ValueError, "holds no labels"),
])
def test_bad_aux_is_refused(data, bad, error, match):
    X, y, _, _ = data
    with pytest.raises(error, match=match):
        MultiTaskClassifier(**TINY).fit(X, y, aux=bad)


def test_bad_parameters_and_inputs(data):
    X, y, _, aux = data
    with pytest.raises(ValueError, match="names tasks \\['speaker'\\]"):
        MultiTaskClassifier(**TINY, aux_weight={"speaker": 1.0}).fit(X, y, aux=aux)
    with pytest.raises(ValueError, match="trunk='cnn', 'lstm' or 'crnn'"):
        MultiTaskClassifier(**TINY).fit(np.zeros((6, 4, 2)), y[:6])
    with pytest.raises(ValueError, match="trunk"):
        MultiTaskClassifier(trunk="transformer").fit(X, y)
    with pytest.raises(ValueError, match="its parameters are .*n_units"):
        MultiTaskClassifier(trunk="lstm", trunk_params={"channels": (4,)}).fit(
            np.zeros((6, 4, 2), np.float32), y[:6])


def test_cross_validate_with_speaker_groups_and_aux(data):
    X, y, groups, aux = data
    model = make_pipeline(StandardScaler(), MultiTaskClassifier(**TINY))
    # Without metadata routing: aux goes to the step by its prefix; sklearn cuts it per fold.
    scores = cross_validate(model, X, y, groups=groups, cv=GroupKFold(3),
                            scoring="balanced_accuracy",
                            params={"multitaskclassifier__aux": aux,
                                    "multitaskclassifier__groups": groups},
                            return_estimator=True)
    assert scores["test_score"].mean() > 0.7
    for est in scores["estimator"]:
        assert est[-1].aux_names_ == ["gender", "arousal"]
        assert len(est[-1].history_) >= 1


def test_metadata_routing(data):
    X, y, groups, aux = data
    with config_context(enable_metadata_routing=True):
        clf = MultiTaskClassifier(**TINY).set_fit_request(aux=True, groups=True)
        model = make_pipeline(StandardScaler(), clf)
        # With routing on, groups goes through params, to the splitter and to the net.
        scores = cross_validate(model, X, y, cv=GroupKFold(3), scoring="balanced_accuracy",
                                params={"aux": aux, "groups": groups}, return_estimator=True)
    assert scores["test_score"].mean() > 0.7
    assert scores["estimator"][0][-1].aux_names_ == ["gender", "arousal"]


def test_grid_search_over_loss_weights(data):
    X, y, groups, aux = data
    search = GridSearchCV(MultiTaskClassifier(**TINY),
                          {"aux_weight": [0.0, 0.5]},
                          cv=GroupKFold(3), scoring="balanced_accuracy")
    search.fit(X, y, groups=groups, aux=aux)
    assert len(search.cv_results_["params"]) == 2
    assert search.best_estimator_.aux_names_ == ["gender", "arousal"]
    assert search.score(X, y) > 0.7


def test_pickle_clone_and_determinism(fitted, data):
    X, y, groups, aux = data
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(again.predict_proba(X), fitted.predict_proba(X))
    twin = clone(fitted).fit(X, y, groups=groups, aux=aux)
    np.testing.assert_allclose(twin.predict_proba(X), fitted.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("trunk, params", [
    ("lstm", {"n_units": 8, "n_attention": 8}),
    ("cnn", {"channels": (4, 8), "n_hidden": 8}),
])
def test_sequence_trunks(trunk, params, data):
    _, y, groups, aux = data
    rng = np.random.default_rng(0)
    codes = np.searchsorted(EMOTIONS, y)
    X = rng.normal(size=(len(y), 15, 4)).astype(np.float32)
    X += 1.5 * (codes[:, None, None] == np.arange(4)[None, None, :] % 3)
    X[::2, 10:] = np.nan  # half the clips are 10 frames long
    clf = MultiTaskClassifier(trunk=trunk, trunk_params=params,
                              **{**TINY, "max_epochs": 20}).fit(X, y, groups=groups, aux=aux)
    assert clf.__sklearn_tags__().input_tags.three_d_array
    assert clf.n_features_in_ == 4
    assert clf.score(X, y) > 0.6
    assert set(clf.predict_aux(X[:5])["gender"]) <= {"female", "male"}
    # A clip's prediction ignores its padding.
    more = np.concatenate([X[:4], np.full((4, 6, 4), np.nan, np.float32)], axis=1)
    np.testing.assert_allclose(clf.predict_proba(more), clf.predict_proba(X[:4]), atol=1e-5)
    # The trunk's output is the embedding; its padding is ignored too.
    n_units = {"lstm": 16, "cnn": 8}[trunk]
    assert clf.transform(X).shape == (len(X), n_units)
    np.testing.assert_allclose(clf.transform(more), clf.transform(X[:4]), atol=1e-5)
    # Only the attention-pooled trunk has attention weights, over each clip's real frames.
    assert hasattr(clf, "attention_weights") == (trunk == "lstm")
    if trunk == "lstm":
        weights = clf.attention_weights(X[:4])
        assert [len(w) for w in weights] == [10, 15, 10, 15]
        np.testing.assert_allclose([w.sum() for w in weights], 1.0, rtol=1e-5)


def test_transform_gives_the_trunk_output(fitted, data):
    import torch
    from sklearn.linear_model import LogisticRegression

    X, y, _, _ = data
    emb = fitted.transform(X)
    assert emb.shape == (len(X), 32) and emb.dtype == np.float64
    assert fitted.get_feature_names_out().tolist() == [f"multitask_emb{i}" for i in range(32)]
    # The emotion head on the embedding gives the emotion probabilities.
    logits = fitted.net_.module_.head(torch.as_tensor(emb, dtype=torch.float32))
    np.testing.assert_allclose(torch.softmax(logits, 1).detach().numpy(),
                               fitted.predict_proba(X), atol=1e-5)
    assert LogisticRegression().fit(emb[::2], y[::2]).score(emb[1::2], y[1::2]) > 0.8
    assert not hasattr(fitted, "attention_weights")  # an MLP trunk pools nothing


def test_end_to_end_on_synthetic_speech_with_gender():
    from sklearn_ser.datasets import make_emotional_speech
    from sklearn_ser.features import MFCCExtractor

    corpus = make_emotional_speech(72, n_speakers=6, random_state=0)
    gender = corpus.frame[["gender"]]
    model = make_pipeline(MFCCExtractor(n_mfcc=13), StandardScaler(),
                          MultiTaskClassifier(**TINY))
    scores = cross_validate(model, corpus.data, corpus.target, groups=corpus.groups,
                            cv=GroupKFold(3), scoring="balanced_accuracy",
                            params={"multitaskclassifier__aux": gender,
                                    "multitaskclassifier__groups": corpus.groups})
    chance = 1 / len(np.unique(corpus.target))
    assert scores["test_score"].mean() > chance + 0.1
