"""Builder revisions (a leaf module: the session reads it for every derivation it makes)."""

# The revision of each builder's behaviour: a derivation records its builder's revision (env
# ``builderRevision``), so changing what a builder writes invalidates what it wrote before.
# Bump a number whenever the output of that builder changes for the same inputs.
REVISIONS = {
    "config-merge": 1, "fragment-merge": 1, "overlay-merge": 1, "patch-dirs": 1, "br2-external": 1,
    "hook-wrappers": 2, "concat": 1, "files": 1, "bundle": 1, "kconfig-resolve": 4,
    "write-text": 1, "copy": 1, "fetchurl": 1, "fetchgit": 1, "buildroot": 2, "buildroot-show-info": 1,
}
