"""Sequence networks: masking, validation, early-stopping splits, persistence, search, pipelines.

Everything runs on the CPU with tiny networks (a few seconds per network).
"""

import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn import config_context
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from sklearn_ser.neural import CNNClassifier, CRNNClassifier, LSTMClassifier, NeuralWarning
from sklearn_ser.neural._modules import _stack_frames, frame_mask
from sklearn_ser.utils._compat import InvalidParameterError

LABELS = np.array(["anger", "neutral", "sadness"])
TINY = {
    CNNClassifier: dict(channels=(4, 8), n_hidden=8),
    LSTMClassifier: dict(n_units=8, n_attention=8),
    CRNNClassifier: dict(channels=(4,), n_units=8, n_attention=8),
}
TRAIN = dict(max_epochs=12, lr=0.01, batch_size=16, patience=4, device="cpu", random_state=0)


def make_sequences(n_clips=90, n_frames=40, n_coeffs=6, seed=0):
    """NaN-padded sequences with class-dependent means, varying lengths and six speakers."""
    rng = np.random.default_rng(seed)
    codes = np.arange(n_clips) % 3
    X = rng.normal(size=(n_clips, n_frames, n_coeffs)).astype(np.float32)
    X += 1.5 * (codes[:, None, None] == np.arange(n_coeffs)[None, None, :] % 3)
    lengths = rng.integers(5, n_frames + 1, n_clips)
    for i, n in enumerate(lengths):
        X[i, n:] = np.nan
    groups = np.repeat([f"spk{k}" for k in range(6)], n_clips // 6)
    return X, LABELS[codes], groups, lengths


@pytest.fixture(scope="module")
def data():
    return make_sequences()


@pytest.fixture(scope="module", params=list(TINY), ids=lambda c: c.__name__)
def fitted(request, data):
    X, y, groups, _ = data
    cls = request.param
    return cls(**TINY[cls], **TRAIN).fit(X, y, groups=groups)


def test_fit_learns_and_keeps_history(fitted, data):
    X, y, _, _ = data
    assert set(fitted.classes_) == set(LABELS)
    pred = fitted.predict(X)
    assert pred.dtype == y.dtype and set(pred) <= set(LABELS)
    assert np.mean(pred == y) > 0.6
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert 1 <= fitted.n_iter_ <= TRAIN["max_epochs"] == fitted.max_epochs
    assert len(fitted.history_) == fitted.n_iter_
    assert "valid_loss" in fitted.history_[-1]
    assert 1 <= fitted.best_epoch_ <= fitted.n_iter_
    assert fitted.n_features_in_ == X.shape[2]
    assert fitted.device_ == "cpu"


def test_padding_and_batch_do_not_change_predictions(fitted, data):
    X, _, _, _ = data
    proba = fitted.predict_proba(X)
    more_padding = np.concatenate([X, np.full((len(X), 25, X.shape[2]), np.nan, np.float32)], 1)
    np.testing.assert_allclose(fitted.predict_proba(more_padding), proba, atol=1e-5)
    np.testing.assert_allclose(fitted.predict_proba(X[5:9]), proba[5:9], atol=1e-5)
    # Each clip cut to its own length, one at a time: still the same.
    lengths = (~np.isnan(X).all(axis=2)).sum(axis=1)
    alone = np.vstack([fitted.predict_proba(X[i:i + 1, :lengths[i]]) for i in range(3)])
    np.testing.assert_allclose(alone, proba[:3], atol=1e-5)


def test_pickle_round_trip(fitted, data):
    X, _, _, _ = data
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))
    np.testing.assert_allclose(restored.predict_proba(X), fitted.predict_proba(X), atol=1e-6)
    np.testing.assert_array_equal(restored.transform(X), fitted.transform(X))
    assert restored.device_ == "cpu"
    # The early-stopping clips are not carried along with the model.
    assert restored.net_.train_split is None


def test_clone_and_set_params_rebuild_the_module(data):
    X, y, _, _ = data
    est = LSTMClassifier(n_units=4, n_attention=4, max_epochs=2, validation_fraction=None,
                         device="cpu", random_state=0)
    twin = clone(est).set_params(n_units=6)
    assert twin.get_params()["n_units"] == 6 and est.n_units == 4
    twin.fit(X, y)
    assert twin.net_.module_.rnn.hidden_size == 6
    assert not hasattr(est, "net_")


