"""orps language server (pygls 2 + lsprotocol): a thin layer over orps_engine.

Run it with ``orps serve`` or ``python -m orps_server`` (stdio; ``--tcp HOST:PORT`` to listen).
"""
