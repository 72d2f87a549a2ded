"""Saving and loading fitted models: same predictions in a fresh process, clear version errors,
no code from a file run by default, one clear error for a damaged file."""

import hashlib
import io
import json
import pickle
import re
import subprocess
import sys
import textwrap
import warnings
import zipfile

import joblib
import numpy as np
import pytest
import soundfile as sf
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from sklearn_ser.cli import main
from sklearn_ser.cli._train import fit_with_groups
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.exceptions import ModelVersionError, ModelVersionWarning, UntrustedModelError
from sklearn_ser.io import load_model, read_manifest, save_model
from sklearn_ser.io._trust import is_trusted_type
from sklearn_ser.pipelines import make_classic_pipeline, make_deep_pipeline, make_fusion_pipeline

TINY_CNN = dict(channels=(4,), n_hidden=8, max_epochs=3, validation_fraction=None, device="cpu")


@pytest.fixture(scope="module")
def corpus():
    return make_emotional_speech(24, n_speakers=3, random_state=0)


@pytest.fixture(scope="module")
def classic(corpus):
    return make_classic_pipeline("lr", features="mfcc").fit(corpus.data, corpus.target)


@pytest.fixture(scope="module")
def fusion(corpus):
    pipe = make_fusion_pipeline(["lr", "nb"], features=["mfcc"], cv=GroupKFold(2),
                                random_state=0)
    return pipe.fit(corpus.data, corpus.target, groups=corpus.groups)


@pytest.fixture(scope="module")
def deep(corpus):
    pipe = make_deep_pipeline("cnn", max_frames=100, random_state=0, **TINY_CNN)
    # As sklearn-ser train fits it: the network asks for the speakers (a metadata request).
    return fit_with_groups(pipe, corpus.data, corpus.target, corpus.groups)


