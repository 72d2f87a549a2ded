"""PretrainedSpeechExtractor on tiny randomly initialised encoders.

These machines cannot download weights, so each encoder is a small random configuration
written with ``save_pretrained`` to a temporary folder and loaded through
``from_pretrained(folder)``, the path a real checkpoint takes. Nothing here reaches the
network: the Hugging Face Hub is put in offline mode for the module.
"""

import os
import pickle
import shutil
import sys
import warnings

import numpy as np
import pytest
import soxr
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.exceptions import AudioWarning
from sklearn_ser.features import check_sequences, sequence_lengths
from sklearn_ser.io import load_model, save_model
from sklearn_ser.neural import PretrainedSpeechExtractor

SR = 16000

# A few units per layer, 3 layers, a two-layer convolutional front end (receptive field 20
# samples, 20 samples per frame): every forward pass takes milliseconds.
_TINY = dict(hidden_size=16, num_hidden_layers=3, num_attention_heads=2, intermediate_size=32,
             conv_dim=(8, 8), conv_kernel=(10, 3), conv_stride=(5, 4),
             num_conv_pos_embeddings=8, num_conv_pos_embedding_groups=2)
_RECEPTIVE_FIELD, _HOP = 20, 20

# Name -> (config class, extra settings). "wav2vec2-large" has the Large checkpoints'
# layer-normalised front end and stable layer norm, the one layout that pads batches.
_KINDS = {
    "wav2vec2": ("Wav2Vec2Config", {}),
    "wav2vec2-large": ("Wav2Vec2Config", dict(feat_extract_norm="layer",
                                              do_stable_layer_norm=True)),
    "hubert": ("HubertConfig", {}),
    "wavlm": ("WavLMConfig", dict(num_buckets=16, max_bucket_distance=64)),
    "data2vec-audio": ("Data2VecAudioConfig", dict(num_conv_pos_embeddings=2,
                                                   conv_pos_kernel_size=5)),
}


def save_tiny_encoder(folder, kind="wav2vec2", *, feature_extractor=True, seed=0):
    """Write a tiny random encoder of ``kind`` (a key of ``_KINDS``) to ``folder``."""
    import transformers

    config_class, extra = _KINDS[kind]
    config = getattr(transformers, config_class)(**{**_TINY, **extra})
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        transformers.AutoModel.from_config(config).save_pretrained(folder)
    if feature_extractor:
        transformers.Wav2Vec2FeatureExtractor(
            sampling_rate=SR, do_normalize=True,
            return_attention_mask=config.model_type != "wav2vec2").save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module", autouse=True)
