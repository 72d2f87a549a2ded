"""Personalisation on EmoDB or RAVDESS: speaker enrolment, adaptive streaming, few-shot adaptation.

Leave-one-speaker-out (``--dataset emodb``: 10 folds; ``ravdess``: 24) with svm-sn's pipeline (``make_named_pipeline("svm-sn")``). To keep it
affordable on a small machine, each clip's pooled features (the pipeline's ``features`` step)
are computed once and cached with joblib.Memory; the rest of the pipeline (guard, speaker
normaliser, scaler, SVC) is fitted per fold on them. No noisy training copies are made here
(the ``noise`` step is left out): this measures the normaliser's statistics, not robustness.

(a) enrolment: each test speaker enrolled from k unlabelled clips (k = 3, 5, 10; several
    random draws), those clips excluded from scoring; UAR against no normalisation (the
    training statistics) and full-speaker normalisation (all of the speaker's clips).
(b) streaming: each test speaker's clips joined with 1 s pauses and streamed through
    ``StreamingRecognizer`` (2 s windows, 0.5 s hop) with ``adapt=True`` against the training
    statistics; UAR of the speech windows after the warm-up (a window's label is the clip
    that covers most of it).
(c) few-shot: ``adapt_to_speaker`` with k = 2 labelled clips per class of the test speaker
    (enrolled from them, final SVC refitted on the training features plus them), UAR on the
    rest against the same pipeline without adaptation (training statistics) and against
    enrolment from the same clips without their labels.
(d) continuous streaming: as (b), with svr-sn's regressor of the arousal derived from each
    clip's category (``emotion_dimensions``) in place of the classifier; CCC and Pearson r of
    the speech windows after the warm-up (a window's target is that of the clip covering most
    of it), with ``adapt=True`` against the training statistics. Not in the default parts.
(e) where the enrolment error lies (k = 5): the enrolled profile's mean with the full
    speaker's scale, the full speaker's mean with the profile's scale, and the profile's mean
    with each enrolment clip's emotion offset removed (the class means of the training
    speakers' standardised features, scaled by the profile), by the true labels (an oracle)
    and by the labels the enrolled pipeline predicts. A diagnosis: the oracles see what no
    user has. Not in the default parts.
(f) training as users enrol (a screen, not a feature of the package): the SVC of each fold is
    refitted on the training speakers standardised by their own clips, as in ``svm-sn``,
    plus ``--jitter-copies`` R copies of them, each speaker's copy standardised by the
    profile of k of its clips drawn at random (k from 3, 5 and 10; the fold's fitted
    normaliser and its prior make the profile, as ``enroll`` does), so that the classifier
    learns the scatter a few clips' profile leaves. Scored as (a), each R on the same draws,
    and with full-speaker normalisation. Not in the default parts.

Usage::

    SKLEARN_SER_EMODB=/work/shared/data/emodb python benchmarks/bench_personalisation.py \
        --cache /tmp/sser-cache --output benchmarks/results/personalisation_emodb
    # (d), the regressor of derived arousal streamed, in its own report
    python benchmarks/bench_personalisation.py --parts d \
        --output benchmarks/results/personalisation_emodb_stream_arousal
    # (e), the diagnosis of the enrolment error, printed and written as JSON
    python benchmarks/bench_personalisation.py --parts e --output /tmp/enrol_diagnosis
    # (f), training on copies standardised by few-clip profiles
    python benchmarks/bench_personalisation.py --parts f --jitter-copies 0,2,6 \
        --output /tmp/enrol_jitter
    # the enrolment part on RAVDESS with another profile_prior
    python benchmarks/bench_personalisation.py --dataset ravdess --data-dir DIR --parts a \
        --prior 2 --output /tmp/personal_ravdess_prior2
"""

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
from joblib import Memory

from sklearn_ser.datasets import load_emodb, load_ravdess
from sklearn_ser.metrics import unweighted_average_recall
from sklearn_ser.pipelines import make_named_pipeline

KS = (3, 5, 10)
N_DRAWS = 5
WINDOW, HOP, PAUSE = 2.0, 0.5, 1.0