@pytest.fixture(scope="module")
def small():
    """A small fitted pipeline: a model file of a few kilobytes, for the damaged-file cases."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 4)), np.repeat(["calm", "anger", "fear"], 10)
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), X


def _predict_in_subprocess(model_path, clips, tmp_path):
    """Load the model in a fresh interpreter and return its labels and probabilities."""
    clips_path = tmp_path / "clips.npz"
    np.savez(clips_path, *clips)
    out = tmp_path / "out.npz"
    code = textwrap.dedent(f"""
        import numpy as np
        from sklearn_ser.io import load_model
        clips = list(np.load({str(clips_path)!r}).values())
        model = load_model({str(model_path)!r})
        np.savez({str(out)!r}, labels=model.predict(clips), proba=model.predict_proba(clips))
    """)
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    with np.load(out) as result:
        return result["labels"], result["proba"]


@pytest.mark.parametrize("kind", ["classic", "fusion", "deep"])
def test_saved_model_predicts_the_same_in_a_fresh_process(kind, corpus, tmp_path, request):
    model = request.getfixturevalue(kind)
    path = tmp_path / "model.sser"
    save_model(model, path)
    clips = corpus.data[:6]
    labels, proba = _predict_in_subprocess(path, clips, tmp_path)
    assert_array_equal(labels, model.predict(clips))
    assert_allclose(proba, model.predict_proba(clips), rtol=1e-6, atol=1e-7)


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
    with pytest.raises(ValueError, match="damaged: the checksum"):
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


def test_a_model_trained_on_a_gpu_loads_on_the_cpu(tmp_path):
    """A net whose state says CUDA unpickles (and loads from a file) on a CPU-only machine."""
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
    save_model(clf, tmp_path / "gpu.sser")
    with pytest.warns(DeviceWarning, match="not available"):
        loaded = load_model(tmp_path / "gpu.sser")
    assert loaded.device_ == "cpu"
    assert_allclose(loaded.predict_proba(X), expected, rtol=1e-6)


# -- round trips -------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["classic", "fusion", "deep"])
def test_a_ready_made_pipeline_loads_without_trust_and_predicts_the_same(kind, corpus, tmp_path,
                                                                         request):
    model = request.getfixturevalue(kind)
    path = tmp_path / f"{kind}.sser"
    manifest = save_model(model, path)
    assert manifest["format_version"] == 2
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["manifest.json", "model.skops"]
    loaded = load_model(path)  # no trusted=: every type of the package's pipelines is trusted
    assert type(loaded) is type(model)
    clips = corpus.data[:6]
    assert_array_equal(loaded.predict(clips), model.predict(clips))
    assert_allclose(loaded.predict_proba(clips), model.predict_proba(clips), rtol=1e-6,
                    atol=1e-7)


def test_a_deep_model_keeps_its_training_record_and_speaker_request(deep, tmp_path):
    path = tmp_path / "deep.sser"
    save_model(deep, path)
    net, loaded = deep[-1], load_model(path)[-1]
    assert loaded.n_iter_ == net.n_iter_ == TINY_CNN["max_epochs"]
    assert [row["train_loss"] for row in loaded.history_] == pytest.approx(
        [row["train_loss"] for row in net.history_])
    assert loaded.net_.history is loaded.history_
    # The request that routes the speakers to the early-stopping split survives the file.
    assert loaded.get_metadata_routing().fit.requests["groups"] is True
    for name, value in net.net_.module_.state_dict().items():
        assert_array_equal(loaded.net_.module_.state_dict()[name].numpy(), value.numpy())


def test_loading_a_deep_model_never_unpickles(deep, corpus, tmp_path, monkeypatch):
    """skorch stores a net's modules as a pickle that its __setstate__ reads back; a model file
    must not contain one, and loading must not reach torch.load or an unpickler."""
    import skorch
    import skorch.utils
    import torch

    path = tmp_path / "deep.sser"
    save_model(deep, path)
    with zipfile.ZipFile(path) as archive:
        payload = archive.read("model.skops")
    modules = _schema_values(payload, "__module__")
    assert not {m.split(".")[0] for m in modules} & {"torch", "skorch", "pickle", "joblib"}
    assert "BytesNode" not in _schema_values(payload, "__loader__")  # no opaque blobs

    def forbidden(*args, **kwargs):
        raise AssertionError("loading a model file unpickled something")

    monkeypatch.setattr(torch, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(skorch.utils._TorchLoadUnpickler, "load", forbidden)
    monkeypatch.setattr(skorch.NeuralNet, "__setstate__", forbidden)
    loaded = load_model(path)
    assert_allclose(loaded.predict_proba(corpus.data[:4]), deep.predict_proba(corpus.data[:4]),
                    rtol=1e-6, atol=1e-7)


def test_loading_leaves_torch_random_stream_alone(deep, tmp_path):
    import torch

    path = tmp_path / "deep.sser"
    save_model(deep, path)
    state = torch.random.get_rng_state()
    load_model(path)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_networks_outside_sklearn_ser_are_refused_at_save_time(tmp_path):
    from skorch import NeuralNetClassifier
    from torch import nn

    net = NeuralNetClassifier(nn.Linear(3, 2), max_epochs=1, train_split=None, verbose=0)
    net.fit(np.zeros((4, 3), dtype=np.float32), np.array([0, 1, 0, 1]))
    with pytest.raises(TypeError, match="cannot store.*joblib.dump"):
        save_model(net, tmp_path / "net.sser")
    assert list(tmp_path.iterdir()) == []


# -- what is trusted ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "builtins.eval", "builtins.exec", "os.system", "posix.system", "subprocess.Popen",
    "numpy.load", "torch.load", "joblib.load", "pickle.loads", "functools.partial",
    # skorch nets unpickle their modules in __setstate__.
    "skorch.net.NeuralNet", "skorch.classifier.NeuralNetClassifier",
    # Methods, dunders and modules that would run when imported are never looked up.
    "sklearn_ser.neural._classifiers.CNNClassifier.fit",
    "sklearn.base.BaseEstimator.__init_subclass__", "sklearn_ser.__main__.main",
    "torch.nn.Module", "numpy.ndarray.tofile", "sklearn_ser.io._model.load_model",
])
def test_callables_and_unsafe_classes_are_not_trusted(name):
    assert not is_trusted_type(name)


@pytest.mark.parametrize("name", [
    "sklearn.svm._classes.SVC",
    "sklearn.calibration._SigmoidCalibration",  # private, but an estimator
    "imblearn.pipeline.Pipeline",
    "sklearn_ser.pipelines._resampling.ResamplingPipeline",
    "sklearn_ser.augmentation._noise.NoiseAugmenter",
    "sklearn_ser.augmentation._speed.SpeedPerturber",
    "sklearn_ser.features._guard.FeatureRangeGuard",
    "sklearn_ser.neural._classifiers.CRNNClassifier",
    "sklearn_ser.neural._multitask.MultiTaskClassifier",
    "sklearn_ser.neural._autoencoder.VAEOversampler",
    "sklearn_ser.model_selection._split.LeaveOneSpeakerOut",
])
def test_estimators_samplers_and_splitters_are_trusted(name):
    assert is_trusted_type(name)


def test_other_neural_estimators_round_trip_without_trust(tmp_path):
    from sklearn_ser.neural import AutoencoderReducer, MultiTaskClassifier, VAEOversampler

    rng = np.random.default_rng(0)
    y = np.repeat(["calm", "anger"], 15)
    X = rng.normal(size=(30, 6)) + (y == "anger")[:, None]
    multi = MultiTaskClassifier(hidden_layer_sizes=(8,), max_epochs=2, class_weight="balanced",
                                random_state=0).fit(X, y, aux=np.tile(["f", "m"], 15))
    reducer = AutoencoderReducer(n_components=2, hidden_layer_sizes=(4,), max_epochs=2,
                                 random_state=0).fit(X)
    sampler = VAEOversampler(hidden_layer_sizes=(4,), max_epochs=2, random_state=0)
    sampler.fit_resample(X[:20], y[:20])
    for name, est in [("multi", multi), ("reducer", reducer), ("sampler", sampler)]:
        save_model(est, tmp_path / f"{name}.sser")
    loaded = load_model(tmp_path / "multi.sser")
    assert_allclose(loaded.predict_proba(X), multi.predict_proba(X), rtol=1e-6)
    assert loaded.predict_aux(X)["aux0"].tolist() == multi.predict_aux(X)["aux0"].tolist()
    assert_allclose(load_model(tmp_path / "reducer.sser").transform(X), reducer.transform(X))
    module = load_model(tmp_path / "sampler.sser").module_
    for key, value in sampler.module_.state_dict().items():
        assert_array_equal(module.state_dict()[key].numpy(), value.numpy())


# -- crafted files -----------------------------------------------------------------------------

def _schema_values(payload, key):
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        stack, found = [json.loads(archive.read("schema.json"))], set()
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get(key), str):
                found.add(node[key])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _replace_model_data(path, change):
    """Rewrite the model data of a file with ``change(files) -> files`` on its skops archive,
    and fix the checksum, as someone crafting a file would."""
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        member = "model.joblib" if manifest["format_version"] == 1 else "model.skops"
        payload = archive.read(member)
    if manifest["format_version"] == 2:
        with zipfile.ZipFile(io.BytesIO(payload)) as inner:
            files = {name: inner.read(name) for name in inner.namelist()}
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as inner:
            for name, data in change(files).items():
                inner.writestr(name, data)
        payload = buffer.getvalue()
    else:
        payload = change(payload)
    _write_model_file(path, manifest, member, payload)


def _write_model_file(path, manifest, member, payload):
    manifest["sha256"] = hashlib.sha256(payload).hexdigest()
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        archive.writestr(member, payload)


def _exec_node(code):
    """A skops node that, once built, calls builtins.exec(code)."""
    json_str = {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
                "content": json.dumps(code), "is_json": True}
    return {"__class__": "exec", "__module__": "builtins",
            "__loader__": "ConstructorFromReduceNode",
            "content": {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode",
                        "content": [json_str]}}


def _add_attribute(schema, name, node):
    """Give the top-level estimator of a skops schema one more attribute."""
    attrs = schema["content"]
    attrs["content"][name] = node
    attrs["key_types"]["content"].append(
        {"__class__": "str", "__module__": "builtins", "__loader__": "TypeNode"})


def _with_payload(code):
    def change(files):
        schema = json.loads(files["schema.json"])
        _add_attribute(schema, "payload", _exec_node(code))
        return {**files, "schema.json": json.dumps(schema)}

    return change


def _touch(marker):
    return f"open({str(marker)!r}, 'w').close()"


def test_a_crafted_model_file_does_not_run_its_payload(small, tmp_path):
    model, _ = small
    path, marker = tmp_path / "crafted.sser", tmp_path / "pwned"
    save_model(model, path)
    _replace_model_data(path, _with_payload(_touch(marker)))
    with pytest.raises(UntrustedModelError) as excinfo:
        load_model(path)
    assert not marker.exists()
    message = str(excinfo.value)
    assert "builtins.exec" in message and str(path) in message
    assert "trusted=" in message and "--trust" in message
    assert excinfo.value.types == ["builtins.exec"]
    assert isinstance(excinfo.value, ValueError)  # the CLI's one-line errors catch it
    # Trusting some other type changes nothing; naming the payload's type is what runs it,
    # so the refusal above is what kept the marker away.
    with pytest.raises(UntrustedModelError):
        load_model(path, trusted=["builtins.eval"])
    assert not marker.exists()
    load_model(path, trusted=["builtins.exec"])
    assert marker.exists()


class _Payload:
    """Unpickles by evaluating ``code``, as a crafted pickle would."""

    def __init__(self, code):
        self.code = code

    def __reduce__(self):
        return eval, (self.code,)


def _touch_then_load(marker, plain):
    """Code that leaves a marker, then returns the model pickled at ``plain``."""
    return f"({_touch(marker)}, __import__('joblib').load({str(plain)!r}))[1]"


def _format1_file(path, obj):
    """A model file as sklearn_ser wrote them before version 2: manifest plus joblib pickle."""
    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    manifest = {"format": "sklearn_ser-model", "format_version": 1, "versions": {},
                "metadata": {}}
    _write_model_file(path, manifest, "model.joblib", buffer.getvalue())


def test_an_old_pickle_file_loads_only_with_trust(small, tmp_path):
    model, X = small
    plain = tmp_path / "model.joblib"
    joblib.dump(model, plain)
    path, marker = tmp_path / "old.sser", tmp_path / "pwned"
    _format1_file(path, _Payload(_touch_then_load(marker, plain)))
    with pytest.raises(UntrustedModelError, match=r"format 1.*pickle.*trusted=True") as excinfo:
        load_model(path)
    assert str(path) in str(excinfo.value)
    with pytest.raises(UntrustedModelError, match="format 1"):
        load_model(path, trusted=["builtins.eval"])  # a pickle cannot be checked by type
    assert not marker.exists()
    loaded = load_model(path, trusted=True)
    assert marker.exists()  # the pickle ran: what trusting a pickle means
    assert_array_equal(loaded.predict(X), model.predict(X))


def _str_node(value):
    return {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
            "content": json.dumps(value), "is_json": True}


def _dict_node(content):
    str_type = {"__class__": "str", "__module__": "builtins", "__loader__": "TypeNode"}
    return {"__class__": "dict", "__module__": "builtins", "__loader__": "DictNode",
            "content": content,
            "key_types": {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
                          "content": [str_type] * len(content)}}


def test_a_skorch_net_inside_a_file_is_refused(tmp_path):
    """skorch's __setstate__ unpickles a net's modules: a file naming a skorch net could run
    any code, so the type is refused even though skorch is a dependency."""
    path, marker = tmp_path / "net.sser", tmp_path / "pwned"
    save_model(LogisticRegression().fit([[0], [1]], [0, 1]), path)
    state = _dict_node({
        "device": _str_node("cpu"),
        "__cuda_dependent_attributes__": {"__class__": "bytes", "__module__": "builtins",
                                          "__loader__": "BytesNode", "file": "net.bin"}})

    def change(files):
        schema = json.loads(files["schema.json"])
        _add_attribute(schema, "net", {"__class__": "NeuralNetClassifier",
                                       "__module__": "skorch.classifier",
                                       "__loader__": "ObjectNode", "content": state})
        blob = pickle.dumps(_Payload(_touch(marker)))
        return {**files, "schema.json": json.dumps(schema), "net.bin": blob}

    _replace_model_data(path, change)
    with pytest.raises(UntrustedModelError, match="skorch.classifier.NeuralNetClassifier"):
        load_model(path)
    assert not marker.exists()
    try:  # trusting the type lets skorch unpickle the bytes: the payload is live
        load_model(path, trusted=["skorch.classifier.NeuralNetClassifier"])
    except ValueError:
        pass  # the net itself is incomplete; its pickle ran first
    assert marker.exists()


def _node_file(files, class_name, key):
    """The array file of ``key`` in the first ``class_name`` node of a skops archive."""
    stack = [json.loads(files["schema.json"])]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("__class__") == class_name:
                return _find_key(node, key)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    raise AssertionError(f"no {class_name} node")


def _find_key(node, key):
    if isinstance(key, int):  # the key-th array of a tuple state (a k-d tree's)
        return _files_in_order(node["content"])[key]
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            content = item.get("content")
            if isinstance(content, dict) and isinstance(content.get(key), dict) \
                    and "file" in content[key]:
                return content[key]["file"]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    raise AssertionError(f"no {key} array")


def _files_in_order(node):
    if isinstance(node, dict):
        if "file" in node:
            return [node["file"]]
        return [f for value in node.values() for f in _files_in_order(value)]
    if isinstance(node, list):
        return [f for value in node for f in _files_in_order(value)]
    return []


def _edit_array(files, name, edit):
    array = np.load(io.BytesIO(files[name]), allow_pickle=False)
    edit(array)
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return {**files, name: buffer.getvalue()}


@pytest.mark.parametrize("kind", ["tree", "kdtree"])
def test_out_of_range_tree_indices_are_refused_before_predict(kind, tmp_path):
    """Trees and k-d trees are read by compiled code without bounds checks: a crafted index
    would read outside memory at predict time. They are checked on load instead."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), np.arange(40) % 2
    if kind == "tree":
        model = DecisionTreeClassifier(random_state=0).fit(X, y)
        node, key = "Tree", "nodes"

        def edit(nodes):
            nodes["left_child"][0] = 10 ** 6
    else:
        model = KNeighborsClassifier(algorithm="kd_tree", leaf_size=4).fit(X, y)
        node, key = "KDTree", 1  # its state is (data, idx_array, node_data, ...)

        def edit(idx):
            idx[0] = 10 ** 6
    path = tmp_path / f"{kind}.sser"
    save_model(model, path)
    assert_array_equal(load_model(path).predict(X), model.predict(X))
    _replace_model_data(path, lambda f: _edit_array(f, _node_file(f, node, key), edit))
    with pytest.raises(ValueError, match=r"could not be rebuilt.*(out of range|permutation)") as e:
        load_model(path)
    assert str(path) in str(e.value)


