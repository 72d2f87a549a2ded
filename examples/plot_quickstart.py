"""
Quickstart: a classic recogniser evaluated speaker-independently
================================================================

Synthesise a small emotional speech corpus, build the default classic pipeline
(MFCC + LPCC functionals -> scaler -> RBF SVM) and evaluate it with leave-one-speaker-out
cross-validation: no speaker is ever on both the training and the test side.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sklearn_ser.datasets import make_emotional_speech  # noqa: E402
from sklearn_ser.model_selection import evaluate  # noqa: E402
from sklearn_ser.pipelines import make_classic_pipeline  # noqa: E402

corpus = make_emotional_speech(280, n_speakers=7, random_state=0)
print(f"{len(corpus.data)} clips, {len(set(corpus.groups))} speakers, "
      f"emotions: {sorted(set(corpus.target))}")

pipeline = make_classic_pipeline("svm", sr=corpus.sr)
report = evaluate(pipeline, corpus.data, corpus.target, groups=corpus.groups, cv="loso",
                  verbose=1)
print(report.summary())

fig, ax = plt.subplots(figsize=(6, 5))
report.plot_confusion_matrix(ax=ax)
fig.tight_layout()
fig.savefig("quickstart_confusion.png", dpi=100)
print("confusion matrix written to quickstart_confusion.png")
