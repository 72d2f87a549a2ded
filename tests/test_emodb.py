"""End to end on the real EmoDB (skipped when the corpus is absent).

This guards the headline figure of the foundation: the default SVM pipeline, evaluated with
leave-one-speaker-out from the raw files, reaches UAR >= 0.70 (40-MFCC mean+std with an RBF
SVC reaches 0.58 under the same protocol).
"""

import numpy as np
import pytest

from sklearn_ser.datasets import load_emodb
from sklearn_ser.model_selection import evaluate
from sklearn_ser.pipelines import make_classic_pipeline

pytestmark = [pytest.mark.emodb, pytest.mark.slow, pytest.mark.corpus]


def test_default_svm_reaches_uar_070_leave_one_speaker_out(emodb_path):
    corpus = load_emodb(emodb_path, return_clips=True, n_jobs=2)
    assert len(corpus.data) == 535 and len(np.unique(corpus.groups)) == 10
    report = evaluate(make_classic_pipeline("svm"), corpus.data, corpus.target,
                      groups=corpus.groups, cv="loso", n_jobs=2)
    assert report.n_folds == 10
    assert report.uar >= 0.70, report.summary()
    assert report.uar_ci_low < report.uar < report.uar_ci_high
