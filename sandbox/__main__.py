"""``python -m sandbox build``: build (or find) the sandbox image; ``python -m sandbox tag`` prints its tag."""

from sandbox.image import main

main(prog="python -m sandbox")
