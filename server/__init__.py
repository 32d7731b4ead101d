"""orps language server (pygls 2): a thin layer over orps_engine. Arrives with Roadmap 3/8."""
