# Bash completion of the ecgtrain programs: options, files, and key=value overrides.
#
# The keys and their values come from `ecgtrain --help`, which prints the whole configuration
# schema, so completion always matches the installed program.  ecgtrain, ecgeval, ecgpredict and
# ecgspec take overrides; the other programs complete options and files.

# The schema lines "key description..." of the ecgtrain next to $1 (or on PATH), once per shell.
_ecgtrain_schema() {
    local prog=ecgtrain
    [[ $1 == */* ]] && prog=${1%/*}/ecgtrain
    if [[ -z ${_ecgtrain_schema_of-} || $_ecgtrain_schema_of != "$prog" ]]; then
        _ecgtrain_schema_lines=$("$prog" --help 2>/dev/null |
            sed -n 's/^  \([a-z][a-z0-9_]*\(\.[a-z0-9_]\{1,\}\)\{1,\}\)  *\(.*\)$/\1 \3/p')
        _ecgtrain_schema_of=$prog
    fi
}

# Words a key's value can be: the names of `one of a | b`, true/false for booleans.
_ecgtrain_values() {
    local line
    line=$(printf '%s\n' "$_ecgtrain_schema_lines" | sed -n "s/^$1 //p")
    case $line in
        "one of "*) line=${line#one of }; line=${line%%;*}; printf '%s\n' ${line//|/ } ;;
        bool*) printf '%s\n' true false ;;
    esac
}

_ecgtrain_complete() {
    local prog=${COMP_WORDS[0]} line=${COMP_LINE:0:COMP_POINT} cur
    cur=${line##*[[:space:]]} # the whole word, even when '=' splits it into several COMP_WORDS
    COMPREPLY=()
    case $cur in
        -*)
            mapfile -t COMPREPLY < <(compgen -W "$("$prog" --help 2>/dev/null | grep -o -- '--[a-z][a-z-]*' | sort -u)" -- "$cur")
            return ;;
    esac
    local takes_keys=0
    case ${prog##*/} in ecgtrain | ecgeval | ecgpredict | ecgspec) takes_keys=1 ;; esac
    if ((takes_keys)) && [[ $cur == *=* ]]; then
        _ecgtrain_schema "$prog"
        local key=${cur%%=*} val=${cur#*=}
        local values
        values=$(_ecgtrain_values "$key")
        if [[ -n $values ]]; then
            mapfile -t COMPREPLY < <(compgen -W "$values" -- "$val" | sed "s|^|$key=|")
        else
            mapfile -t COMPREPLY < <(compgen -f -- "$val" | sed "s|^|$key=|")
        fi
    else
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        if ((takes_keys)) && [[ $cur != */* ]]; then
            _ecgtrain_schema "$prog"
            local keys
            keys=$(printf '%s\n' "$_ecgtrain_schema_lines" | cut -d' ' -f1)
            mapfile -t -O ${#COMPREPLY[@]} COMPREPLY < <(compgen -W "$keys" -- "$cur" | sed 's/$/=/')
            # A key is not finished at '=': no space after it.
            [[ ${COMPREPLY[*]} == *=* ]] && { compopt -o nospace 2>/dev/null || :; }
        fi
    fi
    # Readline replaces only the text after the last word break ('=' by default).
    if [[ $cur == *=* && $COMP_WORDBREAKS == *=* ]]; then
        local i strip=${cur%"${cur##*=}"}
        for i in "${!COMPREPLY[@]}"; do COMPREPLY[i]=${COMPREPLY[i]#"$strip"}; done
    fi
    return 0
}

complete -o filenames -F _ecgtrain_complete ecgtrain ecgeval ecgpredict ecgspec ecgconvert ecgforward ecgexport ecgqrs ecgserve
