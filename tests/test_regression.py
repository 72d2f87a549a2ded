"""Continuous emotion targets end to end: regression pipelines, evaluate's RegressionReport,
the model names and the benchmark's --target (issue 23, part 4)."""

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

from sklearn_ser.cli._benchmark import load_corpus, run_benchmark, write_outputs
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.model_selection import EvaluationReport, RegressionReport, evaluate
from sklearn_ser.pipelines import make_named_pipeline, make_regression_pipeline


@pytest.fixture(scope="module")
def corpus():
    return make_emotional_speech(84, n_speakers=4, duration=(1.0, 1.5), random_state=0)


@pytest.fixture(scope="module")
def arousal_report(corpus):
    pipe = make_regression_pipeline("ridge", features="mfcc", speaker_norm=True)
    return evaluate(pipe, corpus.data, corpus.arousal, groups=corpus.groups, test_gain=[-20])


def test_regression_pipeline_steps_and_names():
    pipe = make_regression_pipeline("svr", features=("mfcc", "prosody"), reduce="pca")
    assert [name for name, _ in pipe.steps] == ["noise", "features", "guard", "scaler", "pca",
                                                "svr"]
    assert "svr__regressor__C" in pipe.get_params()
    steps = [name for name, _ in make_named_pipeline("ridge-sn").steps]
    assert steps[-3:] == ["speakernormalizer", "scaler", "ridge"]
    with pytest.raises(ValueError, match=r"choose from \['ridge', 'svr'\]"):
        make_regression_pipeline("svm")
    with pytest.raises(ValueError, match="svr-sn"):  # the registry lists the new names
        make_named_pipeline("sv")


def test_evaluate_reports_ccc_on_synthetic_arousal(arousal_report, corpus):
    report = arousal_report
    assert isinstance(report, RegressionReport)
    assert report.ccc > 0.6 and report.pearson > 0.6 and 0 < report.mae < 0.5
    assert report.ccc_ci_low < report.ccc < report.ccc_ci_high
    assert report.mae_ci_low < report.mae < report.mae_ci_high
    np.testing.assert_array_equal(report.y_true, corpus.arousal)
    assert list(report.per_fold.columns[:7]) == ["fold", "test_speakers", "n_train", "n_test",
                                                 "ccc", "pearson", "mae"]
    assert list(report.per_speaker.columns) == ["speaker", "n", "ccc", "pearson", "mae"]
    assert report.n_speakers == 4 and report.n_folds == 4
    text = report.summary()
    assert "CCC" in text and "Pearson r" in text and "MAE" in text and "speaker bootstrap" in text
    assert set(report.ccc_by_condition) == {"clean", "gain-20"}
    figures = json.loads(json.dumps(report.to_dict()))
    assert figures["ccc"] == pytest.approx(report.ccc) and len(figures["per_speaker"]) == 4


def test_speaker_normalisation_helps_a_regressor_too(arousal_report, corpus):
    plain = evaluate(make_regression_pipeline("ridge", features="mfcc"), corpus.data,
                     corpus.arousal, groups=corpus.groups)
    assert arousal_report.ccc > plain.ccc - 0.05


def test_continuous_target_kfold_and_bad_targets():
    rng = np.random.RandomState(0)
    X = rng.randn(80, 4)
    y = X[:, 0] + 0.1 * rng.randn(80)
    groups = np.repeat(np.arange(8), 10)
    report = evaluate(Ridge(), X, y, groups=groups, cv="kfold:4")
    assert report.n_folds == 4 and report.ccc > 0.9
    bad = y.copy()
    bad[7] = np.nan
    with pytest.raises(ValueError, match=r"y\[7\] is nan"):
        evaluate(Ridge(), X, bad, groups=groups)
    with pytest.raises(ValueError, match="same target value"):
        evaluate(Ridge(), X, np.ones(80), groups=groups)


def test_classification_is_unchanged_for_whole_float_labels():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    y = (X[:, 0] > 0).astype(float)  # classes written as 0.0 and 1.0
    report = evaluate(LogisticRegression(), X, y, groups=np.repeat(np.arange(6), 10))
    assert isinstance(report, EvaluationReport) and report.uar > 0.8


