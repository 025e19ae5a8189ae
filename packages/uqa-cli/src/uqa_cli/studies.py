"""The paper's studies (Tables 2-7, Figure 3) as sets of runs in one study directory.

A study is a list of :class:`Variant` rows. Each variant is an ordinary run
directory under the study directory, so every variant can be inspected or
re-run alone. A stage whose fingerprint (its resolved config and those of the
stages it reads) matches one a sibling variant finished is linked in from there
instead of being recomputed (:meth:`uqa_eval.pipeline.Pipeline.reuse`): ``table2``
makes its data and questions once, ``ablation-align`` pre-trains once. The study
ends with one comparison table (Markdown, JSON, rich) and one plot.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from uqa_data.errors import UnknownNameError, UqaError, UqaInputError
from uqa_data.io import read_json, write_json
from uqa_data.layout import RunLayout
from uqa_data.progress import console
from uqa_data.registry import unknown_name_message

from uqa_cli.run import RunOptions, checked_configs, run_pipeline

if TYPE_CHECKING:
    from uqa_eval.report.seeds import Control

PAPER_ENCODERS = ("gru4rec", "sasrec", "mamba4rec", "hstu", "trm_plus")
SCALE_SIZES = ("3m", "13m", "25m", "57m", "85m", "303m", "680m", "1.2b")
SCALE_LENGTHS = (32, 64, 128, 256, 512)


@dataclass
class Variant:
    """One run of a study: its directory label, its options and the facts to plot by."""

    label: str
    options: RunOptions
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class StudyArgs:
    """What every study takes from the command line."""

    out: Path
    preset: str = "tiny"
    llm: str = "smollm2"
    seed: int = 0
    launcher: str = "local"
    encoder: str = "trm_plus"
    encoders: tuple[str, ...] = PAPER_ENCODERS
    """table2's encoders: the paper's five, or any registered (a plugin's among them)."""
    sizes: tuple[str, ...] = SCALE_SIZES
    lengths: tuple[int, ...] = SCALE_LENGTHS
    baselines: tuple[str, ...] | None = None
    """None: each study's own baselines; else these (see :func:`with_baselines`)."""
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``--set STAGE.KEY=VALUE`` for every variant (see :func:`with_settings`)."""


def _base(args: StudyArgs, **kw: Any) -> RunOptions:
    defaults: dict[str, Any] = {
        "preset": args.preset,
        "llm": args.llm,
        "seed": args.seed,
        "baselines": [],
    }
    defaults.update(kw)
    return RunOptions(**defaults)


def table2(args: StudyArgs) -> list[Variant]:
    """Every encoder (the paper's five unless ``--encoders``), plus the text20/text50 and
    none baselines (paper Table 2)."""
    variants = [Variant(enc, _base(args, encoder=enc), {"encoder": enc}) for enc in args.encoders]
    variants[0].options.baselines = ["text20", "text50", "none"]
    return variants


def ablation_pretrain(args: StudyArgs) -> list[Variant]:
    """Inputs full / no-text / id-only x loss ce / infonce (paper Table 3)."""
    out = []
    for inputs in ("full", "no-text", "id-only"):
        for loss in ("ce", "infonce"):
            out.append(
                Variant(
                    f"{inputs}-{loss}",
                    _base(
                        args,
                        encoder=args.encoder,
                        overrides={"pretrain": {"input_mode": inputs, "loss": loss}},
                    ),
                    {"inputs": inputs, "loss": loss},
                )
            )
    return out


def ablation_align(args: StudyArgs) -> list[Variant]:
    """Adapter mean_linear / qformer x strategy adapter / full / lora (paper Table 4)."""
    return [
        Variant(
            f"{adapter}-{strategy}",
            _base(args, encoder=args.encoder, adapter=adapter, strategy=strategy),
            {"adapter": adapter, "strategy": strategy},
        )
        for adapter in ("mean_linear", "qformer")
        for strategy in ("adapter", "full", "lora")
    ]


def scale_size(args: StudyArgs) -> list[Variant]:
    """trm_plus over its size presets (paper Table 5, Figure 3)."""
    return [
        Variant(
            f"trm_plus-{size}", _base(args, encoder="trm_plus", encoder_size=size), {"size": size}
        )
        for size in args.sizes
    ]


def scale_length(args: StudyArgs) -> list[Variant]:
    """Maximum sequence length in pre-training, 32..512 (paper Table 6)."""
    return [
        Variant(
            f"len{n}",
            _base(args, encoder=args.encoder, overrides={"pretrain": {"max_len": n}}),
            {"max_len": n},
        )
        for n in args.lengths
    ]


def efficiency(args: StudyArgs) -> list[Variant]:
    """Input tokens and answering throughput, embedding vs text prompts (paper Table 7)."""
    return [
        Variant(
            args.encoder,
            _base(args, encoder=args.encoder, baselines=["text20", "text50"]),
            {"encoder": args.encoder},
        )
    ]


STUDIES: dict[str, Callable[[StudyArgs], list[Variant]]] = {
    "table2": table2,
    "ablation-pretrain": ablation_pretrain,
    "ablation-align": ablation_align,
    "scale-size": scale_size,
    "scale-length": scale_length,
    "efficiency": efficiency,
}


def get_study(name: str) -> Callable[[StudyArgs], list[Variant]]:
    if name not in STUDIES:
        raise UnknownNameError(unknown_name_message("study", name, list(STUDIES)))
    return STUDIES[name]


def run_study(
    name: str, args: StudyArgs, *, yes: bool = False, budget_minutes: float = 30.0
) -> dict[str, Any]:
    """Run every variant of study ``name`` into ``args.out`` and write its report."""
    variants = study_variants(name, args, budget_minutes)
    return run_variants(name, args, variants, yes=yes, budget_minutes=budget_minutes)


def study_variants(name: str, args: StudyArgs, budget_minutes: float = 30.0, *,
                   seeds: bool = False) -> list[Variant]:
    """The variants of study ``name``, every one's flags and settings checked, so a bad size
    or length in the last variant fails in seconds, not after the others; nothing is run
    or written."""
    if not (math.isfinite(budget_minutes) and budget_minutes >= 0):
        raise UqaInputError(f"--budget-minutes {budget_minutes:g}: expected a number >= 0")
    variants = with_settings(name, get_study(name)(args), args.settings, seeds=seeds)
    if args.baselines is not None:
        variants = with_baselines(variants, args.baselines)
    for variant in variants:
        try:
            checked_configs(replace(variant.options, out=args.out / variant.label,
                                    launcher=args.launcher))
        except (UqaInputError, UnknownNameError) as exc:
            said = str(exc)
            for flag, study_flag in STUDY_FLAGS.get(name, {}).items():  # what the user typed
                said = said.replace(f"({flag})", f"({study_flag})")
            raise UqaInputError(f"study '{name}', variant {variant.label}: {said}") from None
    return variants


STUDY_FLAGS: dict[str, dict[str, str]] = {
    "table2": {"--encoder": "--encoders"},
    "scale-size": {"--encoder-size": "--sizes"},
    "scale-length": {"--set pretrain.max_len": "--lengths"},
}
"""Per study, the flag a variant's setting came from, for its error messages."""


SET_FIELDS: dict[tuple[str, str], str] = {
    ("pretrain", "encoder"): "encoder", ("pretrain", "size"): "encoder_size",
    ("align", "adapter"): "adapter", ("align", "strategy"): "strategy",
    ("align", "llm"): "llm", ("eval", "llm"): "llm", ("align", "mode"): "mode",
    ("eval", "mode"): "mode", ("questions", "lang"): "lang",
    ("questions", "distractors"): "distractors",
}
"""``--set`` keys that win over a :class:`RunOptions` field of the same run."""


def with_settings(name: str, variants: list[Variant], settings: dict[str, dict[str, Any]],
                  *, seeds: bool = False) -> list[Variant]:
    """Each variant with ``settings`` (``--set``) added to its stage overrides. A setting
    the study varies across its variants, or sets itself to another value (``seeds``: a
    ``seed`` under ``--seeds``), is refused, naming the variants' values: it would make
    the variants alike, or be ignored, and the table would not say what it compared."""
    for stage, values in settings.items():
        for key in values:
            if seeds and key == "seed":
                raise UqaInputError(f"--set {stage}.seed: --seeds sets it per seed")
            field_name = SET_FIELDS.get((stage, key))
            own = {v.label: v.options.overrides.get(stage, {}).get(
                key, getattr(v.options, field_name) if field_name else None) for v in variants}
            overridden = [v.options.overrides[stage][key] for v in variants
                          if key in v.options.overrides.get(stage, {})]
            if len({repr(x) for x in own.values()}) > 1 or any(
                    x != values[key] for x in overridden):
                varied = STUDY_FLAGS.get(name, {}).get(
                    f"--set {stage}.{key}" if field_name is None
                    else "--" + field_name.replace("_", "-"))
                shown = ", ".join(f"{label} {x!r}" for label, x in own.items())
                raise UqaInputError(
                    f"--set {stage}.{key}: study '{name}' sets it per variant ({shown})"
                    + (f"; choose its values with {varied}" if varied else ""))
    for variant in variants:
        own_overrides = variant.options.overrides
        merged = {stage: {**settings.get(stage, {}), **own_overrides.get(stage, {})}
                  for stage in {*settings, *own_overrides}}
        variant.options = replace(variant.options, overrides=merged)
    return variants


def with_baselines(variants: list[Variant], names: tuple[str, ...]) -> list[Variant]:
    """The variants with ``names`` as their baselines instead of the study's own: those
    that read a variant's own encoder (``shuffled``, ``random``:
    :attr:`~uqa_eval.baselines.Baseline.reads_run_encoder`) beside every variant,
    the others (``none``, ``text20``, ``oracle``...) once, beside the first.

    :raises UnknownNameError: a name no plugin registers (``--baselines``).
    """
    from uqa_data.registry import get_component

    per_variant = []
    for n in names:
        baseline = get_component("baseline", n, flag="--baselines").load()
        if baseline.reads_run_encoder:
            per_variant.append(n)
    return [replace(v, options=replace(v.options, baselines=list(names) if i == 0
                                       else per_variant))
            for i, v in enumerate(variants)]


def run_variants(name: str, args: StudyArgs, variants: list[Variant], *, yes: bool = False,
                 budget_minutes: float = 30.0, later_seeds: int = 0,
                 reuse_also: list[Path] | None = None,
                 later_runs: list[RunOptions] | None = None) -> dict[str, Any]:
    """Run ``variants`` (study ``name``; :func:`study_variants`) into ``args.out``, each
    reusing the stages its siblings (and the runs ``reuse_also``) finished, and write the
    study report. ``later_seeds``: how many more times the same variants run after these
    (other seeds), and ``later_runs``: which runs follow them on the same data (other
    alignments), both counted in the time estimate (:func:`remaining_seconds`)."""
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(
        {
            "study": name,
            "preset": args.preset,
            "llm": args.llm,
            "seed": args.seed,
            "launcher": args.launcher,
            "variants": [{"label": v.label, "facts": v.facts} for v in variants],
        },
        args.out / "study.json",
    )
    started = time.perf_counter()
    runs = variant_runs(args, variants, reuse_also)
    later = runs[1:] + list(later_runs or [])
    first = RunLayout(runs[0].run_dir())
    before = _done_stages(first)  # what the first had finished before this process
    # each variant's alignment reads the frozen prefixes an earlier one of the same
    # questions stored (uqa_align.prefix_cache.keeping_alignment_prefixes)
    from uqa_align.prefix_cache import keeping_alignment_prefixes

    with keeping_alignment_prefixes():
        for i, (variant, options) in enumerate(zip(variants, runs, strict=True)):
            console.rule(f"[bold]{name}[/] {i + 1}/{len(variants)}: {variant.label}")
            t0 = time.perf_counter()
            run_pipeline(options)
            spent = time.perf_counter() - t0
            remaining = len(later) - i + later_seeds * len(variants)
            if i == 0 and remaining:
                after = _done_stages(first)
                aligned_here = "align" in after and after["align"] != before.get("align") \
                    and "reused_from" not in after["align"]
                estimate = remaining_seconds(first.root, later, later_seeds,
                                             encoded_here=aligned_here) / 60
                about = f"{estimate:.{0 if estimate >= 10 else 1}f}"
                console.print(f"first variant took {spent / 60:.1f} min; the other {remaining} "
                              f"would take about {about} min more here")
                if estimate > budget_minutes and not yes:
                    raise UqaError(
                        f"study '{name}' would need about {about} more minutes on this "
                        f"machine (over --budget-minutes {budget_minutes:g}); re-run with --yes "
                        "to go on (finished variants are kept and reused)"
                    )
    return write_study_report(name, args.out, variants, time.perf_counter() - started)


def _done_stages(layout: RunLayout) -> dict[str, dict[str, Any]]:
    """The finished stages ``layout``'s run.json records, by name."""
    record = layout.record()
    return {k: v for k, v in record.stages.items()
            if isinstance(v, dict) and v.get("status") == "done"} if record else {}


def variant_runs(args: StudyArgs, variants: list[Variant],
                 reuse_also: list[Path] | None = None) -> list[RunOptions]:
    """Each variant's run as :func:`run_variants` runs it: into ``args.out/<label>``,
    reusing what its siblings there (and the runs ``reuse_also``) finished."""
    dirs = [args.out / v.label for v in variants]
    return [replace(v.options, out=d, name=v.label, launcher=args.launcher,
                    reuse_from=[o for o in dirs if o != d] + list(reuse_also or []))
            for v, d in zip(variants, dirs, strict=True)]


def remaining_seconds(first: Path, later: list[RunOptions], later_seeds: int = 0, *,
                      encoded_here: bool = True) -> float:
    """About how long the variants ``later`` take once the first has run into ``first``
    (:func:`later_variant_seconds` each), plus ``later_seeds`` more rounds of all of them
    with new data (the first's recorded stage seconds, then the others again).

    ``encoded_here``: the first aligned and answered in this process, so its prefixes are
    in memory; otherwise (a resumed study) the first later variant that runs encodes them
    again, and the ones after it read them."""
    others = 0.0
    for options in later:
        seconds = later_variant_seconds(first, options, reads_prefixes=encoded_here)
        encoded_here = encoded_here or seconds > 0
        others += seconds
    whole = sum(float(r.get("seconds") or 0) for r in _done_stages(RunLayout(first)).values())
    return others + later_seeds * (whole + others)


def later_variant_seconds(first: Path, options: RunOptions, *,
                          reads_prefixes: bool = True) -> float:
    """About how long the variant ``options`` takes after the study's first variant ran
    into ``first``: the first's recorded seconds for each stage it still has to run (one
    whose planned fingerprint, :func:`planned_fingerprints`, neither the first nor its own
    run directory records as done), less, when ``reads_prefixes``, the prefix encoding
    the first's alignment and evaluations stored for the same questions, which a later
    variant in the same process reads instead."""
    from uqa_cli.run import is_alignment, planned_fingerprints, stage_configs

    done, own = (_done_stages(RunLayout(d)) for d in (first, options.run_dir()))
    planned = planned_fingerprints(options)
    reads_stored = reads_prefixes and planned.get("questions") == done.get(
        "questions", {}).get("fingerprint")  # the same questions, their prefixes in memory
    align = stage_configs(options).get("align")
    recorded = done.get("align", {}).get("config") or {}
    # alignments read the stored prefixes only in the same order (seed, batch size)
    same_order = all(getattr(align, k, None) == recorded.get(k) for k in ("seed", "batch_size"))
    total = 0.0
    for stage, fp in planned.items():
        theirs = done.get(stage) or {}
        if fp in (theirs.get("fingerprint"), own.get(stage, {}).get("fingerprint")):
            continue  # reused from the first, or done already
        total += float(theirs.get("seconds") or 0)
        summary = theirs.get("summary") or {}
        if reads_stored and is_alignment(stage):
            cache = summary.get("prefix_cache") or {}
            if cache.get("stored_questions") and same_order:  # kept for later alignments
                total -= float(cache.get("encode_s") or 0)
        elif reads_stored:
            total -= float(summary.get("prefix_encode_s") or 0)
    return max(total, 0.0)


def seed_dir(study_dir: Path, seed: int) -> Path:
    """Where ``uqa study --seeds`` runs the study with ``seed``: ``<study>/seed-<seed>``."""
    return study_dir / f"seed-{seed}"


def seed_variants(name: str, args: StudyArgs, seeds: tuple[int, ...],
                  budget_minutes: float = 30.0) -> list[tuple[StudyArgs, list[Variant]]]:
    """The study once per seed (each into :func:`seed_dir`), every variant of every seed
    checked before anything runs (:func:`study_variants`)."""
    per_seed = [replace(args, seed=s, out=seed_dir(args.out, s)) for s in seeds]
    runs = [(a, study_variants(name, a, budget_minutes, seeds=True)) for a in per_seed]
    variants = runs[0][1]
    if len(variants) < 2 and not any(v.options.baselines for v in variants):
        raise UqaInputError(f"--seeds: study '{name}' has one variant and no baseline to "
                            "compare it with across seeds; add --baselines none,shuffled"
                            + (" or more --encoders" if name == "table2" else ""))
    return runs


def run_seeds(name: str, args: StudyArgs, runs: list[tuple[StudyArgs, list[Variant]]], *,
              yes: bool = False, budget_minutes: float = 30.0) -> dict[str, Any]:
    """Run each seed's study (:func:`seed_variants`), then write and print whether its
    ranking holds across the seeds (:func:`seed_report`)."""
    args.out.mkdir(parents=True, exist_ok=True)
    write_json({"study": name, "preset": args.preset, "llm": args.llm,
                "seeds": [a.seed for a, _ in runs]}, args.out / "study.json")
    for i, (seed_args, variants) in enumerate(runs):
        console.rule(f"[bold]{name}[/], seed {seed_args.seed} ({i + 1} of {len(runs)})")
        run_variants(name, seed_args, variants, yes=yes, budget_minutes=budget_minutes,
                     later_seeds=len(runs) - i - 1)
    agreement = seed_report(args.out)
    assert agreement is not None  # study.json was written above
    return agreement


def seed_align_variants(name: str, args: StudyArgs, seeds: tuple[int, ...],
                        align_seeds: tuple[int, ...], budget_minutes: float = 30.0
                        ) -> list[tuple[StudyArgs, list[tuple[StudyArgs, list[Variant]]]]]:
    """``--seeds`` with ``--align-seeds``: per seed (into :func:`seed_dir`), its alignment
    rounds (:func:`align_seed_variants`), every variant of every round checked first."""
    for stage, values in args.settings.items():
        if "seed" in values:
            raise UqaInputError(f"--set {stage}.seed: --seeds sets it per seed"
                                + (" and --align-seeds per alignment" if stage == "align"
                                   else ""))
    return [(one, align_seed_variants(name, one, align_seeds, budget_minutes))
            for one in (replace(args, seed=s, out=seed_dir(args.out, s)) for s in seeds)]


def run_seed_alignments(name: str, args: StudyArgs,
                        plan: list[tuple[StudyArgs, list[tuple[StudyArgs, list[Variant]]]]],
                        *, yes: bool = False, budget_minutes: float = 30.0) -> dict[str, Any]:
    """Run each seed's alignment rounds (:func:`seed_align_variants`, each seed as
    :func:`run_align_seeds`), then whether the ranking of the runs, each seed read over its
    alignments, holds across the seeds (:func:`seed_report`)."""
    args.out.mkdir(parents=True, exist_ok=True)
    write_json({"study": name, "preset": args.preset, "llm": args.llm,
                "seeds": [a.seed for a, _ in plan],
                "align_seeds": [r.settings["align"]["seed"] for r, _ in plan[0][1]]},
               args.out / "study.json")
    for i, (seed_args, rounds) in enumerate(plan):
        console.rule(f"[bold]{name}[/], seed {seed_args.seed} ({i + 1} of {len(plan)})")
        then = [o for _, later in plan[i + 1:] for a, v in later for o in variant_runs(a, v)]
        run_align_seeds(name, seed_args, rounds, yes=yes, budget_minutes=budget_minutes,
                        then=then)
    agreement = seed_report(args.out)
    assert agreement is not None  # study.json was written above
    return agreement


def seed_report(study_dir: Path) -> dict[str, Any] | None:
    """The seed agreement of a ``uqa study --seeds`` directory
    (:func:`uqa_eval.report.seeds.seed_agreement` over each seed's variants), written into
    ``<study>/report/seeds.{json,md}`` and printed; None when ``study_dir`` is not one.

    :raises UqaInputError: a seed's study or one of its variants has not finished.
    """
    from uqa_eval.report import print_table
    from uqa_eval.report.seeds import (
        controls_of,
        seed_agreement,
        seeds_tables,
        write_seed_agreement,
    )

    marker = study_dir / "study.json"
    info = read_json(marker, what="study.json") if marker.is_file() else None
    if not isinstance(info, dict) or not isinstance(info.get("seeds"), list):
        return None
    for seed in info["seeds"]:
        one = seed_dir(study_dir, int(seed))
        if not (one / "study.json").is_file():
            raise UqaInputError(f"{one}: seed {seed}'s study has not started; expected "
                                f"{one / 'study.json'}")
    if isinstance(info.get("align_seeds"), list):  # each seed read over its alignments
        from uqa_eval.report.alignments import seed_alignment_agreement

        agreement = seed_alignment_agreement({
            int(seed): align_seeds_report(seed_dir(study_dir, int(seed)), show=False)
            for seed in info["seeds"]})
    else:
        runs: dict[int, dict[str, Path]] = {}
        controls: dict[int, dict[str, Control]] = {}
        for seed in info["seeds"]:
            one = seed_dir(study_dir, int(seed))
            variants = read_json(one / "study.json", what="study.json").get("variants", [])
            runs[int(seed)] = {v["label"]: one / v["label"] for v in variants}
            controls[int(seed)] = controls_of(runs[int(seed)])
        agreement = seed_agreement(runs, controls)
    agreement["study"] = info.get("study")
    paths = write_seed_agreement(agreement, RunLayout(study_dir).report)
    for table in seeds_tables(agreement):
        print_table(table)  # the result: stdout, as uqa run's
    console.print(f"across seeds: {paths['md']}")
    return agreement


def align_dir(study_dir: Path, align_seed: int) -> Path:
    """Where ``uqa study --align-seeds`` aligns with ``align_seed``: ``<study>/align-<a>``."""
    return study_dir / f"align-{align_seed}"


def align_seed_variants(name: str, args: StudyArgs, align_seeds: tuple[int, ...],
                        budget_minutes: float = 30.0
                        ) -> list[tuple[StudyArgs, list[Variant]]]:
    """The study once per alignment seed (``--set align.seed=<a>`` into :func:`align_dir`),
    on one seed's data, every variant checked before anything runs."""
    if "seed" in args.settings.get("align", {}):
        raise UqaInputError("--set align.seed: --align-seeds sets it per alignment")
    runs = []
    for a in align_seeds:
        settings = {**args.settings, "align": {**args.settings.get("align", {}), "seed": a}}
        one = replace(args, out=align_dir(args.out, a), settings=settings)
        runs.append((one, study_variants(name, one, budget_minutes)))
    variants = runs[0][1]
    if len(variants) < 2 and not any(v.options.baselines for v in variants):
        raise UqaInputError(f"--align-seeds: study '{name}' has one variant and no baseline "
                            "to compare it with over the alignments; add --baselines "
                            "none,shuffled" + (" or more --encoders" if name == "table2"
                                               else ""))
    return runs


def run_align_seeds(name: str, args: StudyArgs, runs: list[tuple[StudyArgs, list[Variant]]],
                    *, yes: bool = False, budget_minutes: float = 30.0,
                    then: list[RunOptions] | None = None) -> dict[str, Any]:
    """Run each alignment seed's study (:func:`align_seed_variants`): the later ones
    reuse the first's data, questions and pre-training and align again; then write and
    print every run averaged over its alignments
    (:func:`uqa_eval.report.alignments.alignment_report`). ``then``: the runs of later
    seeds, counted in the time estimate (each at the first's seconds for every stage it
    does not share with it: a later seed's data are counted once per alignment, so the
    estimate errs long)."""
    args.out.mkdir(parents=True, exist_ok=True)
    write_json({"study": name, "preset": args.preset, "llm": args.llm, "seed": args.seed,
                "align_seeds": [a.settings["align"]["seed"] for a, _ in runs]},
               args.out / "study.json")
    done: list[Path] = []
    from uqa_align.prefix_cache import keeping_alignment_prefixes

    with keeping_alignment_prefixes():  # the evaluations' prefixes, for every alignment
        for i, (one, variants) in enumerate(runs):
            seed = one.settings["align"]["seed"]
            console.rule(f"[bold]{name}[/], align.seed {seed} ({i + 1} of {len(runs)})")
            later = [o for a, v in runs[i + 1:] for o in variant_runs(a, v, done)]
            run_variants(name, one, variants, yes=yes, budget_minutes=budget_minutes,
                         reuse_also=list(done), later_runs=later + list(then or []))
            done += [one.out / v.label for v in variants]
    from uqa_eval.report.alignments import alignment_report

    return alignment_report([a.out for a, _ in runs], RunLayout(args.out).report)


def align_seeds_report(study_dir: Path, *, show: bool = True) -> dict[str, Any] | None:
    """The alignment agreement of a ``uqa study --align-seeds`` directory (None when it is
    not one), rebuilt from its alignments' runs, its tables printed when ``show``."""
    marker = study_dir / "study.json"
    info = read_json(marker, what="study.json") if marker.is_file() else None
    if not isinstance(info, dict) or not isinstance(info.get("align_seeds"), list):
        return None
    dirs = [align_dir(study_dir, int(a)) for a in info["align_seeds"]]
    for a, d in zip(info["align_seeds"], dirs, strict=True):
        if not (d / "study.json").is_file():
            raise UqaInputError(f"{d}: align.seed {a}'s study has not started; expected "
                                f"{d / 'study.json'}")
    from uqa_eval.report.alignments import alignment_report

    return alignment_report(dirs, RunLayout(study_dir).report, show=show)


def write_study_report(
    name: str, study_dir: Path, variants: list[Variant], seconds: float
) -> dict[str, Any]:
    """One comparison table over every variant (and its baselines) plus the study plot."""
    from uqa_eval.report import compare_runs, comparison_tables, print_table, write_comparison

    run_dirs: list[Path] = []
    for v in variants:
        run_dirs.append(study_dir / v.label)
        run_dirs.extend(b.root for b in RunLayout(study_dir / v.label).baselines()
                        if b.report.is_dir())
    comparison = compare_runs(run_dirs)
    comparison["study"] = name
    comparison["seconds"] = round(seconds, 1)
    write_comparison(comparison, RunLayout(study_dir).report)
    for table in comparison_tables(comparison):
        print_table(table)  # the result: stdout, as uqa run's
    if name == "scale-size":
        _plot_scaling(study_dir, variants, key="size", xlabel="backbone parameters", logx=True)
    elif name == "scale-length":
        _plot_scaling(study_dir, variants, key="max_len", xlabel="max sequence length", logx=True)
    return comparison


def power_law_fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares fit of ``y = a * x**b`` in log-log space; returns ``(a, b)``."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    if len(pts) < 2:
        raise UqaError("a power law needs at least two points with positive values")
    n = len(pts)
    mx = sum(p[0] for p in pts) / n
    my = sum(p[1] for p in pts) / n
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    if sxx == 0:
        raise UqaError("a power law needs at least two distinct x values")
    b = sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx
    return math.exp(my - b * mx), b


def _x_value(run_dir: Path, key: str, facts: dict[str, Any]) -> float:
    if key == "size":
        for name in ("metrics.json", "config.json"):
            path = RunLayout(run_dir).encoder / name
            if path.is_file():
                data = read_json(path)
                for k in ("backbone_params", "backbone_parameters"):
                    if k in data:
                        return float(data[k])
        raise UqaError(f"{RunLayout(run_dir).encoder}: no backbone_params recorded")
    return float(facts[key])


def _plot_scaling(
    study_dir: Path, variants: list[Variant], *, key: str, xlabel: str, logx: bool
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from uqa_data.io import atomic_path

    xs, ys = [], []
    for v in variants:
        report = RunLayout(study_dir / v.label).report_json
        if not report.is_file():
            continue
        xs.append(_x_value(study_dir / v.label, key, v.facts))
        ys.append(float(read_json(report)["overall"]["acc"]))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(xs, ys, "o-", label="overall accuracy")
    fit: dict[str, float] = {}
    if len(set(xs)) >= 2 and all(y > 0 for y in ys):
        a, b = power_law_fit(xs, ys)
        grid = sorted(xs)
        ax.plot(grid, [a * x**b for x in grid], "--", label=f"fit: {a:.3g}·x^{b:.3f}")
        fit = {"a": a, "b": b}
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy")
    ax.legend()
    ax.grid(alpha=0.3)
    out = RunLayout(study_dir).report
    with atomic_path(out / "scaling.png") as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    write_json(
        {"x": xs, "acc": ys, "fit": fit, "x_label": xlabel}, out / "scaling.json"
    )
    console.print(
        f"scaling plot: {out / 'scaling.png'} "
        + (f"(fit exponent {fit['b']:.3f})" if fit else "")
    )
