"""
Which frames mattered: the attention weights of a CRNN, and its embeddings
==========================================================================

Train a small deep pipeline (log-mel frames -> CRNN with attention pooling) on a synthetic
corpus, then read, for one test clip, the weights its attention pooling gave each frame,
drawn under the clip's log-mel spectrogram. The same fitted network also gives each clip's
embedding (``transform``, the pooled penultimate layer), which a classic model can take.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from sklearn_ser.datasets import make_emotional_speech  # noqa: E402
from sklearn_ser.pipelines import make_deep_pipeline  # noqa: E402

corpus = make_emotional_speech(120, n_speakers=6, emotions=["anger", "sadness", "neutral"],
                               random_state=0)
test = np.isin(corpus.groups, corpus.groups[:1])  # one speaker held out
train = ~test
clips = np.asarray(corpus.data, dtype=object)

pipe = make_deep_pipeline("crnn", sr=corpus.sr, channels=(8, 16), n_units=32, max_epochs=15,
                          speed_perturbation=None, device="cpu", random_state=0)
pipe.fit(list(clips[train]), corpus.target[train])
print("held-out speaker, accuracy:", pipe.score(list(clips[test]), corpus.target[test]))

# The steps before the network turn clips into the frames it sees; its attention weights
# cover each clip's real frames (per_frame=True spreads each recurrent step's weight over
# the frames it spans, so they line up with the spectrogram).
frames = pipe[:-1].transform(list(clips[test][:1]))
network = pipe[-1]
weights = network.attention_weights(frames, per_frame=True)[0]
n_frames = len(weights)

fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(7, 5))
top.imshow(frames[0, :n_frames].T, origin="lower", aspect="auto", cmap="magma")
top.set(ylabel="log-mel band", title=f"test clip ({corpus.target[test][0]})")
bottom.plot(np.arange(n_frames), weights)
bottom.set(xlabel="frame", ylabel="attention weight")
fig.tight_layout()
fig.savefig("attention_weights.png", dpi=100)
print("attention weights written to attention_weights.png")

# The embedding: the network's pooled penultimate layer, one row per clip. The whole
# pipeline transforms clips into it, since the network it ends in is a transformer too.
emb = pipe.transform(list(clips))
print("embedding:", emb.shape, network.get_feature_names_out()[:3].tolist(), "...")
probe = LogisticRegression(max_iter=1000).fit(emb[train], corpus.target[train])
print("logistic regression on the embeddings, held-out speaker:",
      probe.score(emb[test], corpus.target[test]))
