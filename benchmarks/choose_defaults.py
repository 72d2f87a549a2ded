"""Choose the classic pipelines' robustness defaults on EmoDB and RAVDESS together.

The variants compared (default features, speaker-independent folds):

* ``speech_only``: functionals over the speech frames (the voice-activity mask) or all frames;
* ``noise``: training on one noisy copy of every training clip as well (white, pink or brown
  noise at an SNR drawn from ``NOISE_SNR_RANGE``), or not;
* for the ``-sn`` models, whether the noisy copies are standardised with their speaker's clean
  clips (``same``) or as a speaker of their own (``apart``).

Stage ``conditions`` then compares, for the ``-sn`` SVM on speech frames, noisy copies with
one condition (noise kind incl. babble of other speakers, SNR) per speaker and copy, one or
two copies, standardised apart; stage ``grid`` the SVC's C and the logistic regression's C
with two such copies; stage ``logmel`` the four default sets against the same with log-mel
functionals added. Stage ``babble`` compares two and three such copies, two whose second
is always babble and three whose third is; stage ``plain`` the plain SVM (speed copies, shrunk LDA) with noisy copies
drawn per speaker or per clip, one or two, with and without the speed copies, on the four
sets and on the five; stage ``level`` the plain SVM's noisy copies at their clip's level
or at a random gain (``LEVEL_RANGE_DB``), and with every clip loudness-normalised, against a
level change of the test clips (-20 dB, and +20 dB clipped at full scale). Stage ``denoise``
passes every clip through ``denoise`` (gating or Wiener) before its features; stage ``sets``
fits the -sn SVM on each feature set alone, on all but one, and with the sets weighted;
stage ``jitter`` the -sn SVM with a share of its training clips standardised by profiles
of a few other clips of their speaker (``SpeakerNormalizer(enrolment_jitter=...)``); stage
``snr`` the -sn models with their two copies at other SNR ranges; stage ``gamma`` the -sn
SVM's RBF width; stage ``speed`` the -sn models with speed-changed copies (0.9x, 1.1x) of
the clean clips, and of the first noisy copy, as speakers of their own; stage ``fusion`` stacks of -sn members (the classifiers on all five sets, or
the SVM on one set each) under the default fusion's final logistic regression.

Each variant is scored clean, with white noise at 20 and 10 dB on the test clips, with babble
at 10 dB (other folds' speakers only) and with 0.5 s of exact zeros at both ends (agreement of
the predictions with the unpadded ones). Features are extracted once per condition and
cached, so the classifiers are fitted on precomputed features: this is a screening of the
choices, and the chosen defaults are then run end to end with ``sklearn-ser benchmark``.
In the screening, a training copy's babble may come from a speaker that another fold tests
(the copies are made once for all folds); the pipelines' NoiseAugmenter only ever sees the
fold's training clips.

Usage::

    python benchmarks/choose_defaults.py --corpus emodb --data-dir /path/to/emodb \
        --stage variants --output results.jsonl
    python benchmarks/choose_defaults.py --corpus ravdess --data-dir /path/to/ravdess \
        --stage conditions --output results.jsonl    # also: grid, logmel, babble, plain, level,
        # range, strata, denoise, sets, jitter, snr, gamma, speed, fusion
"""

import argparse
import json
import time
import warnings

import numpy as np
import sklearn
from joblib import Memory
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklearn_ser.augmentation import add_noise, change_speed, make_babble
from sklearn_ser.features import SpeakerNormalizer
from sklearn_ser.metrics import unweighted_average_recall
from sklearn_ser.model_selection import make_cv
from sklearn_ser.pipelines._classic import make_features
from sklearn_ser.preprocessing import denoise

NOISE_SNR_RANGE = (0.0, 30.0)
COLOURS = ("white", "pink", "brown")
SPEEDS = (0.9, 1.1)
LEVEL_RANGE_DB = (-25.0, 5.0)


def load(corpus, data_dir):
    from sklearn_ser import datasets

    loader = {"emodb": datasets.load_emodb, "ravdess": datasets.load_ravdess}[corpus]
    bunch = loader(data_dir, return_clips=True, n_jobs=2)
    cv = make_cv("loso" if corpus == "emodb" else "kfold:6")
    return list(bunch.data), np.asarray(bunch.target), np.asarray(bunch.groups), cv


def clip32(x):
    return np.clip(x, -1.0, 1.0).astype(np.float32)


def noisy_copies(clips, seed):
    rng = np.random.default_rng(seed)
    out = []
    for clip in clips:
        colour = COLOURS[rng.integers(len(COLOURS))]
        out.append(clip32(add_noise(clip, snr=rng.uniform(*NOISE_SNR_RANGE), noise=colour,
                                    random_state=rng)))
    return out


def test_conditions(clips, groups, folds, seed=1):
    """Noisy and padded versions of every clip, each made as its own fold's test clip."""
    rng = np.random.default_rng(seed)
    white20, white10, babble10, padded = [None] * len(clips), [None] * len(clips), \
        [None] * len(clips), [None] * len(clips)
    for train, test in folds:
        for i in test:
            clip = clips[i]
            white20[i] = clip32(add_noise(clip, snr=20, random_state=rng))
            white10[i] = clip32(add_noise(clip, snr=10, random_state=rng))
            sources = [clips[j] for j in rng.choice(train, 5, replace=False)]
            babble = make_babble(sources, len(clip), random_state=rng)
            babble10[i] = clip32(add_noise(clip, snr=10, noise=babble, random_state=rng))
            zeros = np.zeros(8000, dtype=np.float32)
            padded[i] = np.concatenate([zeros, clip, zeros])
    return {"white20": white20, "white10": white10, "babble10": babble10, "padded": padded}


def extract(memory, tag, clips, speech_only):
    @memory.cache(ignore=["clips"])
    def features(tag, speech_only, clips):
        _, union = make_features(n_jobs=2)
        union.set_params(**{f"{n}__speech_only": speech_only for n, _ in union.transformer_list})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return union.fit(clips[:2]).transform(clips)

    return features(tag, speech_only, clips)


