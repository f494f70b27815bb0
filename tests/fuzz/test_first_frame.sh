#!/usr/bin/env bash
# Test of tests/fuzz/first_frame.sh on the stack shapes fuzz runs meet: the frame a crash is blamed on decides
# whether it fails the run (ours) or is listed (libhdf5's).
set -euo pipefail
cd "$ECG_SOURCE_ROOT"
# shellcheck source=tests/fuzz/first_frame.sh
source tests/fuzz/first_frame.sh
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { # NAME EXPECTED-START, the report on stdin
    cat >"$tmp/$1"
    got=$(first_frame "$tmp/$1")
    [[ $got == "$2"* ]] || fail "$1: blamed '$got', expected '$2...'"
}

# A heap overflow in libhdf5's memcpy (ecgserve's parser child): the interceptor is skipped, libhdf5 is blamed.
check hdf5_memcpy 'H5VM_memcpyvv (/lib/x86_64-linux-gnu/libhdf5_serial.so.103' <<'R'
==1==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x62500000732f
    #0 0x55b10eb773a3 in __interceptor_memcpy (/b/fuzz_serve_request+0xb03a3) (BuildId: 3d5d)
    #1 0x7f78f50c1fca in H5VM_memcpyvv (/lib/x86_64-linux-gnu/libhdf5_serial.so.103+0x2c1fca) (BuildId: e923)
    #8 0x55b10ec38ba7 in read_vector /w/data/reader_cachet.c:114:16
R
# libhdf5 asking for gigabytes from a frame without a symbol: malloc is skipped, the module is blamed.
check hdf5_oom '(/lib/x86_64-linux-gnu/libhdf5_serial.so.103+0x2cc771)' <<'R'
==2== ERROR: libFuzzer: out-of-memory (used: 2196Mb; limit: 2048Mb)
    #0 0x55e739aeaf5e in malloc (/b/fuzz_cachet_h5+0x10bf5e) (BuildId: 201e)
    #1 0x7f89dc0cc771  (/lib/x86_64-linux-gnu/libhdf5_serial.so.103+0x2cc771) (BuildId: e923)
R
# Our own allocation, through malloc: our function is blamed.
check ours_alloc 'ecg_morphology_features /w/data/morphology.c:56:18' <<'R'
==3==ERROR: AddressSanitizer: requested allocation size 0x246139ca8000 exceeds maximum supported size
    #0 0x55d27c95cf1e in malloc (/b/fuzz_wfdb+0x106f1e) (BuildId: 9829)
    #1 0x55d27c9b261c in ecg_morphology_features /w/data/morphology.c:56:18
R
# Our functions whose names start like the C library's are not skipped.
check ours_free_prefix 'free_blocks /w/io/h5util.c:184:5' <<'R'
==4==ERROR: AddressSanitizer: attempting double-free
    #0 0x55d27c95cf1e in free (/b/fuzz_keras_h5+0x106f1e) (BuildId: 9829)
    #1 0x55d27c9b261c in free_blocks /w/io/h5util.c:184:5
R
# An undefined-behaviour report names our line first.
check ours_ubsan 'derive_and_integrate /w/data/qrs.c:105:35' <<'R'
../data/qrs.c:105:35: runtime error: signed integer overflow: 2 * 5890944803201793024 cannot be represented in type 'long'
    #0 0x55a8b333b89a in derive_and_integrate /w/data/qrs.c:105:35
    #1 0x55a8b333947d in ecg_qrs_detect_into /w/data/qrs.c:294:5
R
# A report without any frame blames nothing (run.sh then says "no stack").
check no_stack '' <<'R'
==5== ERROR: libFuzzer: timeout after 10 seconds
R
echo "first_frame: 6 checks passed"
