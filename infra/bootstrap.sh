#!/usr/bin/env bash
# Set up everything the README's commands need, on a fresh machine or an old
# one: the virtualenv and Python packages, npm packages, and (as root) the
# Debian packages. Cheap when nothing changed: each step checks a stamp.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv
want_browser=${WANT_BROWSER:-0}

say() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*" >&2; }
# A step that does work says what it starts and, when done, how long it took,
# so a first set-up (a minute or two) never sits silent.
started_all=$(date +%s)
step() { step_name=$1; step_started=$(date +%s); say "$1 ..."; }
done_step() { say "$step_name: done in $(( $(date +%s) - step_started )) s"; }
is_root() { [ "$(id -u)" = 0 ]; }

apt_install() {
  if ! is_root; then
    say "missing: $* (install it, or run this as root and it will be installed)"; return 1
  fi
  if [ ! -f /tmp/.cutscenes-apt-updated ]; then
    step "apt-get update"; apt-get update -qq >/dev/null && touch /tmp/.cutscenes-apt-updated; done_step
  fi
  step "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  done_step
}

# Python 3.11+
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  say "Python 3.11 or newer is required (found: $("$PY" --version 2>&1 || echo none))"; exit 1
fi

# Java runs the Firestore and Pub/Sub emulators.
command -v java >/dev/null || apt_install openjdk-17-jre-headless

# The emulators come with the Google Cloud SDK, which no registry here serves.
# `gcloud info` costs seconds (5 at a load of 10): asked only when the SDK is
# not where its Debian package puts it.
SDK=/usr/lib/google-cloud-sdk
if [ ! -e "$SDK/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar" ]; then
  SDK=$(gcloud info --format='value(installation.sdk_root)' 2>/dev/null || echo "$SDK")
fi
for part in cloud-firestore-emulator/cloud-firestore-emulator.jar pubsub-emulator/bin/cloud-pubsub-emulator; do
  if [ ! -e "$SDK/platform/$part" ]; then
    say "missing $SDK/platform/$part: install the Google Cloud SDK with its emulators"
    say "  (gcloud components install cloud-firestore-emulator pubsub-emulator)"; exit 1
  fi
done

stamp_of() { sha256sum "$@" | sha256sum | cut -c1-16; }

# The two npm installs run in the background while pip works: on a first
# set-up all three mostly wait on downloads, so side by side they take about
# as long as the slowest one instead of their sum. Each says when it is done.
command -v npm >/dev/null || apt_install nodejs npm
npm_jobs=()
npm_install() {  # npm_install DIR WHAT NPM_ARGS...: in the background when stale
  local dir=$1 what=$2; shift 2
  local stamp; stamp=$(stamp_of $dir/package.json $(ls $dir/package-lock.json 2>/dev/null))
  [ "$(cat $dir/node_modules/.stamp 2>/dev/null)" = "$stamp" ] && return 0
  (
    step "installing $what ($dir, npm)"
    # --loglevel=error, not --silent: a failed install says why.
    # --prefer-offline: the lock files pin every version, so a package npm
    # has cached is not asked about again (this machine's npm config keeps
    # no registry URLs in locks, so npm asked for each of firebase-tools' 607
    # packages: 19-25 s against 13-17 s with a warm cache). Anything not
    # cached is still fetched, so an empty cache works as before.
    (cd $dir && npm "$@" --prefer-offline --no-audit --no-fund --loglevel=error >&2)
    echo "$stamp" > $dir/node_modules/.stamp
    done_step
  ) &
  npm_jobs+=("$!:$what")
}
if [ -f web/package.json ]; then
  # The web player is built with esbuild from npm packages.
  if [ -f web/package-lock.json ]; then npm_install web "the web player's packages" ci
  else npm_install web "the web player's packages" install; fi