# -- damaged files -----------------------------------------------------------------------------

def _flip_byte(path, member):
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    data = bytearray(path.read_bytes())
    name_len, extra_len = int.from_bytes(data[info.header_offset + 26:info.header_offset + 28],
                                         "little"), \
        int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    data[start + info.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _damage(path, how):
    data = path.read_bytes()
    if how == "flipped byte in the model data":
        _flip_byte(path, "model.skops")
    elif how == "flipped byte in the manifest":
        _flip_byte(path, "manifest.json")
    elif how == "cut in half":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "not a zip":
        path.write_text("just some text\n")
    elif how == "missing member":
        with zipfile.ZipFile(path) as archive:
            manifest = archive.read("manifest.json")
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("manifest.json", manifest)
    elif how == "manifest not JSON":
        with zipfile.ZipFile(path) as archive:
            model = archive.read("model.skops")
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("manifest.json", b"{not json")
            archive.writestr("model.skops", model)
    elif how == "checksum mismatch":
        _rewrite_manifest(path, lambda m: m.update(sha256="0" * 64))
    elif how == "garbage model data":
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read("manifest.json"))
        _write_model_file(path, manifest, "model.skops", b"\x00garbage" * 64)
    elif how == "nonsense skops schema":
        _replace_model_data(path, lambda files: {**files, "schema.json": b'{"a": [1, 2]}'})
    elif how == "wrong array in the model data":
        def change(files):
            name = _node_file(files, "LogisticRegression", "coef_")
            return {**files, name: b"\x93NUMPY garbage"}
        _replace_model_data(path, change)