def split_pipeline(name="svm-sn"):
    """The feature step of model ``name``, and the rest of its steps (guard onwards) as a
    Pipeline (svm-sn and svr-sn share the feature step, so the cached features serve both)."""
    from sklearn.pipeline import Pipeline

    pipe = make_named_pipeline(name, random_state=0)
    names = [n for n, _ in pipe.steps]
    at = names.index("features")
    return pipe.steps[at][1], Pipeline(pipe.steps[at + 1:])


def clip_features(clips):
    features, _ = split_pipeline()
    return features.fit(clips[:2]).transform(clips)


def load(cache, dataset="emodb", data_dir=None):
    loader = {"emodb": load_emodb, "ravdess": load_ravdess}[dataset]
    bunch = loader(data_dir, return_clips=True)
    memory = Memory(cache, verbose=0)
    start = time.perf_counter()
    X = memory.cache(clip_features)(bunch.data)
    print(f"features {X.shape} in {time.perf_counter() - start:.0f} s", flush=True)
    return bunch, np.asarray(X)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("emodb", "ravdess"), default="emodb",
                        help="corpus (its folder: --data-dir, else $SKLEARN_SER_EMODB or "
                             "$SKLEARN_SER_RAVDESS)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--cache", default=os.path.expanduser("~/.cache/sser-personal"))
    parser.add_argument("--output", default="benchmarks/results/personalisation_emodb")
    parser.add_argument("--features-only", action="store_true")
    parser.add_argument("--parts", default="abc")
    parser.add_argument("--prior", type=float, default=None,
                        help="SpeakerNormalizer profile_prior (default: the normaliser's)")
    parser.add_argument("--enrolment-jitter", type=float, default=None,
                        help="SpeakerNormalizer enrolment_jitter (default: the normaliser's)")
    parser.add_argument("--jitter-copies", default="0,2,6",
                        help="part (f): comma-separated numbers of jittered copies")
    parser.add_argument("--stream-speakers", type=int, default=10,
                        help="test speakers streamed in part (b)")
    args = parser.parse_args()
    bunch, X = load(args.cache, args.dataset, args.data_dir)
    if args.features_only:
        return
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    results = {"dataset": args.dataset, "n_clips": len(X), "n_features": X.shape[1], "n_draws": N_DRAWS}
    rng = np.random.default_rng(0)
    y, groups = np.asarray(bunch.target), np.asarray(bunch.groups)
    folds = fit_folds(X, y, groups, args.prior, jitter=args.enrolment_jitter)
    normaliser = folds[groups[0]].named_steps["speakernormalizer"]
    results["profile_prior"] = normaliser.profile_prior
    results["enrolment_jitter"] = normaliser.enrolment_jitter
    start = time.perf_counter()
    if "a" in args.parts:
        results["enrolment"] = part_enrolment(folds, X, y, groups, rng)
        print(json.dumps(results["enrolment"], indent=1), flush=True)
    if "c" in args.parts:
        results["few_shot"] = part_few_shot(folds, X, y, groups, rng)
        print(json.dumps(results["few_shot"], indent=1), flush=True)
    if "b" in args.parts:
        results["stream"] = part_stream(folds, bunch, y, groups, args.stream_speakers)
        print(json.dumps(results["stream"], indent=1), flush=True)
    if "e" in args.parts:
        results["diagnosis"] = part_diagnosis(folds, X, y, groups, rng)
        print(json.dumps(results["diagnosis"], indent=1), flush=True)
    if "f" in args.parts:
        copies = [int(r) for r in args.jitter_copies.split(",")]
        results["jitter"] = part_jitter(folds, X, y, groups, copies)
        print(json.dumps(results["jitter"], indent=1), flush=True)
    if "d" in args.parts:
        results["stream_arousal"] = part_stream_arousal(X, bunch, y, groups,
                                                        args.stream_speakers)
        print(json.dumps(results["stream_arousal"], indent=1), flush=True)
    results["seconds"] = round(time.perf_counter() - start, 1)
    out.with_suffix(".json").write_text(json.dumps(results, indent=1))
    if set(args.parts) == set("abc"):
        out.with_suffix(".md").write_text(markdown(results))
    elif set(args.parts) == {"d"}:
        out.with_suffix(".md").write_text(markdown_stream_arousal(results))
    print(f"done in {results['seconds']} s; wrote {out.with_suffix('.json')}")


