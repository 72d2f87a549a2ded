"""Which frames of a clip hold speech: the voice-activity mask that pooling uses.

The functionals of a clip should describe its speech, not the silence or padding around it:
a clip padded with zeros (``FixedDuration``), a recording with long pauses and the same
utterance cut tight must give nearly the same features. Every pooled extractor therefore
pools over the frames this module marks as speech.

The rule works on the energy of 10 ms blocks of the clip, in dB. Blocks of exact digital silence (zero energy) are never speech. Of the others, a block
is speech when its energy is within ``DYNAMIC_RANGE_DB`` (40 dB) of the clip's loudest block:
the usual relative floor of energy-based voice detection (librosa's ``effects.split`` takes
60 dB below the peak as silence; 40 dB keeps the quiet tails of voiced sounds and drops the
pauses of a studio recording). The threshold is relative to the clip itself, so a clip's mask
does not change with its gain, and whether its silence is exact zeros or a faint noise makes
no difference. It is a principle, not a value fitted to a corpus. A floor estimated from the
clip's quietest blocks (to drop noise-only pauses in noisy recordings) was tried and left
out: a clip without pauses has no such blocks, and its mask then changed with the kind of
padding around it. Noise is met by training on noisy copies instead (the pipelines'
``noise_augmentation``).

A clip with fewer than ``MIN_SPEECH_BLOCKS`` speech blocks falls back to all its non-silent
blocks, and a clip without any (all zeros) to all its blocks: its features are then those of
the whole clip, as without a mask (silent clips are warned about by the extractors).

The mask is computed once per clip from the clip alone; inside an ``ExtractorUnion`` share it
is computed once and read by every extractor (see ``_engine.sharing``).
Extractors map it onto their own frames by the time of each frame's centre.
"""

import numpy as np

from ._engine import shared
from ._framing import row_dot, segment_starts

#: Block length of the activity analysis, in seconds.
BLOCK_SECONDS = 0.01
#: Speech blocks a clip needs to be pooled over its speech alone (three blocks).
MIN_SPEECH_BLOCKS = 3
DYNAMIC_RANGE_DB = 40.0


def block_length(sr):
    """Samples per activity block at rate ``sr`` (10 ms, at least one sample)."""
    return max(1, int(round(sr * BLOCK_SECONDS)))


def speech_blocks(clip, *, sr):
    """Boolean speech flag of each 10 ms block of ``clip`` (see the module docstring).

    Parameters
    ----------
    clip : ndarray of shape (n_samples,)
        A finite mono clip.
    sr : int
        Its sample rate.

    Returns
    -------
    ndarray of shape (ceil(n_samples / block),), bool
        True where the block holds speech; a clip without enough speech falls back to its
        non-silent blocks, then to all of them.
    """
    # Each block by its own energy, unsmoothed: a smoothed level lent speech to the faint
    # blocks beside it, so that a frame of padding counted as speech when the padding held
    # a trace of noise and not when it held exact zeros.
    energy = _block_energy(clip, sr)
    n_blocks = len(energy)
    audible = energy > 0.0
    if not audible.any():
        return np.ones(n_blocks, dtype=bool)
    level = np.full(n_blocks, -np.inf)
    level[audible] = 10.0 * np.log10(energy[audible])
    speech = level >= level[audible].max() - DYNAMIC_RANGE_DB
    if np.count_nonzero(speech) < MIN_SPEECH_BLOCKS:
        return audible
    return speech


def audible_blocks(clip, *, sr):
    """True for each 10 ms block of ``clip`` that is not exact digital silence.

    Digital silence (every sample exactly zero) is what padding, an editor's gap or a
    stream's dropout leaves; a recording's quietest stretch still holds its noise floor.
    A clip of zeros only keeps all its blocks.
    """
    audible = _block_energy(clip, sr) > 0.0
    return audible if audible.any() else np.ones(len(audible), dtype=bool)


def _block_energy(clip, sr):
    """Energy of each 10 ms block of ``clip`` (the last one zero-padded)."""
    block = block_length(sr)
    n_blocks = max(1, -(-len(clip) // block))
    padded = np.zeros(n_blocks * block)
    padded[: len(clip)] = clip
    rows = padded.reshape(n_blocks, block)
    return row_dot(rows, rows)


def _shared_speech_blocks(clip, sr):
    """:func:`speech_blocks`, computed once per clip inside a sharing scope."""
    return shared(("speech_blocks", len(clip), sr), [clip], lambda: speech_blocks(clip, sr=sr))


def speech_frame_mask(clips, counts, *, sr, hop_length):
    """Speech flag of every stacked frame of ``clips`` (frame ``i`` centred at ``i * hop``).

    Parameters
    ----------
    clips : list of ndarray
        The clips whose frames are stacked.
    counts : ndarray of shape (n_clips,)
        Frames per clip.
    sr : int
        Sample rate of the clips.
    hop_length : int
        Samples between frame centres.

    Returns
    -------
    ndarray of shape (counts.sum(),), bool
        Every clip keeps at least one frame.
    """
    return _frame_mask(clips, counts, sr, hop_length, _shared_speech_blocks)


def audible_frame_mask(clips, counts, *, sr, hop_length):
    """Flag of every stacked frame of ``clips`` whose centre lies outside digital silence
    (:func:`audible_blocks`), as :func:`speech_frame_mask` maps its blocks."""
    return _frame_mask(clips, counts, sr, hop_length, audible_blocks)


def _frame_mask(clips, counts, sr, hop_length, block_flags):
    """Each frame's flag: that of the block holding its centre (``block_flags(clip,
    sr=sr)``); a clip none of whose frames is flagged keeps them all."""
    block = block_length(sr)
    masks = []
    for clip, count in zip(clips, counts):
        flags = block_flags(clip, sr=sr)
        centre_block = np.minimum(np.arange(count) * hop_length // block, len(flags) - 1)
        mask = flags[centre_block]
        if not mask.any():  # frames too sparse to meet a flagged block: keep them all
            mask = np.ones(count, dtype=bool)
        masks.append(mask)
    return np.concatenate(masks) if masks else np.zeros(0, dtype=bool)


def select_frames(features, counts, mask):
    """The frames of ``features`` where ``mask`` holds, and the new frames per clip."""
    clip_of_frame = np.repeat(np.arange(len(counts)), counts)
    kept = np.bincount(clip_of_frame[mask], minlength=len(counts)).astype(np.int64)
    return features[mask], kept


def speech_span_mask(mask, counts):
    """Each clip's frames from its first to its last True frame of ``mask`` (all of them
    where it has none): the silence before and after the speech goes, the pauses inside it
    stay."""
    out = np.ones(len(mask), dtype=bool)
    for start, count in zip(segment_starts(counts), counts):
        index = np.flatnonzero(mask[start : start + count])
        if len(index):
            out[start : start + index[0]] = False
            out[start + index[-1] + 1 : start + count] = False
    return out
