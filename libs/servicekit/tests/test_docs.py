"""The API docs pages name only local assets, and those assets are served."""

import httpx
from fastapi import FastAPI

from servicekit.docs import ASSETS, serve_docs


async def test_docs_and_redoc_load_their_assets_from_this_server() -> None:
    app = FastAPI(docs_url=None, redoc_url=None)
    serve_docs(app, "/openapi.json", "Test API")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/docs", "swagger-ui.css"), ("/redoc", "redoc.standalone.js")):
            html = (await client.get(page)).text
            assert f"{ASSETS}/{asset}" in html and "https://" not in html, page
            served = await client.get(f"{ASSETS}/{asset}")
            assert served.status_code == 200 and len(served.content) > 10_000, asset
