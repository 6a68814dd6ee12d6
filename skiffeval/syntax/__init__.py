"""The .sk syntax: grammar loading, the AST and parse errors (imports only diagnostics)."""
