"""``uqa report``: accuracy tables of one run, several runs or a study."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("report")(report_command)


def report_command(
    paths: list[Path] = typer.Argument(
        ...,
        help="Run directories (with report/report.json, or predictions/eval.arrow + "
        "questions/eval.arrow) or study directories holding runs.",
        show_default=False,
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Where to write report.md/.json/.png (default: the single run's report/, "
        "or report/ in the study directory or the runs' common parent).",
    ),
    metric: str = typer.Option(
        "acc", "--metric",
        help="Metric of the printed comparison table: acc, acc_norm or acc_pmi."
    ),
    rebuild: bool = typer.Option(
        False,
        "--rebuild",
        help="For a single run: rebuild the report from predictions even if report.json exists.",
    ),
    replicates: bool = typer.Option(
        False, "--replicates",
        help="The paths are the same runs (or studies) aligned again with other "
        "align.seed values on the same questions: average each run over them and widen "
        "every interval by the alignments' spread (alignments.md).",
    ),
) -> None:
    """Print the accuracy table and write Markdown, JSON and a bar chart.

    One run gives its per-task table (and, when it holds baselines/, a comparison
    with them in report/compare/); several runs (or a study) give one row per
    run and per baseline each run holds, ordered like the paper's Table 2, best
    value per column in bold, and each run minus each control, paired.
    """
    import os

    from rich.console import Console
    from rich.markup import escape
    from uqa_data.errors import UnknownNameError
    from uqa_data.layout import RunLayout, find_runs
    from uqa_data.progress import console as err
    from uqa_eval.curves import attach_curves
    from uqa_eval.provenance import version_warnings
    from uqa_eval.report import (
        METRICS,
        compare_runs,
        comparison_tables,
        has_metric,
        load_run,
        print_table,
        report_from_predictions,
        report_table,
        write_comparison,
        write_report,
    )

    if metric not in METRICS:
        raise UnknownNameError(f"unknown metric '{metric}' (--metric); valid: {', '.join(METRICS)}")
    if out is not None:
        from uqa_data.rundir import check_dir_path

        check_dir_path(out, "--out", "a directory for report.md, report.json and the charts")
    stdout = Console()
    if replicates:
        _replicates(paths, out, rebuild)
        return
    runs = find_runs(paths)
    single = len(paths) == 1 and RunLayout.at(paths[0]).is_run()
    if single:
        import contextlib

        from uqa_cli.writing import writing_into

        run = runs[0]
        layout = RunLayout.at(run)
        # writing into the run's own report/: one writer at a time
        lock = writing_into(run, "report", flag="RUN") if out is None else contextlib.nullcontext()
        with lock:
            if rebuild and layout.predictions.is_file():
                report = report_from_predictions(layout)
            else:
                report = load_run(run)  # rebuilt too when the predictions are newer
            shown = [report]
            attach_curves(report, run)  # from the run's training files, as they are now
            target = out or layout.report
            written = write_report(report, target)
            print_table(report_table(report), stdout)
            together = _with_baselines([run])
            if len(together) > 1:  # the run's own baselines (uqa run --baselines) beside it
                comparison = compare_runs(together)
                written.update({f"compare {k}": v for k, v in
                                write_comparison(comparison, target / "compare").items()})
                for table in comparison_tables(comparison, metric):
                    print_table(table, stdout)
    else:
        if rebuild:
            err.print("[yellow]warning:[/] --rebuild goes with a single run; of several, "
                      "each report is rebuilt when its predictions are newer", highlight=False)
        runs = _with_baselines(runs)  # each named run with its own, as a single run
        comparison = compare_runs(runs)
        shown = [r["report"] for r in comparison["runs"]]
        warnings = version_warnings(runs)
        for line in warnings:
            err.print(f"[yellow]warning:[/] {escape(line)}", highlight=False, soft_wrap=True)
        if warnings:
            comparison["warnings"] = warnings
        if out is not None:
            target = out
        else:  # the study's report/ (as `uqa study` writes it), never over a run's own report
            root = paths[0] if len(paths) == 1 else Path(
                os.path.commonpath([p.resolve() for p in runs])
            )
            home = RunLayout.at(root)
            target = home.compare if home.is_run() else home.report
        written = write_comparison(comparison, target)
        for table in comparison_tables(comparison, metric):
            print_table(table, stdout)
        if len(paths) == 1 and out is None:  # a study over seeds or alignments: that too
            from uqa_data.errors import UqaInputError

            from uqa_cli.studies import align_seeds_report, seed_report

            try:
                if seed_report(paths[0]) is not None:
                    written["seeds"] = str(target / "seeds.md")
                elif align_seeds_report(paths[0]) is not None:
                    written["alignments"] = str(target / "alignments.md")
            except UqaInputError as exc:  # a seed still running: the comparison stands
                err.print("[yellow]warning:[/] no agreement over seeds or alignments yet: "
                          f"{escape(str(exc))}", highlight=False, soft_wrap=True)
    if metric != "acc" and not any(has_metric(r, metric) for r in shown):
        why = ("it needs the `none` baseline's answers to the same questions: uqa run "
               "--baselines none" if metric == "acc_pmi" else "it comes from loglik answering")
        err.print(f"[yellow]warning:[/] no run here has {metric} ({why}); its columns are "
                  "empty", highlight=False, soft_wrap=True)
    err.print(f"wrote {', '.join(written.values())}", highlight=False, soft_wrap=True)


def _replicates(paths: list[Path], out: Path | None, rebuild: bool) -> None:
    """``uqa report --replicates``: the runs averaged over their alignments."""
    from uqa_data.errors import UqaInputError
    from uqa_eval.report.alignments import replicates_report

    if rebuild:
        raise UqaInputError("--rebuild goes with a single run, not with --replicates")
    replicates_report(paths, out)


def _with_baselines(runs: list[Path]) -> list[Path]:
    """``runs`` followed by the finished baselines each holds (``baselines/<name>/``) that
    are not among them already."""
    from uqa_data.layout import RunLayout

    nested = [b.root for r in runs for b in RunLayout.at(r).baselines() if b.is_run()]
    return [*runs, *(b for b in nested if b not in runs)]
