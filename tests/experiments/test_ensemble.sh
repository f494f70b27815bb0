#!/usr/bin/env bash
# Test of experiments/ensemble_score.py (the scorer of experiments/ensemble_cv.sh) on made-up predictions of
# two folds: each member's row is its own hand-computed score, the average of two models that err on
# different records is right where they disagree by a margin, members with other records than the first
# are refused, and a wrong argument count prints the usage; ensemble_cv.sh refuses what is not a finished
# cross-validation.
set -euo pipefail
cd "$ECG_SOURCE_ROOT"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
/usr/bin/python3 - "$dir" <<'PY'
import json, os, sys
d = sys.argv[1]
labels = {"R1": "A", "R2": "N", "R3": "O", "R4": "~", "R5": "A", "R6": "N", "R7": "O", "R8": "~"}
with open(f"{d}/REFERENCE.csv", "w") as r:
    r.writelines(f"{k},{v}\n" for k, v in labels.items())
name = {"A": "AF", "N": "NSR", "O": "Other", "~": "Noise"}
def probs(top, second=None):
    p = {c: 0.05 for c in ("AF", "NSR", "Noise", "Other")}
    p[top] = 0.85 if second is None else 0.5
    if second is not None:
        p[second] = 0.4
    return p
# m1 calls R1 Other (weakly, AF second) and m2 calls R3 AF (weakly, Other second); each is right, and
# sure, where the other errs, so their average is right everywhere.
for member, wrong in (("m1", {"R1": ("Other", "AF")}), ("m2", {"R3": ("AF", "Other")})):
    for fold, records in enumerate((["R1", "R2", "R3", "R4"], ["R5", "R6", "R7", "R8"])):
        os.makedirs(f"{d}/{member}/fold{fold}")
        with open(f"{d}/{member}/fold{fold}/predictions.jsonl", "w") as f:
            for rec in records:
                p = probs(*wrong[rec]) if rec in wrong else probs(name[labels[rec]])
                f.write(json.dumps({"record": rec, "class": max(p, key=p.get), "probabilities": p}) + "\n")
PY
out=$(/usr/bin/python3 experiments/ensemble_score.py "$dir/REFERENCE.csv" 2 "$dir/m1" "$dir/m2") || fail "ensemble_score.py: $out"
# m1, fold 0: AF F1 0 (its one AF record called Other), Other F1 2/3 (one right, one false), NSR and Noise 1:
# accuracy 0.75, macro-F1 (0 + 1 + 1 + 2/3) / 4 = 0.667, CinC (0 + 1 + 2/3) / 3 = 0.556; fold 1 is all right.
# Means over the folds: accuracy 0.875, macro-F1 0.833, CinC 0.778; pooled: AF F1 2/3, Other F1 0.8, CinC 0.822.
grep -qxF "| m1 | 0.875 ± 0.177 | 0.833 ± 0.236 | 0.778 ± 0.314 | 0.500 ± 0.707 | 1.000 ± 0.000 | 1.000 ± 0.000 | 0.833 ± 0.236 | 0.822 |" <<<"$out" ||
    fail "m1's row: $out"
grep -q "^| m2 | 0.875 ± 0.177 | 0.833 ± 0.236 | 0.778 ± 0.314 | " <<<"$out" || fail "m2's row: $out"
grep -qxF "| average of the above | 1.000 ± 0.000 | 1.000 ± 0.000 | 1.000 ± 0.000 | 1.000 ± 0.000 | 1.000 ± 0.000 | 1.000 ± 0.000 | 1.000 ± 0.000 | 1.000 |" <<<"$out" ||
    fail "the average's row: $out"
# A member whose fold holds other records was not cross-validated on the same folds.
sed -i 's/"R5"/"R9"/' "$dir/m2/fold1/predictions.jsonl"
echo "R9,A" >>"$dir/REFERENCE.csv"
err=$(/usr/bin/python3 experiments/ensemble_score.py "$dir/REFERENCE.csv" 2 "$dir/m1" "$dir/m2" 2>&1) && fail "other folds accepted"
grep -qF "$dir/m2/fold1: other records than $dir/m1/fold1: not the same folds" <<<"$err" || fail "folds message: $err"
# ensemble_cv.sh names a directory that holds no finished cross-validation, and wants two of them.
err=$(bash experiments/ensemble_cv.sh "$dir/m1" "$dir/nowhere" 2>&1) && fail "ensemble_cv.sh took no cross-validations"
grep -qxF "ensemble_cv.sh: $dir/m1/fold0/best.h5 missing: name finished cross-validations (experiments/cv.sh)" <<<"$err" ||
    fail "ensemble_cv.sh message: $err"
err=$(bash experiments/ensemble_cv.sh "$dir/m1" 2>&1) && fail "ensemble_cv.sh took one cross-validation"
grep -q "ensemble_cv.sh \[--out DIR\] CVDIR CVDIR" <<<"$err" || fail "ensemble_cv.sh usage: $err"
err=$(/usr/bin/python3 experiments/ensemble_score.py "$dir/REFERENCE.csv" 2 2>&1) && fail "no member accepted"
grep -q "ensemble_score.py REFERENCE.csv K MEMBER_DIR" <<<"$err" || fail "usage: $err"
echo ok
