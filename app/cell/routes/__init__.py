"""The crisis cell's routers beyond the generic ones of its objects: running an activation
(open, phases, close, paging, the cell's board), answering a page, a task's status report,
standard procedures (templates, starting and ticking checklists), the operational fiche
(approval, printing), and the admin-kept phases and templates."""

from app.cell.routes import activations, admin, checklists, fiches, positions, procedures, tasks

ROUTERS = (
    activations.router,
    positions.router,
    positions.ack_link_router,
    tasks.router,
    procedures.router,
    checklists.router,
    fiches.router,
    admin.phases_router,
    admin.templates_router,
)
