#!/usr/bin/env bash
# Test of experiments/rr_probe.py on made-up records: a model that cannot tell AF from Other (the same
# probabilities for both) tells them apart with the RR features, since only the AF records beat irregularly;
# and a wrong argument count prints the usage.
set -euo pipefail
cd "$ECG_SOURCE_ROOT"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
/usr/bin/python3 - "$dir" <<'PY'
import json, random, sys
d = sys.argv[1]
rng = random.Random(7)
with open(f"{d}/predictions.jsonl", "w") as p, open(f"{d}/beats.tsv", "w") as b, open(f"{d}/REFERENCE.csv", "w") as r:
    b.write("record\tsample\ttime_s\n")
    for i in range(240):
        label = "AONA"[i % 4]
        name = f"R{i:03d}"
        r.write(f"{name},{label}\n")
        af_or_other = rng.uniform(0.3, 0.5)  # the same for AF and Other: the image tells them apart no better than chance
        probs = {"AF": af_or_other, "Other": 0.9 - af_or_other, "NSR": 0.05, "Noise": 0.05}
        if label == "N":
            probs = {"AF": 0.05, "Other": 0.05, "NSR": 0.85, "Noise": 0.05}
        p.write(json.dumps({"record": name, "probabilities": probs}) + "\n")
        t = 0.0
        for _ in range(30):
            t += rng.uniform(0.4, 1.2) if label == "A" else rng.uniform(0.78, 0.82)
            b.write(f"{name}\t{int(t * 300)}\t{t:.4f}\n")
PY
out=$(/usr/bin/python3 experiments/rr_probe.py "$dir/predictions.jsonl" "$dir/beats.tsv" "$dir/REFERENCE.csv") ||
    fail "rr_probe.py exited non-zero: $out"
grep -q "^240 records$" <<<"$out" || fail "record count: $out"
without=$(grep "refit on log-probabilities (seed 0)" <<<"$out" | sed 's/.* CinC //')
with=$(grep "refit with RR features (seed 0)" <<<"$out" | sed 's/.* CinC //')
awk -v a="$without" -v b="$with" 'BEGIN { exit !(a < 0.7 && b > 0.95) }' ||
    fail "CinC F1 without RR features $without (expected < 0.7), with $with (expected > 0.95): $out"
if usage=$(/usr/bin/python3 experiments/rr_probe.py 2>&1); then fail "no arguments accepted"; fi
grep -q "Would RR-interval features" <<<"$usage" || fail "no usage text: $usage"
echo "ok: CinC F1 $without without RR features, $with with them"
