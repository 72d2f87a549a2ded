"""Data augmentation for training only: the :class:`Augmenter`, :class:`NoiseAugmenter` and
:class:`SpeedPerturber` samplers and their audio effects.

All three (with :class:`NoiseAugmenter`) are imbalanced-learn samplers (``fit_resample``, no ``transform``), so in an
:class:`imblearn.pipeline.Pipeline` they change the training clips and are skipped at predict
time. The effects are plain keyword-only functions on one clip, also used by
:func:`sklearn_ser.model_selection.evaluate` to corrupt test clips (``test_snr``,
``test_gain``).
"""

from ._augmenter import Augmenter, augment_clip
from ._effects import (
    BABBLE_TALKERS,
    NOISE_COLORS,
    add_noise,
    apply_gain,
    change_speed,
    colored_noise,
    echo,
    make_babble,
    pitch_shift,
    reverberate,
    room_impulse_response,
)
from ._noise import NoiseAugmenter, source_speakers
from ._speed import SpeedPerturber

__all__ = [
    "BABBLE_TALKERS",
    "NOISE_COLORS",
    "Augmenter",
    "NoiseAugmenter",
    "SpeedPerturber",
    "add_noise",
    "apply_gain",
    "augment_clip",
    "change_speed",
    "colored_noise",
    "echo",
    "make_babble",
    "pitch_shift",
    "reverberate",
    "room_impulse_response",
    "source_speakers",
]
