"""Personalisation of fitted recognisers: speaker enrolment, profile files, few-shot adaptation.

A speaker-normalised recogniser standardises each speaker by their own statistics. These
functions give a fitted one those statistics for a new speaker ahead of time (enrolment from a
few unlabelled clips), move them between machines (profile files), and adapt the recogniser's
classifier to a speaker from a few labelled clips. The statistics themselves live in
:class:`~sklearn_ser.features.SpeakerNormalizer` (``profiles_``); this module finds every
normaliser of a pipeline (fusions included) and feeds it the features that reach it.
"""

import copy
import hashlib
import inspect
import io
import json
import math
import warnings
import zipfile

import numpy as np
from sklearn import config_context
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from .._validation import check_clips
from ..exceptions import SklearnSerWarning
from ..features import catch_out_of_range, find_speaker_normalizers, flagged_mask

__all__ = ["adapt_to_speaker", "enroll_speaker", "load_profiles", "save_profiles"]

#: Enrolment clips quieter than this RMS level (dB re full scale) are treated as silent.
SILENT_CLIP_DB = -60.0

_PROFILE_FORMAT = "sklearn_ser-speaker-profiles"
_PROFILE_VERSION = 1


def _sites(pipeline):
    """The pipeline's speaker normalisers; an error when it has none."""
    check_is_fitted(pipeline)
    sites = find_speaker_normalizers(pipeline)
    if not sites:
        raise ValueError(
            f"{type(pipeline).__name__} has no SpeakerNormalizer step, so it has no speaker "
            "profiles: build it with speaker normalisation (make_classic_pipeline(..., "
            "speaker_norm=True), or a '-sn' model name) and fit it again.")
    return sites


def _rows(Z):
    """The rows a normaliser sees: pooled features as they are, or the real frames."""
    Z = np.asarray(Z)
    if Z.ndim == 3:
        return Z[~np.isnan(Z).all(axis=2)]
    return Z


def _level_db(clip):
    power = float(np.mean(np.square(clip, dtype=np.float64))) if len(clip) else 0.0
    return 10.0 * math.log10(power) if power > 0 else -math.inf


def _usable_clips(clips, speaker, min_level_db):
    """Indices of the clips that are not silent; the silent ones are warned about."""
    if min_level_db is None:
        return list(range(len(clips)))
    silent = [i for i, clip in enumerate(clips) if _level_db(clip) < min_level_db]
    if silent:
        warnings.warn(
            f"Speaker {str(speaker)!r}: enrolment clip(s) {silent[:20]} are silent (below "
            f"{min_level_db} dB re full scale) and were left out of the profile.",
            SklearnSerWarning, stacklevel=3)
    return [i for i in range(len(clips)) if i not in set(silent)]


