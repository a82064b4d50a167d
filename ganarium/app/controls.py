"""A capability's ``Control`` as a Gradio widget, and the widget's value as the capability's
`ganarium sample` flag. The widget follows ``Control.kind``; nothing here branches on which
capability it is."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from ganarium.app.drawing import RunView, checked_upload, takes_value
from ganarium.capabilities import Capability, Control

ANY = "any"  # the dropdown choice of a sampling control that asks for nothing


@dataclass
class Slot:
    """One capability's control on one run's page: the widget and how its value becomes flags."""

    capability: Capability
    flag: str
    takes_value: bool
    widget: Any = None  # a Gradio component, or None for a flag with no value (a button asks)

    def flags(self, value: Any) -> list[str]:
        """The sample flags this control's ``value`` asks for ([] for 'nothing')."""
        if not self.takes_value:
            return [self.flag] if value is not False else []
        if value is None or value == ANY or (isinstance(value, str) and not value.strip()):
            return []
        if self.capability.control.kind == "image":
            path = checked_upload(value, self.capability.control.label)
            return [self.flag, str(path)]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return [self.flag, str(value)]


def choices(control: Control, view: RunView, optional: bool) -> list[Any]:
    """A dropdown's choices: the capability value it names, else the data's classes from low."""
    if control.choices:
        listed = list(view.recipe.capabilities().to_dict()[control.choices] or ())
    else:
        low = int(control.low or 0)
        high = int(control.high) if control.high is not None else view.recipe.info.num_classes - 1
        listed = list(range(low, high + 1))
    return ([ANY] if optional else []) + [str(x) for x in listed]


def make_slot(
    cap: Capability, view: RunView, parser: argparse.ArgumentParser, elem_id: str
) -> Slot:
    """The Gradio widget for ``cap``'s control on ``view``'s page (call inside a Blocks)."""
    slot = Slot(cap, cap.flag(), takes_value(parser, cap.flag()))
    if slot.takes_value:
        slot.widget = make_widget(cap.control, cap, view, elem_id, optional=not cap.grid)
    return slot


def make_widget(
    control: Control, cap: Capability, view: RunView, elem_id: str, optional: bool = False
) -> Any:
    """The Gradio widget of ``control`` (one of ``cap``'s), by its kind (call inside a Blocks)."""
    import gradio as gr

    kind, label = control.kind, control.label
    if kind == "slider":
        return gr.Slider(
            minimum=control.low,
            maximum=control.high,
            step=control.step,
            value=control.default if control.default is not None else control.low,
            label=label,
            elem_id=elem_id,
        )
    if kind == "number":
        return gr.Number(
            value=control.default,
            minimum=control.low,
            maximum=control.high,
            step=control.step or 1,
            label=label,
            elem_id=elem_id,
        )
    if kind == "dropdown":
        listed = choices(control, view, optional)
        default = str(control.default) if str(control.default) in listed else listed[0]
        return gr.Dropdown(choices=listed, value=default, label=label, elem_id=elem_id)
    if kind == "text":
        return gr.Textbox(value=control.default or "", label=label, elem_id=elem_id)
    if kind == "image":
        return gr.File(label=f"{label} (an image file)", type="filepath", elem_id=elem_id)
    if kind == "checkbox":
        return gr.Checkbox(value=bool(control.default), label=label, elem_id=elem_id)
    return gr.Textbox(value=str(control.default or ""), label=label, elem_id=elem_id)
