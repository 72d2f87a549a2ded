"""The sklearn-ser command line: benchmark outputs and user errors."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from sklearn_ser.cli import main
from sklearn_ser.cli._benchmark import RECORD_KEYS


def test_benchmark_writes_every_output(tmp_path, capsys):
    out = tmp_path / "bench"
    code = main(["benchmark", "--n-samples", "70", "--models", "nb,dt", "--cv", "kfold:3",
                 "--output", str(out), "--quiet"])
    assert code == 0
    records = json.loads((out / "results.json").read_text())
    assert [r["model"] for r in records] == ["nb", "dt"]
    for record in records:
        assert tuple(record) == RECORD_KEYS
        assert record["dataset"] == "synthetic" and record["protocol"] == "kfold:3"
        assert record["n_folds"] == 3
        assert record["uar_ci_low"] <= record["uar"] <= record["uar_ci_high"]
    table = pd.read_csv(out / "results.csv")
    assert list(table.columns) == list(RECORD_KEYS)
    report = (out / "report.md").read_text()
    assert "## Leaderboard" in report and "confusion_nb.png" in report
    assert (out / "confusion_nb.png").stat().st_size > 1000
    printed = capsys.readouterr().out
    assert "UAR" in printed and "nb" in printed


def test_unknown_model_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="Unknown model 'gpt'"):
        main(["benchmark", "--n-samples", "40", "--models", "gpt", "--output", str(tmp_path)])


def test_missing_corpus_gives_one_clear_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SKLEARN_SER_RAVDESS", raising=False)
    monkeypatch.setenv("SKLEARN_SER_DATA", str(tmp_path / "empty-cache"))
    code = main(["benchmark", "--dataset", "ravdess", "--data-dir", str(tmp_path / "nowhere"),
                 "--output", str(tmp_path / "out")])
    assert code == 2
    err = capsys.readouterr().err
    assert "error" in err and "nowhere" in err


def test_console_script_help():
    result = subprocess.run([sys.executable, "-m", "sklearn_ser", "benchmark", "--help"],
                            capture_output=True, text=True, check=True)
    assert "--cv" in result.stdout and "loso" in result.stdout
    assert "--test-noise" in result.stdout and "--test-gain" in result.stdout


def test_benchmark_test_noises_and_gains(tmp_path, capsys):
    code = main(["benchmark", "--n-samples", "42", "--models", "nb", "--cv", "kfold:3",
                 "--test-snr", "10", "--test-noise", "white,babble", "--test-gain", "-20,20",
                 "--test-padding", "0.5", "--output", str(tmp_path), "--quiet"])
    assert code == 0
    keys = ["uar_snr10", "uar_babble10", "uar_gain-20", "uar_gain+20", "uar_zeros0.5",
            "agree_zeros0.5"]
    records = json.loads((tmp_path / "results.json").read_text())
    assert list(records[0]) == list(RECORD_KEYS) + keys
    assert list(pd.read_csv(tmp_path / "results.csv").columns) == list(RECORD_KEYS) + keys
    leaderboard = (tmp_path / "report.md").read_text().split("## Leaderboard")[1]
    assert all(key in leaderboard for key in keys)
    header = capsys.readouterr().out.splitlines()[0]
    assert header.split()[-6:] == ["snr10", "babble10", "gain-20", "gain+20", "zeros0.5",
                                   "agree_zeros0.5"]
    assert 0.0 <= records[0]["agree_zeros0.5"] <= 1.0


def test_benchmark_refuses_bad_test_conditions(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["benchmark", "--test-snr", "10", "--test-noise", "white,purple"])
    assert "white, pink, brown, babble" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["benchmark", "--test-gain", "-20,loud"])
    with pytest.raises(SystemExit):
        main(["benchmark", "--test-padding", "-1"])
    with pytest.raises(SystemExit, match="--test-noise needs --test-snr"):
        main(["benchmark", "--test-noise", "pink", "--output", str(tmp_path)])


def test_cli_noises_are_evaluates():
    from sklearn_ser.cli import _TEST_NOISES
    from sklearn_ser.model_selection._evaluate import _TEST_NOISES as EVALUATE_NOISES

    assert _TEST_NOISES == EVALUATE_NOISES
