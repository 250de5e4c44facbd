# bash completion for quantkit. Commands, options and type names are asked
# from the quantkit found in PATH (`quantkit --help`, `quantkit CMD --help`,
# `quantkit types --names`), so they never drift from the program.
_quantkit() {
    local cur prev cmd i
    COMPREPLY=()
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    cmd=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
            -*) ;;
            *) cmd="${COMP_WORDS[i]}"; break ;;
        esac
    done
    if [[ -z "$cmd" ]]; then
        local cmds
        cmds=$(quantkit --help 2>/dev/null | awk '/^commands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{on=0}')
        COMPREPLY=($(compgen -W "$cmds --help --version -V --quiet --progress=" -- "$cur"))
        return 0
    fi
    local types
    case "$prev" in
        --type|--outtype)
            types=$(quantkit types --names 2>/dev/null)
            COMPREPLY=($(compgen -W "auto f32 f16 bf16 $types ${types,,}" -- "$cur"))
            return 0 ;;
        --progress)
            COMPREPLY=($(compgen -W "auto tty json none" -- "$cur"))
            return 0 ;;
        -o|--output|--imatrix|--manifest|--write-manifest|--against|--tensor-type-file)
            COMPREPLY=($(compgen -f -- "$cur"))
            return 0 ;;
    esac
    if [[ "$cur" == -* ]]; then
        local opts
        opts=$(quantkit "$cmd" --help 2>/dev/null | grep -o -- '--[a-z][a-z0-9-]*' | grep -vx -- '--opt' | sort -u)
        COMPREPLY=($(compgen -W "$opts --quiet --progress= --help" -- "$cur"))
        return 0
    fi
    if [[ "$cmd" == quantize && "$cur" != */* && "$cur" != *.* && -n "$cur" ]]; then
        types=$(quantkit types --names 2>/dev/null)
        COMPREPLY=($(compgen -W "$types" -- "$cur"))
        [[ ${#COMPREPLY[@]} -gt 0 ]] && return 0
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o filenames -F _quantkit quantkit
