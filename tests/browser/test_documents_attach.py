"""Attaching documents from the dashboard, in a real browser against a real server: an operator
attaches a PDF to an incident from its detail panel with the keyboard, sees it listed with its
preview, drops a shareable image onto the section and uploads a new version; a partner who sees
the incident sees the shareable document arrive live and never the internal one; a refused type
and a file over the library's limit are said in French, with nothing stored."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest

from tests.browser.conftest import Agent, api, incident_body
from tests.browser.test_accessibility import assert_accessible
from tests.conftest import Server, Settings, start_server, stop_server
from tests.documents import files

pytestmark = pytest.mark.browser

OpenAgent = Callable[..., Awaitable[Agent]]

PARTNER_ORG = "pz-5339"  # the organisation of the `part` account
SECTION = ".detail-documents"
ROWS = f"{SECTION} .board-document"
BOARD_SECTION = "#board .board-documents"
# Drop a file onto the detail's documents section, as a drag from the desktop does.
DROP = """([name, type, b64]) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], name, { type }));
    const section = document.querySelector('.detail-documents');
    const init = { dataTransfer: dt, bubbles: true, cancelable: true };
    const drag = (type) => new DragEvent(type, init);
    section.dispatchEvent(drag('dragover'));
    const outlined = section.classList.contains('doc-drop');
    section.dispatchEvent(drag('drop'));
    return outlined;
}"""
PREVIEW_LOADED = (
    "() => { const img = document.querySelector('dialog[open] img');"
    " return Boolean(img && img.complete && img.naturalWidth > 0); }"
)


@asynccontextmanager
async def shared_incident(
    server: Server, title: str
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """An incident shared with the `part` partner's organisation; afterwards an administrator
    deletes the documents attached to it, then the incident."""
    async with api(server, "op") as op:
        r = await op.post(
            "/api/incidents",
            json=incident_body(title, [4.3468, 50.8380], shared_with=[PARTNER_ORG]),
        )
        r.raise_for_status()
        incident = r.json()["id"]
        try:
            yield op, incident
        finally:
            async with api(server, "adm") as admin:
                docs = (await admin.get("/api/documents", params={"subject": incident})).json()
                for doc in docs["features"]:
                    (await admin.delete(f"/api/documents/{doc['id']}")).raise_for_status()
                (await admin.delete(f"/api/incidents/{incident}")).raise_for_status()


async def open_incident(agent: Agent, incident: str) -> None:
    await agent.wait_for("(id) => Boolean(window.sitcen.store.get('incident', id))", incident)
    await agent.js("(id) => window.sitcen.openDetail('incident', id)", incident)
    await agent.page.wait_for_selector(f"{SECTION} h3")


async def attach_with_keyboard(
    agent: Agent, name: str, content: bytes, title: str, where: str = "detail"
) -> None:
    """Open the attach form of the detail's (or the board's) documents, choose the file, type a
    title and upload, all from the keyboard."""
    page = agent.page
    section = SECTION if where == "detail" else BOARD_SECTION
    await page.locator(f"{section} [data-key=doc-attach]").focus()
    await page.keyboard.press("Enter")
    # The form opens with the focus on its file input; a file chooser is the browser's own.
    assert await agent.js("() => document.activeElement.id") == f"{where}-doc-file"
    await page.set_input_files(
        f"#{where}-doc-file", files=[{"name": name, "mimeType": "", "buffer": content}]
    )
    await page.locator(f"#{where}-doc-title").focus()
    await page.keyboard.type(title)
    await page.locator(f"{section} [data-key=doc-upload]").focus()
    await page.keyboard.press("Enter")


async def test_an_operator_attaches_a_pdf_to_an_incident_and_a_partner_sees_only_the_shareable_one(
    agents: OpenAgent, server: Server
) -> None:
    stamp = time.monotonic_ns()
    async with shared_incident(server, f"Fuite de gaz rue Haute {stamp}") as (_, incident):
        op = await agents("op")
        page = op.page
        await open_incident(op, incident)
        assert await page.locator(f"{SECTION} p.muted").first.inner_text() == (
            "Aucun document joint."
        )

        # A PDF, with the keyboard; "shareable" is off unless ticked.
        plan = f"Plan d'évacuation {stamp}"
        await page.locator(f"{SECTION} [data-key=doc-attach]").focus()
        await page.keyboard.press("Enter")
        assert not await page.is_checked("#detail-doc-shareable")
        hint = await page.locator("#detail-doc-share-hint").inner_text()
        assert "partenaires qui voient cet objet (Incident)" in hint
        await page.locator(f"{SECTION} [data-key=doc-cancel-form]").click()
        await attach_with_keyboard(op, "plan-evacuation.pdf", files.pdf(2), plan)
        row = page.locator(ROWS, has_text=plan)
        await row.wait_for()
        await page.locator(f"{SECTION} .doc-ok", has_text=f"« {plan} » joint.").wait_for()
        meta = await row.locator(".row-meta").inner_text()
        assert "plan-evacuation.pdf · application/pdf" in meta and "v1" in meta
        assert "Interne" in await row.inner_text()
        # The form closed and the focus went back to its button.
        assert await op.js("() => document.activeElement.dataset.key") == "doc-attach"
        doc = await op.js(
            "(t) => [...window.sitcen.store.all('document')].find((d) => d.properties.title === t)"
            "?.id ?? null",
            plan,
        )
        assert doc

        # Its preview: the server's PNG of the PDF's first page, in a dialog.
        await row.locator('[data-key$="-preview"]').focus()
        await page.keyboard.press("Enter")
        await op.wait_for(PREVIEW_LOADED)
        await op.shot("documents-01-preview")
        await page.keyboard.press("Escape")
        await page.wait_for_selector("dialog[open]", state="detached")

        # The partner sees the incident, and nothing of the internal document.
        partner = await agents("part")
        await open_incident(partner, incident)
        assert await partner.page.locator(ROWS).count() == 0
        assert await partner.page.locator(f"{SECTION} [data-key=doc-attach]").count() == 0
        assert await partner.js("(id) => window.sitcen.store.get('document', id)", doc) is None
        async with api(server, "part") as as_partner:
            listed = (await as_partner.get("/api/documents", params={"subject": incident})).json()
            assert listed["features"] == []
            assert (await as_partner.get(f"/api/documents/{doc}/content")).status_code == 404

        # A shareable photo, dropped onto the section: it reaches the partner live.
        photo = f"Photo du site {stamp}"
        png = base64.b64encode(files.png(640, 480)).decode()
        assert await op.js(DROP, ["site.png", "image/png", png]) is True
        await page.wait_for_selector(f"{SECTION} .doc-chosen:has-text('site.png')")
        assert await op.js("() => document.activeElement.id") == "detail-doc-title"
        await page.keyboard.type(photo)
        await page.locator("#detail-doc-shareable").check()
        await page.locator(f"{SECTION} [data-key=doc-upload]").click()
        shared = partner.page.locator(ROWS, has_text=photo)
        await shared.wait_for()
        assert "Interne" not in await shared.inner_text()
        assert await partner.page.locator(ROWS).count() == 1
        assert await shared.locator('[data-key$="-version"]').count() == 0
        await shared.locator('[data-key$="-preview"]').click()
        await partner.wait_for(PREVIEW_LOADED)
        await partner.page.keyboard.press("Escape")
        await assert_accessible(partner)
        await partner.shot("documents-02-partner")

        # A new version of the PDF, from its row.
        async with page.expect_file_chooser() as chooser:
            await row.locator('[data-key$="-version"]').click()
        await (await chooser.value).set_files(
            files=[{"name": "plan-evacuation-v2.pdf", "mimeType": "", "buffer": files.pdf(3)}]
        )
        await page.wait_for_selector(f"{ROWS}:has-text('plan-evacuation-v2.pdf')")
        assert "v2" in await page.locator(ROWS, has_text=plan).locator(".row-meta").inner_text()
        await page.wait_for_selector(f"{SECTION} .doc-ok:has-text('version 2')")
        await assert_accessible(op)
        await op.shot("documents-03-operator")


async def test_a_coordinator_attaches_a_document_to_the_activation_from_its_board(
    agents: OpenAgent, server: Server
) -> None:
    stamp = time.monotonic_ns()
    async with shared_incident(server, f"Effondrement rue Neuve {stamp}") as (op_api, incident):
        r = await op_api.post(
            "/api/activations",
            json={
                "type": "Feature",
                "geometry": None,
                "properties": {
                    "title": f"GCC rue Neuve {stamp}",
                    "level": "coordination",
                    "coordinator": "high_official",
                    "subject_entity": "incident",
                    "subject_id": incident,
                },
            },
        )
        r.raise_for_status()
        activation = r.json()["id"]
        try:
            coord = await agents("coord", path=f"/#board/{activation}", color_scheme="dark")
            page = coord.page
            await page.wait_for_selector("#board:not([hidden]) .board-documents")
            title = f"Décision signée {stamp}"
            await attach_with_keyboard(coord, "decision.pdf", files.pdf(1), title, where="board")
            row = page.locator(f"{BOARD_SECTION} .board-document", has_text=title)
            await row.wait_for()
            assert "Interne" in await row.inner_text()
            # The board is still open: the upload's Enter did not close it.
            assert await page.locator("#board").is_visible()
            docs = (await op_api.get("/api/documents", params={"activation": activation})).json()
            [doc] = docs["features"]
            assert doc["properties"]["subject_entity"] == "activation"
            assert doc["properties"]["subject_id"] == activation
            assert doc["properties"]["title"] == title
            await assert_accessible(coord)
            await coord.shot("documents-05-board-dark")
        finally:
            async with api(server, "adm") as admin:
                docs = (await admin.get("/api/documents", params={"activation": activation})).json()
                for d in docs["features"]:
                    (await admin.delete(f"/api/documents/{d['id']}")).raise_for_status()
                (await admin.delete(f"/api/activations/{activation}")).raise_for_status()


async def test_a_refused_type_is_said_in_french_and_nothing_is_stored(
    agents: OpenAgent, server: Server
) -> None:
    stamp = time.monotonic_ns()
    async with shared_incident(server, f"Colis suspect {stamp}") as (op_api, incident):
        op = await agents("op", color_scheme="dark")
        await open_incident(op, incident)
        page = op.page
        # A page that can run scripts, renamed .pdf: its bytes say what it is.
        await attach_with_keyboard(
            op, "rapport.pdf", b"<html><script>alert(1)</script></html>", "Rapport"
        )
        alert = page.locator(f"{SECTION} [role=alert]")
        await alert.locator(".doc-error").wait_for()
        text = await alert.inner_text()
        assert "Ce type de fichier n'est pas accepté (le fichier est text/html)" in text
        # The form stays open with what was typed, for another file.
        assert await page.input_value("#detail-doc-title") == "Rapport"
        assert await page.locator(ROWS).count() == 0
        listed = (await op_api.get("/api/documents", params={"subject": incident})).json()
        assert listed["features"] == []
        await assert_accessible(op)
        await op.shot("documents-04-refused-dark")

        # Another file, with a description too long for the query string: the dashboard writes
        # it after the upload (the server bounds a request's head).
        long = "Rapport de la zone de police, appel du témoin à 14 h 05. " * 150
        await page.set_input_files(
            "#detail-doc-file",
            files=[{"name": "rapport.pdf", "mimeType": "", "buffer": files.pdf(1)}],
        )
        await page.fill("#detail-doc-description", long)
        await page.locator(f"{SECTION} [data-key=doc-upload]").click()
        await page.locator(ROWS, has_text="Rapport").wait_for()
        # The row comes with the upload's change; the description's PATCH follows it.
        for _ in range(100):
            [doc] = (await op_api.get("/api/documents", params={"subject": incident})).json()[
                "features"
            ]
            if doc["properties"]["description"] is not None:
                break
            await asyncio.sleep(0.1)
        assert doc["properties"]["description"] == long.strip()
        assert doc["properties"]["current_version"] == 1


LIMIT = 1024 * 1024


@pytest.fixture(scope="module")
def small_server(settings: Settings, server: Server) -> Iterator[Server]:
    """A server of its own whose library takes 1 MiB a file at most."""
    srv = start_server(
        settings, extra_env={"SITCEN_DOCUMENT_MAX_BYTES": str(LIMIT)}, name="attach-limit"
    )
    srv.tokens = server.tokens
    yield srv
    stop_server(srv)


async def test_a_file_over_the_limit_is_said_too_large_with_the_limit(
    agents: OpenAgent, small_server: Server
) -> None:
    stamp = time.monotonic_ns()
    async with shared_incident(small_server, f"Inondation {stamp}") as (op_api, incident):
        op = await agents("op", small_server)
        await open_incident(op, incident)
        big = files.pdf(1) + b"\0" * (LIMIT + 1)
        await attach_with_keyboard(op, "gros.pdf", big, "Trop gros")
        alert = op.page.locator(f"{SECTION} [role=alert] .doc-error")
        await alert.wait_for()
        assert "trop volumineux : la bibliothèque accepte au plus 1.0 MB par fichier" in (
            await alert.inner_text()
        )
        listed = (await op_api.get("/api/documents", params={"subject": incident})).json()
        assert listed["features"] == []