@pytest.mark.slow
def test_benchmark_target_rows_carry_ccc(tmp_path):
    corpus = load_corpus("synthetic", n_samples=42, target="intensity")
    assert corpus.continuous and corpus.target.dtype == float
    records, reports = run_benchmark(corpus, ["ridge-sn", "svm"], cv="kfold:2", verbose=0)
    good, bad = records
    assert good["target"] == "intensity" and good["ccc"] is not None
    assert {"ccc", "ccc_ci_low", "ccc_ci_high", "pearson", "mae"} <= set(good)
    assert "uar" not in good
    assert bad["model"] == "svm" and "continuous" in bad["error"]  # a classifier fails alone
    output = write_outputs(tmp_path, corpus, records, reports, command="sklearn-ser benchmark")
    assert json.loads((output / "results.json").read_text())[0]["model"] == "ridge-sn"
    assert (output / "predictions_ridge-sn.png").exists()
    assert "CCC" in (output / "report.md").read_text()


def test_benchmark_refuses_intensity_without_levels(tmp_path):
    import soundfile as sf

    for name in ("03a01Wa.wav", "03a01Nc.wav"):
        sf.write(tmp_path / name, np.zeros(1600), 16000)
    with pytest.raises(SystemExit, match="intensity levels"):
        load_corpus("emodb", data_dir=tmp_path, target="intensity")
    corpus = load_corpus("emodb", data_dir=tmp_path, target="arousal")
    assert corpus.target.tolist() == [0.0, 0.8]  # derived from neutral and anger


def test_benchmark_command_line_with_a_continuous_target(tmp_path):
    from sklearn_ser.cli import main

    code = main(["benchmark", "--n-samples", "60", "--target", "arousal", "--models", "ridge-sn",
                 "--cv", "kfold:3", "--output", str(tmp_path), "--quiet"])
    assert code == 0
    rows = json.loads((tmp_path / "results.json").read_text())
    rows = rows if isinstance(rows, list) else rows.get("results", rows.get("models"))
    (row,) = [r for r in rows if r["model"] == "ridge-sn"]
    assert -1.0 <= row["ccc"] <= 1.0 and row["mae"] > 0.0 and "uar" not in row


def _shrinking_data(seed, n_speakers=8, per_speaker=30):
    """A weak signal in many noisy features: a squared-error fit shrinks its predictions."""
    rng = np.random.RandomState(seed)
    n = n_speakers * per_speaker
    y = rng.normal(size=n)
    X = rng.normal(size=(n, 40))
    X[:, :4] += 0.6 * y[:, None]
    return X, y, np.repeat(np.arange(n_speakers), per_speaker)


def test_concordant_regressor_rescaling_raises_ccc_on_new_speakers():
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVR

    from sklearn_ser.metrics import concordance_correlation_coefficient as ccc
    from sklearn_ser.pipelines import ConcordantRegressor

    X, y, groups = _shrinking_data(0)
    X_new, y_new, _ = _shrinking_data(1)
    plain = ConcordantRegressor(SVR(), rescale=False).fit(X, y, groups=groups)
    # Without rescaling it is TransformedTargetRegressor with a standard scaler.
    reference = TransformedTargetRegressor(regressor=SVR(), transformer=StandardScaler())
    np.testing.assert_allclose(plain.predict(X_new), reference.fit(X, y).predict(X_new))
    rescaled = ConcordantRegressor(SVR()).fit(X, y, groups=groups)
    assert plain.predict(X_new).std() < 0.8 * y_new.std()  # shrunk
    assert rescaled.oof_correlation_[0] > 0.3 and rescaled.oof_scale_[0] < 1
    assert ccc(y_new, rescaled.predict(X_new)) > ccc(y_new, plain.predict(X_new)) + 0.05
    # The rescaling is linear: correlation unchanged.
    assert np.corrcoef(rescaled.predict(X_new), plain.predict(X_new))[0, 1] == pytest.approx(1)


