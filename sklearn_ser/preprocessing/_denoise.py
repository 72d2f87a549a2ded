"""Noise reduction with a noise estimate taken from the clip's own quiet frames.

Two estimators of the clean spectrum are offered, both vectorised over frames and bins:

* ``"gating"`` (spectral gating, Sainburg et al. 2020, the method of the ``noisereduce``
  package): a time-frequency cell is kept when its level exceeds the noise level of its
  frequency bin by ``n_std_thresh`` noise standard deviations (in dB); the binary mask is
  smoothed over time and frequency and applied with a floor of ``1 - prop_decrease``.
* ``"wiener"``: a Wiener gain ``xi / (1 + xi)`` where the a-priori SNR ``xi`` is estimated as
  ``max(P_smooth / N - 1, xi_min)`` from the time-smoothed power ``P_smooth`` and the noise PSD
  ``N`` (a vectorised stand-in for Ephraim-Malah's decision-directed estimate).

The noise statistics come from the ``quiet_fraction`` of frames with the lowest energy in the
clip, frames of exact digital zeros left out (they hold no noise to measure). That is a good
estimate for speech, which pauses; a signal with no quiet frames at all (a steady tone from
start to end) has its own level counted as noise.

Which is better was measured as the output SNR against the clean signal, in white noise, on
synthetic utterances (``benchmarks/bench_robustness.py --denoiser-only`` prints the table;
figures in benchmarks/README.md, "Denoiser: gating against Wiener"). Gating wins where noise
matters (10 dB SNR and below) and on tone bursts; Wiener is slightly better on nearly clean
input. Gating is the default.
The ``noisereduce`` package does the same gating but is not a dependency: its stationary mode
estimates noise from the whole clip (or a separate noise clip), not from the clip's quiet
frames, and the vectorised version here is about 40 lines.
"""

from numbers import Integral, Real

import numpy as np
import scipy.fft
from scipy.ndimage import uniform_filter1d

from ..features import analysis_window, frame_clips
from ..utils._compat import Interval, StrOptions
from ._base import _ClipTransformer


def stft(y, *, n_fft, hop_length):
    """Complex STFT of one clip with centred, zero-padded Hann frames: ``(n_frames, bins)``."""
    frames, _ = frame_clips([y], n_fft=n_fft, hop_length=hop_length)
    return scipy.fft.rfft(frames * analysis_window(n_fft), axis=1)


def istft(spec, *, n_fft, hop_length, length):
    """Inverse of :func:`stft` by weighted overlap-add, cropped to ``length`` samples.

    ``n_fft`` must be a multiple of ``hop_length``; the loop runs over the ``n_fft //
    hop_length`` frame phases, never over frames.
    """
    win = analysis_window(n_fft).astype(np.float64)
    frames = scipy.fft.irfft(spec, n=n_fft, axis=1) * win
    n_frames, ratio = len(frames), n_fft // hop_length
    out = np.zeros((n_frames + ratio - 1, hop_length))
    norm = np.zeros((n_frames + ratio - 1, hop_length))
    parts = frames.reshape(n_frames, ratio, hop_length)
    win_parts = (win**2).reshape(ratio, hop_length)
    for r in range(ratio):
        out[r : r + n_frames] += parts[:, r]
        norm[r : r + n_frames] += win_parts[r]
    out, norm = out.ravel(), norm.ravel()
    out = out / np.where(norm > 1e-8, norm, 1.0)
    pad = n_fft // 2
    return out[pad : pad + length]


def _quiet_frames(power, quiet_fraction):
    """The lowest-energy ``quiet_fraction`` of the frames that hold any signal.

    Frames of exact digital zeros (padding, an editor's silence) carry no noise to measure:
    counted, they would put the noise estimate at zero and leave the clip as it was.
    """
    energy = power.sum(axis=1)
    audible = np.flatnonzero(energy > 0)
    if len(audible) == 0:
        audible = np.arange(len(energy))
    n_quiet = max(1, int(np.ceil(quiet_fraction * len(audible))))
    return audible[np.argsort(energy[audible], kind="stable")[:n_quiet]]


