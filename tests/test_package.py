"""The package surface: every advertised public name resolves, and import stays light."""

import subprocess
import sys

import sklearn_ser


def test_every_public_name_resolves():
    for name in sklearn_ser.__all__:
        assert getattr(sklearn_ser, name) is not None, name


def test_every_public_estimator_is_a_top_level_name():
    from sklearn_ser.utils import all_estimators

    missing = [name for name, _ in all_estimators() if name not in sklearn_ser.__all__]
    assert not missing, f"public estimators missing from sklearn_ser.__all__: {missing}"


def test_import_does_not_pull_torch_or_librosa():
    code = "import sys, sklearn_ser; print('torch' in sys.modules, 'librosa' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
