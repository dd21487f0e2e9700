"""The gallery at 10,000 artworks: queries per page, a real load generator, the search by meaning, and a zip.

It starts the studio as `artstudio-serve` runs it (SQLite in WAL mode, the embedded Valkey, gunicorn with two
workers) on a temporary state folder, then seeds 10,000 artworks across 100 artists straight into the
database (rows in bulk, every thumbnail a real WebP file; artist 0 keeps 5,000 of them, the others about 50
each), with tags, boards, stars, a third of them public (checked safe), and a share link. Then:

1. **The search by meaning**, through the studio's own worker: the seconds from the search to the answer on the
   page for the artist with 5,000 pictures, the first time (every picture read by the encoder), for a new query
   (nothing to read again) and for the same query again (the answer kept). Its page with the answer ready is
   one of the pages of (2) and (3).
2. **Queries per request**, in this process (Django's test client on the same database): each page for the
   artist with 5,000 pictures and for one with about 50. The same count for both is the target (no N+1).
3. **Load**: Locust, a real load generator, against the running studio: first a minimal Django view alone
   (`/healthz`: one query) as the baseline, then the gallery (filters and a sort), a text search, a search by
   meaning, the explore page and the shared board, for the same time. Throughput against the baseline's
   (target >= 30 %), p50/p99 per page (target p99 < 200 ms), errors (target 0).
   The API (issue 20) runs beside the pages in the same load: its artworks list (a filter and a sort, a text
   search) and the explore feed with each artist's token, and a job made with a token (a small photo, then
   cancelled at once, so that the worker's painting does not eat the CPU the web is measured on). Targets the
   same: queries per request constant, p99 < 200 ms for the list.
4. **A zip of 1,000 artworks**, streamed in this process: the bytes it produced, and the most memory the
   streaming held (tracemalloc's peak) against the zip's size (target: flat, a few pieces, not the zip).

    pip install -e '.[bench]'   # Locust
    python bench/gallery.py
    python bench/gallery.py --seconds 10 --users 10
"""

from __future__ import annotations

# Locust runs on gevent, which patches the standard library's sockets and threads: before anything else.
from locust import HttpUser, between, task  # isort: skip
from locust.env import Environment  # isort: skip

import argparse
import io
import os
import random
import re
import sys
import time
import tracemalloc
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from e2e import ROOT, start_studio, state_folder, stop_studio  # noqa: E402

sys.path.insert(0, str(ROOT))
from artstudio.serve import free_port  # noqa: E402

ARTISTS = 100
ARTWORKS = 10_000
BIG = 5_000  # artist 0's
ZIPPED = 1_000
WORDS = [
    "harbour",
    "dusk",
    "sea",
    "storm",
    "quiet",
    "room",
    "window",
    "coffee",
    "cat",
    "portrait",
    "mountain",
    "light",
    "blue",
    "morning",
    "garden",
    "city",
    "night",
    "river",
    "bridge",
    "field",
    "winter",
    "summer",
    "boat",
    "market",
    "street",
    "forest",
    "rain",
    "sunset",
    "lighthouse",
]


def django_here(data_dir: Path, redis_url: str) -> None:
    """Django in this process, on the studio's state folder (its database, its key, its media) and its Redis."""
    os.environ["ARTSTUDIO_DATA_DIR"] = str(data_dir)
    os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artstudio.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS.append("testserver")  # this process's test client, for the query counts


def webp_thumbnails(count: int) -> list[bytes]:
    from PIL import Image

    photos = sorted((ROOT / "generator" / "ml" / "assets" / "photos").iterdir())
    out = []
    for i in range(count):
        with Image.open(photos[i % len(photos)]) as photo:
            crop = photo.convert("RGB").resize((400, 400)).rotate(i * 7)
        buf = io.BytesIO()
        crop.save(buf, format="WEBP", quality=70)
        out.append(buf.getvalue())
    return out