def test_same_seed_same_model(data):
    X, y, _, _ = data
    params = dict(channels=(4,), n_hidden=8, max_epochs=3, crop_frames=20, time_masks=1,
                  freq_masks=1, device="cpu", random_state=3)
    a = CNNClassifier(**params).fit(X, y).predict_proba(X)
    b = CNNClassifier(**params).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("cls", list(TINY), ids=lambda c: c.__name__)
def test_mixup_trains_on_mixed_pairs(cls, data, monkeypatch):
    from sklearn_ser.neural._classifiers import _MixupNetClassifier

    X, y, _, _ = data
    seen = []
    infer = _MixupNetClassifier.infer

    def spy(self, x, **fit_params):
        if self.module_.training:
            seen.append(x["x"].detach().clone())
        return infer(self, x, **fit_params)

    monkeypatch.setattr(_MixupNetClassifier, "infer", spy)
    params = {**TINY[cls], **TRAIN, "validation_fraction": None, "max_epochs": 6}
    mixed = cls(mixup=0.4, **params).fit(X, y)
    inputs_mixed = torch.cat(seen)
    seen.clear()
    plain = cls(**params).fit(X, y)
    inputs_plain = torch.cat(seen)
    # Without mixup the network sees the clips themselves; with it, blends of pairs.
    originals = torch.as_tensor(np.nan_to_num(X))
    assert all(any(torch.equal(row, o) for o in originals) for row in inputs_plain[:20])
    assert not all(any(torch.equal(row, o) for o in originals) for row in inputs_mixed[:20])
    assert np.mean(mixed.predict(X) == y) > 0.6
    again = cls(mixup=0.4, **params).fit(X, y)
    np.testing.assert_allclose(again.predict_proba(X), mixed.predict_proba(X), atol=1e-6)
    assert not np.allclose(plain.predict_proba(X), mixed.predict_proba(X))


def test_validation_split_holds_out_whole_speakers(data):
    X, y, groups, _ = data
    est = CNNClassifier(validation_fraction=0.3)
    y_enc = np.unique(y, return_inverse=True)[1]
    train, valid = est._split(y_enc, groups, seed=0)
    assert set(groups[train]).isdisjoint(groups[valid])
    assert len(train) + len(valid) == len(y)
    # Without speakers: stratified, every class on both sides.
    train, valid = est._split(y_enc, None, seed=0)
    assert set(y_enc[valid]) == set(y_enc[train]) == {0, 1, 2}
    with pytest.warns(NeuralWarning, match="single speaker"):
        est._split(y_enc, np.zeros(len(y)), seed=0)


def test_no_validation_trains_all_epochs(data):
    X, y, _, _ = data
    est = CRNNClassifier(channels=(4,), n_units=4, n_attention=4, max_epochs=3,
                         validation_fraction=None, lr_schedule="cosine", device="cpu",
                         random_state=0).fit(X, y)
    assert est.n_iter_ == 3 and not hasattr(est, "best_epoch_")


def test_class_weight_by_label(data):
    X, y, _, _ = data
    est = CNNClassifier(channels=(4,), n_hidden=4, max_epochs=2, validation_fraction=None,
                        class_weight={"anger": 2.0, "neutral": 1.0, "sadness": 1.0},
                        device="cpu", random_state=0).fit(X, y)
    weight = est.net_.criterion_.weight.numpy()
    np.testing.assert_allclose(weight, [2.0, 1.0, 1.0])


def test_two_d_input_is_one_frame_per_sample():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    X = rng.normal(size=(60, 5)) + 2.0 * y[:, None]
    est = LSTMClassifier(n_units=4, n_attention=4, max_epochs=15, lr=0.05,
                         validation_fraction=None, device="cpu", random_state=0).fit(X, y)
    assert est.n_features_in_ == 5
    assert np.mean(est.predict(X) == y) > 0.9
    np.testing.assert_allclose(est.predict_proba(X[:4]),
                               est.predict_proba(X[:4, None, :].astype(np.float32)), atol=1e-6)


