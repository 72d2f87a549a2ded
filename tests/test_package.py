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


def _imports(path, package_root):
    """``(line, module, names)`` of every import in a package file, relative ones resolved."""
    import ast

    relative = path.relative_to(package_root.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    else:
        parts = parts[:-1]  # the module's own package
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = parts[:len(parts) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            yield node.lineno, module, [alias.name for alias in node.names]


def _package_files():
    import pathlib

    root = pathlib.Path(sklearn_ser.__file__).parent
    return root, sorted(root.rglob("*.py"))


def _is_private(dotted):
    return any(part.startswith("_") and not part.startswith("__") for part in dotted.split("."))


def test_parts_import_each_other_only_through_public_names():
    """No subpackage imports another one's private module: each re-exports what others need.

    Shared by design: the top-level private modules (``_validation``) and ``utils._compat``,
    the one import point of scikit-learn's private helpers.
    """
    root, files = _package_files()
    crossings = []
    for path in files:
        part = path.relative_to(root).parts[0]
        for line, module, names in _imports(path, root):
            targets = [module] + [f"{module}.{name}" for name in names]
            for target in targets:
                pieces = target.split(".")
                if pieces[0] != "sklearn_ser" or len(pieces) < 3 or pieces[1] == part:
                    continue
                if target.startswith("sklearn_ser.utils._compat"):
                    continue
                if _is_private(".".join(pieces[2:])):
                    crossings.append(f"{path.relative_to(root)}:{line} {target}")
                    break
    assert not crossings, "imports into another part's private modules:\n" + "\n".join(crossings)


def test_scikit_learn_private_helpers_only_in_compat():
    root, files = _package_files()
    found = []
    for path in files:
        if path.relative_to(root).as_posix() == "utils/_compat.py":
            continue
        for line, module, names in _imports(path, root):
            if module.split(".")[0] != "sklearn":
                continue
            private = [n for n in names if _is_private(n)]
            if _is_private(module) or private:
                found.append(f"{path.relative_to(root)}:{line} {module} {private or ''}")
    assert not found, "scikit-learn private names outside utils/_compat.py:\n" + "\n".join(found)


def test_only_neural_imports_torch():
    root, files = _package_files()
    found = [f"{path.relative_to(root)}:{line} {module}"
             for path in files if path.relative_to(root).parts[0] != "neural"
             for line, module, _ in _imports(path, root)
             if module.split(".")[0] in ("torch", "skorch")]
    assert not found, "torch or skorch imported outside sklearn_ser/neural:\n" + "\n".join(found)
