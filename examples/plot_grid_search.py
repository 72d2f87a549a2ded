"""
Speaker-grouped grid search, nested inside a speaker-independent evaluation
==========================================================================

Tune the number of MFCCs and the SVM's C with ``GridSearchCV``. Its inner folds are grouped
by speaker, and the whole search is evaluated with leave-one-speaker-out, so the test speaker
never influences the chosen parameters. ``evaluate`` hands each fold's training speakers to
the search's ``fit(..., groups=...)``.
"""

from sklearn.model_selection import GridSearchCV

from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.metrics import get_scorer
from sklearn_ser.model_selection import SpeakerStratifiedKFold, evaluate
from sklearn_ser.pipelines import make_classic_pipeline

corpus = make_emotional_speech(210, n_speakers=6, random_state=0)

search = GridSearchCV(
    make_classic_pipeline("svm", features="mfcc", sr=corpus.sr),
    param_grid={"mfcc__n_mfcc": [13, 20], "svc__C": [1.0, 10.0]},
    cv=SpeakerStratifiedKFold(n_splits=3),
    scoring=get_scorer("uar"),
)

# Tuning alone: the inner split is grouped by the speakers passed here.
search.fit(corpus.data, corpus.target, groups=corpus.groups)
print("best parameters on all speakers:", search.best_params_)

# Honest estimate of the tuned recogniser: the search runs again inside every outer fold.
report = evaluate(search, corpus.data, corpus.target, groups=corpus.groups, cv="loso",
                  verbose=1)
print(report.summary())
