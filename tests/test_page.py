"""The interactive page (`ganarium serve`) in a real browser: Debian's Chromium, headless, driven
by Playwright, with every connection off this machine blocked. Tiny runs are trained once per
module (a cgan long enough for its classes to read as digits); the page serves them all.
A failing test leaves a screenshot under its tmp_path and prints where."""

from __future__ import annotations

import ast
import io
import os
import shutil
import socket
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
import torch

from ganarium.cli import main

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="no Chromium here (.ci/run installs it: apt-get install chromium)",
)
gradio = pytest.importorskip("gradio", reason="the page's extra: pip install ganarium[app]")
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install ganarium[app]")

QUIET = [
    "train.progress=false",
    "train.tensorboard=false",
    "train.sample_every=0",
    "data.size=16",
    "train.batch_size=8",
]
TINY = [*QUIET, "train.steps=2", "train.checkpoint_every=2", "train.log_every=1"]
RUNS = {  # folder name -> train arguments; each a few steps at tiny widths
    "dcgan": ["dcgan", "--data", "digits", "model.g_width=8", "model.d_width=8", *TINY],
    "stylegan": [
        "stylegan",
        "--data",
        "digits",
        "model.z_dim=8",
        "model.w_dim=8",
        "model.mapping_layers=2",
        "model.width=8",
        *TINY,
    ],
    "stackgan": [
        "stackgan",
        "--data",
        "digit-captions",
        "model.z_dim=8",
        "model.c_dim=4",
        "model.embedding_dim=8",
        "model.g_width=8",
        "model.d_width=8",
        *TINY,
    ],
    "pix2pix": [
        "pix2pix",
        "--data",
        "edges2digits",
        "model.width=8",
        "model.d_width=8",
        "model.d_layers=1",
        *TINY,
    ],
    "instance-gan": [
        "instance-gan",
        "--data",
        "instances",
        "model.g_width=8",
        "model.d_width=8",
        "model.z_dim=8",
        "model.embed_dim=8",
        "model.bank_size=64",
        *TINY,
    ],
    # long enough (about 10 s) for the digit classifier to read classes 2 and 6 as asked
    "cgan": [
        "cgan",
        "--data",
        "digits",
        "model.g_width=16",
        "model.d_width=16",
        "model.z_dim=16",
        "train.steps=400",
        "train.checkpoint_every=400",
        "train.log_every=50",
        *QUIET[:4],
        "train.batch_size=32",
    ],
    # uploads: a two-domain translator (both directions), an editor, an encoder
    "cyclegan": [
        "cyclegan",
        "--data",
        "digits-thick",
        "model.g_width=8",
        "model.g_blocks=1",
        "model.d_width=8",
        "model.d_layers=1",
        *TINY,
    ],
    "icgan": ["icgan", "--data", "digits", "model.g_width=8", "model.d_width=8", *TINY],
    "bigan": ["bigan", "--data", "digits", "model.g_width=8", "model.d_width=8", *TINY],
}
TAB = {name: i for i, name in enumerate(RUNS)}  # the page's tabs, in the order given


def _train(root: Path) -> None:
    for name, argv in RUNS.items():
        if not (root / name / "checkpoints" / "latest.pt").exists():
            assert main(["train", *argv, "--run-dir", str(root / name)]) == 0, name


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """The trained runs; under pytest-xdist the workers share one set (trained once, locked)."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        root = tmp_path_factory.mktemp("runs")
        _train(root)
        return root
    from filelock import FileLock

    root = tmp_path_factory.getbasetemp().parent / "page-runs"
    with FileLock(str(root) + ".lock"):
        _train(root)
    return root


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LOCAL = ("127.0.0.1", "::1", "localhost", "0.0.0.0")


@pytest.fixture(scope="module")
def server(runs):
    """The page of every run, started in this process with connections off this machine
    refused and listed in ``server.outbound`` (the page must send nothing out)."""
    from ganarium.app.server import start

    outbound: list[str] = []
    connect, lookup = socket.socket.connect, socket.getaddrinfo

    def local_connect(sock, address):
        if isinstance(address, tuple) and address[0] not in LOCAL:
            outbound.append(str(address))
            raise ConnectionRefusedError(f"the test refuses {address}")
        return connect(sock, address)

    def local_lookup(host, *args, **kwargs):
        if host not in LOCAL and host is not None:
            outbound.append(str(host))
            raise socket.gaierror(f"the test refuses to look up {host}")
        return lookup(host, *args, **kwargs)

    socket.socket.connect, socket.getaddrinfo = local_connect, local_lookup
    try:
        page, url = start([str(runs / n) for n in RUNS], port=_free_port(), block=False)
        page.outbound = outbound
        yield page, url
        page.close()
    finally:
        socket.socket.connect, socket.getaddrinfo = connect, lookup


@pytest.fixture(scope="module")
def browser_page(server):
    """One headless Chromium page on the served page; requests off this machine are blocked
    and listed in ``page.outbound``."""
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 1100})
        outbound: list[str] = []

        def guard(route) -> None:
            host = urlparse(route.request.url).hostname
            if host in ("127.0.0.1", "localhost"):
                route.continue_()
            else:
                outbound.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        page.outbound = outbound
        page.goto(server[1])
        page.get_by_role("tab", name="dcgan", exact=True).wait_for()
        yield page
        browser.close()


@pytest.fixture
def page(browser_page, request, tmp_path):
    """The browser page; when the test fails, a screenshot is kept in tmp_path (path printed)."""
    failed = request.session.testsfailed
    yield browser_page
    if request.session.testsfailed > failed:
        shot = tmp_path / f"{request.node.name}.png"
        browser_page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of the failing page: {shot}", file=sys.stderr)


def _tab(page, name: str) -> int:
    page.get_by_role("tab", name=name, exact=True).click()
    return TAB[name]


def _refusal(page, status: str) -> str:
    """The refusal shown in the status box #status, or ''."""
    box = page.locator(f"#{status}")
    text = box.inner_text() if status and box.count() else ""
    return text[text.find("Refused") :] if "Refused" in text else ""


