#!/usr/bin/env bash
# Builds herold_VERSION_ARCH.deb: herold with the Swift runtime linked statically (so it
# installs on Debian 12 without Swift), the systemd unit, sysusers and tmpfiles files,
# /etc/herold as conffiles, the example config, a man page and the maintainer scripts
# from packaging/debian/. No debhelper: a staged tree and `dpkg-deb --root-owner-group`.
#
#   scripts/build-deb.sh [--out DIR]     (default DIR: .build/deb; prints the .deb's path)
#
# Needs: Swift (with its lld), dpkg-dev (dpkg-shlibdeps computes Depends), binutils (strip).
set -euo pipefail
cd "$(dirname "$0")/.."

out=.build/deb
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=${2:?--out needs a folder}; shift 2 ;;
        *) echo "usage: $0 [--out DIR]" >&2; exit 64 ;;
    esac
done

pkg=packaging/debian
fail() { echo "build-deb: $*" >&2; exit 1; }
command -v dpkg-shlibdeps >/dev/null || fail "dpkg-shlibdeps is missing: apt-get install dpkg-dev"
command -v strip >/dev/null || fail "strip is missing: apt-get install binutils"

# 1. The binary, Swift runtime inside. ----------------------------------------------------
# BIND_NOW (with the default RELRO): the GOT is read-only once herold runs.
# Linked by lld (the Swift toolchain's) with packed relative relocations (DT_RELR, glibc
# 2.36+): the ~100,000 relocations of a position-independent binary with the Swift runtime
# inside take 19 KiB instead of 2.4 MiB, which the loader read (and kept resident) at
# every start — 2.3 MiB less RSS for the daemon and for each CLI command.
build=(swift build -c release --static-swift-stdlib -Xswiftc -use-ld=lld
       -Xlinker -z -Xlinker now -Xlinker -z -Xlinker pack-relative-relocs)
"${build[@]}" --product herold >&2
bin="$("${build[@]}" --show-bin-path)/herold"
[ -x "$bin" ] || fail "$bin was not built"

swift_libs=$(ldd "$bin" | grep -E 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime|libicu' || true)
[ -z "$swift_libs" ] || fail "$bin still needs Swift libraries:"$'\n'"$swift_libs"

upstream=$("$bin" --version)
debian_version=$(dpkg-parsechangelog -l "$pkg/changelog" -S Version)
[ "${debian_version%-*}" = "$upstream" ] \
    || fail "herold --version says $upstream, $pkg/changelog says $debian_version: add a changelog entry"
arch=$(dpkg --print-architecture)
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l "$pkg/changelog" -S Timestamp)
export SOURCE_DATE_EPOCH

# 2. The staged tree. -----------------------------------------------------------------------
umask 022
mkdir -p "$out"
root="$out/herold_${debian_version}_${arch}"
rm -rf "$root"
doc="$root/usr/share/doc/herold"
examples="$doc/examples"

install -D -m 0755 "$bin" "$root/usr/bin/herold"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/herold"
install -D -m 0644 systemd/herold.service "$root/lib/systemd/system/herold.service"
install -D -m 0644 systemd/herold.sysusers "$root/usr/lib/sysusers.d/herold.conf"
install -D -m 0644 systemd/herold.tmpfiles "$root/usr/lib/tmpfiles.d/herold.conf"

install -d "$examples"
install -m 0644 "$pkg/copyright" "$doc/copyright"
install -D -m 0644 "$pkg/lintian-overrides" "$root/usr/share/lintian/overrides/herold"
gzip -9n < README.md > "$doc/README.md.gz"
gzip -9n < "$pkg/changelog" > "$doc/changelog.Debian.gz"
install -m 0644 Config/herold.yaml "$examples/herold.yaml"
cp -r Config/templates Config/events Config/zalaczniki "$examples/"