def enroll_speaker(pipeline, speaker, clips, *, update=False, min_level_db=SILENT_CLIP_DB):
    """Enrol a speaker in a fitted speaker-normalised recogniser from unlabelled clips.

    Each clip runs through the steps before every speaker normaliser of the pipeline
    (features, range guard), and the normaliser stores the speaker's profile: the clip
    count, mean and spread of those features (:meth:`SpeakerNormalizer.enroll
    <sklearn_ser.features.SpeakerNormalizer.enroll>`). From then on
    ``pipeline.predict(clips, groups=[speaker, ...])`` (metadata routing on) standardises the
    speaker's clips by that profile, one clip at a time if need be, and so does
    :class:`~sklearn_ser.streaming.StreamingRecognizer` with ``speaker=``. The profiles are
    saved with the model (:func:`~sklearn_ser.io.save_model`) and can be written to a file of
    their own (:func:`save_profiles`).

    Parameters
    ----------
    pipeline : fitted Pipeline
        A recogniser with one or more :class:`~sklearn_ser.features.SpeakerNormalizer`
        steps (``-sn`` models, their fusions, ``FrameWise(SpeakerNormalizer())``). It is
        changed in place.
    speaker : str or int
        The speaker's id, as ``groups`` will give it at predict time.
    clips : list of ndarray
        The speaker's enrolment clips, or whatever the pipeline's first step takes (pass
        ``min_level_db=None`` for input that is not audio).
    update : bool, default=False
        Merge the clips into the speaker's existing profile (running statistics) instead of
        replacing it.
    min_level_db : float or None, default=-60.0
        Clips quieter than this RMS level are silent: they are left out with a warning
        naming the speaker and the clips. None checks no level.

    Returns
    -------
    pipeline : the same object, enrolled

    Raises
    ------
    ValueError
        Fewer usable clips than a profile needs (``SpeakerNormalizer.min_enrol_clips``, at
        least 2), naming the speaker; or a pipeline without a speaker normaliser.

    Notes
    -----
    Clips whose features the pipeline's range guard finds far outside the training range
    (a broken file, a wild level) are left out too, with a warning: they would drag the
    profile away from the speaker's voice.
    """
    sites = _sites(pipeline)
    if min_level_db is not None:
        clips = check_clips(clips)
    kept = _usable_clips(clips, speaker, min_level_db)
    needed = max(site[2].min_enrol_clips for site in sites)
    have = len(kept) + (min(site[2].profiles_.get(str(speaker), {}).get("n_clips", 0)
                            for site in sites) if update else 0)
    if have < needed or not kept:
        raise ValueError(
            f"Speaker {str(speaker)!r}: {len(kept)} usable enrolment clip(s) of {len(clips)}"
            f"{' (the others are silent)' if len(kept) < len(clips) else ''}; a profile needs "
            f"at least {needed}. Enrol more clips of this speaker with speech in them.")
    features = [_features_before(owner, index, _subset(clips, kept)) for owner, index, _ in sites]
    flagged = np.zeros(len(kept), dtype=bool)
    for _, far in features:
        flagged |= far
    if flagged.any():
        warnings.warn(
            f"Speaker {str(speaker)!r}: enrolment clip(s) "
            f"{[kept[i] for i in np.flatnonzero(flagged)][:20]} have features far outside the "
            "training range (the model's range guard) and were left out of the profile.",
            SklearnSerWarning, stacklevel=2)
    for (_, _, normalizer), (Z, _) in zip(sites, features):
        rows = np.asarray(Z)[~flagged]
        if rows.shape[0] + (have - len(kept)) < needed:
            raise ValueError(
                f"Speaker {str(speaker)!r}: only {rows.shape[0]} enrolment clip(s) are usable "
                f"(silent or far-out ones left out); a profile needs at least {needed}.")
        normalizer.enroll(_rows(rows), speaker, update=update)
    return pipeline


def _subset(clips, indices):
    if isinstance(clips, np.ndarray):
        return clips[indices]
    return [clips[i] for i in indices]


def _features_before(owner, index, clips):
    """Input of ``owner.steps[index]`` for the clips, and which clips the guard flags."""
    if index == 0:
        return np.asarray(clips), np.zeros(len(clips), dtype=bool)
    with catch_out_of_range() as caught:
        Z = owner[:index].transform(clips)
    return Z, flagged_mask(caught, len(clips))


# -- profile files -------------------------------------------------------------------------


def _fingerprint(pipeline):
    """What each normaliser's features are: their names (where known) and count."""
    sites = []
    for owner, index, normalizer in _sites(pipeline):
        names = None
        if index > 0:
            try:
                names = [str(n) for n in owner[:index].get_feature_names_out()]
            except (AttributeError, ValueError, TypeError):
                names = None
        sites.append({"n_features": int(normalizer.n_features_in_), "names": names})
    digest = hashlib.sha256(json.dumps(sites, sort_keys=True).encode()).hexdigest()
    return {"sha256": digest, "n_features": [s["n_features"] for s in sites]}