def classifier(kind):
    if kind == "lr":
        return LogisticRegression(C=0.1, max_iter=2000)
    return SVC(C=3.0, gamma="scale")


def fit_predict(model, F, y, groups, train, test, test_sets, extra):
    """Fit one model on the training clips (plus the extra copies) and predict each test set.

    ``extra`` is a list of (features, labels, speakers) blocks added to the training data.
    """
    Xtr = np.vstack([F["clean"][train]] + [e[0][train] for e in extra])
    ytr = np.concatenate([y[train]] + [y[train] for _ in extra])
    gtr = np.concatenate([groups[train]] + [e[1][train] for e in extra])
    kind, sn = model.split("-")[0], model.endswith("-sn")
    if sn:
        norm = SpeakerNormalizer().fit(Xtr, groups=gtr)
        Xtr = norm.transform(Xtr, groups=gtr)
    scaler = StandardScaler().fit(Xtr)
    Xtr = scaler.transform(Xtr)
    lda = None
    if not sn:
        lda = LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto").fit(Xtr, ytr)
        Xtr = lda.transform(Xtr)
    clf = classifier(kind).fit(Xtr, ytr)
    out = {}
    for name, Xte in test_sets.items():
        Z = Xte[test]
        if sn:
            Z = norm.transform(Z, groups=groups[test])
        Z = scaler.transform(Z)
        if lda is not None:
            Z = lda.transform(Z)
        out[name] = clf.predict(Z)
    return out


def run(args):
    clips, y, groups, cv = load(args.corpus, args.data_dir)
    folds = list(cv.split(clips, y, groups))
    memory = Memory(args.cache, verbose=0)
    t0 = time.time()
    made = {"speed0.9": [clip32(change_speed(c, rate=0.9)) for c in clips],
            "speed1.1": [clip32(change_speed(c, rate=1.1)) for c in clips],
            "noisy": noisy_copies(clips, seed=0)}
    made.update(test_conditions(clips, groups, folds))
    print(f"made copies in {time.time() - t0:.0f} s", flush=True)
    rows = []
    for speech_only in (False, True):
        t0 = time.time()
        F = {"clean": extract(memory, f"{args.corpus}-clean", clips, speech_only)}
        for tag, data in made.items():
            F[tag] = extract(memory, f"{args.corpus}-{tag}", data, speech_only)
        print(f"features speech_only={speech_only} in {time.time() - t0:.0f} s", flush=True)
        tests = {k: F[k] for k in ("clean", "white20", "white10", "babble10", "padded")}
        for model in ("svm", "svm-sn", "lr-sn"):
            sn = model.endswith("-sn")
            variants = [("none", [])]
            if sn:
                variants += [("same", [(F["noisy"], groups)]),
                             ("apart", [(F["noisy"], np.char.add(groups.astype(str), "/noisy"))])]
            else:
                speed = [(F["speed0.9"], groups), (F["speed1.1"], groups)]
                variants = [("none", speed), ("same", speed + [(F["noisy"], groups)])]
            for noise, extra in variants:
                t0 = time.time()
                pred = {k: np.empty(len(y), dtype=object) for k in tests}
                for train, test in folds:
                    for k, p in fit_predict(model, F, y, groups, train, test, tests,
                                            extra).items():
                        pred[k][test] = p
                row = {"corpus": args.corpus, "model": model, "speech_only": speech_only,
                       "noise": noise}
                for k in ("clean", "white20", "white10", "babble10"):
                    row[k] = round(float(unweighted_average_recall(y, pred[k])), 4)
                row["pad_agree"] = round(float(np.mean(pred["padded"] == pred["clean"])), 4)
                row["seconds"] = round(time.time() - t0, 1)
                rows.append(row)
                print(json.dumps(row), flush=True)
    with open(args.output, "w") as f:
        json.dump(rows, f, indent=1)


KINDS = ("white", "pink", "brown", "babble")
N_FOUR_SETS = 1468  # columns of the MFCC, LPCC, spectral and prosodic sets
COPY_BLOCKS = ("bspk1", "bspk2")  # the two per-speaker noisy copies made by prepare()
#: The -sn classifiers, as the pipelines build them (``--models`` of stages jitter and snr).
SN_CLASSIFIERS = {"svm-sn": lambda: SVC(C=3.0, gamma="scale"),
                  "lr-sn": lambda: LogisticRegression(C=0.1, max_iter=2000)}


def noisy_per_speaker(clips, groups, seed, snr_range=NOISE_SNR_RANGE, kinds=KINDS,
                      per_clip=False):
    """One noisy copy of every clip, one (kind, SNR) per speaker (or per clip with
    ``per_clip``); babble of other speakers."""
    rng = np.random.default_rng(seed)
    out = [None] * len(clips)
    for g in np.unique(groups):
        snr, kind = rng.uniform(*snr_range), kinds[rng.integers(len(kinds))]
        others = np.flatnonzero(groups != g)
        for i in np.flatnonzero(groups == g):
            if per_clip:
                snr, kind = rng.uniform(*snr_range), kinds[rng.integers(len(kinds))]
            noise = kind
            if kind == "babble":
                talkers = [clips[j] for j in rng.choice(others, 5, replace=False)]
                noise = make_babble(talkers, len(clips[i]), random_state=rng)
            out[i] = clip32(add_noise(clips[i], snr=snr, noise=noise, random_state=rng))
    return out


