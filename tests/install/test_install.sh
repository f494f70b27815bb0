#!/usr/bin/env bash
# Installs into a temporary directory (meson install --destdir) and, from a directory outside the
# checkout, runs the installed ecgtrain on an installed config, the installed ecgpredict on the
# installed sample, and the installed example program built against libecgtrain through pkg-config.
#
#   tests/install/test_install.sh BUILDDIR PREFIX LIBDIR
#
# A destdir install carries paths compiled in for the real PREFIX, so the programs are told where
# their data went with ECGTRAIN_DATADIR (core/paths.h), and pkg-config with its prefix variable.
set -euo pipefail
[ $# = 3 ] || { echo "usage: $0 BUILDDIR PREFIX LIBDIR" >&2; exit 2; }
build=$(cd "$1" && pwd)
prefix=$2
libdir=$3
case $libdir in /*) ;; *) libdir=$prefix/$libdir ;; esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

meson install -C "$build" --destdir "$tmp/dest" --no-rebuild --quiet >/dev/null
root=$tmp/dest$prefix
share=$root/share/ecgtrain
for f in bin/ecgtrain bin/ecgpredict share/ecgtrain/configs/effb0.yaml share/ecgtrain/configs/tiny.yaml \
         share/ecgtrain/weights/ecg_effb0_cinc2017.h5 share/ecgtrain/weights/README.md \
         share/ecgtrain/data/sample/cachet_sample.h5 share/ecgtrain/data/sample/records.txt \
         share/doc/ecgtrain/README.md share/doc/ecgtrain/LICENSE share/doc/ecgtrain/docs/architecture.md \
         share/doc/ecgtrain/examples/classify.c share/bash-completion/completions/ecgtrain \
         share/bash-completion/completions/ecgpredict include/ecgtrain/infer/infer.h; do
    [ -e "$root/$f" ] || fail "meson install did not install $f"
done
pc_dir=$tmp/dest$libdir/pkgconfig
[ -f "$pc_dir/ecgtrain.pc" ] || fail "no ecgtrain.pc in $pc_dir"
ls "$tmp/dest$libdir"/libecgtrain.so.[0-9]* >/dev/null 2>&1 || fail "no versioned libecgtrain.so in $tmp/dest$libdir"
if [ -d "$root/share/man/man1" ]; then
    for p in ecgtrain ecgeval ecgpredict ecgspec ecgconvert ecgforward ecgexport; do
        grep -q "^\.TH ${p^^} " "$root/share/man/man1/$p.1" || fail "no man page $p.1"
    done
fi

# Everything below runs outside the checkout and the build tree.
export PATH=$root/bin:$PATH ECGTRAIN_DATADIR=$share LD_LIBRARY_PATH=$tmp/dest$libdir
mkdir "$tmp/elsewhere" && cd "$tmp/elsewhere"

# The installed config and its base, the default data and the shipped weights, all found installed.
ecgtrain configs/tiny.yaml model.pretrained=weights/ecg_effb0_cinc2017.h5 run.threads=2 \
    data.val_fraction=0.1 data.test_fraction=0.1 eval.batch_size=16 >train.out 2>&1 ||
    { cat train.out >&2; fail "the installed ecgtrain failed"; }
grep -q "data.path: data/sample/cachet_sample.h5 is not in the working directory; using $share/data/sample/cachet_sample.h5" train.out ||
    { cat train.out >&2; fail "ecgtrain did not say it used the installed sample"; }
grep -q "model.pretrained: weights/ecg_effb0_cinc2017.h5 is not in the working directory" train.out ||
    fail "ecgtrain did not say it used the installed weights"
[ -f runs/tiny/best.h5 ] || fail "no runs/tiny/best.h5 in the working directory"

# A config found nowhere: the message names both places.
if ecgtrain configs/nope.yaml >nope.out 2>&1; then fail "ecgtrain accepted a missing config"; fi
grep -qF "configs/nope.yaml: cannot open: No such file or directory (looked in the working directory and in $share)" nope.out ||
    { cat nope.out >&2; fail "the missing-config message does not name where it looked"; }

sample=$share/data/sample/cachet_sample.h5
ecgpredict runs/tiny/best.h5 "$sample" >predict.jsonl 2>predict.err || { cat predict.err >&2; fail "the installed ecgpredict failed"; }
records=$(wc -l <predict.jsonl)
[ "$records" -gt 100 ] || fail "ecgpredict classified only $records records of the sample"

# No model named: the shipped model, found installed, with the configuration it carries (10 s of samples).
awk 'BEGIN { for (i = 0; i < 3000; i++) printf "%.4f\n", sin(6.2832 * 1.2 * i / 300) }' >wave.csv
ecgpredict --fs 300 wave.csv >shipped.jsonl 2>shipped.err ||
    { cat shipped.err >&2; fail "the installed ecgpredict did not find the shipped model"; }
jq -e '.record == "wave" and (.probabilities | keys) == ["AF", "NSR", "Noise", "Other"]' shipped.jsonl >/dev/null ||
    fail "the shipped model's answer: $(cat shipped.jsonl)"

# The example, compiled from its installed copy against the installed headers and library only.
export PKG_CONFIG_PATH=$pc_dir
pc() { pkg-config --define-variable=prefix="$root" "$@" ecgtrain; }
[ "$(pc --modversion)" = "$(ecgtrain --version | cut -d' ' -f2)" ] || fail "ecgtrain.pc's version is not ecgtrain's"
cc -std=c11 -Wall -Wextra -Werror "$root/share/doc/ecgtrain/examples/classify.c" $(pc --cflags --libs) -o classify ||
    fail "the example does not build against the installed library"
for lib in $(ldd ./classify | awk '/libecgtrain/ {print $3}'); do
    case $lib in "$tmp/dest"*) ;; *) fail "classify links $lib, not the installed library" ;; esac
done
./classify runs/tiny/best.h5 "$sample" 0 >classify.out || fail "the example failed"
# Its answer for record 0 is ecgpredict's.
want=$(head -1 predict.jsonl | jq -r '"\(.record): \(.class)"')
grep -q "^$want (p = 0\.[0-9]*)$" classify.out || fail "classify printed '$(cat classify.out)', ecgpredict says '$want'"
if ./classify runs/tiny/best.h5 "$sample" 100000 2>bad.err; then fail "classify accepted record 100000"; fi
grep -q "no record 100000" bad.err || fail "classify's message for a bad index: $(cat bad.err)"

# Every installed header compiles on its own (nothing it includes was left out).
for h in $(cd "$root/include/ecgtrain" && find . -name '*.h' | sed 's|^\./||'); do
    echo "#include \"$h\"" | cc -std=c11 -fsyntax-only -x c - $(pc --cflags) || fail "installed header $h does not compile alone"
done
echo "install test: $records records predicted; example: $(cat classify.out)"
