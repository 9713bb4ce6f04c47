"""The Administration API (``/v1/organization/…``) through plain HTTP: the official SDK has no
admin client."""

from __future__ import annotations

from typing import Any

import httpx

ADMIN_KEY = "sk-admin-for-tests"


class AdminClient:
    def __init__(self, base: str, key: str = ADMIN_KEY) -> None:
        self.http = httpx.Client(
            base_url=f"{base}/v1/organization",
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )

    def call(self, method: str, path: str, status: int = 200, **kwargs: Any) -> dict[str, Any]:
        response = self.http.request(method, path, **kwargs)
        assert response.status_code == status, response.text
        return response.json()

    def project(self, name: str = "Tests") -> dict[str, Any]:
        return self.call("POST", "/projects", json={"name": name})

    def service_account(self, project_id: str, name: str = "app") -> dict[str, Any]:
        return self.call("POST", f"/projects/{project_id}/service_accounts", json={"name": name})

    def project_key(self, name: str = "Tests") -> tuple[str, str]:
        """A new project and the value of a key of it."""
        project = self.project(name)["id"]
        return project, self.service_account(project)["api_key"]["value"]

    def limit(self, project_id: str, model: str, **limits: int | None) -> dict[str, Any]:
        return self.call("POST", f"/projects/{project_id}/rate_limits/rl-{model}", json=limits)