def fit_sn(F, y, groups, train, extra, make_classifier, make_normalizer=SpeakerNormalizer):
    """A -sn classifier fitted on the clean ``train`` clips and their copies in ``extra``
    ((features, speaker ids) pairs, standardised apart): ``(normaliser, scaler, classifier)``."""
    X = np.vstack([F["clean"][train]] + [e[0][train] for e in extra])
    y_train = np.concatenate([y[train]] * (1 + len(extra)))
    g_train = np.concatenate([groups[train]] + [e[1][train] for e in extra])
    norm = make_normalizer()
    Z = norm.fit_transform(X, groups=g_train)
    scaler = StandardScaler().fit(Z)
    return norm, scaler, make_classifier().fit(scaler.transform(Z), y_train)


def fit_predict_sn(F, y, groups, folds, extra, make_classifier, keys,
                   make_normalizer=SpeakerNormalizer):
    """Out-of-fold predictions of a speaker-normalised classifier on each test condition;
    ``extra`` lists (features, speaker ids) of training copies."""
    pred = {k: np.empty(len(y), dtype=object) for k in keys}
    for train, test in folds:
        norm, scaler, clf = fit_sn(F, y, groups, train, extra, make_classifier,
                                   make_normalizer)
        for k in keys:
            pred[k][test] = clf.predict(scaler.transform(
                norm.transform(F[k][test], groups=groups[test])))
    return pred


def prepare(args):
    """The corpus, its folds, the feature cache and the clips of every test condition and of
    the two per-speaker noisy copies shared by the stages after ``variants``."""
    clips, y, groups, cv = load(args.corpus, args.data_dir)
    folds = list(cv.split(clips, y, groups))
    made = test_conditions(clips, groups, folds)
    made["bspk1"] = noisy_per_speaker(clips, groups, seed=11)
    made["bspk2"] = noisy_per_speaker(clips, groups, seed=12)
    made["clean"] = clips
    keys = ("clean", "white20", "white10", "babble10")
    return clips, y, groups, folds, Memory(args.cache, verbose=0), made, keys


def run_stage(args):
    """The ``conditions``, ``grid`` and ``logmel`` stages (see the module docstring)."""
    clips, y, groups, folds, memory, made, keys = prepare(args)
    F = {k: extract(memory, f"{args.corpus}-{k}", made[k], True)
         for k in (*keys, "bspk1", "bspk2")}
    apart = [(F["bspk1"], np.char.add(groups.astype(str), "/n1")),
             (F["bspk2"], np.char.add(groups.astype(str), "/n2"))]
    same = [(F["bspk1"], groups)]
    svc = lambda C=3.0: (lambda: SVC(C=C, gamma="scale"))  # noqa: E731
    if args.stage == "conditions":
        variants = [("svm-sn, no copies", F, [], svc()),
                    ("svm-sn, 1 copy, same speaker", F, same, svc()),
                    ("svm-sn, 1 copy apart", F, apart[:1], svc()),
                    ("svm-sn, 2 copies apart", F, apart, svc())]
    elif args.stage == "grid":
        variants = [(f"svm-sn C={C}", F, apart, svc(C)) for C in (1.0, 3.0, 10.0, 30.0)]
        variants += [(f"lr-sn C={C}", F, apart,
                      lambda C=C: LogisticRegression(C=C, max_iter=2000))
                     for C in (0.03, 0.1, 0.3)]
    else:
        L = {k: extract_logmel(memory, f"{args.corpus}-{k}", made[k])
             for k in (*keys, "bspk1", "bspk2")}
        F5 = {k: np.hstack([F[k], L[k]]) for k in F}
        apart5 = [(F5["bspk1"], apart[0][1]), (F5["bspk2"], apart[1][1])]
        variants = [("svm-sn, 4 sets", F, apart, svc()),
                    ("svm-sn, 5 sets (+ log-mel)", F5, apart5, svc())]
    with open(args.output, "a") as out:
        for name, features, extra, make in variants:
            pred = fit_predict_sn(features, y, groups, folds, extra, make, keys)
            row = {"corpus": args.corpus, "stage": args.stage, "variant": name,
                   **{k: round(float(unweighted_average_recall(y, pred[k])), 4)
                      for k in keys}}
            print(json.dumps(row), flush=True)
            out.write(json.dumps(row) + "\n")


def fit_predict_plain(F, y, groups, folds, extra, keys):
    """Out-of-fold predictions of the plain pipeline (scaler, shrunk LDA, RBF SVC) trained
    on the clean clips plus the ``extra`` feature blocks."""
    pred = {k: np.empty(len(y), dtype=object) for k in keys}
    for train, test in folds:
        X = np.vstack([F["clean"][train]] + [e[train] for e in extra])
        y_train = np.concatenate([y[train]] * (1 + len(extra)))
        scaler = StandardScaler().fit(X)
        lda = LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto").fit(
            scaler.transform(X), y_train)
        clf = SVC(C=3.0, gamma="scale").fit(lda.transform(scaler.transform(X)), y_train)
        for k in keys:
            pred[k][test] = clf.predict(lda.transform(scaler.transform(F[k][test])))
    return pred


