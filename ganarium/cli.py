"""The `ganarium` command line. Each command lives in ``ganarium/commands/`` and registers
itself in ``COMMANDS``; this module builds the parser from that registry and turns every user
error into one line on stderr with exit code 2 (see `ganarium COMMAND --help`)."""

from __future__ import annotations

import argparse
import os
import sys

from ganarium.errors import GanariumError


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the fix, not the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(2)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Each argument's default after its help (unless there is none to show); examples kept as
    written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        shown = default not in (None, False, argparse.SUPPRESS) and action.option_strings
        if shown and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


def build_parser() -> argparse.ArgumentParser:
    from ganarium.commands import COMMANDS

    p = OneLineParser(
        prog="ganarium",
        description="Train, sample, evaluate and compare GANs.",
        formatter_class=HelpFormatter,
    )
    from ganarium import __version__

    p.add_argument("--version", action="version", version=f"ganarium {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for name in sorted(COMMANDS.names(), key=lambda n: (COMMANDS.get(n).order, n)):
        cmd = COMMANDS.get(name)
        epilog = "examples:\n" + "\n".join(f"  {e}" for e in cmd.examples) if cmd.examples else None
        sp = sub.add_parser(
            name,
            help=cmd.help,
            description=cmd.description or cmd.help,
            epilog=epilog,
            formatter_class=HelpFormatter,
        )
        cmd.add_arguments(sp)
        sp.set_defaults(func=cmd.run, takes_overrides=cmd.takes_overrides)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    overrides = [a for a in rest if "=" in a and not a.startswith("-")]
    unknown = [a for a in rest if a not in overrides or not args.takes_overrides]
    if unknown:
        print(
            f"ganarium {args.command}: error: unrecognized arguments: {' '.join(unknown)} "
            f"(see `ganarium {args.command} --help`)",
            file=sys.stderr,
        )
        return 2
    args.overrides = overrides
    try:
        args.func(args)
    except GanariumError as e:
        print(f"ganarium: error: {e}", file=sys.stderr)
        return 2
    except SystemExit as e:
        return int(e.code or 0)
    except BrokenPipeError:  # output piped into a reader that stopped (`| head`): not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - python flushes it at exit
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
