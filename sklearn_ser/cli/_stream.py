"""``sklearn-ser stream``: recognise emotions (or track a continuous target such as arousal)
in a file or a microphone, printing as it goes."""

import json
import math
import os
import sys
import warnings

import numpy as np


def _smoothing(text):
    import argparse

    if text in ("none", "ema"):
        return None if text == "none" else "ema"
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"expected none, ema or a number of windows to average (e.g. 4); got {text!r}")
    return value


def add_parser(commands):
    """Register the ``stream`` subcommand."""
    from ._model_file import add_trust_option

    parser = commands.add_parser(
        "stream",
        help="recognise emotions live in an audio file or from the microphone",
        description="Score sliding windows of a file or of the microphone with a saved model "
        "and print each window's time, label and top class probabilities as soon as it is "
        "complete. Silent windows are printed as such and not scored. A window whose features "
        "lie far outside the model's training range (its guard step) is marked "
        "[out of range] (out_of_range in --json): its label is an extrapolation. A "
        "regressor's file (sklearn-ser train --target arousal, ...) prints each window's "
        "predicted value under the target's name instead (value in --json), smoothed and "
        "adapted as labels are. The model file is checked before loading and unknown types "
        "are refused (see --trust).",
        epilog="The microphone needs the optional package sounddevice (pip install "
        "sounddevice). Stop with Ctrl-C.",
    )
    parser.add_argument("model", help="model file (.sser)")
    parser.add_argument("file", nargs="?", default=None, help="audio file to stream")
    parser.add_argument("--mic", action="store_true", help="listen to the microphone instead")
    parser.add_argument("--duration", type=float, default=None,
                        help="seconds to listen with --mic (default: until Ctrl-C)")
    parser.add_argument("--device", default=None,
                        help="sounddevice input device (index or name) for --mic")
    parser.add_argument("--window", type=float, default=2.0,
                        help="seconds per scored window (default: 2.0)")
    parser.add_argument("--hop", type=float, default=0.5,
                        help="seconds between windows (default: 0.5)")
    parser.add_argument("--silence-db", type=float, default=-45.0,
                        help="windows below this RMS level (dB re full scale) are skipped as "
                        "silence (default: -45)")
    parser.add_argument("--smoothing", type=_smoothing, default=None,
                        help="none (default), ema, or N: mean of the last N windows")
    parser.add_argument("--alpha", type=float, default=0.5,
                        help="weight of the newest window with --smoothing ema (default: 0.5)")
    parser.add_argument("--top", type=int, default=3,
                        help="class probabilities printed per window (default: 3)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object per window instead of text")
    parser.add_argument("--n-threads", type=int, default=1,
                        help="torch threads while scoring, BLAS capped at one (default: 1; "
                        "0 leaves the thread pools alone)")
    parser.add_argument("--profile", default=None, metavar="FILE",
                        help="speaker profile file (from save_profiles) of the stream's "
                        "speaker, for a speaker-normalised model")
    parser.add_argument("--speaker", default=None,
                        help="the enrolled speaker to use: one in --profile FILE, or one "
                        "stored in the model (default: the file's only speaker)")
    parser.add_argument("--adapt", action="store_true",
                        help="learn the speaker's statistics from the stream's speech windows "
                        "(after --warmup windows; starting from the profile if given)")
    parser.add_argument("--warmup", type=int, default=8,
                        help="speech windows before --adapt uses the stream's statistics "
                        "(default: 8)")
    parser.add_argument("--allow-version-mismatch", action="store_true",
                        help="load a model saved with other package versions anyway")
    add_trust_option(parser)
    parser.set_defaults(run=run)
    return parser


