"""skiffeval: a Nix-like functional evaluator and builder for SkiffOS-style embedded Linux systems.

Package map (imports point one way, checked by import-linter in the tests):

    cli -> session -> {eval, builders, skiffos} -> {syntax, store, kconfig} -> derivation
        -> {diagnostics, canonical}

``session`` is the only module that joins the evaluator with derivations and the store.
"""

__version__ = "0.1.0"
