"""The evaluator of the .sk language: values, compiler, runtime operations, builtins, printing.

It performs no I/O of its own (``io.EvalIO`` is injected) and imports nothing of derivations,
the store or the CLI; the session registers domain builtins through ``builtins.registry``.
"""