def run_more(args):
    """Stages ``babble`` (the -sn SVM's copies against babble) and ``plain`` (the plain
    SVM's copies: per speaker or per clip, one or two, with or without speed copies)."""
    clips, y, groups, folds, memory, made, keys = prepare(args)
    if args.stage == "babble":
        made["bspk3"] = noisy_per_speaker(clips, groups, seed=13)
        made["bbl2"] = noisy_per_speaker(clips, groups, seed=14, kinds=("babble",))
    else:
        made["pclip1"] = noisy_per_speaker(clips, groups, seed=21, per_clip=True)
        made["pclip2"] = noisy_per_speaker(clips, groups, seed=22, per_clip=True)
        for base in ("clean", "bspk1", "pclip1", "pclip2"):
            for rate in SPEEDS:
                made[f"{base}@{rate}"] = [clip32(change_speed(c, rate=rate))
                                          for c in made[base]]
    F4, F5 = {}, {}
    for k in made:
        # Tags cached before log-mel joined the defaults hold the four sets only; newer ones
        # hold all five, the four sets first.
        full = extract(memory, f"{args.corpus}-{k}", made[k], True)
        F4[k] = full[:, :N_FOUR_SETS]
        F5[k] = full if full.shape[1] > N_FOUR_SETS else np.hstack(
            [full, extract_logmel(memory, f"{args.corpus}-{k}", made[k])])
    apart = lambda names: [(None, np.char.add(groups.astype(str), f"/{n}"))  # noqa: E731
                           for n in names]

    def report(name, pred):
        row = {"corpus": args.corpus, "stage": args.stage, "variant": name,
               **{k: round(float(unweighted_average_recall(y, pred[k])), 4) for k in keys}}
        print(json.dumps(row), flush=True)
        with open(args.output, "a") as out:
            out.write(json.dumps(row) + "\n")

    if args.stage == "babble":
        variants = [("2 copies apart", ["bspk1", "bspk2"]),
                    ("3 copies apart", ["bspk1", "bspk2", "bspk3"]),
                    ("2 copies apart, the second babble", ["bspk1", "bbl2"]),
                    ("3 copies apart, the third babble", ["bspk1", "bspk2", "bbl2"])]
        for name, blocks in variants:
            for sets, F in (("5 sets", F5),):
                extra = [(F[b], ids) for b, (_, ids) in zip(blocks, apart(blocks))]
                pred = fit_predict_sn(F, y, groups, folds, extra,
                                      SN_CLASSIFIERS["svm-sn"], keys)
                report(f"svm-sn, {name}, {sets}", pred)
    else:
        speeds = lambda bases: [f"{b}@{r}" for b in bases for r in SPEEDS]  # noqa: E731
        variants = [("no copies + speed", speeds(["clean"])),
                    ("1 copy per speaker + speed", ["bspk1"] + speeds(["clean", "bspk1"])),
                    ("1 copy per clip + speed", ["pclip1"] + speeds(["clean", "pclip1"])),
                    ("2 copies per clip + speed",
                     ["pclip1", "pclip2"] + speeds(["clean", "pclip1", "pclip2"])),
                    ("2 copies per clip, no speed", ["pclip1", "pclip2"])]
        for name, blocks in variants:
            for sets, F in (("4 sets", F4), ("5 sets", F5)):
                pred = fit_predict_plain(F, y, groups, folds, [F[b] for b in blocks], keys)
                report(f"svm, {name}, {sets}", pred)


def gained(clips, gain_db):
    """The clips times ``10 ** (gain_db / 20)``, clipped to full scale as a recording is."""
    return [clip32(c * 10.0 ** (gain_db / 20.0)) for c in clips]


def gain_varied(clips, seed, low=LEVEL_RANGE_DB[0], high=LEVEL_RANGE_DB[1]):
    """Each clip at its own gain, uniform in dB between ``low`` and ``high``."""
    rng = np.random.default_rng(seed)
    return [clip32(c * 10.0 ** (rng.uniform(low, high) / 20.0)) for c in clips]


def loudness_normalised(clips):
    """Every clip scaled to -23 LUFS (peaks kept below full scale), as LoudnessNormalizer."""
    from sklearn_ser.preprocessing import normalize_loudness

    return [normalize_loudness(c, method="lufs")[0].astype(np.float32) for c in clips]


def run_level(args):
    """Stage ``level``: the plain SVM (speed copies, two noisy copies per clip) under a level
    change, against the same with every clip loudness-normalised before its features, and with
    the noisy copies at a random gain."""
    clips, y, groups, folds, memory, made, keys = prepare(args)
    made["gain-20"] = gained(clips, -20.0)
    made["gain+20"] = gained(clips, 20.0)
    made["pclip1"] = noisy_per_speaker(clips, groups, seed=21, per_clip=True)
    made["pclip2"] = noisy_per_speaker(clips, groups, seed=22, per_clip=True)
    made["gclip1"] = gain_varied(made["pclip1"], seed=31)
    made["gclip2"] = gain_varied(made["pclip2"], seed=32)
    keys = (*keys, "gain-20", "gain+20")
    copies = {"plain": ["pclip1", "pclip2"], "gain": ["gclip1", "gclip2"]}
    blocks = {"none": ["clean"], "plain": ["clean", "pclip1", "pclip2"],
              "gain": ["clean", "gclip1", "gclip2"]}
    for base in ("clean", "pclip1", "pclip2", "gclip1", "gclip2"):
        for rate in SPEEDS:
            made[f"{base}@{rate}"] = [clip32(change_speed(c, rate=rate)) for c in made[base]]
    variants = [("no copies + speed", "none", False), ("2 copies per clip + speed", "plain",
                                                       False),
                ("2 copies per clip at a random gain + speed", "gain", False),
                ("no copies + speed, loudness-normalised", "none", True),
                ("2 copies per clip + speed, loudness-normalised", "plain", True)]
    if args.variants:
        variants = [variants[int(i)] for i in args.variants.split(",")]
    F = {}
    for name, copy_kind, normalised in variants:
        needed = [*keys, *copies.get(copy_kind, []),
                  *[f"{b}@{r}" for b in blocks[copy_kind] for r in SPEEDS]]
        for k in needed:
            tag = f"{args.corpus}-{k}" + ("-lufs" if normalised else "")
            if tag not in F:
                source = loudness_normalised(made[k]) if normalised else made[k]
                full = extract(memory, tag, source, True)
                # Tags cached before log-mel joined the defaults hold the four sets only.
                F[tag] = full if full.shape[1] > N_FOUR_SETS else np.hstack(
                    [full, extract_logmel(memory, tag, source)])
        suffix = "-lufs" if normalised else ""
        G = {k: F[f"{args.corpus}-{k}{suffix}"] for k in needed}
        extra = [G[b] for b in copies.get(copy_kind, [])]
        extra += [G[f"{b}@{r}"] for b in blocks[copy_kind] for r in SPEEDS]
        pred = fit_predict_plain(G, y, groups, folds, extra, keys)
        row = {"corpus": args.corpus, "stage": "level", "variant": f"svm, {name}",
               **{k: round(float(unweighted_average_recall(y, pred[k])), 4) for k in keys}}
        print(json.dumps(row), flush=True)
        with open(args.output, "a") as out:
            out.write(json.dumps(row) + "\n")


