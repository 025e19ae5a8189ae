"""The ``uqa`` plugin manager and the lazy name tables built from it.

One pluggy project (``uqa``) and one entry-point group (``uqa``). uqa-data owns
the manager: it adds its own hookspecs, registers its built-in plugins, then
loads every entry point in its own ``try``. Other uqa packages are ordinary
entry points whose plugin adds that package's hookspecs in ``uqa_addhooks``.

Components (encoders, adapters, LLM sources, tasks, datasets, baselines) are
:class:`ComponentSpec` rows returned by ``uqa_register_*`` hooks; their
``target`` is a ``"module:attr"`` string resolved only when used, so listing
them never imports torch.

Environment:

- ``UQA_LOAD_PLUGINS``: comma-separated distribution names of third-party
  plugins to load (uqa's own packages always load); empty loads none.
- ``UQA_TRACE_PLUGINS``: set to ``1`` to trace every hook call on stderr.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata as metadata
import os
import re
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pluggy

from uqa_data import hookspecs
from uqa_data.errors import UnknownNameError, UqaError

PROJECT = "uqa"
ENTRY_POINT_GROUP = "uqa"
FIRST_PARTY = frozenset({"uqa-data", "uqa-encoders", "uqa-align", "uqa-eval", "uqa-cli"})

BUILTIN_PLUGINS: tuple[str, ...] = ("uqa_data.builtins", "uqa_data.questions.builtins")
"""uqa-data's own plugins, registered exactly like third-party ones."""

KIND_HOOKS: dict[str, str] = {
    "encoder": "uqa_register_encoders",
    "adapter": "uqa_register_adapters",
    "llm": "uqa_register_llms",
    "task": "uqa_register_tasks",
    "dataset": "uqa_register_datasets",
    "baseline": "uqa_register_baselines",
}
"""Component kind -> the hook that registers it (a hook may be absent when its
package is not installed: then the kind is simply empty)."""


class UqaPluginWarning(UserWarning):
    """A plugin failed to load or registered a name that was already taken."""


@dataclass(frozen=True)
class ComponentSpec:
    """One registered component.

    :param kind: one of :data:`KIND_HOOKS`.
    :param name: the name users type (``sasrec``, ``mean_linear``...).
    :param target: ``"module:attr"`` of the class or factory, imported lazily.
    :param description: one line shown by ``uqa list``.
    :param config: optional ``"module:attr"`` of the config dataclass.
    :param options: free-form extra facts (size presets, languages...).
    :param provider: distribution that registered it (filled in by the registry).
    :param plugin: plugin name that registered it (filled in by the registry).
    """

    kind: str
    name: str
    target: str
    description: str = ""
    config: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    provider: str = ""
    plugin: str = ""

    def load(self) -> Any:
        """Import and return the object named by :attr:`target`.

        :raises UqaError: it cannot be imported (naming the component and its origin).
        """
        return self._resolve(self.target, "target")

    def load_config(self) -> Any:
        """Import and return the config class named by :attr:`config`."""
        if self.config is None:
            raise UnknownNameError(f"{self.kind} '{self.name}' declares no config class")
        return self._resolve(self.config, "config")

    def origin(self) -> str:
        """``registered by plugin 'p' of distribution 'd'``, for messages."""
        return f"registered by plugin '{self.plugin or '?'}' of distribution " \
               f"'{self.provider or '?'}'"

    def _resolve(self, target: str, what: str) -> Any:
        try:
            return resolve_target(target)
        except UqaError:
            raise
        except Exception as exc:  # a plugin's broken module must not end in a traceback
            raise UqaError(f"{self.kind} '{self.name}' ({self.origin()}): its {what} "
                           f"'{target}' cannot be loaded: {type(exc).__name__}: {exc}") from exc


def resolve_target(target: str) -> Any:
    """Import ``"package.module:attr"`` and return the attribute."""
    module_name, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split(".") if attr else []:
        obj = getattr(obj, part)
    return obj


