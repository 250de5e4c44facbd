#!/usr/bin/env bash
# check-layers.sh - the library's layering and its silence, checked.
#
#   check-layers.sh [--nm NM --lib LIBRARY] SOURCE_DIR
#   check-layers.sh --self-test
#
# Layers, bottom up (docs/design.md, "Layers"):
#   core < formats < quantize < convert < verify < cli
# 1. Every `#include "..."` in a file of a layer folder (subfolders too, e.g.
#    quantize/kernels/x86/) must name a file of its own layer or of one below.
#    Includes are flat names resolved across the folders (the build puts each
#    folder on the include path), so a name no folder holds, or one that more
#    than one file holds, is a violation too. cli/ may include any layer.
# 2. The library (every layer but cli) never prints and never ends the
#    process: its sources use no printf/puts/putchar/vprintf/perror, no
#    stdout/stderr/STDOUT_FILENO/STDERR_FILENO, no exit/abort/assert; and with
#    --lib, no object of the built static library references stdout, stderr,
#    printf, puts, putchar, vprintf, perror (nor their _chk forms), exit,
#    _exit, abort or __assert_fail, which also catches a use through a macro.
# Prints one line per violation and exits 1 if there is any, 0 if none,
# 2 on a usage error. --self-test runs the checks on small fake trees (one
# clean, one with one violation of each kind) and fails unless each is found.
# Run by ctest as `layering` and `layering_self_test`.
# Plain bash + grep/sed/awk/find (no python: a fresh Debian may lack it).
set -euo pipefail

LAYERS=(core formats quantize convert verify cli)
declare -A RANK=()
for i in "${!LAYERS[@]}"; do RANK[${LAYERS[$i]}]=$i; done

# Files of the layer folders (subfolders too), one per line, relative to ROOT.
layer_files() {
    local root=$1 l
    for l in "${LAYERS[@]}"; do
        [[ -d $root/$l ]] && (cd "$root" && find "$l" -type f \( -name '*.c' -o -name '*.h' \))
    done | sort
}

