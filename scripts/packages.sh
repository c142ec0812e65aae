# Sourced by scripts/dev and cross/build: installs the Debian packages that are missing.
#   ck_install_missing PACKAGE...
# Runs apt-get (as root, or through sudo) only when something is missing.

ck_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# apt-get update, tolerating an index that a mirror is still syncing (apt keeps the rest).
ck_apt_update() {
  ck_as_root apt-get update -qq || echo "warning: apt-get update reported errors; going on" >&2
}

ck_install_missing() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "installing ${missing[*]}"
  ck_apt_update
  ck_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

# promtool (Prometheus' exposition checker) for the tests, from Debian's prometheus package:
# unpacked, not installed, so no Prometheus server is set up or started here.
ck_install_promtool() {
  command -v promtool >/dev/null 2>&1 && return 0
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && { apt-get download prometheus >/dev/null 2>&1 ||
                  { ck_apt_update && apt-get download prometheus >/dev/null; }; }) &&
    dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/root" &&
    ck_as_root install -m 0755 "$tmp/root/usr/bin/promtool" /usr/local/bin/promtool
  local status=$?
  rm -rf "$tmp"
  return $status
}
