"""``python -m orps_server [--tcp HOST:PORT]``: the orps language server (stdio by default)."""

import argparse

from .server import start


def main() -> None:
    parser = argparse.ArgumentParser(prog="orps_server", description="The orps language server.")
    parser.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    start(parser.parse_args().tcp)


main()
