"""Resolving model names to backends from Settings, and listing the models they serve."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistantd.config import ModelRoute, Settings
from assistantd.llm import ModelRouter, NoBackendConfigured
from assistantd.scripted_model.testing import ScriptedModelClient, running_scripted_model
from tests.llm.collecting import ask, assemble


@pytest.fixture(scope="module")
def other_url() -> Iterator[str]:
    with running_scripted_model(models=("gamma",)) as base_url:
        yield base_url


def _router(default_url: str | None, routes: dict[str, ModelRoute]) -> ModelRouter:
    return ModelRouter(Settings(llm_base_url=default_url, model_routes=routes, llm_max_retries=0))


async def test_routes_send_each_name_to_its_own_backend(
    scripted_url: str, other_url: str, model: str
) -> None:
    upstream = f"{model}-upstream"
    routes = {
        "routed": ModelRoute(base_url=other_url, model=upstream, context_window=4096),
    }
    router = _router(scripted_url, routes)
    try:
        routed = router.resolve("routed")
        plain = router.resolve(model)
        assert routed.backend is not plain.backend
        assert (routed.upstream_model, routed.context_window) == (upstream, 4096)
        assert (plain.upstream_model, plain.context_window) == (
            model,
            Settings().default_context_window,
        )

        await assemble(routed, ask("routed"))
        async with (
            ScriptedModelClient(other_url) as other,
            ScriptedModelClient(scripted_url) as default,
        ):
            assert len(await other.requests(upstream)) == 1  # sent under the upstream name
            assert await default.requests(upstream) == []
    finally:
        await router.aclose()


async def test_routes_to_one_endpoint_share_a_backend(other_url: str) -> None:
    routes = {"a": ModelRoute(base_url=other_url), "b": ModelRoute(base_url=other_url + "/")}
    router = _router(None, routes)
    try:
        assert router.resolve("a").backend is router.resolve("b").backend
    finally:
        await router.aclose()


async def test_no_backend_configured_says_what_to_set() -> None:
    router = _router(None, {})
    with pytest.raises(NoBackendConfigured) as raised:
        router.resolve("gpt-4o")
    assert raised.value.code == "server_error"
    assert "ASSISTANTD_LLM_BASE_URL" in raised.value.message
    assert "ASSISTANTD_MODEL_ROUTES" in raised.value.message
    assert "gpt-4o" in raised.value.message
    assert await router.list_models() == []
    await router.aclose()


async def test_list_models_is_the_union_of_routes_and_the_default_endpoint(
    scripted_url: str, other_url: str
) -> None:
    routes = {"routed": ModelRoute(base_url=other_url, model="gamma")}
    router = _router(scripted_url, routes)
    try:
        assert await router.list_models() == ["routed", "alpha", "beta"]
    finally:
        await router.aclose()


async def test_list_models_skips_an_unreachable_default(other_url: str) -> None:
    routes = {"routed": ModelRoute(base_url=other_url)}
    router = _router("http://127.0.0.1:9/v1", routes)
    try:
        assert await router.list_models() == ["routed"]
    finally:
        await router.aclose()