def denoise(
    y,
    *,
    sr=16000,
    method="gating",
    n_fft=512,
    hop_length=128,
    quiet_fraction=0.1,
    n_std_thresh=1.5,
    prop_decrease=1.0,
    smooth_ms=40.0,
    gain_floor_db=-25.0,
):
    """Reduce stationary noise in one clip, estimating the noise from its quietest frames.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Mono clip.
    sr : int, default=16000
        Sample rate (sets the smoothing length in frames).
    method : {"gating", "wiener"}, default="gating"
        Spectral gating or Wiener gain; see the module docstring.
    n_fft : int, default=512
        STFT frame length; a multiple of ``hop_length``.
    hop_length : int, default=128
        STFT hop.
    quiet_fraction : float, default=0.1
        Fraction of the lowest-energy frames that estimate the noise.
    n_std_thresh : float, default=1.5
        Gating threshold in noise standard deviations (``"gating"`` only).
    prop_decrease : float, default=1.0
        How much of the gated noise to remove, in [0, 1] (``"gating"`` only).
    smooth_ms : float, default=40.0
        Time smoothing of the power (``"wiener"``) or of the mask (``"gating"``).
    gain_floor_db : float, default=-25.0
        Lowest gain applied to a cell (``"wiener"`` only); limits musical noise.

    Returns
    -------
    ndarray of shape (n_samples,)
        The denoised clip, a new array of ``y``'s dtype.
    """
    x = np.asarray(y, dtype=np.float64)
    spec = stft(x, n_fft=n_fft, hop_length=hop_length)
    power = spec.real**2 + spec.imag**2
    quiet = _quiet_frames(power, quiet_fraction)
    smooth_frames = max(1, int(round(smooth_ms * 1e-3 * sr / hop_length)))
    # Powers are floored 120 dB below the clip's peak: a zero noise estimate (a bin the quiet
    # frames leave empty) would otherwise overflow the Wiener ratio into NaN, and exact zeros
    # would give -3000 dB levels whose spread puts the gating threshold above every cell.
    floor = max(power.max() * 1e-12, np.finfo(np.float64).tiny)
    if method == "wiener":
        noise = power[quiet].mean(axis=0) + floor
        smoothed = uniform_filter1d(power, smooth_frames, axis=0, mode="nearest")
        xi = np.maximum(smoothed / noise - 1.0, 10.0 ** (gain_floor_db / 10.0))
        gain = np.maximum(xi / (1.0 + xi), 10.0 ** (gain_floor_db / 20.0))
    else:
        level = 10.0 * np.log10(power + floor)
        noise_level = level[quiet]
        threshold = noise_level.mean(axis=0) + n_std_thresh * noise_level.std(axis=0)
        mask = (level > threshold).astype(np.float64)
        mask = uniform_filter1d(mask, smooth_frames, axis=0, mode="nearest")
        mask = uniform_filter1d(mask, 3, axis=1, mode="nearest")  # +-1 bin
        gain = mask * prop_decrease + (1.0 - prop_decrease)
    out = istft(spec * gain, n_fft=n_fft, hop_length=hop_length, length=len(x))
    return out.astype(np.asarray(y).dtype, copy=False)


