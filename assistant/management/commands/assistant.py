"""The assistant from the command line, in this process (no worker needed), with the active model versions.

manage.py assistant classify --json "a lighthouse in a storm at dusk"
manage.py assistant classify --batch ideas.txt        # one idea a line in, one JSON object a line out
manage.py assistant write "a lighthouse in a storm at dusk"
manage.py assistant index                             # the similar-works index now, in this process (the studio
                                                      # builds it itself in the background at its first start)
manage.py assistant train [--no-baseline] [--activate] # new classifier-head versions from the Tate data
manage.py assistant finetune-titles [--steps N] [--activate] # a text-generator version that titles works
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from assistant import indexing, services


class Command(BaseCommand):
    help = "Classify ideas, write for them, or train the assistant's classifier heads."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        classify = sub.add_parser("classify", help="movements, subjects, moods and styles for an idea")
        classify.add_argument("text", nargs="?", default=None)
        classify.add_argument(
            "--json", dest="as_json", action="store_true", help="print one JSON object (a line each with --batch)"
        )
        classify.add_argument("--batch", type=Path, help="a file of ideas, one a line ('-' for standard input)")
        write = sub.add_parser("write", help="prompt expansions, titles and a description for an idea")
        write.add_argument("text")
        index = sub.add_parser("index", help="build the similar-artworks index from the Tate data (a few minutes)")
        index.add_argument("--limit", type=int, default=None, help="only the first N works (for a quick try)")
        train = sub.add_parser("train", help="train the classifier heads on the Tate data and register them")
        train.add_argument("--tate", type=Path, default=None, help="artworks.jsonl.gz (default: the shared data)")
        train.add_argument("--no-baseline", action="store_true", help="skip the Embedding+LSTM baseline")
        train.add_argument("--activate", action="store_true", help="make the new heads the active versions")
        train.add_argument("--seed", type=int, default=0)
        train.add_argument("--ship", action="store_true", help="also write the heads the studio ships (developers)")
        titles = sub.add_parser(
            "finetune-titles",
            help="fine-tune the text generator to title works from their "
            "subjects (Tate) and register it as a new version",
        )
        titles.add_argument("--tate", type=Path, default=None, help="artworks.jsonl.gz (default: the shared data)")
        titles.add_argument("--pairs", type=int, default=2000, help="training titles (default 2000)")
        titles.add_argument("--held-out", type=int, default=100, help="held-out titles it is judged on (default 100)")
        titles.add_argument("--steps", type=int, default=300, help="optimiser steps of 8 titles (default 300)")
        titles.add_argument("--lr", type=float, default=5e-5)
        titles.add_argument("--seed", type=int, default=0)
        titles.add_argument("--activate", action="store_true", help="make the new version the active writer")

    def handle(self, *args, action: str, **options) -> None:
        try:
            getattr(self, f"_{action.replace('-', '_')}")(**options)
        except (services.NotInstalled, ValueError) as exc:
            raise CommandError(str(exc)) from None

    def _classify(self, *, text: str | None, as_json: bool, batch: Path | None, **_options) -> None:
        if (text is None) == (batch is None):
            raise CommandError("Give one idea, or --batch FILE.")
        helper, _versions = services.assistant(settings.ARTSTUDIO_DEVICE)
        if batch is not None:
            lines = _read_lines(batch)
            for analysis in helper.classify_many(lines):
                self.stdout.write(_dump(analysis.as_json()))  # one object a line, in the file's order
            return
        analysis = helper.classify(text).as_json()
        if as_json:
            self.stdout.write(_dump(analysis))
            return
        for key in ("movements", "subjects", "moods"):
            shown = ", ".join(f"{x['label']} {x['confidence']:.0%}" for x in analysis[key]) or "-"
            self.stdout.write(f"{key:10s} {shown}")
        for style in analysis["styles"]:
            self.stdout.write(f"style      {style['name']} {style['confidence']:.0%}: {style['why']}")
        for note in analysis["notes"]:
            self.stdout.write(f"note       {note}")

    def _write(self, *, text: str, **_options) -> None:
        from assistant.ml import prompting
        from assistant.ml.text import IdeaError, check

        try:
            text = check(text)
        except IdeaError as exc:
            raise CommandError(str(exc)) from None
        helper, _versions = services.assistant(settings.ARTSTUDIO_DEVICE)
        analysis = helper.classify(text)
        if not analysis.english:
            raise CommandError(" ".join(analysis.notes))
        model, _version = services.writer(settings.ARTSTUDIO_DEVICE)
        writing: dict = {}
        shown = ""
        rank, nearer = helper.closeness_to(text), helper.nearer
        for section, items in prompting.write_all(model, text, analysis.labels(), rank=rank, nearer=nearer):
            writing[section] = items  # each item once it is finished and checked, as the page shows them
            words = prompting.as_text(writing)
            self.stdout.write(words[len(shown) :], ending="")
            self.stdout.flush()
            shown = words
        self.stdout.write("")

    def _index(self, *, limit: int | None, **_options) -> None:
        from tqdm import tqdm

        with tqdm(total=None, unit="works", desc="embedding Tate works", file=sys.stderr) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            index, path = indexing.similar_index_build(limit=limit, progress=progress)
        self.stdout.write(f"{len(index)} works indexed in {path}")

    def _train(
        self, *, tate: Path | None, no_baseline: bool, activate: bool, seed: int, ship: bool, **_options
    ) -> None:
        from assistant import trained_versions

        versions = trained_versions.train_and_register(
            tate=tate,
            baseline=not no_baseline,
            activate=activate,
            seed=seed,
            ship=ship,
            progress=lambda message: self.stderr.write(message),
        )
        for version in versions:
            self.stdout.write(
                f"{version.kind} {version.slot}: version {version.pk} {version.sha256[:12]} "
                f"{'active' if version.is_active else 'ready'}  {_dump(version.metrics)}"
            )

    def _finetune_titles(
        self,
        *,
        tate: Path | None,
        pairs: int,
        held_out: int,
        steps: int,
        lr: float,
        seed: int,
        activate: bool,
        **_options,
    ) -> None:
        from assistant import trained_versions

        version = trained_versions.finetune_titles_and_register(
            tate=tate,
            pairs=pairs,
            held_out=held_out,
            steps=steps,
            lr=lr,
            seed=seed,
            activate=activate,
            progress=lambda message: self.stderr.write(message),
        )
        before, after = version.metrics["before"], version.metrics["after"]
        self.stdout.write(
            f"{version.kind}: version {version.pk} {version.sha256[:12]} {'active' if version.is_active else 'ready'}"
        )
        loss = version.metrics["held_out_loss_before"], version.metrics["held_out_loss_after"]
        self.stdout.write(
            f"title similarity to the real titles {before['title_similarity']:.3f} -> "
            f"{after['title_similarity']:.3f} (another work's title: "
            f"{after['title_similarity_other_work']:.3f}); held-out loss {loss[0]:.3f} -> {loss[1]:.3f}"
        )
        for example in version.metrics["examples"]:
            self.stdout.write(f"  {example['subjects']}: {example['written']!r} (real: {example['real']!r})")


def _read_lines(path: Path) -> list[str]:
    try:
        raw = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
    return raw.splitlines()


def _dump(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)
