"""Tests of sklearn_ser.metrics: UAR, its scorer, the report, the speaker bootstrap, the plot."""

import time
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, classification_report
from sklearn.model_selection import GridSearchCV, GroupKFold
from threadpoolctl import threadpool_limits

from sklearn_ser.exceptions import SklearnSerWarning
from sklearn_ser.metrics import (
    emotion_report,
    get_scorer,
    plot_confusion_matrix,
    uar_confidence_interval,
    uar_scorer,
    unweighted_average_recall,
)

matplotlib.use("Agg")


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """Tiny fits run fastest on one BLAS thread, above all on a busy shared machine."""
    with threadpool_limits(limits=1):
        yield


def _noisy_predictions(n_samples, n_speakers, accuracy, seed=0, n_classes=4):
    """Labels, predictions right with probability ``accuracy``, and speaker ids."""
    rng = np.random.RandomState(seed)
    y_true = rng.randint(0, n_classes, n_samples)
    wrong = rng.randint(0, n_classes, n_samples)
    y_pred = np.where(rng.rand(n_samples) < accuracy, y_true, wrong)
    groups = rng.randint(0, n_speakers, n_samples)
    return y_true, y_pred, groups


# --- unweighted_average_recall -------------------------------------------------------------


def test_uar_hand_computed():
    y_true = ["anger", "anger", "anger", "sadness"]
    y_pred = ["anger", "anger", "sadness", "sadness"]
    # anger: 2/3, sadness: 1/1
    assert unweighted_average_recall(y_true, y_pred) == pytest.approx((2 / 3 + 1) / 2)


def test_uar_prediction_outside_true_classes_counts_as_a_miss():
    y_true = [0, 0, 1, 1, 2, 2]
    y_pred = [0, 3, 1, 0, 2, 2]
    # Class 3 is never true: it is not averaged, but the sample predicted as 3 is a miss.
    assert unweighted_average_recall(y_true, y_pred) == pytest.approx((0.5 + 0.5 + 1.0) / 3)


def test_uar_with_labels_restricts_the_average():
    y_true = ["a", "a", "b", "c"]
    y_pred = ["a", "b", "b", "a"]
    assert unweighted_average_recall(y_true, y_pred, labels=["a", "b"]) == pytest.approx(0.75)


def test_uar_label_absent_from_y_true_warns_and_is_left_out():
    with pytest.warns(SklearnSerWarning, match=r"\['z'\]"):
        uar = unweighted_average_recall(["a", "b"], ["a", "a"], labels=["a", "b", "z"])
    assert uar == pytest.approx(0.5)


def test_uar_errors_are_explained():
    with pytest.raises(ValueError, match="None of the labels"):
        unweighted_average_recall(["a"], ["a"], labels=["x"])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        unweighted_average_recall(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="empty"):
        unweighted_average_recall([], [])


@pytest.mark.parametrize("seed", range(5))
def test_uar_equals_balanced_accuracy(seed):
    y_true, y_pred, _ = _noisy_predictions(200, 5, accuracy=0.5, seed=seed)
    y_pred[:3] = 7  # a class that never occurs in y_true
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sklearn: "y_pred contains classes..."
        expected = balanced_accuracy_score(y_true, y_pred, adjusted=False)
    assert unweighted_average_recall(y_true, y_pred) == pytest.approx(expected)