class _Registry:
    """The plugin manager plus where each plugin came from."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.sources: dict[str, tuple[str, str]] = {}  # plugin name -> (dist, entry point)
        self.tables: dict[str, dict[str, ComponentSpec]] = {}
        self.trace = os.environ.get("UQA_TRACE_PLUGINS", "") not in ("", "0")
        if self.trace:
            self.pm.trace.root.setwriter(sys.stderr.write)
            self.pm.enable_tracing()
        # Historic: every plugin registered later also gets this call.
        self.pm.hook.uqa_addhooks.call_historic(kwargs={"pluginmanager": self.pm})
        for dotted in BUILTIN_PLUGINS:
            self.pm.register(importlib.import_module(dotted), name=dotted)
            self.sources[dotted] = ("uqa-data", dotted)
        self.unknown_hooks: set[str] = set()  # named by _check_hook_names already
        self._load_entry_points()
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            if not any(f"'{name}'" in str(exc) for name in self.unknown_hooks):
                _warn(f"uqa: {_one_line(exc)}")

    def _load_entry_points(self) -> None:
        allowed = os.environ.get("UQA_LOAD_PLUGINS")
        allowed_set = None if allowed is None else {
            _normalized(a) for a in allowed.split(",") if a.strip()
        }
        seen: set[str] = set()
        loaded: list[tuple[Any, metadata.EntryPoint, str]] = []
        def dist_of(ep: metadata.EntryPoint) -> str:
            return ep.dist.name if ep.dist is not None else "?"

        # uqa's own packages first, so built-in names win over a plugin's duplicate.
        eps = sorted(
            metadata.entry_points(group=ENTRY_POINT_GROUP),
            key=lambda e: (dist_of(e) not in FIRST_PARTY, e.name),
        )
        for ep in eps:
            dist = dist_of(ep)
            if ep.name in seen:
                continue
            seen.add(ep.name)
            if (dist not in FIRST_PARTY and allowed_set is not None
                    and _normalized(dist) not in allowed_set):
                continue
            if self.pm.has_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
                self.pm.register(plugin, name=ep.name)
            except Exception as exc:  # a broken plugin must not break uqa
                if self.pm.has_plugin(ep.name):
                    self.pm.unregister(name=ep.name)
                _warn(f"{_plugin_origin(ep.name, ep.value, dist)} failed to load and was "
                      f"skipped: {type(exc).__name__}: {_one_line(exc)}")
                continue
            self.sources[ep.name] = (dist, ep.value)
            if dist not in FIRST_PARTY:
                loaded.append((plugin, ep, dist))
        for plugin, ep, dist in loaded:  # every hookspec is known by now (uqa_addhooks)
            self._check_hook_names(plugin, ep, dist)
        if allowed_set:
            third = sorted({dist_of(ep) for ep in eps} - FIRST_PARTY)
            for name in sorted(allowed_set - {_normalized(d) for d in third}):
                _warn(f"uqa: UQA_LOAD_PLUGINS names '{name}', but no installed plugin "
                      "distribution has that name (a distribution, as pip lists it); "
                      f"installed: {', '.join(third) if third else '(none)'}")

    def _check_hook_names(self, plugin: Any, ep: metadata.EntryPoint, dist: str) -> None:
        """Warn of a hook implementation whose name is no uqa hook, naming the plugin's
        distribution and the nearest hook names (pluggy lets an ``optionalhook`` typo pass
        in silence, and names only the module of any other)."""
        specs = sorted(n for n in dir(self.pm.hook) if n.startswith("uqa_")
                       and getattr(getattr(self.pm.hook, n), "spec", None) is not None)
        for attr in dir(plugin):
            opts = getattr(getattr(plugin, attr, None), f"{PROJECT}_impl", None)
            if not isinstance(opts, dict):
                continue
            name = opts.get("specname") or attr
            if name not in specs:
                self.unknown_hooks.add(name)
                _warn(f"{_plugin_origin(ep.name, ep.value, dist)}: "
                      f"{unknown_name_message('hook', name, specs)}")

    def table(self, kind: str) -> dict[str, ComponentSpec]:
        if kind not in KIND_HOOKS:
            raise UnknownNameError(
                f"unknown component kind '{kind}'; expected one of {', '.join(KIND_HOOKS)}"
            )
        if kind in self.tables:
            return self.tables[kind]
        table: dict[str, ComponentSpec] = {}
        hook = getattr(self.pm.hook, KIND_HOOKS[kind], None)
        impls = hook.get_hookimpls() if hook is not None else []
        for impl in impls:  # registration order: built-ins first, so they keep their names
            dist, ep_value = self.sources.get(impl.plugin_name, ("?", impl.plugin_name))
            where = _plugin_origin(impl.plugin_name, ep_value, dist)
            try:
                specs = impl.function() or []
            except Exception as exc:
                _warn(f"{where} failed in {KIND_HOOKS[kind]}: {type(exc).__name__}: {exc}")
                continue
            specs = _checked_specs(specs, kind, where)
            if self.trace:  # called one by one below, so pluggy's own tracing misses them
                names = ", ".join(spec.name for spec in specs) or "(none)"
                sys.stderr.write(f"  {KIND_HOOKS[kind]} [{impl.plugin_name}] -> {names}\n")
            for spec in specs:
                if spec.name in table:
                    other = table[spec.name]
                    _warn(f"{where} registers {kind} '{spec.name}', already registered by "
                          f"'{other.plugin}' ({other.provider}); keeping the first")
                    continue
                table[spec.name] = replace(
                    spec, kind=kind, provider=dist, plugin=impl.plugin_name
                )
        self.tables[kind] = table
        return table


def _checked_specs(specs: Any, kind: str, where: str) -> list[ComponentSpec]:
    """The :class:`ComponentSpec` rows of a hook's result; a result that is no list of
    them, and each row that is not one, is skipped with one warning naming the plugin."""
    hook = KIND_HOOKS[kind]
    if isinstance(specs, ComponentSpec) or not isinstance(specs, (list, tuple)):
        _warn(f"{where}: {hook} returned {type(specs).__name__}; expected a list of "
              "ComponentSpec, so its result was skipped")
        return []
    kept = []
    for spec in specs:
        if isinstance(spec, ComponentSpec) and isinstance(spec.name, str) and spec.name:
            kept.append(spec)
        else:
            _warn(f"{where}: {hook} returned {type(spec).__name__} {spec!r:.60}; expected a "
                  "ComponentSpec with a name, so it was skipped")
    return kept


def _plugin_origin(plugin: str, entry_point: str, dist: str) -> str:
    """``uqa: plugin 'p' (entry point 'm' from distribution 'd')``, for warnings."""
    return f"uqa: plugin '{plugin}' (entry point '{entry_point}' from distribution '{dist}')"


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line (pluggy's validation errors span several)."""
    return " ".join(str(exc).split())


