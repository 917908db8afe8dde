"""``python -m workers``: start a worker (the same as ``selfdebug worker``), with Celery's own options."""

from __future__ import annotations

import argparse

from workers.app import run_worker


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m workers", description="Start a selfdebug worker.")
    parser.add_argument("--concurrency", type=int, default=4, help="jobs run at once (default 4)")
    parser.add_argument("--pool", choices=["threads", "prefork", "solo"], default="threads")
    parser.add_argument("--loglevel", default="INFO")
    parser.add_argument("--hostname", default=None)
    args = parser.parse_args(argv)
    run_worker(concurrency=args.concurrency, pool=args.pool, loglevel=args.loglevel, hostname=args.hostname)


if __name__ == "__main__":
    main()
