#!/bin/sh
# The README's example program must compile warning-free and run.
set -eu
BUILD=${1:-build}
src=$BUILD/tests/readme_example.c
awk '/^```c$/{f=1;next}/^```$/{f=0}f' README.md > "$src"
[ -s "$src" ] || { echo "no C example found in README.md"; exit 1; }
${CC:-cc} -std=c11 -Wall -Wextra -Werror ${EXAMPLE_CFLAGS:-} -Iinclude "$src" "$BUILD/lib/libtricolor.a" -pthread -o "$BUILD/tests/readme_example"
"$BUILD/tests/readme_example"