fi
# The Firebase Auth emulator (npm firebase-tools, pinned by its lock file): the
# local stack signs every user in through it. --omit=optional: re2 (an
# optional dependency of the hosting emulator's superstatic) would otherwise be
# compiled from source, for minutes, and the Auth emulator never loads it.
npm_install infra/local/firebase "firebase-tools, the Auth emulator" ci --omit=optional
# The Node client (clients/node): its packages, for its tests in `make test`.
if [ -f clients/node/package.json ]; then
  node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' \
    || say "the Node client supports Node 20 or newer; found $(node --version)"
  npm_install clients/node "the Node client's packages" ci
fi

# Virtualenv and packages at the locked versions (requirements/constraints.txt,
# refreshed with `make lock`), reinstalled when pyproject.toml or the lock changes.
LOCK=requirements/constraints.txt
# The venv gets the newest pip straight from this Python's own pip (22.3+
# has --python): ensurepip's older copy, installed and then upgraded, took
# 19 + 8 s of a fresh set-up beside a CPU-bound process. ensurepip when that
# cannot be done.
venv_with_pip() {
  "$PY" -m venv --without-pip "$VENV"
  "$PY" -m pip --python "$VENV/bin/python" install -q --disable-pip-version-check --upgrade pip \
    2>&1 | grep -v "is ignored" >&2 || true
  "$VENV/bin/python" -m pip --version >/dev/null 2>&1 || "$VENV/bin/python" -m ensurepip -q
}
if [ ! -x "$VENV/bin/python" ]; then
  step "creating the virtualenv $VENV with pip"; venv_with_pip; done_step
fi
py_stamp=$(stamp_of pyproject.toml $LOCK)
if [ "$(cat "$VENV/.stamp" 2>/dev/null)" != "$py_stamp" ]; then
  step "installing Python packages from $LOCK (about a minute the first time)"
  # The lock is the whole closure, so pip installs it as it stands, with no
  # resolving (15 s of 38 on a quiet machine); the check below says whether
  # it still covers pyproject.toml. When it does not (a dependency added
  # without `make lock`), pip resolves as before, within the lock's pins.
  "$VENV/bin/pip" install -q --no-deps -r $LOCK -e . 2>&1 | grep -v "is ignored" >&2 || true
  if ! "$VENV/bin/python" -m infra.lock --check 2>/dev/null; then
    "$VENV/bin/pip" install -q -c $LOCK -e '.[dev]' 2>&1 | grep -v "is ignored" >&2 || true
    "$VENV/bin/python" -m infra.lock --check \
      || { say "the venv does not match $LOCK (pip install failed, or run make lock)"; exit 1; }
  fi
  echo "$py_stamp" > "$VENV/.stamp"
  done_step
fi
# Our own modules' bytecode, written here because Python may be told not to
# write it when importing (PYTHONDONTWRITEBYTECODE=1 on these machines): each
# of the suite's few hundred Python processes would compile them again
# (0.2 CPU-s for a function's modules). Only changed files are compiled.
"$VENV/bin/python" -m compileall -q -x node_modules shared cutscenes functions infra bench examples tests \
  >/dev/null || say "compiling our modules' bytecode failed (imports still work, slower)"

for job in "${npm_jobs[@]}"; do
  wait "${job%%:*}" || { say "installing ${job#*:} failed (npm's error is above)"; exit 1; }
done
# The player's bundles, rebuilt when their sources or packages change (a
# build is seconds of a warm `make demo`; web/dist/.stamp names what was built).
if [ -f web/build.mjs ]; then
  build_stamp=$(find web/src web/build.mjs web/package-lock.json -type f -print0 2>/dev/null \
    | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  if [ "$(cat web/dist/.stamp 2>/dev/null)" != "$build_stamp" ]; then
    step "building the web player (web/dist)"
    (cd web && node build.mjs >&2)
    echo "$build_stamp" > web/dist/.stamp
    done_step
  fi
fi

# Real Chromium for the browser tests.
if [ "$want_browser" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi
say "ready in $(( $(date +%s) - started_all )) s"