def save_profiles(pipeline, path, *, speakers=None):
    """Write the pipeline's speaker profiles to a file of their own (no pickle).

    The file is a zip archive holding ``profiles.json`` (format, the model's feature
    fingerprint, each speaker's clip counts) and ``arrays.npz`` (each profile's mean and sum
    of squared deviations per normaliser). :func:`load_profiles` refuses it for a model whose
    features differ.

    Parameters
    ----------
    pipeline : fitted Pipeline
        An enrolled speaker-normalised recogniser.
    path : str or os.PathLike
        File to write (``.sprof`` by convention).
    speakers : list or None, default=None
        The speakers to write; None writes every one enrolled in all its normalisers.

    Returns
    -------
    speakers : list of str
        The speakers written.
    """
    sites = _sites(pipeline)
    enrolled = [set(n.profiles_) for _, _, n in sites]
    common = sorted(set.intersection(*enrolled))
    chosen = common if speakers is None else [str(s) for s in speakers]
    missing = [s for s in chosen if s not in common]
    if missing or not chosen:
        raise ValueError(f"No profile to write for speaker(s) {missing or chosen}; enrolled in "
                         f"every normaliser: {common[:20]}. Enrol them with enroll_speaker.")
    arrays, counts = {}, {}
    for s, speaker in enumerate(chosen):
        counts[speaker] = []
        for i, (_, _, normalizer) in enumerate(sites):
            profile = normalizer.profiles_[speaker]
            arrays[f"s{s}_n{i}_mean"] = np.asarray(profile["mean"], dtype=np.float64)
            arrays[f"s{s}_n{i}_m2"] = np.asarray(profile["m2"], dtype=np.float64)
            counts[speaker].append(int(profile["n_clips"]))
    meta = {"format": _PROFILE_FORMAT, "version": _PROFILE_VERSION,
            "fingerprint": _fingerprint(pipeline), "speakers": chosen, "n_clips": counts}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("profiles.json", json.dumps(meta, indent=2))
        archive.writestr("arrays.npz", buffer.getvalue())
    return chosen


