"""``sklearn-ser extract``: features of files or a corpus folder, one row per file."""

import sys

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from sklearn_ser.cli import main

SR = 16000

# EmoDB's naming: speaker, text, emotion letter (W anger, F happiness, N neutral), version.
_EMODB_NAMES = ("03a01Wa.wav", "03a02Fb.wav", "08a01Na.wav", "08b02Wc.wav")
_EMODB_LABELS = {"03a01Wa.wav": ("emodb:03", "anger"), "03a02Fb.wav": ("emodb:03", "happiness"),
                 "08a01Na.wav": ("emodb:08", "neutral"), "08b02Wc.wav": ("emodb:08", "anger")}


def _write_tones(folder, names, seconds=0.8):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * SR)) / SR
    for i, name in enumerate(names):
        wave = 0.3 * np.sin(2 * np.pi * (110 + 40 * i) * t) + 0.01 * rng.standard_normal(len(t))
        sf.write(folder / name, wave.astype(np.float32), SR)
    return folder


@pytest.fixture
def emodb_like(tmp_path):
    """A folder named like EmoDB (wav/), with one file that is not audio."""
    wav = _write_tones(tmp_path / "corpus" / "wav", _EMODB_NAMES)
    (wav / "09a01Fa.wav").write_bytes(b"RIFF, but nothing after")
    return tmp_path / "corpus"


def test_corpus_folder_gives_speakers_labels_features_and_an_error_row(emodb_like, tmp_path,
                                                                        capsys):
    out = tmp_path / "features.csv"
    code = main(["extract", str(emodb_like), "-o", str(out), "--features", "mfcc,prosody",
                 "--quiet"])
    assert code == 0
    table = pd.read_csv(out, keep_default_na=False)
    assert list(table.columns[:3]) == ["file", "speaker", "label"]
    assert table.columns[-1] == "error"
    assert "mfcc__mfcc0_mean" in table.columns and "prosody__f0_mean" in table.columns
    assert len(table) == 5  # every file has its row, the bad one too
    by_name = table.set_index(table["file"].map(lambda p: p.rsplit("/", 1)[-1]))
    for name, (speaker, label) in _EMODB_LABELS.items():
        assert (by_name.loc[name, "speaker"], by_name.loc[name, "label"]) == (speaker, label)
        assert by_name.loc[name, "error"] == ""
    bad = by_name.loc["09a01Fa.wav"]
    assert bad["error"].startswith("AudioLoadError") and bad["mfcc__mfcc0_mean"] == ""
    features = table.loc[table["error"] == "", "mfcc__mfcc0_mean"].astype(float)
    assert np.isfinite(features).all()
    assert "could not extract" in capsys.readouterr().err


def test_files_without_a_corpus_get_empty_speaker_and_label(tmp_path, capsys):
    folder = _write_tones(tmp_path / "calls", ["a.wav", "b.wav"])
    out = tmp_path / "f.csv"
    code = main(["extract", str(folder / "a.wav"), str(folder / "b.wav"), "-o", str(out),
                 "--features", "lpcc", "--quiet"])
    table = pd.read_csv(out, keep_default_na=False)
    assert code == 0 and len(table) == 2
    assert (table["speaker"] == "").all() and (table["label"] == "").all()
    assert (table["error"] == "").all()


def test_strict_and_all_bad_files_set_the_exit_status(emodb_like, tmp_path):
    out = tmp_path / "f.csv"
    bad = str(emodb_like / "wav" / "09a01Fa.wav")
    assert main(["extract", str(emodb_like), "-o", str(out), "--features", "lpcc", "--strict",
                 "--quiet"]) == 1
    assert main(["extract", bad, "-o", str(out), "--features", "lpcc", "--quiet"]) == 1
    assert pd.read_csv(out)["error"].str.contains("AudioLoadError").all()


def test_unknown_feature_name_and_output_format_get_one_line(tmp_path, capsys):
    folder = _write_tones(tmp_path / "calls", ["a.wav"])
    assert main(["extract", str(folder), "-o", str(tmp_path / "f.csv"), "--features",
                 "mfcc,wav3vec"]) == 2
    err = capsys.readouterr().err
    assert "Unknown feature set 'wav3vec'" in err and "egemaps" in err and "hf:<model>" in err
    assert main(["extract", str(folder), "-o", str(tmp_path / "f.xlsx")]) == 2
    assert "--output must end with .csv or .parquet" in capsys.readouterr().err


