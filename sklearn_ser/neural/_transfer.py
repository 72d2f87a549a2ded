"""Fine-tuning support shared by the neural classifiers: ``init_from=`` and ``freeze=``.

A classifier given ``init_from`` (a fitted classifier of the same kind, or the path of one saved
with :func:`sklearn_ser.io.save_model`, loaded with the same checks as any model file) starts
from its weights instead of a random initialisation:

* every parameter and buffer whose name and shape match is copied;
* the output layer (the last ``Linear`` of the module's ``head``) is copied whole when the label
  set is the same; otherwise it is replaced by a fresh layer of the new size, and the rows of the
  labels both models share are copied into it ("replace the head when the label set differs");
* auxiliary heads (:class:`MultiTaskClassifier`) are copied when their task names and sizes match.

``freeze`` then stops the gradient of some parameters: ``"trunk"`` (everything but the heads) or a
list of parameter-name prefixes (``["trunk.0"]``, ``["convs.blocks.0", "rnn"]``).
"""

import os
import zipfile

import joblib
import numpy as np
import torch
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

__all__ = ["freeze_parameters", "load_init_source", "output_layer_name", "transfer_weights"]

_HEAD_PREFIXES = ("head.", "aux_heads.")


def load_init_source(init_from, *, owner, trusted=None):
    """The fitted classifier named by ``init_from``, or None.

    Parameters
    ----------
    init_from : estimator, str, os.PathLike or None
        A fitted classifier, a :class:`sklearn.frozen.FrozenEstimator` around one, or the path
        of one saved with :func:`sklearn_ser.io.save_model`. For a Pipeline, its last step is
        used (its other steps are not: the fine-tuning pipeline fits its own).
    owner : BaseEstimator
        The classifier being fitted (its class must match the source's).
    trusted : list of str, True or None, default=None
        Passed to :func:`sklearn_ser.io.load_model` for a path. A pickle (``joblib.dump``)
        runs any code it contains when loaded, so a pickle path is read only with
        ``trusted=True``; the estimators' ``fit`` never passes it: load a trusted pickle
        yourself and pass the model.

    Returns
    -------
    source : estimator or None
    """
    if init_from is None:
        return None
    name = type(owner).__name__
    if isinstance(init_from, (str, os.PathLike)):
        source = _load_source_file(init_from, name, trusted)
    else:
        source = init_from
    if type(source).__name__ == "FrozenEstimator":
        source = source.estimator
    if isinstance(source, Pipeline):
        source = source[-1]  # the network of a saved pipeline
    if type(source) is not type(owner):
        raise TypeError(f"{name}: init_from must be a fitted {name} (or its file); got "
                        f"{type(source).__name__}.")
    try:
        check_is_fitted(source, "net_")
    except NotFittedError as exc:
        raise ValueError(
            f"{name}: init_from is an unfitted {name}. cross_validate, GridSearchCV and clone "
            "clone estimator parameters, which drops their training: wrap the pre-trained "
            "model in sklearn.frozen.FrozenEstimator(model), or save it with "
            "sklearn_ser.io.save_model and pass the file path."
        ) from exc
    n_in = getattr(source, "n_features_in_", None)
    if n_in is not None and n_in != owner.n_features_in_:
        raise ValueError(f"{name}: init_from was trained on {n_in} features per frame but X "
                         f"has {owner.n_features_in_}; the input layer cannot be reused.")
    return source


def _load_source_file(path, name, trusted):
    from ..exceptions import UntrustedModelError

    if not os.path.isfile(path):
        raise ValueError(f"{name}: init_from={str(path)!r} does not exist; pass a fitted "
                         "classifier or the path of one saved with sklearn_ser.io.save_model.")
    if zipfile.is_zipfile(path):  # a save_model archive: checked like any model file
        from ..io import load_model

        try:
            return load_model(path, trusted=trusted)
        except UntrustedModelError as exc:
            raise UntrustedModelError(
                f"{name}: init_from: {exc} To fine-tune from a file you trust, load it "
                "yourself and pass the model: init_from=FrozenEstimator(load_model(path, "
                "trusted=...)).", types=exc.types) from None
    if trusted is True:
        return joblib.load(path)
    raise UntrustedModelError(
        f"{name}: init_from={str(path)!r} is not a sklearn_ser model file; as a pickle "
        "(joblib.dump) it would run any code it contains when loaded, so it is refused. If "
        "you trust it, load it yourself and pass the model (init_from=joblib.load(path), in a "
        "sklearn.frozen.FrozenEstimator when the fine-tuner is cloned), or save it with "
        "sklearn_ser.io.save_model and pass that file."
    )


