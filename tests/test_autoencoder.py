"""AutoencoderReducer and VAEOversampler on synthetic pooled features.

Inside Pipelines, cross_validate with speaker groups and GridSearchCV; tiny networks.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from imblearn.pipeline import Pipeline as ImbPipeline
from sklearn.decomposition import PCA
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ser.neural import AutoencoderReducer, VAEOversampler

AE = dict(hidden_layer_sizes=(32,), max_epochs=60, lr=0.01, device="cpu", random_state=0)
VAE = dict(hidden_layer_sizes=(32,), n_latent=4, max_epochs=60, lr=0.01, device="cpu",
           random_state=0)


def low_rank(n=300, n_features=20, rank=3, noise=0.05, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, rank)) @ rng.normal(size=(rank, n_features))
            + noise * rng.normal(size=(n, n_features)))


def labelled(n_per_class=(60, 20, 10), n_features=8, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.array(["neutral", "anger", "fear"])
    y = np.repeat(labels, n_per_class)
    codes = np.repeat(np.arange(3), n_per_class)
    centres = 3.0 * rng.normal(size=(3, n_features))
    X = centres[codes] + rng.normal(size=(len(y), n_features))
    groups = np.array([f"spk{i % 6}" for i in range(len(y))])
    return X, y, groups, dict(zip(labels, centres))


# -- AutoencoderReducer ------------------------------------------------------------------------

def test_reducer_recovers_a_low_rank_subspace():
    X = low_rank()
    reducer = AutoencoderReducer(n_components=3, **AE).fit(X)
    codes = reducer.transform(X)
    assert codes.shape == (300, 3) and codes.dtype == np.float64
    error = np.mean((reducer.inverse_transform(codes) - X) ** 2) / X.var()
    pca_error = np.mean((PCA(3).fit(X).inverse_transform(PCA(3).fit_transform(X)) - X) ** 2) \
        / X.var()
    assert error < 0.05 and pca_error < 0.01  # both near the noise floor
    too_small = AutoencoderReducer(n_components=1, **AE).fit(X)
    assert np.mean((too_small.inverse_transform(too_small.transform(X)) - X) ** 2) \
        / X.var() > 5 * error
    assert reducer.n_iter_ == len(reducer.loss_curve_) <= AE["max_epochs"]
    assert reducer.loss_curve_[-1] < reducer.loss_curve_[0]


def test_reducer_names_dtype_pandas_and_determinism():
    X = low_rank(n=80)
    reducer = AutoencoderReducer(n_components=2, **{**AE, "max_epochs": 5}).fit(X)
    assert reducer.get_feature_names_out().tolist() == ["autoencoderreducer0",
                                                        "autoencoderreducer1"]
    assert reducer.transform(X.astype(np.float32)).dtype == np.float32
    again = AutoencoderReducer(n_components=2, **{**AE, "max_epochs": 5}).fit(X)
    np.testing.assert_allclose(again.transform(X), reducer.transform(X), atol=1e-6)
    unpickled = pickle.loads(pickle.dumps(reducer))
    np.testing.assert_allclose(unpickled.transform(X), reducer.transform(X))
    # A row's code does not depend on the rest of the batch.
    np.testing.assert_allclose(reducer.transform(X[3:4]), reducer.transform(X)[3:4], atol=1e-6)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    out = make_pipeline(StandardScaler(), AutoencoderReducer(n_components=2, max_epochs=2,
                                                             device="cpu", random_state=0))
    out.set_output(transform="pandas")
    assert list(out.fit_transform(frame).columns) == ["autoencoderreducer0",
                                                      "autoencoderreducer1"]
    with pytest.raises(ValueError, match="expects 2 codes"):
        reducer.inverse_transform(np.zeros((3, 4)))


def test_reducer_in_a_grid_search_and_cross_validate_with_groups():
    X, y, groups, _ = labelled(n_per_class=(40, 40, 40))
    model = make_pipeline(StandardScaler(), AutoencoderReducer(**{**AE, "max_epochs": 20}),
                          LogisticRegression())
    search = GridSearchCV(model, {"autoencoderreducer__n_components": [1, 4]},
                          cv=GroupKFold(3), scoring="balanced_accuracy")
    search.fit(X, y, groups=groups)
    means = search.cv_results_["mean_test_score"]
    assert search.best_params_ == {"autoencoderreducer__n_components": 4}
    assert means.max() > 0.9
    scores = cross_validate(search.best_estimator_, X, y, groups=groups, cv=GroupKFold(3),
                            scoring="balanced_accuracy")
    assert scores["test_score"].mean() > 0.9


# -- VAEOversampler ----------------------------------------------------------------------------

def test_vae_balances_and_generates_class_conditional_rows():
    X, y, _, centres = labelled()
    X_res, y_res = VAEOversampler(**VAE).fit_resample(X, y)
    counts = dict(zip(*np.unique(y_res, return_counts=True)))
    assert counts == {"anger": 60, "fear": 60, "neutral": 60}
    np.testing.assert_array_equal(X_res[:len(X)], X)  # originals first, untouched
    np.testing.assert_array_equal(y_res[:len(y)], y)
    new_X, new_y = X_res[len(X):], y_res[len(X):]
    for label in ("anger", "fear"):
        rows = new_X[new_y == label]
        distances = {c: np.linalg.norm(rows.mean(axis=0) - centre)
                     for c, centre in centres.items()}
        assert min(distances, key=distances.get) == label
        # As varied as the real rows of the class, not copies of its mean.
        real_spread = X[y == label].std(axis=0).mean()
        assert 0.6 * real_spread < rows.std(axis=0).mean() < 1.5 * real_spread


def test_vae_sampling_strategies():
    X, y, _, _ = labelled()
    _, y_res = VAEOversampler(**{**VAE, "max_epochs": 3},
                              sampling_strategy={"fear": 25}).fit_resample(X, y)
    assert dict(zip(*np.unique(y_res, return_counts=True))) == {"anger": 20, "fear": 25,
                                                                  "neutral": 60}
    sampler = VAEOversampler(**{**VAE, "max_epochs": 3}, sampling_strategy="minority")
    _, y_res = sampler.fit_resample(X, y)
    assert sampler.sampling_strategy_ == {"fear": 50}
    assert (y_res == "fear").sum() == 60
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    X_df, _ = VAEOversampler(**{**VAE, "max_epochs": 3}).fit_resample(frame, y)
    assert isinstance(X_df, pd.DataFrame) and list(X_df.columns) == list(frame.columns)
    with pytest.raises(TypeError, match="[Ss]parse"):
        VAEOversampler(**VAE).fit_resample(sp.csr_matrix(X), y)


def test_vae_inside_an_imblearn_pipeline_with_speaker_groups():
    X, y, groups, _ = labelled()
    model = ImbPipeline([("scaler", StandardScaler()),
                         ("vae", VAEOversampler(**{**VAE, "max_epochs": 20})),
                         ("clf", DummyClassifier(strategy="prior"))])
    model.fit(X, y)
    # The classifier saw balanced classes; prediction resamples nothing.
    np.testing.assert_allclose(model[-1].class_prior_, [1 / 3] * 3)
    assert model.predict(X).shape == y.shape
    model = ImbPipeline([("scaler", StandardScaler()),
                         ("vae", VAEOversampler(**{**VAE, "max_epochs": 20})),
                         ("clf", LogisticRegression())])
    scores = cross_validate(model, X, y, groups=groups, cv=GroupKFold(3),
                            scoring="balanced_accuracy")
    assert scores["test_score"].mean() > 0.8
    search = GridSearchCV(model, {"vae__sampling_strategy": ["auto", "minority"]},
                          cv=GroupKFold(3), scoring="balanced_accuracy")
    search.fit(X, y, groups=groups)
    assert len(search.cv_results_["params"]) == 2
