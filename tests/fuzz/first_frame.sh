# Sourced by tests/fuzz/run.sh (and its test): which code a sanitizer or libFuzzer report blames.
#
# The first frame of a sanitizer or libFuzzer report outside the C library, the sanitizer runtime and
# libFuzzer itself: "function module" (the module is the file for our code, the library for the rest), or
# "(module+offset)" for a frame without a symbol (libhdf5's internal functions often have none).  The
# runtimes' families are skipped by prefix (__interceptor_memcpy), the C library's allocator and abort by
# whole name, so that our own free_blocks is not skipped.
first_frame() {
    grep -E '^ *#[0-9]+ 0x[0-9a-f]+ ' "$1" | sed -E 's/^ *#[0-9]+ 0x[0-9a-f]+ +(in )?//' |
        grep -vE '^(__asan|__ubsan|__lsan|__sanitizer|__interceptor|___interceptor|__assert|__libc|fuzzer::)|^(malloc|calloc|realloc|free|abort|raise|gsignal)( |$)|libc\.so|libc-|compiler-rt|/sanitizer_common/|/asan/|/ubsan/|libFuzzer' |
        head -1 || true
}