@pytest.mark.parametrize("cls", list(TINY), ids=lambda c: c.__name__)
def test_bad_sequences_are_refused(cls, data):
    X, y, _, lengths = data
    est = cls(**TINY[cls], max_epochs=1, validation_fraction=None, device="cpu")
    empty = X.copy()
    empty[7] = np.nan
    with pytest.raises(ValueError, match=r"clip\(s\) \[7\] have no real frame"):
        est.fit(empty, y)
    partial = X.copy()
    partial[3, 0, 1] = np.nan
    with pytest.raises(ValueError, match="NaN in frame 0 of clip 3"):
        est.fit(partial, y)
    gap = X.copy()
    gap[2, 1] = np.nan
    with pytest.raises(ValueError, match="clip 2 has a NaN padding frame before a real frame"):
        est.fit(gap, y)
    est.fit(X, y)
    with pytest.raises(ValueError, match="X has 4 features, but .* expecting 6"):
        est.predict(X[:, :, :4])
    with pytest.raises(ValueError, match="at least 2 classes"):
        clone(est).fit(X, np.full(len(X), "anger"))


@pytest.mark.parametrize(
    "params", [dict(optimizer="rmsprop"), dict(max_epochs=0), dict(dropout=1.0),
               dict(validation_fraction=1.5), dict(lr_schedule="step"), dict(mixup=-0.2)],
)
def test_bad_parameters(params, data):
    X, y, _, _ = data
    with pytest.raises(InvalidParameterError):
        CNNClassifier(**params).fit(X, y)


def test_devices(data):
    X, y, _, _ = data
    est = CNNClassifier(channels=(4,), n_hidden=4, max_epochs=1, validation_fraction=None,
                        device="auto", random_state=0).fit(X, y)
    assert est.device_ == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            clone(est).set_params(device="cuda").fit(X, y)
    with pytest.raises(ValueError, match="not a torch device"):
        clone(est).set_params(device="tpu-please").fit(X, y)


def test_grid_search_over_module_parameters(data):
    X, y, groups, _ = data
    search = GridSearchCV(
        CRNNClassifier(n_attention=4, max_epochs=3, lr=0.01, validation_fraction=None,
                       device="cpu", random_state=0),
        {"channels": [(2,), (4,)], "n_units": [4, 8]},
        cv=2,
    ).fit(X, y, groups=groups)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_estimator_.net_.module_.rnn.hidden_size == search.best_params_["n_units"]
    assert search.predict(X[:3]).dtype == y.dtype


def test_evaluate_passes_training_speakers(data):
    from sklearn_ser.model_selection import evaluate

    X, y, groups, _ = data
    est = CNNClassifier(channels=(4,), n_hidden=4, max_epochs=2, patience=2,
                        validation_fraction=0.25, device="cpu", random_state=0)
    report = evaluate(est, X, y, groups=groups, cv="kfold:3", return_estimators=True)
    assert report.n_folds == 3
    assert all(hasattr(e, "best_epoch_") for e in report.estimators)


def test_frame_helpers():
    lengths = torch.tensor([3, 1])
    np.testing.assert_array_equal(frame_mask(lengths, 4).numpy(),
                                  [[1, 1, 1, 0], [1, 0, 0, 0]])
    x = torch.arange(2 * 5 * 2, dtype=torch.float32).reshape(2, 5, 2)
    stacked, new_lengths = _stack_frames(x, torch.tensor([5, 2]), 2)
    assert stacked.shape == (2, 3, 4)
    assert new_lengths.tolist() == [3, 1]
    np.testing.assert_array_equal(stacked[0, 2].numpy(), [8, 9, 0, 0])


def test_deep_pipeline_end_to_end():
    from sklearn_ser.pipelines import make_deep_pipeline

    rng = np.random.default_rng(0)
    t = np.arange(8000) / 16000
    y = np.repeat(["low", "high"], 12)
    freq = np.where(y == "low", 200.0, 1500.0)
    clips = [np.sin(2 * np.pi * f * t[: rng.integers(4000, 8000)]).astype(np.float32) * 0.3
             + 0.01 * rng.standard_normal(1).astype(np.float32) for f in freq]
    for kind in ("cnn", "lstm", "crnn"):
        pipe = make_deep_pipeline(kind, n_mels=16, hop_length=160, max_frames=40, max_epochs=4,
                                  validation_fraction=None, device="cpu", random_state=0,
                                  **{"cnn": dict(channels=(4,)), "lstm": dict(n_units=8),
                                     "crnn": dict(channels=(4,), n_units=8)}[kind])
        pipe.fit(clips, y)
        assert pipe.predict(clips[:3]).dtype == y.dtype
        assert pipe.steps[-1][0] == f"{kind}classifier"
    with pytest.raises(ValueError, match="Unknown deep model"):
        make_deep_pipeline("transformer")


