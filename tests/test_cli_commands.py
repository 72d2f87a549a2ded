"""sklearn-ser train, predict, stream and datasets."""

import csv
import io
import json
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pytest
import sklearn
import soundfile as sf
from numpy.testing import assert_allclose

from sklearn_ser.cli import main
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.io import load_audio, load_model, read_manifest
from sklearn_ser.streaming import StreamingRecognizer

SR = 16000


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Eight clips in two speaker folders, plus one file that is not audio."""
    root = tmp_path_factory.mktemp("clips")
    bunch = make_emotional_speech(8, n_speakers=2, random_state=5)
    for i, (clip, label) in enumerate(zip(bunch.data, bunch.target)):
        speaker = root / ("spk_a" if i % 2 else "spk_b")
        speaker.mkdir(exist_ok=True)
        sf.write(speaker / f"{i}_{label}.wav", clip, SR)
    (root / "spk_a" / "broken.wav").write_text("not audio")
    return root


def _read_csv(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_train_saves_a_model_with_its_story(lr_model, capsys):
    manifest = read_manifest(lr_model)
    meta = manifest["metadata"]
    assert meta["model"] == "lr" and meta["dataset"] == "synthetic" and meta["n_clips"] == 40
    assert sum(meta["class_counts"].values()) == 40 and meta["sr"] == SR
    assert manifest["classes"] == sorted(meta["class_counts"])
    assert "sklearn-ser train --model lr" in meta["command"]


def test_predict_writes_labels_and_probabilities_and_reports_bad_files(lr_model, folder,
                                                                       tmp_path, capsys):
    out = tmp_path / "pred.csv"
    code = main(["predict", str(lr_model), str(folder), "--output", str(out), "--quiet"])
    assert code == 0  # one file could not be read: its row says why, the others are labelled
    err = capsys.readouterr().err
    assert "could not label" in err and "broken.wav" in err
    rows = _read_csv(out.read_text())
    broken = [r for r in rows if "broken" in r["file"]]
    assert len(broken) == 1 and "Cannot decode" in broken[0]["error"]
    assert broken[0]["label"] == ""
    rows = [r for r in rows if not r["error"]]
    assert len(rows) == 8
    model = load_model(lr_model)
    classes = model.classes_.tolist()
    assert list(rows[0]) == ["file", "label"] + [f"prob_{c}" for c in classes] + [
        "out_of_range", "error"]
    assert {r["out_of_range"] for r in rows} == {"false"}  # ordinary clips, in range
    clips = [load_audio(r["file"]) for r in rows]
    proba = model.predict_proba(clips)
    assert_allclose([[float(r[f"prob_{c}"]) for c in classes] for r in rows], proba, atol=1e-6)
    assert [r["label"] for r in rows] == model.predict(clips).tolist()
    # Files given one by one, CSV to stdout.
    first = sorted((folder / "spk_b").iterdir())[0]
    assert main(["predict", str(lr_model), str(first), "--quiet"]) == 0
    printed = _read_csv(capsys.readouterr().out)
    assert [r["file"] for r in printed] == [str(first)]


def test_speaker_normalised_model_groups_files_by_speaker_mode(folder, tmp_path, capsys):
    path = tmp_path / "svm-sn.sser"
    assert main(["train", "--model", "svm-sn", "--n-samples", "40", "--output", str(path),
                 "--quiet"]) == 0
    model = load_model(path)
    files = sorted(str(p) for p in folder.rglob("*_*.wav"))
    clips = [load_audio(f) for f in files]
    for mode, groups in [("all", ["one"] * 8),
                         ("dir", [f.split("/")[-2] for f in files])]:
        out = tmp_path / f"{mode}.csv"
        assert main(["predict", str(path), *files, "--speaker-mode", mode, "-o", str(out),
                     "--quiet"]) == 0
        rows = _read_csv(out.read_text())
        with sklearn.config_context(enable_metadata_routing=True):
            expected = model.predict_proba(clips, groups=np.array(groups))
        got = [[float(r[f"prob_{c}"]) for c in model.classes_] for r in rows]
        assert_allclose(got, expected, atol=1e-6)
    assert "1 speaker(s)" not in capsys.readouterr().err  # --quiet


@pytest.mark.parametrize("name", ["cnn", "cnn-sn"])
def test_train_a_deep_model_with_speaker_grouped_early_stopping(tmp_path, name):
    path = tmp_path / f"{name}.sser"
    assert main(["train", "--model", name, "--n-samples", "30", "--max-epochs", "1",
                 "--output", str(path), "--quiet"]) == 0
    model = load_model(path)
    assert model[-1].n_iter_ == 1
    with sklearn.config_context(enable_metadata_routing=True):  # speakers reached the net
        assert model[-1].get_metadata_routing().fit.requests["groups"] is True
    manifest = read_manifest(path)
    assert manifest["versions"]["torch"]
    assert manifest["metadata"]["speaker_norm"] is name.endswith("-sn")


def test_train_errors_are_one_line(tmp_path, capsys):
    assert main(["train", "--model", "lr", "--max-epochs", "3", "--output",
                 str(tmp_path / "m.sser")]) == 2
    assert "--max-epochs applies to deep models" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="Unknown model 'gpt'"):
        main(["train", "--model", "gpt", "--output", str(tmp_path / "m.sser")])
    assert not (tmp_path / "m.sser").exists()


@pytest.mark.parametrize("name", ["ridge", "svr-sn", "crnn-reg"])
def test_train_refuses_a_regressor_without_a_continuous_target(tmp_path, capsys, name):
    """Refused before any clip is loaded, naming --target."""
    assert main(["train", "--model", name, "--output", str(tmp_path / "m.sser")]) == 2
    err = capsys.readouterr().err
    assert "is a regressor" in err and "--target arousal|valence|intensity" in err
    assert not (tmp_path / "m.sser").exists()


def test_train_refuses_a_classifier_of_a_continuous_target(tmp_path, capsys):
    assert main(["train", "--model", "svm-sn", "--target", "valence", "--output",
                 str(tmp_path / "m.sser")]) == 2
    err = capsys.readouterr().err
    assert "emotion classifier" in err and "svr-sn" in err and "crnn-reg" in err
    assert not (tmp_path / "m.sser").exists()


@pytest.fixture(scope="module")
def arousal_model(tmp_path_factory):
    """``train --target arousal`` with the default regressor, on 40 synthetic clips."""
    path = tmp_path_factory.mktemp("reg") / "arousal.sser"
    assert main(["train", "--target", "arousal", "--n-samples", "40", "--output", str(path),
                 "--quiet"]) == 0
    return path


def test_train_a_regressor_of_a_continuous_target(arousal_model):
    from sklearn.base import is_regressor

    from sklearn_ser.cli._benchmark import DEFAULT_REGRESSION_MODELS, load_corpus

    model = load_model(arousal_model)
    assert is_regressor(model)
    meta = read_manifest(arousal_model)["metadata"]
    assert meta["model"] == DEFAULT_REGRESSION_MODELS.split(",")[0]
    assert meta["target"] == "arousal" and meta["target_origin"] == "generated with the clips"
    corpus = load_corpus("synthetic", n_samples=40, random_state=0, target="arousal")
    assert meta["target_mean"] == pytest.approx(np.mean(corpus.target), abs=1e-6)
    assert "class_counts" not in meta
    # The saved model learnt the target: its training predictions follow it.
    with sklearn.config_context(enable_metadata_routing=True):
        fitted = model.predict(corpus.clips, groups=corpus.groups)
    assert np.corrcoef(fitted, corpus.target)[0, 1] > 0.8


def test_predict_writes_a_regressors_values_under_its_target(arousal_model, folder, tmp_path,
                                                             capsys):
    out = tmp_path / "arousal.csv"
    assert main(["predict", str(arousal_model), str(folder), "--speaker-mode", "dir",
                 "-o", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "could not score" in err and "broken.wav" in err and "predict_proba" not in err
    rows = _read_csv(out.read_text())
    assert list(rows[0]) == ["file", "arousal", "out_of_range", "error"]
    broken = [r for r in rows if "broken" in r["file"]]
    assert broken[0]["arousal"] == "" and "Cannot decode" in broken[0]["error"]
    rows = [r for r in rows if not r["error"]]
    model = load_model(arousal_model)
    clips = [load_audio(r["file"]) for r in rows]
    groups = np.array([r["file"].split("/")[-2] for r in rows])
    with sklearn.config_context(enable_metadata_routing=True):
        expected = model.predict(clips, groups=groups)
    assert_allclose([float(r["arousal"]) for r in rows], expected, atol=1e-5)
    # Without speakers: batches of single clips on the training statistics.
    assert main(["predict", str(arousal_model), *[r["file"] for r in rows],
                 "--speaker-mode", "none", "--batch-size", "3", "--quiet"]) == 0
    printed = _read_csv(capsys.readouterr().out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone = model.predict(clips)
    assert_allclose([float(r["arousal"]) for r in printed], alone, atol=1e-5)


def test_predict_names_each_output_of_a_multi_target_regressor(folder, tmp_path, capsys):
    """A regressor of two targets saved from Python: one column per output."""
    from sklearn_ser.io import save_model
    from sklearn_ser.pipelines import make_regression_pipeline

    bunch = make_emotional_speech(30, n_speakers=3, random_state=2)
    model = make_regression_pipeline("ridge", features="mfcc")
    model.fit(list(bunch.data), np.column_stack([bunch.arousal, bunch.valence]))
    path = tmp_path / "av.sser"
    save_model(model, path)
    files = sorted(str(p) for p in folder.rglob("*_*.wav"))
    assert main(["predict", str(path), *files, "--speaker-mode", "none", "--quiet"]) == 0
    rows = _read_csv(capsys.readouterr().out)
    assert list(rows[0]) == ["file", "value_0", "value_1", "out_of_range", "error"]
    expected = model.predict([load_audio(f) for f in files])
    assert_allclose([[float(r["value_0"]), float(r["value_1"])] for r in rows], expected,
                    atol=1e-5)


def test_stream_prints_a_regressors_values_under_its_target(arousal_model, folder, capsys):
    wav = sorted(folder.rglob("*_*.wav"))[0]
    assert main(["stream", str(arousal_model), str(wav), "--window", "1", "--hop", "0.5"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["window", "arousal"]
    spoken = [line for line in out[1:] if "silence" not in line]
    assert spoken and all(line.split()[3] == "arousal" for line in spoken)
    assert main(["stream", str(arousal_model), str(wav), "--window", "1", "--hop", "0.5",
                 "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    model = load_model(arousal_model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        recognizer = StreamingRecognizer(model, window=1.0, hop=0.5)
    expected = [e.value for e in recognizer.stream(str(wav), chunk=0.5)]
    assert [e["value"] for e in events] == pytest.approx(
        [None if v is None else round(v, 6) for v in expected], abs=1e-6)
    assert any(e["value"] is not None for e in events)
    assert all(e["label"] is None and e["probabilities"] == {} for e in events)
    assert [float(line.split()[4]) for line in spoken] == pytest.approx(
        [e["value"] for e in events if e["is_speech"]], abs=1e-3)


def test_predict_refuses_a_model_of_other_versions_in_one_line(lr_model, folder, tmp_path,
                                                               capsys):
    path = tmp_path / "old.sser"
    with zipfile.ZipFile(lr_model) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    manifest = json.loads(files["manifest.json"])
    manifest["versions"]["sklearn"] = "1.0.0"
    files["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    first = str(sorted((folder / "spk_b").iterdir())[0])
    assert main(["predict", str(path), first, "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("sklearn-ser predict: error:") and "scikit-learn 1.0.0" in err
    assert len(err.splitlines()) == 1
    with pytest.warns(UserWarning, match="other package versions"):
        assert main(["predict", str(path), first, "--quiet", "--allow-version-mismatch"]) == 0
    assert main(["predict", str(lr_model), str(tmp_path / "nothing.wav")]) == 2
    assert "nothing.wav" in capsys.readouterr().err


def test_stream_prints_one_line_per_window(lr_model, folder, capsys):
    path = str(sorted((folder / "spk_b").iterdir())[0])
    assert main(["stream", str(lr_model), path, "--window", "1", "--hop", "0.5"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    events = list(StreamingRecognizer(load_model(lr_model), window=1, hop=0.5).stream(path))
    assert len(lines) == 1 + len(events)  # a header, then the windows
    assert lines[1].split()[0:2] == ["0.00-", "1.00"] and str(events[0].label) in lines[1]
    assert main(["stream", str(lr_model), path, "--window", "1", "--hop", "0.5", "--json",
                 "--smoothing", "ema"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == len(events)
    assert records[0]["start"] == 0.0 and records[0]["is_speech"] is True
    assert sum(records[0]["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)


def test_stream_errors(lr_model, folder, capsys, monkeypatch):
    assert main(["stream", str(lr_model)]) == 2
    assert "FILE or --mic" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "sounddevice", None)
    assert main(["stream", str(lr_model), "--mic"]) == 2
    assert "pip install sounddevice" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["stream", str(lr_model), "x.wav", "--smoothing", "median"])
    assert "expected none, ema or a number" in capsys.readouterr().err


def test_datasets_lists_loaders_and_checks_a_folder(folder, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("SKLEARN_SER_TESS", str(tmp_path))
    # EmoDB unset and an empty download cache, so that its row offers the download (CI sets
    # SKLEARN_SER_EMODB, and then the row shows the folder instead).
    monkeypatch.delenv("SKLEARN_SER_EMODB", raising=False)
    monkeypatch.setenv("SKLEARN_SER_DATA", str(tmp_path / "empty-cache"))
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for text in ("load_emodb", "SKLEARN_SER_RAVDESS", "fetch_emodb", "load_folder",
                 str(tmp_path)):
        assert text in out
    assert main(["datasets", "--check", str(folder), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "8 clips" in out and "spk_a" in out and "broken.wav" in out
    assert "need attention" in out
    assert main(["datasets", "--check", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err


KNOWN_LAYOUTS = {
    "emodb": ["wav/03a01Fa.wav", "wav/08b02Wb.wav", "wav/16a05Nc.wav"],
    "ravdess": ["Actor_01/03-01-05-01-01-01-01.wav", "Actor_02/03-01-04-01-01-01-02.wav"],
    "tess": ["OAF_angry/OAF_back_angry.wav", "YAF_sad/YAF_dog_sad.wav"],
    "cremad": ["AudioWAV/1001_DFA_ANG_XX.wav", "AudioWAV/1002_IEO_HAP_HI.wav"],
}


def _write_tones(root, names):
    tone = 0.3 * np.sin(2 * np.pi * 220 * np.arange(SR // 5) / SR)
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        sf.write(root / name, tone, SR)


@pytest.mark.parametrize("corpus", sorted(KNOWN_LAYOUTS))
def test_datasets_check_recognises_the_known_corpora(corpus, tmp_path, capsys):
    _write_tones(tmp_path, KNOWN_LAYOUTS[corpus])
    assert main(["datasets", "--check", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    n = len(KNOWN_LAYOUTS[corpus])
    assert f"({n} of {n} file names follow its naming); checking with --dataset {corpus}" in out
    assert f"{corpus} corpus in {tmp_path}: {n} clips" in out
    assert f"{corpus}:" in out  # speaker ids of the corpus, not folder:unknown
    assert "No problems found." in out


def test_datasets_check_names_the_loader_when_another_is_asked_for(tmp_path, capsys):
    _write_tones(tmp_path, KNOWN_LAYOUTS["emodb"])
    main(["datasets", "--check", str(tmp_path), "--dataset", "folder", "--quiet"])
    out = capsys.readouterr().out
    assert "note: 3 of 3 file names follow EmoDB's naming; if this is EmoDB, pass --dataset " \
        "emodb." in out


def test_datasets_check_keeps_a_tess_file_whose_name_disagrees_with_its_folder(tmp_path,
                                                                               capsys):
    _write_tones(tmp_path, KNOWN_LAYOUTS["tess"] + ["OAF_neutral/OA_bite_neutral.wav"])
    assert main(["datasets", "--check", str(tmp_path), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "3 clips" in out and "neutral" in out
    assert "OA_bite_neutral.wav' (speaker 'OA' in the name, OAF in the folder)" in out
    assert "1 problem(s) need attention" in out


def test_every_new_command_has_help():
    for command in ("train", "predict", "stream", "datasets"):
        result = subprocess.run([sys.executable, "-m", "sklearn_ser", command, "--help"],
                                capture_output=True, text=True, check=True)
        assert "usage: sklearn-ser " + command in result.stdout
