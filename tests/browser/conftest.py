"""Browser tests: real Chromium (Debian's, through Playwright) on a real node.

The node fixtures are the integration tests' (imported, not copied): a node on
a free port holding the live test consultation (demo roster, 2021 agenda, an
open sitting whatever the hour).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import async_playwright
from vcc_testkit.browser import Screens, launch, tokens_of
from vcc_testkit.build import ensure_built

from tests.integration.conftest import make_node, node  # noqa: F401  (fixtures)


@pytest.fixture(scope="session", autouse=True)
def built_client() -> None:
    ensure_built()


@pytest.fixture
async def screens(node) -> AsyncIterator[Screens]:  # noqa: ANN001, F811
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        opened = Screens(browser, node.url, tokens_of(node))
        try:
            yield opened
        finally:
            await opened.close()
            await browser.close()
