"""The web dashboard: server-rendered pages over the library, for the morning and the wall.

``sameday ui`` serves it; ``sameday serve --ui`` mounts the same pages under ``/ui``, behind
the admin key. :func:`sameday.ui.app.create_ui` builds the app over a
:class:`sameday.ui.state.Dashboard` (the project, its metadata store, its reports) and an
:class:`sameday.ui.access.Access` (the keys). Each page's facts come from a module of its own
(:mod:`~sameday.ui.morning`, :mod:`~sameday.ui.runs`, :mod:`~sameday.ui.snapshots`,
:mod:`~sameday.ui.experiments`, :mod:`~sameday.ui.alerts`, :mod:`~sameday.ui.models`,
:mod:`~sameday.ui.lineage`); see docs/dashboard.md.
"""
