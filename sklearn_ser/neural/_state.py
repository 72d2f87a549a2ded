"""Fitted networks as plain values: weights as numpy arrays, settings as numbers and strings.

The neural estimators pickle (and :func:`sklearn_ser.io.save_model` stores) their trained
networks through these helpers instead of skorch's own pickling. skorch writes a net's modules
with ``pickle`` and reads them back with an unrestricted unpickler, so a model file holding a
skorch net would run whatever its bytes say on load. Here a net is kept as

* its plain settings: the ``module__*`` / ``criterion__*`` / ``optimizer__*`` parameters, the
  batch size, learning rate, epochs, device (tensors among them as arrays);
* the ``state_dict`` of its module and criterion, as numpy arrays;
* its training history, as a list of dicts;

and rebuilt on load by the estimator's own code: the estimator builds the same net class it
built in ``fit``, applies the settings, initialises it and copies the arrays into it. Nothing in
the stored state names a class or a function, so nothing from a file is imported or called.

The optimiser's running state (Adam's moments) is not kept: the estimators train a new net in
every ``fit``, so a loaded net only predicts.
"""

import warnings
from collections import OrderedDict

import numpy as np
import torch
from skorch.exceptions import DeviceWarning
from skorch.history import History

__all__ = ["export_module", "export_net", "restore_module", "restore_net"]

# Net parameters kept and restored: what the module, the loss and prediction depend on, and the
# training settings a user may read back. The rest (classes, callbacks, the split) is set by
# the estimator's own code; a file cannot set it.
_PREFIXES = ("module__", "criterion__", "optimizer__", "iterator_train__", "iterator_valid__")
_SCALARS = ("lr", "max_epochs", "batch_size", "device", "verbose", "mixup")

_PLAIN = (type(None), bool, int, float, str)


def _is_plain(value):
    """Numbers, strings, None and containers of them: values that cannot run anything."""
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "biuf"
    return isinstance(value, np.generic) and value.dtype.kind in "biuf"


def _kept(name):
    return name.startswith(_PREFIXES) or name in _SCALARS


def _arrays(state_dict):
    return {key: value.detach().cpu().numpy() for key, value in state_dict.items()}


def _tensors(arrays, device, owner):
    if not isinstance(arrays, dict) or not all(
            isinstance(k, str) and isinstance(v, np.ndarray) and v.dtype.kind in "biuf"
            for k, v in arrays.items()):
        raise ValueError(f"{owner}: the stored network weights are not a dict of numeric "
                         "arrays; the model is damaged. Refit it or save it again.")
    return OrderedDict((k, torch.as_tensor(np.array(v), device=device)) for k, v in arrays.items())


def _plain_history(history):
    """A skorch History as lists and dicts of plain values (numpy scalars unwrapped)."""
    def plain(value):
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, np.generic):
            return value.item()
        return value if isinstance(value, _PLAIN) else str(value)

    return plain(list(history))


def _device(saved, owner):
    """The saved device where it exists here, else the CPU (with a DeviceWarning)."""
    device = torch.device(saved if isinstance(saved, str) else "cpu")
    if device.type == "cuda" and not torch.cuda.is_available():
        warnings.warn(f"{owner} was trained on {saved!r}, but CUDA is not available here; it "
                      "runs on the CPU.", DeviceWarning, stacklevel=4)
        return "cpu"
    return saved if isinstance(saved, str) else "cpu"


def export_net(net):
    """The state of a fitted skorch net as plain values (see the module docstring).

    Parameters
    ----------
    net : skorch.NeuralNet
        An initialised net.

    Returns
    -------
    state : dict
        ``params``, ``tensor_params``, ``module``, ``criterion`` and ``history``.
    """
    params, tensor_params = {}, {}
    for name, value in net.get_params(deep=False).items():
        if not _kept(name):
            continue
        if isinstance(value, torch.Tensor):
            tensor_params[name] = value.detach().cpu().numpy()
        elif _is_plain(value):
            params[name] = value
    return {
        "params": params,
        "tensor_params": tensor_params,
        "module": _arrays(net.module_.state_dict()),
        "criterion": _arrays(net.criterion_.state_dict()),
        "history": _plain_history(net.history),
    }


def restore_net(net, state, *, owner):
    """Load a state from :func:`export_net` into a net built by the estimator's code.

    Parameters
    ----------
    net : skorch.NeuralNet
        A new, uninitialised net of the class ``fit`` builds.
    state : dict
        From :func:`export_net`.
    owner : str
        Name used in messages.

    Returns
    -------
    net : skorch.NeuralNet
        Initialised, with the stored weights and history, in eval mode.
    """
    if not isinstance(state, dict):
        raise ValueError(f"{owner}: the stored network state is not a dict; the model is "
                         "damaged. Refit it or save it again.")
    params = {k: v for k, v in (state.get("params") or {}).items()
              if isinstance(k, str) and _kept(k) and _is_plain(v)}
    device = _device(params.get("device", "cpu"), owner)
    params["device"] = device
    for name, value in (state.get("tensor_params") or {}).items():
        if isinstance(name, str) and _kept(name):
            params[name] = _tensors({"t": value}, device, owner)["t"]
    module = _tensors(state.get("module"), device, owner)
    criterion = _tensors(state.get("criterion") or {}, device, owner)
    net.set_params(**params)
    # Initialising draws random weights, which are overwritten at once: keep the caller's
    # torch random stream as it was, so that loading a model does not change later draws.
    with torch.random.fork_rng(devices=[]):
        net.initialize()
    net.module_.load_state_dict(module)
    net.criterion_.load_state_dict(criterion)
    net.module_.eval()
    history = state.get("history") or []
    net.history = History(history if isinstance(history, list) else [])
    return net


def export_module(module):
    """A plain torch module as its constructor arguments and its weights.

    Parameters
    ----------
    module : torch.nn.Module
        A module with an ``init_args()`` method returning its constructor arguments.

    Returns
    -------
    state : dict
        ``init_args`` (a list) and ``weights`` (name -> ndarray).
    """
    return {"init_args": list(module.init_args()), "weights": _arrays(module.state_dict())}


def restore_module(module_class, state, *, owner):
    """Rebuild a module from :func:`export_module`, on the CPU, in eval mode.

    Parameters
    ----------
    module_class : type
        The module class the estimator's code trains (never taken from the state).
    state : dict
        From :func:`export_module`.
    owner : str
        Name used in messages.

    Returns
    -------
    module : torch.nn.Module
    """
    if not isinstance(state, dict) or not _is_plain(state.get("init_args")):
        raise ValueError(f"{owner}: the stored network is not in the expected form; the "
                         "model is damaged. Refit it or save it again.")
    weights = _tensors(state.get("weights"), "cpu", owner)
    with torch.random.fork_rng(devices=[]):
        module = module_class(*state["init_args"])
    module.load_state_dict(weights)
    return module.eval()
