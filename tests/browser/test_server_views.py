"""The browser renders the server's views and decides nothing: fed views that
deliberately disagree with the rules (a real node whose view makers are
doctored), every screen shows the server's queue places and waits, routes and
forecast, never what the rules would give."""

from __future__ import annotations

import msgspec
import pytest
from playwright.async_api import expect
from vcc.core import views as core_views
from vcc.core.forecast import Forecast as ForecastFigures
from vcc_protocol.state import ConsultationState
from vcc_protocol.views import ChannelRoute, Forecast, QueueView, RouteWarning
from vcc_testkit.consultations import CHAIR, COUNCIL

from .helpers import ok, python_clients

pytestmark = pytest.mark.browser

real_makers = dict(core_views._VIEWS)
#: What the doctored server says, none of which the rules would give on an item with one request.
PLACE_OFFSET = 10
WAIT_MINUTES = 42
NOT_FITTING = 7


def doctored_queue(state: ConsultationState, now: int, fc: ForecastFigures | None) -> QueueView:
    queue: QueueView = real_makers["queue"](state, now, fc)
    return msgspec.structs.replace(queue, places=[p + PLACE_OFFSET for p in queue.places], wait_s=[WAIT_MINUTES * 60 for _ in queue.wait_s])


def doctored_routes(state: ConsultationState, now: int, fc: ForecastFigures | None) -> dict[str, ChannelRoute]:
    """Nobody speaks and every booth works from the floor: the rules route every language from the floor, unwarned."""
    routes: dict[str, ChannelRoute] = real_makers["routes"](state, now, fc)
    return {
        channel: route
        if channel == "floor"
        else ChannelRoute(
            channel=channel, play=channel, kind="relay", relay=["zh"], warning=RouteWarning(booth="zh", own=False, kind="muted")
        )
        for channel, route in routes.items()
    }


def doctored_forecast(state: ConsultationState, now: int, fc: ForecastFigures | None) -> Forecast:
    forecast: Forecast = real_makers["forecast"](state, now, fc)
    return msgspec.structs.replace(forecast, will_not_fit=NOT_FITTING, overflow_minutes=99.0)


async def test_every_screen_shows_the_servers_views_not_the_rules(screens, node, monkeypatch) -> None:  # noqa: ANN001
    # Each view's maker, which both a joining client's full set and every batch's update use.
    monkeypatch.setitem(core_views._VIEWS, "queue", doctored_queue)
    monkeypatch.setitem(core_views._VIEWS, "routes", doctored_routes)
    monkeypatch.setitem(core_views._VIEWS, "forecast", doctored_forecast)
    chair = await screens.open(CHAIR)
    delegate = await screens.open(COUNCIL[0])
    async with python_clients(node, CHAIR, COUNCIL[0]) as (chair_client, delegate_client):
        await ok(chair_client, "take_up_item", item="3")
        await ok(delegate_client, "request_floor")

    # The place and the wait: the server's, not #1 with nobody ahead.
    await expect(delegate.get_by_test_id("position")).to_contain_text(f"#{1 + PLACE_OFFSET}")
    await expect(delegate.get_by_test_id("position")).to_contain_text(str(WAIT_MINUTES))
    await expect(chair.locator("[data-testid=queue] [data-testid=place]")).to_have_text([str(1 + PLACE_OFFSET)])
    # The route: a relay of Chinese with its warning, where the rules play the floor interpreted.
    await expect(delegate.get_by_test_id("hearing")).to_contain_text("Chinese")
    await expect(delegate.get_by_test_id("route-warning")).to_be_visible()
    # The forecast: items that will not fit, where the rules fit the agenda.
    await expect(chair.get_by_test_id("forecast")).to_contain_text(f"{NOT_FITTING} items will not fit")
