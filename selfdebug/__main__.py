"""``python -m selfdebug``: the ``selfdebug`` command line, for where the console script is not on PATH."""

from selfdebug.cli import run

if __name__ == "__main__":
    run()