def extract_logmel(memory, tag, clips):
    # Its own function name: joblib keys its cache folder by name, and two functions
    # named alike in one module wipe each other's cache.
    @memory.cache(ignore=["clips"])
    def logmel_features(tag, clips):
        _, extractor = make_features("logmel", n_jobs=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return extractor.fit(clips[:2]).transform(clips)

    return logmel_features(tag + "-logmel", clips)


def extract_with_range(memory, tag, clips, range_db):
    """Default five-set features with the voice-activity mask's dynamic range set to
    ``range_db``; in this process (a loky worker would import the module's own value)."""
    from sklearn_ser.features import _activity

    @memory.cache(ignore=["clips"])
    def ranged_features(tag, range_db, clips):
        saved = _activity.DYNAMIC_RANGE_DB
        _activity.DYNAMIC_RANGE_DB = range_db
        try:
            _, union = make_features()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return union.fit(clips[:2]).transform(clips)
        finally:
            _activity.DYNAMIC_RANGE_DB = saved

    return ranged_features(tag, range_db, clips)


def stratified_copies(clips, groups, n_copies, seed, snr_range=NOISE_SNR_RANGE, kinds=KINDS):
    """``n_copies`` noisy copies of every clip, one condition per speaker and copy as in
    :func:`noisy_per_speaker`, but drawn stratified over all the speaker-copies: the kinds in
    equal turns (shuffled), the SNRs one from each of as many equal slices of the range."""
    rng = np.random.default_rng(seed)
    speakers = np.unique(groups)
    n_units = len(speakers) * n_copies
    unit_kinds = rng.permutation(np.resize(np.asarray(kinds), n_units))
    low, high = snr_range
    unit_snrs = rng.permutation(low + (high - low) * (np.arange(n_units) + rng.uniform(
        size=n_units)) / n_units)
    copies = [[None] * len(clips) for _ in range(n_copies)]
    for u, (copy, g) in enumerate((c, g) for c in range(n_copies) for g in speakers):
        others = np.flatnonzero(groups != g)
        for i in np.flatnonzero(groups == g):
            noise = str(unit_kinds[u])
            if noise == "babble":
                talkers = [clips[j] for j in rng.choice(others, 5, replace=False)]
                noise = make_babble(talkers, len(clips[i]), random_state=rng)
            copies[copy][i] = clip32(add_noise(clips[i], snr=unit_snrs[u], noise=noise,
                                               random_state=rng))
    return copies


def run_strata(args):
    """Stage ``strata``: the -sn SVM's two per-speaker copies with their conditions drawn at
    random (the default) or stratified, over several seeds."""
    clips, y, groups, folds, memory, made, keys = prepare(args)
    conditions = {k: extract(memory, f"{args.corpus}-{k}", made[k], True) for k in keys}
    for seed in (int(s) for s in args.seeds.split(",")):
        variants = {
            "random": [noisy_per_speaker(clips, groups, seed=seed * 10 + c) for c in (1, 2)],
            "stratified": stratified_copies(clips, groups, 2, seed=seed),
        }
        for name, blocks in variants.items():
            tags = [f"{args.corpus}-strata-{name}-{seed}-{c}" for c in (1, 2)]
            F = dict(conditions)
            extra = []
            for c, (tag, block) in enumerate(zip(tags, blocks)):
                F[tag] = extract(memory, tag, block, True)
                extra.append((F[tag], np.char.add(groups.astype(str), f"/n{c + 1}")))
            pred = fit_predict_sn(F, y, groups, folds, extra,
                                  SN_CLASSIFIERS["svm-sn"], keys)
            row = {"corpus": args.corpus, "stage": "strata", "variant": f"svm-sn, {name}",
                   "seed": seed, **{k: round(float(unweighted_average_recall(y, pred[k])), 4)
                                    for k in keys}}
            print(json.dumps(row), flush=True)
            with open(args.output, "a") as out:
                out.write(json.dumps(row) + "\n")


def run_range(args):
    """Stage ``range``: the -sn SVM (two per-speaker copies, apart) with the voice-activity
    mask's dynamic range at each of ``--ranges`` dB, features extracted for each."""
    clips, y, groups, folds, memory, made, keys = prepare(args)
    keys = (*keys, "padded")
    for range_db in (float(r) for r in args.ranges.split(",")):
        start = time.time()
        F = {k: extract_with_range(memory, f"{args.corpus}-{k}", made[k], range_db)
             for k in (*keys, *COPY_BLOCKS)}
        score_with_two_copies(args, "range", f"svm-sn, {range_db:g} dB", F, y, groups, folds,
                              keys, start=start)


def score_with_two_copies(args, stage, variant, F, y, groups, folds, keys, start=None,
                          make_classifier=SN_CLASSIFIERS["svm-sn"],
                          make_normalizer=SpeakerNormalizer, blocks=COPY_BLOCKS):
    """Fit the -sn classifier on the clean clips and the copies of ``blocks`` (by default the
    two per-speaker noisy copies; each block standardised apart), score each test condition
    of ``keys`` (``"padded"``: the share of labels kept under zero padding), and print and
    append the row to ``args.output``."""
    extra = [(F[b], np.char.add(groups.astype(str), f"/{b}")) for b in blocks]
    pred = fit_predict_sn(F, y, groups, folds, extra, make_classifier, keys, make_normalizer)
    row = {"corpus": args.corpus, "stage": stage, "variant": variant,
           **{k: round(float(unweighted_average_recall(y, pred[k])), 4)
              for k in keys if k != "padded"}}
    if "padded" in keys:
        row["same_label_zeros"] = round(float(np.mean(pred["padded"] == pred["clean"])), 4)
    if start is not None:
        row["seconds"] = round(time.time() - start)
    print(json.dumps(row), flush=True)
    with open(args.output, "a") as out:
        out.write(json.dumps(row) + "\n")


def denoised(clips, method):
    return [clip32(denoise(c, method=method)) for c in clips]


def run_denoise(args):
    """Stage ``denoise``: the -sn SVM (two per-speaker copies, apart) on clips passed through
    ``denoise`` before their features: every clip alike, training, copies and test."""
    clips, y, groups, folds, memory, made, keys = prepare(args)
    keys = (*keys, "padded")
    for method in args.methods.split(","):
        start = time.time()
        F = {}
        for k in (*keys, *COPY_BLOCKS):
            if method == "none":
                F[k] = extract(memory, f"{args.corpus}-{k}-denoise-none", made[k], True)
            else:
                F[k] = extract(memory, f"{args.corpus}-{k}-denoised-{method}",
                               denoised(made[k], method), True)
        score_with_two_copies(args, "denoise", f"svm-sn, {method}", F, y, groups, folds, keys,
                              start=start)


SET_SIZES = {"mfcc": 840, "lpcc": 34, "spectral": 476, "prosody": 118, "logmel": 640}


def set_columns(names):
    """Columns of the named sets in the five-set features (the union's order)."""
    edges = np.cumsum([0, *SET_SIZES.values()])
    return np.concatenate([np.arange(edges[i], edges[i + 1])
                           for i, name in enumerate(SET_SIZES) if name in names])


class WeightedSVC(SVC):
    """An RBF SVC on columns multiplied by fixed ``weights`` (the sets' shares of the kernel)."""

    def __init__(self, weights=None, C=3.0, gamma="scale"):
        super().__init__(C=C, gamma=gamma)
        self.weights = weights

    def fit(self, X, y):
        return super().fit(X * self.weights, y)

    def predict(self, X):
        return super().predict(X * self.weights)


def run_sets(args):
    """Stage ``sets``: the -sn SVM (two per-speaker copies, apart) on each feature set alone,
    on all but one, and with each set's columns weighted by its size to the power -p, so that
    a set's share of the RBF kernel's distances depends less on how many columns it has."""
    clips, y, groups, folds, memory, made, keys = prepare(args)
    full = {k: extract(memory, f"{args.corpus}-{k}-denoise-none", made[k], True)
            for k in (*keys, *COPY_BLOCKS)}
    if full["clean"].shape[1] != sum(SET_SIZES.values()):
        raise ValueError(f"SET_SIZES does not match the default features' "
                         f"{full['clean'].shape[1]} columns; update it.")
    names = list(SET_SIZES)
    variants = [(f"only {n}", [n], 0.0) for n in names]
    variants += [(f"without {n}", [m for m in names if m != n], 0.0) for n in names]
    variants += [(f"all, weights size^-{p:g}", names, p) for p in (0.25, 0.5)]
    sizes = np.concatenate([np.full(n, float(n)) for n in SET_SIZES.values()])
    for name, use, power in variants:
        columns = set_columns(use)
        F = {k: v[:, columns] for k, v in full.items()}
        weights = sizes[columns] ** -power
        score_with_two_copies(args, "sets", f"svm-sn, {name}", F, y, groups, folds, keys,
                              make_classifier=lambda: WeightedSVC(weights))


def prepare_default_features(args):
    """:func:`prepare`, with the default features (speech frames) of every test condition,
    the zero-padded clips included, and of the two copies."""
    clips, y, groups, folds, memory, made, keys = prepare(args)
    keys = (*keys, "padded")
    F = {k: extract(memory, f"{args.corpus}-{k}", made[k], True) for k in (*keys, *COPY_BLOCKS)}
    return clips, y, groups, folds, memory, keys, F


def run_jitter(args):
    """Stage ``jitter``: the -sn SVM or logistic regression (``--models``; two per-speaker
    copies, apart) with the normaliser's ``enrolment_jitter`` at each of ``--jitters`` (a
    share of the training clips, copies included, standardised by profiles of a few other
    clips of their speaker)."""
    clips, y, groups, folds, memory, keys, F = prepare_default_features(args)
    for model in args.models.split(","):
        for share in (float(j) for j in args.jitters.split(",")):
            start = time.time()
            score_with_two_copies(
                args, "jitter", f"{model}, enrolment_jitter={share:g}", F, y, groups, folds,
                keys, start=start, make_classifier=SN_CLASSIFIERS[model],
                make_normalizer=lambda share=share: SpeakerNormalizer(enrolment_jitter=share,
                                                                      random_state=0))


def run_snr(args):
    """Stage ``snr``: the -sn SVM and logistic regression (``--models``) with their two
    per-speaker copies (standardised apart) drawn at SNRs uniform in each of ``--snr-ranges``
    (the default copies: 0 to 30 dB), the copies' features extracted for each range."""
    clips, y, groups, folds, memory, keys, F = prepare_default_features(args)
    for pair in args.snr_ranges.split(","):
        low, high = (float(v) for v in pair.split(":"))
        start = time.time()
        ranged = dict(F)
        if (low, high) != NOISE_SNR_RANGE:
            for seed, block in zip((11, 12), COPY_BLOCKS):
                copies = noisy_per_speaker(clips, groups, seed=seed, snr_range=(low, high))
                ranged[block] = extract(memory, f"{args.corpus}-{block}-snr{low:g}-{high:g}",
                                        copies, True)
        for model in args.models.split(","):
            score_with_two_copies(args, "snr", f"{model}, copies at {low:g}-{high:g} dB",
                                  ranged, y, groups, folds, keys, start=start,
                                  make_classifier=SN_CLASSIFIERS[model])


def speed_copy_features(memory, corpus, base, clips):
    """Features of the speed copies (``SPEEDS``) of the ``base`` clips, ``{"base@rate": F}``."""
    return {f"{base}@{rate}": extract(memory, f"{corpus}-{base}@{rate}",
                                      [clip32(change_speed(c, rate=rate)) for c in clips], True)
            for rate in SPEEDS}


def run_speed(args):
    """Stage ``speed``: the -sn SVM and logistic regression (``--models``) with their two
    per-speaker noisy copies (apart), and also speed-changed copies (``SPEEDS``) of the clean
    clips, and of the first noisy copy as well, each standardised as a speaker of its own:
    a 0.9x or 1.1x copy moves pitch and formants by a tenth, as another vocal tract would,
    so the copies add speakers, which a per-speaker normaliser then sets apart."""
    clips, y, groups, folds, memory, made, keys = prepare(args)
    keys = (*keys, "padded")
    F = {k: extract(memory, f"{args.corpus}-{k}", made[k], True) for k in (*keys, *COPY_BLOCKS)}
    for base in ("clean", COPY_BLOCKS[0]):
        F.update(speed_copy_features(memory, args.corpus, base, made[base]))
    speeds = lambda base: [f"{base}@{rate}" for rate in SPEEDS]  # noqa: E731
    variants = [("two noisy copies (default)", [*COPY_BLOCKS]),
                ("+ speed copies of the clean clips", [*COPY_BLOCKS, *speeds("clean")]),
                ("+ speed copies of the clean clips and of the first noisy copy",
                 [*COPY_BLOCKS, *speeds("clean"), *speeds(COPY_BLOCKS[0])])]
    for model in args.models.split(","):
        for name, blocks in variants:
            score_with_two_copies(args, "speed", f"{model}, {name}", F, y, groups, folds, keys,
                                  start=time.time(), make_classifier=SN_CLASSIFIERS[model],
                                  blocks=blocks)


class ScaledGammaSVC(SVC):
    """``SVC(C=3)`` whose RBF gamma is ``factor`` times scikit-learn's ``"scale"`` value of
    the training features (``1 / (n_features * X.var())``)."""

    def __init__(self, factor=1.0):
        super().__init__(C=3.0)
        self.factor = factor

    def fit(self, X, y, sample_weight=None):
        X = np.asarray(X)
        self.gamma = self.factor / (X.shape[1] * X.var())
        return super().fit(X, y, sample_weight=sample_weight)


def run_gamma(args):
    """Stage ``gamma``: the -sn SVM (two per-speaker copies, apart) with its RBF gamma at
    each of ``--gammas`` times scikit-learn's ``"scale"`` (the default: 1)."""
    clips, y, groups, folds, memory, keys, F = prepare_default_features(args)
    for factor in (float(g) for g in args.gammas.split(",")):
        score_with_two_copies(args, "gamma", f"svm-sn, gamma {factor:g} x scale", F, y, groups,
                              folds, keys, start=time.time(),
                              make_classifier=lambda factor=factor: ScaledGammaSVC(factor))


#: Members of stage ``fusion``: a -sn classifier on the named feature sets (None: all five).
FUSION_MEMBERS = {
    "svm-sn": ("svm-sn", None), "lr-sn": ("lr-sn", None),
    "knn-sn": ("knn-sn", None), "linear-svm-sn": ("linear-svm-sn", None),
    # The SVC's one-against-one decision values (21 columns for 7 classes) instead of its
    # one-against-rest summary, which scikit-learn derives from the pairwise votes.
    "svm-sn-ovo": ("svm-sn-ovo", None),
    **{f"svm-sn:{name}": ("svm-sn", [name]) for name in SET_SIZES},
}
#: The stacks of stage ``fusion``, by their members (the first: the default ``fusion``).
FUSION_STACKS = (
    ("svm-sn", "lr-sn"),
    ("svm-sn",),
    ("svm-sn", "lr-sn", "knn-sn"),
    ("svm-sn", "lr-sn", "linear-svm-sn"),
    ("svm-sn", *(f"svm-sn:{n}" for n in SET_SIZES)),
    ("svm-sn", "lr-sn", *(f"svm-sn:{n}" for n in SET_SIZES)),
    tuple(f"svm-sn:{n}" for n in SET_SIZES),
    ("svm-sn", "svm-sn:spectral", "svm-sn:prosody", "svm-sn:logmel"),
    ("svm-sn", "lr-sn", "svm-sn:spectral", "svm-sn:prosody"),
    ("svm-sn-ovo",),
    ("svm-sn-ovo", "lr-sn"),
    ("svm-sn-ovo", "lr-sn", "knn-sn"),
)


def member_outputs(F, y, groups, train, rows, make_classifier, keys, extra):
    """Fit a -sn member on the clean training ``train`` clips and their copies in ``extra``
    (standardised apart), and return its outputs (``predict_proba`` if it has one, else
    ``decision_function``, as scikit-learn's stacking takes them) on ``rows`` of each
    condition of ``keys``."""
    norm, scaler, clf = fit_sn(F, y, groups, train, extra, make_classifier)
    method = clf.predict_proba if hasattr(clf, "predict_proba") else clf.decision_function
    return {k: method(scaler.transform(norm.transform(F[k][rows], groups=groups[rows])))
            for k in keys}


def stacking_inputs(F, y, groups, folds, extra, make_classifier, keys, inner_splits=5):
    """One member's stacking inputs for every outer fold: its out-of-fold outputs on the
    fold's clean training clips (inner folds split by speaker, as ``SpeakerStackingClassifier``
    does; a speaker's copies stay with it), and its outputs on the fold's test clips under
    each condition of ``keys`` from a fit on all the fold's training clips."""
    from sklearn_ser.model_selection import SpeakerStratifiedKFold

    per_fold = []
    for train, test in folds:
        oof = None
        inner = SpeakerStratifiedKFold(n_splits=inner_splits)
        for fit_idx, held_idx in inner.split(train, y[train], groups[train]):
            out = member_outputs(F, y, groups, train[fit_idx], train[held_idx],
                                 make_classifier, ("clean",), extra)["clean"]
            oof = np.empty((len(train), out.shape[1])) if oof is None else oof
            oof[held_idx] = out
        per_fold.append((oof, member_outputs(F, y, groups, train, test, make_classifier, keys,
                                             extra)))
    return per_fold


def run_fusion(args):
    """Stage ``fusion``: stacks of -sn members (the pipelines' classifiers on all five sets or
    on one set each, with the two per-speaker copies standardised apart, and with
    ``--speed-copies`` the speed copies of the clean clips too) under the default final
    logistic regression, each member's stacking inputs computed once and shared."""
    from sklearn.neighbors import KNeighborsClassifier

    clips, y, groups, folds, memory, keys, F = prepare_default_features(args)
    keys = tuple(k for k in keys if k != "padded")
    classifiers = {**SN_CLASSIFIERS,
                   "knn-sn": lambda: KNeighborsClassifier(n_neighbors=10),
                   "linear-svm-sn": lambda: SVC(kernel="linear", C=0.01),
                   "svm-sn-ovo": lambda: SVC(C=3.0, gamma="scale",
                                             decision_function_shape="ovo")}
    blocks = list(COPY_BLOCKS)
    if args.speed_copies:
        speed = speed_copy_features(memory, args.corpus, "clean", clips)
        F.update(speed)
        blocks += list(speed)
    extra_names = [np.char.add(groups.astype(str), f"/{b}") for b in blocks]
    stacks = [FUSION_STACKS[int(i)] for i in args.stacks.split(",")] if args.stacks \
        else FUSION_STACKS
    wanted = {m for stack in stacks for m in stack}
    inputs = {}
    for name in FUSION_MEMBERS:
        if name not in wanted:
            continue
        start = time.time()
        kind, sets = FUSION_MEMBERS[name]
        columns = slice(None) if sets is None else set_columns(sets)
        Fm = {k: v[:, columns] for k, v in F.items()}
        extra = [(Fm[b], g) for b, g in zip(blocks, extra_names)]
        inputs[name] = stacking_inputs(Fm, y, groups, folds, extra, classifiers[kind], keys)
        print(f"member {name}: {time.time() - start:.0f} s", flush=True)
    for stack in stacks:
        for final_c in (float(c) for c in args.final_cs.split(",")):
            pred = {k: np.empty(len(y), dtype=object) for k in keys}
            for i, (train, test) in enumerate(folds):
                final = LogisticRegression(C=final_c, max_iter=2000).fit(
                    np.hstack([inputs[m][i][0] for m in stack]), y[train])
                for k in keys:
                    pred[k][test] = final.predict(
                        np.hstack([inputs[m][i][1][k] for m in stack]))
            # The default final C (1, scikit-learn's) keeps the rows' earlier names.
            name = " + ".join(stack) + ("" if final_c == 1.0 else f", final C {final_c:g}") \
                + (", speed copies" if args.speed_copies else "")
            row = {"corpus": args.corpus, "stage": "fusion", "variant": name,
                   **{k: round(float(unweighted_average_recall(y, pred[k])), 4) for k in keys}}
            print(json.dumps(row), flush=True)
            with open(args.output, "a") as out:
                out.write(json.dumps(row) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=("emodb", "ravdess"), required=True)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--cache", default="/tmp/ser-choose-cache")
    parser.add_argument("--stage", choices=("variants", "conditions", "grid", "logmel", "babble",
                                                     "plain", "level", "range", "strata",
                                                     "denoise", "sets", "jitter", "snr", "gamma",
                                                     "speed", "fusion"),
                        default="variants")
    parser.add_argument("--output", required=True)
    parser.add_argument("--variants", default=None,
                        help="stage level: comma-separated indices of the variants to run")
    parser.add_argument("--ranges", default="40,30,25,20",
                        help="stage range: comma-separated dynamic ranges in dB")
    parser.add_argument("--methods", default="none,gating,wiener",
                        help="stage denoise: comma-separated denoise methods (none: raw clips)")
    parser.add_argument("--seeds", default="1,2,3,4",
                        help="stage strata: seeds of the copies")
    parser.add_argument("--jitters", default="0,0.25,0.5,0.75",
                        help="stage jitter: comma-separated enrolment_jitter shares")
    parser.add_argument("--models", default="svm-sn",
                        help="stages jitter, snr, speed: comma-separated svm-sn, lr-sn")
    parser.add_argument("--final-cs", default="1",
                        help="stage fusion: comma-separated C of the final logistic regression")
    parser.add_argument("--gammas", default="0.3,0.5,1,2",
                        help="stage gamma: comma-separated multiples of the SVM's scale gamma")
    parser.add_argument("--stacks", default=None,
                        help="stage fusion: comma-separated indices into FUSION_STACKS")
    parser.add_argument("--speed-copies", action="store_true",
                        help="stage fusion: the members also train on speed copies (0.9x, "
                             "1.1x) of the clean clips, as speakers of their own")
    parser.add_argument("--snr-ranges", default="0:30,0:20,5:20",
                        help="stage snr: comma-separated low:high SNR ranges of the copies")
    args = parser.parse_args()
    sklearn.set_config(enable_metadata_routing=False)
    if args.stage == "variants":
        run(args)
    elif args.stage == "level":
        run_level(args)
    elif args.stage == "range":
        run_range(args)
    elif args.stage == "strata":
        run_strata(args)
    elif args.stage == "denoise":
        run_denoise(args)
    elif args.stage == "sets":
        run_sets(args)
    elif args.stage == "jitter":
        run_jitter(args)
    elif args.stage == "snr":
        run_snr(args)
    elif args.stage == "gamma":
        run_gamma(args)
    elif args.stage == "speed":
        run_speed(args)
    elif args.stage == "fusion":
        run_fusion(args)
    elif args.stage in ("babble", "plain"):
        run_more(args)
    else:
        run_stage(args)


if __name__ == "__main__":
    main()
