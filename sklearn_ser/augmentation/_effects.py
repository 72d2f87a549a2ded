"""Audio effects used for augmentation and for noisy test conditions.

Each is a keyword-only function on one clip that returns a new float array; randomness comes
only from an explicit ``random_state``.
"""

import numpy as np
import scipy.fft
import scipy.signal
from sklearn.utils import check_random_state

#: Noise colours the :class:`Augmenter` draws from by default. Brown is left out so that its
#: default draws, and the copies a seed gives, stay as they were.
NOISE_COLORS = ("white", "pink")

#: Every colour :func:`colored_noise` and :func:`add_noise` make.
_ALL_COLORS = ("white", "pink", "brown")


def _rng(random_state):
    """A numpy Generator from an int, a Generator, a RandomState or None."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, (int, np.integer)) or random_state is None:
        return np.random.default_rng(random_state)
    return np.random.default_rng(check_random_state(random_state).randint(2**31 - 1))


def colored_noise(n_samples, *, color="white", random_state=None):
    """Gaussian noise with a flat (white), 1/f (pink) or 1/f^2 (brown) power spectrum.

    Pink noise falls by 3 dB per octave, brown (Brownian, red) noise by 6 dB per octave; both
    have no DC component. The result has unit variance.

    Parameters
    ----------
    n_samples : int
        Length.
    color : {"white", "pink", "brown"}, default="white"
        Spectrum shape.
    random_state : int, Generator, RandomState or None, default=None
        Seed.

    Returns
    -------
    ndarray of shape (n_samples,), float64
    """
    if color not in _ALL_COLORS:
        raise ValueError(f"Unknown noise color {color!r}; choose from {_ALL_COLORS}.")
    rng = _rng(random_state)
    white = rng.standard_normal(n_samples)
    if color == "white" or n_samples < 4:
        noise = white
    else:
        spec = scipy.fft.rfft(white)
        freqs = np.arange(len(spec), dtype=np.float64)
        freqs[0] = 1.0  # keep the DC bin finite; it is zeroed below
        # Power as 1/f (pink) or 1/f**2 (brown): amplitudes divided by sqrt(f) or f.
        spec /= freqs if color == "brown" else np.sqrt(freqs)
        spec[0] = 0.0
        noise = scipy.fft.irfft(spec, n=n_samples)
    std = noise.std()
    return noise / std if std > 0 else noise


def _excerpt(recording, n, rng):
    """``n`` samples of ``recording`` from a random start, looped when it is too short."""
    reps = int(np.ceil((n + len(recording)) / len(recording)))
    start = int(rng.integers(0, len(recording)))
    return np.tile(recording, reps)[start : start + n]


#: Talkers mixed into one babble noise (training copies and evaluate's test conditions).
BABBLE_TALKERS = 5


def babble_talkers(groups, i, rng, n_talkers=BABBLE_TALKERS):
    """Indices of the clips whose voices make the babble added to clip ``i``.

    Drawn without replacement among the clips of other groups (speakers) than clip ``i``'s,
    or among the other clips when every clip shares its group: a clip never hears itself,
    and, given speakers, never its own speaker. ``groups`` has one entry per clip; pass
    ``np.arange(n_clips)`` when there are no speakers.
    """
    groups = np.asarray(groups)
    others = np.flatnonzero(groups != groups[i])
    if len(others) == 0:
        others = np.delete(np.arange(len(groups)), i)
    if len(others) == 0:
        raise ValueError("babble noise needs at least two training clips.")
    return rng.choice(others, size=min(n_talkers, len(others)), replace=False)


def make_babble(sources, length, *, n_talkers=5, random_state=None):
    """Babble noise: several talkers at once, mixed from clips of speech.

    Each of ``n_talkers`` randomly chosen source clips is scaled to unit RMS (so every talker
    is equally loud), cut from a random start to ``length`` samples (looped when shorter) and
    the talkers are summed. Pass clips of speakers other than the one the babble will be added
    to: in :func:`sklearn_ser.model_selection.evaluate` the sources are the training clips of
    the fold.

    Parameters
    ----------
    sources : sequence of ndarray of shape (n_samples_i,)
        Mono speech clips at the sample rate of the clips the babble is for. Silent clips are
        never chosen.
    length : int
        Length of the babble in samples.
    n_talkers : int, default=5
        Number of talkers summed. They are distinct clips when there are enough non-silent
        sources, otherwise clips are drawn again (at other starts).
    random_state : int, Generator, RandomState or None, default=None
        Seed of the choice of clips and of their starts.

    Returns
    -------
    ndarray of shape (length,), float64
        The babble, scaled to unit RMS (``add_noise`` rescales it to the SNR anyway).

    Raises
    ------
    ValueError
        When ``n_talkers`` < 1, ``length`` < 1, or every source is silent or empty.

    See Also
    --------
    add_noise : mix the babble into a clip at an SNR (``noise=babble``).
    """
    n_talkers, length = int(n_talkers), int(length)
    if n_talkers < 1:
        raise ValueError(f"make_babble: n_talkers must be at least 1; got {n_talkers!r}.")
    if length < 1:
        raise ValueError(f"make_babble: length must be at least 1; got {length!r}.")
    rng = _rng(random_state)
    # Walk a random order and keep the first non-silent clips, so that only the chosen clips
    # are read: evaluate calls this once per test clip with every training clip as a source.
    talkers = []
    for i in rng.permutation(len(sources)):
        clip = np.asarray(sources[i], dtype=np.float64).ravel()
        rms = np.sqrt(np.mean(clip**2)) if clip.size else 0.0
        if rms > 0:
            talkers.append(clip / rms)
            if len(talkers) == n_talkers:
                break
    if not talkers:
        raise ValueError("make_babble: needs at least one non-silent source clip.")
    # Fewer non-silent clips than talkers: the same clips speak again, at other starts.
    extra = rng.integers(0, len(talkers), size=n_talkers - len(talkers))
    talkers += [talkers[i] for i in extra]
    babble = np.zeros(length)
    for clip in talkers:
        babble += _excerpt(clip, length, rng)
    level = np.sqrt(np.mean(babble**2))
    # Talkers can cancel out only in contrived cases (a clip and its negation); keep them.
    return babble / level if level > 0 else babble


def add_noise(y, *, snr, noise="white", random_state=None):
    """Add noise to one clip at a given signal-to-noise ratio.

    The SNR is the ratio, in dB, of the mean power of ``y`` over the whole clip to the mean
    power of the added noise, so ``10 * log10(sum(y**2) / sum(noise**2)) == snr`` exactly.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Mono clip.
    snr : float
        Signal-to-noise ratio in dB.
    noise : {"white", "pink", "brown"} or ndarray of shape (n_noise,), default="white"
        A colour (see :func:`colored_noise`), or a noise signal such as a recording or the
        babble of :func:`make_babble`: a random excerpt of it is used, tiled when it is
        shorter than the clip.
    random_state : int, Generator, RandomState or None, default=None
        Seed of the noise (or of the excerpt position).

    Returns
    -------
    ndarray of shape (n_samples,), float64
        ``y`` plus the scaled noise. A silent clip is returned unchanged (its SNR is
        undefined).
    """
    x = np.asarray(y, dtype=np.float64)
    n = len(x)
    rng = _rng(random_state)
    if isinstance(noise, str):
        raw = colored_noise(n, color=noise, random_state=rng)
    else:
        recording = np.asarray(noise, dtype=np.float64).ravel()
        if recording.size == 0:
            raise ValueError("add_noise: the noise recording is empty.")
        raw = _excerpt(recording, n, rng)
    signal_power = np.mean(x**2)
    noise_power = np.mean(raw**2)
    if signal_power == 0 or noise_power == 0:
        return x.copy()
    scale = np.sqrt(signal_power / (noise_power * 10.0 ** (snr / 10.0)))
    return x + scale * raw


def room_impulse_response(*, sr=16000, rt60=0.5, drr_db=3.0, random_state=None):
    """A synthetic room impulse response: a direct path plus an exponentially decaying tail.

    The tail is Gaussian noise under an envelope that falls by 60 dB in ``rt60`` seconds
    (Polack's statistical model of late reverberation), starting 2.5 ms after the direct
    path; its energy is ``drr_db`` below the direct path's.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate.
    rt60 : float, default=0.5
        Reverberation time in seconds.
    drr_db : float, default=3.0
        Direct-to-reverberant energy ratio in dB.
    random_state : int, Generator, RandomState or None, default=None
        Seed of the tail.

    Returns
    -------
    ndarray of shape (n_taps,), float64
        ``h[0] == 1`` (the direct path).
    """
    rng = _rng(random_state)
    n_taps = max(2, int(round(rt60 * sr)))
    t = np.arange(n_taps) / sr
    tail = rng.standard_normal(n_taps) * np.exp(-np.log(1000.0) * t / rt60)
    tail[: max(1, int(0.0025 * sr))] = 0.0
    energy = np.sum(tail**2)
    if energy > 0:
        tail *= np.sqrt(10.0 ** (-drr_db / 10.0) / energy)
    tail[0] = 1.0
    return tail


def reverberate(y, *, sr=16000, rt60=0.5, drr_db=3.0, random_state=None):
    """Convolve one clip with a synthetic room response, keeping its length and RMS.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Mono clip.
    sr : int, default=16000
        Sample rate.
    rt60 : float, default=0.5
        Reverberation time in seconds.
    drr_db : float, default=3.0
        Direct-to-reverberant ratio in dB.
    random_state : int, Generator, RandomState or None, default=None
        Seed of the room response.

    Returns
    -------
    ndarray of shape (n_samples,), float64
    """
    x = np.asarray(y, dtype=np.float64)
    h = room_impulse_response(sr=sr, rt60=rt60, drr_db=drr_db, random_state=random_state)
    wet = scipy.signal.fftconvolve(x, h)[: len(x)]
    rms_in, rms_out = np.sqrt(np.mean(x**2)), np.sqrt(np.mean(wet**2))
    return wet * (rms_in / rms_out) if rms_out > 0 else wet


def echo(y, *, sr=16000, delay=0.25, decay=0.5):
    """Add a delay-and-decay echo to one clip, keeping its length and RMS.

    The clip comes back every ``delay`` seconds, each repetition ``decay`` times the one
    before (a feedback delay line, as an echo between two distant walls), until the clip's
    end; the tail past the end is cut, as :func:`reverberate` cuts its own. The sum is
    rescaled to the clip's RMS, so that the echo changes the sound and not the level.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Mono clip.
    sr : int, default=16000
        Sample rate.
    delay : float, default=0.25
        Seconds between repetitions (rounded to whole samples, at least one).
    decay : float, default=0.5
        Amplitude of each repetition relative to the one before, in [0, 1).

    Returns
    -------
    ndarray of shape (n_samples,), float64

    Raises
    ------
    ValueError
        When ``delay`` is not positive or ``decay`` lies outside [0, 1).

    See Also
    --------
    reverberate : the dense, diffuse reflections of a room instead of distinct repetitions.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.augmentation import echo
    >>> click = np.zeros(8); click[0] = 1.0
    >>> wet = echo(click, sr=4, delay=0.5, decay=0.5)     # a repetition every 2 samples
    >>> np.round(wet / wet[0], 3).tolist()
    [1.0, 0.0, 0.5, 0.0, 0.25, 0.0, 0.125, 0.0]
    """
    if not delay > 0:
        raise ValueError(f"echo: delay must be > 0 seconds; got {delay!r}.")
    if not 0 <= decay < 1:
        raise ValueError(f"echo: decay must lie in [0, 1) (each repetition quieter than the "
                         f"one before); got {decay!r}.")
    x = np.asarray(y, dtype=np.float64)
    step = max(1, int(round(delay * sr)))
    wet = x.copy()
    gain, lag = decay, step
    # Repetitions fainter than -80 dB change nothing audible; stop there or at the clip's end.
    while lag < len(x) and gain > 1e-4:
        wet[lag:] += gain * x[: len(x) - lag]
        gain, lag = gain * decay, lag + step
    rms_in, rms_out = np.sqrt(np.mean(x**2)), np.sqrt(np.mean(wet**2))
    return wet * (rms_in / rms_out) if rms_out > 0 else wet


def change_speed(y, *, sr=16000, rate=1.0):
    """Play one clip ``rate`` times faster, like a tape: duration / rate, pitch * rate.

    Resampling with soxr (band-limited), so the length becomes ``ceil(n_samples / rate)``.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Mono clip.
    sr : int, default=16000
        Sample rate.
    rate : float, default=1.0
        Speed factor; > 1 is faster and shorter.

    Returns
    -------
    ndarray of shape (ceil(n_samples / rate),), float64
    """
    import librosa

    x = np.asarray(y, dtype=np.float64)
    if rate == 1.0 or len(x) < 2:
        return x.copy()
    return librosa.resample(x, orig_sr=sr * rate, target_sr=sr, res_type="soxr_hq")


def pitch_shift(y, *, sr=16000, n_steps=0.0):
    """Shift the pitch of one clip by ``n_steps`` semitones, keeping its duration.

    librosa's phase-vocoder time stretch followed by soxr resampling, with an STFT size
    suited to the clip (clips under 32 samples are returned unchanged).

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Mono clip.
    sr : int, default=16000
        Sample rate.
    n_steps : float, default=0.0
        Semitones; positive is higher.

    Returns
    -------
    ndarray of shape (n_samples,), float64
    """
    import librosa

    x = np.asarray(y, dtype=np.float64)
    if n_steps == 0 or len(x) < 32:
        return x.copy()
    n_fft = int(min(1024, 2 ** np.floor(np.log2(len(x)))))
    try:
        return librosa.effects.pitch_shift(
            x, sr=sr, n_steps=float(n_steps), res_type="soxr_hq", n_fft=n_fft,
            hop_length=n_fft // 4,
        )
    except librosa.ParameterError as exc:  # never let librosa's error type escape
        raise ValueError(f"pitch_shift failed on a clip of {len(x)} samples: {exc}") from exc


def apply_gain(y, *, gain_db=0.0):
    """Scale one clip by ``gain_db`` decibels; returns float64."""
    return np.asarray(y, dtype=np.float64) * 10.0 ** (gain_db / 20.0)
