#!/usr/bin/env bash
# Builds the container image with podman and classifies a CinC record through the API inside it.
#   tests/container/test_container.sh
# Takes minutes (a Debian base image, two apt installs, a compile), so CI runs it outside meson test.
# ECG_CONTAINER_SERVER: ecgserve (the image's default command, the default here) or testbin (the
#   deterministic test server compiled in the image's build stage and mounted in: checks the image,
#   its user, libraries and health check without a real model).
# ECG_MESON_OPTIONS: replaces the Dockerfile's MESON_OPTIONS (-Dcpu=portable).
# ECG_CONTAINER_KEEP=1: keep the images afterwards (by default they are removed to free the disk).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
export CONTAINERS_CONF=$root/tests/container/containers.conf
server=${ECG_CONTAINER_SERVER:-ecgserve}
image=localhost/ecgtrain:test
name=ecgtrain-test-$$
work=$(mktemp -d)
# The images go at exit with their build layers (half a gigabyte); ECG_CONTAINER_KEEP=1 keeps them.
cleanup() {
    podman rm -f -t 0 "$name" >/dev/null 2>&1 || true
    [ "${ECG_CONTAINER_KEEP:-0}" = 1 ] || podman rmi -f "$image" localhost/ecgtrain-build:test >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
fails=0
ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; fails=$((fails + 1)); }
check() { # check NAME COMMAND...
    local n=$1; shift
    if "$@"; then ok "$n"; else not_ok "$n"; fi
}

# What it needs, from Debian; only where podman cannot run at all is the test skipped.
missing=()
for p in podman buildah runc debootstrap curl; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "container test: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! podman info >"$work/info" 2>&1; then
    echo "SKIP: the container test: podman cannot run on this machine:"
    tail -3 "$work/info"
    exit 0
fi

bash tests/container/base_image.sh

build_args=()
if [ -n "${ECG_MESON_OPTIONS+set}" ]; then
    build_args=(--build-arg "MESON_OPTIONS=$ECG_MESON_OPTIONS")
elif ! grep -qs "option('cpu'" meson_options.txt meson.options; then
    echo "container test: this tree has no -Dcpu option yet; building for the build machine's CPU"
    build_args=(--build-arg "MESON_OPTIONS=")
fi
echo "container test: building $image (minutes)"
build() { podman build --pull=never --network host --format docker "${build_args[@]}" "$@" . >"$work/build.log" 2>&1 ||
    { tail -40 "$work/build.log"; echo "not ok - the image builds"; exit 1; }; }
build -t "$image"
ok "the image builds with podman (--pull=never, from the local debian:bookworm-slim)"

# No health-check timer (it needs systemd, and podman says so on stderr, kept in run.err);
# `podman healthcheck run` below runs the image's check once.
run=(podman run -d --name "$name" --network none --health-interval=disable -v "$root/tests/fixtures/data/cinc2017:/records:ro")
if [ "$server" = testbin ]; then
    # The same build stage (cached) compiles the test server; it runs in the runtime image.
    build --target build -t localhost/ecgtrain-build:test
    podman run --rm --network none -v "$work:/out" localhost/ecgtrain-build:test \
        sh -c 'ninja -C /build tests/serve/serve_testbin >/dev/null && cp /build/tests/serve/serve_testbin /out/'
    "${run[@]}" -v "$work/serve_testbin:/usr/local/bin/serve_testbin:ro" "$image" \
        serve_testbin --host 0.0.0.0 --port 8080 >/dev/null 2>"$work/run.err"
else
    "${run[@]}" "$image" >/dev/null 2>"$work/run.err"
fi

# Ready when /healthz answers (the model loads first); give it two minutes.
inside() { podman exec "$name" "$@"; }
for _ in $(seq 120); do
    inside curl -fsS -o /dev/null http://127.0.0.1:8080/healthz 2>/dev/null && break
    [ "$(podman inspect -f '{{.State.Running}}' "$name")" = true ] || break
    sleep 1
done
check "the server in the container answers /healthz" inside curl -fsS -o /dev/null http://127.0.0.1:8080/healthz
check "the image's HEALTHCHECK reports healthy" podman healthcheck run "$name"
check "the server runs as the non-root user ecg" test "$(inside id -un)" = ecg
check "the server listens on every interface in the container (--host 0.0.0.0)" \
    bash -c "podman logs '$name' 2>&1 | grep -q 'at http://0.0.0.0:8080/'"
check "the container has no network but loopback (--network none)" \
    bash -c "! podman exec '$name' cat /proc/net/dev | grep -Ev '^ *(lo|Inter|face)' | grep -q ."

inside curl -sS -o /tmp/answer.json -w '%{http_code}' -F file=@/records/A00592.hea -F file=@/records/A00592.mat \
    http://127.0.0.1:8080/v1/classify >"$work/code" 2>&1 || true
inside cat /tmp/answer.json >"$work/answer.json" 2>/dev/null || true
check "a CinC record posted to /v1/classify inside the container is answered 200" test "$(cat "$work/code")" = 200
check "the answer names the record and gives it one of the four classes with probabilities" \
    grep -Eq '"record":"A00592".*"class":"(AF|NSR|Noise|Other)","probabilities":\{"AF":' "$work/answer.json"
for prog in ecgtrain ecgeval ecgpredict ecgserve; do
    check "the image carries $prog (its --help runs)" bash -c "podman exec '$name' $prog --help >/dev/null"
done
if [ "$server" = ecgserve ]; then
    # The served class is the one ecgpredict gives for the same file with the same (shipped) model.
    inside ecgpredict /records/A00592.mat >"$work/predict.txt" 2>&1 || true # no model named: the shipped one
    served=$(grep -o '"class":"[A-Za-z]*"' "$work/answer.json" | head -1)
    check "the served class equals ecgpredict's in the image ($served)" grep -qF -- "$served" "$work/predict.txt"
fi

size=$(podman image inspect -f '{{.Size}}' "$image")
echo "container test: image $image is $((size / 1000000)) MB; server: $server"
[ $fails = 0 ] || { echo "container test: $fails failed"; cat "$work/run.err"; podman logs "$name" 2>&1 | tail -20; exit 1; }
echo "container test: all passed"
