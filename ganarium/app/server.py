"""Starting the page, safe by default: bound to 127.0.0.1, no share link, Gradio's analytics off,
system fonts only (no font or script from the network), uploads capped, and no folder served:
every picture is drawn on request into Gradio's cache, a private temporary folder."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from ganarium.app import MAX_UPLOAD_BYTES, require_gradio
from ganarium.app.drawing import RunView, check_run_dir

SAFE_ENVIRONMENT = {
    "GRADIO_ANALYTICS_ENABLED": "False",  # no usage reports, no version check
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
}


def page_theme() -> Any:
    """Gradio's default look with system fonts (its own theme fetches Google fonts)."""
    import gradio as gr

    return gr.themes.Default(
        font=["ui-sans-serif", "system-ui", "sans-serif"],
        font_mono=["ui-monospace", "monospace"],
    )


def start(
    runs: list[str],
    host: str = "127.0.0.1",
    port: int | None = None,
    share: bool = False,
    device: str = "cpu",
    block: bool = True,
) -> tuple[Any, str]:
    """Check every run, load them, and serve their page; returns (the Blocks, its URL). With
    ``block`` it serves until interrupted; otherwise it returns at once (tests; ``.close()``)."""
    paths = [check_run_dir(r) for r in runs]  # one line and nothing started for a bad folder
    os.environ.update(SAFE_ENVIRONMENT)
    os.environ.setdefault("GRADIO_TEMP_DIR", tempfile.mkdtemp(prefix="ganarium-gradio-"))
    require_gradio()
    from ganarium.app.page import build_page

    views = [RunView.load(p, device=device) for p in paths]
    page = build_page(views)
    page.queue(default_concurrency_limit=1, max_size=64)
    _, url, public = page.launch(
        server_name=host,
        server_port=port,
        share=share,
        prevent_thread_lock=True,
        quiet=True,
        theme=page_theme(),
        max_file_size=MAX_UPLOAD_BYTES,
        allowed_paths=[],
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        enable_monitoring=False,
        footer_links=[],
    )
    if block:
        print(f"serving {len(views)} run(s) at {url}" + (f" and {public}" if public else ""))
        print("press Ctrl+C to stop")
        try:
            page.block_thread()
        finally:
            page.close()
    return page, url
