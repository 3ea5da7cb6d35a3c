#!/usr/bin/env bash
# Installs what the dashboard's browser test needs (test/integration/dashboard.test.ts):
# Debian's chromium, driven by playwright-core (a devDependency: playwright's own browser
# downloads are never used). Runs as root on Debian bookworm; does nothing when both are there.
set -euo pipefail

cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "install-chromium: /usr/bin/chromium missing, installing Debian's chromium" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends chromium
fi
/usr/bin/chromium --version

if ! node -e "import('playwright-core').catch(() => process.exit(1))"; then
  echo "install-chromium: playwright-core missing, installing the devDependencies" >&2
  npm install --no-audit --no-fund --ignore-scripts
fi
node -e "import('playwright-core').then(() => console.log('playwright-core ok'))"