def small_png(seed: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    # 256 px of noise: about 190 KB that does not compress, so the zip is a few hundred MB, as real pictures make it
    Image.effect_noise((256, 256), 40 + seed % 30).convert("RGB").save(buf, format="PNG")
    return buf.getvalue()


def seed(data_dir: Path) -> dict:
    """Rows in bulk, files written: what 10,000 artworks of 100 artists look like to the gallery."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from django.db.models import Count
    from django.utils import timezone

    from gallery.models import Board, BoardItem, Moderation, Popularity, ShareLink, Star, Tag
    from generator.models import Artwork, Job, ModelVersion, Preset

    rng = random.Random(19)
    media = data_dir / "media"
    password = make_password("a-long-bench-password-1")
    users = User.objects.bulk_create(
        [User(username=f"artist{i:03d}", email=f"artist{i:03d}@example.com", password=password) for i in range(ARTISTS)]
    )
    users = list(User.objects.filter(username__startswith="artist").order_by("username"))
    counts = [BIG] + [(ARTWORKS - BIG) // (ARTISTS - 1)] * (ARTISTS - 1)
    counts[1] += ARTWORKS - sum(counts)
    presets = list(Preset.objects.values_list("slug", flat=True))
    versions = list(ModelVersion.objects.filter(is_active=True, kind="multistyle26"))
    thumbs = webp_thumbnails(16)
    now = timezone.now()
    artworks = []
    for user, count in zip(users, counts, strict=True):
        jobs, arts = [], []
        for i in range(count):
            job_id, art_id = uuid.uuid4(), uuid.uuid4()
            style = rng.choice(presets)
            params = {
                "style_preset": style,
                "blend": [],
                "strength": 1.0,
                "brush": 1.0,
                "preserve_colors": False,
                "max_side": 512,
                "mode": rng.choice(["fast", "fast", "quality"]),
            }
            created = now - timezone.timedelta(minutes=i * 7 + rng.random())
            folder = f"users/{user.pk}"
            thumb = f"{folder}/thumbnails/{art_id.hex}.webp"
            image = f"{folder}/artworks/{art_id.hex}.png"
            (media / folder / "thumbnails").mkdir(parents=True, exist_ok=True)
            (media / thumb).write_bytes(thumbs[i % len(thumbs)])
            if user is users[0] and i < ZIPPED:
                (media / folder / "artworks").mkdir(parents=True, exist_ok=True)
                (media / image).write_bytes(small_png(i))
            jobs.append(
                Job(
                    id=job_id,
                    owner=user,
                    status=Job.Status.SUCCEEDED,
                    progress=1.0,
                    params=params,
                    photo=f"{folder}/photos/{job_id.hex}.jpg",
                    started=created,
                    finished=created,
                )
            )
            words = rng.sample(WORDS, 3)
            arts.append(
                Artwork(
                    id=art_id,
                    owner=user,
                    job_id=job_id,
                    image=image,
                    thumbnail=thumb,
                    title=" ".join(words).capitalize(),
                    params=params,
                    styles=f" {style} ",
                    device="cpu",
                    seconds=1.0,
                    width=512,
                    height=384,
                    visibility="public" if rng.random() < 0.33 else "private",
                    suggestions={
                        "caption": f"a {words[0]} by the {words[1]}",
                        "tags": words[1:],
                        "labels": ["Impressionism", "calm"],
                    },
                )
            )
        Job.objects.bulk_create(jobs, batch_size=500)
        Artwork.objects.bulk_create(arts, batch_size=500)
        for a in arts:  # auto_now_add stamped them all now: spread them over a year, in one statement per batch
            a.created = now - timezone.timedelta(minutes=rng.randint(0, 500_000))
        Artwork.objects.bulk_update(arts, ["created"], batch_size=500)
        through = Artwork.model_versions.through
        through.objects.bulk_create([through(artwork_id=a.pk, modelversion_id=v.pk) for a in arts for v in versions])
        tags = Tag.objects.bulk_create([Tag(owner=user, name=w) for w in rng.sample(WORDS, 12)])
        Tag.artworks.through.objects.bulk_create(
            [Tag.artworks.through(tag_id=t.pk, artwork_id=a.pk) for a in arts for t in rng.sample(tags, 2)]
        )
        boards = [Board.objects.create(owner=user, name=f"Board {b}", position=b) for b in range(8)]
        BoardItem.objects.bulk_create([BoardItem(board=rng.choice(boards), artwork=a) for a in arts])
        Star.objects.bulk_create([Star(user=user, artwork=a) for a in arts if rng.random() < 0.2])
        public = [a for a in arts if a.visibility == "public"]
        Moderation.objects.bulk_create([Moderation(artwork=a, status="safe", wants_public=True) for a in public])
        artworks += arts
    # everybody stars some of everybody's public pictures, for "most starred"
    public_ids = [a.pk for a in artworks if a.visibility == "public"]
    Star.objects.bulk_create(
        [Star(user=u, artwork_id=pk) for u in users[1:] for pk in rng.sample(public_ids, 30)], ignore_conflicts=True
    )
    counts = Star.objects.values("artwork").annotate(n=Count("pk")).values_list("artwork", "n")
    Popularity.objects.bulk_create([Popularity(artwork_id=pk, stars=n) for pk, n in counts], batch_size=1000)
    shared = Board.objects.filter(owner=users[0]).first()
    Moderation.objects.bulk_create(
        [Moderation(artwork_id=i.artwork_id, status="safe") for i in shared.items.all()], ignore_conflicts=True
    )
    link = ShareLink.objects.create(board=shared)
    return {
        "big": users[0],
        "small": users[50],
        "link": link.token,
        "board": shared.pk,
        "zipped": [a for a in artworks if a.owner_id == users[0].pk][:ZIPPED],
    }


def pages(world: dict) -> dict[str, str]:
    style = world["big_style"]
    return {
        "gallery (style filter, by title)": f"/gallery/?style={style}&sort=title",
        "gallery (tag, starred, by stars)": "/gallery/?tag=harbour&starred=1&sort=stars",
        "gallery page 40": "/gallery/?page=40",
        "text search": "/gallery/?q=harbour",
        "explore (most starred)": "/explore/?sort=stars",
        "shared board": f"/s/{world['link']}/",
        "search by meaning (answer ready)": f"/gallery/meaning/?q={MEANING_QUERY.replace(' ', '+')}",
    }


MEANING_QUERY = "stormy sea"


def api_pages(world: dict) -> dict[str, str]:
    return {
        "API artworks (style filter, by title)": f"/api/v1/artworks/?style={world['big_style']}&sort=title",
        "API artworks (text search)": "/api/v1/artworks/?q=harbour",
        "API explore (most starred)": "/api/v1/explore/?sort=stars",
    }


def tokens_for(users) -> list[str]:
    from api import services

    return [services.token_create(owner=u, name="bench", scopes=["read", "write"])[1] for u in users]


def meaning_answer(client, q: str, *, timeout: float = 900.0) -> tuple[float, str]:
    """Search as the page does, then poll as htmx does until the answer: (seconds, the answer's part)."""
    start = time.perf_counter()
    client.get("/gallery/", {"q": q})
    while time.perf_counter() - start < timeout:
        part = client.get("/gallery/meaning/", {"q": q}, HTTP_HX_REQUEST="true").content.decode()
        if "meaning-waiting" not in part:
            return time.perf_counter() - start, part
        time.sleep(0.05)
    return time.perf_counter() - start, "timed out"


def encoder_ready(timeout: float = 900.0) -> None:
    """The first start imports the sentence encoder in the background: wait for it, as an artist would."""
    from generator.models import ModelVersion

    deadline = time.monotonic() + timeout
    while not ModelVersion.objects.filter(kind="sentence_encoder", is_active=True).exists():
        if time.monotonic() > deadline:
            sys.exit("the sentence encoder was not imported in time")
        time.sleep(1)


def meaning_search(world: dict) -> None:
    from django.test import Client

    encoder_ready()
    client = Client()
    client.force_login(world["big"])
    print("\n1. Search by meaning through the studio's worker, for the artist with 5,000 pictures")
    for label, q in (
        ("first search (reads every picture)", MEANING_QUERY),
        ("a new query (nothing to read again)", "a quiet morning"),
        ("the same query again (answer kept)", "a quiet morning"),
    ):
        seconds, part = meaning_answer(client, q)
        found = part.count('class="gallery-item')
        print(f"   {label:<38} {seconds:6.2f} s to the answer  ({found} pictures found)")


def answers_ready(users) -> None:
    """These artists' answers to the meaning query ready (kept a minute), as after a first look."""
    from django.test import Client

    for user in users:
        client = Client()
        client.force_login(user)
        meaning_answer(client, MEANING_QUERY)


def query_counts(world: dict) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from generator.listing import listing_changed

    print("\n2. Queries per request: the artist with 5,000 pictures / the one with about 50 (each page made afresh)")
    owners = (world["big"], world["small"])
    signed_in = []
    for user in owners:
        client = Client()
        client.force_login(user)
        signed_in.append(client)
    with_token = [Client(HTTP_AUTHORIZATION=f"Bearer {token}") for token in tokens_for(owners)]

    def same_for_both(name: str, clients: list, ask, then=lambda client, response: None) -> bool:
        counts = []
        for client in clients:
            listing_changed(*(user.pk for user in owners))  # nothing kept: what making the page costs
            with CaptureQueriesContext(connection) as queries:
                response = ask(client)
            counts.append((len(queries), response.status_code))
            then(client, response)
        same = counts[0][0] == counts[1][0]
        print(
            f"   {name:<38} {counts[0][0]:>3} / {counts[1][0]:<3} queries  (HTTP {counts[0][1]})  "
            f"{'same' if same else 'DIFFERENT'}"
        )
        return same

    results = [same_for_both(name, signed_in, lambda c, p=path: c.get(p)) for name, path in pages(world).items()]
    results += [same_for_both(name, with_token, lambda c, p=path: c.get(p)) for name, path in api_pages(world).items()]
    results.append(
        same_for_both(
            "API job create",
            with_token,
            lambda c: c.post("/api/v1/jobs/", {"photo": photo_upload(), "style_preset": world["big_style"]}),
            then=lambda c, made: c.post(f"/api/v1/jobs/{made.json()['id']}/cancel/"),  # the worker need not paint it
        )
    )
    constant = all(results)
    print(f"   {'PASS' if constant else 'FAIL'}: queries per request constant in the number of artworks")


def photo_upload(seed: int = 0):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("photo.png", small_png(seed), content_type="image/png")


def sessions_for(users) -> list[str]:
    from django.test import Client

    out = []
    for user in users:
        client = Client()
        client.force_login(user)
        out.append(client.cookies["sessionid"].value)
    return out


def warm(base: str, cookies: list[str], tokens: list[str], paths: dict, api_paths: dict) -> None:
    """Each artist's first look at each page, before the run: it makes the page and the studio keeps it
    (generator.listing), as it would after any artist's first view. What a first view costs is in-process
    timing's business (bench/README.md); the run measures the pages as artists keep coming back to them."""
    import requests

    started, count = time.perf_counter(), 0
    for cookie, token in zip(cookies, tokens, strict=True):
        for path in paths.values():
            requests.get(base + path, cookies={"sessionid": cookie}, timeout=60).raise_for_status()
            count += 1
        for path in api_paths.values():
            requests.get(base + path, headers={"Authorization": f"Bearer {token}"}, timeout=60).raise_for_status()
            count += 1
    print(f"   (warmed: {count} first views in {time.perf_counter() - started:.1f} s)")


def load(base: str, world: dict, *, seconds: float, users: int) -> None:
    from django.contrib.auth.models import User

    artists = [world["big"], *User.objects.filter(username__startswith="artist")[1:5]]
    cookies = sessions_for(artists)
    tokens = tokens_for(artists)
    paths, api_paths = pages(world), api_pages(world)
    photo = small_png(7)

    class Baseline(HttpUser):
        host = base
        wait_time = between(0.0, 0.05)

        @task
        def minimal(self) -> None:
            self.client.get("/healthz", name="minimal view (/healthz)")

    class Gallery(HttpUser):
        host = base
        wait_time = between(0.0, 0.05)

        def on_start(self) -> None:
            self.client.cookies.set("sessionid", random.choice(cookies))

        @task(7)
        def browse(self) -> None:
            name, path = random.choice(list(paths.items()))
            self.client.get(path, name=name)

        @task(3)
        def api_list(self) -> None:
            name, path = random.choice(list(api_paths.items()))
            self.client.get(path, name=name, headers={"Authorization": f"Bearer {random.choice(tokens)}"})

    class Jobs(HttpUser):
        """Scripts making jobs through the API. A run of its own: the worker paints what it claims before the
        cancel arrives, and its CPU would be counted against the pages' times."""

        host = base
        wait_time = between(0.0, 0.05)

        @task
        def api_job(self) -> None:
            auth = {"Authorization": f"Bearer {random.choice(tokens)}"}
            files = {"photo": ("photo.png", photo, "image/png")}
            data = {"style_preset": world["big_style"]}
            made = self.client.post("/api/v1/jobs/", files=files, data=data, headers=auth, name="API job create")
            if made.status_code == 201:  # cancelled at once: the worker's painting would eat the web's CPU
                self.client.post(f"/api/v1/jobs/{made.json()['id']}/cancel/", headers=auth, name="API job cancel")

    results = {}
    for label, user_class in (("baseline", Baseline), ("gallery", Gallery), ("jobs", Jobs)):
        if user_class is Gallery:
            answers_ready(artists)  # kept a minute: ready again just before the run
            warm(base, cookies, tokens, paths, api_paths)
        environment = Environment(user_classes=[user_class])
        runner = environment.create_local_runner()
        runner.start(user_count=users, spawn_rate=users)
        time.sleep(seconds)
        runner.quit()
        results[label] = environment.stats
    base_rps = results["baseline"].total.total_rps
    print(
        f"\n3. Locust: {users} simulated users for {seconds:g} s each, the minimal view first, then the gallery "
        "with the API"
    )
    print(
        f"   minimal view (/healthz)            {base_rps:7.1f} requests/s  "
        f"p99 {results['baseline'].total.get_response_time_percentile(0.99):.0f} ms"
    )
    worst = 0.0
    for entry in sorted(results["gallery"].entries.values(), key=lambda e: e.name):
        p50, p99 = entry.get_response_time_percentile(0.5), entry.get_response_time_percentile(0.99)
        worst = max(worst, p99)
        print(
            f"   {entry.name:<34} {entry.num_requests:>6} requests  {entry.num_failures} failed  "
            f"p50 {p50:.0f} ms  p99 {p99:.0f} ms"
        )
    total = results["gallery"].total
    ratio = total.total_rps / base_rps if base_rps else 0.0
    errors = total.num_failures + results["baseline"].total.num_failures + results["jobs"].total.num_failures
    print(
        f"   gallery pages together {total.total_rps:.1f} requests/s = {ratio:.0%} of the minimal view's "
        f"({'PASS' if ratio >= 0.30 else 'FAIL'} >= 30 %); worst p99 {worst:.0f} ms "
        f"({'PASS' if worst < 200 else 'FAIL'} < 200 ms); {errors} errors ({'PASS' if errors == 0 else 'FAIL'})"
    )
    api_worst = max(
        (e.get_response_time_percentile(0.99) for e in results["gallery"].entries.values() if e.name in api_paths),
        default=0.0,
    )
    print(f"   API list worst p99 {api_worst:.0f} ms ({'PASS' if api_worst < 200 else 'FAIL'} < 200 ms)")
    print(f"   then scripts making jobs through the API (each cancelled at once), {seconds:g} s:")
    for entry in sorted(results["jobs"].entries.values(), key=lambda e: e.name):
        p50, p99 = entry.get_response_time_percentile(0.5), entry.get_response_time_percentile(0.99)
        print(
            f"   {entry.name:<38} {entry.num_requests:>6} requests  {entry.num_failures} failed  "
            f"p50 {p50:.0f} ms  p99 {p99:.0f} ms"
        )
    for error in results["jobs"].errors.values():
        print(f"   error: {error.method} {error.name}: {error.error} ({error.occurrences}x)")
    for error in [*results["baseline"].errors.values(), *results["gallery"].errors.values()]:
        print(f"   error: {error.method} {error.name}: {error.error} ({error.occurrences}x)")


def zip_memory(world: dict) -> None:
    from gallery.downloads import artworks_zip
    from generator.models import Artwork

    artworks = list(Artwork.objects.filter(pk__in=[a.pk for a in world["zipped"]]).prefetch_related("model_versions"))
    tracemalloc.start()
    start = time.perf_counter()
    archive = artworks_zip(artworks)
    size = len(archive)
    made, early = 0, None
    for piece in archive:
        made += len(piece)
        if early is None and made >= size / 10:
            early = tracemalloc.get_traced_memory()[0]  # after the first tenth of the zip
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    seconds = time.perf_counter() - start
    growth = current - (early or 0)
    flat = made == size and growth < 2**20 and peak < made / 20
    print(
        f"\n4. A zip of {len(artworks)} artworks: {made / 2**20:.1f} MiB streamed in {seconds:.1f} s "
        f"(its Content-Length said {size / 2**20:.1f} MiB)"
    )
    print(
        f"   memory the stream held: {(early or 0) / 2**20:.2f} MiB after the first tenth, {current / 2**20:.2f} MiB "
        f"at the end (grew {growth / 2**10:.0f} KiB), peak {peak / 2**20:.2f} MiB = {peak / made:.1%} of the zip  "
        f"{'PASS' if flat else 'FAIL'}: flat, never the zip"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="each Locust run's length")
    parser.add_argument("--users", type=int, default=20, help="simulated users in each Locust run")
    args = parser.parse_args()

    data_dir = state_folder("gallery")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    generous = {  # the load is one person's many requests: the abuse limits and quotas would answer 429s
        "ARTSTUDIO_RATE_LOGIN": "100000/h",
        "ARTSTUDIO_RATE_JOBS": "100000/m",
        "ARTSTUDIO_RATE_API": "100000/m",
        "ARTSTUDIO_RATE_API_TOKEN": "100000/m",
        "ARTSTUDIO_QUOTA_JOBS_PER_DAY": "1000000",
        "ARTSTUDIO_QUOTA_ACTIVE_JOBS": "1000000",
    }
    proc, log = start_studio(data_dir, port, {"ARTSTUDIO_WEB_WORKERS": "2", **generous})
    try:
        redis_url = re.search(r"embedded Redis server ready at (\S+)", log.read_text()).group(1)
        django_here(data_dir, redis_url)
        started = time.perf_counter()
        world = seed(data_dir)
        world["big_style"] = world["zipped"][0].params["style_preset"]
        print(
            f"Seeded {ARTWORKS:,} artworks across {ARTISTS} artists in {time.perf_counter() - started:.0f} s "
            f"(state folder {data_dir})"
        )
        meaning_search(world)
        answers_ready([world["big"], world["small"]])
        query_counts(world)
        load(base, world, seconds=args.seconds, users=args.users)
        zip_memory(world)
    finally:
        stop_studio(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
