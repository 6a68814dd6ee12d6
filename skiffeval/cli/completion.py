"""Shell completion: ``skiffeval completion bash|zsh|fish`` prints click's completion script, and
TARGET arguments complete as file names.

The script calls ``skiffeval`` back with ``_SKIFFEVAL_COMPLETE=<shell>_complete``; click answers
with the commands, options and choices that fit (``click.shell_completion``).  Install it with
``eval "$(skiffeval completion bash)"`` in ``~/.bashrc`` (zsh: ``~/.zshrc``).
"""

from __future__ import annotations

from typing import Any

import click
from click.shell_completion import CompletionItem, get_completion_class

from skiffeval.cli.common import Context, common_options

__all__ = ["completion_command", "complete_target", "completion_script", "SHELLS"]

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_SKIFFEVAL_COMPLETE"


def complete_target(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """A TARGET completes as a file name (``FILE``, a store path, a ``.drv`` or an out-link)."""
    return [CompletionItem(incomplete, type="file")]


def completion_script(shell: str, cli: Any) -> str:
    """The completion script of ``shell`` for the command group ``cli``."""
    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - SHELLS are all known to click
        raise click.BadParameter(f"unsupported shell '{shell}'")
    return cls(cli, {}, "skiffeval", COMPLETE_VAR).source()


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
@common_options
def completion_command(shell: str, ctx: Context) -> None:
    """Print the shell completion script for SHELL (commands, options, choices and file names).

    \b
    Examples:
      eval "$(skiffeval completion bash)"        # in ~/.bashrc
      eval "$(skiffeval completion zsh)"         # in ~/.zshrc
      skiffeval completion fish > ~/.config/fish/completions/skiffeval.fish
    """
    from skiffeval.cli.app import app

    ctx.output.result(completion_script(shell, app))
