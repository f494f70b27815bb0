#!/usr/bin/python3
"""Would RR-interval features beside a rhythm model's probabilities find more AF?

A probe, not part of ecgtrain: it reads a fold model's predictions on its own test records and asks
whether a multinomial logistic regression on [log-probabilities, RR features] classifies those records
better than one on the log-probabilities alone, in a k-fold cross-validation over the records (the
regression never scores a record it was fitted on).  Needs Debian's python3-numpy.

    build/tools/ecgeval runs/cv/NAME/fold0/best.h5 --out OUT
    ls ../shared/data/cinc2017/training2017/*.hea | xargs build/tools/ecgqrs > beats.tsv
    experiments/rr_probe.py OUT/predictions.jsonl beats.tsv ../shared/data/cinc2017/REFERENCE.csv

RR features of a record, from the R peaks ecgqrs finds (t in seconds; rr its successive intervals):
median and mean |ln(rr[i+1] / rr[i])|, the standard deviation of ln rr, the fraction of successive
differences over 50 ms, ln of the median interval, beats per second, the 75th percentile of
|ln(rr[i+1] / rr[i])| and the fraction of those over 0.1.  AF is irregular from beat to beat.
"""
import collections
import json
import sys

import numpy as np

from cinc_scores import CINC_LABELS, CLASSES, cinc_score, f1_per_class


def rr_features(times):
    t = np.asarray(times)
    if len(t) < 4:
        return [0.0] * 8
    rr = np.diff(t)
    log_rr = np.log(rr)
    step = np.abs(np.diff(log_rr))
    return [np.median(step), np.mean(step), np.std(log_rr), np.mean(np.abs(np.diff(rr)) > 0.05),
            np.log(np.median(rr)), len(t) / (t[-1] - t[0]), np.percentile(step, 75), np.mean(step > 0.1)]


def fit_softmax(x, y, iterations=4000, rate=0.3, l2=1e-3):
    w = np.zeros((x.shape[1], len(CLASSES)))
    target = np.eye(len(CLASSES))[y]
    for _ in range(iterations):
        z = x @ w
        z -= z.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        w -= rate * (x.T @ (p - target) / len(y) + l2 * w)
    return w


def cross_validated(x, y, folds, seed):
    order = np.random.default_rng(seed).permutation(len(y))
    pred = np.empty_like(y)
    for part in np.array_split(order, folds):
        rest = np.setdiff1d(order, part)
        mean, std = x[rest].mean(0), x[rest].std(0) + 1e-9
        fit_x = np.c_[(x[rest] - mean) / std, np.ones(len(rest))]
        test_x = np.c_[(x[part] - mean) / std, np.ones(len(part))]
        pred[part] = (test_x @ fit_softmax(fit_x, y[rest])).argmax(1)
    return pred


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    predictions = [json.loads(line) for line in open(sys.argv[1])]
    beats = collections.defaultdict(list)
    for line in open(sys.argv[2]):
        record, _, seconds = line.rstrip("\n").split("\t")
        if record != "record":
            beats[record].append(float(seconds))
    labels = dict(line.strip().split(",") for line in open(sys.argv[3]) if line.strip())
    records = [p["record"] for p in predictions]
    y = np.array([CLASSES.index(CINC_LABELS[labels[r]]) for r in records])
    probs = np.array([[p["probabilities"][c] for c in CLASSES] for p in predictions])
    log_probs = np.log(probs + 1e-6)
    rr = np.array([rr_features(beats[r]) for r in records])

    def show(name, pred):
        confusion = np.zeros((len(CLASSES), len(CLASSES)), dtype=int)
        np.add.at(confusion, (y, pred), 1)
        f = f1_per_class(confusion)
        cinc = cinc_score(f)
        print(f"{name:40s} " + " ".join(f"{c} {v:.3f}" for c, v in zip(CLASSES, f)) + f" CinC {cinc:.3f}")

    print(f"{len(records)} records")
    show("the model's own classes", probs.argmax(1))
    for seed in (0, 1, 2):
        show(f"refit on log-probabilities (seed {seed})", cross_validated(log_probs, y, 5, seed))
        show(f"refit with RR features (seed {seed})", cross_validated(np.c_[log_probs, rr], y, 5, seed))


if __name__ == "__main__":
    main()
