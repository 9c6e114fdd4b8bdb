#!/usr/bin/env bash
# build-core-fuzz.sh OUT_DIR: builds the libFuzzer targets in Tests/fuzz/core against TailcarRegex and
# TailcarCore compiled with coverage instrumentation (swiftc -sanitize=fuzzer), outside the package build.
# Writes OUT_DIR/config-fuzz, OUT_DIR/response-fuzz, OUT_DIR/parser-fuzz and OUT_DIR/watch-fuzz. About a
# minute on 2 cores.
set -euo pipefail
out="$1"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
mkdir -p "$out"
shim_header="$repo/CSources/CTailcarShim/include/CTailcarShim.h"
printf 'module CTailcarShim { header "%s" export * }\n' "$shim_header" > "$out/CTailcarShim.modulemap"
clang -O1 -c "$repo/CSources/CTailcarShim/shim.c" -I "$repo/CSources/CTailcarShim/include" -o "$out/shim.o"
common=(-O -sanitize=fuzzer -parse-as-library -enable-testing -suppress-warnings -I "$out")
c_modules=(-I "$repo/CSources/CLibUV" -I "$repo/CSources/CZstd" -I "$repo/CSources/CLZ4" -I "$repo/CSources/CYAML"
           -I "$repo/CSources/CCrypto" -I "$repo/CSources/CLibDeflate" -Xcc "-fmodule-map-file=$out/CTailcarShim.modulemap")
swiftc "${common[@]}" -module-name TailcarRegex -emit-module -emit-module-path "$out/TailcarRegex.swiftmodule" \
    -emit-library -static -o "$out/libTailcarRegex.a" "$repo"/Sources/TailcarRegex/*.swift
mapfile -t core_sources < <(find "$repo/Sources/TailcarCore" -name '*.swift' | sort)
swiftc "${common[@]}" "${c_modules[@]}" -module-name TailcarCore -emit-module \
    -emit-module-path "$out/TailcarCore.swiftmodule" -emit-library -static -o "$out/libTailcarCore.a" "${core_sources[@]}"
libraries=(-L "$out" -lTailcarCore -lTailcarRegex "$out/shim.o")
for system in libuv-static libzstd liblz4 yaml-0.1 openssl libdeflate; do
    read -ra flags <<< "$(pkg-config --libs "$system")"
    libraries+=("${flags[@]}")
done
for target in Config Response Parser Watch; do
    name="$(echo "$target" | tr '[:upper:]' '[:lower:]')-fuzz"
    swiftc "${common[@]}" "${c_modules[@]}" -module-name "${target}Fuzz" "$here/core/${target}FuzzTarget.swift" \
        "${libraries[@]}" -o "$out/$name"
done