# --- scorers --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grouped_data():
    X, y = make_classification(
        n_samples=180, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    groups = np.repeat(np.arange(9), 20)
    return X, y, groups


def test_uar_scorer_scores_an_estimator(grouped_data):
    X, y, _ = grouped_data
    model = LogisticRegression().fit(X, y)
    assert uar_scorer(model, X, y) == pytest.approx(
        unweighted_average_recall(y, model.predict(X))
    )


def test_get_scorer_knows_uar_and_defers_to_sklearn(grouped_data):
    X, y, _ = grouped_data
    model = LogisticRegression().fit(X, y)
    scorer = get_scorer("uar")
    assert scorer is not uar_scorer
    assert scorer(model, X, y) == pytest.approx(uar_scorer(model, X, y))
    assert get_scorer("accuracy")(model, X, y) == pytest.approx(model.score(X, y))
    with pytest.raises(ValueError):
        get_scorer("no-such-metric")


def _manual_grouped_uar(X, y, groups, C):
    scores = [
        unweighted_average_recall(
            y[test], LogisticRegression(C=C).fit(X[train], y[train]).predict(X[test])
        )
        for train, test in GroupKFold(3).split(X, y, groups)
    ]
    return np.mean(scores)


def test_get_scorer_uar_in_grid_search_with_groups(grouped_data):
    X, y, groups = grouped_data
    search = GridSearchCV(
        LogisticRegression(), {"C": [0.01, 1.0]}, cv=GroupKFold(3), scoring=get_scorer("uar")
    )
    search.fit(X, y, groups=groups)
    for C, score in zip([0.01, 1.0], search.cv_results_["mean_test_score"]):
        assert score == pytest.approx(_manual_grouped_uar(X, y, groups, C))


def test_uar_scorer_in_multimetric_grid_search(grouped_data):
    X, y, groups = grouped_data
    search = GridSearchCV(
        LogisticRegression(),
        {"C": [0.01, 1.0]},
        cv=GroupKFold(3),
        scoring={"uar": uar_scorer, "accuracy": "accuracy"},
        refit="uar",
    )
    search.fit(X, y, groups=groups)
    assert search.cv_results_["mean_test_uar"][1] == pytest.approx(
        _manual_grouped_uar(X, y, groups, 1.0)
    )
    assert search.best_params_["C"] in (0.01, 1.0)


# --- emotion_report -------------------------------------------------------------------------


def test_emotion_report_matches_sklearn():
    y_true, y_pred, _ = _noisy_predictions(150, 3, accuracy=0.6, seed=1)
    labels = np.array(["anger", "calm", "fear", "sadness"])
    y_true, y_pred = labels[y_true], labels[y_pred]
    report = emotion_report(y_true, y_pred)
    expected = classification_report(y_true, y_pred, output_dict=True, zero_division=0)

    assert isinstance(report, pd.DataFrame)
    assert list(report.columns) == ["precision", "recall", "f1", "support"]
    assert list(report.index) == [*labels, "macro avg", "weighted avg"]
    for row in [*labels, "macro avg", "weighted avg"]:
        assert report.loc[row, "precision"] == pytest.approx(expected[row]["precision"])
        assert report.loc[row, "recall"] == pytest.approx(expected[row]["recall"])
        assert report.loc[row, "f1"] == pytest.approx(expected[row]["f1-score"])
        assert report.loc[row, "support"] == expected[row]["support"]
    assert report.loc["macro avg", "recall"] == pytest.approx(
        unweighted_average_recall(y_true, y_pred)
    )


def test_emotion_report_labels_order_and_unpredicted_class():
    report = emotion_report(["b", "a", "a"], ["a", "a", "a"], labels=["b", "a"])
    assert list(report.index[:2]) == ["b", "a"]
    assert report.loc["b", "precision"] == 0.0
    assert report.loc["a", "recall"] == 1.0


# --- uar_confidence_interval ----------------------------------------------------------------


def _reference_interval(y_true, y_pred, groups, confidence, n_bootstraps, seed):
    """A plain loop over resamples, drawing speakers the same way as the fast version."""
    speakers = np.unique(groups)
    draws = np.random.RandomState(seed).randint(0, len(speakers), (n_bootstraps, len(speakers)))
    uars = []
    for draw in draws:
        idx = np.concatenate([np.flatnonzero(groups == speakers[s]) for s in draw])
        uars.append(unweighted_average_recall(y_true[idx], y_pred[idx]))
    alpha = (1 - confidence) / 2
    return tuple(np.quantile(uars, [alpha, 1 - alpha]))


def test_interval_matches_a_plain_loop():
    y_true, y_pred, groups = _noisy_predictions(200, 8, accuracy=0.6, seed=2)
    fast = uar_confidence_interval(y_true, y_pred, groups, n_bootstraps=200, random_state=3)
    slow = _reference_interval(y_true, y_pred, groups, 0.95, 200, 3)
    assert fast == pytest.approx(slow)


def test_interval_contains_uar_and_narrows_with_more_speakers():
    y_few, p_few, g_few = _noisy_predictions(600, 5, accuracy=0.6, seed=4)
    y_many, p_many, g_many = _noisy_predictions(600, 60, accuracy=0.6, seed=4)
    # Speakers differ in difficulty, as real ones do, so resampling them matters.
    for y_true, y_pred, groups in [(y_few, p_few, g_few), (y_many, p_many, g_many)]:
        hard = np.isin(groups, np.unique(groups)[::2])
        y_pred[hard & (np.arange(len(groups)) % 3 == 0)] = -1

    low_few, high_few = uar_confidence_interval(y_few, p_few, g_few)
    low_many, high_many = uar_confidence_interval(y_many, p_many, g_many)
    assert low_few <= unweighted_average_recall(y_few, p_few) <= high_few
    assert low_many <= unweighted_average_recall(y_many, p_many) <= high_many
    assert high_many - low_many < high_few - low_few


def test_interval_is_reproducible_and_fast():
    y_true, y_pred, groups = _noisy_predictions(535, 10, accuracy=0.6, seed=5)
    start = time.perf_counter()
    first = uar_confidence_interval(y_true, y_pred, groups, n_bootstraps=1000)
    elapsed = time.perf_counter() - start
    assert first == uar_confidence_interval(y_true, y_pred, groups, n_bootstraps=1000)
    assert elapsed < 0.5


def test_interval_single_speaker_warns_and_returns_nan():
    with pytest.warns(SklearnSerWarning, match="one speaker"):
        low, high = uar_confidence_interval([0, 1, 1], [0, 1, 0], ["s1"] * 3)
    assert np.isnan(low) and np.isnan(high)


@pytest.mark.parametrize(
    "params, match",
    [({"confidence": 1.5}, "confidence"), ({"n_bootstraps": 0}, "n_bootstraps")],
)
def test_interval_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        uar_confidence_interval([0, 1], [0, 1], ["a", "b"], **params)


# --- plot_confusion_matrix ------------------------------------------------------------------


def test_plot_from_labels_returns_axes_and_saves(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plt.show was called"))
    y_true = ["anger", "anger", "anger", "sadness"]
    y_pred = ["anger", "anger", "sadness", "sadness"]
    ax = plot_confusion_matrix(y_true, y_pred, title="LOSO")
    assert isinstance(ax, Axes)
    assert ax.get_title() == "LOSO"
    texts = [t.get_text() for t in ax.texts]
    assert "0.67\n(2)" in texts and "1.00\n(1)" in texts
    assert [t.get_text() for t in ax.get_xticklabels()] == ["anger", "sadness"]
    path = tmp_path / "cm.png"
    ax.figure.savefig(path)
    assert path.stat().st_size > 0
    plt.close(ax.figure)


def test_plot_from_matrix_on_given_axes():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    cm = np.array([[3, 1], [0, 4]])
    out = plot_confusion_matrix(cm, labels=["x", "y"], normalize=None, ax=ax)
    assert out is ax
    assert sorted(t.get_text() for t in ax.texts) == ["0", "1", "3", "4"]
    plt.close(fig)


def test_plot_errors_are_explained():
    with pytest.raises(ValueError, match="normalize"):
        plot_confusion_matrix(np.eye(2), normalize="rows")
    with pytest.raises(ValueError, match="square"):
        plot_confusion_matrix(np.ones((2, 3)))
    with pytest.raises(ValueError, match="one label per row"):
        plot_confusion_matrix(np.eye(2), labels=["a", "b", "c"])


def test_scores_by_speaker_match_each_speakers_own_scores():
    from sklearn_ser.metrics import scores_by_speaker

    rng = np.random.RandomState(0)
    y_true = rng.choice(["anger", "calm", "sadness"], 120)
    y_pred = np.where(rng.rand(120) < 0.6, y_true, rng.choice(["anger", "calm"], 120))
    groups = rng.choice(["s2", "s1", "s3"], 120)
    scores = scores_by_speaker(y_true, y_pred, groups)
    assert scores["speaker"].tolist() == ["s1", "s2", "s3"]
    for k, speaker in enumerate(scores["speaker"]):
        mine = groups == speaker
        assert scores["n"][k] == mine.sum()
        assert scores["uar"][k] == pytest.approx(
            unweighted_average_recall(y_true[mine], y_pred[mine]))
        assert scores["wa"][k] == pytest.approx(np.mean(y_true[mine] == y_pred[mine]))
    with pytest.raises(ValueError):
        scores_by_speaker(y_true, y_pred, groups[:-1])


# ------------------------------------------------------------ continuous targets (CCC)


def test_ccc_matches_lins_definition_and_charges_bias():
    from sklearn_ser.metrics import concordance_correlation_coefficient as ccc

    rng = np.random.RandomState(0)
    t = rng.rand(50)
    p = t + 0.3 * rng.randn(50)
    expected = 2 * np.cov(t, p, bias=True)[0, 1] / (t.var() + p.var() + (t.mean() - p.mean()) ** 2)
    assert ccc(t, p) == pytest.approx(expected)
    assert ccc(t, t) == pytest.approx(1.0) and ccc(t, 2 * t.mean() - t) == pytest.approx(-1.0)
    # Pearson's r ignores a shift and a scale; CCC does not.
    assert np.corrcoef(t, t + 1)[0, 1] == pytest.approx(1.0) and ccc(t, t + 1) < 0.2
    assert ccc(t, np.full(50, t.mean())) == 0.0  # predicting the mean agrees with nothing


def test_ccc_bad_input():
    from sklearn_ser.metrics import concordance_correlation_coefficient as ccc

    with pytest.raises(ValueError, match=r"y_pred\[1\] is nan"):
        ccc([0.1, 0.2], [0.1, np.nan])
    with pytest.raises(ValueError, match="must hold numbers"):
        ccc(["anger", "calm"], [0.1, 0.2])
    with pytest.warns(SklearnSerWarning, match="undefined"):
        assert np.isnan(ccc([0.5, 0.5], [0.5, 0.5]))


def test_ccc_scorer_in_grid_search():
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV, GroupKFold

    from sklearn_ser.metrics import get_scorer

    rng = np.random.RandomState(0)
    X = rng.randn(120, 5)
    y = X[:, 0] + 0.1 * rng.randn(120)
    search = GridSearchCV(Ridge(), {"alpha": [0.01, 1e5]}, cv=GroupKFold(4),
                          scoring=get_scorer("ccc"))
    search.fit(X, y, groups=np.arange(120) // 10)
    assert search.best_params_ == {"alpha": 0.01}  # greater is better
    assert search.best_score_ > 0.9


def test_continuous_intervals_cover_the_pooled_figures():
    from sklearn_ser.metrics import (
        concordance_correlation_coefficient,
        continuous_confidence_intervals,
        continuous_scores_by_speaker,
    )

    rng = np.random.RandomState(0)
    t = rng.rand(300)
    p = t + 0.2 * rng.randn(300)
    groups = np.repeat(np.arange(10), 30)
    intervals = continuous_confidence_intervals(t, p, groups)
    low, high = intervals["ccc"]
    assert low < concordance_correlation_coefficient(t, p) < high
    low, high = intervals["mae"]
    assert low < np.mean(np.abs(t - p)) < high
    scores = continuous_scores_by_speaker(t, p, groups)
    assert scores["n"].tolist() == [30] * 10 and np.all(scores["pearson"] > 0.5)
    with pytest.warns(SklearnSerWarning, match="one speaker"):
        assert np.isnan(continuous_confidence_intervals(t, p, np.zeros(300))["ccc"][0])
