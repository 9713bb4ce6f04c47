"""Clients for the tests: the official SDK (responses checked against the spec) and raw HTTP."""

from __future__ import annotations

import json

import httpx2
import openai

from tests.harness.contract import ContractLog, check_response


def sdk_client(base_url: str, log: ContractLog, api_key: str = "sk-test") -> openai.OpenAI:
    def check(response: httpx2.Response) -> None:
        if "json" not in response.headers.get("content-type", ""):
            return
        response.read()
        body = json.loads(response.content)
        check_response(
            log, response.request.method, response.request.url.path, response.status_code, body
        )

    http_client = httpx2.Client(event_hooks={"response": [check]}, timeout=30)
    return openai.OpenAI(
        base_url=f"{base_url}/v1", api_key=api_key, http_client=http_client, max_retries=0
    )