def _image(page, elem_id: str, previous: bytes | None = None, status: str = "") -> bytes:
    """The picture shown in the Gradio image #elem_id once it differs from ``previous``; a new
    refusal in the status box #``status`` (not the one shown before) fails at once with it."""
    img = page.locator(f"#{elem_id} img").first
    stale = _refusal(page, status)
    for _ in range(600):
        if img.count() and img.get_attribute("src"):
            data = page.request.get(img.get_attribute("src")).body()
            if data != previous:
                return data
        refusal = _refusal(page, status)
        if refusal and refusal != stale:
            raise AssertionError(refusal)
        page.wait_for_timeout(50)
    raise AssertionError(f"no new picture in #{elem_id} within 30 s")


def _draw(page, button: str, image: str) -> bytes:
    """Click #button and return the new picture in #image (its status box must not refuse)."""
    old = page.locator(f"#{image} img")
    previous = page.request.get(old.first.get_attribute("src")).body() if old.count() else None
    status = f"status-{image.removeprefix('samples-')}"
    stale = _refusal(page, status)
    page.locator(f"#{button}").click()
    return _image(page, image, previous, status if not stale else "")


def _status(page, elem_id: str, text: str) -> str:
    box = page.locator(f"#{elem_id}")
    sync_api.expect(box).to_contain_text(text, timeout=30_000)
    return box.inner_text()