def test_concordant_regressor_rescales_each_target_column():
    from sklearn_ser.pipelines import ConcordantRegressor

    X, y, groups = _shrinking_data(0)
    rng = np.random.RandomState(3)
    Y = np.column_stack([y, 10 + 5 * y + rng.normal(size=len(y))])
    model = ConcordantRegressor(Ridge(alpha=300.0)).fit(X, Y, groups=groups)
    assert model.predict(X[:5]).shape == (5, 2)
    assert model.target_mean_[1] == pytest.approx(Y[:, 1].mean())
    assert np.all(model.oof_scale_ < 1)  # a strong penalty shrinks both columns


def test_concordant_regressor_falls_back_with_warnings():
    from sklearn_ser.exceptions import SklearnSerWarning
    from sklearn_ser.pipelines import ConcordantRegressor

    X, y, groups = _shrinking_data(0)
    with pytest.warns(SklearnSerWarning, match="got no groups"):
        ConcordantRegressor(Ridge()).fit(X, y)
    with pytest.warns(SklearnSerWarning, match="one speaker"):
        single = ConcordantRegressor(Ridge()).fit(X, y, groups=np.zeros(len(y)))
    assert single.oof_scale_[0] == 1 and np.isnan(single.oof_correlation_[0])
    noise = np.random.RandomState(4).normal(size=len(y))  # nothing to learn: not stretched
    with pytest.warns(SklearnSerWarning, match="do not follow it"):
        blind = ConcordantRegressor(Ridge(alpha=1e4)).fit(X[:, 10:], noise, groups=groups)
    assert blind.oof_scale_[0] == 1


def test_regression_pipeline_rescales_svr_and_ridge_but_not_networks():
    assert make_regression_pipeline("svr")[-1].rescale is True
    assert make_regression_pipeline("ridge", rescale=False)[-1].rescale is False
    assert make_regression_pipeline("crnn", rescale="auto")  # a network keeps its output
    with pytest.raises(ValueError, match="trained again for every out-of-fold"):
        make_regression_pipeline("cnn", rescale=True)
    with pytest.raises(ValueError, match="rescale must be"):
        make_regression_pipeline("svr", rescale="yes")


def test_rescaled_pipeline_gets_the_training_speakers_through_evaluate(corpus):
    """evaluate routes groups to the final step: its folds hold out whole speakers."""
    import warnings

    pipe = make_regression_pipeline("svr", features="mfcc", speaker_norm=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=UserWarning)  # no "got no groups" fallback
        warnings.filterwarnings("ignore", message="FeatureRangeGuard")
        report = evaluate(pipe, corpus.data, corpus.valence, groups=corpus.groups)
    assert np.isfinite(report.ccc)


def test_noisy_copies_carry_their_sources_continuous_targets(corpus):
    from sklearn_ser.augmentation import NoiseAugmenter, SpeedPerturber

    clips, targets = list(corpus.data[:12]), np.column_stack([corpus.arousal, corpus.valence])
    sampler = NoiseAugmenter(n_copies=2, random_state=0)
    X_res, y_res = sampler.fit_resample(clips, targets[:12], groups=corpus.groups[:12])
    assert len(X_res) == 36 and y_res.shape == (36, 2)
    np.testing.assert_array_equal(y_res, targets[:12][sampler.sample_indices_])
    assert sampler.sampling_strategy_ is None  # no classes
    bad = corpus.arousal[:12].copy()
    bad[[3, 7]] = np.nan
    with pytest.raises(ValueError, match=r"rows \[3, 7\]"):
        NoiseAugmenter().fit_resample(clips, bad)
    with pytest.raises(ValueError, match="speed change moves pitch and tempo"):
        SpeedPerturber().fit_resample(clips, corpus.arousal[:12])


def test_regression_pipeline_trains_on_noisy_copies(corpus):
    import sklearn

    pipe = make_regression_pipeline("ridge", features="mfcc", speaker_norm=True,
                                    noise_augmentation=1, random_state=0)
    assert [name for name, _ in pipe.steps][0] == "noise"
    with sklearn.config_context(enable_metadata_routing=True):
        pipe.fit(list(corpus.data), corpus.arousal, groups=corpus.groups)
    noise = pipe.named_steps["noise"]
    assert len(noise.sample_indices_) == 2 * len(corpus.data)
    # One condition per speaker and copy, standardised as speakers of their own.
    assert {c["group"] for c in noise.conditions_} == set(corpus.groups)
    # By default two copies for the classic regressors, none for a network.
    assert make_regression_pipeline("svr").named_steps["noise"].n_copies == 2
    assert make_regression_pipeline("ridge", noise_augmentation=None).steps[0][0] != "noise"
    assert make_regression_pipeline("cnn").steps[0][0] != "noise"
    assert make_regression_pipeline("cnn", noise_augmentation=2).named_steps[
        "noise"].n_copies == 2


