"""Fine-tuning: init_from (fitted model, FrozenEstimator, file), freeze, head replacement.

Source and target tasks are synthetic pooled features (MultiTaskClassifier) or NaN-padded
sequences (CNNClassifier); tiny networks, a few seconds each.
"""

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ser.exceptions import UntrustedModelError
from sklearn_ser.io import save_model
from sklearn_ser.neural import CNNClassifier, LSTMClassifier, MultiTaskClassifier

TINY = dict(hidden_layer_sizes=(16,), max_epochs=20, lr=0.01, batch_size=16, patience=5,
            device="cpu", random_state=0)


def make_corpus(labels, n_per_class=30, n_features=10, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.asarray(labels), n_per_class)
    codes = np.unique(y, return_inverse=True)[1]
    X = rng.normal(size=(len(y), n_features))
    X[np.arange(len(y)), codes % n_features] += 2.5
    groups = np.array([f"spk{i % 5}" for i in range(len(y))])
    return X.astype(np.float32), y, groups


@pytest.fixture(scope="module")
def source():
    X, y, groups = make_corpus(["anger", "neutral", "sadness"], seed=0)
    return MultiTaskClassifier(**TINY).fit(X, y, groups=groups)


def _param(clf, name):
    return dict(clf.net_.module_.named_parameters())[name].detach().clone()


def test_same_labels_copy_everything_and_freeze_the_trunk(source):
    X, y, groups = make_corpus(["anger", "neutral", "sadness"], n_per_class=8, seed=1)
    tuned = MultiTaskClassifier(**TINY, init_from=source, freeze="trunk").fit(X, y)
    names = [n for n, _ in source.net_.module_.named_parameters()]
    assert tuned.transfer_["copied"] == names
    assert tuned.transfer_["shared_classes"] == ["anger", "neutral", "sadness"]
    assert tuned.transfer_["new_classes"] == []
    assert tuned.transfer_["frozen"] == ["trunk.layers.0.weight", "trunk.layers.0.bias"]
    torch.testing.assert_close(_param(tuned, "trunk.layers.0.weight"),
                               _param(source, "trunk.layers.0.weight"))
    assert not torch.allclose(_param(tuned, "head.weight"), _param(source, "head.weight"))
    # The source is left as it was.
    assert all(p.requires_grad for p in source.net_.module_.parameters())


def test_new_label_set_replaces_the_head_keeping_shared_rows(source):
    X, y, _ = make_corpus(["anger", "happiness", "sadness", "surprise"], n_per_class=6, seed=2)
    # A learning rate this small leaves the weights where fit started them.
    tuned = MultiTaskClassifier(**{**TINY, "max_epochs": 1, "lr": 1e-12}, optimizer="sgd",
                                validation_fraction=None, init_from=source).fit(X, y)
    assert tuned.classes_.tolist() == ["anger", "happiness", "sadness", "surprise"]
    assert tuned.transfer_["shared_classes"] == ["anger", "sadness"]
    assert tuned.transfer_["new_classes"] == ["happiness", "surprise"]
    head, old = _param(tuned, "head.weight"), _param(source, "head.weight")
    assert head.shape == (4, 16)
    torch.testing.assert_close(head[[0, 2]], old[[0, 2]])
    assert not torch.allclose(head[1], old[1])
    torch.testing.assert_close(_param(tuned, "trunk.layers.0.weight"),
                               _param(source, "trunk.layers.0.weight"))


def test_fine_tuning_beats_scratch_on_few_labels_when_the_trunk_transfers():
    """A source with many labels teaches the trunk a feature map that few target labels
    cannot; fine-tuning from it beats training the same network from scratch."""
    rng = np.random.default_rng(0)
    n_features, labels = 40, np.array(["anger", "fear", "neutral", "sadness"])
    mixing = rng.normal(size=(n_features, n_features))

    def corpus(n, seed):
        r = np.random.default_rng(seed)
        codes = np.arange(n) % 4
        latent = r.normal(size=(n, n_features))
        latent[:, :4] += 1.5 * (codes[:, None] == np.arange(4)[None, :])
        return (latent @ mixing).astype(np.float32), labels[codes]

    X_src, y_src = corpus(600, 1)
    X_few, y_few = corpus(16, 2)
    X_test, y_test = corpus(400, 3)
    scaler = StandardScaler().fit(X_src)
    params = dict(hidden_layer_sizes=(32,), max_epochs=40, lr=0.005, patience=8,
                  device="cpu", random_state=0)
    pre = MultiTaskClassifier(**params).fit(scaler.transform(X_src), y_src)
    tuned = MultiTaskClassifier(**params, init_from=pre, validation_fraction=None).fit(
        scaler.transform(X_few), y_few)
    scratch = MultiTaskClassifier(**params, validation_fraction=None).fit(
        scaler.transform(X_few), y_few)
    tuned_acc = tuned.score(scaler.transform(X_test), y_test)
    scratch_acc = scratch.score(scaler.transform(X_test), y_test)
    assert tuned_acc > scratch_acc + 0.05, (tuned_acc, scratch_acc)


