"""evaluate(..., test_snr=...) and ``sklearn-ser benchmark --test-snr``: noisy test conditions."""

import json

import numpy as np
import pytest
from imblearn.pipeline import Pipeline
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sklearn_ser.model_selection import evaluate
from test_augmentation import LOGS, RecordingFeatures, clip_hash, small_corpus


def _model(log="robust"):
    return Pipeline([("features", RecordingFeatures(log=log)), ("scaler", StandardScaler()),
                     ("clf", LogisticRegression(max_iter=500))])


def test_test_snr_reports_one_uar_per_condition():
    X, y, groups = small_corpus()
    report = evaluate(_model(), X, y, groups=groups, test_snr=[20, 0])
    assert list(report.conditions["condition"]) == ["clean", "snr20", "snr0"]
    assert set(report.uar_by_condition) == {"clean", "snr20", "snr0"}
    assert report.uar_by_condition["clean"] == report.uar
    assert report.y_pred_by_condition["snr0"].shape == report.y_pred.shape
    figures = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert figures["uar_by_condition"]["snr0"] == report.uar_by_condition["snr0"]
    assert figures["conditions"][0]["snr_db"] is None


def test_noise_reaches_only_the_test_clips():
    X, y, groups = small_corpus()
    LOGS.clear()
    evaluate(_model("only-test"), X, y, groups=groups, test_snr=[10])
    hashes = {clip_hash(c): c for c in X}
    fits = [h for phase, h in LOGS["only-test"] if phase == "fit"]
    predicts = [h for phase, h in LOGS["only-test"] if phase == "predict"]
    assert all(set(f) <= set(hashes) for f in fits)  # training clips stay clean
    clean_predicts = [p for p in predicts if set(p) <= set(hashes)]
    noisy_predicts = [p for p in predicts if not set(p) & set(hashes)]
    # Per fold: predict and predict_proba on the clean test clips, predict on the noisy ones.
    assert len(clean_predicts) == 2 * len(fits)
    assert len(noisy_predicts) == len(fits)
    assert sorted(len(p) for p in noisy_predicts) == sorted(len(p) for p in clean_predicts[::2])


def test_corrupted_test_clips_have_the_requested_snr():
    from sklearn_ser.model_selection._evaluate import _corrupt

    X, _, _ = small_corpus()
    noisy = _corrupt(X, 5.0, "white", (0, 0, 0))
    for clean, dirty in zip(X, noisy):
        clean = clean.astype(np.float64)
        measured = 10 * np.log10(np.sum(clean**2) / np.sum((dirty - clean) ** 2))
        assert abs(measured - 5.0) < 0.5


def test_test_noise_is_seeded_by_random_state():
    X, y, groups = small_corpus()
    a = evaluate(_model(), X, y, groups=groups, test_snr=[0], random_state=1)
    b = evaluate(_model(), X, y, groups=groups, test_snr=[0], random_state=1)
    np.testing.assert_array_equal(a.y_pred_by_condition["snr0"], b.y_pred_by_condition["snr0"])


@pytest.mark.parametrize("bad", [[], [10, 10], [float("nan")]])
def test_bad_test_snr_is_refused(bad):
    X, y, groups = small_corpus()
    with pytest.raises(ValueError, match="test_snr"):
        evaluate(_model(), X, y, groups=groups, test_snr=bad)


def test_no_conditions_without_test_snr():
    X, y, groups = small_corpus()
    report = evaluate(_model(), X, y, groups=groups)
    assert report.conditions is None and "uar_by_condition" not in report.to_dict()


def test_benchmark_cli_test_snr(tmp_path, capsys):
    from sklearn_ser.cli import main

    code = main(["benchmark", "--n-samples", "42", "--models", "nb", "--cv", "kfold:3",
                 "--test-snr", "20,0", "--output", str(tmp_path), "--quiet"])
    assert code == 0
    records = json.loads((tmp_path / "results.json").read_text())
    assert {"uar_snr20", "uar_snr0"} <= set(records[0])
    assert "uar_snr0" in (tmp_path / "report.md").read_text()
    assert "snr20" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["benchmark", "--test-snr", "loud"])


# -- gain-varied noisy copies ------------------------------------------------------------------


def test_noise_augmenter_scales_each_copy_by_its_drawn_gain():
    from sklearn_ser.augmentation import NoiseAugmenter

    X, y, groups = small_corpus()
    aug = NoiseAugmenter(snr_range=(90.0, 90.0), gain_range=(-30.0, 0.0), conditions="clip",
                         noise_types=["white"], random_state=0)
    X_res, _ = aug.fit_resample(X, y, groups=groups)
    n = len(X)
    gains = [c["gain"] for c in aug.conditions_]
    assert len(gains) == n and np.ptp(gains) > 5.0
    for i, gain in enumerate(gains):
        expected = np.clip(X[i] * 10.0 ** (gain / 20.0), -1.0, 1.0)
        np.testing.assert_allclose(X_res[n + i], expected, atol=1e-4)


def test_noise_augmenter_gain_that_passes_full_scale_clips_the_copy():
    from sklearn_ser.augmentation import NoiseAugmenter

    X, y, groups = small_corpus()
    aug = NoiseAugmenter(snr_range=(90.0, 90.0), gain_range=(40.0, 40.0),
                         noise_types=["white"], random_state=0)
    X_res, _ = aug.fit_resample(X, y, groups=groups)
    copy = X_res[len(X)]
    assert np.max(np.abs(copy)) == pytest.approx(1.0)
    assert np.mean(np.abs(copy) == 1.0) > 0.1


def test_noise_augmenter_without_gain_range_logs_no_gain():
    from sklearn_ser.augmentation import NoiseAugmenter

    X, y, groups = small_corpus()
    aug = NoiseAugmenter(random_state=0)
    aug.fit_resample(X, y, groups=groups)
    assert all("gain" not in c for c in aug.conditions_)
    with pytest.raises(ValueError, match="gain_range"):
        NoiseAugmenter(gain_range=(5.0, -5.0)).fit_resample(X, y)


def test_plain_pipelines_vary_the_level_of_their_noisy_copies_speaker_normalised_do_not():
    from sklearn_ser.pipelines import make_classic_pipeline

    plain = make_classic_pipeline("svm").named_steps["noise"]
    normalised = make_classic_pipeline("svm", speaker_norm=True).named_steps["noise"]
    low, high = plain.gain_range
    assert low < -10.0 < high and normalised.gain_range is None
