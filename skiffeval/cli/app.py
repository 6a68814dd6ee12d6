"""The ``skiffeval`` command group: each subcommand is one call into the session.

Subcommands are imported when they are asked for (click's "lazily loading subcommands"
pattern): a command pays for its own module and what it imports, not for every other
command's — a warm ``skiffos configure`` or a no-op ``build`` starts in a few tens of
milliseconds less.  ``--help`` and shell completion import them all to list them.
"""

from __future__ import annotations

import importlib

import click

from skiffeval import __version__

EPILOG = """\b
Exit status: 0 success, 1 evaluation or build failure, 2 usage error, 3 internal error (a bug).
Shell completion: eval "$(skiffeval completion bash)"   (or zsh)
"""

# command name -> (module, attribute) of its click command
COMMANDS: dict[str, tuple[str, str]] = {
    "eval": ("skiffeval.cli.cmd_eval", "eval_command"),
    "build": ("skiffeval.cli.cmd_build", "build_command"),
    "show-derivation": ("skiffeval.cli.cmd_store", "show_derivation"),
    "store": ("skiffeval.cli.cmd_store", "store_group"),
    "layers": ("skiffeval.cli.cmd_layers", "layers_command"),
    "run": ("skiffeval.cli.cmd_run", "run_command"),
    "skiffos": ("skiffeval.cli.cmd_skiffos", "skiffos_group"),
    "query": ("skiffeval.cli.cmd_query", "query_group"),
    "why-depends": ("skiffeval.cli.cmd_query", "why_depends"),
    "path-info": ("skiffeval.cli.cmd_query", "path_info"),
    "completion": ("skiffeval.cli.completion", "completion_command"),
}


class LazyGroup(click.Group):
    """A group whose subcommands (``COMMANDS``) are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, attr = COMMANDS[cmd_name]
            command = getattr(importlib.import_module(module), attr)
            assert command.name == cmd_name, (command.name, cmd_name)
            self.add_command(command)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="skiffeval")
def app() -> None:
    """skiffeval: evaluate and build SkiffOS-style embedded Linux systems from pure layers."""
