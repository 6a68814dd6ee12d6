"""The ``skiffeval`` command group: each subcommand is one call into the session."""

from __future__ import annotations

import click

from skiffeval import __version__
from skiffeval.cli.cmd_build import build_command
from skiffeval.cli.cmd_eval import eval_command
from skiffeval.cli.cmd_layers import layers_command
from skiffeval.cli.cmd_run import run_command
from skiffeval.cli.cmd_skiffos import skiffos_group
from skiffeval.cli.cmd_query import path_info, query_group, why_depends
from skiffeval.cli.cmd_store import show_derivation, store_group
from skiffeval.cli.completion import completion_command

EPILOG = """\b
Exit status: 0 success, 1 evaluation or build failure, 2 usage error, 3 internal error (a bug).
Shell completion: eval "$(skiffeval completion bash)"   (or zsh)
"""


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="skiffeval")
def app() -> None:
    """skiffeval: evaluate and build SkiffOS-style embedded Linux systems from pure layers."""


app.add_command(eval_command)
app.add_command(build_command)
app.add_command(show_derivation)
app.add_command(store_group)
app.add_command(layers_command)
app.add_command(run_command)
app.add_command(skiffos_group)
app.add_command(query_group)
app.add_command(why_depends)
app.add_command(path_info)
app.add_command(completion_command)
