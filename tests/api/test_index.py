"""`GET /api/v1/` is an index: the schema, the docs, every resource and export, as links that
lead where they say."""

import pytest
from django.urls import resolve

from multitude.api_index import EXPORTS, RESOURCES

pytestmark = pytest.mark.django_db


def test_the_api_root_is_an_index_with_the_schema_docs_and_exports(client):
    response = client.get("/api/v1/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    index = response.json()
    docs = index["documentation"]
    assert docs["schema"] == "http://testserver/api/v1/schema/"
    assert docs["docs"] == "http://testserver/api/v1/docs/"
    assert client.get(docs["schema_json"].removeprefix("http://testserver")).status_code == 200
    assert client.get(docs["docs"].removeprefix("http://testserver")).status_code == 200
    exports = {link["name"]: link for link in index["exports"]}
    assert set(exports) == {
        "decisions.csv",
        "positions.csv",
        "history.json",
        "popolo.json",
        "minutes.md",
        "receipt.json",
    }
    assert exports["history.json"]["url"] == (
        "http://testserver/api/v1/assemblies/{slug}/history.json"
    )
    assert exports["history.json"]["templated"] is True
    assert exports["decisions.csv"]["media_type"] == "text/csv"
    assert "tools/verify_history.py" in index["verification"]["command"]


def test_every_link_of_the_index_leads_to_its_endpoint(client):
    index = client.get("/api/v1/").json()
    links = {link["name"]: link["url"] for link in index["resources"] + index["exports"]}
    values = {"slug": "liberty-square", "proposal_id": 7, "meeting_id": 8, "decision_id": 9}
    expected = {name: url_name for name, url_name, *_ in RESOURCES + EXPORTS}
    assert set(links) == set(expected)
    for name, template in links.items():
        path = template.removeprefix("http://testserver").format(**values)
        assert "{" not in path
        match = resolve(path)
        assert f"{match.namespace}:{match.url_name}" == expected[name], (name, path)


def test_the_index_answers_json_to_a_browser_and_is_in_the_schema(client, assembly):
    browser = client.get("/api/v1/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert browser.status_code == 200
    assert browser.json()["name"] == "Multitude API"
    schema = client.get("/api/v1/schema/?format=json").json()
    assert "/api/v1/" in schema["paths"]
    assert schema["paths"]["/api/v1/"]["get"]["operationId"] == "api_index"
    # Anything else under /api/v1/ is still a JSON 404.
    missing = client.get("/api/v1/nothing-here/")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
