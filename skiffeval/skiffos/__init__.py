"""skiffos: reading real SkiffOS trees as data (discovery, SKIFF_CONFIG resolution, the chain).

Filled in by the modules of this package; see ``docs/skiffos.md``.
"""
