"""Zero-phase band-pass filtering (Butterworth sections run forward and backward)."""

from functools import lru_cache
from numbers import Integral, Real

import numpy as np
import scipy.signal

from ..utils._compat import Interval
from ._base import _ClipTransformer


@lru_cache(maxsize=32)
def _butter_sos(sr, fmin, fmax, order):
    if fmin and fmax:
        return scipy.signal.butter(order, [fmin, fmax], btype="bandpass", fs=sr, output="sos")
    if fmin:
        return scipy.signal.butter(order, fmin, btype="highpass", fs=sr, output="sos")
    return scipy.signal.butter(order, fmax, btype="lowpass", fs=sr, output="sos")


def bandpass(y, *, sr=16000, fmin=80.0, fmax=7600.0, order=4):
    """Band-pass one clip with a zero-phase Butterworth filter.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Mono clip.
    sr : int, default=16000
        Sample rate.
    fmin : float or None, default=80.0
        Lower cut-off in Hz; None or 0 gives a low-pass.
    fmax : float or None, default=7600.0
        Upper cut-off in Hz, below ``sr / 2``; None gives a high-pass.
    order : int, default=4
        Butterworth order of each pass (the magnitude response is that of order
        ``2 * order``, since ``sosfiltfilt`` filters twice).

    Returns
    -------
    ndarray of shape (n_samples,)
        A new array of ``y``'s dtype.
    """
    y = np.asarray(y)
    if not fmin and fmax is None:
        return y.copy()
    sos = _butter_sos(sr, fmin or None, fmax, order)
    # sosfiltfilt's default edge padding needs a clip longer than ~6 * order samples; short
    # clips get the longest padding they allow.
    default_pad = 3 * (2 * len(sos) + 1 - min((sos[:, 2] == 0).sum(), (sos[:, 5] == 0).sum()))
    padlen = min(default_pad, len(y) - 1)
    out = scipy.signal.sosfiltfilt(sos, y.astype(np.float64), padlen=padlen)
    return out.astype(y.dtype, copy=False)


class BandpassFilter(_ClipTransformer):
    """Keep the speech band of each clip with a zero-phase Butterworth band-pass.

    Filtering forward and backward (``scipy.signal.sosfiltfilt``) cancels the phase delay,
    so pitch marks and onsets stay where they were.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate of the clips.
    fmin : float or None, default=80.0
        Lower cut-off in Hz (removes hum and rumble); None or 0 for a low-pass only.
    fmax : float or None, default=7600.0
        Upper cut-off in Hz, below ``sr / 2``; None for a high-pass only.
    order : int, default=4
        Butterworth order of each of the two passes.

    Attributes
    ----------
    None
        The step is stateless. ``n_features_in_`` is undefined for waveform input.

    See Also
    --------
    bandpass : The function applied to each clip.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.preprocessing import BandpassFilter
    >>> sr = 16000
    >>> t = np.arange(sr) / sr
    >>> hum_and_voice = np.sin(2 * np.pi * 30 * t) + np.sin(2 * np.pi * 300 * t)
    >>> out = BandpassFilter(sr=sr, fmin=100, fmax=4000).fit_transform([hum_and_voice])
    >>> bool(np.std(out[0]) < np.std(hum_and_voice))
    True
    """

    _parameter_constraints = {
        "sr": [Interval(Integral, 1, None, closed="left")],
        "fmin": [Interval(Real, 0, None, closed="left"), None],
        "fmax": [Interval(Real, 0, None, closed="neither"), None],
        "order": [Interval(Integral, 1, 12, closed="both")],
    }

    def __init__(self, *, sr=16000, fmin=80.0, fmax=7600.0, order=4):
        self.sr = sr
        self.fmin = fmin
        self.fmax = fmax
        self.order = order

    def _check_parameters(self):
        nyquist = self.sr / 2
        if self.fmax is not None and self.fmax >= nyquist:
            raise ValueError(
                f"BandpassFilter: fmax={self.fmax} Hz must be below the Nyquist frequency "
                f"sr / 2 = {nyquist} Hz; lower fmax or set fmax=None for a high-pass."
            )
        if self.fmin and self.fmax is not None and self.fmin >= self.fmax:
            raise ValueError(
                f"BandpassFilter: fmin={self.fmin} Hz must be below fmax={self.fmax} Hz."
            )

    def _process(self, clips):
        return [
            bandpass(c, sr=self.sr, fmin=self.fmin, fmax=self.fmax, order=self.order)
            for c in clips
        ]
