"""Batches survive bad members: predict over bad files, benchmark over a failing model."""

import csv
import io
import json
import warnings

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from sklearn.base import BaseEstimator, ClassifierMixin

from sklearn_ser.cli import _benchmark, main
from sklearn_ser.cli._predict import _Results, _score_speaker
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.exceptions import AudioWarning, SklearnSerWarning

SR = 16000


def _read_csv(path):
    return list(csv.DictReader(io.StringIO(path.read_text())))


@pytest.fixture(scope="module")
def bad_folder(tmp_path_factory):
    """Three good clips, one float WAV holding a NaN, one empty file, one of garbage bytes."""
    root = tmp_path_factory.mktemp("bad")
    bunch = make_emotional_speech(3, n_speakers=1, emotions=["anger", "neutral", "sadness"],
                                  duration=(0.6, 0.8), random_state=2)
    for i, clip in enumerate(bunch.data):
        sf.write(root / f"good{i}.wav", clip, SR)
    nan_clip = np.array(bunch.data[0], dtype=np.float32)
    nan_clip[100] = np.nan
    sf.write(root / "nan.wav", nan_clip, SR, subtype="FLOAT")
    (root / "empty.wav").write_bytes(b"")
    (root / "garbage.wav").write_bytes(np.random.RandomState(0).bytes(2000))
    return root


BAD = {"nan.wav": "NaN", "empty.wav": "empty", "garbage.wav": "Cannot decode"}


def test_predict_labels_good_files_and_gives_each_bad_one_an_error_row(lr_model, bad_folder,
                                                                         tmp_path, capsys):
    out = tmp_path / "pred.csv"
    assert main(["predict", str(lr_model), str(bad_folder), "-o", str(out), "--quiet"]) == 0
    rows = {r["file"].rsplit("/", 1)[-1]: r for r in _read_csv(out)}
    assert sorted(rows) == sorted(["good0.wav", "good1.wav", "good2.wav", *BAD])
    assert list(next(iter(rows.values())))[-2:] == ["out_of_range", "error"]
    for name, row in rows.items():
        if name in BAD:
            assert BAD[name] in row["error"] and name in row["error"]
            assert row["label"] == "" and row["out_of_range"] == ""
        else:
            assert row["error"] == "" and row["label"]
    err = capsys.readouterr().err
    for name in BAD:
        assert f"{name}'" in err
    assert "3 of 6 file(s) could not be labelled" in err


def test_predict_strict_exits_non_zero_and_still_writes_every_row(lr_model, bad_folder,
                                                                   tmp_path):
    out = tmp_path / "pred.csv"
    assert main(["predict", str(lr_model), str(bad_folder), "-o", str(out), "--quiet",
                 "--strict"]) == 1
    assert len(_read_csv(out)) == 6
    good = sorted(str(p) for p in bad_folder.glob("good*.wav"))
    assert main(["predict", str(lr_model), *good, "-o", str(out), "--quiet", "--strict"]) == 0


def test_predict_exits_non_zero_when_no_file_could_be_labelled(lr_model, bad_folder, tmp_path):
    out = tmp_path / "pred.csv"
    bad = [str(bad_folder / name) for name in BAD]
    assert main(["predict", str(lr_model), *bad, "-o", str(out), "--quiet"]) == 1
    assert all(r["error"] for r in _read_csv(out))


def test_predict_warnings_name_files_not_clip_indices(lr_model, tmp_path):
    speech = make_emotional_speech(1, n_speakers=1, emotions=["anger"], duration=(0.6, 0.6),
                                   random_state=1)
    sf.write(tmp_path / "speech.wav", speech.data[0], SR)
    sf.write(tmp_path / "silent.wav", np.zeros(SR // 2), SR)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        main(["predict", str(lr_model), str(tmp_path), "-o", str(tmp_path / "p.csv"),
              "--quiet"])
    silent = [str(w.message) for w in seen if issubclass(w.category, AudioWarning)
              and "silent" in str(w.message)]
    assert silent and all("silent.wav" in m and "X[" not in m for m in silent)


def test_one_bad_file_in_a_batch_costs_only_its_own_row():
    files = [f"f{k}.wav" for k in range(5)]
    results = _Results(files)

    def score(idx):  # file 3 cannot be scored, alone or with others
        if 3 in idx:
            raise ValueError(f"Input X[{list(idx).index(3)}] contains NaN.")
        return [f"label{k}" for k in idx]

    assert results.attempt(score, [0, 1, 2, 3, 4]) is not None
    results.attempt_each(score, [0, 1, 2, 3, 4])
    assert results.values == ["label0", "label1", "label2", None, "label4"]
    assert results.errors == {3: "ValueError: Input 'f3.wav' contains NaN."}


def test_a_speaker_whose_call_fails_is_scored_without_its_bad_files():
    files = [f"f{k}.wav" for k in range(4)]
    results = _Results(files)
    calls = []

    def score(idx):
        calls.append(list(idx))
        if 1 in idx:
            raise ValueError("bad clip")
        return [f"together{len(idx)}"] * len(idx)

    _score_speaker(score, [0, 1, 2], results)
    # The speaker's good files are standardised together again (3 clips minus the bad one).
    assert results.values[:3] == ["together2", None, "together2"]
    assert results.errors == {1: "ValueError: bad clip"}
    assert calls[-1] == [0, 2]