def test_parquet_output_or_a_clear_error_without_an_engine(tmp_path, capsys, monkeypatch):
    folder = _write_tones(tmp_path / "calls", ["a.wav", "b.wav"])
    out = tmp_path / "f.parquet"
    args = ["extract", str(folder), "-o", str(out), "--features", "lpcc", "--quiet"]
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        pass
    else:
        assert main(args) == 0
        table = pd.read_parquet(out)
        assert len(table) == 2 and table.columns[-1] == "error"
    for engine in ("pyarrow", "fastparquet"):
        monkeypatch.setitem(sys.modules, engine, None)
    assert main(args) == 2
    assert "needs pyarrow or fastparquet" in capsys.readouterr().err


def test_default_features_are_the_classic_pipelines(tmp_path):
    from sklearn_ser.pipelines import DEFAULT_FEATURES, make_features

    folder = _write_tones(tmp_path / "calls", ["a.wav", "b.wav"])
    out = tmp_path / "f.csv"
    assert main(["extract", str(folder), "-o", str(out), "--quiet", "--n-jobs", "2"]) == 0
    table = pd.read_csv(out)
    clips = [sf.read(folder / n, dtype="float32")[0] for n in ("a.wav", "b.wav")]
    _, union = make_features(DEFAULT_FEATURES)
    expected = union.fit(clips).transform(clips)
    names = [str(n) for n in union.get_feature_names_out()]
    assert list(table.columns[3:-1]) == names
    np.testing.assert_allclose(table[names].to_numpy(), expected, rtol=1e-6, atol=1e-9)


def test_opensmile_sets_keep_their_own_names(tmp_path):
    opensmile = pytest.importorskip("opensmile")
    folder = _write_tones(tmp_path / "calls", ["a.wav", "b.wav"])
    out = tmp_path / "f.csv"
    assert main(["extract", str(folder), "-o", str(out), "--features", "egemaps",
                 "--quiet"]) == 0
    table = pd.read_csv(out)
    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02)
    assert list(table.columns[3:-1]) == smile.feature_names
    assert main(["extract", str(folder), "-o", str(out), "--features", "opensmile:IS09",
                 "--quiet"]) == 0
    assert pd.read_csv(out).shape == (2, 3 + 384 + 1)


def test_missing_opensmile_names_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "opensmile", None)
    folder = _write_tones(tmp_path / "calls", ["a.wav"])
    assert main(["extract", str(folder), "-o", str(tmp_path / "f.csv"), "--features",
                 "compare", "--quiet"]) == 2
    assert 'pip install "sklearn-ser[opensmile]"' in capsys.readouterr().err


def _has_pretrained_extractor():
    try:
        from sklearn_ser.neural import PretrainedSpeechExtractor  # noqa: F401
    except ImportError:
        return False
    return True


def test_pretrained_encoder_without_transformers_says_what_to_install(tmp_path, capsys,
                                                                     monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "transformers", None)  # as if it were not installed
    folder = _write_tones(tmp_path / "calls", ["a.wav"])
    assert main(["extract", str(folder), "-o", str(tmp_path / "f.csv"), "--features",
                 "hf:facebook/wav2vec2-base", "--quiet"]) == 2
    assert 'pip install "sklearn-ser[embeddings]"' in capsys.readouterr().err


@pytest.mark.skipif(not _has_pretrained_extractor(),
                    reason="needs sklearn_ser.neural.PretrainedSpeechExtractor")
def test_pretrained_encoder_from_a_local_folder(tmp_path):
    transformers = pytest.importorskip("transformers")
    model_dir = tmp_path / "tiny-wav2vec2"
    config = transformers.Wav2Vec2Config(
        hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
        conv_dim=(8, 8), conv_kernel=(10, 3), conv_stride=(5, 2), num_conv_pos_embeddings=8,
        num_conv_pos_embedding_groups=2)
    transformers.Wav2Vec2Model(config).save_pretrained(model_dir)
    transformers.Wav2Vec2FeatureExtractor().save_pretrained(model_dir)
    folder = _write_tones(tmp_path / "calls", ["a.wav", "b.wav"])
    out = tmp_path / "f.csv"
    assert main(["extract", str(folder), "-o", str(out), "--features", f"hf:{model_dir}",
                 "--quiet"]) == 0
    table = pd.read_csv(out, keep_default_na=False)
    assert table.columns[3] == "wav2vec2_layer1_dim0_mean" and len(table) == 2
    assert (table["error"] == "").all()
