"""The page's layout: a tab per run (samples with the controls of the capabilities that change
plain sampling, a panel per capability that draws its own grid, one per capability that draws
from an uploaded image, the training view) and, with several runs, a compare tab. Built from
the capability registry; no recipe is named here."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ganarium.app import MAX_SAMPLES, MAX_UPLOAD_BYTES
from ganarium.app.controls import Slot, make_slot, make_widget
from ganarium.app.drawing import RunView, animation, one_line, picture
from ganarium.app.training import evaluation_html, training_html
from ganarium.capabilities import Capability

INTRO = (
    "Runs: {runs}. Each draw is seeded: the same seed gives the same images. At most "
    f"{MAX_SAMPLES} samples per request; uploads are images up to {MAX_UPLOAD_BYTES // 2**20} MB."
)


SAVE = ["download", "fullscreen"]  # no share button: nothing leaves this machine


def refused(message: str) -> str:
    return f"**Refused:** {message}"


def _guarded(draw: Callable[..., tuple[Any, ...]], outputs: int) -> Callable[..., tuple[Any, ...]]:
    """``draw`` with every error turned into a one-line message in the status box (the last
    output), the other outputs left as they were."""
    import gradio as gr

    def run(*values: Any) -> tuple[Any, ...]:
        try:
            return draw(*values)
        except Exception as e:  # every failure is shown, none kills the page
            return (*(gr.skip() for _ in range(outputs - 1)), refused(one_line(e)))

    return run


def _samples_panel(view: RunView, i: int, slots: list[Slot]) -> tuple[Any, Any]:
    """Seed, count, the sampling controls, and the samples grid; returns (seed, count)."""
    import gradio as gr

    with gr.Row():
        seed = gr.Number(value=0, precision=0, label="seed", elem_id=f"seed-{i}")
        count = gr.Number(
            value=16, precision=0, label=f"samples (1 to {MAX_SAMPLES})", elem_id=f"count-{i}"
        )
        for cap in view.with_controls():
            if not cap.grid:
                slots.append(make_slot(cap, view, view.parser, f"control-{cap.name}-{i}"))
    with gr.Row():
        draw = gr.Button("Draw samples", variant="primary", elem_id=f"draw-{i}")
        again = gr.Button("New samples (next seed)", elem_id=f"again-{i}")
    image = _grid_image("samples", f"samples-{i}")
    status = gr.Markdown(elem_id=f"status-{i}")
    widgets = [s.widget for s in slots if s.widget is not None]

    def samples(seed_value: Any, n: Any, *values: Any) -> tuple[Any, str]:
        flags = _flags([s for s in slots if s.widget is not None], values)
        images, nrow = view.draw(flags, n, seed_value or 0)
        return picture(images, nrow), ""

    handler = _guarded(samples, 2)
    draw.click(handler, [seed, count, *widgets], [image, status])
    again.click(lambda s: int(s or 0) + 1, seed, seed).then(
        handler, [seed, count, *widgets], [image, status]
    )
    return seed, count


def _flags(slots: list[Slot], values: tuple[Any, ...]) -> list[str]:
    return [flag for slot, value in zip(slots, values) for flag in slot.flags(value)]


def _grid_panel(view: RunView, i: int, slot_of: Callable[[], Slot], seed: Any, count: Any) -> None:
    """One capability that draws a grid of its own: its control, a button, its grid (and, for a
    strip of images, the strip as an animation)."""
    import gradio as gr

    slot = slot_of()
    cap = slot.capability
    key = f"{cap.name}-{i}"
    button = gr.Button(f"Draw: {cap.control.label}", elem_id=f"draw-{key}")
    with gr.Row():
        image = _grid_image(cap.control.label, key)
        moving = gr.Image(
            label="as an animation",
            type="filepath",
            interactive=False,
            buttons=SAVE,
            height=280,
            visible=False,
            elem_id=f"anim-{key}",
        )
    status = gr.Markdown(elem_id=f"status-{key}")
    frames = Path(tempfile.mkdtemp(prefix="ganarium-page-"))

    def grid(seed_value: Any, n: Any, value: Any = True) -> tuple[Any, Any, str]:
        images, nrow = view.draw(slot.flags(value), n, seed_value or 0)
        strip = None
        if nrow == len(images) and len(images) > 2:  # one row: a walk, shown moving too
            strip = str(animation(images, frames / f"walk-{seed_value}-{len(images)}.gif"))
        return picture(images, nrow), gr.update(value=strip, visible=strip is not None), ""

    inputs = [seed, count] + ([slot.widget] if slot.widget is not None else [])
    button.click(_guarded(grid, 3), inputs, [image, moving, status])


def _grid_image(label: str, elem_id: str) -> Any:
    """An output grid: a PNG the user can save, not an input."""
    import gradio as gr

    return gr.Image(
        label=label, type="pil", format="png", interactive=False, buttons=SAVE, elem_id=elem_id
    )


def _input_panel(view: RunView, i: int, cap: Capability, seed: Any) -> None:
    """One capability that draws from an uploaded image: the upload, its value's control (a
    class, a mask...), a button, the grid (the input first)."""
    import gradio as gr

    key = f"{cap.name}-{i}"
    with gr.Row():
        upload = make_widget(cap.control, cap, view, f"upload-{key}")
        value = None
        if cap.input_value is not None:
            value = make_widget(cap.input_value, cap, view, f"value-{key}")
    button = gr.Button(f"Draw: {cap.control.label}", elem_id=f"draw-{key}")
    image = _grid_image(cap.control.label, key)
    status = gr.Markdown(elem_id=f"status-{key}")

    def grid(seed_value: Any, path: Any, given: Any = None) -> tuple[Any, str]:
        return picture(*view.draw_input(cap, path, given, seed_value)), ""

    inputs = [seed, upload] + ([value] if value is not None else [])
    button.click(_guarded(grid, 2), inputs, [image, status])


def _run_tab(view: RunView, i: int) -> None:
    import gradio as gr

    slots: list[Slot] = []
    seed, count = _samples_panel(view, i, slots)
    for cap in view.with_controls():
        if cap.grid:
            with gr.Accordion(cap.control.label, open=True):
                gr.Markdown(cap.doc)
                _grid_panel(
                    view,
                    i,
                    lambda cap=cap: make_slot(cap, view, view.parser, f"control-{cap.name}-{i}"),
                    seed,
                    count,
                )
    for cap in view.takes_input():
        with gr.Accordion(cap.control.label, open=True):
            gr.Markdown(f"{cap.doc}: upload an image (read at the data's size)")
            _input_panel(view, i, cap, seed)
    with gr.Accordion("training", open=False):
        body = gr.HTML(training_html(view.path), elem_id=f"training-{i}")
        gr.Button("Reload from the run folder", size="sm").click(
            lambda: training_html(view.path), None, body
        )


def _compare_tab(views: list[RunView]) -> None:
    """Every run's samples at the same seed and count, side by side, with their evaluations."""
    import gradio as gr

    with gr.Row():
        seed = gr.Number(value=0, precision=0, label="seed", elem_id="seed-compare")
        count = gr.Number(value=16, precision=0, label="samples per run", elem_id="count-compare")
    button = gr.Button("Draw every run", variant="primary", elem_id="draw-compare")
    images = []
    with gr.Row():
        for j, view in enumerate(views):
            with gr.Column():
                images.append(_grid_image(view.name, f"compare-{j}"))
                gr.HTML(evaluation_html(view.path))
    status = gr.Markdown(elem_id="status-compare")

    def compare(seed_value: Any, n: Any) -> tuple[Any, ...]:
        out, problems = [], []
        for view in views:
            try:
                out.append(picture(*view.draw([], n, seed_value or 0)))
            except Exception as e:  # one run's failure leaves the others shown
                out.append(None)
                problems.append(f"{view.name}: {one_line(e)}")
        return (*out, refused("; ".join(problems)) if problems else "")

    button.click(compare, [seed, count], [*images, status])


def build_page(views: list[RunView]) -> Any:
    """The page for ``views`` as a Gradio Blocks (not launched)."""
    import gradio as gr

    names = ", ".join(v.name for v in views)
    with gr.Blocks(title=f"ganarium: {names}", analytics_enabled=False) as page:
        gr.Markdown(f"## ganarium\n{INTRO.format(runs=names)}")
        with gr.Tabs():
            for i, view in enumerate(views):
                with gr.Tab(view.name, id=f"run-{i}", elem_id=f"tab-{i}"):
                    _run_tab(view, i)
            if len(views) > 1:
                with gr.Tab("compare", id="compare", elem_id="tab-compare"):
                    _compare_tab(views)
    return page
