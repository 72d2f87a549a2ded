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
