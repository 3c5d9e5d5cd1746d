#!/bin/sh
# Prints the path of a Python >= 3.12 interpreter, or explains what to install and fails.
# Order: $PYTHON, then interpreters on PATH, then pyenv's installed versions. pyenv shims on PATH
# that are not selected fail to run, so every candidate is tried, not just looked up.
ok() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

if [ -n "${PYTHON:-}" ]; then
    if ok "$PYTHON"; then
        command -v "$PYTHON" 2>/dev/null || echo "$PYTHON"
        exit 0
    fi
    echo "PYTHON=$PYTHON is not a Python 3.12 or newer." >&2
    exit 1
fi

for name in python3.14 python3.13 python3.12 python3 python; do
    path=$(command -v "$name" 2>/dev/null) || continue
    if ok "$path"; then
        echo "$path"
        exit 0
    fi
done

pyenv_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for path in $(ls -d "$pyenv_root"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -r -V); do
    if ok "$path"; then
        echo "$path"
        exit 0
    fi
done

cat >&2 <<'MSG'
Spar needs Python 3.12 or newer (Django 6 does not run on older versions), and none was found.
Install one, for example:
  Debian/Ubuntu:  sudo apt install python3.12 python3.12-venv
  macOS:          brew install python@3.13
  pyenv:          pyenv install 3.13
or point PYTHON at one:  make run PYTHON=/path/to/python3.13
MSG
exit 1