class Denoiser(_ClipTransformer):
    """Reduce stationary background noise in each clip (Wiener filter or spectral gating).

    The noise spectrum of each clip is estimated from its own quietest frames (the pauses of
    speech), so the step is stateless: nothing is learned in ``fit`` and each clip is
    processed on its own.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate of the clips.
    method : {"gating", "wiener"}, default="gating"
        ``"gating"``: spectral gating as in the ``noisereduce`` package (stationary mode).
        ``"wiener"``: Wiener gain from a smoothed a-priori SNR estimate. Gating won the
        measurement in the module notes at 10 dB SNR and below, and is the default.
    n_fft : int, default=512
        STFT frame length in samples; must be a multiple of ``hop_length``.
    hop_length : int, default=128
        STFT hop in samples.
    quiet_fraction : float, default=0.1
        Fraction of each clip's lowest-energy frames used as its noise estimate.
    n_std_thresh : float, default=1.5
        Gating threshold in noise standard deviations (gating only).
    prop_decrease : float, default=1.0
        Proportion of the noise removed by gating, in [0, 1] (gating only).
    smooth_ms : float, default=40.0
        Length in milliseconds of the time smoothing of the power or the mask.
    gain_floor_db : float, default=-25.0
        Lowest Wiener gain in dB (wiener only).

    Attributes
    ----------
    None
        The step is stateless. ``n_features_in_`` is undefined: the input is waveforms,
        whose length is not a feature count.

    See Also
    --------
    denoise : The function applied to each clip.
    BandpassFilter : Remove hum and hiss outside the speech band.

    Notes
    -----
    Output clips have the length and dtype of the input clips. A clip with no quiet frames
    (speech from start to end, a steady tone) gets a noise estimate that contains signal and
    is attenuated more than it should be.

    References
    ----------
    .. [1] T. Sainburg, M. Thielk, T. Q. Gentner, "Finding, visualizing, and quantifying
       latent structure across diverse animal vocal repertoires", PLoS Comput. Biol., 2020
       (spectral gating, the noisereduce package).
    .. [2] Y. Ephraim, D. Malah, "Speech enhancement using a minimum mean-square error
       short-time spectral amplitude estimator", IEEE TASSP, 1984.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.preprocessing import Denoiser
    >>> sr = 16000
    >>> t = np.arange(sr) / sr
    >>> tone = np.where((t > 0.3) & (t < 0.7), 0.5 * np.sin(2 * np.pi * 440 * t), 0.0)
    >>> noisy = (tone + 0.05 * np.random.default_rng(0).standard_normal(sr)).astype("float32")
    >>> clean = Denoiser(sr=sr).fit_transform([noisy])
    >>> clean[0].shape, clean[0].dtype
    ((16000,), dtype('float32'))
    """

    _parameter_constraints = {
        "sr": [Interval(Integral, 1, None, closed="left")],
        "method": [StrOptions({"wiener", "gating"})],
        "n_fft": [Interval(Integral, 2, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "quiet_fraction": [Interval(Real, 0, 1, closed="right")],
        "n_std_thresh": [Interval(Real, 0, None, closed="left")],
        "prop_decrease": [Interval(Real, 0, 1, closed="both")],
        "smooth_ms": [Interval(Real, 0, None, closed="left")],
        "gain_floor_db": [Interval(Real, None, 0, closed="right")],
    }

    def __init__(
        self,
        *,
        sr=16000,
        method="gating",
        n_fft=512,
        hop_length=128,
        quiet_fraction=0.1,
        n_std_thresh=1.5,
        prop_decrease=1.0,
        smooth_ms=40.0,
        gain_floor_db=-25.0,
    ):
        self.sr = sr
        self.method = method
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.quiet_fraction = quiet_fraction
        self.n_std_thresh = n_std_thresh
        self.prop_decrease = prop_decrease
        self.smooth_ms = smooth_ms
        self.gain_floor_db = gain_floor_db

    def _check_parameters(self):
        if self.n_fft % self.hop_length:
            raise ValueError(
                f"Denoiser: n_fft ({self.n_fft}) must be a multiple of hop_length "
                f"({self.hop_length}) for the overlap-add resynthesis; e.g. "
                f"hop_length={self.n_fft // 4}."
            )

    def _process(self, clips):
        params = self.get_params()
        return [denoise(c, **params) for c in clips]
