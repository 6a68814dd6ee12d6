"""The command line (the only place that parses arguments or prints)."""


def main(argv: list[str] | None = None) -> int:
    raise SystemExit("skiffeval: not yet implemented")