def test_speech_only_network_ignores_zero_padding():
    """With speech_only=True, "edges" or "audible" (the default) the network's input, and so
    its output, does not change when a clip is padded with digital silence; with every frame
    it does."""
    from sklearn_ser.datasets import make_emotional_speech
    from sklearn_ser.exceptions import OutOfRangeWarning
    from sklearn_ser.pipelines import make_deep_pipeline

    data = make_emotional_speech(24, n_speakers=4, emotions=["anger", "sadness"],
                                 duration=(0.5, 0.7), random_state=0)
    zeros = np.zeros(8000, dtype=np.float32)
    padded = [np.concatenate([zeros, clip, zeros]) for clip in data.data[:6]]
    small = dict(n_mels=16, hop_length=160, max_frames=140, channels=(4,), n_units=8,
                 max_epochs=3, device="cpu", random_state=0)
    probabilities = {}
    for speech_only in (False, True, "edges", "default"):
        chosen = {} if speech_only == "default" else {"speech_only": speech_only}
        pipe = make_deep_pipeline("crnn", **chosen, **small)
        pipe.fit(data.data, data.target)
        clean = pipe.predict_proba(data.data[:6])
        if speech_only:
            probabilities[speech_only] = (clean, pipe.predict_proba(padded))
        else:  # the silent frames lie far outside the training range, and the guard says so
            with pytest.warns(OutOfRangeWarning, match="clips \\[0, 1, 2, 3, 4, 5\\]"):
                probabilities[speech_only] = (clean, pipe.predict_proba(padded))
    np.testing.assert_allclose(*probabilities[True], atol=1e-5)
    np.testing.assert_allclose(*probabilities["edges"], atol=1e-5)
    np.testing.assert_allclose(*probabilities["default"], atol=1e-5)
    assert not np.allclose(*probabilities[False], atol=1e-3)


def test_deep_pipelines_train_on_the_measured_schedule():
    """Plain and speaker-normalised pipelines train every epoch on all training clips (cosine
    schedule, no early stopping); early stopping is one parameter away."""
    from sklearn_ser.datasets import make_emotional_speech
    from sklearn_ser.pipelines import make_deep_pipeline

    data = make_emotional_speech(24, n_speakers=4, emotions=["anger", "sadness"],
                                 duration=(0.4, 0.5), random_state=0)
    small = dict(n_mels=16, hop_length=160, max_frames=30, channels=(4,), n_hidden=4,
                 max_epochs=3, device="cpu", random_state=0)
    for speaker_norm in (False, True):
        pipe = make_deep_pipeline("cnn", speaker_norm=speaker_norm, **small)
        with config_context(enable_metadata_routing=True):
            net = pipe.fit(data.data, data.target, groups=data.groups)[-1]
        assert net.n_iter_ == 3 and not hasattr(net, "best_epoch_")
        assert [name for name, _ in net.net_.callbacks] == ["lr_scheduler"]
    stopping = make_deep_pipeline("cnn", validation_fraction=0.25, patience=2, **small)[-1]
    stopping.fit(np.random.default_rng(0).normal(size=(24, 10, 4)), data.target)
    assert hasattr(stopping, "best_epoch_")


