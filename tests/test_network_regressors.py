"""The networks with a regression head (issue 23): continuous targets on the one training loop,
their units and shapes, search, embeddings, model files and the regression pipeline.

Everything runs on the CPU with tiny networks on synthetic data.
"""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.io import load_model, save_model
from sklearn_ser.metrics import ccc_scorer, concordance_correlation_coefficient
from sklearn_ser.model_selection import RegressionReport, evaluate
from sklearn_ser.neural import (
    CNNClassifier,
    CNNRegressor,
    CRNNRegressor,
    LSTMRegressor,
    NeuralWarning,
)
from sklearn_ser.pipelines import make_named_pipeline, make_regression_pipeline

TINY = {
    CNNRegressor: dict(channels=(4, 8), n_hidden=8),
    LSTMRegressor: dict(n_units=8, n_attention=8),
    CRNNRegressor: dict(channels=(4,), n_units=8, n_attention=8),
}
TRAIN = dict(max_epochs=12, lr=0.01, batch_size=16, patience=4, device="cpu", random_state=0)
N_TRAIN = 72


def make_rated_sequences(n_clips=96, n_frames=24, n_coeffs=4, seed=0):
    """NaN-padded sequences whose level in half of the coefficients follows a rating in
    [-1, 1], with varying lengths and six speakers."""
    rng = np.random.default_rng(seed)
    rating = rng.uniform(-1, 1, n_clips)
    X = rng.normal(size=(n_clips, n_frames, n_coeffs)).astype(np.float32)
    X += (1.5 * rating[:, None, None] * (np.arange(n_coeffs) % 2)).astype(np.float32)
    for i, n in enumerate(rng.integers(6, n_frames + 1, n_clips)):
        X[i, n:] = np.nan
    groups = np.repeat([f"spk{k}" for k in range(6)], n_clips // 6)
    return X, rating, groups


@pytest.fixture(scope="module")
def data():
    return make_rated_sequences()


@pytest.fixture(scope="module", params=list(TINY), ids=lambda c: c.__name__)
def fitted(request, data):
    X, y, groups = data
    cls = request.param
    return cls(**TINY[cls], **TRAIN).fit(X[:N_TRAIN], y[:N_TRAIN], groups=groups[:N_TRAIN])


def test_learns_a_rating_of_held_out_clips(fitted, data):
    X, y, _ = data
    pred = fitted.predict(X[N_TRAIN:])
    assert pred.shape == (len(X) - N_TRAIN,) and pred.dtype == np.float64
    # The mean of the training ratings scores an R² of about 0 and a CCC of 0.
    assert r2_score(y[N_TRAIN:], pred) > 0.5
    assert concordance_correlation_coefficient(y[N_TRAIN:], pred) > 0.7
    assert fitted.score(X[N_TRAIN:], y[N_TRAIN:]) == pytest.approx(
        r2_score(y[N_TRAIN:], pred))
    assert fitted.n_outputs_ == 1 and fitted.target_mean_.shape == (1,)
    assert fitted.n_iter_ == len(fitted.history_) and 1 <= fitted.best_epoch_ <= fitted.n_iter_
    assert "valid_loss" in fitted.history_[-1]


def test_predictions_are_in_the_unit_of_the_targets(data):
    X, y, _ = data
    params = dict(**TINY[CRNNRegressor], **TRAIN)
    plain = CRNNRegressor(**params).fit(X[:N_TRAIN], y[:N_TRAIN])
    rated = CRNNRegressor(**params).fit(X[:N_TRAIN], 1000 * y[:N_TRAIN] + 50)
    # The network learns the standardised targets either way.
    assert_allclose(rated.target_mean_, 1000 * plain.target_mean_ + 50)
    assert_allclose(rated.target_scale_, 1000 * plain.target_scale_)
    pred, pred_rated = plain.predict(X[N_TRAIN:]), rated.predict(X[N_TRAIN:])
    assert_allclose(pred_rated, 1000 * pred + 50, rtol=1e-3, atol=1.0)
    assert concordance_correlation_coefficient(1000 * y[N_TRAIN:] + 50, pred_rated) == (
        pytest.approx(concordance_correlation_coefficient(y[N_TRAIN:], pred), abs=1e-3))


def test_one_or_several_targets(data):
    X, y, _ = data
    targets = np.column_stack([y, 4 - 3 * y])  # arousal and a second rating on a 1-7 scale
    params = dict(**TINY[CNNRegressor], **TRAIN)
    both = CNNRegressor(**params).fit(X[:N_TRAIN], targets[:N_TRAIN])
    pred = both.predict(X[N_TRAIN:])
    assert pred.shape == (len(X) - N_TRAIN, 2) and both.n_outputs_ == 2
    for k in range(2):
        assert concordance_correlation_coefficient(targets[N_TRAIN:, k], pred[:, k]) > 0.6
    column = CNNRegressor(**params).fit(X[:N_TRAIN], y[:N_TRAIN, None])
    assert column.predict(X[:3]).shape == (3, 1)
    # A constant target is only centred; its prediction is the constant.
    constant = CNNRegressor(**params).fit(X[:N_TRAIN], np.full(N_TRAIN, 2.5))
    assert_array_equal(constant.target_scale_, [1.0])
    assert_allclose(constant.predict(X[:3]), 2.5, atol=0.5)


def test_bad_targets_are_refused(data):
    X, y, _ = data
    bad = y.copy()
    bad[[3, 7]] = np.nan
    bad[9] = np.inf
    with pytest.raises(ValueError, match=r"3 of 96 target rows hold NaN or infinity "
                                         r"\(y\[3\], y\[7\], y\[9\]\)"):
        CNNRegressor(**TINY[CNNRegressor], **TRAIN).fit(X, bad)
    with pytest.raises(ValueError, match="could not convert string to float"):
        CNNRegressor(**TINY[CNNRegressor], **TRAIN).fit(X, np.repeat(["calm", "anger"], 48))
    with pytest.raises(ValueError, match="requires y to be passed"):
        CNNRegressor().fit(X, None)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        CNNRegressor().fit(X, y[:-1])


def test_early_stopping_split_does_not_stratify_a_float_target(data):
    X, y, groups = data
    est = CNNRegressor(validation_fraction=0.3)
    train, valid = est._split(y[:, None], groups, seed=0)
    assert set(groups[train]).isdisjoint(groups[valid])
    train, valid = est._split(y[:, None], None, seed=0)  # a float target has no strata
    assert len(valid) == 29 and len(train) + len(valid) == len(y)
    with pytest.warns(NeuralWarning, match="is a random sample of clips instead"):
        est._split(y[:, None], np.zeros(len(y)), seed=0)


def test_clone_get_params_and_grid_search_with_ccc(data):
    X, y, _ = data
    est = CNNRegressor(**TINY[CNNRegressor], **TRAIN)
    params = est.get_params()
    assert "class_weight" not in params and "mixup" not in params
    assert {"crop_frames", "time_masks", "freq_masks", "init_from"} <= set(params)
    assert clone(est).get_params() == params
    search = GridSearchCV(est.set_params(validation_fraction=None),
                          {"max_epochs": [1, 8]}, scoring=ccc_scorer,
                          cv=KFold(2, shuffle=True, random_state=0))
    search.fit(X[:48], y[:48])
    assert search.best_params_ == {"max_epochs": 8}
    assert search.best_score_ > 0.2
    assert search.predict(X[:2]).shape == (2,)


def test_transform_gives_the_embedding(fitted, data):
    X, _, _ = data
    emb = fitted.transform(X[:5])
    names = fitted.get_feature_names_out()
    assert emb.shape == (5, len(names)) and emb.dtype == np.float64
    prefix = {CNNRegressor: "cnn_emb", LSTMRegressor: "lstm_emb",
              CRNNRegressor: "crnn_emb"}[type(fitted)]
    assert names[0] == f"{prefix}0"
    frame = clone(fitted).set_output(transform="pandas").fit(X, np.arange(len(X))).transform(
        X[:5])
    assert frame.columns.tolist() == names.tolist()
    # One clip at a time: a clip's embedding and prediction do not depend on its batch.
    assert_allclose(fitted.transform(X[2:3]), emb[2:3], rtol=1e-6, atol=1e-7)
    assert_allclose(fitted.predict(X[2:3]), fitted.predict(X[:5])[2:3], rtol=1e-6)


def test_pickle_and_model_files_round_trip(fitted, data, tmp_path):
    X, _, _ = data
    expected = fitted.predict(X)
    again = pickle.loads(pickle.dumps(fitted))
    assert_array_equal(again.predict(X), expected)
    save_model(fitted, tmp_path / "regressor.sser")
    loaded = load_model(tmp_path / "regressor.sser")  # no trust needed
    assert type(loaded) is type(fitted)
    assert_allclose(loaded.predict(X), expected, rtol=1e-6)
    assert_allclose(loaded.transform(X[:4]), fitted.transform(X[:4]), rtol=1e-6)
    assert loaded.n_outputs_ == 1 and len(loaded.history_) == fitted.n_iter_


def test_init_from_a_regressor_not_from_a_classifier(data, tmp_path):
    X, y, _ = data
    params = dict(**TINY[CNNRegressor], **TRAIN)
    source = CNNRegressor(**params).fit(X, y)
    save_model(source, tmp_path / "source.sser")
    for init in (FrozenEstimator(source), tmp_path / "source.sser"):
        tuned = CNNRegressor(**{**params, "max_epochs": 1}, init_from=init,
                             freeze="trunk").fit(X, y)
        assert tuned.transfer_["shared_classes"] == [0] and tuned.transfer_["frozen"]
    two = CNNRegressor(**{**params, "max_epochs": 1}, init_from=source).fit(
        X, np.column_stack([y, y]))
    assert two.transfer_["shared_classes"] == [] and two.transfer_["new_classes"] == [0, 1]
    labels = np.where(y > 0, "aroused", "calm")
    classifier = CNNClassifier(**params).fit(X, labels)
    with pytest.raises(TypeError, match="init_from must be a fitted CNNRegressor"):
        CNNRegressor(**params, init_from=classifier).fit(X, y)


def test_model_names_of_the_network_regressors():
    pipe = make_named_pipeline("crnn-reg-sn", random_state=0)
    assert [name for name, _ in pipe.steps] == ["logmel", "guard", "framewise",
                                                "crnnregressor"]
    assert type(pipe.steps[2][1].transformer).__name__ == "SpeakerNormalizer"
    assert pipe.get_params()["crnnregressor__random_state"] == 0
    plain = make_named_pipeline("lstm-reg")
    assert type(plain.steps[2][1].transformer).__name__ == "StandardScaler"
    assert type(plain[-1]).__name__ == "LSTMRegressor"
    with pytest.raises(ValueError, match="cnn-reg-sn"):  # the registry lists the names
        make_named_pipeline("cnn-regr")
    with pytest.raises(ValueError, match=r"or a network \['cnn', 'crnn', 'lstm'\]"):
        make_regression_pipeline("gru")
    with pytest.raises(ValueError, match="reduce must be None"):
        make_regression_pipeline("cnn", reduce="pca")
    with pytest.raises(TypeError, match="takes no network parameters"):
        make_regression_pipeline("svr", max_epochs=3)
    mfcc = make_regression_pipeline("cnn", features="mfcc", max_epochs=3)
    assert mfcc.steps[0][0] == "mfcc" and mfcc[-1].max_epochs == 3


@pytest.mark.slow
def test_crnn_regression_pipeline_in_evaluate():
    corpus = make_emotional_speech(48, n_speakers=4, duration=(0.5, 0.7), random_state=0)
    pipe = make_regression_pipeline("crnn", speaker_norm=True, channels=(4,), n_units=8,
                                    n_attention=8, max_epochs=20, lr=0.01, device="cpu",
                                    random_state=0)
    pipe.set_params(logmel__n_mels=16)
    report = evaluate(pipe, corpus.data, corpus.arousal, groups=corpus.groups)
    assert isinstance(report, RegressionReport) and report.n_folds == 4
    # A constant prediction has a CCC of 0.
    assert report.ccc > 0.2 and report.pearson > 0.2