def format_event(event, top=3, target="value"):
    """One line of text for a window: its label and top probabilities, or a regressor's
    value(s) under the name ``target``."""
    span = f"{event.start:7.2f}-{event.end:7.2f} s"
    if not event.is_speech:
        level = "-inf" if math.isinf(event.level_db) else f"{event.level_db:.0f}"
        return f"{span}  (silence, {level} dB)"
    # The model's guard found this window far outside its training range: say so on the line.
    mark = "  [out of range]" if event.out_of_range else ""
    if event.value is not None:
        values = np.atleast_1d(event.value)
        names = [target] if len(values) == 1 else [f"{target}_{j}" for j in range(len(values))]
        return f"{span}  " + "  ".join(f"{n} {v:+.3f}" for n, v in zip(names, values)) + mark
    ranked = sorted(event.probabilities.items(), key=lambda kv: -kv[1])[:max(1, top)]
    probs = "  ".join(f"{label} {p:.2f}" for label, p in ranked)
    return f"{span}  {str(event.label):<12} {probs}{mark}"


def event_json(event):
    """A window as a JSON-serialisable dict (``value``: a regressor's, else None)."""
    return {
        "start": round(event.start, 4),
        "end": round(event.end, 4),
        "is_speech": event.is_speech,
        "level_db": None if math.isinf(event.level_db) else round(event.level_db, 2),
        "label": None if event.label is None else str(event.label),
        "probabilities": {str(k): round(v, 6) for k, v in event.probabilities.items()},
        "value": _rounded(event.value),
        "out_of_range": bool(event.out_of_range),
    }


def _rounded(value):
    if value is None:
        return None
    if np.ndim(value):
        return [round(float(v), 6) for v in value]
    return round(float(value), 6)


def run(args, argv):
    """Run ``sklearn-ser stream``."""
    from ..exceptions import SklearnSerWarning
    from ..streaming import StreamingRecognizer
    from ._model_file import load_model_file, target_name
    from ._predict import model_sr

    if (args.file is None) == (not args.mic):
        raise ValueError("give either an audio FILE or --mic, e.g. sklearn-ser stream "
                         "model.sser speech.wav")
    if args.file is not None and not os.path.exists(args.file):
        raise FileNotFoundError(f"No such audio file: '{args.file}'.")
    model, manifest = load_model_file(args.model, trust=args.trust,
                                      allow_version_mismatch=args.allow_version_mismatch)
    speaker = _profile_speaker(model, args)
    with warnings.catch_warnings(record=True) as notes:
        warnings.simplefilter("always", SklearnSerWarning)
        recognizer = StreamingRecognizer(
            model, sr=model_sr(model, manifest), window=args.window, hop=args.hop,
            silence_threshold_db=args.silence_db, smoothing=args.smoothing, alpha=args.alpha,
            n_threads=args.n_threads or None, speaker=speaker, adapt=args.adapt,
            warmup=args.warmup)
    for note in notes:  # fallbacks of this model (no probabilities, speaker normalisation)
        print(f"sklearn-ser stream: note: {note.message}", file=sys.stderr)
    if args.mic:
        device = int(args.device) if args.device and args.device.isdigit() else args.device
        try:
            events = recognizer.from_microphone(duration=args.duration, device=device)
            first = next(events, None)
        except ImportError as exc:
            print(f"sklearn-ser stream: error: {exc}", file=sys.stderr)
            return 2
        events = _chain(first, events)
    else:
        events = recognizer.stream(args.file, chunk=min(args.hop, 1.0))
    target = target_name(manifest)
    if not args.json:
        heading = target if recognizer.classes_ is None else f"{'label':<12} top classes"
        print(f"{'window':>19}  {heading}", flush=True)
    try:
        for event in events:
            text = (json.dumps(event_json(event)) if args.json
                    else format_event(event, args.top, target))
            print(text, flush=True)
    except KeyboardInterrupt:
        pass
    return 0


def _profile_speaker(model, args):
    """The stream's enrolled speaker: read from --profile FILE into the model, or --speaker."""
    if args.profile is None:
        return args.speaker
    from ..pipelines import load_profiles

    if not os.path.exists(args.profile):
        raise FileNotFoundError(f"No such profile file: '{args.profile}'.")
    speakers = load_profiles(model, args.profile,
                             speakers=None if args.speaker is None else [args.speaker])
    if args.speaker is None and len(speakers) > 1:
        raise ValueError(f"{args.profile} holds {len(speakers)} speakers ({speakers[:10]}); "
                         "choose one with --speaker.")
    return args.speaker if args.speaker is not None else speakers[0]


def _chain(first, rest):
    if first is not None:
        yield first
        yield from rest