def offline_single_thread():
    """No network, and one torch thread: tiny models on a shared machine are otherwise
    dominated by waking idle threads."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        try:
            import huggingface_hub.constants as hub_constants

            mp.setattr(hub_constants, "HF_HUB_OFFLINE", True)
        except ImportError:
            pass
        yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def encoders(tmp_path_factory):
    pytest.importorskip("transformers")
    root = tmp_path_factory.mktemp("encoders")
    return {kind: save_tiny_encoder(root / kind, kind) for kind in _KINDS}


def _clips(lengths, seed=0):
    rng = np.random.default_rng(seed)
    clips = []
    for i, n in enumerate(lengths):
        t = np.arange(n) / SR
        tone = np.sin(2 * np.pi * (120 + 30 * i) * t) + 0.5 * np.sin(2 * np.pi * 700 * t)
        clips.append((0.2 * tone + 0.02 * rng.standard_normal(n)).astype(np.float32))
    return clips


def _plain_hidden_states(folder, clips):
    """What a plain transformers loop gives, clip by clip: every hidden state, (T, dim)."""
    import transformers

    model = transformers.AutoModel.from_pretrained(folder).eval()
    extractor = transformers.AutoFeatureExtractor.from_pretrained(folder)
    out = []
    for clip in clips:
        inputs = extractor(clip, sampling_rate=SR, return_tensors="pt")
        with torch.inference_mode():
            hidden = model(**inputs, output_hidden_states=True).hidden_states
        out.append([h[0].numpy() for h in hidden])
    return out


# -- what the encoder computes ------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(_KINDS))
def test_frames_match_a_plain_transformers_loop(encoders, kind):
    clips = _clips([3000, 4100, 2500])
    plain = _plain_hidden_states(encoders[kind], clips)
    for layer in (1, [0, 2], "all"):
        extractor = PretrainedSpeechExtractor(encoders[kind], layer=layer, pooling=None)
        frames = extractor.fit_transform(clips)
        for i, clip in enumerate(clips):
            expected = np.mean([plain[i][k] for k in extractor.layers_], axis=0)
            n = sequence_lengths(frames[i:i + 1])[0]
            assert n == len(expected) == (len(clip) - _RECEPTIVE_FIELD) // _HOP + 1
            np.testing.assert_allclose(frames[i, :n], expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", ["wav2vec2", "wav2vec2-large", "data2vec-audio"])
def test_batches_give_what_one_clip_at_a_time_gives(encoders, kind):
    # Equal lengths share a batch with every encoder; unequal ones only where padding is
    # masked exactly ("wav2vec2-large").
    clips = _clips([3000, 4000, 4000, 2200, 4000, 5300, 3000])
    one = PretrainedSpeechExtractor(encoders[kind], layer="all", batch_size=1).fit(clips)
    four = clone(one).set_params(batch_size=4).fit(clips)
    expected = one.transform(clips)
    np.testing.assert_allclose(four.transform(clips), expected, rtol=1e-5, atol=1e-5)
    order = np.random.default_rng(0).permutation(len(clips))
    np.testing.assert_allclose(four.transform([clips[i] for i in order]), expected[order],
                               rtol=1e-5, atol=1e-5)
    # A clip's row does not depend on its batch: alone, it is the same.
    np.testing.assert_array_equal(one.transform(clips[3:4]), expected[3:4])


def test_resamples_to_the_encoders_rate(encoders):
    clips_8k = [soxr.resample(c, SR, 8000).astype(np.float32) for c in _clips([4000, 6000])]
    at_8k = PretrainedSpeechExtractor(encoders["wav2vec2"], layer=1, sr=8000).fit(clips_8k)
    assert at_8k.model_sr_ == SR
    resampled = [soxr.resample(c, 8000, SR).astype(np.float32) for c in clips_8k]
    at_16k = PretrainedSpeechExtractor(encoders["wav2vec2"], layer=1).fit(resampled)
    np.testing.assert_allclose(at_8k.transform(clips_8k), at_16k.transform(resampled),
                               rtol=1e-5, atol=1e-6)


# -- layers, pooling, names -----------------------------------------------------------------

def test_layer_choices_and_feature_names(encoders):
    clips = _clips([3000, 4000])
    folder = encoders["hubert"]

    def fitted(**params):
        return PretrainedSpeechExtractor(folder, **params).fit(clips)

    assert fitted().layers_ == (1,)  # "middle" of 3 layers
    assert fitted().n_layers_ == 3 and fitted().model_type_ == "hubert"
    assert fitted(layer="all").layers_ == (0, 1, 2, 3)
    assert fitted(layer=-1).layers_ == (3,)
    assert fitted(layer=range(1, 3)).layers_ == (1, 2)
    names = fitted(layer=2).get_feature_names_out()
    assert list(names[:2]) == ["hubert_layer2_dim0_mean", "hubert_layer2_dim1_mean"]
    assert fitted(layer=(1, 2, 3)).get_feature_names_out()[0] == "hubert_layers1-3_dim0_mean"
    assert fitted(layer=[0, 3]).get_feature_names_out()[0] == "hubert_layers0+3_dim0_mean"

    concat = fitted(layer=[1, 3], layer_combination="concat", functionals="basic")
    out = concat.transform(clips)
    assert out.shape == (2, 2 * 2 * 16) == (2, concat.n_features_out_)
    assert concat.get_feature_names_out()[16] == "hubert_layer3_dim0_mean"
    np.testing.assert_allclose(out[:, :16], fitted(layer=1).transform(clips), rtol=1e-6)
    # The average of two layers is the average of their features (mean pooling is linear).
    pair = fitted(layer=[1, 3]).transform(clips)
    np.testing.assert_allclose(pair, (out[:, :16] + out[:, 16:32]) / 2, rtol=1e-5, atol=1e-6)

    frame = fitted(functionals="basic").set_output(transform="pandas").transform(clips)
    assert list(frame.columns[-1:]) == ["hubert_layer1_dim15_std"]


def test_frame_sequences_keep_the_nan_padding_contract(encoders):
    clips = _clips([4000, 2500, 6000])
    extractor = PretrainedSpeechExtractor(encoders["wavlm"], layer=2, pooling=None)
    frames = extractor.fit_transform(clips[:2])
    assert extractor.max_frames_ == (4000 - _RECEPTIVE_FIELD) // _HOP + 1
    check_sequences(frames, owner="test")  # raises on any other NaN
    assert list(sequence_lengths(frames)) == [200, 125]
    assert frames.dtype == np.float32 and frames.shape == (2, 200, 16)
    # Longer clips are centre-cropped to max_frames_, as the other extractors do.
    longer = extractor.transform(clips[2:])
    full = PretrainedSpeechExtractor(encoders["wavlm"], layer=2, pooling=None).fit(
        clips[2:]).transform(clips[2:])
    start = (full.shape[1] - 200) // 2
    np.testing.assert_allclose(longer[0], full[0, start:start + 200], rtol=1e-6)
    pooled = PretrainedSpeechExtractor(encoders["wavlm"], layer=2).fit(clips).transform(clips)
    np.testing.assert_allclose(pooled[1], np.nanmean(frames[1], axis=0), rtol=1e-5, atol=1e-6)


def test_grid_search_over_the_layer_in_a_pipeline(encoders, tmp_path):
    corpus = make_emotional_speech(24, n_speakers=4, emotions=["anger", "sadness", "neutral"],
                                   duration=(0.4, 0.7), random_state=0)
    pipe = make_pipeline(
        PretrainedSpeechExtractor(encoders["wav2vec2"], memory=str(tmp_path),
                                  functionals="basic"),
        StandardScaler(), LogisticRegression(max_iter=500))
    grid = GridSearchCV(pipe, {"pretrainedspeechextractor__layer": [0, 2, [1, 2, 3]]},
                        cv=GroupKFold(n_splits=2), scoring="balanced_accuracy")
    grid.fit(corpus.data, corpus.target, groups=corpus.groups)
    assert len(grid.cv_results_["params"]) == 3
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert grid.best_params_["pretrainedspeechextractor__layer"] in (0, 2, [1, 2, 3])
    assert set(grid.predict(corpus.data)) <= set(corpus.target)


# -- caching, pickling, model files ---------------------------------------------------------

def _moved(folder, tmp_path):
    """A copy of an encoder folder that the test may delete."""
    return str(shutil.copytree(folder, tmp_path / "encoder"))


def test_pickle_holds_the_weights_only_when_asked(encoders, tmp_path):
    folder = _moved(encoders["wav2vec2-large"], tmp_path)
    clips = _clips([3000, 3500])
    light = PretrainedSpeechExtractor(folder, layer=2).fit(clips)
    heavy = clone(light).set_params(keep_weights=True).fit(clips)
    expected = light.transform(clips)
    light_bytes, heavy_bytes = pickle.dumps(light), pickle.dumps(heavy)
    n_weights = sum(p.numel() for p in heavy._encoder.model.parameters())
    assert len(light_bytes) < 4 * n_weights < len(heavy_bytes)

    np.testing.assert_array_equal(pickle.loads(light_bytes).transform(clips), expected)
    shutil.rmtree(folder)
    np.testing.assert_allclose(pickle.loads(heavy_bytes).transform(clips), expected,
                               rtol=1e-6, atol=1e-7)
    # Pickled again before any use, it still holds them.
    again = pickle.loads(pickle.dumps(pickle.loads(heavy_bytes)))
    np.testing.assert_allclose(again.transform(clips), expected, rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="encoder"):
        pickle.loads(light_bytes).transform(clips)


def test_model_files_through_sklearn_ser_io(encoders, tmp_path):
    folder = _moved(encoders["wavlm"], tmp_path)
    clips = _clips([3000, 3300, 3600, 3900, 4200, 4500])
    y = np.array(["anger", "neutral"] * 3)
    for keep_weights in (False, True):
        pipe = make_pipeline(
            PretrainedSpeechExtractor(folder, layer=[1, 2], keep_weights=keep_weights),
            LogisticRegression()).fit(clips, y)
        path = tmp_path / f"model-{keep_weights}.sser"
        save_model(pipe, path)
        if keep_weights:
            shutil.rmtree(folder)  # the file alone must do
        loaded = load_model(path)  # no trusted=: only plain types in the file
        np.testing.assert_allclose(loaded.predict_proba(clips), pipe.predict_proba(clips),
                                   rtol=1e-5, atol=1e-6)


def test_memory_caches_features_and_their_warnings(encoders, tmp_path):
    folder = _moved(encoders["hubert"], tmp_path)
    clips = _clips([3000, 10])
    extractor = PretrainedSpeechExtractor(folder, layer=1, memory=str(tmp_path / "cache"))
    with pytest.warns(AudioWarning, match=r"X\[1\]"):
        expected = extractor.fit_transform(clips)
    # A hit runs no encoder: the copy below cannot load one, yet gets the features, and the
    # warning with them.
    copy = pickle.loads(pickle.dumps(extractor))
    shutil.rmtree(folder)
    with pytest.warns(AudioWarning, match=r"X\[1\]"):
        np.testing.assert_array_equal(copy.transform(clips), expected)
    # Other parameters are other features, never a stale hit.
    with pytest.raises(ValueError, match="encoder"):
        copy.set_params(layer=2).transform(clips)


# -- bad input ------------------------------------------------------------------------------

def test_a_clip_shorter_than_the_receptive_field_warns_and_is_padded(encoders):
    clips = _clips([3000, 12, 5])
    extractor = PretrainedSpeechExtractor(encoders["wav2vec2"], layer=1, pooling=None)
    with pytest.warns(AudioWarning, match=r"X\[1\] \(12 samples\), X\[2\] \(5 samples\).*"
                                          r"receptive field of 20 samples"):
        frames = extractor.fit_transform(clips)
    assert list(sequence_lengths(frames)) == [150, 1, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        extractor.transform(clips[:1])  # no warning without short clips


def test_missing_transformers_names_the_extra(encoders, monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(ImportError, match=r'pip install "sklearn-ser\[embeddings\]"'):
        PretrainedSpeechExtractor(encoders["wav2vec2"]).fit(_clips([3000]))


def test_unknown_checkpoints_name_themselves_and_the_fix(encoders, tmp_path):
    clips = _clips([3000])
    name = "sklearn-ser-tests/no-such-encoder"
    with pytest.raises(ValueError, match=f"{name}.*Check the spelling.*HF_HUB_OFFLINE"):
        PretrainedSpeechExtractor(name).fit(clips)
    missing = str(tmp_path / "no-such-folder")
    with pytest.raises(ValueError, match="no-such-folder"):
        PretrainedSpeechExtractor(missing).fit(clips)
    import transformers

    text_model = tmp_path / "bert"
    transformers.BertConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=1,
                            intermediate_size=8).save_pretrained(text_model)
    with pytest.raises(ValueError, match="'bert' model; supported are.*wav2vec2"):
        PretrainedSpeechExtractor(str(text_model)).fit(clips)


def test_a_checkpoint_without_feature_extractor_settings_warns(tmp_path):
    pytest.importorskip("transformers")
    folder = save_tiny_encoder(tmp_path / "bare", feature_extractor=False)
    with pytest.warns(AudioWarning, match="Wav2Vec2FeatureExtractor defaults"):
        out = PretrainedSpeechExtractor(folder, layer=1).fit_transform(_clips([3000]))
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("params, message", [
    (dict(layer=4), r"layer \[4\] is out of range.*3 transformer layers"),
    (dict(layer=[1, -3]), "names a hidden state twice"),
    (dict(layer=[]), "non-empty"),
    (dict(functionals=("mean", "loudest")), "functionals"),
    (dict(device="gpu0"), "not a torch device"),
    (dict(layer_combination="sum"), "layer_combination"),
])
def test_bad_parameters_are_named(encoders, params, message):
    with pytest.raises(ValueError, match=message):
        PretrainedSpeechExtractor(encoders["wav2vec2"], **params).fit(_clips([3000]))


def test_device_auto_and_unfitted_use(encoders):
    extractor = PretrainedSpeechExtractor(encoders["wav2vec2"])
    with pytest.raises(Exception, match="not fitted"):
        extractor.transform(_clips([3000]))
    extractor.fit(_clips([3000]))
    assert extractor.device_ == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            clone(extractor).set_params(device="cuda").fit(_clips([3000]))
    with pytest.raises(ValueError, match="Reshape your data"):
        extractor.transform(_clips([3000])[0])
    assert os.fspath(extractor.model_name_or_path) == encoders["wav2vec2"]
