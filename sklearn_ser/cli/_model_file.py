"""Model files on the command line: ``load_model``'s checks, and ``--trust`` to skip them."""

TRUST_HELP = (
    "load the model file even if it holds types that sklearn_ser does not trust, or is an "
    "old pickle (format 1). Without it, model files are checked before anything in them is "
    "built, and unknown types are refused. With it, the file is loaded as it is and runs "
    "whatever code it contains: use it only for files from a source you trust"
)


def add_trust_option(parser):
    """Add ``--trust`` to a command that loads a model file."""
    parser.add_argument("--trust", action="store_true", help=TRUST_HELP)


def load_model_file(path, *, trust=False, allow_version_mismatch=False):
    """The model of ``path`` and its manifest, loaded with the checks of ``load_model``.

    Parameters
    ----------
    path : str
        The model file.
    trust : bool, default=False
        ``load_model(..., trusted=True)``: accept every type in the file, and pickles.
    allow_version_mismatch : bool, default=False
        Passed to ``load_model``.

    Returns
    -------
    model, manifest
    """
    from ..io import load_model, read_manifest

    manifest = read_manifest(path)
    model = load_model(path, trusted=True if trust else None,
                       allow_version_mismatch=allow_version_mismatch)
    return model, manifest


def target_name(manifest):
    """The continuous target a regressor's file names (``arousal``, ...), else ``value``."""
    target = (manifest.get("metadata") or {}).get("target")
    return target if target and target != "emotion" else "value"