def test_speaker_normalised_deep_pipeline_in_evaluate(normalizer_speakers):
    """cnn-sn: the frame normaliser gets the training speakers in fit and only the test
    speaker at predict time, and the network's early stopping holds out whole speakers."""
    from sklearn_ser.datasets import make_emotional_speech
    from sklearn_ser.model_selection import evaluate
    from sklearn_ser.pipelines import make_deep_pipeline, make_named_pipeline

    assert [s for s, _ in make_named_pipeline("crnn-sn").steps] == [
        "noise", "logmel", "guard", "framewise", "crnnclassifier"]
    seen = normalizer_speakers
    data = make_emotional_speech(48, n_speakers=4, emotions=["anger", "sadness"],
                                 duration=(0.5, 0.7), random_state=0)
    pipe = make_deep_pipeline("cnn", speaker_norm=True, noise_augmentation=None, n_mels=16,
                              hop_length=160, max_frames=40, channels=(4,), n_hidden=4,
                              max_epochs=3, patience=3, validation_fraction=0.34,
                              device="cpu", random_state=0)
    report = evaluate(pipe, data.data, data.target, groups=data.groups, cv="kfold:2",
                      return_estimators=True)
    assert None not in seen
    # Per fold: the training speakers (fit), then the test speakers (predict, predict_proba).
    per_fold = len(seen) // 2
    for fold in (seen[:per_fold], seen[per_fold:]):
        training, tests = fold[0], set(fold[1:])
        assert len(training) == 2 and len(tests) == 1
        assert not set(training) & set(tests.pop())
    assert all(hasattr(e[-1], "best_epoch_") for e in report.estimators)


def test_plain_deep_pipeline_stops_early_on_training_speakers(monkeypatch):
    """Without speaker normalisation too, evaluate hands the network its training speakers,
    so its early-stopping split holds out whole speakers, never a test speaker; the
    speed-perturbed copies (twice as many as the training clips) carry their speakers."""
    from sklearn_ser.datasets import make_emotional_speech
    from sklearn_ser.model_selection import evaluate
    from sklearn_ser.neural._classifiers import _SequenceClassifier
    from sklearn_ser.pipelines import make_deep_pipeline

    seen = []
    split = _SequenceClassifier._split

    def spy(self, y, groups, seed):
        seen.append(None if groups is None else (set(groups), len(groups), len(y)))
        return split(self, y, groups, seed)

    monkeypatch.setattr(_SequenceClassifier, "_split", spy)
    data = make_emotional_speech(48, n_speakers=4, emotions=["anger", "sadness"],
                                 duration=(0.5, 0.7), random_state=0)
    pipe = make_deep_pipeline("cnn", n_mels=16, hop_length=160, max_frames=40, channels=(4,),
                              n_hidden=4, max_epochs=2, patience=2, validation_fraction=0.34,
                              device="cpu", random_state=0)
    assert pipe.steps[0][0] == "speed"
    report = evaluate(pipe, data.data, data.target, groups=data.groups, cv="loso",
                      return_estimators=True)
    assert len(seen) == report.n_folds == 4
    all_speakers = set(data.groups)
    for (training, n_groups, n_labels), fold in zip(seen, report.per_fold["test_speakers"]):
        assert training == all_speakers - set(fold)
        n_train = int(np.isin(data.groups, list(training)).sum())
        assert n_groups == n_labels == 3 * n_train
    # A plain fit, with routing off, still works: the split is stratified instead.
    seen.clear()
    pipe.fit(data.data, data.target)
    assert seen == [None]


def test_deep_pipeline_speed_perturbation_options():
    """"auto" perturbs the plain pipelines only; rates are settable; None gives no copies."""
    from sklearn_ser.augmentation import SpeedPerturber
    from sklearn_ser.pipelines import ResamplingPipeline, make_deep_pipeline

    plain = make_deep_pipeline("lstm", device="cpu")
    assert isinstance(plain, ResamplingPipeline)
    assert plain.named_steps["speed"].get_params() == SpeedPerturber().get_params()
    assert "speed" not in make_deep_pipeline("lstm", speaker_norm=True).named_steps
    custom = make_deep_pipeline("cnn", speaker_norm=True, speed_perturbation=[0.95], sr=8000)
    # A network's speed copies keep their speaker, with or without speaker normalisation.
    assert custom.named_steps["speed"].get_params() == dict(
        rates=(0.95,), copy_groups="same", sources="all", sr=8000, n_jobs=None)
    off = make_deep_pipeline("crnn", speed_perturbation=None)
    assert [n for n, _ in off.steps][0] == "logmel"
    assert [n for n, _ in make_deep_pipeline("crnn", speed_perturbation=()).steps][0] == "logmel"
    with pytest.raises(ValueError, match="speed_perturbation must be 'auto'"):
        make_deep_pipeline("cnn", speed_perturbation="fast")


