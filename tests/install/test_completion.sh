#!/usr/bin/env bash
# Tests of completion/ecgtrain.bash: keys (from ecgtrain --help), their values, options and files.
#   tests/install/test_completion.sh ECGTRAIN
set -euo pipefail
ecgtrain=$1
cd "$(dirname "$0")/../.."
source completion/ecgtrain.bash
failed=0

# Completes LINE (cursor at its end) as bash would, with '=' a word break as it is by default.
complete_line() {
    COMP_LINE=$1
    COMP_POINT=${#COMP_LINE}
    COMP_WORDBREAKS=$' \t\n"\'><=;|&(:'
    read -ra COMP_WORDS <<<"$COMP_LINE"
    [[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    _ecgtrain_complete
}
expect() { # LINE WORD: WORD is among the completions of LINE
    complete_line "$1"
    local w
    for w in "${COMPREPLY[@]}"; do [[ $w == "$2" ]] && return 0; done
    echo "FAIL: '$1<TAB>' offers [${COMPREPLY[*]}], not '$2'" >&2
    failed=1
}
refuse() { # LINE WORD: WORD is not among them
    complete_line "$1"
    local w
    for w in "${COMPREPLY[@]}"; do
        [[ $w == "$2" ]] && { echo "FAIL: '$1<TAB>' offers '$2'" >&2; failed=1; }
    done
    return 0
}

expect "$ecgtrain configs/effb0.yaml opt" optim.lr=
expect "$ecgtrain configs/effb0.yaml data.spectrogram.w" data.spectrogram.window=
refuse "$ecgtrain configs/effb0.yaml opt" run.name=
expect "$ecgtrain configs/effb0.yaml data.format=ci" cinc2017            # after the '=' word break
expect "$ecgtrain configs/effb0.yaml model.freeze_bn=" false
expect "$ecgtrain configs/effb0.yaml data.path=data/sam" data/sample     # a path key completes files
expect "$ecgtrain configs/eff" configs/effb0.yaml
expect "$ecgtrain --print" --print-config
expect "${ecgtrain%/*}/ecgpredict runs/x/best.h5 eval.win" eval.windows=
refuse "${ecgtrain%/*}/ecgconvert opt" optim.lr=                       # takes no overrides
[ $failed = 0 ] && echo "completion: ok"
exit $failed
