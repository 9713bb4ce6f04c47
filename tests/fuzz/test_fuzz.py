"""The fuzzing test: a short campaign over every operation of the contract against a real
server on each database (``campaign.py``). Any 5xx, hang or contract violation fails it. The
long run is ``python -m bench.fuzz`` (``make fuzz``)."""

from __future__ import annotations

import pytest

from tests.fuzz.campaign import Campaign
from tests.fuzz.seed import seed_objects
from tests.fuzz.servers import fuzzed_server

# One round: every operation, positive and negative, with real and random ids (~600 requests,
# ~15 s a backend on the 2-core machine).
REQUESTS = 500


def test_fuzzing_finds_no_5xx_hang_or_contract_violation(
    backend: str, scripted_model_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data_dir = tmp_path_factory.mktemp(f"fuzz-{backend}")
    with fuzzed_server(backend, data_dir, scripted_model_url) as base_url:
        campaign = Campaign(base_url, lambda: seed_objects(base_url), timeout=15)
        findings = campaign.run(REQUESTS)
    assert set(findings.by_operation) == set(campaign.operations)  # every operation was sent
    problems = findings.problems()
    assert not problems, f"{len(problems)} findings:\n" + "\n".join(problems[:20])
