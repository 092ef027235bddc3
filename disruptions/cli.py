"""The `disruptions` command line. Parsing and dispatch only; each job lives in its module.

Imports of the heavy modules (Airflow, dbt, GX) happen inside the commands, so that
`disruptions --help` and `disruptions query` start quickly.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import date
from pathlib import Path

from disruptions.config import Settings, load_settings
from disruptions.errors import PipelineError, UserError
from disruptions.logs import install_argument_escaping, printable


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}") from None


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {value!r}")
    return number


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from disruptions.demo import run_demo

    # Progress goes to stderr, so that stdout is the summary alone when redirected.
    print(run_demo(settings, progress_stream=sys.stderr))
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from disruptions.runner import run_nightly

    print(run_nightly(settings, as_of=args.as_of, progress_stream=sys.stderr))
    return 0


def cmd_generate(args: argparse.Namespace, settings: Settings) -> int:
    from disruptions.synth import generate_feeds

    summary = generate_feeds(
        Path(args.out),
        ocgs=args.ocgs,
        disruptions=args.disruptions,
        seed=args.seed,
        with_bad_input=args.with_bad_input,
        file_format=args.format,
        end_date=args.end_date,
        layout=args.layout,
    )
    print(summary)
    return 0


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from disruptions.ingest import ingest_landing

    summary = ingest_landing(settings, run_id="manual")
    print(summary)
    return 0


def cmd_query(args: argparse.Namespace, settings: Settings) -> int:
    from disruptions.serve.query import run_query

    sys.stdout.write(run_query(settings, args.sql, output_format=args.format, rocu=args.rocu))
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from disruptions.serve.export import export_mart

    path = export_mart(settings, args.mart, output_format=args.format, out=args.out)
    print(f"wrote {path}")
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from disruptions.serve.status import status_report

    print(status_report(settings))
    return 0


def cmd_release(args: argparse.Namespace, settings: Settings) -> int:
    from disruptions.quality.decisions import release_batch

    print(release_batch(settings, args.batch))
    return 0


def cmd_discard(args: argparse.Namespace, settings: Settings) -> int:
    from disruptions.quality.decisions import discard_batch

    print(discard_batch(settings, args.batch))
    return 0


def cmd_explain(args: argparse.Namespace, settings: Settings) -> int:
    from disruptions.serve.explain import explain

    sys.stdout.write(explain(settings, args.ocg_id, output_format=args.format, rocu=args.rocu))
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from disruptions.serve.report import write_report

    print(f"wrote {write_report(settings, rocu=args.rocu)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    # --home and --verbose are accepted before or after the command. The copy given to the
    # sub-commands defaults to SUPPRESS so that it does not overwrite a value given before.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", help="state folder (overrides DISRUPTIONS_HOME; default ./data)")
    common.add_argument("--verbose", "-v", action="store_true", help="more detail on errors")
    sub_common = argparse.ArgumentParser(add_help=False)
    sub_common.add_argument(
        "--home", default=argparse.SUPPRESS, help="state folder (overrides DISRUPTIONS_HOME)"
    )
    sub_common.add_argument(
        "--verbose", "-v", action="store_true", default=argparse.SUPPRESS, help="more detail"
    )

    parser = argparse.ArgumentParser(
        prog="disruptions",
        description="Disruption outcome measurement pipeline for ROCUs, forces and the NCA.",
        parents=[common],
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, handler, help_text: str, writes_home: bool = True
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text, parents=[sub_common])
        sub.set_defaults(handler=handler, writes_home=writes_home)
        return sub

    add("demo", cmd_demo, "generate the national sample and run the nightly pipeline on it")

    run = add("run", cmd_run, "run the nightly DAG once, in-process through Airflow")
    run.add_argument("--landing", help="landing folder (overrides DISRUPTIONS_LANDING)")
    run.add_argument("--as-of", type=_iso_date, help="the run's logical date (default: today)")

    generate = add("generate", cmd_generate, "write synthetic feeds", writes_home=False)
    generate.add_argument("--out", required=True, help="folder to write the feed files into")
    generate.add_argument("--ocgs", type=_positive_int, default=4500)
    generate.add_argument("--disruptions", type=_positive_int, default=65000)
    generate.add_argument("--seed", type=int, default=2015)
    generate.add_argument(
        "--with-bad-input",
        action="store_true",
        help="also write deliberately bad rows and files, to exercise quarantine",
    )
    generate.add_argument("--format", choices=["csv", "parquet", "jsonl"], default="csv")
    generate.add_argument(
        "--end-date",
        type=_iso_date,
        default=date(2026, 10, 31),
        help="last day of the five years of history (default 2026-10-31)",
    )
    generate.add_argument(
        "--layout",
        choices=["by_sender_year", "single"],
        default="by_sender_year",
        help="one file per ROCU and year (default), or one file per feed",
    )

    ingest = add("ingest", cmd_ingest, "load new landing files into the warehouse (no dbt)")
    ingest.add_argument("--landing", help="landing folder (overrides DISRUPTIONS_LANDING)")

    query = add("query", cmd_query, "query the published marts, read-only", writes_home=False)
    query.add_argument("sql", help="a SQL statement, or the name of a saved query in queries/")
    query.add_argument("--format", choices=["table", "csv", "json"], default="table")
    query.add_argument("--rocu", help="query a ROCU's regional file instead, e.g. EMSOU")

    export = add("export", cmd_export, "export a published mart to csv, parquet or xlsx")
    export.add_argument("mart", help="mart name, e.g. ocg_disruption_summary")
    export.add_argument("--format", choices=["csv", "parquet", "xlsx"], default="csv")
    export.add_argument("--out", help="output file (default: under $DISRUPTIONS_HOME/exports)")

    add(
        "status",
        cmd_status,
        "show batches, quarantine, held batches, alerts and the last run",
        writes_home=False,
    )

    release = add("release", cmd_release, "let a reviewed held batch into the marts")
    release.add_argument("batch", type=int, help="batch id")
    discard = add("discard", cmd_discard, "keep a held batch out of the marts for good")
    discard.add_argument("batch", type=int, help="batch id")

    report = add("report", cmd_report, "write the self-contained HTML report")
    report.add_argument("--rocu", help="ROCU code for a regional report, e.g. EMSOU")

    explain = add(
        "explain",
        cmd_explain,
        "show what is behind an OCG's figures: claims, assessments and the effect rules",
        writes_home=False,
    )
    explain.add_argument("ocg_id", help="the OCG, e.g. OCG-000042")
    explain.add_argument("--format", choices=["text", "json"], default="text")
    explain.add_argument("--rocu", help="read a ROCU's regional file instead, e.g. EMSOU")
    return parser


def check_home(settings: Settings, writes_home: bool) -> None:
    """Refuse a home the command cannot use, in one line, before anything touches it."""
    home = settings.home
    if home.exists() and not home.is_dir():
        raise UserError(f"{home}: the home (--home or DISRUPTIONS_HOME) is a file, not a folder")
    if not writes_home:
        return
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"{home}: cannot create the home folder: {error.strerror}") from None
    if not os.access(home, os.W_OK | os.X_OK):
        raise UserError(
            f"{home}: cannot write to the home folder (read-only?); this command needs to; "
            "`disruptions status` and `disruptions query` only read"
        )


def describe_os_error(error: OSError) -> str:
    where = f"{error.filename}: " if error.filename else ""
    return f"{where}{error.strerror or error}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    install_argument_escaping()
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    command = f"disruptions {args.command}"
    try:
        settings = load_settings(home=args.home, landing=getattr(args, "landing", None))
        check_home(settings, args.writes_home)
        return args.handler(args, settings)
    except (UserError, PipelineError) as error:
        if args.verbose:
            logging.exception("command failed")
        print(f"{command}: error: {printable(error)}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return 130
    except OSError as error:
        # The machine refused (a read-only folder, a full disk, a path that cannot exist).
        if args.verbose:
            logging.exception("command failed")
        print(f"{command}: error: {printable(describe_os_error(error))}", file=sys.stderr)
        return 1
    except Exception as error:
        # Not a user error but a fault of ours: still one line, the detail with --verbose.
        if args.verbose:
            logging.exception("command failed")
        text = printable(" ".join(str(error).split()), 300)
        print(
            f"{command}: error: unexpected {type(error).__name__}: {text} "
            "(this is a fault in disruptions; rerun with --verbose for the details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
