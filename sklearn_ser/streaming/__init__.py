"""Emotion recognition over audio streams (files, arrays, chunk iterables, microphones)."""

from ._recognizer import ClipScorer, StreamEvent, StreamingRecognizer, limit_threads, score_clips

__all__ = ["ClipScorer", "StreamEvent", "StreamingRecognizer", "limit_threads", "score_clips"]