def test_deep_pipeline_noisy_copies(monkeypatch):
    """noise_augmentation adds noisy copies in fit only, made as the classic pipelines make
    theirs: per speaker and copy with a speaker normaliser (each copy a speaker of its own),
    per clip at a random level without one; the network trains on clips and copies."""
    from sklearn_ser.datasets import make_emotional_speech
    from sklearn_ser.neural._classifiers import _SequenceClassifier
    from sklearn_ser.pipelines import make_deep_pipeline

    # By default: two copies with speaker normalisation and for the plain LSTM, none for the
    # plain CNN and CRNN.
    assert "noise" not in make_deep_pipeline("cnn").named_steps
    assert "noise" not in make_deep_pipeline("crnn").named_steps
    plain_lstm = make_deep_pipeline("lstm")
    assert plain_lstm.named_steps["noise"].n_copies == 2
    assert plain_lstm.named_steps["noise"].conditions == "clip"
    assert [n for n, _ in plain_lstm.steps][:2] == ["noise", "speed"]
    assert "noise" not in make_deep_pipeline("lstm", noise_augmentation=None).named_steps
    assert make_deep_pipeline("cnn", speaker_norm=True).named_steps["noise"].n_copies == 2
    assert "noise" not in make_deep_pipeline("cnn", speaker_norm=True,
                                             noise_augmentation=None).named_steps
    seen = []
    split = _SequenceClassifier._split

    def spy(self, y, groups, seed):
        seen.append((len(y), None if groups is None else len(set(groups))))
        return split(self, y, groups, seed)

    monkeypatch.setattr(_SequenceClassifier, "_split", spy)
    data = make_emotional_speech(24, n_speakers=4, emotions=["anger", "sadness"],
                                 duration=(0.4, 0.5), random_state=0)
    small = dict(n_mels=16, hop_length=160, max_frames=30, channels=(4,), n_hidden=4,
                 max_epochs=2, device="cpu", random_state=0)
    sn = make_deep_pipeline("cnn", speaker_norm=True, **small)
    noise = sn.named_steps["noise"]
    assert (noise.n_copies, noise.conditions, noise.gain_range) == (2, "speaker", None)
    with config_context(enable_metadata_routing=True):
        sn.fit(data.data, data.target, groups=data.groups)
        assert len(sn.predict(data.data[:3], groups=data.groups[:3])) == 3
    # 24 clips and 2 copies of each; 4 speakers and 2 copy-speakers of each.
    assert seen[-1] == (72, 12)

    plain = make_deep_pipeline("cnn", noise_augmentation=1, **small)
    assert [n for n, _ in plain.steps][:2] == ["noise", "speed"]
    assert plain.named_steps["noise"].conditions == "clip"
    assert plain.named_steps["noise"].gain_range is not None
    plain.fit(data.data, data.target)
    assert seen[-1] == (24 * 2 * 3, None)  # noisy copies, then speed copies of all
    with pytest.raises(ValueError, match="noise_augmentation must be"):
        make_deep_pipeline("cnn", noise_augmentation="loud")


