#!/usr/bin/env bash
# Installs what building and testing Steward needs, only where it is missing, and says
# what it does. Safe to run again: a second run installs nothing.
#
#   scripts/bootstrap.sh          build tools (wasm32 target, cargo-leptos, wasm-bindgen, wasm-opt)
#   scripts/bootstrap.sh --test   also the test tools (leptosfmt, Playwright, Chromium)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test_tools=false
[ "${1:-}" = "--test" ] && want_test_tools=true

say() { printf '\033[1mbootstrap:\033[0m %s\n' "$*"; }
export PATH="$HOME/.cargo/bin:$PWD/end2end/node_modules/.bin:$PATH"

# 1. The WebAssembly target for the browser bundle.
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  :
else
  say "adding the Rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 2. cargo-leptos 0.3.8 (newer ones need a newer rustc); no_downloads makes it use the
#    wasm-bindgen and wasm-opt found on PATH instead of fetching binaries.
leptos_version=0.3.8
if cargo leptos --version 2>/dev/null | grep -q " ${leptos_version}\$"; then
  :
else
  say "installing cargo-leptos ${leptos_version} (takes about 13 minutes, once)"
  cargo install cargo-leptos --locked --version "${leptos_version}" --features no_downloads
fi

# 3. wasm-bindgen-cli at exactly the wasm-bindgen version in Cargo.lock (its own
#    lockfile pins a crate the registry lacks, hence no --locked).
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "${bindgen_version}" ]; then
  echo "bootstrap: cannot find wasm-bindgen in Cargo.lock" >&2
  exit 1
fi
if wasm-bindgen --version 2>/dev/null | grep -q " ${bindgen_version}\$"; then
  :
else
  say "installing wasm-bindgen-cli ${bindgen_version} (about 2 minutes, once)"
  cargo install wasm-bindgen-cli --version "${bindgen_version}"
fi

# 4. npm packages of end2end/: binaryen's wasm-opt (Debian's 108 produces a release
#    bundle that fails to hydrate) and Playwright. Reinstalled only when the lockfile
#    changed since the last install.
stamp=end2end/node_modules/.steward-installed
if [ ! -f "${stamp}" ] || [ end2end/package-lock.json -nt "${stamp}" ]; then
  say "installing the npm packages of end2end/ (wasm-opt, Playwright)"
  (cd end2end && npm ci --no-audit --no-fund)
  touch "${stamp}"
fi

# 5. leptosfmt for `make lint` (the formatter of the UI's view! macros), pinned like the
#    rest so a new release cannot fail the lint on unchanged code.
leptosfmt_version=0.1.33
if $want_test_tools; then
  if leptosfmt --version 2>/dev/null | grep -q " ${leptosfmt_version}\$"; then
    :
  else
    say "installing leptosfmt ${leptosfmt_version} (about 3 minutes, once)"
    cargo install leptosfmt --locked --version "${leptosfmt_version}"
  fi
fi

# 6. Chromium for the browser tests: Debian's package, never a downloaded browser.
if $want_test_tools; then
  chromium_path=${CHROMIUM_PATH:-/usr/bin/chromium}
  if [ ! -x "${chromium_path}" ]; then
    if [ "$(id -u)" = 0 ]; then
      say "installing Chromium from Debian's packages"
      DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null \
        || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null; }
    else
      echo "bootstrap: Chromium is missing at ${chromium_path}; install it with 'sudo apt-get install chromium' or set CHROMIUM_PATH" >&2
      exit 1
    fi
  fi
fi
