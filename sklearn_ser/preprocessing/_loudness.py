"""Loudness normalisation: peak, RMS, or integrated loudness (LUFS, ITU-R BS.1770-4).

The LUFS measure is implemented here rather than through ``pyloudnorm`` (a small, rarely
released package) because it is short: K-weighting is two biquads, and gating is a few
vectorised lines. The biquads are designed for any sample rate from the analogue prototype
that libebur128 uses, which reproduces the 48 kHz coefficients printed in BS.1770 exactly
(tested).
"""

import warnings
from functools import lru_cache
from numbers import Integral, Real

import numpy as np
import scipy.signal

from ..exceptions import AudioWarning
from ..utils._compat import Interval, StrOptions
from ._base import _ClipTransformer

#: Default target of each method: dBFS for peak and RMS, LUFS for "lufs" (EBU R128).
DEFAULT_TARGETS = {"peak": -1.0, "rms": -20.0, "lufs": -23.0}


@lru_cache(maxsize=16)
def k_weighting_sos(sr):
    """The two K-weighting biquads of ITU-R BS.1770-4 at ``sr`` as second-order sections.

    Stage 1 is the high-shelf "head" filter (+4 dB above ~1.7 kHz), stage 2 the RLB
    high-pass (~38 Hz). At 48 kHz the coefficients equal the ones printed in the standard.
    """
    # Stage 1: high shelf (libebur128's analogue prototype).
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = np.tan(np.pi * f0 / sr)
    vh = 10.0 ** (gain_db / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf_b = [(vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0,
               (vh - vb * k / q + k * k) / a0]
    shelf_a = [1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    # Stage 2: high pass.
    f0, q = 38.13547087602444, 0.5003270373238773
    k = np.tan(np.pi * f0 / sr)
    a0 = 1.0 + k / q + k * k
    hp_b = [1.0, -2.0, 1.0]
    hp_a = [1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    sos = np.array([shelf_b + shelf_a, hp_b + hp_a])
    sos.setflags(write=False)
    return sos


def integrated_loudness(y, *, sr=16000, block_s=0.4, overlap=0.75):
    """Integrated loudness of one mono clip in LUFS (ITU-R BS.1770-4, gated).

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Mono clip in [-1, 1].
    sr : int, default=16000
        Sample rate.
    block_s : float, default=0.4
        Gating block length in seconds; a shorter clip is measured as one block.
    overlap : float, default=0.75
        Overlap of consecutive blocks.

    Returns
    -------
    float
        Loudness in LUFS; ``-inf`` for a clip that is silent below the -70 LUFS gate.
    """
    z = scipy.signal.sosfilt(np.array(k_weighting_sos(sr)), np.asarray(y, dtype=np.float64)) ** 2
    block = int(round(block_s * sr))
    if len(z) <= block:
        powers = np.array([z.mean()])
    else:
        step = max(1, int(round(block * (1.0 - overlap))))
        csum = np.concatenate(([0.0], np.cumsum(z)))
        starts = np.arange(0, len(z) - block + 1, step)
        powers = (csum[starts + block] - csum[starts]) / block
    with np.errstate(divide="ignore"):
        levels = -0.691 + 10.0 * np.log10(powers)
    powers = powers[levels > -70.0]  # absolute gate
    if powers.size == 0:
        return -np.inf
    relative_gate = -0.691 + 10.0 * np.log10(powers.mean()) - 10.0
    with np.errstate(divide="ignore"):
        powers = powers[-0.691 + 10.0 * np.log10(powers) > relative_gate]
    return float(-0.691 + 10.0 * np.log10(powers.mean()))


def level_db(y, *, method="rms", sr=16000):
    """Level of one clip: peak or RMS in dBFS, or integrated loudness in LUFS."""
    y = np.asarray(y, dtype=np.float64)
    if method == "lufs":
        return integrated_loudness(y, sr=sr)
    value = np.max(np.abs(y)) if method == "peak" else np.sqrt(np.mean(y**2))
    with np.errstate(divide="ignore"):
        return float(20.0 * np.log10(value))


def normalize_loudness(y, *, sr=16000, method="rms", target=None, max_gain_db=40.0,
                       prevent_clipping=True):
    """Scale one clip to a target peak, RMS or LUFS level.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Mono clip.
    sr : int, default=16000
        Sample rate (LUFS only).
    method : {"peak", "rms", "lufs"}, default="rms"
        Which level to set.
    target : float or None, default=None
        Target in dBFS (peak, RMS) or LUFS; None takes ``DEFAULT_TARGETS[method]``.
    max_gain_db : float, default=40.0
        Largest gain applied, so that near-silent clips are not blown up to full noise.
    prevent_clipping : bool, default=True
        Lower the gain when the peak would pass full scale (the clip is then below target).

    Returns
    -------
    out : ndarray of shape (n_samples,)
        A new array of ``y``'s dtype.
    gain_db : float or None
        Gain applied in dB; None for a silent clip, which is returned unchanged.
    """
    y = np.asarray(y)
    target = DEFAULT_TARGETS[method] if target is None else target
    level = level_db(y, method=method, sr=sr)
    if not np.isfinite(level):
        return y.copy(), None
    gain_db = min(target - level, max_gain_db)
    gain = 10.0 ** (gain_db / 20.0)
    peak = float(np.max(np.abs(y)))
    if prevent_clipping and peak * gain > 1.0:
        gain = 1.0 / peak
        gain_db = 20.0 * np.log10(gain)
    return (y.astype(np.float64) * gain).astype(y.dtype, copy=False), gain_db


class LoudnessNormalizer(_ClipTransformer):
    """Scale each clip to a common peak, RMS or integrated (LUFS) loudness.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate of the clips (used by the LUFS K-weighting).
    method : {"peak", "rms", "lufs"}, default="rms"
        ``"peak"``: the largest absolute sample; ``"rms"``: root mean square;
        ``"lufs"``: gated integrated loudness of ITU-R BS.1770-4 (EBU R128).
    target : float or None, default=None
        Target level in dBFS (peak, RMS) or LUFS. None: -1 dBFS peak, -20 dBFS RMS or
        -23 LUFS.
    max_gain_db : float, default=40.0
        Largest gain applied to a clip.
    prevent_clipping : bool, default=True
        Lower a clip's gain so that its peak stays within [-1, 1].

    Attributes
    ----------
    None
        The step is stateless. ``n_features_in_`` is undefined for waveform input.

    See Also
    --------
    normalize_loudness : The function applied to each clip.
    integrated_loudness : The LUFS measure.

    Notes
    -----
    Silent clips (all zeros, or below the -70 LUFS gate) are returned unchanged with an
    ``AudioWarning`` naming them.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.preprocessing import LoudnessNormalizer
    >>> t = np.arange(16000) / 16000
    >>> quiet = 0.01 * np.sin(2 * np.pi * 220 * t)
    >>> out = LoudnessNormalizer(method="peak", target=-6.0).fit_transform([quiet])
    >>> round(float(20 * np.log10(np.abs(out[0]).max())), 2)
    -6.0
    """

    _parameter_constraints = {
        "sr": [Interval(Integral, 1, None, closed="left")],
        "method": [StrOptions({"peak", "rms", "lufs"})],
        "target": [Interval(Real, None, None, closed="neither"), None],
        "max_gain_db": [Interval(Real, 0, None, closed="left")],
        "prevent_clipping": ["boolean"],
    }

    def __init__(self, *, sr=16000, method="rms", target=None, max_gain_db=40.0,
                 prevent_clipping=True):
        self.sr = sr
        self.method = method
        self.target = target
        self.max_gain_db = max_gain_db
        self.prevent_clipping = prevent_clipping

    def _process(self, clips):
        out, silent = [], []
        for i, clip in enumerate(clips):
            y, gain = normalize_loudness(
                clip, sr=self.sr, method=self.method, target=self.target,
                max_gain_db=self.max_gain_db, prevent_clipping=self.prevent_clipping,
            )
            if gain is None:
                silent.append(i)
            out.append(y)
        if silent:
            warnings.warn(
                f"LoudnessNormalizer: {len(silent)} clip(s) are silent and were left "
                f"unchanged: X{silent[:10]}.",
                AudioWarning,
                stacklevel=3,
            )
        return out
