"""``skiffeval run``: run a command a layer declares, like SkiffOS's ``make cmd/<pkg>/<cmd>``."""

from __future__ import annotations

import os
import subprocess

import click

from skiffeval.cli.common import Context, common_options, file_options
from skiffeval.diagnostics import SkiffError


@click.command("run", context_settings={"ignore_unknown_options": True})
@click.argument("board", type=click.Path())
@click.argument("command", required=False)
@click.argument("command_args", nargs=-1, type=click.UNPROCESSED)
@click.option("-A", "--attr", "attr", metavar="ATTR", help="The system is this attribute of BOARD.")
@click.option("--list", "list_", is_flag=True, help="List the commands the system's layers declare.")
@click.option("--override-input", "overrides", multiple=True, metavar="NAME=PATH")
@file_options
@common_options
def run_command(board, command, command_args, attr, list_, overrides, args, ctx: Context) -> None:
    """Run COMMAND of a layer of the system BOARD (its default bundle is built first; the
    system's outputs are in the environment: SKIFFEVAL_BUNDLE, SKIFFEVAL_CONFIG,
    SKIFFEVAL_OVERLAY, SKIFFEVAL_IMAGES when the image was built, BUILDROOT_DIR ...).

    \b
    Examples:
      skiffeval run layers/boards/pi4.sk --list
      skiffeval run layers/boards/pi4.sk format /dev/sdX
      skiffeval run sk.sk pi/common/format          # a SkiffOS package's command
    """
    from skiffeval.session import BuildRequest
    from skiffeval.session.codes import BAD_COMMAND
    from skiffeval.session.core import resolve_placeholders, run_environment, system_commands

    ctx.set_overrides(overrides)
    session = ctx.session
    request = BuildRequest(board, (attr,) if attr else (), args)
    system, commands, value = system_commands(session, request)
    if list_ or command is None:
        if ctx.output.json:
            ctx.output.data([{"layer": c.layer, "name": c.name, "description": c.description} for c in commands])
            return
        width = max((len(f"{c.layer}/{c.name}") for c in commands), default=0) + 2
        for c in commands:
            ctx.output.result(f"{(c.layer + '/' + c.name).ljust(width)}{c.description}")
        if not commands:
            ctx.output.info(f"the layers of '{system}' declare no commands")
        return
    matches = [c for c in commands if command in (c.name, f"{c.layer}/{c.name}")]
    if len(matches) != 1:
        from skiffeval.diagnostics import did_you_mean_help

        names = [f"{c.layer}/{c.name}" for c in commands] + [c.name for c in commands]
        if not matches:
            raise SkiffError(BAD_COMMAND, f"no layer of '{system}' declares the command '{command}'", help=did_you_mean_help(command, names))
        raise SkiffError(BAD_COMMAND, f"'{command}' is declared by several layers: " + ", ".join(f"'{c.layer}/{c.name}'" for c in matches),
                         help=["name it as <layer>/<command>"])
    chosen = matches[0]
    outcome = session.build([request], out_link=None)
    env = dict(os.environ)
    env.update(run_environment(session, system, value, outcome))
    ctx.output.diagnostics(session.warnings)
    env.update({k: resolve_placeholders(session, v) for k, v in chosen.env})
    env["SKIFFEVAL_LAYER"] = chosen.layer
    argv = [resolve_placeholders(session, a) for a in chosen.argv] + list(command_args)
    cwd = resolve_placeholders(session, chosen.cwd) if chosen.cwd else None
    ctx.output.detail(f"running {' '.join(argv)}" + (f" in {cwd}" if cwd else ""))
    try:
        proc = subprocess.run(argv, cwd=cwd, env=env)
    except OSError as exc:
        raise SkiffError(BAD_COMMAND, f"cannot run command '{chosen.layer}/{chosen.name}': {exc.strerror or exc}") from None
    if proc.returncode != 0:
        raise SkiffError(BAD_COMMAND, f"command '{chosen.layer}/{chosen.name}' failed with exit status {proc.returncode}", chosen.span)
