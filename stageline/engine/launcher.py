"""The launcher installed as ``bin/pulumi-language-python`` beside a built engine.

The Python language host built here comes from sdk/v3 v3.68.0 (see engine/language-python),
which takes a project's virtualenv as the ``-virtualenv``/``-root`` flags that the CLI of that
time passed. Today's CLI sends ``runtime.options`` over gRPC instead, which that host does not
read, so plain ``pulumi up`` ran the program with whatever ``python3`` came first on PATH and
failed with ``No module named 'pulumi'``. The launcher reads ``virtualenv`` from the project's
Pulumi.yaml (the language host starts in the program's folder) and passes it on as the flags,
so anyone with ``.stageline/engine/bin`` on PATH gets the project's virtualenv, as with the
official host.
"""

from __future__ import annotations

# The real host, relative to the launcher's folder.
HOST = "../libexec/pulumi-language-python"

SCRIPT = r"""#!/bin/sh
# Installed by stageline: starts the Python language host with the project's virtualenv
# (runtime.options.virtualenv in Pulumi.yaml), which the host built here takes as flags.
set -eu
here=$(CDPATH= cd -- "$(dirname -- "$(readlink -f -- "$0")")" && pwd)
host="$here/__HOST__"

# The engine starts the host in the program's folder; the project file is there or above.
root=$PWD
while [ ! -f "$root/Pulumi.yaml" ] && [ ! -f "$root/Pulumi.yml" ] && [ "$root" != / ]; do
  root=$(dirname -- "$root")
done
project="$root/Pulumi.yaml"
[ -f "$project" ] || project="$root/Pulumi.yml"

venv=${PULUMI_RUNTIME_VIRTUALENV:-}
if [ -z "$venv" ] && [ -f "$project" ]; then
  # `virtualenv: .venv` (quoted or not, with an optional comment) under runtime.options.
  venv=$(sed -n 's/^[[:space:]]*virtualenv:[[:space:]]*//p' "$project" | head -n 1 |
    sed -e 's/[[:space:]]*#.*$//' -e "s/^[\"']//" -e "s/[\"'][[:space:]]*$//")
fi

set -- -use-executor "$here/pulumi-language-python-exec" "$@"
if [ -n "$venv" ]; then
  set -- -root "$root" -virtualenv "$venv" "$@"
fi
exec "$host" "$@"
""".replace("__HOST__", HOST)
