"""``python -m ganarium ...``: the command line, as the ``ganarium`` console script runs it (also
under ``torchrun ... -m ganarium train ...``)."""

import sys

from ganarium.cli import main

if __name__ == "__main__":
    sys.exit(main())