# /etc/herold: the example config, with the system's folders, and what it refers to.
# Everything under /etc is a conffile (below): dpkg never overwrites an edited one.
etc="$root/etc/herold"
install -d "$etc"
cp -r Config/templates Config/zalaczniki "$etc/"
rm -f "$etc/templates/README.md"          # documentation: in examples/templates/
system_config() {
    local file=$1 expr before
    install -m 0644 Config/herold.yaml "$file"
    # Each of these must change the file: when Config/herold.yaml moves on, this fails loudly.
    for expr in \
        's#^spool: \./spool$#spool: /var/spool/herold#' \
        's#^state: \./state$#state: /var/lib/herold#' \
        's#outbox: \./outbox/poczta#outbox: /var/lib/herold/outbox/poczta#' \
        's#outbox: \./outbox/webhooki#outbox: /var/lib/herold/outbox/webhooki#'; do
        before=$(md5sum < "$file")
        sed -i -E "$expr" "$file"
        [ "$(md5sum < "$file")" != "$before" ] || fail "Config/herold.yaml has nothing for $expr; update $0"
    done
    # Comments that name the repository's layout (no harm when they are gone).
    sed -i -E \
        -e '1a # Plik pakietu Debiana: kolejka w /var/spool/herold, dziennik i outbox w /var/lib/herold.' \
        -e 's#folderów \./outbox/…#folderów /var/lib/herold/outbox/…#' \
        -e 's#--config Config/herold\.yaml#--config /etc/herold/herold.yaml#' \
        -e 's#UWAGA: secrets/partnerzy-hub\.whsec to sekret DEMONSTRACYJNY — przed wdrożeniem#secrets/partnerzy-hub.whsec: losowy sekret utworzony przy instalacji pakietu; by go zmienić,#' \
        "$file"
    # A relative path left in a setting would land in /etc/herold (read-only for the service).
    local relative
    relative=$(grep -nE '^[^#]*[:[,] *\./' "$file" | grep -vE '\./zalaczniki' || true)
    [ -z "$relative" ] || fail "relative paths left in /etc/herold/herold.yaml; map them in $0:"$'\n'"$relative"
}
system_config "$etc/herold.yaml"

# The shipped config must pass `herold check` (with a throwaway secret where postinst makes one).
install -d "$etc/secrets"
printf 'whsec_%s\n' "$(head -c 32 /dev/urandom | base64 -w 0)" > "$etc/secrets/partnerzy-hub.whsec"
"$root/usr/bin/herold" check --config "$etc/herold.yaml" >&2 || fail "the /etc/herold config does not pass herold check"
rm -r "$etc/secrets"

# The man page, from the CLI's own help (swift-argument-parser's generate-manual).
"${build[@]}" --product generate-manual >&2
man="$root/usr/share/man/man1"
install -d "$man"
manual=$(mktemp -d)
trap 'rm -rf "$manual"' EXIT
"$(dirname "$bin")/generate-manual" "$root/usr/bin/herold" --output-directory "$manual" \
    --date "$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)" --section 1 \
    --authors "herold maintainers <herold@rops.example.org>" >&2
[ -f "$manual/herold.1" ] || fail "generate-manual wrote no herold.1"
# Add the package's files and pointers before the generated EXIT STATUS and AUTHORS sections.
awk -v files="$pkg/man-files.mdoc" -v see="$pkg/man-see-also.mdoc" '
    function insert(f,  line) { while ((getline line < f) > 0) print line; close(f) }
    /^\.Sh "EXIT STATUS"/ { insert(files) }
    /^\.Sh AUTHORS/ { insert(see) }
    { print }' "$manual/herold.1" > "$manual/herold.1.full"
grep -q '^\.Sh FILES' "$manual/herold.1.full" || fail "generate-manual's page has no EXIT STATUS section to put FILES before"
gzip -9n < "$manual/herold.1.full" > "$man/herold.1.gz"

# 3. Control files. -------------------------------------------------------------------------
install -d "$root/DEBIAN"
install -m 0755 "$pkg/postinst" "$pkg/prerm" "$pkg/postrm" "$root/DEBIAN/"
(cd "$root" && find etc -type f -printf '/%p\n' | sort) > "$root/DEBIAN/conffiles"

# Depends from the libraries the binary links (libc, libcurl, libsqlite3 …), versioned by
# dpkg-shlibdeps; adduser for the user when systemd-sysusers is absent.
shlibs=$(mktemp -d)
mkdir "$shlibs/debian"
printf 'Source: herold\n\nPackage: herold\nArchitecture: any\n' > "$shlibs/debian/control"
abs_bin=$(realpath "$root/usr/bin/herold")
depends=$(cd "$shlibs" && dpkg-shlibdeps -O "$abs_bin" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
rm -rf "$shlibs"
[ -n "$depends" ] || fail "dpkg-shlibdeps found no dependencies for $abs_bin"
depends="$depends, adduser"

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$debian_version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
    -e "s/@DEPENDS@/$depends/" "$pkg/control.in" > "$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) \
    > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

# 4. The package. ---------------------------------------------------------------------------
deb="$out/herold_${debian_version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >&2
echo "$deb"
