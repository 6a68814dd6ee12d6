#!/bin/sh
# Buildroot post-build hook of skiff/base: $1 is the target directory.
# Keep root's SSH directory private, whatever the overlay's modes were.
set -eu
target="$1"
if [ -d "$target/root/.ssh" ]; then
  chmod 0700 "$target/root/.ssh"
fi
