"""The command-line commands, one module each, registered in ``COMMANDS``.

A command module calls ``COMMANDS.add(name, Command(...))`` with its help line, a function that
adds its arguments to an ``argparse`` parser, the function that runs it, and a few examples
shown at the end of its ``--help``. ``ganarium.cli`` builds the parser from this registry, so a
new command is a new file here. Commands read a recipe's declared capabilities, never its name.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field

from ganarium.registry import Registry


@dataclass(frozen=True)
class Command:
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], None]
    examples: tuple[str, ...] = ()
    description: str = ""
    order: int = 50  # position in `ganarium --help`
    takes_overrides: bool = False  # key=value items after the arguments (train)
    extra: dict = field(default_factory=dict)


COMMANDS: Registry[Command] = Registry("command", package="ganarium.commands")
