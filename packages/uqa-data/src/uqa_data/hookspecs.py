"""Hook specifications owned by uqa-data: the registry itself, tasks and datasets.

Other packages add their own specs through :func:`uqa_addhooks`, the way
pytest plugins add theirs, so ``uqa-eval`` works with only its own and ours.
Importing this module never imports numpy, torch or numba.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from uqa_data.registry import ComponentSpec

hookspec = pluggy.HookspecMarker("uqa")


# -- registry set-up ---------------------------------------------------------


@hookspec(historic=True)
def uqa_addhooks(pluginmanager: pluggy.PluginManager) -> None:
    """Add hook specifications of the package this plugin belongs to.

    Called once for every plugin as it is registered (historic), before its
    other hooks are verified. Packages that own a concept (encoders, adapters,
    baselines) call ``pluginmanager.add_hookspecs(their_hookspecs)`` here.

    :param pluginmanager: the ``uqa`` plugin manager.
    :returns: nothing.
    """


# -- data --------------------------------------------------------------------


@hookspec
def uqa_register_tasks() -> list[ComponentSpec]:
    """Register question sub-tasks (df, mf, ip, ap, li, si, it, or new ones).

    Called when the task table is first needed. Return a list of
    :class:`~uqa_data.registry.ComponentSpec` with ``kind="task"`` whose
    ``target`` names a :class:`~uqa_data.questions.base.QuestionTask` subclass
    as ``"module:attr"`` (resolved lazily).

    :returns: a list of task specs (may be empty).
    """


@hookspec
def uqa_register_datasets() -> list[ComponentSpec]:
    """Register data sources: synthetic generators and importers.

    Return :class:`~uqa_data.registry.ComponentSpec` with ``kind="dataset"``
    whose ``target`` is a callable ``(source: Path, out_dir: Path, **options)``
    that writes ``raw/interactions.arrow`` and ``raw/items.arrow``.

    :returns: a list of dataset specs (may be empty).
    """