def markdown(r):
    """The results as the Markdown report of benchmarks/results/."""
    e, f, st = r["enrolment"], r["few_shot"], r["stream"]
    lines = [
        "# Personalisation on EmoDB (svm-sn, leave one speaker out)",
        "",
        f"{r['n_clips']} clips, {r['n_features']} pooled features per clip (svm-sn's feature "
        "step, computed once); guard, speaker normaliser (profile_prior="
        f"{r['profile_prior']}), scaler and SVC fitted per fold. No noisy training copies. "
        "Command: `SKLEARN_SER_EMODB=/work/shared/data/emodb python "
        "benchmarks/bench_personalisation.py --stream-speakers "
        f"{len(st['speakers'])}` ({r['seconds']} s on 2 shared cores).",
        "",
        "## (a) Enrolment from k unlabelled clips (excluded from scoring)",
        "",
        f"UAR pooled over the 10 test speakers, mean ± sd over {r['n_draws']} random draws "
        "of the enrolment clips. On all clips: training statistics "
        f"{e['none_all']:.3f}, full-speaker normalisation {e['full_all']:.3f}.",
        "",
        "| k | training statistics | enrolled from k clips | full speaker |",
        "|---|---|---|---|",
    ]
    for k in KS:
        row = e[f"k={k}"]
        lines.append(f"| {k} | " + " | ".join(
            f"{row[n][0]:.3f} ± {row[n][1]:.3f}" for n in ("none", "enrolled", "full")) + " |")
    lines += [
        "",
        "## (b) Stream of one speaker's clips joined with 1 s pauses",
        "",
        f"StreamingRecognizer, {WINDOW} s windows, {HOP} s hop, warm-up "
        f"{st['warmup_windows']} speech windows; UAR of the {st['n_windows_scored']} speech "
        "windows after the warm-up whose majority lies in a clip (label of that clip), "
        f"pooled over speakers {', '.join(st['speakers'])}.",
        "",
        "| training statistics | adapt=True |",
        "|---|---|",
        f"| {st['training']:.3f} | {st['adapted']:.3f} |",
        "",
        "## (c) Few-shot labelled adaptation (2 clips per class of the test speaker)",
        "",
        "UAR on the speaker's other clips, mean ± sd over 3 draws: training statistics; "
        "enrolled from the same clips without labels; `adapt_to_speaker` (enrolled, final "
        "SVC refitted on the training features plus the clips, weighted as one average "
        "training speaker); full-speaker normalisation (all clips) for reference.",
        "",
        "| training statistics | enrolled | adapt_to_speaker | full speaker |",
        "|---|---|---|---|",
        "| " + " | ".join(f"{f[n][0]:.3f} ± {f[n][1]:.3f}"
                         for n in ("none", "enrolled", "adapted", "full")) + " |",
        "",
    ]
    return "\n".join(lines)


def routed():
    import sklearn

    return sklearn.config_context(enable_metadata_routing=True)


def fit_folds(X, y, groups, prior=None, name="svm-sn", jitter=None):
    """One fitted post-feature pipeline per test speaker (leave one speaker out), with the
    normaliser's ``profile_prior`` and ``enrolment_jitter`` if given."""
    folds = {}
    for speaker in np.unique(groups):
        train = groups != speaker
        _, rest = split_pipeline(name)
        if prior is not None:
            rest.set_params(speakernormalizer__profile_prior=prior)
        if jitter is not None:
            rest.set_params(speakernormalizer__enrolment_jitter=jitter,
                            speakernormalizer__random_state=0)
        with routed():
            rest.fit(X[train], y[train], groups=groups[train])
        folds[speaker] = rest
    return folds


