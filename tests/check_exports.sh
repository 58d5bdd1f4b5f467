#!/bin/sh
# Every symbol the libraries define for the linker must be public API (tc_*).
so=$1; a=$2
bad=$(nm -D --defined-only "$so" | awk '$2 ~ /[TDBRVW]/ {print $3}' | grep -v '^tc_' | grep -v '^_' )
if [ -n "$bad" ]; then echo "$so exports non-API names:"; echo "$bad"; exit 1; fi
bad=$(nm --defined-only --extern-only "$a" | awk 'NF == 3 && $2 ~ /[TDBRVWC]/ {print $3}' | grep -v '^tc_' | grep -v '^_')
if [ -n "$bad" ]; then echo "$a has global non-API names:"; echo "$bad"; exit 1; fi
n=$(nm -D --defined-only "$so" | grep -c ' T tc_')
echo "ok: $n tc_ functions exported, nothing else"
