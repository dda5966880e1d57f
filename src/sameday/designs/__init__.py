"""Experiment designs: ``ab``, ``interleave``, ``bandit``, one module each.

A design is everything that differs between kinds of online test, behind one protocol
(:class:`~sameday.designs.base.Design`): what it checks in an experiment file, what it compiles
once per served state, how it prepares and finishes a request (which arm, which lists, which
exposure), how its report is built from the event log, and how that report is rendered as text,
HTML and JSON-ready data. Each design module holds all of that for its design, and
:data:`sameday.design_registry.DESIGNS` names them in one place.

Why the package sits at the top of the layers (above serve, analysis and reports), rather than
each design being split into a serving part, an analysis part and a rendering part, one per
layer: a newcomer adding a design writes one module and one registry line, and reads one file
to learn what a design is. The layers below never import this package; they look a design up by
name through :mod:`sameday.design_registry`, which imports the module on first use (the way
:mod:`sameday.registry` opens storage backends). To keep the serving path light, a design
module imports serving code at its top and analysis and rendering code (DuckDB, numpy, rich)
inside the methods that need them; ``tests/test_public_api.py`` holds the serving path to it.
"""