# Prints FILE:LINE:TEXT for every line of the files named on stdin (relative
# to ROOT), with comments and string literals blanked, so that a word in a
# comment or a message ("stderr", "printf") is not taken for a use.
strip_c() {
    local root=$1
    (cd "$root" && xargs -r awk '
        FNR == 1 { incomment = 0 }
        { line = $0; gsub(/\\\\/, "", line); gsub(/\\"/, "", line); out = ""
          while (length(line) > 0) {
            if (incomment) {
              p = index(line, "*/"); if (!p) { line = ""; break }
              line = substr(line, p + 2); incomment = 0; continue
            }
            c = match(line, /\/\*|\/\/|"/)
            if (!c) { out = out line; break }
            tok = substr(line, c, RLENGTH); out = out substr(line, 1, c - 1)
            if (tok == "//") break
            if (tok == "/*") { incomment = 1; line = substr(line, c + 2); continue }
            rest = substr(line, c + 1); q = index(rest, "\"")
            if (!q) { line = ""; break }
            out = out "\"\""; line = substr(rest, q + 1)
          }
          print FILENAME ":" FNR ":" out }')
}

# check_includes ROOT: one line per violating include.
check_includes() {
    local root=$1 f name target layer n inc
    local -A where=() count=()
    while IFS= read -r f; do
        name=${f##*/}
        count[$name]=$(( ${count[$name]:-0} + 1 ))
        where[$name]=$f
    done < <(for l in "${LAYERS[@]}"; do [[ -d $root/$l ]] && (cd "$root" && find "$l" -type f); done)

    local re='^([^:]+):([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]*)"'
    while IFS= read -r inc; do
        [[ $inc =~ $re ]] || continue
        f=${BASH_REMATCH[1]} n=${BASH_REMATCH[2]} name=${BASH_REMATCH[3]}
        layer=${f%%/*}
        if [[ $name == */* ]]; then
            echo "$f:$n: include \"$name\" has a path; includes are flat names"
            continue
        fi
        case ${count[$name]:-0} in
            0) echo "$f:$n: include \"$name\" is in no layer folder"; continue ;;
            1) ;;
            *) echo "$f:$n: include \"$name\" is ambiguous: ${count[$name]} files have that name"; continue ;;
        esac
        target=${where[$name]%%/*}
        if (( RANK[$target] > RANK[$layer] )); then
            echo "$f:$n: $layer includes \"$name\" of $target, a layer above"
        fi
    done < <(layer_files "$root" | (cd "$root" && xargs -r grep -nHE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' || true))
}

# check_print_sources ROOT: one line per use of a printer, or of a way to end
# the process, in the library's sources.
check_print_sources() {
    local root=$1 code
    # format(printf, ...) is the attribute that checks format strings.
    code=$(layer_files "$root" | grep -v '^cli/' | strip_c "$root" |
           sed -E 's/format[[:space:]]*\([[:space:]]*printf/format(/g')
    grep -E ':[0-9]+:.*\b(printf|puts|putchar|vprintf|perror|stdout|stderr|STDOUT_FILENO|STDERR_FILENO)\b' <<<"$code" |
        sed -E 's/^([^:]+:[0-9]+):[[:space:]]*/\1: the library prints: /; s/[[:space:]]+/ /g' || true
    grep -E ':[0-9]+:.*\b(exit|_Exit|quick_exit|abort|assert)[[:space:]]*\(' <<<"$code" |
        sed -E 's/^([^:]+:[0-9]+):[[:space:]]*/\1: the library ends the process: /; s/[[:space:]]+/ /g' || true
}

# check_print_nm: reads `nm -A` output of the library on stdin; one line per
# object that references a printer or a way to end the process.
check_print_nm() {
    awk '
        { sym = $NF; obj = $1; sub(/:$/, "", obj) }
        NF >= 2 && $(NF-1) == "U" && sym ~ /^(stdout|stderr|printf|puts|putchar|vprintf|perror|__printf_chk|__vprintf_chk|exit|_exit|_Exit|quick_exit|abort|__assert_fail)(@.*)?$/ {
            printf "%s: the library references %s\n", obj, sym }
        NF >= 3 && $(NF-1) ~ /^[TtDdBbRr]$/ { defined++ }
        END { if (defined < 20) printf "nm: only %d defined symbols: not the library?\n", defined }'
}

run_checks() {
    local root=$1 nm=$2 lib=$3
    check_includes "$root"
    check_print_sources "$root"
    if [[ -n $lib ]]; then
        "$nm" -A "$lib" 2>/dev/null | check_print_nm
    fi
}

self_test() {
    local t fails=0 out expect
    t=$(mktemp -d)
    trap 'rm -rf "$t"' RETURN
    mkdir -p "$t"/{core,formats,quantize/kernels/x86,convert,verify,cli}
    printf '#include <stdio.h>\n#define QK_PRINTF(a,b) __attribute__((format(printf, a, b)))\n' > "$t/core/err.h"
    printf '#include "err.h"\n/* printf("x"); stderr */\nstatic const char *m = "stderr printf";\n' > "$t/core/err.c"
    printf '#include "err.h"\n' > "$t/formats/gguf.h"
    printf '#include "gguf.h"\n#  include "err.h"\n' > "$t/quantize/kernels/x86/k_avx2.c"
    printf '#include "gguf.h"\n' > "$t/quantize/kernels/k.h"
    printf '#include "k.h"\n' > "$t/convert/conv.c"
    printf '#include "conv.h"\n' > "$t/convert/conv.h"
    printf '#include "conv.h"\n#include "k.h"\n#include <stdio.h>\nint main(void){ printf("ok"); }\n' > "$t/cli/main.c"
    out=$(run_checks "$t" "" "")
    if [[ -n $out ]]; then echo "self-test: a clean tree has violations:"; echo "$out"; fails=1; fi

    # One violation of each kind.
    printf '#include "conv.h"\n' > "$t/formats/up.c"                   # upward, two layers
    printf '#include "k.h"\n' > "$t/core/up2.h"                         # upward, from core
    printf '#include "missing.h"\n' > "$t/verify/lost.c"               # in no folder
    printf '#include "dup.h"\n' > "$t/verify/amb.c"; : > "$t/core/dup.h"; : > "$t/formats/dup.h"
    printf '#include "../core/err.h"\n' > "$t/convert/path.c"          # a path
    printf 'void f(void) {\n  puts("x");\n}\n' > "$t/quantize/say.c"    # a printer
    printf 'int g(void) { return fileno(stderr); }\n' > "$t/verify/fd.c"
    printf 'void h(int bad) {\n  if (bad) abort ();\n}\n' > "$t/formats/die.c"     # an exit
    out=$(run_checks "$t" "" "")
    expect=(
        'formats/up.c:1: formats includes "conv.h" of convert, a layer above'
        'core/up2.h:1: core includes "k.h" of quantize, a layer above'
        'verify/lost.c:1: include "missing.h" is in no layer folder'
        'verify/amb.c:1: include "dup.h" is ambiguous: 2 files have that name'
        'convert/path.c:1: include "../core/err.h" has a path; includes are flat names'
        'quantize/say.c:2: the library prints: puts("");'
        'verify/fd.c:1: the library prints: int g(void) { return fileno(stderr); }'
        'formats/die.c:2: the library ends the process: if (bad) abort ();'
    )
    for e in "${expect[@]}"; do
        e=$(sed -E 's/[[:space:]]+/ /g' <<<"$e")
        grep -qxF -- "$e" <<<"$out" || { echo "self-test: not found: $e"; fails=1; }
    done
    if (( $(grep -c . <<<"$out") != ${#expect[@]} )); then
        echo "self-test: expected ${#expect[@]} violations, got:"; echo "$out"; fails=1
    fi

    # The object-file check, on nm -A output as GNU nm writes it for an archive.
    local nm_out
    nm_out=$(for i in $(seq 1 25); do echo "lib.a:a.c.o: 0000000000000000 T f$i"; done
             echo "lib.a:a.c.o:                  U snprintf"
             echo "lib.a:b.c.o:                  U stderr"
             echo "lib.a:b.c.o:                  U __printf_chk"
             echo "lib.a:c.c.o:                  U puts@GLIBC_2.2.5"
             echo "lib.a:d.c.o:                  U __assert_fail"
             echo "lib.a:d.c.o:                  U __ubsan_handle_add_overflow_abort")
    out=$(check_print_nm <<<"$nm_out")
    expect=('lib.a:b.c.o: the library references stderr' 'lib.a:b.c.o: the library references __printf_chk'
            'lib.a:c.c.o: the library references puts@GLIBC_2.2.5'
            'lib.a:d.c.o: the library references __assert_fail')
    for e in "${expect[@]}"; do
        grep -qxF -- "$e" <<<"$out" || { echo "self-test: nm check missed: $e"; fails=1; }
    done
    (( $(grep -c . <<<"$out") == 4 )) || { echo "self-test: nm check said:"; echo "$out"; fails=1; }
    out=$(echo "lib.a:a.c.o: 0000000000000000 T f" | check_print_nm)
    [[ $out == nm:* ]] || { echo "self-test: an empty library passed the nm check"; fails=1; }

    if (( fails )); then echo "check-layers self-test: FAILED"; return 1; fi
    echo "check-layers self-test: every planted violation found, the clean tree passes"
}

nm=nm lib="" root=""
while (($#)); do
    case $1 in
        --self-test) self_test; exit $? ;;
        --nm) nm=$2; shift 2 ;;
        --lib) lib=$2; shift 2 ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "check-layers: unknown option $1" >&2; exit 2 ;;
        *) root=$1; shift ;;
    esac
done
[[ -n $root && -d $root/core ]] || { echo "usage: check-layers.sh [--nm NM --lib LIBRARY] SOURCE_DIR | --self-test" >&2; exit 2; }
[[ -z $lib || -f $lib ]] || { echo "check-layers: $lib missing" >&2; exit 2; }

out=$(run_checks "$root" "$nm" "$lib")
if [[ -n $out ]]; then
    echo "$out"
    echo "check-layers: $(grep -c . <<<"$out") violation(s)"
    exit 1
fi
echo "check-layers: every include of $(cd "$root" && find "${LAYERS[@]}" -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | wc -l) files stays in its layer or below; the library neither prints nor exits${lib:+ (sources and $(basename "$lib"))}"
