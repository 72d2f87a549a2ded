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
    assert [name for name, _ in pipe.steps] == ["features", "guard", "scaler", "pca", "svr"]
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
