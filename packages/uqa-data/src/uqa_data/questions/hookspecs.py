"""Hook specifications of question generation (added by its built-in plugin).

``uqa_register_tasks`` (in :mod:`uqa_data.hookspecs`) adds whole sub-tasks;
the hook below adds phrasings, to built-in or plugin tasks alike, so a plugin
can give ``df`` a new stem or a new language without touching uqa-data.
Importing this module never imports numpy or numba.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from uqa_data.questions.base import Template

hookspec = pluggy.HookspecMarker("uqa")


@hookspec
def uqa_register_templates() -> list[Template]:
    """Register question stems.

    Called once per :func:`uqa_data.questions.generate` call. Return a list of
    :class:`~uqa_data.questions.base.Template`: ``task`` and ``variant`` say
    which drafts it phrases (see each task's docstring for its variants and
    placeholders), ``template_id`` must be unique (a duplicate id is skipped
    with a warning), ``text`` maps language codes to ``str.format`` stems.

    Example::

        @hookimpl
        def uqa_register_templates():
            return [Template("si", "attr", "si_attr_shout",
                             {"en": "Lately, which {attr} does the user love?"})]

    :returns: a list of templates (may be empty).
    """
