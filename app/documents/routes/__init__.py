"""The document library's routers: upload, versions, download, preview, deletion. Listing,
reading, history and editing a document's title or sharing are the generic object routes'."""

from app.documents.routes import documents, field_reports

ROUTERS = (documents.router, field_reports.router)
