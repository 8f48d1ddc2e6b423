"""CadreCare contracts: every shape that crosses a process boundary lives here.

Both sides of every boundary import these models; services never define their own copies.
"""