def test_stacking_on_one_training_speaker_falls_back_to_stratified_inner_folds():
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB

    from sklearn_ser.pipelines import SpeakerStackingClassifier

    rng = np.random.RandomState(0)
    y = np.repeat(["anger", "sadness"], 10)
    X = rng.normal(size=(20, 3)) + 2 * (y == "anger")[:, None]
    stack = SpeakerStackingClassifier([("lr", LogisticRegression()), ("nb", GaussianNB())])
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        stack.fit(X, y, groups=["tess:OAF"] * 20)
    messages = [str(w.message) for w in seen]
    assert any("single speaker ('tess:OAF')" in m and "StratifiedKFold(5)" in m
               for m in messages)
    assert not any("groups parameter is ignored" in m for m in messages)
    assert stack.predict(X[:2]).tolist() == ["anger", "anger"]
    with pytest.raises(ValueError, match="single speaker .* only one clip"):
        stack.fit(X[9:], y[9:], groups=["s"] * 11)  # one anger clip


# ------------------------------------------------------------------------------ benchmark

TESS_WORDS = {"anger": "angry", "neutral": "neutral", "sadness": "sad"}


@pytest.fixture(scope="module")
def two_speaker_corpus(tmp_path_factory):
    """A TESS-like tree of synthetic clips: two speakers (OAF, YAF), three emotions."""
    root = tmp_path_factory.mktemp("tess")
    bunch = make_emotional_speech(30, n_speakers=2, emotions=list(TESS_WORDS),
                                  duration=(0.5, 0.7), random_state=0)
    speakers = {g: s for g, s in zip(sorted(set(bunch.groups)), ("OAF", "YAF"))}
    for i, (clip, emotion, group) in enumerate(zip(bunch.data, bunch.target, bunch.groups)):
        speaker, word = speakers[group], TESS_WORDS[emotion]
        folder = root / f"{speaker}_{word}"
        folder.mkdir(exist_ok=True)
        sf.write(folder / f"{speaker}_w{i}_{word}.wav", clip, SR)
    return root


class _BrokenModel(ClassifierMixin, BaseEstimator):
    """Stands for a model that fails on this corpus."""

    def fit(self, X, y):
        raise RuntimeError("this model cannot be fitted here")

    def predict(self, X):
        raise AssertionError("never fitted")


@pytest.fixture
def with_broken_model(monkeypatch):
    build = _benchmark.build_model

    def build_model(name, **kwargs):
        return _BrokenModel() if name == "broken" else build(name, **kwargs)

    monkeypatch.setattr(_benchmark, "build_model", build_model)


def _bench(corpus, out, models, *extra):
    return main(["benchmark", "--dataset", "tess", "--data-dir", str(corpus), "--models",
                 models, "--cv", "loso", "--output", str(out), "--quiet", *extra])


def test_benchmark_keeps_the_models_that_ran_and_reports_the_failure(
        two_speaker_corpus, with_broken_model, tmp_path, capsys):
    out = tmp_path / "bench"
    # Fusion on two speakers: each training fold has one speaker, so its inner folds fall
    # back to stratified ones, with a warning that says why.
    with pytest.warns(SklearnSerWarning, match="single speaker .* StratifiedKFold"):
        assert _bench(two_speaker_corpus, out, "nb,broken,fusion") == 0
    records = {r["model"]: r for r in json.loads((out / "results.json").read_text())}
    assert set(records) == {"nb", "broken", "fusion"}
    for name in ("nb", "fusion"):
        assert 0 <= records[name]["uar"] <= 1 and "error" not in records[name]
    assert records["broken"]["uar"] is None
    assert records["broken"]["error"] == "RuntimeError: this model cannot be fitted here"
    table = pd.read_csv(out / "results.csv", keep_default_na=False)
    assert table["model"].tolist()[-1] == "broken" and table.columns[-1] == "error"
    assert table.set_index("model").loc["broken", "error"].startswith("RuntimeError")
    assert table.set_index("model").loc["nb", "n_folds"] == "2"  # not 2.0
    report = (out / "report.md").read_text()
    assert "Failed: RuntimeError: this model cannot be fitted here" in report
    captured = capsys.readouterr()
    assert "broken       failed: RuntimeError" in captured.out
    assert "model 'broken' failed" in captured.err and "1 of 3 model(s) failed" in captured.err


def test_benchmark_exit_status_when_asked_or_when_every_model_failed(
        two_speaker_corpus, with_broken_model, tmp_path):
    assert _bench(two_speaker_corpus, tmp_path / "a", "nb,broken", "--strict") == 1
    assert _bench(two_speaker_corpus, tmp_path / "b", "broken") == 1
    records = json.loads((tmp_path / "b" / "results.json").read_text())
    assert [r["error"] for r in records] == ["RuntimeError: this model cannot be fitted here"]


def test_benchmark_refuses_an_unknown_model_before_running_any(two_speaker_corpus, tmp_path,
                                                               monkeypatch):
    ran = []
    monkeypatch.setattr("sklearn_ser.model_selection.evaluate",
                        lambda *a, **k: ran.append(a))
    with pytest.raises(SystemExit, match="Unknown model 'gpt'"):
        _bench(two_speaker_corpus, tmp_path / "c", "nb,gpt")
    assert ran == []
