#!/usr/bin/env bash
# CI for the Debian package, as root on a fresh Debian 12 with Swift at /opt/swift:
# builds the .deb (release, Swift runtime static), runs lintian (errors fail), installs it
# with dpkg -i, checks what the package promises (herold --version, herold check on
# /etc/herold, no Swift library in ldd, the unit verifies and rates <= 1.1, an edited
# conffile survives a reinstall, herold serve as user herold under the unit's
# MemoryDenyWriteExecute= rules delivers an example event to the outbox), then purges it
# and leaves the machine as it was. Prints the time of each step.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
export PATH="/opt/swift/usr/bin:$PATH"

started=$(date +%s)
step() { printf '\n== %s (at %ss)\n' "$*" $(($(date +%s) - started)); }
fail() { echo "ci-deb: FAIL: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "run as root: it installs and purges the package"
dpkg -s herold >/dev/null 2>&1 && fail "herold is already installed here; remove it first (this script purges it)"
user_existed=no
getent passwd herold >/dev/null && user_existed=yes
work=$(mktemp -d)
chmod 0755 "$work"

serve=
cleanup() {
    status=$?
    if [ -n "$serve" ] && kill -0 "$serve" 2>/dev/null; then
        kill -TERM "$serve" 2>/dev/null; wait "$serve" 2>/dev/null || true
        if [ -s "$work/serve.log" ]; then echo "herold serve's log:"; cat "$work/serve.log"; fi
    fi
    if dpkg -s herold >/dev/null 2>&1; then dpkg --purge herold >/dev/null || status=1; fi
    if [ "$user_existed" = no ] && getent passwd herold >/dev/null; then userdel herold || status=1; fi
    if [ "$user_existed" = no ] && getent group herold >/dev/null; then groupdel herold || status=1; fi
    rm -rf "$work"
    printf '\n== ci-deb: %s after %ss\n' "$([ $status -eq 0 ] && echo passed || echo FAILED)" $(($(date +%s) - started))
    exit $status
}
trap cleanup EXIT

step "tools"
need=()
for p in dpkg-dev binutils libc6-dev lintian libcurl4-openssl-dev libsqlite3-dev pkg-config systemd; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${need[@]}"
fi

step "build the package (swift build -c release --static-swift-stdlib)"
deb=$(scripts/build-deb.sh --out "$work/deb")
ls -l "$deb"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'

step "lintian"
lintian --fail-on error "$deb" || fail "lintian reports errors"

step "install with dpkg -i"
if ! dpkg -i "$deb"; then
    apt-get install -f -y -q
fi
[ "$(dpkg-query -W -f '${db:Status-Status}' herold)" = installed ] || fail "herold is not installed"

step "the installed herold"
version=$(dpkg-deb -f "$deb" Version)
[ "$(herold --version)" = "${version%-*}" ] || fail "herold --version says $(herold --version), the package is $version"
echo "herold --version: $(herold --version)"
herold check --config /etc/herold/herold.yaml
ldd /usr/bin/herold
! ldd /usr/bin/herold | grep -E 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime|libicu' \
    || fail "/usr/bin/herold needs Swift libraries"

step "what postinst made"
getent passwd herold
stat -c '%A %U:%G %n' /var/spool/herold /var/spool/herold/* /var/lib/herold /etc/herold/secrets/partnerzy-hub.whsec
[ "$(stat -c %U /var/spool/herold/new)" = herold ] || fail "/var/spool/herold/new is not herold's"
[ "$(stat -c '%a %U:%G' /etc/herold/secrets/partnerzy-hub.whsec)" = "640 root:herold" ] \
    || fail "the webhook secret is not 0640 root:herold"
dpkg-query -W -f '${Conffiles}\n' herold | grep -q ' /etc/herold/herold.yaml ' || fail "/etc/herold/herold.yaml is no conffile"

step "the unit"
unit=/lib/systemd/system/herold.service
if command -v man >/dev/null; then man_check=yes; else man_check=no; fi
systemd-analyze verify --man=$man_check "$unit" || fail "systemd-analyze verify $unit"
systemd-analyze security --offline=yes --threshold=11 "$unit" | grep -E '^✗|Overall' \
    || fail "systemd-analyze security rates $unit above 1.1"

step "an edited conffile and the secret survive a reinstall"
secret_before=$(md5sum < /etc/herold/secrets/partnerzy-hub.whsec)
echo "# edited by ci-deb" >> /etc/herold/herold.yaml
dpkg -i "$deb" </dev/null >/dev/null
grep -q '^# edited by ci-deb$' /etc/herold/herold.yaml || fail "reinstalling overwrote the edited /etc/herold/herold.yaml"
[ "$(md5sum < /etc/herold/secrets/partnerzy-hub.whsec)" = "$secret_before" ] || fail "reinstalling replaced the webhook secret"

step "herold serve as herold, under MemoryDenyWriteExecute's rules, delivers an example event"
compiler=cc
command -v cc >/dev/null || compiler=clang      # Swift's own clang compiles C too
"$compiler" -O2 -o "$work/mdwx-exec" packaging/ci/mdwx-exec.c
# setpriv execs (runuser would fork and stand between the signal and herold).
as_herold=(setpriv --reuid=herold --regid=herold --init-groups --)
(cd / && exec "${as_herold[@]}" "$work/mdwx-exec" /usr/bin/herold serve --config /etc/herold/herold.yaml) \
    > "$work/serve.log" 2>&1 &
serve=$!
(cd / && "${as_herold[@]}" herold enqueue --config /etc/herold/herold.yaml \
    /usr/share/doc/herold/examples/events/laureaci-przeciw-przemocy.json)
# Counts files while herold writes them. The outbox folders appear only with the first
# message, and a temporary file can vanish under find: either makes find fail, which must
# not end this script (pipefail) — what counts is the number of files found.
count() { { find "$1" "${@:2}" 2>/dev/null || true; } | wc -l; }
mail=0 hooks=0
for _ in $(seq 1 120); do
    mail=$(count /var/lib/herold/outbox/poczta -name '*.eml')
    hooks=$(count /var/lib/herold/outbox/webhooki -type f)
    [ "$mail" -ge 3 ] && [ "$hooks" -ge 1 ] && break
    kill -0 "$serve" 2>/dev/null || break
    sleep 0.5
done
kill -TERM "$serve" 2>/dev/null || true
serve_status=0
wait "$serve" || serve_status=$?
if [ "$mail" -lt 3 ] || [ "$hooks" -lt 1 ] || [ "$serve_status" -ne 0 ]; then
    cat "$work/serve.log"
    fail "herold serve wrote $mail emails and $hooks webhooks (expected 3 and 1), exit status $serve_status"
fi
echo "outbox: $mail emails, $hooks webhook; herold serve exited $serve_status after SIGTERM"

step "purge"
dpkg --purge herold
for gone in /usr/bin/herold /etc/herold /var/lib/herold /var/spool/herold "$unit"; do
    [ ! -e "$gone" ] || fail "$gone is still there after purge"
done
