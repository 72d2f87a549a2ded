"""How much of the synthetic corpus's intensity the emotion category alone explains.

The synthetic corpus's intensity is the clip's distance from neutral in the arousal-valence
plane (``make_emotional_speech``). A recogniser that knew every clip's emotion exactly, and
nothing else, would predict the mean intensity of that emotion; this script prints the CCC of
that prediction, the ceiling of a categorical answer, to compare with the regressors' CCC
(``benchmarks/README.md``, continuous targets). No model is fitted.

Usage: python benchmarks/intensity_ceiling.py [--n-samples 420] [--seed 0]
"""

import argparse

import numpy as np

from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.metrics import concordance_correlation_coefficient


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=420)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    corpus = make_emotional_speech(args.n_samples, sr=16000, random_state=args.seed)
    intensity, emotion = np.asarray(corpus.intensity), np.asarray(corpus.target)
    print("| emotion | clips | mean intensity | sd within the emotion |")
    print("|---|---|---|---|")
    guess = np.empty_like(intensity)
    for name in np.unique(emotion):
        rows = emotion == name
        guess[rows] = intensity[rows].mean()
        print(f"| {name} | {rows.sum()} | {intensity[rows].mean():.3f} | "
              f"{intensity[rows].std():.3f} |")
    explained = 1.0 - np.var(intensity - guess) / np.var(intensity)
    ccc = concordance_correlation_coefficient(intensity, guess)
    print(f"\nThe emotion's mean intensity for every clip (a perfect classifier): CCC {ccc:.3f}, "
          f"share of the variance explained {explained:.3f}")


if __name__ == "__main__":
    main()
