#!/usr/bin/env bash
# Test that a YAML 1.1 reader (PyYAML) reads ecgtrain's printed config back with every value's type and value,
# and that configs/effb0.yaml sets every key.
set -euo pipefail
py=/usr/bin/python3
if ! [ -x "$py" ] || ! "$py" -c 'import yaml' 2>/dev/null; then
    echo "SKIP: $py with the yaml module is needed (apt-get install python3-yaml)"
    exit 77
fi
exec "$py" - "$ECGTRAIN" <<'EOF'
import re, subprocess, sys, tempfile
import yaml

ecgtrain = sys.argv[1]
failures = []
# An empty config file: every key at its built-in default (configs/effb0.yaml departs from a few of them).
empty = tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="defaults")
empty.write("# all defaults\n")
empty.flush()
config = empty.name

def run(args):
    return subprocess.run([ecgtrain] + args, check=True, capture_output=True, text=True).stdout

# Every key with its type text and default, from --help: "  name   type; default value".
keys = {}
for line in run(["--help"]).splitlines():
    m = re.match(r"^  (\S+)\s{2,}(.+); default (.*)$", line)
    if m:
        keys[m.group(1)] = (m.group(2), m.group(3))
if len(keys) < 50:
    sys.exit("could not read the keys from ecgtrain --help")

def flatten(node, prefix=""):
    out = {}
    for k, v in node.items():
        name = prefix + "." + k if prefix else k
        out.update(flatten(v, name) if isinstance(v, dict) else {name: v})
    return out

def floats(text):
    return [float(x) for x in text.strip("[]").split(",")]

def expected(kind, text):
    """The Python value a key of this --help type and printed default must read as."""
    if kind.startswith("int"):
        return int(text)
    if kind.startswith("float"):
        return float(text)
    if kind == "bool":
        return text == "true"
    if kind.startswith("list of") and text.startswith("["):
        return floats(text)
    return text

def check(label, overrides, want):
    doc = flatten(yaml.safe_load(run(["--print-config", config] + overrides)))
    if set(doc) != set(keys):
        failures.append(f"{label}: keys differ: {sorted(set(doc) ^ set(keys))}")
    for name, (kind, default) in keys.items():
        got = doc.get(name)
        value = want.get(name, expected(kind, default))
        types = {int: int, float: float, bool: bool, str: str, list: list}[type(value)]
        if type(got) is not types or got != value:
            failures.append(f"{label}: {name}: PyYAML read {got!r} ({type(got).__name__}), "
                            f"expected {value!r} ({types.__name__})")

check("defaults", [], {})

# Strings that a YAML reader would take for null, a boolean or a number if they were not quoted.
words = ["yes", "Yes", "on", "ON", "no", "off", "y", "N", "true", "False", "null", "~", "none",
         "1e3", "0x10", "0o17", "1_000", "010", "12", "-1", "+1", ".inf", "-.inf", ".nan", ".5", "12:30"]
string_keys = ["data.path", "run.dir", "run.resume", "data.cache_dir", "data.exclude", "model.pretrained"]
for w in words:
    over = {k: w for k in string_keys}
    if re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]*", w):
        over["run.name"] = w
    check(f"strings '{w}'", [f'{k}="{v}"' for k, v in over.items()], over)

# Floats that print as whole numbers or with an exponent.
check("floats", ["data.sample_rate=1024", "optim.eps=1e-300", "train.class_weights=[1, 2, 3, 1e-300]"],
      {"data.sample_rate": 1024.0, "optim.eps": 1e-300, "train.class_weights": [1.0, 2.0, 3.0, 1e-300]})

# configs/effb0.yaml sets every key (its header says so: the file is the reference users copy from), each read
# as a value of its key's type; a key added to the schema must be added there too.
import os
with open(os.path.join(os.environ["ECG_SOURCE_ROOT"], "configs", "effb0.yaml")) as f:
    reference = flatten(yaml.safe_load(f))
missing = sorted(set(keys) - set(reference))
if missing:
    failures.append(f"configs/effb0.yaml does not set {', '.join(missing)} (add each with a comment)")

for f in failures:
    print(f)
print(f"{len(failures)} mismatches over {len(keys)} keys")
sys.exit(1 if failures else 0)
EOF