def test_ridge_chooses_its_penalty_on_folds_of_whole_speakers():
    """Leave-one-clip-out keeps a speaker's other clips in training and picks a weak penalty;
    speaker folds see what a new speaker costs. Here each speaker has an offset of its own
    that the features carry, so only held-out speakers show the penalty is needed."""
    from sklearn_ser.pipelines import ConcordantRegressor
    from sklearn_ser.pipelines._regression import SpeakerFolds, _ridge

    rng = np.random.RandomState(0)
    groups = np.repeat(np.arange(8), 25)
    speaker = rng.normal(size=(8, 60))[groups]  # who speaks, in every feature
    y = rng.normal(size=len(groups))
    X = speaker * 3 + rng.normal(size=(len(groups), 60)) + 0.3 * y[:, None]
    y = y + 2 * rng.normal(size=8)[groups]  # and a speaker offset in the target
    grouped = ConcordantRegressor(_ridge(), rescale=False).fit(X, y, groups=groups)
    assert isinstance(grouped.regressor_.cv, SpeakerFolds)
    from sklearn.linear_model import RidgeCV

    by_clip = RidgeCV(alphas=np.logspace(-1, 6, 8)).fit(X, (y - y.mean()) / y.std())
    assert grouped.regressor_.alpha_ > by_clip.alpha_


def test_speaker_folds_never_have_more_folds_than_speakers():
    from sklearn_ser.pipelines._regression import SpeakerFolds

    X = np.zeros((12, 1))
    three = np.repeat(["a", "b", "c"], 4)
    assert SpeakerFolds(5).get_n_splits(X, groups=three) == 3
    for train, test in SpeakerFolds(5).split(X, groups=three):
        assert len(set(three[test])) == 1 and set(three[test]).isdisjoint(three[train])
    one = np.array(["a"] * 12)  # a single speaker: folds of its clips, the only split left
    assert len(list(SpeakerFolds(5).split(X, groups=one))) == 5


def test_a_saved_ridge_pipeline_keeps_its_speaker_folds(tmp_path, corpus):
    import sklearn

    from sklearn_ser.io import load_model, save_model

    pipe = make_regression_pipeline("ridge", features="mfcc", speaker_norm=True)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe.fit(list(corpus.data), corpus.arousal, groups=corpus.groups)
    save_model(pipe, tmp_path / "ridge.sser")
    loaded = load_model(tmp_path / "ridge.sser")
    with sklearn.config_context(enable_metadata_routing=True):
        np.testing.assert_allclose(
            loaded.predict(list(corpus.data[:5]), groups=corpus.groups[:5]),
            pipe.predict(list(corpus.data[:5]), groups=corpus.groups[:5]))


def test_inner_speaker_folds_keep_a_noisy_copy_with_its_source():
    """The copies are made before the regressor's inner folds: a copy held out while its
    source speaker trains would make the held-out part look easier than a new speaker."""
    from sklearn_ser.augmentation import source_speakers
    from sklearn_ser.pipelines._concordant import SpeakerFolds

    speakers = np.repeat(["a", "b", "c", "d"], 5)
    groups = np.concatenate([speakers, np.char.add(speakers, "/noise1"),
                             np.char.add(speakers, "/noise2")])
    assert source_speakers(groups).tolist() == speakers.tolist() * 3
    X = np.zeros((len(groups), 1))
    folds = SpeakerFolds(5)
    assert folds.get_n_splits(X, groups=groups) == 4  # four voices, not twelve ids
    for train, test in folds.split(X, groups=groups):
        held_out = set(source_speakers(groups[test]))
        assert len(held_out) == 1 and held_out.isdisjoint(source_speakers(groups[train]))
    # Plain ids, integers included, are their own speakers.
    assert source_speakers([3, 3, 7]).tolist() == ["3", "3", "7"]