def test_a_folder_that_is_not_a_run_gives_one_line_and_exit_2(tmp_path, capsys):
    assert main(["serve", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "is not a ganarium run" in err and "\n" not in err
    assert main(["serve", str(tmp_path / "missing")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_a_missing_gradio_gives_the_install_line(runs, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "gradio", None)  # import gradio now raises ImportError
    assert main(["serve", str(runs / "dcgan")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("pip install ganarium[app]") and "\n" not in err


def test_uploads_over_the_limit_and_counts_out_of_range_are_refused_in_one_line(tmp_path):
    from PIL import Image

    from ganarium.app import MAX_UPLOAD_BYTES, PageError
    from ganarium.app.drawing import checked_count, checked_upload

    big = tmp_path / "big.bmp"  # a real image, but larger than the page takes
    side = int((MAX_UPLOAD_BYTES / 3) ** 0.5) + 8
    Image.new("RGB", (side, side), (1, 2, 3)).save(big)
    with pytest.raises(PageError, match="MB: the page takes images up to 4 MB"):
        checked_upload(str(big), "instance")
    small = tmp_path / "small.png"
    Image.new("L", (8, 8)).save(small)
    assert checked_upload(str(small), "instance") == small
    assert checked_count("16") == 16
    for bad in (0, -3, 2.5, 10_000, "many"):
        with pytest.raises(PageError):
            checked_count(bad)


def test_the_page_knows_no_recipe_and_no_capability_by_name():
    from ganarium.capabilities import CAPABILITIES
    from ganarium.models import RECIPES

    names = set(RECIPES.names()) | set(CAPABILITIES.names())
    for path in sorted((Path(__file__).parents[1] / "ganarium" / "app").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert node.value not in names, f"{path} names {node.value!r}"


def test_the_page_loads_offline_and_serves_no_file_outside_its_runs(page, server, runs):
    blocks, url = server
    assert "ganarium" in page.title() and "dcgan" in page.title()
    assert page.get_by_role("tab", name="compare").count() == 1
    assert page.outbound == [], f"the page asked for {page.outbound}"
    assert blocks.outbound == [], f"the server reached out to {blocks.outbound}"
    assert urlparse(url).hostname == "127.0.0.1"
    for path in ("/etc/passwd", str(runs / "dcgan" / "config.yaml"), str(Path.cwd() / "README.md")):
        assert page.request.get(f"{url}gradio_api/file={path}").status in (403, 404), path


def test_samples_show_an_image_and_the_seed_changes_it(page):
    i = _tab(page, "dcgan")
    _set(page, f"seed-{i}", "7")  # whatever an earlier test left shown, this draw changes it
    _draw(page, f"draw-{i}", f"samples-{i}")
    _set(page, f"seed-{i}", "0")
    first = _draw(page, f"draw-{i}", f"samples-{i}")
    assert first.startswith(b"\x89PNG")
    _set(page, f"seed-{i}", "1")
    second = _draw(page, f"draw-{i}", f"samples-{i}")
    assert second != first
    _set(page, f"seed-{i}", "0")
    assert _draw(page, f"draw-{i}", f"samples-{i}") == first  # seeded: the same images again


def test_a_request_over_the_sample_limit_is_refused_with_a_message(page):
    i = _tab(page, "dcgan")
    page.locator(f"#count-{i} input").fill("10000")
    page.locator(f"#draw-{i}").click()
    text = _status(page, f"status-{i}", "Refused")
    assert "10000 samples" in text and "256" in text
    page.locator(f"#count-{i} input").fill("16")


def _verdicts(png: bytes, n: int = 16, size: int = 16) -> list[int]:
    """The digit classifier's reading of each tile of a page grid (4 x 4, padding 2)."""
    import numpy as np
    from PIL import Image

    from ganarium.metrics.digits import classify

    img = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float32)
    cells = 4
    scale = img.shape[1] // (cells * (size + 2) + 2)
    small = img[::scale, ::scale]
    tiles = [
        small[2 + r * (size + 2) : 2 + r * (size + 2) + size, 2 + c * (size + 2) :][:, :size]
        for r in range(cells)
        for c in range(cells)
    ]
    x = torch.tensor(np.stack(tiles))[:n, None] / 127.5 - 1
    return classify(x)[1].argmax(1).tolist()


def _set(page, elem_id: str, value: str) -> None:
    """Set a number box, a text box or a dropdown to ``value``."""
    box = page.locator(f"#{elem_id}")
    if box.locator("input[role=listbox], input[aria-expanded]").count():
        box.locator("input").first.click()
        page.get_by_role("option", name=value, exact=True).click()
    else:
        box.locator("input, textarea").first.fill(value)


def test_choosing_a_class_changes_the_digit_classifiers_verdict(page):
    i = _tab(page, "cgan")
    majority = {}
    for label in ("2", "6"):
        _set(page, f"control-conditional-{i}", label)
        verdicts = _verdicts(_draw(page, f"draw-{i}", f"samples-{i}"))
        majority[label] = max(set(verdicts), key=verdicts.count)
    assert majority == {"2": 2, "6": 6}
    shot = os.environ.get("GANARIUM_PAGE_SCREENSHOT")
    if shot:  # the README's picture: GANARIUM_PAGE_SCREENSHOT=docs/page.png
        page.screenshot(path=shot)


def test_style_mixing_returns_an_image(page):
    i = _tab(page, "stylegan")
    assert _draw(page, f"draw-mixing-{i}", f"mixing-{i}").startswith(b"\x89PNG")


def test_a_caption_returns_an_image_and_an_unknown_word_a_message(page):
    i = _tab(page, "stackgan")
    page.locator(f"#control-captions-{i} textarea").fill("a thick 7 leaning right")
    assert _draw(page, f"draw-captions-{i}", f"captions-{i}").startswith(b"\x89PNG")
    page.locator(f"#control-captions-{i} textarea").fill("a fat 7")
    page.locator(f"#draw-captions-{i}").click()
    assert "fat" in _status(page, f"status-captions-{i}", "Refused")


def test_a_latent_walk_returns_a_strip_and_an_animation(page):
    i = _tab(page, "dcgan")
    assert _draw(page, f"draw-latent_dim-{i}", f"latent_dim-{i}").startswith(b"\x89PNG")
    assert _image(page, f"anim-latent_dim-{i}").startswith(b"GIF8")


def test_a_translation_returns_an_image(page):
    i = _tab(page, "pix2pix")
    assert _draw(page, f"draw-{i}", f"samples-{i}").startswith(b"\x89PNG")


@pytest.fixture(scope="module")
def digit(tmp_path_factory) -> Path:
    """A held-out digit as a PNG file (64 x 64, as a user might upload it)."""
    from PIL import Image

    from ganarium.data import load_dataset

    x = load_dataset("digits", size=16, split="test")[0]["image"][0]
    path = tmp_path_factory.mktemp("upload") / "digit.png"
    Image.fromarray(((x + 1) * 127.5).round().byte().numpy()).resize((64, 64)).save(path)
    return path


def _columns(png: bytes, side: int = 16) -> int:
    """The images in the one row of a page grid of ``side``-pixel images (padding 2)."""
    from PIL import Image

    width, height = Image.open(io.BytesIO(png)).size
    scale = height / (side + 4)
    return round((width / scale - 2) / (side + 2))


def _upload(page, key: str, path: Path) -> bytes:
    """Upload ``path`` into the panel #upload-``key``, draw, and return its picture."""
    box = page.locator(f"#upload-{key}")
    if box.get_by_role("button", name="Clear").count():
        box.get_by_role("button", name="Clear").click()
    box.locator("input[type=file]").set_input_files(str(path))
    box.get_by_text(path.name).first.wait_for()
    return _draw(page, f"draw-{key}", key)


@pytest.mark.parametrize("run, directions", [("pix2pix", 1), ("cyclegan", 2)])
def test_an_uploaded_digit_is_translated_in_each_direction(page, digit, run, directions):
    i = _tab(page, run)
    png = _upload(page, f"translate-{i}", digit)
    assert png.startswith(b"\x89PNG") and _columns(png) == 1 + directions  # input | each way


def test_an_uploaded_digit_is_edited_into_the_class_chosen(page, digit):
    i = _tab(page, "icgan")
    _set(page, f"value-edit-{i}", "3")
    three = _upload(page, f"edit-{i}", digit)
    assert _columns(three) == 2  # input | edit
    _set(page, f"value-edit-{i}", "8")
    eight = _draw(page, f"draw-edit-{i}", f"edit-{i}")
    assert _columns(eight) == 2 and eight != three


def test_an_uploaded_digit_is_reconstructed_and_a_missing_upload_gets_a_message(page, digit):
    i = _tab(page, "bigan")
    page.locator(f"#draw-encode-{i}").click()
    assert "upload an image" in _status(page, f"status-encode-{i}", "Refused")
    png = _upload(page, f"encode-{i}", digit)
    assert png.startswith(b"\x89PNG") and _columns(png) == 2  # input | reconstruction


def test_an_upload_that_is_not_an_image_shows_the_error(page, tmp_path):
    i = _tab(page, "instance-gan")
    bad = tmp_path / "notes.png"
    bad.write_text("not an image at all")
    page.locator(f"#control-instances-{i} input[type=file]").set_input_files(str(bad))
    page.locator(f"#draw-instances-{i}").click()
    assert "not an image" in _status(page, f"status-instances-{i}", "Refused")
    good = tmp_path / "digit.png"
    from PIL import Image

    Image.new("L", (16, 16), 255).save(good)
    page.locator(f"#control-instances-{i}").get_by_role("button", name="Clear").click()
    page.locator(f"#control-instances-{i} input[type=file]").set_input_files(str(good))
    assert _draw(page, f"draw-instances-{i}", f"instances-{i}").startswith(b"\x89PNG")


def test_two_runs_compare_side_by_side_at_the_same_seed(page):
    page.get_by_role("tab", name="compare", exact=True).click()
    page.locator("#draw-compare").click()
    first, second = (page.locator(f"#compare-{j} img").first for j in (0, 1))
    first.wait_for(state="visible", timeout=30_000)
    second.wait_for(state="visible", timeout=30_000)
    a, b = first.bounding_box(), second.bounding_box()
    assert abs(a["y"] - b["y"]) < 5 and b["x"] >= a["x"] + a["width"]  # one row, side by side
    compared = page.request.get(first.get_attribute("src")).body()
    i = _tab(page, "dcgan")  # the same run at the same seed and count in its own tab
    _set(page, f"count-{i}", "16")
    _set(page, f"seed-{i}", "5")
    _draw(page, f"draw-{i}", f"samples-{i}")
    _set(page, f"seed-{i}", "0")
    assert _draw(page, f"draw-{i}", f"samples-{i}") == compared
