"""Code that runs inside the sandbox's own processes (zygote, warden, payloads).

Standard library only, and no imports of the rest of orps: the zygote loads this package
by path under the alias ``_orps_runtime`` so that a sandboxed process never imports the
engine (or the model client) it would otherwise drag in.
"""