_MANIFEST_INTACT = {"flipped byte in the model data", "missing member", "checksum mismatch",
                    "garbage model data", "nonsense skops schema",
                    "wrong array in the model data"}


@pytest.mark.parametrize("how, expected", [
    ("flipped byte in the model data", r"damaged: model\.skops cannot be read"),
    ("flipped byte in the manifest", r"damaged: manifest\.json cannot be read"),
    ("cut in half", "damaged: it is not a complete zip archive"),
    ("empty", "damaged: it is empty"),
    ("not a zip", "is not a sklearn_ser model file"),
    ("missing member", r"damaged: it has no model\.skops"),
    ("manifest not JSON", "damaged: its manifest.json is not valid JSON"),
    ("checksum mismatch", "damaged: the checksum of model.skops does not match"),
    ("garbage model data", "damaged: its model data cannot be read"),
    ("nonsense skops schema", "damaged: its model data cannot be read"),
    ("wrong array in the model data", "could not be rebuilt from its model data.*damaged"),
])
def test_a_damaged_file_gets_one_clear_error(how, expected, small, tmp_path):
    model, _ = small
    path = tmp_path / "model.sser"
    save_model(model, path)
    _damage(path, how)
    for read in (load_model, read_manifest):
        if read is read_manifest and how in _MANIFEST_INTACT:
            continue  # read_manifest reads only the manifest, which is intact
        with pytest.raises(ValueError) as excinfo:
            read(path)
        # One ValueError of sklearn_ser's own, not a BadZipFile, KeyError or JSONDecodeError.
        assert type(excinfo.value) is ValueError
        assert excinfo.value.__cause__ is None
        message = str(excinfo.value)
        assert str(path) in message
        assert re.search(expected, message), message


