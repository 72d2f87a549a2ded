"""The same feature extraction and grid search on a real Dask cluster (and Ray where installed).

Nothing in sklearn_ser knows about clusters: parallel work goes through joblib, and joblib's
Dask / Ray backends send it to the cluster's workers. These tests start a real
``dask.distributed.LocalCluster`` (worker processes, not threads) and check that the results
equal the local run.
"""

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, GroupKFold

from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.features import MFCCExtractor, _framing
from sklearn_ser.model_selection import evaluate
from sklearn_ser.pipelines import make_classic_pipeline

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def corpus():
    return make_emotional_speech(60, n_speakers=4, emotions=["anger", "sadness", "neutral"],
                                 duration=(0.8, 1.2), random_state=1)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=40)
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


def _search(corpus, n_jobs):
    pipe = make_classic_pipeline("svm", features="mfcc", random_state=0)
    grid = {"svc__C": [0.3, 3.0, 30.0], "svc__gamma": ["scale", 1e-3]}
    search = GridSearchCV(pipe, grid, cv=GroupKFold(n_splits=3), n_jobs=n_jobs)
    return search.fit(corpus.data, corpus.target, groups=corpus.groups)


def test_grid_search_on_a_dask_cluster_equals_the_local_run(corpus, client):
    local = _search(corpus, n_jobs=1)
    transitions = _n_transitions(client)
    with joblib.parallel_backend("dask"):
        remote = _search(corpus, n_jobs=-1)
    assert _n_transitions(client) > transitions  # the fits went to the cluster
    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(remote.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(remote.predict(corpus.data), local.predict(corpus.data))


def test_feature_extraction_on_a_dask_cluster_equals_the_local_run(corpus, client,
                                                                   monkeypatch):
    monkeypatch.setattr(_framing, "CHUNK_SAMPLES", 20000)  # several chunks to share out
    local = MFCCExtractor().fit(corpus.data).transform(corpus.data)
    transitions = _n_transitions(client)
    with joblib.parallel_backend("dask"):
        remote = MFCCExtractor(n_jobs=-1).fit(corpus.data).transform(corpus.data)
    assert _n_transitions(client) > transitions  # the chunks went to the cluster
    np.testing.assert_allclose(remote, local, rtol=1e-6, atol=1e-6)


def test_speaker_independent_evaluation_on_a_dask_cluster(corpus, client):
    pipe = make_classic_pipeline("nb", features="mfcc", random_state=0)
    local = evaluate(pipe, corpus.data, corpus.target, groups=corpus.groups, cv="loso")
    transitions = _n_transitions(client)
    with joblib.parallel_backend("dask"):
        remote = evaluate(pipe, corpus.data, corpus.target, groups=corpus.groups, cv="loso",
                          n_jobs=-1)
    assert _n_transitions(client) > transitions
    assert remote.uar == pytest.approx(local.uar)


def _n_transitions(client):
    """Task state changes the cluster's scheduler has seen so far (grows as tasks run)."""
    return client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)


def test_grid_search_on_ray_equals_the_local_run(corpus):
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    register_ray()
    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True)
    try:
        local = _search(corpus, n_jobs=1)
        with joblib.parallel_backend("ray"):
            remote = _search(corpus, n_jobs=-1)
    finally:
        ray.shutdown()
    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(remote.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"])
