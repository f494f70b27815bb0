#!/usr/bin/python3
"""Scores fold models alone and averaged (experiments/ensemble_cv.sh calls it; not part of ecgtrain).

    ensemble_score.py REFERENCE.csv K MEMBER_DIR [MEMBER_DIR ...]

Each MEMBER_DIR/fold<i>/predictions.jsonl holds one model's calibrated probabilities for the records of
test fold i (ecgeval's lines).  A record's averaged probabilities are the mean over the members; its
class is the largest.  Prints one row per member and one for the average: mean +- sample standard
deviation over the K folds, then the CinC score of the pooled folds.  CinC score: mean F1 of NSR, AF
and Other (the challenge's F1(N,A,O)).
"""
import json
import statistics
import sys

from cinc_scores import CINC_LABELS, CLASSES, cinc_score, f1_per_class


def read_reference(path):
    truth = {}
    with open(path) as f:
        for line in f:
            record, label = line.strip().split(",")[:2]
            truth[record] = CINC_LABELS[label]
    return truth


def read_predictions(path):
    with open(path) as f:
        return {p["record"]: p["probabilities"] for p in map(json.loads, f)}


def confusion(truth, probabilities):
    m = {t: {p: 0 for p in CLASSES} for t in CLASSES}
    for record, probs in probabilities.items():
        m[truth[record]][max(CLASSES, key=lambda c: probs[c])] += 1
    return m


def scores(m):
    f1 = f1_per_class([[m[t][p] for p in CLASSES] for t in CLASSES])
    n = sum(sum(row.values()) for row in m.values())
    return {"accuracy": sum(m[c][c] for c in CLASSES) / n, "macro_f1": statistics.mean(f1),
            "cinc_f1": cinc_score(f1), **{"F1 " + c: v for c, v in zip(CLASSES, f1)}}


def pooled(ms):
    return {t: {p: sum(m[t][p] for m in ms) for p in CLASSES} for t in CLASSES}


def row(name, ms):
    per_fold = [scores(m) for m in ms]
    cells = [f"{statistics.mean(v):.3f} ± {statistics.stdev(v) if len(v) > 1 else 0:.3f}"
             for v in ([s[k] for s in per_fold] for k in per_fold[0])]
    return f"| {name} | " + " | ".join(cells) + f" | {scores(pooled(ms))['cinc_f1']:.3f} |"


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    truth, k, members = read_reference(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    folds = [[read_predictions(f"{d}/fold{i}/predictions.jsonl") for i in range(k)] for d in members]
    for d, member in zip(members, folds):
        for i in range(k):
            if member[i].keys() != folds[0][i].keys():
                sys.exit(f"{d}/fold{i}: other records than {members[0]}/fold{i}: not the same folds")
    average = [{r: {c: statistics.mean(m[i][r][c] for m in folds) for c in CLASSES} for r in folds[0][i]}
               for i in range(k)]
    print("| model | accuracy | macro-F1 | CinC F1(N,A,O) | " + " | ".join("F1 " + c for c in CLASSES) +
          " | pooled CinC |")
    print("|---" * 9 + "|")
    for d, member in zip(members, folds):
        print(row(d.rstrip("/").rsplit("/", 1)[-1], [confusion(truth, member[i]) for i in range(k)]))
    print(row("average of the above", [confusion(truth, average[i]) for i in range(k)]))


if __name__ == "__main__":
    main()