def test_init_from_a_crafted_file_does_not_run_its_payload(small, tmp_path):
    from sklearn_ser.neural import MultiTaskClassifier

    path, marker = tmp_path / "crafted.sser", tmp_path / "pwned"
    save_model(small[0], path)
    _replace_model_data(path, _with_payload(_touch(marker)))
    clf = MultiTaskClassifier(hidden_layer_sizes=(4,), max_epochs=1, init_from=str(path))
    with pytest.raises(UntrustedModelError, match=r"init_from.*builtins\.exec.*FrozenEstimator"):
        clf.fit(small[1], np.repeat(["calm", "anger", "fear"], 10))
    assert not marker.exists()


def test_trusted_must_be_a_list_of_names_or_true(small, tmp_path):
    path = tmp_path / "model.sser"
    save_model(small[0], path)
    with pytest.raises(TypeError, match="list of type names"):
        load_model(path, trusted="builtins.exec")
    assert load_model(path, trusted=True).predict(small[1]).shape == (30,)


# -- command line ------------------------------------------------------------------------------

@pytest.fixture
def wav(tmp_path, corpus):
    path = tmp_path / "clip.wav"
    sf.write(path, corpus.data[0], 16000)
    return path


@pytest.mark.parametrize("command", ["predict", "stream"])
def test_cli_refuses_a_crafted_file_and_says_how_to_trust_it(command, small, wav, tmp_path,
                                                             capsys):
    path, marker = tmp_path / "crafted.sser", tmp_path / "pwned"
    save_model(small[0], path)
    _replace_model_data(path, _with_payload(_touch(marker)))
    assert main([command, str(path), str(wav)]) == 2
    err = capsys.readouterr().err
    assert "builtins.exec" in err and "--trust" in err and str(path) in err
    assert not marker.exists()


def test_cli_trust_loads_an_old_pickle_file(classic, wav, tmp_path, capsys):
    plain = tmp_path / "model.joblib"
    joblib.dump(classic, plain)
    path, marker = tmp_path / "old.sser", tmp_path / "ran"
    _format1_file(path, _Payload(_touch_then_load(marker, plain)))
    assert main(["predict", str(path), str(wav), "--quiet"]) == 2
    assert "format 1" in capsys.readouterr().err and not marker.exists()
    assert main(["predict", str(path), str(wav), "--quiet", "--trust"]) == 0
    assert marker.exists()
    assert "clip.wav" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["predict", "stream"])
def test_cli_help_says_what_trust_means(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--trust" in text and "unknown types are refused" in text
    assert "runs whatever code it contains" in text
