"""sklearn_ser: a scikit-learn-compatible toolkit for speech emotion recognition."""

__version__ = "0.1.0"
