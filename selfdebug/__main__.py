"""``python -m selfdebug``: the ``selfdebug`` command line (``selfdebug_cli``), for where the console script is not
on PATH. The one place the engine's folder names the command line: a program's entry, which nothing imports."""

from selfdebug_cli import run

if __name__ == "__main__":
    run()
