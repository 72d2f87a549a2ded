"""Emotion recognition over audio streams (files, arrays, chunk iterables, microphones)."""

from ._recognizer import StreamEvent, StreamingRecognizer, limit_threads, score_clips

__all__ = ["StreamEvent", "StreamingRecognizer", "limit_threads", "score_clips"]