def output_layer_name(module):
    """Name of the output layer: ``head`` itself or the last ``Linear`` inside it."""
    head = module.head
    if isinstance(head, torch.nn.Linear):
        return "head"
    linear = [name for name, layer in head.named_modules() if isinstance(layer, torch.nn.Linear)]
    if not linear:
        raise TypeError(f"{type(module).__name__}.head holds no Linear output layer.")
    return f"head.{linear[-1]}"


def transfer_weights(module, source_module, *, classes, source_classes, owner,
                     aux_map=None):
    """Copy the weights of ``source_module`` into ``module`` (see the module docstring).

    Parameters
    ----------
    module, source_module : torch.nn.Module
        The freshly initialised module and the pre-trained one (same architecture).
    classes, source_classes : ndarray
        Labels of the new and the pre-trained output layer, in output order.
    owner : str
        Name used in error messages.
    aux_map : dict or None
        ``{new aux head index: source aux head index}`` of the auxiliary heads to copy.

    Returns
    -------
    summary : dict
        ``copied`` (parameter names), ``shared_classes`` (labels whose output row was kept)
        and ``new_classes`` (labels whose output row starts fresh).
    """
    out = output_layer_name(module)
    same_labels = (len(classes) == len(source_classes)
                   and np.array_equal(np.asarray(classes), np.asarray(source_classes)))
    state = module.state_dict()
    source_state = source_module.state_dict()
    copied, mismatched = [], []
    for key, value in state.items():
        if key.startswith("aux_heads."):
            continue  # handled below, by task name
        if key.startswith(out + ".") and not same_labels:
            continue  # handled below, row by row
        if key not in source_state or source_state[key].shape != value.shape:
            mismatched.append(key)
            continue
        state[key] = source_state[key].clone()
        copied.append(key)
    if mismatched:
        raise ValueError(
            f"{owner}: the pre-trained network (init_from) does not have the layers of this "
            f"one ({', '.join(mismatched[:5])}{'...' if len(mismatched) > 5 else ''}). Use the "
            "same architecture parameters as the pre-trained model."
        )
    shared = list(classes) if same_labels else []
    if not same_labels:
        source_index = {label: i for i, label in enumerate(np.asarray(source_classes).tolist())}
        for key in (f"{out}.weight", f"{out}.bias"):
            if key not in state:
                continue
            new = state[key].clone()
            for i, label in enumerate(np.asarray(classes).tolist()):
                if label in source_index:
                    new[i] = source_state[key][source_index[label]]
            state[key] = new
        shared = [c for c in np.asarray(classes).tolist() if c in source_index]
    for new_i, old_i in (aux_map or {}).items():
        for suffix in ("weight", "bias"):
            key, old_key = f"aux_heads.{new_i}.{suffix}", f"aux_heads.{old_i}.{suffix}"
            if old_key in source_state and source_state[old_key].shape == state[key].shape:
                state[key] = source_state[old_key].clone()
                copied.append(key)
    module.load_state_dict(state)
    new_classes = [c for c in np.asarray(classes).tolist() if c not in shared]
    return {"copied": copied, "shared_classes": shared, "new_classes": new_classes}


def freeze_parameters(module, freeze, *, owner):
    """Switch off the gradient of the parameters named by ``freeze``; return their names.

    Parameters
    ----------
    module : torch.nn.Module
    freeze : None, "none", "trunk" or list of str
        ``"trunk"``: every parameter outside the heads (``head``, ``aux_heads``). A list:
        parameter-name prefixes (each must match at least one parameter).
    owner : str
        Name used in error messages.

    Returns
    -------
    frozen : list of str
    """
    if freeze is None or (isinstance(freeze, str) and freeze == "none"):
        return []
    names = [name for name, _ in module.named_parameters()]
    if isinstance(freeze, str):  # "trunk" (other strings are refused by the constraints)
        chosen = [n for n in names if not n.startswith(_HEAD_PREFIXES)]
    else:
        prefixes = list(freeze)
        unknown = [p for p in prefixes
                   if not any(n == p or n.startswith(p.rstrip(".") + ".") for n in names)]
        if unknown:
            tops = sorted({n.split(".")[0] for n in names})
            raise ValueError(f"{owner}: freeze={unknown!r} matches no parameter; the "
                             f"network's parameters start with {tops} (e.g. {names[0]!r}).")
        chosen = [n for n in names
                  if any(n == p or n.startswith(p.rstrip(".") + ".") for p in prefixes)]
    chosen_set = set(chosen)
    for name, param in module.named_parameters():
        if name in chosen_set:
            param.requires_grad_(False)
    return chosen
