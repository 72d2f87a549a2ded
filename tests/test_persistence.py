"""Saving and loading fitted models: same predictions in a fresh process, clear version errors."""

import json
import pickle
import subprocess
import sys
import textwrap
import warnings
import zipfile

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.exceptions import ModelVersionError, ModelVersionWarning
from sklearn_ser.io import load_model, read_manifest, save_model
from sklearn_ser.pipelines import make_classic_pipeline, make_deep_pipeline

TINY_CNN = dict(channels=(4,), n_hidden=8, max_epochs=3, validation_fraction=None, device="cpu")


@pytest.fixture(scope="module")
def corpus():
    return make_emotional_speech(24, n_speakers=3, random_state=0)


@pytest.fixture(scope="module")
def classic(corpus):
    return make_classic_pipeline("lr", features="mfcc").fit(corpus.data, corpus.target)


@pytest.fixture(scope="module")
def deep(corpus):
    pipe = make_deep_pipeline("cnn", max_frames=100, random_state=0, **TINY_CNN)
    return pipe.fit(corpus.data, corpus.target)


def _predict_in_subprocess(model_path, clips, tmp_path):
    """Load the model in a fresh interpreter and return its labels and probabilities."""
    clips_path = tmp_path / "clips.npz"
    np.savez(clips_path, *clips)
    out = tmp_path / "out.npz"
    code = textwrap.dedent(f"""
        import sys, numpy as np
        from sklearn_ser.io import load_model
        clips = list(np.load({str(clips_path)!r}).values())
        model = load_model({str(model_path)!r})
        np.savez({str(out)!r}, labels=model.predict(clips), proba=model.predict_proba(clips),
                 torch=np.array('torch' in sys.modules))
    """)
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    with np.load(out) as result:
        return result["labels"], result["proba"], bool(result["torch"])


@pytest.mark.parametrize("kind", ["classic", "deep"])
def test_saved_model_predicts_the_same_in_a_fresh_process(kind, corpus, tmp_path, request):
    model = request.getfixturevalue(kind)
    path = tmp_path / "model.sser"
    save_model(model, path)
    clips = corpus.data[:6]
    labels, proba, torch_loaded = _predict_in_subprocess(path, clips, tmp_path)
    assert_array_equal(labels, model.predict(clips))
    assert_allclose(proba, model.predict_proba(clips), rtol=1e-6, atol=1e-7)
    # A classic model does not need torch to load; a deep one brings it.
    assert torch_loaded == (kind == "deep")


def test_manifest_records_classes_steps_and_the_versions_that_matter(classic, deep, tmp_path):
    import sklearn
    import torch

    save_model(classic, tmp_path / "classic.sser", metadata={"dataset": "synthetic"})
    save_model(deep, tmp_path / "deep.sser")
    manifest = read_manifest(tmp_path / "classic.sser")
    # The default classic pipeline makes speed copies in fit: an imblearn-based pipeline.
    assert manifest["class"] == "sklearn_ser.pipelines._resampling.ResamplingPipeline"
    assert manifest["classes"] == classic.classes_.tolist()
    assert [name for name, _ in manifest["steps"]] == [n for n, _ in classic.steps]
    assert manifest["versions"]["sklearn"] == sklearn.__version__
    assert "torch" not in manifest["versions"]  # nothing in the classic pickle refers to it
    assert manifest["metadata"] == {"dataset": "synthetic"}
    deep_versions = read_manifest(tmp_path / "deep.sser")["versions"]
    assert deep_versions["torch"] == torch.__version__.split("+")[0]
    assert "skorch" in deep_versions


def _rewrite_manifest(path, change):
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(files["manifest.json"])
    change(manifest)
    files["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)


def test_mismatched_versions_are_refused_with_a_clear_message(classic, corpus, tmp_path):
    path = tmp_path / "model.sser"
    save_model(classic, path)
    _rewrite_manifest(path, lambda m: m["versions"].update(sklearn="0.24.2"))
    with pytest.raises(ModelVersionError,
                       match=r"scikit-learn 0\.24\.2 when saved, 1\.\d+\.\d+\S* here.*"
                             r"pip install scikit-learn==0\.24\.2.*allow_version_mismatch"):
        load_model(path)
    assert issubclass(ModelVersionError, ValueError)
    with pytest.warns(ModelVersionWarning, match="scikit-learn 0.24.2"):
        model = load_model(path, allow_version_mismatch=True)
    assert_array_equal(model.predict(corpus.data[:4]), classic.predict(corpus.data[:4]))


def test_a_patch_release_of_numpy_is_accepted_but_not_a_minor_one(classic, tmp_path):
    major, minor = np.__version__.split(".")[:2]
    path = tmp_path / "model.sser"
    save_model(classic, path)
    _rewrite_manifest(path, lambda m: m["versions"].update(numpy=f"{major}.{minor}.999"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelVersionWarning)
        load_model(path)
    _rewrite_manifest(path, lambda m: m["versions"].update(numpy=f"{major}.{int(minor) + 1}.0"))
    with pytest.raises(ModelVersionError, match="numpy"):
        load_model(path)


def test_bad_files_get_clear_errors(classic, tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.sser"):
        load_model(tmp_path / "nowhere.sser")
    plain = tmp_path / "plain.joblib"
    import joblib

    joblib.dump(classic, plain)
    with pytest.raises(ValueError, match="not a sklearn_ser model file.*joblib.load"):
        load_model(plain)
    path = tmp_path / "model.sser"
    save_model(classic, path)
    _rewrite_manifest(path, lambda m: m.update(sha256="0" * 64))
    with pytest.raises(ValueError, match="corrupt"):
        load_model(path)
    _rewrite_manifest(path, lambda m: m.update(format_version=99))
    with pytest.raises(ModelVersionError, match="upgrade sklearn_ser"):
        load_model(path)
    with pytest.raises(TypeError, match="metadata"):
        save_model(classic, path, metadata=["not", "a", "dict"])


def test_a_failed_save_leaves_no_file(classic, tmp_path):
    path = tmp_path / "model.sser"
    with pytest.raises(TypeError):  # json cannot serialise an ndarray
        save_model(classic, path, metadata={"weights": np.zeros(2)})
    assert list(tmp_path.iterdir()) == []


def test_a_model_trained_on_a_gpu_loads_on_the_cpu():
    """A net whose state says CUDA unpickles on a CPU-only machine and runs there."""
    import torch
    from skorch.exceptions import DeviceWarning

    from sklearn_ser.neural import CNNClassifier

    if torch.cuda.is_available():
        pytest.skip("needs a machine without CUDA")
    rng = np.random.default_rng(0)
    y = np.repeat(["calm", "anger"], 10)
    X = rng.normal(size=(20, 12, 5)).astype(np.float32) + (y == "anger")[:, None, None]
    clf = CNNClassifier(random_state=0, **TINY_CNN).fit(X, y)
    expected = clf.predict_proba(X)
    # What a GPU-trained model carries into its pickle: the device in the net's state.
    clf.net_.device = "cuda"
    clf.device_ = "cuda"
    blob = pickle.dumps(clf)
    with pytest.warns(DeviceWarning) as record:  # skorch says it falls back to the CPU
        loaded = pickle.loads(blob)
    assert any("not available" in str(w.message) for w in record)
    assert loaded.device_ == "cpu" and str(loaded.net_.device) == "cpu"
    assert next(loaded.net_.module_.parameters()).device.type == "cpu"
    assert_allclose(loaded.predict_proba(X), expected, rtol=1e-6)
