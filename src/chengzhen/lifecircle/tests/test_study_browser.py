"""A finished study's map in the browser (Playwright on Debian's Chromium, the live server) with
every request to a host other than this machine aborted and counted: Leaflet and the layers come
from the platform, no tile server is asked. Switch the facility type, click a home, and the distance
the popup shows is the one in homes.csv."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from django.conf import settings

from chengzhen.ledger.tests.test_browser import LOOPBACK, browser, login  # noqa: F401
from chengzhen.lifecircle import maplayers
from chengzhen.lifecircle.tests.test_studies import _create, _run, inputs  # noqa: F401


@pytest.fixture
def desk(browser, live_server):  # noqa: F811
    """A desktop-sized page whose every request off this machine is aborted and recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    outside: list[str] = []

    def guard(route):
        url = route.request.url
        if url.startswith(("data:", "blob:")) or (urlparse(url).hostname or "") in LOOPBACK:
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", guard)
    page.base = live_server.url
    page.outside = outside
    yield page
    context.close()


def _lonely_home(folder, types, circles) -> tuple[str, float, float]:
    """A home with nothing else drawn near it (no other home, no facility), so a click there is its."""
    homes = maplayers.homes(folder, types, circles)["features"]
    xy = np.array([f["geometry"]["coordinates"] for f in homes])
    fac = np.array([f["geometry"]["coordinates"] for f in maplayers.facilities(folder)["features"]])
    others = np.vstack([xy, fac])
    gaps = [np.sort(np.hypot(*(others - p).T))[1] for p in xy]  # [0] is the home itself
    best = int(np.argmax(gaps))
    return homes[best]["properties"]["id"], float(xy[best, 0]), float(xy[best, 1])


def test_switch_the_type_click_a_home_and_read_its_distance(desk, county, inputs):  # noqa: F811
    leaflet = Path(settings.BASE_DIR) / "static" / "vendor" / "leaflet" / "leaflet.js"
    assert leaflet.is_file(), "Leaflet is installed from the npm registry by `make install` (npm ci)"
    study = _run(county, _create(county, inputs, sites=True))
    folder = study.results_path
    text = (folder / "homes.csv").read_text(encoding="utf-8-sig")
    rows = {r["home_id"]: r for r in csv.DictReader(io.StringIO(text))}
    home_id, lon, lat = _lonely_home(folder, study.summary["types"], [5, 10, 15])

    login(desk, "editor_a", "pw-editor_a")
    loaded = []
    desk.on("response", lambda r: loaded.append((urlparse(r.url).path, r.status)))
    desk.goto(desk.base + f"/lifecircle/{study.code}/")
    errors = []
    desk.on("pageerror", lambda e: errors.append(str(e)))
    desk.wait_for_selector("#study-map[data-ready='1']")
    assert errors == [] and desk.inner_text("#map-status") == ""
    assert ("/static/vendor/leaflet/leaflet.js", 200) in loaded
    assert (f"/lifecircle/{study.code}/layers/homes.geojson", 200) in loaded
    assert desk.locator("#study-map .leaflet-tile").count() == 0  # no tile layer at all
    assert desk.locator("#study-map .site-icon").count() == 2  # the proposed sites, with their rank
    assert desk.locator("#coverage tr.current[data-type='kindergarten']").count() >= 1

    desk.select_option("#map-type", "primary_school")
    assert desk.get_attribute("#study-map", "data-type") == "primary_school"
    assert desk.locator("#coverage tr.current[data-type='primary_school']").count() >= 1
    assert "小学" in desk.inner_text("#map-legend")
    desk.locator("#study-map").scroll_into_view_if_needed()
    point = desk.evaluate("([lat, lon]) => window.studyMap.latLngToContainerPoint([lat, lon])", [lat, lon])
    box = desk.locator("#study-map").bounding_box()
    desk.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    popup = desk.locator(".leaflet-popup-content")
    popup.wait_for()
    assert popup.locator("[data-field=id] .v").inner_text() == home_id
    shown = popup.locator("[data-field=distance] .v").inner_text()
    expected = rows[home_id]["primary_school_m"]
    assert shown == f"{expected} 米" and float(shown.split()[0]) == pytest.approx(float(expected))
    assert popup.locator("[data-field=time] .v").inner_text() == f"{rows[home_id]['primary_school_min']} 分钟"
    assert popup.locator("[data-field=facility] .v").inner_text() == rows[home_id]["primary_school_id"]
    assert desk.outside == [], f"requests left the machine: {desk.outside}"