def _normalized(name: str) -> str:
    """A distribution name as pip compares them (PEP 503): ``UQA_Plugin.x`` -> ``uqa-plugin-x``."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def _warn(message: str) -> None:
    warnings.warn(message, UqaPluginWarning, stacklevel=3)


_REGISTRY: _Registry | None = None


def _registry() -> _Registry:
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = _Registry()
    return _REGISTRY


def get_plugin_manager() -> pluggy.PluginManager:
    """The ``uqa`` plugin manager, built on first use (specs, built-ins, entry points)."""
    return _registry().pm


def reset_registry() -> None:
    """Forget the plugin manager so the next use rebuilds it (tests, new installs)."""
    global _REGISTRY
    _REGISTRY = None


def plugin_sources() -> dict[str, tuple[str, str]]:
    """Plugin name -> (distribution, entry point or module) for every loaded plugin."""
    return dict(_registry().sources)


def list_components(kind: str) -> dict[str, ComponentSpec]:
    """Every registered component of ``kind`` by name."""
    return dict(_registry().table(kind))


def get_component(kind: str, name: str, *, flag: str | None = None) -> ComponentSpec:
    """Look ``name`` up; unknown names raise an error listing close matches and all names."""
    table = _registry().table(kind)
    if name in table:
        return table[name]
    raise UnknownNameError(unknown_name_message(kind, name, list(table), flag=flag))


def unknown_name_message(
    what: str, name: str, valid: list[str], *, flag: str | None = None
) -> str:
    """``unknown encoder 'sasrc' (--encoder); did you mean 'sasrec'? valid: ...``."""
    where = f" ({flag})" if flag else ""
    # names sharing the typo's first three letters or more, at least half the shorter
    # one (``trm`` -> ``trm_plus``, ``tiniest`` -> ``tiny``), then close spellings
    def shared(v: str) -> int:
        pairs = zip(name, v, strict=False)
        return next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(name), len(v)))

    starts = sorted((v for v in valid if v != name and shared(v) >= 3
                     and 2 * shared(v) >= min(len(name), len(v))),
                    key=lambda v: (-shared(v), v))  # the longest shared start first
    close = list(dict.fromkeys([*starts, *difflib.get_close_matches(name, valid, n=3,
                                                                    cutoff=0.6)]))[:3]
    hint = f"; did you mean {', '.join(repr(c) for c in close)}? " if close else "; "
    listing = ", ".join(sorted(valid)) if valid else "(none registered)"
    return f"unknown {what} '{name}'{where}{hint}valid: {listing}"