def predict(pipe, X, speaker=None):
    with routed(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if speaker is None:
            return pipe.predict(X)  # training statistics
        return pipe.predict(X, groups=np.full(len(X), speaker, dtype=object))


def uar(pairs):
    truth = np.concatenate([t for t, _ in pairs])
    guess = np.concatenate([g for _, g in pairs])
    return float(unweighted_average_recall(truth, guess))


def enrolment_draws(folds, groups, rng, k):
    """Each test speaker's fitted fold, clips, k random enrolment clips and the rest (scored)."""
    for speaker, pipe in folds.items():
        test = np.flatnonzero(groups == speaker)
        enrol = rng.choice(test, size=k, replace=False)
        yield speaker, pipe, test, enrol, np.setdiff1d(test, enrol)


def part_enrolment(folds, X, y, groups, rng):
    """(a) k unlabelled enrolment clips per test speaker, excluded from scoring."""
    from sklearn_ser.pipelines import enroll_speaker

    table = {"none_all": None, "full_all": None}
    none_all, full_all = [], []
    for speaker, pipe in folds.items():
        test = np.flatnonzero(groups == speaker)
        none_all.append((y[test], predict(pipe, X[test])))
        full_all.append((y[test], predict(pipe, X[test], "__full__")))
    table["none_all"], table["full_all"] = uar(none_all), uar(full_all)
    for k in KS:
        scores = {"none": [], "full": [], "enrolled": []}
        for _ in range(N_DRAWS):
            pairs = {name: [] for name in scores}
            for speaker, pipe, test, enrol, scored in enrolment_draws(folds, groups, rng, k):
                # Full-speaker statistics: all the speaker's clips (enrolment ones included).
                full = predict(pipe, X[test], "__full__")
                pairs["full"].append((y[scored], full[np.isin(test, scored)]))
                pairs["none"].append((y[scored], predict(pipe, X[scored])))
                enrolled = enroll_speaker(pipe, "new", X[enrol], min_level_db=None)
                pairs["enrolled"].append((y[scored], predict(enrolled, X[scored], "new")))
                pipe.named_steps["speakernormalizer"].profiles_.clear()
            for name in scores:
                scores[name].append(uar(pairs[name]))
        table[f"k={k}"] = {name: [round(float(np.mean(v)), 4), round(float(np.std(v)), 4)]
                           for name, v in scores.items()}
    return table


def part_diagnosis(folds, X, y, groups, rng, k=5):
    """(e) UAR with one part of an enrolled profile replaced, mean over N_DRAWS draws."""
    from sklearn_ser.pipelines import enroll_speaker

    names = ("enrolled", "k_mean_full_scale", "full_mean_k_scale", "emotion_removed_oracle",
             "emotion_removed_predicted")
    scores = {name: [] for name in names}
    offsets = {speaker: emotion_offsets(X, y, groups, groups != speaker) for speaker in folds}
    for _ in range(N_DRAWS):
        pairs = {name: [] for name in names}
        for speaker, pipe, test, enrol, scored in enrolment_draws(folds, groups, rng, k):
            enrolled = enroll_speaker(pipe, "new", X[enrol], min_level_db=None)
            normaliser = pipe.named_steps["speakernormalizer"]
            mean, scale = normaliser.profile_statistics("new")
            predicted = predict(enrolled, X[enrol], "new")
            offset = offsets[speaker]
            variants = {
                "enrolled": (mean, scale),
                "k_mean_full_scale": (mean, X[test].std(axis=0)),
                "full_mean_k_scale": (X[test].mean(axis=0), scale),
                "emotion_removed_oracle": (
                    (X[enrol] - scale * np.stack([offset[c] for c in y[enrol]])).mean(0), scale),
                "emotion_removed_predicted": (
                    (X[enrol] - scale * np.stack([offset[c] for c in predicted])).mean(0),
                    scale),
            }
            for name, (m, sd) in variants.items():
                set_profile(normaliser, "new", m, sd)
                pairs[name].append((y[scored], predict(enrolled, X[scored], "new")))
            normaliser.profiles_.clear()
        for name in names:
            scores[name].append(uar(pairs[name]))
    return {"k": k, **{name: [round(float(np.mean(v)), 4), round(float(np.std(v)), 4)]
                       for name, v in scores.items()}}


def profile_of(normaliser, rows):
    """Mean and scale of a profile of ``rows`` under the fitted normaliser's prior (enrolled
    under a scratch id, then forgotten)."""
    normaliser.enroll(rows, "__draw__")
    try:
        return normaliser.profile_statistics("__draw__")
    finally:
        del normaliser.profiles_["__draw__"]


def jittered_classifier(pipe, X, y, groups, n_copies, rng):
    """Clones of the fold's scaler and SVC fitted on its training speakers standardised by
    their own clips plus ``n_copies`` copies standardised by few-clip profiles."""
    from sklearn.base import clone

    normaliser = pipe.named_steps["speakernormalizer"]
    parts, labels = [normaliser.transform(X, groups=groups)], [y]
    for _ in range(n_copies):
        copy = np.empty_like(X, dtype=float)
        for speaker in np.unique(groups):
            rows = np.flatnonzero(groups == speaker)
            k = min(int(rng.choice(KS)), len(rows))
            mean, scale = profile_of(normaliser, X[rng.choice(rows, size=k, replace=False)])
            copy[rows] = (X[rows] - mean) / scale
        parts.append(copy)
        labels.append(y)
    Z, labels = np.concatenate(parts), np.concatenate(labels)
    scaler = clone(pipe.named_steps["scaler"]).fit(Z)
    return scaler, clone(pipe.named_steps["svc"]).fit(scaler.transform(Z), labels)


def part_jitter(folds, X, y, groups, copies):
    """(f) UAR of k-clip enrolment and of full-speaker normalisation, per number of copies
    standardised by few-clip profiles in training; the same enrolment draws for every R."""
    table = {}
    for n_copies in copies:
        models = {}
        for speaker, pipe in folds.items():
            train = groups != speaker
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                models[speaker] = jittered_classifier(pipe, X[train], y[train], groups[train],
                                                      n_copies, np.random.default_rng(1))
        row = {}
        for k in KS:
            draws = np.random.default_rng(7)
            scores = []
            for _ in range(N_DRAWS):
                pairs = []
                for speaker, pipe, test, enrol, scored in enrolment_draws(folds, groups,
                                                                          draws, k):
                    scaler, svc = models[speaker]
                    mean, scale = profile_of(pipe.named_steps["speakernormalizer"], X[enrol])
                    pairs.append((y[scored], svc.predict(scaler.transform(
                        (X[scored] - mean) / scale))))
                scores.append(uar(pairs))
            row[f"k={k}"] = [round(float(np.mean(scores)), 4), round(float(np.std(scores)), 4)]
        full = []
        for speaker, pipe in folds.items():
            test = groups == speaker
            scaler, svc = models[speaker]
            # Not enrolled, so the normaliser standardises the speaker by all their clips.
            Z = pipe.named_steps["speakernormalizer"].transform(X[test], groups=groups[test])
            full.append((y[test], svc.predict(scaler.transform(Z))))
        row["full"] = round(uar(full), 4)
        table[f"copies={n_copies}"] = row
        print(n_copies, row, flush=True)
    return table


def emotion_offsets(X, y, groups, train):
    """Mean standardised features of each emotion over the training speakers, each speaker
    standardised by their own clips."""
    Z = np.empty_like(X[train], dtype=float)
    for speaker in np.unique(groups[train]):
        rows = groups[train] == speaker
        part = X[train][rows]
        sd = part.std(axis=0)
        Z[rows] = (part - part.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    return {label: Z[y[train] == label].mean(axis=0) for label in np.unique(y[train])}


def set_profile(normaliser, speaker, mean, scale, weight=1e9):
    """A profile that the normaliser's prior leaves at ``mean`` and ``scale``: so many clips
    that the prior's few weigh nothing."""
    scale = np.where(scale > 0, scale, 1.0)
    normaliser.profiles_[speaker] = {"n_clips": weight, "mean": mean, "m2": weight * scale**2}


def part_few_shot(folds, X, y, groups, rng, per_class=2):
    """(c) k = 2 labelled clips per class of the test speaker; UAR on the rest."""
    from sklearn_ser.pipelines import adapt_to_speaker, enroll_speaker

    scores = {"none": [], "full": [], "enrolled": [], "adapted": []}
    for _ in range(3):
        pairs = {name: [] for name in scores}
        for speaker, pipe in folds.items():
            test = np.flatnonzero(groups == speaker)
            shots = []
            for label in np.unique(y[test]):
                of_class = test[y[test] == label]
                if len(of_class) > per_class:  # keep at least one clip of it to score
                    shots.extend(rng.choice(of_class, size=per_class, replace=False))
            shots = np.array(shots)
            scored = np.setdiff1d(test, shots)
            train = groups != speaker
            full = predict(pipe, X[test], "__full__")
            pairs["full"].append((y[scored], full[np.isin(test, scored)]))
            pairs["none"].append((y[scored], predict(pipe, X[scored])))
            enrolled = enroll_speaker(pipe, "new", X[shots], min_level_db=None)
            pairs["enrolled"].append((y[scored], predict(enrolled, X[scored], "new")))
            pipe.named_steps["speakernormalizer"].profiles_.clear()
            adapted = adapt_to_speaker(pipe, X[shots], y[shots], speaker="new",
                                       X_train=X[train], y_train=y[train],
                                       groups_train=groups[train], min_level_db=None)
            pairs["adapted"].append((y[scored], predict(adapted, X[scored], "new")))
        for name in scores:
            scores[name].append(uar(pairs[name]))
    return {name: [round(float(np.mean(v)), 4), round(float(np.std(v)), 4)]
            for name, v in scores.items()}


def joined(clips, labels, sr):
    """The clips joined with pauses, and each sample's label (None in the pauses)."""
    pause = np.zeros(int(PAUSE * sr), dtype=np.float32)
    audio, owner = [], []
    for clip, label in zip(clips, labels):
        audio += [np.asarray(clip, dtype=np.float32), pause]
        owner += [np.full(len(clip), label, dtype=object), np.full(len(pause), None)]
    return np.concatenate(audio), np.concatenate(owner)


def window_label(owner, event, sr):
    """The label covering most of the window (None when the pauses do)."""
    span = owner[int(round(event.start * sr)):int(round(event.end * sr))]
    values, counts = np.unique(span.astype(str), return_counts=True)
    best = values[np.argmax(counts)]
    return None if best == "None" else best


def streamed_speakers(folds, bunch, y, groups, n_speakers, warmup, name="svm-sn"):
    """Each of the first ``n_speakers`` test speakers' clips joined with pauses and streamed
    through its fold's model (``name``'s feature step + the fitted rest), with the training
    statistics and with ``adapt``: yields the speaker, the label of every sample and, per
    mode, the speech events after the warm-up."""
    from sklearn.pipeline import Pipeline

    from sklearn_ser.streaming import StreamingRecognizer

    features, _ = split_pipeline(name)
    features.fit(bunch.data[:2])
    for speaker in sorted(folds)[:n_speakers]:
        test = np.flatnonzero(groups == speaker)
        order = np.random.default_rng(1).permutation(test)
        audio, owner = joined([bunch.data[i] for i in order], y[order], bunch.sr)
        model = Pipeline([("features", features)] + list(folds[speaker].steps))
        events = {}
        for mode, adapt in (("training", False), ("adapted", True)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                recognizer = StreamingRecognizer(model, sr=bunch.sr, window=WINDOW, hop=HOP,
                                                 adapt=adapt, warmup=warmup)
                speech = [e for e in recognizer.stream(audio, chunk=HOP) if e.is_speech]
            events[mode] = speech[warmup:]
        yield speaker, owner, events


def part_stream(folds, bunch, y, groups, n_speakers, warmup=8):
    """(b) each test speaker's clips joined with pauses, streamed with and without adapt."""
    pairs = {"training": [], "adapted": []}
    for speaker, owner, events in streamed_speakers(folds, bunch, y, groups, n_speakers,
                                                    warmup):
        for name, speech in events.items():
            kept = [(window_label(owner, e, bunch.sr), e.label) for e in speech]
            kept = [(t, g) for t, g in kept if t is not None]
            pairs[name].append((np.array([t for t, _ in kept]), np.array([g for _, g in kept])))
        print(speaker, {k: uar(v[-1:]) for k, v in pairs.items()}, flush=True)
    return {"warmup_windows": warmup, "speakers": sorted(folds)[:n_speakers],
            "n_windows_scored": int(sum(len(t) for t, _ in pairs["adapted"])),
            **{name: round(uar(v), 4) for name, v in pairs.items()}}


def part_stream_arousal(X, bunch, y, groups, n_speakers, warmup=8):
    """(d) as (b), with svr-sn's regressor of the derived arousal; CCC of the windows."""
    from sklearn_ser.datasets import emotion_dimensions
    from sklearn_ser.metrics import concordance_correlation_coefficient as ccc

    arousal = dict(zip(np.unique(y), emotion_dimensions(np.unique(y))["arousal"]))
    folds = fit_folds(X, np.array([arousal[label] for label in y]), groups, name="svr-sn")
    pairs = {"training": [], "adapted": []}
    for speaker, owner, events in streamed_speakers(folds, bunch, y, groups, n_speakers,
                                                    warmup, name="svr-sn"):
        for name, speech in events.items():
            kept = [(window_label(owner, e, bunch.sr), e.value) for e in speech]
            pairs[name].append(np.array([(arousal[t], v) for t, v in kept if t is not None]))
        print(speaker, {k: round(ccc(*v[-1].T), 3) for k, v in pairs.items()}, flush=True)
    figures = {}
    for name, per_speaker in pairs.items():
        both = np.vstack(per_speaker)
        figures[name] = {"ccc": round(float(ccc(both[:, 0], both[:, 1])), 4),
                         "pearson": round(float(np.corrcoef(both.T)[0, 1]), 4),
                         "ccc_per_speaker_mean": round(float(np.mean(
                             [ccc(p[:, 0], p[:, 1]) for p in per_speaker])), 4)}
    return {"warmup_windows": warmup, "speakers": sorted(folds)[:n_speakers],
            "n_windows_scored": int(sum(len(p) for p in pairs["adapted"])), **figures}


def markdown_stream_arousal(r):
    """Part (d) as the Markdown report of benchmarks/results/."""
    st = r["stream_arousal"]
    lines = [
        f"# Streaming a regressor of derived arousal with online adaptation ({r['dataset']})",
        "",
        f"`python benchmarks/bench_personalisation.py --parts d --stream-speakers "
        f"{len(st['speakers'])}` ({r['seconds']} s on 2 shared cores): svr-sn (default "
        "features computed once per clip and cached; guard, speaker normaliser, scaler and the rescaled SVR fitted per fold, "
        "leave one speaker out, no noisy copies) on the arousal derived from each clip's "
        "category (`emotion_dimensions`: every clip of an emotion has the same value). Each "
        f"test speaker's clips joined with {PAUSE} s pauses and streamed through "
        f"`StreamingRecognizer` ({WINDOW} s windows, {HOP} s hop, warm-up "
        f"{st['warmup_windows']} speech windows). Scored: the {st['n_windows_scored']} speech "
        "windows after the warm-up whose majority lies in a clip (target: that clip's "
        f"arousal), speakers {', '.join(st['speakers'])}.",
        "",
        "| speaker statistics | CCC (pooled windows) | Pearson r | mean CCC per speaker |",
        "|---|---|---|---|",
    ]
    for name, text in (("training", "training statistics"), ("adapted", "adapt=True")):
        row = st[name]
        lines.append(f"| {text} | {row['ccc']:.3f} | {row['pearson']:.3f} | "
                     f"{row['ccc_per_speaker_mean']:.3f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