def test_pipelines_import_without_torch():
    code = ("import sys, sklearn_ser.pipelines, sklearn_ser.cli._benchmark; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]


# -- embeddings and attention weights ------------------------------------------------------

EMBEDDING = {CNNClassifier: ("cnn_emb", 8), LSTMClassifier: ("lstm_emb", 16),
             CRNNClassifier: ("crnn_emb", 16)}


def test_transform_is_the_pooled_penultimate_layer(fitted, data):
    X, y, _, _ = data
    prefix, n_units = EMBEDDING[type(fitted)]
    emb = fitted.transform(X)
    assert emb.shape == (len(X), n_units) and emb.dtype == np.float64
    names = fitted.get_feature_names_out()
    assert names.tolist() == [f"{prefix}{i}" for i in range(n_units)]
    # The output layer applied to the embedding gives the network's own probabilities.
    output = fitted.net_.module_.head[-1]
    logits = output(torch.as_tensor(emb, dtype=torch.float32))
    np.testing.assert_allclose(torch.softmax(logits, 1).detach().numpy(),
                               fitted.predict_proba(X), atol=1e-5)
    # Padding and the rest of the batch do not change a clip's embedding, in any bit.
    more_padding = np.concatenate([X, np.full((len(X), 9, X.shape[2]), np.nan, np.float32)], 1)
    np.testing.assert_array_equal(fitted.transform(more_padding), emb)
    np.testing.assert_array_equal(fitted.transform(X[[6, 4, 5]]), emb[[6, 4, 5]])


def test_a_fitted_network_feeds_a_classic_model(fitted, data):
    from sklearn.linear_model import LogisticRegression

    X, y, _, _ = data
    frame = clone(fitted).set_output(transform="pandas").fit(X, y).transform(X[:5])
    assert frame.columns.tolist() == fitted.get_feature_names_out().tolist()
    train, test = np.arange(len(X)) % 4 != 0, np.arange(len(X)) % 4 == 0
    emb = fitted.transform(X)
    assert LogisticRegression().fit(emb[train], y[train]).score(emb[test], y[test]) > 0.6
    with pytest.raises(ValueError, match="input_features should have length"):
        fitted.get_feature_names_out(["a", "b"])


def test_transform_needs_a_fitted_network(data):
    from sklearn.exceptions import NotFittedError

    X, _, _, _ = data
    with pytest.raises(NotFittedError):
        CRNNClassifier().transform(X)
    with pytest.raises(NotFittedError):
        LSTMClassifier().attention_weights(X)


def _bursts(n_clips=120, n_frames=32, n_coeffs=4, seed=0):
    """Noise clips; the "burst" ones hold 4 loud frames at a random place, shown by `where`."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_clips, n_frames, n_coeffs)).astype(np.float32)
    y = np.where(np.arange(n_clips) % 2 == 0, "burst", "calm")
    where = np.zeros((n_clips, n_frames), dtype=bool)
    lengths = rng.integers(16, n_frames + 1, n_clips)
    for i in np.flatnonzero(y == "burst"):
        start = rng.integers(0, lengths[i] - 4)
        X[i, start:start + 4] += 4.0
        where[i, start:start + 4] = True
    for i, n in enumerate(lengths):
        X[i, n:] = np.nan
    return X, y, where, lengths


@pytest.mark.parametrize("cls, params", [
    (LSTMClassifier, dict(n_units=8, n_attention=8, stack_frames=2)),
    (CRNNClassifier, dict(channels=(4,), time_pools=1, n_units=8, n_attention=8)),
], ids=["LSTMClassifier", "CRNNClassifier"])
def test_attention_weights_show_the_frames_that_mattered(cls, params):
    X, y, where, lengths = _bursts()
    net = cls(**params, max_epochs=25, lr=0.02, validation_fraction=None, device="cpu",
              random_state=0).fit(X, y)
    assert np.mean(net.predict(X) == y) > 0.9
    steps = net.attention_weights(X)
    assert len(steps) == len(X)
    for w, n in zip(steps, lengths):
        assert w.shape == (-(-n // 2),) and np.all(w >= 0)  # one weight per 2 frames
        np.testing.assert_allclose(w.sum(), 1.0, rtol=1e-5)
    frames = net.attention_weights(X, per_frame=True)
    assert [len(w) for w in frames] == lengths.tolist()
    # On the clips with a burst, the network attends to the burst's frames.
    burst = np.flatnonzero(y == "burst")
    inside = np.mean([frames[i][where[i, :lengths[i]]].mean() for i in burst])
    outside = np.mean([frames[i][~where[i, :lengths[i]]].mean() for i in burst])
    assert inside > 2 * outside
    # A clip's weights do not depend on the padding or on the rest of the batch.
    padded = np.concatenate([X[:3], np.full((3, 10, X.shape[2]), np.nan, np.float32)], 1)
    for a, b in zip(net.attention_weights(padded), steps[:3]):
        np.testing.assert_array_equal(a, b)


def test_only_attention_networks_give_attention_weights():
    assert not hasattr(CNNClassifier(), "attention_weights")
    assert hasattr(LSTMClassifier(), "attention_weights")
    assert hasattr(CRNNClassifier(), "attention_weights")
