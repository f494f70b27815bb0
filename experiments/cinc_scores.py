"""What the experiments' Python scripts share about CinC 2017: its classes, REFERENCE.csv's labels and
the F1 of each class from a confusion matrix (not part of ecgtrain, which computes its own in eval/)."""

CLASSES = ["AF", "NSR", "Noise", "Other"]
CINC_LABELS = {"A": "AF", "N": "NSR", "~": "Noise", "O": "Other"}  # REFERENCE.csv's letters


def f1_per_class(confusion):
    """F1 of each class of a square confusion matrix (rows true, columns predicted; nested lists or an array)."""
    k = len(confusion)
    f1 = []
    for c in range(k):
        tp = confusion[c][c]
        wrong = sum(confusion[t][c] for t in range(k) if t != c) + sum(confusion[c][p] for p in range(k) if p != c)
        f1.append(2 * tp / max(2 * tp + wrong, 1))
    return f1


def cinc_score(f1):
    """The challenge's score F1(N,A,O): the mean F1 of NSR, AF and Other (Noise left out)."""
    return (f1[CLASSES.index("AF")] + f1[CLASSES.index("NSR")] + f1[CLASSES.index("Other")]) / 3
