"""`ganarium serve RUN [RUN ...]`: a local web page to sample, walk, mix, caption, translate and
compare trained runs, with each run's training view (Gradio; `pip install ganarium[app]`)."""

from __future__ import annotations

import argparse

from ganarium.commands import COMMANDS, Command
from ganarium.commands._args import UsageError


def _add(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folders (several: a compare tab)")
    p.add_argument("--port", type=int, help="the port (default: the first free one from 7860)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on; 0.0.0.0 opens the page to your network",
    )
    p.add_argument(
        "--share",
        action="store_true",
        help="also make a public link through Gradio's share servers (off by default)",
    )
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")


def run(args: argparse.Namespace) -> None:
    from ganarium.app import PageError
    from ganarium.app.server import start

    if args.port is not None and not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port} must be from 1 to 65535")
    try:
        start(args.runs, host=args.host, port=args.port, share=args.share, device=args.device)
    except PageError as e:
        raise UsageError(str(e)) from None


COMMANDS.add(
    "serve",
    Command(
        "a local web page for trained runs: samples, latent walks, each recipe's controls, "
        "training curves, runs side by side",
        _add,
        run,
        (
            "ganarium serve runs/dcgan-digits-1",
            "ganarium serve runs/dcgan-digits-1 runs/wgan-gp-digits-1   # compare them",
            "ganarium serve runs/pix2pix-edges2digits-1 --port 8000",
        ),
        order=75,
    ),
)