def _categorised_data(seed, n_speakers=8, per_speaker=42):
    """Three categories spread over many features; the target is mostly the category's level
    (not in the order of any single feature) plus one cue that moves it within a category."""
    rng = np.random.RandomState(seed)
    n = n_speakers * per_speaker
    categories = np.tile(np.array(["anger", "neutral", "sadness"]), n // 3)
    directions = np.random.RandomState(99).normal(size=(3, 30))
    index = np.searchsorted(["anger", "neutral", "sadness"], categories)
    X = rng.normal(size=(n, 30)) + 0.5 * directions[index]
    level = np.array([0.8, 0.1, 0.6])[index]
    y = level + 0.1 * X[:, 0] + 0.05 * rng.normal(size=n)
    return X, y, categories, np.repeat(np.arange(n_speakers), per_speaker)


def test_category_stacking_predicts_new_speakers_better():
    from sklearn.svm import SVR

    from sklearn_ser.metrics import concordance_correlation_coefficient as ccc
    from sklearn_ser.pipelines import CategoryStackingRegressor, ConcordantRegressor

    X, y, categories, groups = _categorised_data(0)
    X_new, y_new, categories_new, _ = _categorised_data(1)
    alone = ConcordantRegressor(SVR()).fit(X, y, groups=groups)
    stacked = CategoryStackingRegressor(ConcordantRegressor(SVR())).fit(
        X, y, categories=categories, groups=groups)
    assert ccc(y_new, stacked.predict(X_new)) > ccc(y_new, alone.predict(X_new)) + 0.03
    assert list(stacked.categories_) == ["anger", "neutral", "sadness"]
    assert stacked.scale_ == pytest.approx(4.0 * np.sqrt(30 / 3))
    # The classifier is a real one: it tells the new clips' categories apart.
    assert np.mean(stacked.classifier_.predict(X_new) == categories_new) > 0.8
    # weight=0 leaves the regressor the features alone.
    zero = CategoryStackingRegressor(ConcordantRegressor(SVR()), weight=0.0).fit(
        X, y, categories=categories, groups=groups)
    np.testing.assert_allclose(zero.predict(X_new), alone.predict(X_new), atol=1e-9)


def test_category_stacking_copes_with_a_fold_that_lacks_a_category():
    from sklearn.linear_model import Ridge

    from sklearn_ser.pipelines import CategoryStackingRegressor

    X, y, categories, groups = _categorised_data(0, n_speakers=4, per_speaker=30)
    # Only speaker 0 has "neutral" clips, so the fold that holds it out never sees one.
    categories = np.where((categories == "neutral") & (groups != 0), "anger", categories)
    model = CategoryStackingRegressor(Ridge(), cv=4).fit(X, y, categories=categories,
                                                         groups=groups)
    assert np.isfinite(model.predict(X)).all() and len(model.categories_) == 3


def test_category_stacking_needs_the_categories_and_says_how():
    from sklearn.linear_model import Ridge

    from sklearn_ser.pipelines import CategoryStackingRegressor

    X, y, categories, groups = _categorised_data(0, n_speakers=4, per_speaker=30)
    with pytest.raises(ValueError, match=r"categories=labels.*metadata routing"):
        CategoryStackingRegressor(Ridge()).fit(X, y, groups=groups)
    with pytest.raises(ValueError, match="single class|at least 2"):
        CategoryStackingRegressor(Ridge()).fit(X, y, categories=np.full(len(y), "anger"),
                                               groups=groups)
    with pytest.warns(UserWarning, match="no groups"):
        CategoryStackingRegressor(Ridge()).fit(X, y, categories=categories)
    with pytest.raises(ValueError, match="category_weight is for 'svr' and 'ridge'"):
        make_regression_pipeline("crnn", category_weight=2.0)


def test_category_pipeline_through_evaluate_save_and_the_benchmark(tmp_path, corpus):
    import sklearn

    from sklearn_ser.cli import main
    from sklearn_ser.io import load_model, save_model

    pipe = make_named_pipeline("ridge-cat-sn", features=("mfcc",))
    assert [name for name, _ in pipe.steps][-3:] == ["speakernormalizer", "scaler", "ridge"]
    assert pipe.get_params()["ridge__weight"] == 4.0
    assert "ridge__regressor__regressor__alphas" in pipe.get_params()
    report = evaluate(pipe, corpus.data, corpus.intensity, groups=corpus.groups,
                      fit_params={"categories": corpus.target})
    assert np.isfinite(report.y_pred).all() and report.ccc > 0.1
    # Without the labels evaluate refuses before any fold: empty clips, which the first
    # fold's feature step would reject, are never reached.
    empty = [np.zeros(0, dtype=np.float32)] * len(corpus.data)
    with pytest.raises(ValueError, match=r"asks for 'categories' in fit.*fit_params="):
        evaluate(pipe, empty, corpus.intensity, groups=corpus.groups)
    # Fitted through routing, saved, loaded: prediction needs clips and speakers only.
    with sklearn.config_context(enable_metadata_routing=True):
        pipe.fit(list(corpus.data), corpus.intensity, categories=corpus.target,
                 groups=corpus.groups)
        save_model(pipe, tmp_path / "cat.sser")
        loaded = load_model(tmp_path / "cat.sser")
        np.testing.assert_allclose(
            loaded.predict(list(corpus.data[:6]), groups=corpus.groups[:6]),
            pipe.predict(list(corpus.data[:6]), groups=corpus.groups[:6]))
    # The command line hands the corpus's labels to a model that asks for them.
    code = main(["benchmark", "--n-samples", "42", "--target", "intensity", "--models",
                 "ridge-cat", "--cv", "kfold:2", "--output", str(tmp_path / "out"), "--quiet"])
    assert code == 0
    rows = json.loads((tmp_path / "out" / "results.json").read_text())
    rows = rows if isinstance(rows, list) else rows.get("results", rows.get("models"))
    (row,) = [r for r in rows if r["model"] == "ridge-cat"]
    assert "error" not in row or not row["error"]
    assert -1.0 <= row["ccc"] <= 1.0
    # So does train; the saved model then predicts from clips alone.
    assert main(["train", "--n-samples", "42", "--target", "intensity", "--model",
                 "ridge-cat", "--output", str(tmp_path / "m.sser"), "--quiet"]) == 0
    trained = load_model(tmp_path / "m.sser")
    assert np.isfinite(trained.predict(list(corpus.data[:3]))).all()


def test_category_weight_in_a_grid_search_with_routed_labels():
    import sklearn
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV, GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn_ser.metrics import get_scorer
    from sklearn_ser.pipelines import CategoryStackingRegressor

    X, y, categories, groups = _categorised_data(0, n_speakers=6, per_speaker=30)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(StandardScaler(), CategoryStackingRegressor(Ridge()))
        search = GridSearchCV(pipe, {"categorystackingregressor__weight": [0.0, 4.0]},
                              scoring=get_scorer("ccc"), cv=GroupKFold(3))
        search.fit(X, y, categories=categories, groups=groups)
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all()
    # The categories' probabilities help a linear model whose target is not linear in them.
    assert search.best_params_ == {"categorystackingregressor__weight": 4.0}


def test_requested_metadata_names_what_each_model_asks_for():
    """The command line hands a model the speakers and the labels only if it asks for them."""
    from sklearn_ser.utils import requested_metadata, requests_groups

    asked = ("groups", "categories")
    assert requested_metadata(make_named_pipeline("svr-cat-sn"), "fit", asked) == set(asked)
    assert requested_metadata(make_named_pipeline("svr-sn"), "fit", asked) == {"groups"}
    assert requested_metadata(make_named_pipeline("svr-cat-sn"), "predict", asked) == {"groups"}
    assert requested_metadata(Ridge(), "fit", asked) == set()
    assert requested_metadata(object(), "fit", asked) == set()  # no routing support at all
    assert requests_groups(make_named_pipeline("svr-sn"), "fit")
    assert not requests_groups(Ridge(), "fit")