def test_init_from_a_file(source, tmp_path):
    X, y, _ = make_corpus(["anger", "neutral", "sadness"], n_per_class=8, seed=3)
    path = tmp_path / "pre.joblib"
    joblib.dump(source, path)
    # A pickle runs code when loaded: refused as a path, used once its owner loads it.
    with pytest.raises(UntrustedModelError, match="joblib.load"):
        MultiTaskClassifier(**TINY, init_from=str(path)).fit(X, y)
    tuned = MultiTaskClassifier(**TINY, init_from=joblib.load(path), freeze="trunk").fit(X, y)
    torch.testing.assert_close(_param(tuned, "trunk.layers.0.weight"),
                               _param(source, "trunk.layers.0.weight"))
    # A saved pipeline: its network is the source.
    model = make_pipeline(StandardScaler(), clone(source)).fit(*make_corpus(
        ["anger", "neutral", "sadness"], seed=0)[:2])
    path = tmp_path / "pipe.sser"
    save_model(model, path)
    tuned = MultiTaskClassifier(**TINY, init_from=path, freeze="trunk").fit(X, y)
    torch.testing.assert_close(_param(tuned, "trunk.layers.0.weight"),
                               _param(model[-1], "trunk.layers.0.weight"))


def test_cross_validate_and_grid_search_with_a_frozen_source(source):
    X, y, groups = make_corpus(["anger", "neutral", "sadness"], n_per_class=12, seed=4)
    tuner = MultiTaskClassifier(**TINY, init_from=FrozenEstimator(source))
    scores = cross_validate(tuner, X, y, groups=groups, cv=GroupKFold(3),
                            scoring="balanced_accuracy", return_estimator=True,
                            params={"groups": groups})
    assert scores["test_score"].mean() > 0.6
    assert all(est.transfer_["shared_classes"] for est in scores["estimator"])
    search = GridSearchCV(tuner, {"freeze": ["none", "trunk"]}, cv=GroupKFold(3))
    search.fit(X, y, groups=groups)
    assert set(search.cv_results_["param_freeze"]) == {"none", "trunk"}
    assert hasattr(search.best_estimator_, "transfer_")


def test_a_cloned_unfitted_source_is_refused_with_a_fix(source):
    X, y, _ = make_corpus(["anger", "neutral", "sadness"], n_per_class=5, seed=5)
    cloned = clone(MultiTaskClassifier(**TINY, init_from=source))  # clone drops the training
    with pytest.raises(ValueError, match="FrozenEstimator"):
        cloned.fit(X, y)


def test_incompatible_sources_are_refused(source, tmp_path):
    X, y, _ = make_corpus(["anger", "neutral", "sadness"], n_per_class=5, seed=6)
    with pytest.raises(ValueError, match="same architecture"):
        MultiTaskClassifier(**{**TINY, "hidden_layer_sizes": (8,)}, init_from=source).fit(X, y)
    with pytest.raises(ValueError, match="trained on 10 features"):
        MultiTaskClassifier(**TINY, init_from=source).fit(X[:, :6], y)
    with pytest.raises(TypeError, match="must be a fitted MultiTaskClassifier"):
        MultiTaskClassifier(**TINY, init_from=StandardScaler().fit(X)).fit(X, y)
    with pytest.raises(ValueError, match="does not exist"):
        MultiTaskClassifier(**TINY, init_from=str(tmp_path / "missing.joblib")).fit(X, y)
    with pytest.raises(ValueError, match="matches no parameter"):
        MultiTaskClassifier(**TINY, init_from=source, freeze=["encoder"]).fit(X, y)


def test_refit_without_init_from_drops_transfer_(source):
    X, y, _ = make_corpus(["anger", "neutral", "sadness"], n_per_class=5, seed=7)
    clf = MultiTaskClassifier(**TINY, init_from=source).fit(X, y)
    assert hasattr(clf, "transfer_")
    clf.set_params(init_from=None).fit(X, y)
    assert not hasattr(clf, "transfer_")


def _sequences(labels, n_per_class, seed):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.asarray(labels), n_per_class)
    codes = np.unique(y, return_inverse=True)[1]
    X = rng.normal(size=(len(y), 20, 6)).astype(np.float32)
    X += 1.5 * (codes[:, None, None] == np.arange(6)[None, None, :] % len(labels))
    X[::3, 12:] = np.nan
    return X, y


@pytest.mark.parametrize("cls, size", [
    (CNNClassifier, dict(channels=(4, 8), n_hidden=8)),
    (LSTMClassifier, dict(n_units=8, n_attention=8)),
])
def test_sequence_classifiers_fine_tune(cls, size):
    train = dict(max_epochs=8, lr=0.01, batch_size=16, device="cpu", random_state=0,
                 validation_fraction=None)
    X, y = _sequences(["anger", "neutral", "sadness"], 20, seed=0)
    pre = cls(**size, **train).fit(X, y)
    X2, y2 = _sequences(["anger", "calm"], 8, seed=1)
    tuned = cls(**size, **train, init_from=FrozenEstimator(pre), freeze="trunk").fit(X2, y2)
    assert tuned.classes_.tolist() == ["anger", "calm"]
    assert tuned.transfer_["shared_classes"] == ["anger"]
    frozen = tuned.transfer_["frozen"]
    assert frozen and not any(n.startswith("head.") for n in frozen)
    before = dict(pre.net_.module_.named_parameters())
    for name, param in tuned.net_.module_.named_parameters():
        if name in frozen:
            torch.testing.assert_close(param, before[name])
    assert tuned.predict(X2).shape == y2.shape
    with pytest.raises(ValueError, match="same architecture"):
        cls(**{**size, "n_attention": 4} if cls is LSTMClassifier else {**size, "n_hidden": 4},
            **train, init_from=pre).fit(X2, y2)