def load_profiles(pipeline, path, *, speakers=None, update=False):
    """Read speaker profiles written by :func:`save_profiles` into a fitted pipeline.

    Parameters
    ----------
    pipeline : fitted Pipeline
        The speaker-normalised recogniser to enrol them in (changed in place). Its features
        must be those of the model the profiles were made with.
    path : str or os.PathLike
        A profile file.
    speakers : list or None, default=None
        The speakers to read; None reads every one in the file.
    update : bool, default=False
        Merge each profile into the speaker's existing one instead of replacing it.

    Returns
    -------
    speakers : list of str
        The speakers read.

    Raises
    ------
    ValueError
        The file is not a profile file, or was made for a model with other features (the
        message gives both fingerprints); or a requested speaker is not in it.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            meta = json.loads(archive.read("profiles.json"))
            with np.load(io.BytesIO(archive.read("arrays.npz")), allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ValueError(f"{path!s} is not a speaker profile file (written by "
                         f"save_profiles): {exc}") from exc
    if meta.get("format") != _PROFILE_FORMAT or meta.get("version") != _PROFILE_VERSION:
        raise ValueError(f"{path!s} is not a version-{_PROFILE_VERSION} speaker profile file "
                         f"(format {meta.get('format')!r}, version {meta.get('version')!r}).")
    sites = _sites(pipeline)
    ours, theirs = _fingerprint(pipeline), meta["fingerprint"]
    if ours["sha256"] != theirs["sha256"]:
        raise ValueError(
            f"The profiles in {path!s} were made with a model of other features "
            f"({theirs['n_features']} features per normaliser, fingerprint "
            f"{theirs['sha256'][:12]}) than this one ({ours['n_features']}, "
            f"{ours['sha256'][:12]}); they would standardise the wrong numbers. Enrol the "
            "speakers again with this model (enroll_speaker).")
    chosen = meta["speakers"] if speakers is None else [str(s) for s in speakers]
    missing = [s for s in chosen if s not in meta["speakers"]]
    if missing:
        raise ValueError(f"Speaker(s) {missing} are not in {path!s}; it holds "
                         f"{meta['speakers'][:20]}.")
    for speaker in chosen:
        s = meta["speakers"].index(speaker)
        for i, (_, _, normalizer) in enumerate(sites):
            profile = {"n_clips": int(meta["n_clips"][speaker][i]),
                       "mean": arrays[f"s{s}_n{i}_mean"], "m2": arrays[f"s{s}_n{i}_m2"]}
            old = normalizer.profiles_.get(speaker) if update else None
            normalizer.profiles_[speaker] = _combine(old, profile)
    return chosen


def _combine(a, b):
    """Two profiles as one (exact merge of their running statistics)."""
    if not a:
        return b
    n = a["n_clips"] + b["n_clips"]
    delta = b["mean"] - a["mean"]
    return {"n_clips": n, "mean": a["mean"] + delta * (b["n_clips"] / n),
            "m2": a["m2"] + b["m2"] + delta**2 * (a["n_clips"] * b["n_clips"] / n)}


# -- few-shot labelled adaptation ----------------------------------------------------------


def adapt_to_speaker(pipeline, clips, labels, *, speaker, X_train, y_train, groups_train,
                     weight=None, min_level_db=SILENT_CLIP_DB):
    """Adapt a fitted speaker-normalised recogniser to one speaker from a few labelled clips.

    Nothing is refitted on the new clips except the classifier: the speaker is enrolled from
    the clips (:func:`enroll_speaker`, labels unused), and a copy of the final estimator is
    fitted again on the training clips plus the new ones, each new clip weighted by
    ``weight``. The feature extractors, the scaler and any reducer keep their fitted state,
    so a handful of clips cannot skew them.

    The training data must be given again (this function keeps nothing from ``fit``): the
    training clips (or whatever the pipeline took), their labels and speakers. Their
    classifier inputs are recomputed with each training speaker standardised by their own
    clips, as in ``fit``; training copies that samplers made in ``fit`` (noisy copies) are
    not made again, so the refitted classifier sees the clean training clips only.

    Parameters
    ----------
    pipeline : fitted Pipeline
        A recogniser with a :class:`~sklearn_ser.features.SpeakerNormalizer` step whose
        final estimator accepts ``sample_weight`` (the SVC, logistic regression and forests
        of :func:`make_classic_pipeline`). It is not changed.
    clips : list of ndarray
        The speaker's labelled clips.
    labels : array-like of shape (n_clips,)
    speaker : str or int
        The speaker's id, as ``groups`` will give it at predict time.
    X_train, y_train, groups_train
        The data the pipeline was fitted on: clips, labels, speakers.
    weight : float or None, default=None
        Sample weight of each new clip (training clips weigh 1). None: the new speaker
        weighs as much as an average training speaker (clips per training speaker divided
        by the new clips).
    min_level_db : float or None, default=-60.0
        Passed to :func:`enroll_speaker`.

    Returns
    -------
    adapted : Pipeline
        A new fitted pipeline with the speaker enrolled and the refitted classifier; predict
        its clips with ``groups=[speaker, ...]`` under metadata routing.
    """
    _sites(pipeline)
    if not hasattr(pipeline, "steps"):
        raise ValueError(f"adapt_to_speaker needs a Pipeline; got {type(pipeline).__name__}.")
    final = pipeline.steps[-1][1]
    if "sample_weight" not in inspect.signature(final.fit).parameters:
        raise ValueError(f"The final estimator {type(final).__name__} takes no sample_weight; "
                         "adapt_to_speaker weights the new clips. Use a classifier that does "
                         "(e.g. make_classic_pipeline('svm', speaker_norm=True)).")
    labels = np.asarray(labels)
    if len(labels) != len(clips):
        raise ValueError(f"Speaker {str(speaker)!r}: {len(clips)} clips but {len(labels)} "
                         "labels; give one label per clip.")
    adapted = enroll_speaker(copy.deepcopy(pipeline), speaker, clips,
                             min_level_db=min_level_db)
    head = adapted[:-1]
    with config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnSerWarning)
        Z_train = head.transform(X_train, groups=np.asarray(groups_train))
        Z_new = head.transform(clips, groups=np.full(len(clips), str(speaker), dtype=object))
    n_speakers = len(np.unique(groups_train))
    if weight is None:
        weight = len(y_train) / n_speakers / len(clips)
    sample_weight = np.r_[np.ones(len(y_train)), np.full(len(clips), float(weight))]
    refitted = clone(final).fit(np.vstack([Z_train, Z_new]),
                                np.r_[np.asarray(y_train), labels],
                                sample_weight=sample_weight)
    adapted.steps[-1] = (adapted.steps[-1][0], refitted)
    return adapted
