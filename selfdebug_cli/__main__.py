"""``python -m selfdebug_cli``: the ``selfdebug`` command line."""

from selfdebug_cli import run

if __name__ == "__main__":
    run()
