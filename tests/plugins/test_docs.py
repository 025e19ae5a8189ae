"""docs/plugins.md documents every hook exactly and shows the example plugin's real code."""

from __future__ import annotations

import importlib
import inspect
import re
from types import ModuleType

import pytest
from plugin_helpers import PLUGIN_ROOT, REPO

DOC = REPO / "docs" / "plugins.md"
BLOCK = re.compile(r'^```(\w+) title="([^"]+)"\n(.*?)^```$', re.DOTALL | re.MULTILINE)


def hookspec_modules() -> list[ModuleType]:
    """Every ``hookspecs.py`` module under packages/*/src (found on disk, then imported)."""
    modules = []
    for path in sorted(REPO.glob("packages/*/src/**/hookspecs.py")):
        src = next(p for p in path.parents if p.name == "src")
        dotted = ".".join(path.relative_to(src).with_suffix("").parts)
        modules.append(importlib.import_module(dotted))
    return modules


def hookspecs() -> dict[str, tuple[str, object]]:
    """Hook name -> (defining module, spec function), from the modules and the live manager."""
    from uqa_data.registry import get_plugin_manager

    found: dict[str, tuple[str, object]] = {}
    for module in hookspec_modules():
        for name, fn in vars(module).items():
            if inspect.isfunction(fn) and hasattr(fn, "uqa_spec"):
                found[name] = (module.__name__, fn)
    pm = get_plugin_manager()
    for name in dir(pm.hook):
        caller = getattr(pm.hook, name)
        spec = getattr(caller, "spec", None)
        if spec is not None:
            found.setdefault(name, (spec.namespace.__name__, spec.function))
    return found


def signature_text(fn: object) -> str:
    """``name(arg: Type, ...) -> Return`` with annotations as written in the hookspec."""
    sig = inspect.signature(fn)

    def ann(a: object) -> str:
        return a if isinstance(a, str) else inspect.formatannotation(a)

    params = ", ".join(
        f"{p.name}: {ann(p.annotation)}" if p.annotation is not p.empty else p.name
        for p in sig.parameters.values()
    )
    return f"{fn.__name__}({params}) -> {ann(sig.return_annotation)}"


def doc_sections() -> dict[str, str]:
    """Heading text -> body, for every ``###`` heading of the doc."""
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^### (.+)$", text, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def test_hooks_are_found() -> None:
    names = set(hookspecs())
    # the hooks of every package of the monorepo, at least
    assert {"uqa_addhooks", "uqa_register_tasks", "uqa_register_datasets",
            "uqa_register_templates", "uqa_register_encoders", "uqa_register_adapters",
            "uqa_register_llms", "uqa_register_baselines"} <= names


@pytest.mark.parametrize("hook", sorted(hookspecs()))
def test_every_hook_has_its_own_section_with_its_exact_signature(hook: str) -> None:
    module, fn = hookspecs()[hook]
    sections = doc_sections()
    assert hook in sections, f"docs/plugins.md has no '### {hook}' section"
    body = sections[hook].split("\n## ", 1)[0]
    signature = signature_text(fn)
    assert f"```python\n{signature}\n```" in body, (
        f"section '{hook}' must show the signature exactly:\n{signature}"
    )
    assert f"`{module}`" in body, f"section '{hook}' must say it is defined in `{module}`"
    for word in ("When it fires", "Arguments", "Returns"):
        assert word in body, f"section '{hook}' lacks '{word}'"
    opts = getattr(fn, "uqa_spec", {})
    if opts.get("historic"):
        assert "Historic" in body or "historic" in body
    if opts.get("firstresult"):
        assert "first non-None" in body
    assert "@hookimpl" in body, f"section '{hook}' has no example implementation"


def test_no_section_documents_a_hook_that_does_not_exist() -> None:
    hooks = set(hookspecs())
    documented = {h for h in doc_sections() if re.fullmatch(r"uqa_\w+", h)}
    assert documented == hooks, f"stale: {documented - hooks}, missing: {hooks - documented}"


def test_hook_examples_name_real_hooks_and_parse() -> None:
    hooks = set(hookspecs())
    for name, body in doc_sections().items():
        for code in re.findall(r"```python\n(.*?)```", body, re.DOTALL):
            if "@hookimpl" not in code:
                continue
            compile(code, f"docs/plugins.md:{name}", "exec")
            defined = set(re.findall(r"def (uqa_\w+)\(", code))
            assert defined <= hooks, f"{name}: example implements unknown hook(s) {defined - hooks}"


def example_blocks() -> dict[str, str]:
    """Path (relative to the plugin folder) -> code of each titled block of the doc."""
    prefix = "plugins/uqa-plugin-example/"
    blocks: dict[str, str] = {}
    for _lang, title, code in BLOCK.findall(DOC.read_text(encoding="utf-8")):
        assert title.startswith(prefix), f"titled block outside the example plugin: {title}"
        assert title not in blocks, f"file shown twice: {title}"
        blocks[title.removeprefix(prefix)] = code
    return blocks


def plugin_files() -> list[str]:
    files = [PLUGIN_ROOT / "pyproject.toml", *sorted((PLUGIN_ROOT / "src").rglob("*.py"))]
    return [f.relative_to(PLUGIN_ROOT).as_posix() for f in files]


def test_the_doc_shows_every_file_of_the_example_plugin() -> None:
    assert sorted(example_blocks()) == sorted(plugin_files())


@pytest.mark.parametrize("rel", plugin_files())
def test_the_doc_example_is_the_plugin_code_verbatim(rel: str) -> None:
    shown = example_blocks().get(rel)
    assert shown is not None, f"docs/plugins.md does not show {rel}"
    actual = (PLUGIN_ROOT / rel).read_text(encoding="utf-8")
    assert shown == actual, (
        f"the block titled plugins/uqa-plugin-example/{rel} in docs/plugins.md differs from "
        "the file; paste the file into the doc"
    )


def test_the_doc_entry_point_is_the_one_in_the_package() -> None:
    import tomllib

    project = tomllib.loads((PLUGIN_ROOT / "pyproject.toml").read_text())["project"]
    entry = project["entry-points"]["uqa"]
    assert entry == {"uqa_plugin_example": "uqa_plugin_example.plugin"}
    module = importlib.import_module(entry["uqa_plugin_example"])
    impls = {n for n in vars(module) if n.startswith("uqa_") and hasattr(getattr(module, n),
                                                                         "uqa_impl")}
    assert impls <= set(hookspecs())
    assert "uqa_register_encoders" in impls
    # hooks of packages that may be absent are optional
    for name in impls - {"uqa_addhooks", "uqa_register_tasks", "uqa_register_datasets",
                         "uqa_register_templates"}:
        assert getattr(module, name).uqa_impl.get("optionalhook"), name


def test_environment_variables_and_commands_are_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for word in ("UQA_LOAD_PLUGINS", "UQA_TRACE_PLUGINS", "`uqa plugins", "`uqa list",
                 "optionalhook=True", "[project.entry-points.uqa]"):
        assert word in text, word
    from uqa_data import registry

    assert "UQA_LOAD_PLUGINS" in registry.__doc__ and "UQA_TRACE_PLUGINS" in registry.__doc__
    for kind in registry.KIND_HOOKS:
        assert f"`{kind}`" in text, kind
