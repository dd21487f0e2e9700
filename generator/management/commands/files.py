"""Files in the media folder that no row points to (a crash between a file and its row can leave one).

manage.py files orphans             # list them, with their sizes
manage.py files orphans --delete    # and remove them
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandParser
from django.template.defaultfilters import filesizeformat

from generator.services.files import orphan_files, orphan_files_delete


class Command(BaseCommand):
    help = "Report (and with --delete remove) media files that no row points to."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        orphans = sub.add_parser("orphans", help="files no row points to")
        orphans.add_argument("--delete", action="store_true", help="remove them")
        orphans.add_argument(
            "--min-age", type=float, default=60.0, metavar="MINUTES", help="leave younger files alone (default 60)"
        )

    def handle(self, *args, **options) -> None:
        found = orphan_files(min_age=timedelta(minutes=options["min_age"]))
        for orphan in found:
            self.stdout.write(f"{filesizeformat(orphan.size):>10}  {orphan.name}")
        total = filesizeformat(sum(o.size for o in found))
        if not found:
            self.stdout.write("No file is left without its row.")
        elif options["delete"]:
            removed = orphan_files_delete(found)
            self.stdout.write(self.style.SUCCESS(f"Removed {removed} files ({total})."))
        else:
            self.stdout.write(f"{len(found)} files ({total}) no row points to; --delete removes them.")
