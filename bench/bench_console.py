"""The browser console in headless Chromium: first-page load times, and whether the page stays
responsive while a run streams into the chat.

    .venv/bin/python bench/bench_console.py [--quick] [--loads N] [--base-url URL --model-url URL]

Without ``--base-url`` it starts the scripted model and ``assistantd serve`` (SQLite) itself;
with it, ``--model-url`` must be the scripted model that server uses (the bench scripts it).
Cold = a new browser context each load (empty cache); warm = reloads in one context (the hashed
assets come from the cache, index.html is revalidated). Times come from the page's navigation
timing (domContentLoaded, load) and paint timing (first contentful paint), in ms since the
navigation started. Then a run streams ~``--tokens-per-s`` tokens/s for ``--seconds`` into the
chat, and the page reports its long tasks (PerformanceObserver ``longtask``, > 50 ms) and the
gaps between animation frames: a max frame gap under 100 ms means the page never froze.
Checked: a 200 ms busy loop in a page task shows as one 202 ms long task and a 183 ms frame gap.
Needs ``chromium`` (Debian's, at /usr/bin/chromium) and a built console (``make console``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, sync_playwright

from assistantd.scripted_model.testing import running_scripted_model_process
from bench.bench_streaming import assistantd

KEY = "sk-bench"
MODEL = "bench-console"
# Installed before any page script: records long tasks and animation-frame gaps from the start.
PROBE = """
window.__probe = {longTasks: [], frames: [], recording: false};
new PerformanceObserver((list) => {
  if (!window.__probe.recording) return;
  for (const entry of list.getEntries()) window.__probe.longTasks.push(entry.duration);
}).observe({entryTypes: ["longtask"]});
let last = performance.now();
const frame = (now) => {
  if (window.__probe.recording) window.__probe.frames.push(now - last);
  last = now;
  requestAnimationFrame(frame);
};
requestAnimationFrame(frame);
"""
TIMING = """() => {
  const [nav] = performance.getEntriesByType("navigation");
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  const paint = fcp ? fcp.startTime : null;
  return {dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, fcp: paint};
}"""


@contextmanager
def servers(base_url: str | None, model_url: str | None) -> Iterator[tuple[str, str]]:
    """(assistantd base URL, scripted model URL): the given ones, or started here."""
    if base_url:
        if not model_url:
            sys.exit("--base-url needs --model-url (the scripted model that server uses)")
        yield base_url.rstrip("/"), model_url
        return
    with ExitStack() as stack:
        model_url = stack.enter_context(running_scripted_model_process())
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-console-")))
        base, _ = stack.enter_context(assistantd(model_url, data_dir, None))
        yield base, model_url


def loaded(page: Page, url: str) -> dict[str, float]:
    page.goto(url, wait_until="load")
    page.get_by_test_id("api-key-input").wait_for()
    page.wait_for_function("performance.getEntriesByName('first-contentful-paint').length > 0")
    return page.evaluate(TIMING)


def cold_loads(browser: Browser, url: str, loads: int) -> list[dict[str, float]]:
    samples = []
    for _ in range(loads):
        context = browser.new_context()
        samples.append(loaded(context.new_page(), url))
        context.close()
    return samples


def warm_loads(browser: Browser, url: str, loads: int) -> list[dict[str, float]]:
    context = browser.new_context()
    page = context.new_page()
    loaded(page, url)  # fills the cache
    samples = [loaded(page, url) for _ in range(loads)]
    context.close()
    return samples


def script_stream(model_url: str, tokens_per_s: float, seconds: float) -> int:
    words = int(tokens_per_s * seconds)
    step = {
        "text": " ".join(f"word{i}" for i in range(words)),
        "chunk_delay_ms": 1000 / tokens_per_s,
    }
    # Plain HTTP: Playwright's sync API already runs an event loop in this thread.
    root = model_url.rstrip("/").removesuffix("/v1")
    script = {"model": MODEL, "responses": [step]}
    httpx.post(f"{root}/_script", json=script, timeout=10).raise_for_status()
    return words


def streamed(
    browser: Browser, base: str, model_url: str, tokens_per_s: float, seconds: float
) -> dict[str, Any]:
    """Chat one streamed answer in the playground; the page's long tasks and frame gaps."""
    headers = {"Authorization": f"Bearer {KEY}"}
    body = {"model": MODEL, "name": "bench", "instructions": "You are terse."}
    httpx.post(f"{base}/v1/assistants", json=body, headers=headers, timeout=10).raise_for_status()
    words = script_stream(model_url, tokens_per_s, seconds)
    context = browser.new_context()
    context.add_init_script(PROBE)
    page = context.new_page()
    page.goto(f"{base}/console")
    page.get_by_test_id("api-key-input").fill(KEY)
    page.get_by_test_id("sign-in").click()
    page.get_by_test_id("assistant-item").filter(has_text="bench").first.click()
    page.get_by_test_id("chat-input").fill("stream please")
    page.evaluate("window.__probe.recording = true")
    start = time.perf_counter()
    page.get_by_test_id("chat-send").click()
    page.get_by_test_id("run-status").filter(has_text="completed").wait_for(
        timeout=seconds * 1000 * 4 + 15000
    )
    elapsed = time.perf_counter() - start
    probe = page.evaluate("window.__probe.recording = false, window.__probe")
    text = page.get_by_test_id("chat-message").last.inner_text()
    context.close()
    return {"words": words, "shown": text.count("word"), "elapsed": elapsed, **probe}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def load_rows(label: str, samples: list[dict[str, float]]) -> list[str]:
    rows = []
    for metric, name in (
        ("dcl", "domContentLoaded"),
        ("load", "load"),
        ("fcp", "first contentful paint"),
    ):
        values = [s[metric] for s in samples if s[metric] is not None]
        rows.append(
            f"| {label} | {name} | {len(values)} "
            f"| {statistics.median(values):.0f} | {max(values):.0f} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 loads, a 3 s stream")
    parser.add_argument("--loads", type=int, default=20)
    parser.add_argument("--tokens-per-s", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--base-url")
    parser.add_argument("--model-url")
    args = parser.parse_args()
    loads, seconds = (5, 3.0) if args.quick else (args.loads, args.seconds)
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    with (
        servers(args.base_url, args.model_url) as (base, model_url),
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        url = f"{base}/console"
        cold, warm = cold_loads(browser, url, loads), warm_loads(browser, url, loads)
        stream = streamed(browser, base, model_url, args.tokens_per_s, seconds)
        browser.close()
    print("| loads | metric | n | p50 ms | max ms |\n|---|---|---|---|---|")
    print("\n".join(load_rows("cold", cold) + load_rows("warm", warm)))
    frames, longs = stream["frames"], stream["longTasks"]
    print(
        "\n| streamed tokens | shown | tokens/s | frames | frame gap p50 ms | p99 ms | max ms "
        "| long tasks | longest ms |\n|---|---|---|---|---|---|---|---|---|"
    )
    print(
        f"| {stream['words']} | {stream['shown']} | {stream['words'] / stream['elapsed']:.0f} "
        f"| {len(frames)} | {percentile(frames, 0.5):.0f} | {percentile(frames, 0.99):.0f} "
        f"| {max(frames):.0f} | {len(longs)} | {max(longs, default=0):.0f} |"
    )
    print(json.dumps({"verdict": "responsive" if max(frames) < 100 else "froze"}))


if __name__ == "__main__":
    main()
